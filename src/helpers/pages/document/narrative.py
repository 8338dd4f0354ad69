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
from helpers.pages.sections import _fmt
from helpers.plan.periods import Quarter, parse_period

# The verdicts a target of this geography can have, in the order the report counts them.
VERDICTS = ("achieved", "missed", "on_track", "at_risk", "off_track", "insufficient_data")
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


def num(x, digits: int = 1) -> str:
    """A number as the report prints it (thousands separated, at most ``digits`` decimals)."""
    return _fmt(x, digits)


def pct(p) -> str:
    return "—" if p is None or not np.isfinite(p) else f"{p * 100:.0f}"


def _target_args(ind, lang: str) -> dict:
    t = ind.target
    return dict(name=ind.name(lang), unit=ind.unit(lang), symbol=t.symbol, target=num(t.value), due=str(t.due))


def indicator_sentence(ind, row: dict, lang: str, city_value=np.nan) -> str:
    """One sentence on one indicator: latest value, target and verdict."""
    value, period = num(row.get("latest_value")), str(row.get("latest_period") or "—")
    if ind.target is None or row.get("status") == "no_target":
        return dt(lang, "ind_trend", name=ind.name(lang), period=period, value=value, unit=ind.unit(lang))
    v = verdict(row)
    unit = ind.unit(lang)
    if row.get("status") == "city_target":
        share = row.get("progress_value", np.nan) / city_value if city_value and np.isfinite(city_value) else np.nan
        text = dt(lang, "v_city", share=pct(share))
    elif v == "achieved":
        text = dt(lang, "v_achieved")
    elif v == "missed":
        years = missed_years(row)
        text = dt(lang, "v_missed_years", years=years) if years else dt(lang, "v_missed", gap=num(row.get("gap")), unit=unit)
    elif v == "insufficient_data":
        text = dt(lang, "v_insufficient")
    elif row.get("decided_by") == "rules" or not np.isfinite(row.get("probability", np.nan)):
        text = dt(lang, "v_rules", status=verdict_label(v, lang))
    else:
        text = dt(lang, "v_open", p=pct(row["probability"]), status=verdict_label(v, lang))
    progress = row.get("progress_value", np.nan)
    kind = ind.target.kind
    if kind in ("cumulative", "flow_per_year", "rate") and np.isfinite(progress):
        quantity = dt(lang, f"q_{kind}", start=ind.target.start)
        return dt(lang, "ind_sentence_progress", period=period, value=value, verdict=text, progress=num(progress),
                  quantity=quantity, **_target_args(ind, lang))
    return dt(lang, "ind_sentence", period=period, value=value, verdict=text, **_target_args(ind, lang))


def missed_years(row: dict) -> str:
    """The years an every-year target was missed in, from the assessment's note ('' if none)."""
    m = re.search(r"missed in ([0-9, ]+)", str(row.get("note") or ""))
    return m.group(1).strip().rstrip(",") if m else ""


def counts_sentence(key: str, lang: str, counts: dict, **kw) -> str:
    return dt(lang, key, **{**counts, **kw})


def findings(plan, geo, records: list, quarter: Quarter, lang: str, n_real: int, demo: bool) -> list[str]:
    """The key findings of 一、总体情况, each a template filled from ``records`` (this geography's
    assessment rows, as dicts)."""
    judged = [r for r in records if verdict(r) is not None]
    c = count_verdicts(judged)
    n = sum(c.values())
    out = [counts_sentence("f_counts", lang, c, quarter=quarter, geo=geo.name(lang), n=n)]
    if n:
        if is_final(plan, quarter):
            out.append(dt(lang, "f_share_final", share=pct(c["achieved"] / n)))
        else:
            due = last_due(plan)
            out.append(dt(lang, "f_share_mid", share=pct((c["achieved"] + c["on_track"]) / n), due=due,
                          left=due - quarter))
    by_section = []
    for sec in plan.sections:
        part = [r for r in judged if r["section"] == sec.id]
        if part:
            good = sum(verdict(r) in GOOD for r in part)
            by_section.append((good / len(part), good, len(part), sec.name(lang)))
    if len(by_section) >= 2:
        best, worst = max(by_section), min(by_section)
        out.append(dt(lang, "f_best_section", name=best[3], good=best[1], n=best[2], worst=worst[3],
                      wgood=worst[1], wn=worst[2]))
    gaps = []
    for r in judged:
        ind = plan.indicator(r["indicator_id"])
        if verdict(r) in PROBLEMS and ind.target.direction == "at_least" and ind.target.value > 0 \
                and np.isfinite(r.get("progress_value", np.nan)):
            gaps.append((r["progress_value"] / ind.target.value, ind, r))
    if gaps:
        ratio, ind, r = min(gaps, key=lambda g: g[0])
        out.append(dt(lang, "f_largest_gap", value=num(r["progress_value"]), ratio=pct(ratio), **_target_args(ind, lang)))
    n_city = sum(r["status"] == "city_target" for r in records)
    if n_city:
        out.append(dt(lang, "f_city_share", n=n_city))
    if n_real:
        out.append(dt(lang, "f_real", n=n_real, kind=dt(lang, "f_kind_demo" if demo else "f_kind_real")))
    return out


def _decimal_year(period: str) -> float:
    kind, year, q = parse_period(period)
    return year + (q - 0.5) / 4 if kind == "quarter" else year + 0.5


def pace_sentence(ind, row: dict, series: pd.DataFrame, lang: str) -> str:
    """The pace a target would have needed, against the pace observed.

    Flow and cumulative targets: ``required_pace`` and ``observed_pace`` of the assessment (per
    year). Level and rate targets: the yearly change from the last value before the target period
    to the target by its due date, against the observed yearly change since then.
    """
    t, unit = ind.target, ind.unit(lang)
    need, obs = row.get("required_pace", np.nan), row.get("observed_pace", np.nan)
    if t.kind in ("flow_per_year", "cumulative") and np.isfinite(need) and np.isfinite(obs):
        return dt(lang, "p_pace_flow", need=num(need), obs=num(obs), unit=unit)
    s = series[series["value"].notna()] if len(series) else series
    if t.kind in ("level", "rate", "milestone") and len(s) >= 2:
        times = np.array([_decimal_year(p) for p in s["period"].astype(str)])
        before = times < t.start.year
        i0 = int(np.flatnonzero(before)[-1]) if before.any() else 0
        t0, v0 = times[i0], float(s["value"].iloc[i0])
        tc, vc = times[-1], float(s["value"].iloc[-1])
        due_t = t.due.year + 1.0  # the end of the due year
        if due_t > t0 and tc > t0:
            return dt(lang, "p_pace_level", start=str(s["period"].iloc[i0]), v0=num(v0), due=str(t.due),
                      need=num((t.value - v0) / (due_t - t0)), obs=num((vc - v0) / (tc - t0)), unit=unit)
    return ""


def problem_sentence(ind, row: dict, series: pd.DataFrame, lang: str) -> tuple[str, str]:
    """(the problem, the recommendation) for a target missed, off track or at risk."""
    v = verdict(row)
    p = row.get("probability", np.nan)
    label = verdict_label(v, lang)
    if v in ("at_risk", "off_track") and np.isfinite(p) and row.get("decided_by") == "ensemble":
        label = dt(lang, "v_open", p=pct(p), status=label)
    args = _target_args(ind, lang)
    if v == "missed" and missed_years(row):
        label = dt(lang, "v_missed_years", years=missed_years(row))
    problem = dt(lang, "p_item", verdict=label, value=num(row.get("progress_value")),
                 pace=pace_sentence(ind, row, series, lang), **args).strip()
    gap = num(row.get("gap"))
    if v == "missed" and missed_years(row):
        rec = dt(lang, "r_missed_years", years=missed_years(row), name=args["name"], unit=args["unit"],
                 target=args["target"])
    elif v == "missed":
        rec = dt(lang, "r_missed", gap=gap, name=args["name"], unit=args["unit"])
    elif v == "off_track" and np.isfinite(row.get("required_pace", np.nan)):
        rec = dt(lang, "r_off", need=num(row["required_pace"]), name=args["name"], unit=args["unit"])
    else:
        rec = dt(lang, "r_risk", gap=gap, name=args["name"], unit=args["unit"])
    return problem, rec


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
