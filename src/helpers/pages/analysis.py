"""Each section's own analysis: what its notebook shows beyond the shared parts of a report.

Each plan section has its analyses (:data:`ANALYSES`), one public function each, which that section's
notebook calls one cell at a time (``enforcement(ctx)`` and the other section names run them all); their
building blocks are in :mod:`helpers.pages.analysis_blocks`. Each renders tables computed from the validated
data (the same series the assessments use, :func:`helpers.data.series.indicator_series`) and findings written from
templates in :mod:`helpers.i18n` filled with the numbers, in Chinese or English; never free text.
Tables, not pictures: a report kernel draws nothing (the charts are drawn once per run by
:mod:`helpers.pages.charts`), and the numbers can be read, copied and searched.
"""

from __future__ import annotations

import numpy as np

from helpers.i18n import t
from helpers.pages import numbers as nb
from helpers.pages.analysis_blocks import (  # noqa: F401 - the building blocks, importable from here as before
    series,
    yearly,
    year_label,
    zone_years,
    by_district,
    _value_in,
    _bar,
    table,
    finding,
    _pct,
    _heading,
    district_years,
    pace_needed,
    here_yearly,
    _city_or_here,
    year_by_year,
)
from helpers.pages.sections import ReportContext, _display_html, _e, _fmt
from helpers.pages.notes import quarter_label
from helpers.plan.registry import Target


def _needs(*indicator_ids):
    """An analysis written for the indicators it names (the Hangzhou plan's). Another plan that
    reuses the section's notebook without them (the national plan's sections) gets the generic
    analysis instead, once per page: each of the page's indicators year by year, from the same
    series, with the pace its totals need."""
    from functools import wraps

    def wrap(fn):
        @wraps(fn)
        def run(ctx: ReportContext) -> None:
            if all(i in ctx.plan.by_id for i in indicator_ids):
                return fn(ctx)
            if not ctx.__dict__.get("_generic_shown"):  # one generic table for the page, not one per cell
                ctx.__dict__["_generic_shown"] = True
                _display_html(f"<h3>{_e(t(ctx.lang, 'an_year_by_year'))}</h3>"
                              + year_by_year(ctx, ctx.indicators))
        return run
    return wrap


def _target(ind) -> Target:
    """The target of an indicator an analysis below is written for: the plan gives each of them one."""
    assert ind.target is not None, f"{ind.id} has no target"
    return ind.target


# --------------------------------------------------------------------------- the sections


def enforcement(ctx: ReportContext) -> None:
    """Administrative cases by quarter and district; the ruling cycle's distribution against 50 days."""
    run_analyses(ctx, "enforcement")


@_needs("admin_cases")
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
                         [[_e(quarter_label(p, L)), _e(_fmt(v)), _bar(v, top)] for p, v in zip(s["period"], s["value"])]))
        zone = series(ctx, cases, ctx.geography)
        total = zone.loc[zone["qindex"] >= ctx.plan.zone_start.index, "value"].sum()
        if ctx.geography.is_city or _target(cases).binds == "each_district":
            out.append(finding(t(L, "an_enf_total", who=ctx.geography.name(L), q=quarter_label(ctx.quarter, L), total=_fmt(total),
                                 target=_fmt(_target(cases).value), share=_pct(total / _target(cases).value))))
        else:  # the target is the city's: a district's total is shown for reference, never against it
            out.append(finding(t(L, "an_enf_total_ref", who=ctx.geography.name(L), q=quarter_label(ctx.quarter, L),
                                 total=_fmt(total))))
    _display_html("".join(out))


@_needs("ruling_cycle_days")
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
    limit = _target(ind).value
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
                          when=quarter_label(rows["period"].iloc[worst], L))))
    return "".join(html)


def judicial(ctx: ReportContext) -> None:
    """The mediation funnel (cases handled, concluded, settled) by year and the success rate by district."""
    run_analyses(ctx, "judicial")


@_needs("mediation_success_rate", "mediation_cases")
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


@_needs("mediation_success_rate")
def mediation_by_district(ctx: ReportContext) -> None:
    """The mediation success rate by district and year."""
    _display_html(district_years(ctx, ctx.plan.indicator("mediation_success_rate")))


def financing(ctx: ReportContext) -> None:
    """Pledge financing: amount, enterprises, amount per enterprise and growth; totals against the pace needed."""
    run_analyses(ctx, "financing")


@_needs("pledge_financing_amount", "pledge_financing_enterprises")
def pledge_financing(ctx: ReportContext) -> None:
    """Pledge financing here by year: amount, enterprises, amount per enterprise and growth."""
    from helpers.pages.published import published_growth

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
        pub = published_growth(ctx.settings.root, amount.id, ctx.geography.code, y)  # the release's 55.3%, not ours
        shown = f"◆ {_pct(pub, 1)}" if pub is not None else _pct(growth, 1)
        rows.append([_e(year_label(ctx, amount, y)), _e(_fmt(va, 1)), _e(_fmt(vf)), _e(_fmt(per[y], 1)), _e(shown)])
    out.append(table([t(L, "an_year"), f"{amount.name(L)} ({amount.unit(L)})", f"{firms.name(L)} ({firms.unit(L)})",
                      t(L, "an_per_firm"), t(L, "an_yoy")], rows))
    full = [y for y in years if _value_in(a, y, "periods") >= 4]
    if len(full) >= 2:
        y1, y0 = full[-1], full[-2]
        out.append(finding(t(L, "an_fin", who=ctx.geography.name(L), year=y1, amount=_fmt(_value_in(a, y1), 1),
                             growth=_pct(pub1 if (pub1 := published_growth(ctx.settings.root, amount.id,
                                                   ctx.geography.code, y1)) is not None
                                         else nb.growth(_value_in(a, y1), _value_in(a, y0)), 1),
                             firms=_fmt(_value_in(f, y1)),
                             per=_fmt(per[y1], 1), per0=_fmt(per[y0], 1))))
    out.append(f"<p><small>{_e(t(L, 'an_fin_note'))}</small></p>")
    _display_html("".join(out))


@_needs("pledge_financing_amount")
def pledge_by_district(ctx: ReportContext) -> None:
    """Pledge financing by district and year."""
    _display_html(district_years(ctx, ctx.plan.indicator("pledge_financing_amount")))


def geographical_indications(ctx: ReportContext) -> None:
    """Use of the GI mark by district: eligible and approved producers, the rate, output and households."""
    run_analyses(ctx, "geographical_indications")


@_needs("gi_mark_usage_rate", "gi_enterprise_output", "gi_households")
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
                         _bar(rates[g.code], 100, "#1a7f37" if rates[g.code] >= _target(rate).value else "#f0a020"),
                         _e(_fmt(_value_in(o, year), 1)), _e(_fmt(_value_in(hh, year)))]))
    head = [t(L, "an_district"), rate.denominator_zh if L == "zh" else rate.denominator_en,
            rate.numerator_zh if L == "zh" else rate.numerator_en, f"{rate.name(L)} (%)", "",
            f"{output.name(L)} ({output.unit(L)})", f"{households.name(L)} ({households.unit(L)})"]
    highlight = next((n for n, (g, _) in enumerate(rows) if g.code == ctx.geography.code and not g.is_city), None)
    out.append(f"<p>{_e(t(L, 'an_gi_year', year=year))}</p>")
    out.append(table(head, [r for _, r in rows], highlight))
    districts = {c: v for c, v in rates.items() if c != ctx.geos.city.code and np.isfinite(v)}
    if districts:
        hi, lo = max(districts, key=lambda c: districts[c]), min(districts, key=lambda c: districts[c])
        below = [ctx.geos.get(c).name(L) for c, v in districts.items() if v < _target(rate).value]
        out.append(finding(t(L, "an_gi", year=year, n=len(districts), hi=ctx.geos.get(hi).name(L),
                             hi_rate=_fmt(districts[hi], 1), lo=ctx.geos.get(lo).name(L), lo_rate=_fmt(districts[lo], 1),
                             target=_fmt(_target(rate).value), k=len(below),
                             below=("、" if L == "zh" else ", ").join(below) or t(L, "none"))))
    if none:
        out.append(finding(t(L, "an_gi_none", who=("、" if L == "zh" else ", ").join(none))))
    _display_html("".join(out))


def innovation(ctx: ReportContext) -> None:
    """High-value patents per 10,000 people by district, and the growth of the patent stock."""
    run_analyses(ctx, "innovation")


@_needs("high_value_patents_per_10k", "valid_invention_patents")
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


@_needs("madrid_registrations")
def madrid_by_district(ctx: ReportContext) -> None:
    """Madrid international trademark registrations by district and year."""
    _display_html(_heading(ctx, "an_intl") + district_years(ctx, ctx.plan.indicator("madrid_registrations")))


def governance(ctx: ReportContext) -> None:
    """Meetings of every government against 2 a year; the police liaison coverage; publicity by district."""
    run_analyses(ctx, "governance")


@_needs("deployment_meetings")
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
        done = [v >= _target(meetings).value for v in vals[:-1] if np.isfinite(v)] if ctx.quarter.q < 4 else \
            [v >= _target(meetings).value for v in vals if np.isfinite(v)]
        if not all(done):
            short.append(g.name(L))
        rows.append([_e(g.name(L))] + [_e(_fmt(v)) for v in vals])
    highlight = next((n for n, g in enumerate(ctx.geos.all) if g.code == ctx.geography.code), None)
    out.append(f"<h4>{_e(meetings.name(L))}</h4>")
    out.append(table([t(L, "an_district")] + [year_label(ctx, meetings, y) for y in years], rows, highlight))
    out.append(finding(t(L, "an_gov_meetings", n=len(rows), k=len(rows) - len(short), target=_fmt(_target(meetings).value),
                         who=("、" if L == "zh" else ", ").join(short) or t(L, "none"))))
    _display_html("".join(out))


@_needs("police_liaison_coverage")
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


@_needs("publicity_events")
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
