"""Each section's own analysis: what its notebook shows beyond the shared parts of a report.

Each plan section has its analyses (:data:`ANALYSES`), one public function each, which that section's
notebook calls one cell at a time (``enforcement(ctx)`` and the other section names run them all). Each renders tables computed from the validated data (the same series
the assessments use, :func:`helpers.data.series.indicator_series`) and findings written from
templates in :mod:`helpers.i18n` filled with the numbers, in Chinese or English; never free text.
Tables, not pictures: a report kernel draws nothing (the charts are drawn once per run by
:mod:`helpers.pages.charts`), and the numbers can be read, copied and searched.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.series import indicator_series
from helpers.i18n import t
from helpers.pages.sections import ReportContext, _display_html, _e, _fmt

# --------------------------------------------------------------------------- shared building blocks


def series(ctx: ReportContext, ind, geo) -> pd.DataFrame:
    """:func:`indicator_series` of ``ind`` for ``geo``, memoised on the context.

    An analysis reads the same indicator for all 14 geographies, often twice; filtering the whole
    frame for the indicator once instead of every time makes a section's analysis about 3x faster.
    """
    memo = ctx.__dict__.setdefault("_series", {})
    key = (ind.id, geo.code)
    if key not in memo:
        rows = memo.get(ind.id)
        if rows is None:
            rows = memo[ind.id] = ctx.frame[ctx.frame["indicator_id"] == ind.id]
        memo[key] = indicator_series(rows, ind, geo, ctx.geos, ctx.quarter)
    return memo[key]


def yearly(series: pd.DataFrame, ind) -> dict:
    """An indicator's series by calendar year: ``{year: {value, numerator, denominator, periods}}``.

    Flows add up over the year (a rate as the sum of numerators over the sum of denominators);
    stocks and levels take the year's last value. ``periods`` is how many periods the year has
    so far (4 quarters, or 1 for an annual series, when the year is complete). A dict, not a
    frame: the tables look up one cell at a time, and pandas indexing per cell was most of the time.
    """
    s = series[series["value"].notna()].sort_values("qindex")
    years = s["year"].to_numpy(int)
    val, num, den = (s[c].to_numpy(float) for c in ("value", "numerator", "denominator"))
    out = {}
    for year in np.unique(years):
        m = years == year
        if ind.flow:
            n = np.nansum(num[m]) if np.isfinite(num[m]).any() else np.nan
            d = np.nansum(den[m]) if np.isfinite(den[m]).any() else np.nan
            value = (n / d * ind.scale if d else np.nan) if ind.uses_ratio else val[m].sum()
        else:
            value, n, d = val[m][-1], num[m][-1], den[m][-1]
        out[int(year)] = dict(value=float(value), numerator=float(n), denominator=float(d), periods=int(m.sum()))
    return out


def year_label(ctx: ReportContext, ind, year: int) -> str:
    """``2025`` or, for the year still running at the as-of quarter, ``2025 (to Q2)``."""
    if year == ctx.quarter.year and ctx.quarter.q < 4 and ind.frequency == "quarterly":
        return t(ctx.lang, "an_year_to", year=year, q=ctx.quarter.q)
    return str(year)


def zone_years(ctx: ReportContext) -> list[int]:
    """The zone period's years up to the as-of quarter (2023, 2024, 2025)."""
    return [y for y in range(ctx.plan.zone_start.year, ctx.plan.zone_end.year + 1) if y <= ctx.quarter.year]


def by_district(ctx: ReportContext, ind) -> dict:
    """Per district (and the city) the yearly table of ``ind``: ``{code: DataFrame}``."""
    out = {}
    for g in ctx.geos.all:
        s = series(ctx, ind, g)
        out[g.code] = yearly(s, ind)
    return out


def _value_in(table: dict, year: int, col: str = "value") -> float:
    v = table.get(year, {}).get(col, np.nan)
    return float(v) if v is not None and np.isfinite(v) else np.nan


def _bar(value: float, top: float, colour: str = "#4292c6") -> str:
    """A horizontal bar in CSS, ``value`` against ``top`` (at most 160 px)."""
    if not (np.isfinite(value) and np.isfinite(top) and top > 0):
        return ""
    return f'<span class="ipeval-bar" style="width:{max(1, int(160 * value / top))}px;background:{colour}"></span>'


def table(head: list, rows: list, highlight: int | None = None) -> str:
    """An analysis table; ``rows`` are lists of HTML cells (already escaped), ``highlight`` a row index."""
    out = ['<table class="ipeval-analysis"><thead><tr>', *[f"<th>{_e(h)}</th>" for h in head], "</tr></thead><tbody>"]
    for n, r in enumerate(rows):
        mark = ' style="font-weight:bold;background:#fffbe6"' if n == highlight else ""
        out.append(f"<tr{mark}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def finding(text: str) -> str:
    return f'<p class="ipeval-finding">{_e(text)}</p>'


def _pct(x: float, digits: int = 0) -> str:
    return f"{x * 100:.{digits}f}%" if np.isfinite(x) else "—"


def _heading(ctx: ReportContext, key: str) -> str:
    return f"<h2>{_e(t(ctx.lang, 'an_title', section=ctx.section_name()))}</h2><h3>{_e(t(ctx.lang, key))}</h3>"


def district_years(ctx: ReportContext, ind, years: list[int] | None = None) -> str:
    """Districts (rows) by year (columns) of one indicator, the last year's share of the city and a bar.

    For this page's district the row is highlighted; the finding names the largest contributor
    and, on a district's page, its own share and rank.
    """
    L = ctx.lang
    years = years or zone_years(ctx)
    tables = by_district(ctx, ind)
    city = ctx.geos.city.code
    last = years[-1]
    city_last = _value_in(tables[city], last)
    districts = list(ctx.geos.districts)
    vals = {d.code: _value_in(tables[d.code], last) for d in districts}
    top = max([v for v in vals.values() if np.isfinite(v)], default=np.nan)
    additive = ind.aggregation == "sum"
    head = [t(L, "an_district")] + [year_label(ctx, ind, y) for y in years] + ([t(L, "an_share")] if additive else []) + [""]
    rows, highlight = [], None
    for n, d in enumerate([ctx.geos.city, *districts]):
        cells = [_e(d.name(L))] + [_e(_fmt(_value_in(tables[d.code], y), 1)) for y in years]
        v = _value_in(tables[d.code], last)
        if additive:
            cells.append(_e(_pct(v / city_last)) if d.code != city and city_last else "")
        cells.append(_bar(v, top) if d.code != city else "")
        rows.append(cells)
        if d.code == ctx.geography.code and not ctx.geography.is_city:
            highlight = n
    html = [f"<h4>{_e(ind.name(L))}（{_e(ind.unit(L))}）</h4>" if L == "zh" else f"<h4>{_e(ind.name(L))} ({_e(ind.unit(L))})</h4>",
            table(head, rows, highlight)]
    ranked = sorted((c for c in vals if np.isfinite(vals[c])), key=lambda c: vals[c], reverse=True)
    if ranked:
        lead = ctx.geos.get(ranked[0])
        args = dict(indicator=ind.name(L), year=year_label(ctx, ind, last), who=lead.name(L),
                    value=_fmt(vals[ranked[0]], 1), unit=ind.unit(L))
        if additive and city_last:
            html.append(finding(t(L, "an_lead_share", share=_pct(vals[ranked[0]] / city_last), **args)))
        else:
            html.append(finding(t(L, "an_lead", **args)))
        here = ctx.geography.code
        if not ctx.geography.is_city and here in ranked:
            html.append(finding(t(L, "an_here_rank", who=ctx.geography.name(L), rank=ranked.index(here) + 1,
                                  n=len(ranked), value=_fmt(vals[here], 1), unit=ind.unit(L),
                                  indicator=ind.name(L))))
    return "".join(html)


def pace_needed(ctx: ReportContext, inds) -> str:
    """For totals to reach by the due date: done so far, still needed, the pace needed per quarter
    and the pace of the last four quarters (cumulative targets and yearly targets' open year)."""
    L = ctx.lang
    a = ctx.assessments
    a = a[a["geography_code"] == ctx.geography.code].set_index("indicator_id")
    rows, notes = [], []
    for ind in inds:
        tg = ind.target
        if tg is None or tg.kind not in ("cumulative", "flow_per_year") or ind.id not in a.index:
            continue
        if a.loc[ind.id, "status"] == "reference":
            continue  # a district's count toward a city target: no target of its own to pace
        s = series(ctx, ind, ctx.geography)
        s = s[s["value"].notna()]
        due = tg.due
        if tg.kind == "cumulative":
            done = s.loc[s["qindex"] >= tg.start.index, "value"].sum()
        else:
            done = s.loc[s["year"] == min(ctx.quarter.year, due.year), "value"].sum()
        left_q = max(0, due.index - ctx.quarter.index)
        need = max(0.0, tg.value - done)
        recent = s[s["qindex"] > ctx.quarter.index - 4]["value"]
        pace = recent.mean() if len(recent) else np.nan
        per_q = need / left_q if left_q else np.nan
        rows.append([_e(ind.name(L)), _e(_fmt(tg.value)), _e(_fmt(done)), _e(_fmt(need)), str(left_q),
                     _e(_fmt(per_q, 1)), _e(_fmt(pace, 1)),
                     _e(_pct(pace / per_q) if np.isfinite(per_q) and per_q > 0 else "—")])
        if need == 0:
            notes.append(t(L, "an_pace_done", indicator=ind.name(L), done=_fmt(done), target=_fmt(tg.value)))
        elif left_q == 0:
            notes.append(t(L, "an_pace_over", indicator=ind.name(L), need=_fmt(need), unit=ind.unit(L)))
        elif np.isfinite(pace):
            key = "an_pace_enough" if pace >= per_q else "an_pace_short"
            notes.append(t(L, key, indicator=ind.name(L), need=_fmt(need), unit=ind.unit(L), left=left_q,
                           per_q=_fmt(per_q, 1), pace=_fmt(pace, 1), ratio=_pct(pace / per_q)))
    if not rows:
        return ""
    head = [t(L, k) for k in ("indicator", "target", "an_done", "an_needed", "an_quarters_left", "an_per_quarter_needed",
                              "an_recent_pace", "an_pace_ratio")]
    return f"<h3>{_e(t(L, 'an_pace_title'))}</h3>" + table(head, rows) + "".join(finding(n) for n in notes)


def here_yearly(ctx: ReportContext, indicator_id: str):
    """The indicator and its yearly table for this page's geography."""
    ind = ctx.plan.indicator(indicator_id)
    return ind, yearly(series(ctx, ind, ctx.geography), ind)


def _city_or_here(ctx: ReportContext, ind):
    """The geography whose figures a city-only indicator shows on a district's page: the city."""
    return ctx.geos.city if ind.city_only else ctx.geography


def year_by_year(ctx: ReportContext, inds, with_growth: bool = True) -> str:
    """One row per indicator, one column per year (and the growth of the last complete year)."""
    L = ctx.lang
    years = zone_years(ctx)
    first = [years[0] - 1, *years]
    head = [t(L, "indicator")] + [str(y) for y in first] + ([t(L, "an_growth")] if with_growth else [])
    rows = []
    for ind in inds:
        y = yearly(series(ctx, ind, _city_or_here(ctx, ind)), ind)
        vals = [_value_in(y, yr) for yr in first]
        full = [yr for yr in first if _value_in(y, yr, "periods") >= (4 if ind.frequency == "quarterly" else 1)]
        growth = np.nan
        if len(full) >= 2 and full[-1] - 1 == full[-2]:
            a, b = _value_in(y, full[-2]), _value_in(y, full[-1])
            growth = b / a - 1 if a else np.nan
        rows.append([_e(f"{ind.name(L)} ({ind.unit(L)})")] + [_e(_fmt(v, 1)) for v in vals]
                    + ([_e(_pct(growth, 1))] if with_growth else []))
    return table(head, rows)


# --------------------------------------------------------------------------- the sections


def enforcement(ctx: ReportContext) -> None:
    """Administrative cases by quarter and district; the ruling cycle's distribution against 50 days."""
    run_analyses(ctx, "enforcement")


def admin_cases(ctx: ReportContext) -> None:
    """Administrative cases by district and year, the last eight quarters here, the zone-period total."""
    L = ctx.lang
    out = [_heading(ctx, "an_enf_cases")]
    cases = ctx.plan.indicator("admin_cases")
    out.append(district_years(ctx, cases))
    # the last eight quarters of this geography, to see the seasonal rhythm of closures
    s = series(ctx, cases, ctx.geography)
    s = s[s["value"].notna()].tail(8)
    if len(s):
        top = s["value"].max()
        out.append(table([t(L, "period"), cases.name(L), ""],
                         [[_e(p), _e(_fmt(v)), _bar(v, top)] for p, v in zip(s["period"], s["value"])]))
        zone = series(ctx, cases, ctx.geography)
        total = zone.loc[zone["qindex"] >= ctx.plan.zone_start.index, "value"].sum()
        out.append(finding(t(L, "an_enf_total", who=ctx.geography.name(L), q=str(ctx.quarter), total=_fmt(total),
                             target=_fmt(cases.target.value), share=_pct(total / cases.target.value))))
    _display_html("".join(out))


def ruling_cycle(ctx: ReportContext) -> None:
    """Every district-quarter's average ruling cycle against the 50-day line (:func:`ruling_cycle_distribution`)."""
    _display_html(f"<h3>{_e(t(ctx.lang, 'an_enf_cycle'))}</h3>" + ruling_cycle_distribution(ctx))


def pace(ctx: ReportContext) -> None:
    """The pace each total target of the page still needs per quarter against the last four quarters'."""
    _display_html(pace_needed(ctx, ctx.indicators))


CYCLE_BINS = [(0, 40), (40, 50), (50, 60), (60, 70), (70, np.inf)]


def ruling_cycle_distribution(ctx: ReportContext) -> str:
    """Every district-quarter's average ruling cycle in the zone period, binned against the 50-day line."""
    L = ctx.lang
    ind = ctx.plan.indicator("ruling_cycle_days")
    limit = ind.target.value
    rows = ctx.frame[(ctx.frame["indicator_id"] == ind.id) & (ctx.frame["qindex"] <= ctx.quarter.index)
                     & (ctx.frame["qindex"] >= ctx.plan.zone_start.index)
                     & ctx.frame["geography_code"].isin([d.code for d in ctx.geos.districts])]
    rows = rows[rows["denominator"] > 0]
    if rows.empty:
        return f"<p>{_e(t(L, 'no_rows'))}</p>"
    days = (rows["numerator"] / rows["denominator"]).to_numpy(float)
    weight = rows["denominator"].to_numpy(float)
    table_rows = []
    for lo, hi in CYCLE_BINS:
        m = (days > lo) & (days <= hi) if lo else days <= hi
        label = f"≤{hi:g}" if lo == 0 else (f">{lo:g}" if not np.isfinite(hi) else f"{lo:g}–{hi:g}")
        colour = "#1a7f37" if hi <= limit else "#d1242f"
        table_rows.append([_e(label + t(L, "an_days")), str(int(m.sum())), _e(_pct(weight[m].sum() / weight.sum())),
                           _bar(m.sum(), len(days), colour)])
    html = [table([t(L, "an_cycle_bin"), t(L, "an_district_quarters"), t(L, "an_rulings_share"), ""], table_rows)]
    within = days <= limit
    worst = int(np.argmax(days))
    who = ctx.geos.get(rows["geography_code"].iloc[worst]).name(L)
    html.append(finding(t(L, "an_cycle", n=len(days), k=int(within.sum()), share=_pct(within.mean()),
                          rulings=_pct(weight[within].sum() / weight.sum()), limit=_fmt(limit),
                          median=_fmt(np.median(days), 1), max=_fmt(days[worst], 1), who=who,
                          when=rows["period"].iloc[worst])))
    return "".join(html)


def judicial(ctx: ReportContext) -> None:
    """The mediation funnel (cases handled, concluded, settled) by year and the success rate by district."""
    run_analyses(ctx, "judicial")


def mediation_funnel(ctx: ReportContext) -> None:
    """Mediation cases handled, concluded and settled here by year, and the success rate against the target."""
    L = ctx.lang
    out = [_heading(ctx, "an_jud_funnel")]
    (rate, r), (_handled, h) = here_yearly(ctx, "mediation_success_rate"), here_yearly(ctx, "mediation_cases")
    rows = []
    for y in zone_years(ctx):
        n_h, n_c, n_s = _value_in(h, y), _value_in(r, y, "denominator"), _value_in(r, y, "numerator")
        top = max(v for v in (n_h, n_c, n_s, 0) if np.isfinite(v)) or 1
        funnel = "<br>".join(_bar(v, top, c) for v, c in ((n_h, "#9ecae1"), (n_c, "#4292c6"), (n_s, "#1a7f37")))
        rows.append([_e(year_label(ctx, rate, y)), _e(_fmt(n_h)), _e(_fmt(n_c)), _e(_fmt(n_s)),
                     _e(_pct(n_s / n_c, 1) if n_c else "—"), funnel])
    head = [t(L, "an_year"), t(L, "an_handled"), rate.denominator_zh if L == "zh" else rate.denominator_en,
            rate.numerator_zh if L == "zh" else rate.numerator_en, rate.name(L), ""]
    out.append(table(head, rows))
    last = zone_years(ctx)[-1]
    n_c, n_s = _value_in(r, last, "denominator"), _value_in(r, last, "numerator")
    if n_c:
        value = n_s / n_c * 100
        out.append(finding(t(L, "an_jud_rate", who=ctx.geography.name(L), year=year_label(ctx, rate, last),
                             concluded=_fmt(n_c), settled=_fmt(n_s), rate=_fmt(value, 1), target=_fmt(rate.target.value),
                             cmp=t(L, "an_above" if value >= rate.target.value else "an_below"),
                             diff=_fmt(abs(value - rate.target.value), 1))))
    _display_html("".join(out))


def mediation_by_district(ctx: ReportContext) -> None:
    """The mediation success rate by district and year."""
    _display_html(district_years(ctx, ctx.plan.indicator("mediation_success_rate")))


def financing(ctx: ReportContext) -> None:
    """Pledge financing: amount, enterprises, amount per enterprise and growth; totals against the pace needed."""
    run_analyses(ctx, "financing")


def pledge_financing(ctx: ReportContext) -> None:
    """Pledge financing here by year: amount, enterprises, amount per enterprise and growth."""
    L = ctx.lang
    out = [_heading(ctx, "an_fin_pledge")]
    (amount, a), (firms, f) = here_yearly(ctx, "pledge_financing_amount"), here_yearly(ctx, "pledge_financing_enterprises")
    years = [zone_years(ctx)[0] - 1, *zone_years(ctx)]
    rows, per = [], {}
    for y in years:
        va, vf = _value_in(a, y), _value_in(f, y)
        per[y] = va * 1e4 / vf if vf else np.nan  # 亿元 per firm, shown in 万元
        prev = _value_in(a, y - 1)
        complete = _value_in(a, y, "periods") >= 4 and _value_in(a, y - 1, "periods") >= 4
        growth = va / prev - 1 if complete and prev else np.nan  # a part of a year against a whole one: no
        rows.append([_e(year_label(ctx, amount, y)), _e(_fmt(va, 1)), _e(_fmt(vf)), _e(_fmt(per[y], 1)), _e(_pct(growth, 1))])
    out.append(table([t(L, "an_year"), f"{amount.name(L)} ({amount.unit(L)})", f"{firms.name(L)} ({firms.unit(L)})",
                      t(L, "an_per_firm"), t(L, "an_yoy")], rows))
    full = [y for y in years if _value_in(a, y, "periods") >= 4]
    if len(full) >= 2:
        y1, y0 = full[-1], full[-2]
        out.append(finding(t(L, "an_fin", who=ctx.geography.name(L), year=y1, amount=_fmt(_value_in(a, y1), 1),
                             growth=_pct(_value_in(a, y1) / _value_in(a, y0) - 1, 1), firms=_fmt(_value_in(f, y1)),
                             per=_fmt(per[y1], 1), per0=_fmt(per[y0], 1))))
    out.append(f"<p><small>{_e(t(L, 'an_fin_note'))}</small></p>")
    _display_html("".join(out))


def pledge_by_district(ctx: ReportContext) -> None:
    """Pledge financing by district and year."""
    _display_html(district_years(ctx, ctx.plan.indicator("pledge_financing_amount")))


def geographical_indications(ctx: ReportContext) -> None:
    """Use of the GI mark by district: eligible and approved producers, the rate, output and households."""
    run_analyses(ctx, "geographical_indications")


def gi_use(ctx: ReportContext) -> None:
    """Use of the GI mark by district in the last complete year, with output and households."""
    L = ctx.lang
    out = [_heading(ctx, "an_gi_use")]
    rate = ctx.plan.indicator("gi_mark_usage_rate")
    output, households = ctx.plan.indicator("gi_enterprise_output"), ctx.plan.indicator("gi_households")
    years = [y for y in zone_years(ctx) if y < ctx.quarter.year or ctx.quarter.q == 4] or zone_years(ctx)
    year = years[-1]
    rows, rates, none = [], {}, []
    for g in [ctx.geos.city, *ctx.geos.districts]:
        r = yearly(series(ctx, rate, g), rate)
        den, num = _value_in(r, year, "denominator"), _value_in(r, year, "numerator")
        if not g.is_city and not (den > 0):
            none.append(g.name(L))
            continue
        rates[g.code] = num / den * 100 if den else np.nan
        o = yearly(series(ctx, output, g), output)
        hh = yearly(series(ctx, households, g), households)
        rows.append((g, [_e(g.name(L)), _e(_fmt(den)), _e(_fmt(num)), _e(_fmt(rates[g.code], 1)),
                         _bar(rates[g.code], 100, "#1a7f37" if rates[g.code] >= rate.target.value else "#f0a020"),
                         _e(_fmt(_value_in(o, year), 1)), _e(_fmt(_value_in(hh, year)))]))
    head = [t(L, "an_district"), rate.denominator_zh if L == "zh" else rate.denominator_en,
            rate.numerator_zh if L == "zh" else rate.numerator_en, f"{rate.name(L)} (%)", "",
            f"{output.name(L)} ({output.unit(L)})", f"{households.name(L)} ({households.unit(L)})"]
    highlight = next((n for n, (g, _) in enumerate(rows) if g.code == ctx.geography.code and not g.is_city), None)
    out.append(f"<p>{_e(t(L, 'an_gi_year', year=year))}</p>")
    out.append(table(head, [r for _, r in rows], highlight))
    districts = {c: v for c, v in rates.items() if c != ctx.geos.city.code and np.isfinite(v)}
    if districts:
        hi, lo = max(districts, key=districts.get), min(districts, key=districts.get)
        below = [ctx.geos.get(c).name(L) for c, v in districts.items() if v < rate.target.value]
        out.append(finding(t(L, "an_gi", year=year, n=len(districts), hi=ctx.geos.get(hi).name(L),
                             hi_rate=_fmt(districts[hi], 1), lo=ctx.geos.get(lo).name(L), lo_rate=_fmt(districts[lo], 1),
                             target=_fmt(rate.target.value), k=len(below),
                             below=("、" if L == "zh" else ", ").join(below) or t(L, "none"))))
    if none:
        out.append(finding(t(L, "an_gi_none", who=("、" if L == "zh" else ", ").join(none))))
    _display_html("".join(out))


def innovation(ctx: ReportContext) -> None:
    """High-value patents per 10,000 people by district, and the growth of the patent stock."""
    run_analyses(ctx, "innovation")


def patents_by_district(ctx: ReportContext) -> None:
    """High-value patents per 10,000 people and valid invention patents by district and year."""
    out = [_heading(ctx, "an_inn")]
    out.append(district_years(ctx, ctx.plan.indicator("high_value_patents_per_10k")))
    out.append(district_years(ctx, ctx.plan.indicator("valid_invention_patents")))
    _display_html("".join(out))


def section_years(ctx: ReportContext) -> None:
    """Every indicator of the page's section year by year, with growth (:func:`year_by_year`)."""
    _display_html(f"<h3>{_e(t(ctx.lang, 'an_year_by_year'))}</h3>"
                  + year_by_year(ctx, list(ctx.plan.indicators_in(ctx.section))))


def international(ctx: ReportContext) -> None:
    """Madrid registrations by district; the city's foreign-related guidance and warnings by year."""
    run_analyses(ctx, "international")


def madrid_by_district(ctx: ReportContext) -> None:
    """Madrid international trademark registrations by district and year."""
    _display_html(_heading(ctx, "an_intl") + district_years(ctx, ctx.plan.indicator("madrid_registrations")))


def governance(ctx: ReportContext) -> None:
    """Meetings of every government against 2 a year; the police liaison coverage; publicity by district."""
    run_analyses(ctx, "governance")


def deployment_meetings(ctx: ReportContext) -> None:
    """Every government's deployment meetings by year against the plan's number a year."""
    L = ctx.lang
    out = [_heading(ctx, "an_gov")]
    meetings = ctx.plan.indicator("deployment_meetings")
    years = zone_years(ctx)
    rows, short = [], []
    for g in ctx.geos.all:
        y = yearly(series(ctx, meetings, g), meetings)
        vals = [_value_in(y, yr) for yr in years]
        done = [v >= meetings.target.value for v in vals[:-1] if np.isfinite(v)] if ctx.quarter.q < 4 else \
            [v >= meetings.target.value for v in vals if np.isfinite(v)]
        if not all(done):
            short.append(g.name(L))
        rows.append([_e(g.name(L))] + [_e(_fmt(v)) for v in vals])
    highlight = next((n for n, g in enumerate(ctx.geos.all) if g.code == ctx.geography.code), None)
    out.append(f"<h4>{_e(meetings.name(L))}</h4>")
    out.append(table([t(L, "an_district")] + [year_label(ctx, meetings, y) for y in years], rows, highlight))
    out.append(finding(t(L, "an_gov_meetings", n=len(rows), k=len(rows) - len(short), target=_fmt(meetings.target.value),
                         who=("、" if L == "zh" else ", ").join(short) or t(L, "none"))))
    _display_html("".join(out))


def police_liaison(ctx: ReportContext) -> None:
    """Which districts had a police liaison in the latest period with data."""
    L = ctx.lang
    out = []
    cover = ctx.plan.indicator("police_liaison_coverage")
    latest = ctx.frame[(ctx.frame["indicator_id"] == cover.id) & (ctx.frame["qindex"] <= ctx.quarter.index)]
    if len(latest):
        latest = latest[latest["qindex"] == latest["qindex"].max()]
        missing = [ctx.geos.get(c).name(L) for c, n in zip(latest["geography_code"], latest["numerator"])
                   if c != ctx.geos.city.code and not n > 0]
        out.append(finding(t(L, "an_gov_police", q=latest["period"].iloc[0], k=len(ctx.geos.districts) - len(missing), n=len(ctx.geos.districts),
                             who=("、" if L == "zh" else ", ").join(missing) or t(L, "none"))))
    _display_html("".join(out))


def publicity_by_district(ctx: ReportContext) -> None:
    """Publicity events by district and year."""
    _display_html(district_years(ctx, ctx.plan.indicator("publicity_events")))


#: Each section's analyses, in the order its notebook shows them (a heading and one call per analysis):
#: the notebooks and :func:`run_analyses` read this one list, and tests/test_notebooks.py holds them to it.
ANALYSES: dict[str, tuple] = {
    "enforcement": (admin_cases, ruling_cycle, pace),
    "judicial": (mediation_funnel, mediation_by_district, pace),
    "financing": (pledge_financing, pace, pledge_by_district),
    "geographical_indications": (gi_use,),
    "innovation": (patents_by_district, section_years),
    "international": (madrid_by_district, section_years, pace),
    "governance": (deployment_meetings, police_liaison, publicity_by_district, pace),
}


def run_analyses(ctx: ReportContext, section: str) -> None:
    """Every analysis of ``section``, in order (what its notebook shows cell by cell)."""
    for analysis in ANALYSES[section]:
        analysis(ctx)
