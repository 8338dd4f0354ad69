"""What the section notebooks call: each function renders one part of a report.

Notebooks hold a ``parameters`` cell and calls into this module and :mod:`helpers.pages.analysis`,
nothing else: one opening call (:func:`open_page`), then one call per part. The page's context is
loaded from its report input by :mod:`helpers.pages.context` (loading apart from rendering); in a run
the executor has computed every assessment and chart once, so a page only reads and renders.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.i18n import DECIDED_BY, SDG_NAMES, STATUS_NAMES, t
from helpers.pages.context import (  # noqa: F401 - loading lives there; notebooks and analysis import it from here
    ReportContext,
    context_from_input,
    load_context,
    open_context,
)
from helpers.pages.display import _display_html, _e, _fmt, _show
from helpers.pages.section_published import _published_here, published_figures  # noqa: F401 - a part of the page, called from here
from helpers.pages.stage import period_label, section_status_counts, stage_banner  # noqa: F401 - re-exported
from helpers.plan.registry import OVERVIEW
from helpers.plan.tasks import ref_en



def open_page(**parameters) -> ReportContext:
    """The opening every page shares, in one call: the context (:func:`open_context`, same parameters), then
    the header, the targets at a glance (:func:`headline_table`) and what changed since the last published run
    (:func:`changes_since_last_run`). Returns the context for the page's own parts."""
    ctx = open_context(**parameters)
    header(ctx)
    headline_table(ctx)
    changes_since_last_run(ctx)
    return ctx


# --------------------------------------------------------------------------- parts of the page

def plan_reference(plan, lang: str) -> str:
    """The plan's document number, issuer and validity, as one line (shown on every page)."""
    from helpers.pages.notes import date_label  # 2023年11月23日 on a Chinese page, never 2023-11-23

    m = plan.meta
    since, until = date_label(m.get("in_force_from", ""), lang), date_label(m.get("in_force_until", ""), lang)
    validity = t(lang, "plan_validity", since=since, until=until) if since and until else ""
    return t(lang, "plan_reference", number=m.get("document_number", ""), title=plan.title(lang),
             issuer=m.get(f"issuer_{lang}", m.get("issuer_zh", "")), issued=date_label(m.get("issued", ""), lang),
             validity=validity)


def header(ctx: ReportContext) -> None:
    """Title, geography, quarter, the plan's document number and validity, and (for demo data) the banner."""
    L = ctx.lang
    parts = []
    if ctx.demo:
        from helpers.pages.notes import dates_in_text  # 2025年4月23日 on a Chinese page, not 2025-04-23

        sources = sorted({dates_in_text(x, L) for x in ctx.published["source"]}) \
            if ctx.published is not None and len(ctx.published) else []
        text = t(L, "demo_banner")
        if sources:
            text += t(L, "demo_banner_published", sources="；".join(sources) if L == "zh" else "; ".join(sources))
        parts.append(f'<div class="ipeval-demo-banner" style="background:#fff3cd;border:2px solid #d39e00;'
                     f'padding:8px 12px;font-weight:bold;color:#7a5200">{_e(text)}</div>')
    title = t(L, "report_title", plan=ctx.plan.title(L), section=ctx.section_name())
    parts.append(f"<h1>{_e(title)}</h1>")
    colon, left, right = ("：", "（", "）") if L == "zh" else (": ", " (", ")")  # 地区：杭州市（330100）
    parts.append(f"<p><b>{_e(t(L, 'geography'))}</b>{colon}{_e(ctx.geography.name(L))}{left}{_e(ctx.geography.code)}{right}"
                 f" · <b>{_e(t(L, 'quarter'))}</b>{colon}{_e(period_label(ctx.quarter, L))}</p>")
    parts.append(f'<p class="ipeval-plan-ref">{_e(plan_reference(ctx.plan, L))}</p>')
    parts.append(stage_banner(ctx.plan, ctx.quarter, ctx.assessments, ctx.geography, L))
    _display_html("\n".join(parts))


def _rows(ctx: ReportContext, geography_code: str | None = None) -> pd.DataFrame:
    code = geography_code or ctx.geography.code
    ids = [i.id for i in ctx.indicators]
    a = ctx.assessments
    rows = a[(a["geography_code"] == code) & (a["indicator_id"].isin(ids))]
    return rows.set_index("indicator_id").reindex([i for i in ids if i in set(rows["indicator_id"])])


def status_badge(status: str, lang: str) -> str:
    from helpers.i18n import STATUS_COLOURS

    colour = STATUS_COLOURS.get(status, "#999")
    return (f'<span class="status status-{_e(status)}" style="background:{colour};color:white;padding:1px 6px;'
            f'border-radius:3px;white-space:nowrap">{_e(STATUS_NAMES[lang].get(status, status))}</span>')


def _settled_text(r, lang: str) -> str:
    """When the data settled the target (and whether early), under the status badge."""
    when = r.get("settled_on")
    if not isinstance(when, str) or not when:
        return ""
    early = f"{t(lang, 'early')}, " if str(r.get("early")).lower() == "true" else ""
    return f"<br><small>{_e(early)}{_e(t(lang, 'settled_on'))} {_e(period_label(when, lang))}</small>"


def headline_table(ctx: ReportContext) -> None:
    """The section's headline table: value, target and due date, gap, probability, status, category."""
    rows = _rows(ctx)
    L = ctx.lang
    if rows.empty:
        _display_html(f"<p>{_e(t(L, 'no_rows'))}</p>")
        return
    head = ["indicator", "latest", "progress", "target", "due", "gap", "probability", "forecast", "status", "sdg_category"]
    from helpers.model.assess import assessment_stage

    # the final assessment (终期评估) speaks of completion: no probability or forecast columns
    final = assessment_stage(ctx.plan, ctx.quarter) == "final"
    keep = [h not in ("probability", "forecast") for h in head] if final else [True] * len(head)
    out = [f"<h2>{_e(t(L, 'headline'))}</h2>", '<table class="ipeval-headline"><thead><tr>']
    out += [f"<th>{_e(t(L, 'progress_final' if final and h == 'progress' else h))}</th>"
            for h, k in zip(head, keep) if k] + ["</tr></thead><tbody>"]
    for ind_id, r in rows.iterrows():
        ind = ctx.plan.indicator(ind_id)
        tgt = ind.target
        from helpers.pages.numbers import fmt_number
        from helpers.pages.standard import judged_gap

        u = ind.unit(L)
        target_txt = f"{tgt.symbol}{fmt_number(tgt.value, u)} {u}" if tgt else "—"
        if r["status"] == "reference":  # the plan's number is the city's, not this district's
            target_txt = t(L, "city_target_prefix") + target_txt
        prob = r["probability"]
        prob_txt = f"{prob * 100:.0f}%" if np.isfinite(prob) else "—"
        fc = "—"
        if np.isfinite(r.get("forecast_median", np.nan)):
            fc = f"{_fmt(r['forecast_median'])} [{_fmt(r['forecast_lo80'])}, {_fmt(r['forecast_hi80'])}]"
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c, k in zip([
            _e(ind.name(L)),
            f"{_e(fmt_number(r['latest_value'], u))} <small>({_e(period_label(r['latest_period'], L))})</small>",
            _e(fmt_number(r["progress_value"], u)),
            _e(target_txt),
            _e(period_label(r["due"], L) if isinstance(r["due"], str) and r["due"] else "—"),
            # a reference row has no gap; a miss never shows 0 (helpers.pages.standard.judged_gap)
            _e(fmt_number(judged_gap(ind, r.to_dict(), ctx.frame, ctx.geography, ctx.geos, ctx.quarter), u)),
            _e(prob_txt),
            _e(fc),
            status_badge(r["status"], L) + _settled_text(r, L),
            _e(SDG_NAMES[L].get(r["sdg_category"], r["sdg_category"])),
        ], keep) if k) + "</tr>")
    out.append("</tbody></table>")
    if ctx.section == "overview":  # the standard 指标完成情况一览表 (helpers.pages.standard)
        from helpers.pages.standard import standard_html

        out.append(standard_html(ctx))
    _display_html("\n".join(out))


def section_summary(ctx: ReportContext) -> None:
    """The overview's middle part: per section, how many targets are in each status, with a link
    to the section's report for this geography (the per-indicator charts live there), and the
    same counts as a chart (drawn by the run's chart step, or here when run on its own)."""
    from helpers.pages import chartfiles, charts

    L = ctx.lang
    rows = section_status_counts(ctx.plan, ctx.assessments, ctx.geography)
    _display_html(f"<h2>{_e(t(L, 'sections_title'))}</h2>")
    if not rows:
        _display_html(f"<p>{_e(t(L, 'no_rows'))}</p>")
        return
    statuses = list(rows[0][2])
    head = [t(L, "section"), t(L, "targets")] + [STATUS_NAMES[L][s] for s in statuses] + [t(L, "mean_probability")]
    if ctx.run_dir:
        head.append(t(L, "open_report"))
    out = ['<table class="ipeval-headline"><thead><tr>'] + [f"<th>{_e(h)}</th>" for h in head] + ["</tr></thead><tbody>"]
    for sec, n, counts, mean_p in rows:
        cells = [_e(sec.name(L)), str(n)] + [str(counts[s]) for s in statuses]
        cells.append(_e(f"{mean_p * 100:.0f}%") if np.isfinite(mean_p) else "—")
        if ctx.run_dir:  # the published layout: reports/<section>/<code>.report.html
            href = f"../{sec.id}/{ctx.geography.code}.report.html"
            cells.append(f'<a href="{_e(href)}">{_e(sec.name(L))}</a>')
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append(f"</tbody></table><p>{_e(t(L, 'overview_charts_note'))}</p>")
    _display_html("".join(out))
    if not chartfiles.show_chart(ctx.run_dir, charts.OVERVIEW_CHART, ctx.geography.code, t(L, "sections_chart")):
        _show(charts.draw(charts.sections_spec(ctx.plan, ctx.assessments, ctx.geography, L)))


def indicator_charts(ctx: ReportContext) -> None:
    """One chart per indicator, with its methods note, clause and interpretation underneath.

    In a run the chart step has drawn every chart already (``<run>/charts``): the page embeds
    that PNG and the kernel draws nothing. On its own (no run folder) the report draws the same
    chart from the same specification (:mod:`helpers.pages.charts`).
    """
    from helpers.pages import chartfiles, charts

    L = ctx.lang
    _display_html(f"<h2>{_e(t(L, 'charts'))}</h2>")
    rows = _rows(ctx)
    published = _published_here(ctx)
    published_ids = set(published["indicator_id"])
    for ind in ctx.indicators:
        if ind.id not in rows.index:
            continue
        r = rows.loc[ind.id].to_dict()
        if not chartfiles.show_chart(ctx.run_dir, ind.id, ctx.geography.code,
                                     chartfiles.chart_title(ctx.run_dir, ind.id, ctx.geography.code)
                                     or charts.chart_labels(ind, L)["title"]):
            _show(charts.draw(charts.chart_spec(ctx.frame, ctx.plan, ind, ctx.geography, ctx.geos, ctx.quarter, r,
                                                ctx.bands, L, ctx.published)))
        from helpers.pages.notes import models_label, note_label

        note = t(L, "methods_note", models=models_label(r.get("models_used"), L),
                 decided=DECIDED_BY[L].get(r.get("decided_by") or "", r.get("decided_by")),
                 note=note_label(r.get("note"), L))
        clause = (f"{ind.clause_ref}：“{ind.clause_text}”" if L == "zh"
                  else f"Plan {ref_en(ind.clause_ref)}: “{ind.clause_text}”")
        interpretation = ind.interpretation_text(L)
        interp = f"<br><i>{_e(t(L, 'interpretation'))}{_e(interpretation)}</i>" if interpretation else ""
        from helpers.pages.notes import dates_in_text
        from helpers.pages.published import value_cell  # a ceiling as ≤50, as the release says 50日内

        colon, left, right = ("：", "（", "）") if L == "zh" else (": ", "(", ")")  # 2024年第四季度：62.6 件/万人（…）
        pub = ""
        # most indicators have no published figure: no filter and no iterrows (which builds the frame's
        # values first) for them, 0.5 ms each (2026-12-06)
        if ind.id in published_ids:
            mine = published[published["indicator_id"] == ind.id]
            pub = "".join(f'<br><span class="ipeval-published">◆ {_e(t(L, "published_marker"))}</span> '
                          f'{_e(period_label(p["period"], L))}{colon}'
                          f'{_e(value_cell(ctx.settings.root, ind.id, p["period"], _fmt(p["value"], 1)))} '
                          f'{_e(ind.unit(L))}{left}{_e(dates_in_text(p["source"], L))}{right}'
                          for _, p in mine.iterrows())
        _display_html(f'<p class="ipeval-methods"><small>{_e(note)}<br>{_e(clause)}{interp}{pub}</small></p>')


def district_comparison(ctx: ReportContext) -> None:
    """The geography against the city and the other districts, as one table coloured by status.

    Rows are the section's indicators that districts report, columns the city and the 13
    districts. A cell's colour is its status and its number the probability of meeting the target;
    where the plan sets the target for the city as a whole (counts summed over districts), the
    number is instead the district's share of the city's figure. A district report highlights its
    own column and ranks it among the districts. An HTML table rather than a picture: the numbers
    can be read, copied and searched, and the colours have a legend.
    """
    from helpers.i18n import STATUS_COLOURS
    from helpers.model.assess import STATUSES

    L = ctx.lang
    inds = [i for i in ctx.indicators if not i.city_only]
    _display_html(f"<h2>{_e(t(L, 'comparison'))}</h2>")
    if not inds:
        _display_html(f"<p>{_e(t(L, 'none'))}</p>")
        return
    geos = list(ctx.geos.all)
    city = ctx.geos.city.code
    here = None if ctx.geography.is_city else ctx.geography.code
    a = ctx.assessments
    a = a[a["indicator_id"].isin([i.id for i in inds])]
    # each row once as a dict, not `.loc` on a MultiIndex per cell (up to 14 x 14 lookups, 5 ms of a page's
    # 7 ms here, 2026-12-06); the numbers are the same doubles, formatted the same
    rows = {(r["indicator_id"], r["geography_code"]): r
            for r in a[["indicator_id", "geography_code", "status", "probability", "progress_value",
                        "latest_value"]].to_dict("records")}
    head = [t(L, "indicator")] + [g.name(L) for g in geos] + ([t(L, "rank")] if here else [])
    out = [f"<p>{_e(t(L, 'comparison_note'))}</p>", '<table class="ipeval-compare"><thead><tr>']
    for n, h in enumerate(head):
        mark = ' class="ipeval-here"' if here and n and n <= len(geos) and geos[n - 1].code == here else ""
        out.append(f"<th{mark}>{_e(h)}</th>")
    out.append("</tr></thead><tbody>")
    seen = set()
    for ind in inds:
        cells = [f"<td>{_e(ind.name(L))}</td>"]
        shown = "progress_value" if ind.target else "latest_value"  # a trend has no progress toward a target
        city_value = rows[(ind.id, city)][shown] if (ind.id, city) in rows else np.nan
        ranked = {}
        for g in geos:
            key = (ind.id, g.code)
            if key not in rows:
                cells.append('<td class="ipeval-na">—</td>')
                continue
            r = rows[key]
            status = r["status"]
            seen.add(status)
            value = r[shown]
            share = ind.aggregation == "sum" and (status in ("reference", "no_target")) and g.code != city
            if share:
                text = f"{value / city_value * 100:.0f}%" if np.isfinite(value) and city_value > 0 else "—"
            elif status in ("no_target", "reference"):
                text = _fmt(value)
            else:
                p = r["probability"]
                text = f"{p * 100:.0f}%" if np.isfinite(p) else "—"
            if g.code != city and np.isfinite(value):
                ranked[g.code] = value
            fg = "#263238" if status == "reference" else "#ffffff"
            mark = " ipeval-here" if g.code == here else ""
            cells.append(f'<td class="status-{_e(status)}{mark}" style="background:{STATUS_COLOURS.get(status, "#999")};'
                         f'color:{fg}" title="{_e(STATUS_NAMES[L].get(status, status))}">{_e(text)}</td>')
        if here:
            lower_better = bool(ind.target and ind.target.direction == "at_most")
            from helpers.pages.numbers import shared_ranks

            codes = list(ranked)  # equal values share the better rank (13 districts at 100% all rank 1)
            rank = dict(zip(codes, shared_ranks([ranked[c] for c in codes], higher_is_better=not lower_better)))
            cells.append(f"<td>{rank[here]}/{len(codes)}</td>" if here in ranked else "<td>—</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    legend = [f'<span style="background:{STATUS_COLOURS[s]};color:{"#263238" if s == "reference" else "#fff"};'
              f'padding:1px 6px;margin-right:6px;border-radius:3px">{_e(STATUS_NAMES[L][s])}</span>'
              for s in STATUSES if s in seen]
    out.append(f'<p class="ipeval-legend">{"".join(legend)}</p>')
    if here:
        out.append(f"<p><small>{_e(t(L, 'rank_note'))}</small></p>")
    _display_html("".join(out))


def data_quality(ctx: ReportContext) -> None:
    """Missing periods, values not yet reported, revised values and outliers, per indicator."""
    from helpers.data.quality import quality_table
    from helpers.pages.notes import quarters_in_text  # 2025年第一季度, not 2025Q1, on a Chinese page

    L = ctx.lang
    q = quality_table(ctx.frame, ctx.indicators, ctx.geography, ctx.geos, ctx.quarter)
    out = [f"<h2>{_e(t(L, 'quality'))}</h2>", '<table class="ipeval-quality"><thead><tr>']
    out += [f"<th>{_e(t(L, k))}</th>" for k in ("indicator", "missing", "late", "revised", "outliers")]
    out.append("</tr></thead><tbody>")
    none = t(L, "none")
    for ind in ctx.indicators:
        r = q.get(ind.id, {})
        out.append("<tr>" + "".join(f"<td>{_e(x)}</td>" for x in [
            ind.name(L)] + [quarters_in_text(r.get(k) or none, L) for k in ("missing", "late", "revised", "outliers")])
            + "</tr>")
    out.append("</tbody></table>")
    _display_html("\n".join(out))


METHODOLOGY_DOC = "docs/methodology.md"
METHODOLOGY_PAGE = "docs/methodology.html"  # in a run folder (helpers.pages.report.write_methodology_page)


def methodology_href(ctx: ReportContext) -> str:
    """A link to the methodology that works where the page is opened.

    In a run the methodology is copied into the run folder (``<run>/docs/methodology.html``), so
    the link is relative and works from ``outputs/<quarter>``, from ``outputs/runs/...`` and from
    a copy of the run folder alike; a report run on its own links the project's file.
    """
    if ctx.run_dir and (Path(ctx.run_dir) / METHODOLOGY_PAGE).is_file():
        return "../../" + METHODOLOGY_PAGE  # pages sit at <run>/reports/<section>/<code>.report.html
    doc = Path(ctx.settings.root) / METHODOLOGY_DOC
    return doc.resolve().as_uri() if doc.is_file() else ""


def methods(ctx: ReportContext) -> None:
    """Where the method is written down (a link), and the thresholds in force."""
    th = ctx.settings.status
    href = methodology_href(ctx)
    label = "方法说明文档" if ctx.lang == "zh" else METHODOLOGY_DOC  # a Chinese page names no path
    link = f'<a href="{_e(href)}">{_e(label)}</a>' if href else _e(label)
    text = _e(t(ctx.lang, "methodology_link", on=int(th.on_track * 100), risk=int(th.at_risk * 100)))
    _display_html(f"<h2>{_e(t(ctx.lang, 'methods'))}</h2><p>" + text.replace(_e(label), link, 1) + "</p>")


def changes_since_last_run(ctx: ReportContext, limit: int = 12) -> None:
    """What moved here since the last published run, split by cause (the run's ``changes.csv``).

    The overview lists every target of the geography; a section report those of its section.
    Nothing is shown outside a run (no run folder) or before there is a run to compare with.
    """
    from helpers.model.assess import assessment_stage
    from helpers.pages.changes import change_rows, changes_html, completion_changes

    f = Path(ctx.run_dir) / "changes.csv" if ctx.run_dir else None
    if f is None or not f.is_file():
        return
    changes = pd.read_csv(f, dtype={"geography_code": str}, keep_default_na=False)
    ids = None if ctx.section == OVERVIEW else [i.id for i in ctx.indicators]
    final = assessment_stage(ctx.plan, ctx.quarter) == "final"
    rows = change_rows(changes, ctx.plan, ctx.geos, ctx.lang, limit=None if final else limit,
                       geography=ctx.geography.code, indicators=ids)
    if final:  # the final assessment speaks of completion: status changes, no probabilities
        rows = completion_changes(rows, limit)
    _display_html(changes_html(rows, ctx.lang, final=final))
