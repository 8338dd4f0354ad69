"""The standard 指标完成情况一览表: one row per target, the measure it is judged on, year by year.

Columns: 序号, 指标, 单位, 基期值 (2022), 目标值, 2023, 2024, 2025, 完成情况 (final) or 当前进度 and
达标概率 (mid-term, open rows), 责任单位, 数据来源. Each year's value is the quantity the target is
judged on: the year's total (a yearly flow), the running total since the target period began
(cumulative), the year's rate from the year's sums (rate), the level at the year's last observed
period (level) -- never a lone quarter against a yearly target.

Shared by the Word/PDF reports (:mod:`helpers.pages.document.content`) and the workbook.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.i18n import dt
from helpers.pages import numbers as nb

if TYPE_CHECKING:
    from helpers.data.series import SeriesIndex

BASE_YEAR = 2022
YEARS = (2023, 2024, 2025)


def year_measures(ind, series: pd.DataFrame) -> dict:
    """``{year: value}`` of the quantity the indicator's target is judged on, per calendar year."""
    s = series[series["value"].notna()] if len(series) else series
    if not len(s):
        return {}
    periods = s["period"].astype(str)
    years = periods.str[:4].astype(int)
    t = ind.target
    kind = t.kind if t is not None else ("flow_per_year" if ind.flow else "level")
    if kind == "rate" and {"numerator", "denominator"} <= set(s.columns) \
            and s["numerator"].notna().any():
        return nb.yearly_rates(zip(periods, s["numerator"], s["denominator"]), ind.scale)
    if ind.flow and kind in ("flow_per_year", "cumulative"):
        totals = s.groupby(years)["value"].sum().to_dict()
        if kind == "cumulative":
            start, running, out = t.start.year, 0.0, {}
            for y in sorted(totals):
                if y >= start:
                    running += totals[y]
                    out[y] = running
                else:
                    out[y] = totals[y]  # before the target period: the year's own figure (the base)
            return out
        return totals
    # a level: the year's last period (a quarterly row after a yearly one of the same year). The last value of a
    # stable sort by time, in Python: a sort and a groupby of a frame of 20 rows cost 0.8 ms a series, this a
    # third (the 89 level rows of the 14 tables of the 2025Q2 demo, CPU mean of 3: 0.070 s -> 0.023 s)
    times = [nb.period_time(p) + (0.5 if len(p) == 4 else 0) for p in periods]
    last: dict = {}
    for _, y, v in sorted(zip(times, years, s["value"]), key=lambda row: row[0]):
        last[y] = v
    return {int(y): float(last[y]) for y in sorted(last)}


def kept_year_measures(ind, series: pd.DataFrame) -> dict:
    """:func:`year_measures` of a series an index keeps (:attr:`helpers.data.series.SeriesIndex.memo`),
    computed once for that very series object and kept beside it (do not change the dict).

    The run's side process writes the workbook's 一览表, then each document's, from one kept index
    (:func:`helpers.pages.document.source.shared_series`): the documents' content took 0.39 s CPU
    with the year measures computed again, 0.24 s without (2025Q2 demo, 14 geographies,
    ``benchmarks/bench_documents.py --phases``, 3 runs each alternated).
    """
    key = (id(series), ind.id)
    kept = _YEAR_MEASURES.get(key)
    if kept is not None and kept[0] is series:  # the same object, held here, so its id was not reused
        return kept[1]
    if len(_YEAR_MEASURES) > 20_000:  # a long-lived process writing many quarters
        _YEAR_MEASURES.clear()
    ym = year_measures(ind, series)
    _YEAR_MEASURES[key] = (series, ym)
    return ym


_YEAR_MEASURES: dict = {}


def completion(row: dict, final: bool, lang: str) -> str:
    """完成情况 of one assessment row: 已完成 / 提前完成 / 未完成 / 数据缺失 / 待公布 / 仅供参考
    (and, mid-term, '' for an open row, whose progress and probability are shown instead)."""
    status = str(row.get("status") or "")
    if status == "reference":
        return dt(lang, "done_reference")
    if status == "pending_publication":  # helpers.run.publication.mark_pending
        return dt(lang, "done_pending")
    if status == "achieved":
        return dt(lang, "done_early" if str(row.get("early")).lower() == "true" else "done_achieved")
    if status == "missed":
        return dt(lang, "done_missed")
    if status in ("insufficient_data", "") or (final and status not in ("city_target", "no_target")):
        return dt(lang, "done_missing")
    return ""


def source_label(kinds: set, lang: str) -> str:
    """数据来源 of a row from the kinds of its sources: published figures marked ◆."""
    parts = []
    if "real" in kinds:
        parts.append("◆" + dt(lang, "src_published"))
    if "reported" in kinds:
        parts.append(dt(lang, "src_reported"))
    if "demo" in kinds:
        parts.append(dt(lang, "src_demo"))
    return ("、" if lang == "zh" else ", ").join(parts) or "—"


def published_years(root, geo, plan=None) -> dict:
    """The city's values a publication gives, by indicator and year: ``{indicator_id: {year: figure}}``
    (``figure``: the press-release row with ``value`` and ``comparator``; a district has none). With
    ``plan``, only figures of its sections: the Hangzhou press release is not the national plan's,
    though both have high-value patents per 10,000 people (its 62.6 is Hangzhou's, not China's)."""
    if root is None or not geo.is_city:
        return {}
    from helpers.pages.published import figures

    sections = {s.id for s in plan.sections} if plan is not None else None
    out: dict = {}
    for r in figures(root):
        if sections is not None and r["section"] not in sections:
            continue
        if r["use"] == "city_value" and str(r["period"])[:4].isdigit():
            period = str(r["period"])
            if len(period) == 4 or period.endswith("Q4"):  # the year's figure, or its year-end stock
                out.setdefault(r["indicator_id"], {})[int(period[:4])] = r
    return out


def standard_rows(plan, geo, geos, frame: pd.DataFrame | SeriesIndex, records: list, quarter, final: bool, lang: str,
                  source_kinds: dict | None = None, published: dict | None = None) -> list[dict]:
    """The rows of the table for one geography, targets in plan order.

    Parameters
    ----------
    plan, geo, geos
        The registry, the geography and every geography (to build the city's series).
    frame : DataFrame or SeriesIndex
        The run's validated data, or its :class:`~helpers.data.series.SeriesIndex` (the tables of every
        geography: one index for all of them).
    records : list of dict
        This geography's assessment rows.
    quarter : Quarter
        The assessed quarter (no data after it is used).
    final : bool
        The final assessment: 完成情况 for every row; mid-term: progress and probability for open rows.
    source_kinds : dict, optional
        ``{indicator_id: {'real', 'demo', 'reported'}}``.
    published : dict, optional
        :func:`published_years`: the city's published values, marked ◆ in their year's cell.

    Returns
    -------
    list of dict
        ``no, indicator_id, name, unit, base, target, years {year: value}, completion, progress,
        probability, units, source, reference, published``; numbers unformatted.
    """
    from helpers.data.series import SeriesIndex, indicator_series

    # the frame split once, not filtered whole for each of the geography's ~40 targets (2025Q2 demo, 14
    # geographies, CPU mean of two sets of 3: 0.71 s -> 0.47 s with the levels of year_measures in Python)
    series_index = SeriesIndex.of(frame)
    by_id = {r["indicator_id"]: r for r in records}
    out: list[dict] = []
    for ind in plan.indicators:
        if ind.target is None or ind.id not in by_id:
            continue
        r = by_id[ind.id]
        if r.get("status") == "no_target":
            continue
        series = indicator_series(series_index, ind, geo, geos, quarter)
        ym = kept_year_measures(ind, series) if series_index.memo is not None else year_measures(ind, series)
        prob = r.get("probability", np.nan)
        prob = float(prob) if isinstance(prob, (int, float)) and math.isfinite(prob) else math.nan
        target = f"{ind.target.symbol}{nb.fmt_number(ind.target.value, ind.unit(lang))}"
        if r.get("status") in ("reference", "city_target"):  # the plan's number is the city's
            target = ("全市" if lang == "zh" else "city ") + target
        out.append(dict(
            no=len(out) + 1, indicator_id=ind.id, name=ind.name(lang), unit=ind.unit(lang),
            base=ym.get(BASE_YEAR, math.nan), target=target,
            years={y: ym.get(y, math.nan) for y in YEARS if y <= quarter.year},
            completion=completion(r, final, lang), progress=r.get("progress_value", math.nan),
            probability=prob if r.get("status") not in ("achieved", "missed", "reference") else math.nan,
            units="、".join(getattr(ind, "lead_units", ()) or ()) or plan_lead(plan, lang),
            source=source_label((source_kinds or {}).get(ind.id, set())
                                | ({"real"} if (published or {}).get(ind.id) else set()), lang),
            reference=r.get("status") == "reference",
            published={y: f for y, f in (published or {}).get(ind.id, {}).items() if y <= quarter.year},
            cumulative=ind.target.kind == "cumulative"))
    return out


def plan_lead(plan, lang: str) -> str:
    """The body the plan makes responsible for the whole plan, marked （牵头）, where it names no body
    per target (the Hangzhou plan: 四(一) leaves units to a later work list); '—' if none."""
    # the short name when the registry gives one: the column is narrow and the full name is in 附件
    lead = (plan.meta.get(f"lead_agency_short_{lang}") or plan.meta.get(f"lead_agency_{lang}")
            or plan.meta.get("lead_agency_zh"))
    if not lead:
        return "—"
    return f"{lead}（牵头）" if lang == "zh" else f"{lead} (lead)"


def _year_cell(row: dict, y: int, lang: str = "zh") -> str:
    """A year's cell: the judged measure; ◆ where the city's figure is a publication's. Where the
    publication gives another number than the judged measure (a ceiling such as 50日内, or the year's
    own total beside a running total), both are shown: the data's and, after it, the publication's
    ("47，◆≤50"; no brackets, which would make the piece wider than the PDF's year column; in English
    "5,856; year ◆2,859" and "47; ◆≤50")."""
    u = row["unit"]
    value = row["years"].get(y)
    text = nb.fmt_number(value, u)
    fig = row.get("published", {}).get(y)
    if fig is None:
        return text
    shown = ("≤" if fig["comparator"] == "le" else "") + nb.fmt_number(fig["value"], u)
    sep = "，" if lang == "zh" else "; "
    if row.get("cumulative"):  # the cell is the running total; the publication gives the year's own
        # no bracket after the number: "◆2,859）" is wider than the PDF's year column and would split the number
        return f"{text}{sep}{'当年' if lang == 'zh' else 'year '}◆{shown}"
    if fig["comparator"] == "eq" and nb.fmt_number(fig["value"], u) == text:
        return f"◆{text}"
    return f"{text}{sep}◆{shown}"


def standard_header(final: bool, lang: str, quarter=None) -> list[str]:
    """The column heads, in the order of :func:`standard_cells`; a year not ended at ``quarter``
    says how far it goes (2025年（1—2季度）): its totals are a part of the year."""
    def year(y):
        if quarter is not None and y == quarter.year and quarter.q < 4:
            return dt(lang, "t_year_part", year=y, q=quarter.q)
        return dt(lang, "t_year", year=y)

    head = [dt(lang, "t_no"), dt(lang, "t_indicator"), dt(lang, "t_unit"), dt(lang, "t_base"),
            dt(lang, "t_target_value")] + [year(y) for y in YEARS]
    head += [dt(lang, "t_completion")] if final else [f'{dt(lang, "t_completion")}／{dt(lang, "t_current")}',
                                                     dt(lang, "t_probability")]
    return head + [dt(lang, "t_units"), dt(lang, "t_data_source")]


def standard_cells(row: dict, final: bool, lang: str) -> list[str]:
    """One row as text, every number through the one formatter."""
    u = row["unit"]
    cells = [str(row["no"]), row["name"], u, nb.fmt_number(row["base"], u), row["target"]]
    cells += [_year_cell(row, y, lang) if y in row["years"] else "—" for y in YEARS]
    if final:
        cells.append(row["completion"] or dt(lang, "done_missing"))
    else:
        open_row = not row["completion"]
        cells.append(nb.fmt_number(row["progress"], u) if open_row else row["completion"])
        cells.append(f"{nb.fmt_pct(row['probability'])}%" if open_row and math.isfinite(row["probability"]) else "—")
    return cells + [row["units"], row["source"]]


def judged_gap(ind, row: dict, frame: pd.DataFrame | SeriesIndex, geo, geos, quarter) -> float:
    """The gap to show for a row: NaN for a row shown for reference (never judged); for a missed
    every-year target whose last year met the target, the largest shortfall of a year it missed
    (never 0 for a miss); else the assessment's gap."""
    from helpers.data.series import indicator_series

    status = str(row.get("status") or "")
    gap = row.get("gap", math.nan)
    gap = float(gap) if isinstance(gap, (int, float)) else math.nan
    if status == "reference" or ind.target is None:
        return math.nan
    if status != "missed" or (math.isfinite(gap) and gap > 0):
        return gap
    t = ind.target
    ym = year_measures(ind, indicator_series(frame, ind, geo, geos, quarter))
    years = {y: v for y, v in ym.items() if t.start.year <= y <= t.due.year}
    g = nb.missed_gap(years, t.value, t.direction)
    return g if math.isfinite(g) and g > 0 else gap


def standard_html(ctx) -> str:
    """The table as HTML for the overview page (a :class:`~helpers.pages.sections.ReportContext`)."""
    from html import escape

    from helpers.model.assess import assessment_stage

    final = assessment_stage(ctx.plan, ctx.quarter) == "final"
    L, geo = ctx.lang, ctx.geography
    a = ctx.assessments
    records = a[a["geography_code"] == geo.code].to_dict("records")
    f = ctx.frame[ctx.frame["qindex"] <= ctx.quarter.index] if "qindex" in ctx.frame.columns else ctx.frame
    if not geo.is_city:
        f = f[f["geography_code"] == geo.code]
    demo = f["source"].astype(str).str.startswith("DEMO").any()
    kinds: dict = {}
    for ind_id, source in zip(f["indicator_id"], f["source"].astype(str)):
        kinds.setdefault(ind_id, set()).add("demo" if source.startswith("DEMO") else "real" if demo else "reported")
    rows = standard_rows(ctx.plan, geo, ctx.geos, ctx.frame, records, ctx.quarter, final, L, kinds,
                         published_years(ctx.settings.root, geo, ctx.plan))
    if not rows:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in standard_header(final, L, ctx.quarter))
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in standard_cells(r, final, L)) + "</tr>"
                   for r in rows)
    return (f"<h2>{escape(dt(L, 'c_standard'))}</h2><p><small>{escape(dt(L, 'std_intro'))}</small></p>"
            f'<table class="ipeval-standard"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
