"""The report's sentences: templates of :data:`helpers.i18n.DOCUMENT_TEXTS` filled with numbers.

Nothing here writes free text: each function picks a template by what the numbers say and fills
it, in Chinese or English. The counts, rankings and paces behind the sentences are computed here
too, so a test can check a sentence against the table it came from.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers.i18n import STATUS_NAMES, dt
from helpers.pages import numbers as nb
from helpers.pages.notes import quarter_label
from helpers.plan.periods import Quarter, parse_period

# The verdicts a target of this geography can have, in the order the report counts them: data
# missing (returns not in, model/assess.py) and pending publication (run/publication.py) are
# counted as their own, so the counts in the text equal the table's.
VERDICTS = ("achieved", "missed", "on_track", "at_risk", "off_track", "insufficient_data", "data_missing",
            "pending_publication")
GOOD = ("achieved", "on_track")
PROBLEMS = ("missed", "off_track", "at_risk")


def verdict(row) -> str | None:
    """The verdict of one assessment row, or None for rows this geography is not judged on.

    The statuses of :mod:`helpers.model.assess`; "on track (target level reached)" counts as on
    track in the report's tallies (it stays open until its due period is observed).
    """
    status = str(row.get("status", "") or "")
    if status == "on_track_reached":
        return "on_track"
    return status if status in VERDICTS else None


def verdict_label(v: str, lang: str) -> str:
    """A verdict's label, from :data:`helpers.i18n.STATUS_NAMES` where it has one."""
    return STATUS_NAMES[lang].get(v) or (dt(lang, "missed") if v == "missed" else v)


def count_verdicts(records: list) -> dict:
    """``{verdict: n}`` over assessment rows (dicts); every verdict present, zero when none."""
    vs = [verdict(r) for r in records]
    return {v: vs.count(v) for v in VERDICTS}


def last_due(plan) -> Quarter:
    """The latest due date among the plan's targets."""
    return max(i.target.due for i in plan.targets)


def is_final(plan, quarter: Quarter) -> bool:
    """The final assessment (终期评估) once the quarter is at or after the plan's last due date."""
    from helpers.model.assess import assessment_stage

    return assessment_stage(plan, quarter) == "final"


def num(x, digits: int = 1, unit: str | None = None) -> str:
    """A number as every report prints it (:func:`helpers.pages.numbers.fmt_number`): decimals by
    ``unit`` when given, else ``digits``."""
    return nb.fmt_number(x, unit) if unit is not None else nb.fmt_number(x, digits=digits)


def pct(p) -> str:
    return nb.fmt_pct(p)


def _target_args(ind, lang: str) -> dict:
    t = ind.target
    unit = ind.unit(lang)
    return dict(name=ind.name(lang), unit=unit, symbol=t.symbol, target=num(t.value, unit=unit),
                due=quarter_label(t.due.year if t.due.q == 4 else t.due, lang))


def _gap_text(row: dict, unit: str) -> str:
    """The gap of a row for a sentence; '' when there is none to say (a miss never reads 差0)."""
    g = row.get("gap", np.nan)
    try:
        g = float(g)
    except (TypeError, ValueError):
        return ""
    return num(g, unit=unit) if np.isfinite(g) and g > 0 else ""


def indicator_sentence(ind, row: dict, lang: str, city_value=np.nan) -> str:
    """One sentence on one indicator: the judged measure, the target and the verdict.

    A row shown for reference (a district's figure of a target set for the city as a whole) is
    never judged: no verdict, no share of the target, no gap.
    """
    unit = ind.unit(lang)
    value, period = num(row.get("latest_value"), unit=unit), quarter_label(row.get("latest_period") or "—", lang)
    if ind.target is None or row.get("status") == "no_target":
        return dt(lang, "ind_trend", name=ind.name(lang), period=period, value=value, unit=unit)
    progress = row.get("progress_value", np.nan)
    progress = float(progress) if isinstance(progress, (int, float)) else np.nan
    if row.get("status") == "reference":
        if np.isfinite(progress):
            return dt(lang, "ref_sentence", progress=num(progress, unit=unit), period=period, value=value,
                      **_target_args(ind, lang))
        return dt(lang, "ref_sentence_plain", name=ind.name(lang), period=period, value=value, unit=unit)
    v = verdict(row)
    if row.get("status") == "city_target":
        share = progress / city_value if city_value and np.isfinite(city_value) else np.nan
        text = dt(lang, "v_city", share=pct(share))
    elif v is None:
        text = STATUS_NAMES[lang].get(str(row.get("status")), "—")
    elif v == "achieved":
        text = dt(lang, "v_achieved")
    elif v == "missed":
        years = missed_years(row, lang)
        gap = _gap_text(row, unit)
        text = dt(lang, "v_missed_years", years=years) if years else (
            dt(lang, "v_missed", gap=gap, unit="个百分点" if unit == "%" and lang == "zh" else unit)
            if gap else dt(lang, "missed"))
    elif v == "insufficient_data":
        text = dt(lang, "v_insufficient")
    elif v == "pending_publication":  # awaiting a publication: not judged, so no "rule-based" note
        text = dt(lang, "v_pending_final", status=verdict_label(v, lang))
    elif row.get("decided_by") == "rules" or not np.isfinite(row.get("probability", np.nan)):
        text = dt(lang, "v_rules_only", status=verdict_label(v, lang))
    else:
        text = dt(lang, "v_open", p=pct(row["probability"]), status=verdict_label(v, lang))
    kind = ind.target.kind
    if kind in ("cumulative", "flow_per_year", "rate") and np.isfinite(progress):
        quantity = dt(lang, f"q_{kind}", start=quarter_label(ind.target.start, lang))
        return dt(lang, "ind_sentence_progress", period=period, value=value, verdict=text,
                  progress=num(progress, unit=unit), quantity=quantity, **_target_args(ind, lang))
    return dt(lang, "ind_sentence", period=period, value=value, verdict=text, **_target_args(ind, lang))


def missed_years(row: dict, lang: str = "zh") -> str:
    """The years an every-year target was missed in, from the assessment's note ('' if none):
    2023、2024 (zh), 2023, 2024 (en)."""
    m = re.search(r"missed in ([0-9, ]+)", str(row.get("note") or ""))
    return ("、" if lang == "zh" else ", ").join(y.strip() for y in m.group(1).split(",") if y.strip()) if m else ""


def counts_sentence(key: str, lang: str, counts: dict, final: bool = False, **kw) -> str:
    """A sentence of verdict counts. The final report names only the verdicts that occur beside
    已达标 and 未达标 (no "按计划推进0项" once every target is due)."""
    if not final:
        return dt(lang, key, **{**counts, **kw})
    sep = "、" if lang == "zh" else ", "
    rest = [v for v in VERDICTS if v not in ("achieved", "missed") and counts.get(v)]
    tail = "".join(sep + dt(lang, "n_items", label=verdict_label(v, lang), n=counts[v]) for v in rest)
    return dt(lang, key + "_final", tail=tail, **{**counts, **kw})


def findings(plan, geo, records: list, quarter: Quarter, lang: str, n_real: int, demo: bool) -> list[str]:
    """The key findings of 一、总体情况, each a template filled from ``records`` (this geography's
    assessment rows, as dicts)."""
    judged = [r for r in records if verdict(r) is not None]
    c = count_verdicts(judged)
    n = sum(c.values())
    out = [counts_sentence("f_counts", lang, c, final=is_final(plan, quarter), quarter=quarter_label(quarter, lang),
                           geo=geo.name(lang), n=n)]
    if n:
        if is_final(plan, quarter):
            out.append(dt(lang, "f_share_final", share=pct(c["achieved"] / n)))
        else:
            due = last_due(plan)
            out.append(dt(lang, "f_share_mid", share=pct((c["achieved"] + c["on_track"]) / n), due=quarter_label(due, lang),
                          left=due - quarter))
    by_section = []
    for sec in plan.sections:
        part = [r for r in judged if r["section"] == sec.id]
        if part:
            good = sum(verdict(r) in GOOD for r in part)
            by_section.append((good / len(part), good, len(part), sec.name(lang)))
    if len(by_section) >= 2:
        best, worst = max(by_section), min(by_section)
        key = "f_best_section_final" if is_final(plan, quarter) else "f_best_section"
        out.append(dt(lang, key, name=best[3], good=best[1], n=best[2], worst=worst[3],
                      wgood=worst[1], wn=worst[2]))
    gaps = []
    for r in judged:
        ind = plan.indicator(r["indicator_id"])
        if verdict(r) in PROBLEMS and ind.target.direction == "at_least" and ind.target.value > 0 \
                and np.isfinite(r.get("progress_value", np.nan)):
            gaps.append((r["progress_value"] / ind.target.value, ind, r))
    if gaps:
        ratio, ind, r = min(gaps, key=lambda g: g[0])
        key = "f_largest_gap_final" if is_final(plan, quarter) else "f_largest_gap"
        out.append(dt(lang, key, value=num(r["progress_value"], unit=ind.unit(lang)), ratio=pct(ratio),
                      **_target_args(ind, lang)))
    n_city = sum(r["status"] == "city_target" for r in records)
    if n_city:
        out.append(dt(lang, "f_city_share", n=n_city))
    if n_real:
        out.append(dt(lang, "f_real", n=n_real, kind=dt(lang, "f_kind_demo" if demo else "f_kind_real")))
    return out


def _decimal_year(period: str) -> float:
    kind, year, q = parse_period(period)
    return year + (q - 0.5) / 4 if kind == "quarter" else year + 0.5


def judged_values(ind, series: pd.DataFrame) -> list:
    """``[(period, time, value)]`` of the measure a level or rate target is judged on.

    A rate target is judged on the year's rate: the yearly sums of numerator and denominator,
    never one quarter's rate (淳安县's mediation rate rose from 27.3% to 32.6% over the years while
    its last quarter alone fell). A level target: the series as observed.
    """
    s = series[series["value"].notna()] if len(series) else series
    if not len(s):
        return []
    if ind.target.kind == "rate" and {"numerator", "denominator"} <= set(s.columns) \
            and s["numerator"].notna().any():
        rates = nb.yearly_rates(zip(s["period"].astype(str), s["numerator"], s["denominator"]), ind.scale)
        return [(str(y), y + 0.5, v) for y, v in rates.items()]
    return [(str(p), _decimal_year(str(p)), float(v)) for p, v in zip(s["period"].astype(str), s["value"])]


def level_pace(ind, series: pd.DataFrame) -> dict | None:
    """The yearly change a level or rate target needed, against the change observed, in the same years.

    From the last value before the target period (the base) to the target, over the years from
    the base to the due period placed as the series places its values (a yearly value at mid-year,
    so base 2022 to due 2025 counts 3 years, as the observed pace from 2022 to 2025 does).
    """
    t = ind.target
    vals = judged_values(ind, series)
    if t.kind not in ("level", "rate", "milestone") or len(vals) < 2:
        return None
    annual = len(vals[0][0]) == 4
    before = [k for k, (_, tm, _) in enumerate(vals) if tm < t.start.year]
    i0 = before[-1] if before else 0
    p0, t0, v0 = vals[i0]
    _, tc, vc = vals[-1]
    due = nb.due_time(t.due.year, t.due.q, annual)
    need, obs = nb.required_pace(v0, t0, t.value, due), nb.observed_pace(v0, t0, vc, tc)
    if not (np.isfinite(need) and np.isfinite(obs)):
        return None
    return dict(start=p0, v0=v0, need=need, obs=obs)


def pace_sentence(ind, row: dict, series: pd.DataFrame, lang: str) -> str:
    """The pace a target would have needed, against the pace observed.

    Flow and cumulative targets: ``required_pace`` and ``observed_pace`` of the assessment (per
    year). Level and rate targets: :func:`level_pace`; a rate's changes in percentage points.
    """
    t, unit = ind.target, ind.unit(lang)
    need, obs = row.get("required_pace", np.nan), row.get("observed_pace", np.nan)
    if t.kind in ("flow_per_year", "cumulative") and np.isfinite(need) and np.isfinite(obs):
        return dt(lang, "p_pace_flow", need=num(need, unit=unit), obs=num(obs, unit=unit), unit=unit)
    p = level_pace(ind, series)
    if p is None:
        return ""
    args = dict(start=quarter_label(p["start"], lang), due=quarter_label(t.due.year, lang), unit=unit)
    need, obs = p["need"], p["obs"]
    if lang == "zh":  # 每年增加2,543件 / 减少, never 每年变化-2,543件
        up, down = ("w_up_rate", "w_down_rate") if unit == "%" else ("w_up", "w_down")
        args.update(need_verb=dt(lang, up if need >= 0 else down), obs_verb=dt(lang, up if obs >= 0 else down))
        need, obs = abs(need), abs(obs)
    if unit == "%":
        return dt(lang, "p_pace_rate_points", v0=num(p["v0"], unit=unit), need=num(need, digits=1),
                  obs=num(obs, digits=1), **args)
    return dt(lang, "p_pace_level_years", v0=num(p["v0"], unit=unit), need=num(need, unit=unit),
              obs=num(obs, unit=unit), **args)


def problem_sentence(ind, row: dict, series: pd.DataFrame, lang: str, final: bool = False) -> tuple[str, str]:
    """(the problem, the recommendation) for a target missed, off track or at risk; the final
    report says what was achieved (实际完成), not where a target stands now (当前)."""
    v = verdict(row)
    p = row.get("probability", np.nan)
    label = verdict_label(v or "", lang)  # v is a problem verdict here, never None
    if v in ("at_risk", "off_track") and np.isfinite(p) and row.get("decided_by") == "ensemble":
        label = dt(lang, "v_open", p=pct(p), status=label)
    args = _target_args(ind, lang)
    if v == "missed" and missed_years(row, lang):
        label = dt(lang, "v_missed_years", years=missed_years(row, lang))
    problem = dt(lang, "p_item_final" if final else "p_item", verdict=label, value=num(row.get("progress_value"), unit=args["unit"]),
                 pace=pace_sentence(ind, row, series, lang), **args).strip()
    gap = _gap_text(row, args["unit"]) or "—"
    if v == "missed" and missed_years(row, lang):
        rec = dt(lang, "r_missed_years", years=missed_years(row, lang), name=args["name"], unit=args["unit"],
                 target=args["target"])
    elif v == "missed":
        rec = dt(lang, "r_missed", gap=gap, name=args["name"], unit="个百分点" if args["unit"] == "%" and lang == "zh" else args["unit"])
    elif v == "off_track" and np.isfinite(row.get("required_pace", np.nan)):
        rec = dt(lang, "r_off", need=num(row["required_pace"], unit=args["unit"]), name=args["name"], unit=args["unit"])
    else:
        rec = dt(lang, "r_risk", gap=gap, name=args["name"], unit="个百分点" if args["unit"] == "%" and lang == "zh" else args["unit"])
    return problem, rec


def tied_names(names: list[str], lang: str) -> str:
    """Geographies sharing a rank, named as a reader expects: one name, up to three joined
    (上城区、拱墅区), more as the first two and the count (上城区、拱墅区等11个区县)."""
    sep = "、" if lang == "zh" else ", "
    if len(names) <= 3:
        return sep.join(names)
    return dt(lang, "tied_many", names=sep.join(names[:2]), n=len(names))


def district_ranking(records: dict, geos, draws: int = 2000, seed: int = 20231023) -> pd.DataFrame:
    """Districts ranked by the expected share of their judged targets met, with an 80% rank interval.

    ``records`` maps a geography code to its assessment rows (dicts). Each judged target counts 1 if achieved, 0 if missed, else its probability of being met (rule-
    based rows without a probability count 1 when on track, 0 otherwise). ``draws`` joint outcomes
    are drawn, every target independently (Bernoulli with that probability); each draw ranks the
    districts by their share met, and the 10th and 90th percentiles of a district's rank give the
    interval. Independence is an assumption: targets of one district may move together, which
    would widen the intervals.

    Returns
    -------
    DataFrame
        ``geography_code, n, expected, share, good, rank, rank_lo, rank_hi`` sorted by rank.
    """
    rng = np.random.default_rng(seed)
    probs, rows = [], []
    for g in geos.districts:
        p = []
        good = 0
        for r in records.get(g.code, []):
            v = verdict(r)
            if v is None or v == "insufficient_data":
                continue
            good += v in GOOD
            if v in ("achieved", "missed"):
                p.append(1.0 if v == "achieved" else 0.0)
            elif np.isfinite(r.get("probability", np.nan)):
                p.append(float(r["probability"]))
            else:
                p.append(1.0 if v == "on_track" else 0.0)
        probs.append(np.array(p))
        rows.append(dict(geography_code=g.code, n=len(p), expected=float(np.sum(p)),
                         share=float(np.mean(p)) if p else np.nan, good=good))
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    shares = np.column_stack([(rng.random((draws, len(p))) < p).mean(axis=1) if len(p) else np.full(draws, np.nan)
                              for p in probs])
    # rank 1 = highest share; ties share the better rank
    ranks = (shares[:, None, :] > shares[:, :, None]).sum(axis=2) + 1
    out["rank_lo"] = np.percentile(ranks, 10, axis=0).astype(int)
    out["rank_hi"] = np.percentile(ranks, 90, axis=0).astype(int)
    out = out.sort_values(["share", "expected"], ascending=False, kind="stable").reset_index(drop=True)
    share = out["share"].fillna(-1).to_numpy()
    out["rank"] = (share[None, :] > share[:, None]).sum(axis=1) + 1  # equal shares share the better rank
    return out
