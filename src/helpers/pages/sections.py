"""What the section notebooks call: each function renders one part of a report.

Notebooks hold a ``parameters`` cell and calls into this module, nothing else. In a run the
executor has already computed every assessment once (``<run>/assessments.csv``), so a notebook
only reads tables and draws; run on its own (JupyterLab, plain ``papermill``) it computes what
it needs through the forecast cache.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.files import restore_frame
from helpers.i18n import DECIDED_BY, SDG_NAMES, STATUS_NAMES, t
from helpers.pages.stage import section_status_counts, stage_banner  # noqa: F401 - re-exported
from helpers.plan.geography import load_geographies
from helpers.plan.periods import Quarter
from helpers.plan.registry import OVERVIEW, load_plan
from helpers.settings import load_settings


@dataclass
class ReportContext:
    """Everything one report needs, loaded once per notebook."""

    plan: object
    geos: object
    settings: object
    frame: pd.DataFrame
    data_paths: tuple
    section: str
    geography: object
    quarter: Quarter
    lang: str
    assessments: pd.DataFrame
    bands: pd.DataFrame
    demo: bool
    run_dir: str = ""
    published: pd.DataFrame = None  # figures from publications (helpers.data.reference)

    @property
    def indicators(self):
        inds = self.plan.page_indicators(self.section)
        return [i for i in inds if self.geography.is_city or not i.city_only]

    def section_name(self) -> str:
        return self.plan.page_name(self.section, self.lang)


def _show(fig) -> None:
    """Embed a figure as a PNG (independent of the kernel's Matplotlib backend) and free it."""
    import io

    import matplotlib.pyplot as plt

    from helpers.pages.charts import CHART_DPI

    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()]
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI)
    plt.close(fig)
    _show_png(buf.getvalue(), " / ".join(titles))


def _show_png(data: bytes, alt: str) -> None:
    """Embed PNG bytes at the pages' display width, the chart's title as its alternative text."""
    from IPython.display import Image, display

    from helpers.pages.charts import DISPLAY_WIDTH

    display(Image(data=data, format="png", width=DISPLAY_WIDTH, metadata={"alt": alt or "chart"}))


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def open_context(section: str, geography: str, quarter: str, lang: str = "zh", settings_path: str = "",
                 data_path: str = "", registry_path: str = "", run_dir: str = "") -> ReportContext:
    """Load registry, geographies, data and assessments for one report.

    Parameters are the notebook's own; every one is checked (unknown section, geography or quarter
    raise an error naming the valid choices) before anything is read.
    """
    settings = load_settings(settings_path or None)
    plan = load_plan(registry_path or settings.plan_path)
    geos = load_geographies(settings.geographies_path)
    if section != OVERVIEW:
        plan.section(section)
    geo = geos.get(geography)
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    q = Quarter.parse(quarter)
    paths = [Path(p) for p in (data_path.split(",") if data_path else [str(settings.data_path)])]
    run = Path(run_dir) if run_dir else None
    if run and (run / "validated_data.csv").is_file():
        # validated by the runner before any notebook started
        frame = restore_frame(pd.read_csv(run / "validated_data.csv", dtype={"geography_code": str, "period": str,
                                                                             "source": str, "note": str},
                                          keep_default_na=False,
                                          na_values={c: [""] for c in ("value", "numerator", "denominator")}))
    else:
        from helpers.data.contract import (
            load_data,  # pandera is imported only where data are validated
        )

        frame = load_data(paths, plan, geos).frame
    if run and (run / "assessments.csv").is_file():
        table = restore_frame(pd.read_csv(run / "assessments.csv", dtype={"geography_code": str}))
        bands = pd.read_csv(run / "bands.csv", dtype={"geography_code": str}) if (run / "bands.csv").is_file() else pd.DataFrame()
    else:
        from helpers.model.assess import StatusThresholds, assess_all
        from helpers.model.forecast import ForecastSettings

        fs = ForecastSettings.from_mapping(settings.block("forecast"))
        th = StatusThresholds(**settings.block("status"))
        table, bands = assess_all(frame, plan, geos, q, fs, th, cache_dir=settings.outputs_path / ".cache" / "assess")
    text_cols = [c for c in table.columns if c in ("target_kind", "direction", "due", "latest_period", "status",
                                                    "sdg_category", "decided_by", "models_used", "models_dropped", "note",
                                                    "binds", "settled_on", "assessment_stage")]
    table[text_cols] = table[text_cols].astype(object).where(table[text_cols].notna(), "")
    demo = frame["source"].astype(str).str.startswith("DEMO").any()
    from helpers.data.reference import published_figures

    return ReportContext(plan, geos, settings, frame, tuple(map(str, paths)), section, geo, q, lang,
                         table, bands, bool(demo), run_dir, published_figures(settings.root))


# --------------------------------------------------------------------------- parts of the page

def plan_reference(plan, lang: str) -> str:
    """The plan's document number, issuer and validity, as one line (shown on every page)."""
    m = plan.meta
    return t(lang, "plan_reference", number=m.get("document_number", ""),
             issuer=m.get(f"issuer_{lang}", m.get("issuer_zh", "")), issued=m.get("issued", ""),
             since=m.get("in_force_from", ""), until=m.get("in_force_until", ""))


def _published_here(ctx: ReportContext) -> pd.DataFrame:
    """The published figures of this page's indicators for this geography, known at the quarter."""
    p = ctx.published
    if p is None or not len(p):
        return pd.DataFrame(columns=["indicator_id", "period", "value", "source", "note"])
    from helpers.pages.charts import _period_index

    ids = {i.id for i in ctx.indicators}
    p = p[p["indicator_id"].isin(ids) & (p["geography_code"] == ctx.geography.code)]
    return p.loc[np.array([_period_index(x) <= ctx.quarter.index for x in p["period"]], dtype=bool)]


def header(ctx: ReportContext) -> None:
    """Title, geography, quarter, the plan's document number and validity, and (for demo data) the banner."""
    L = ctx.lang
    parts = []
    if ctx.demo:
        sources = sorted(set(ctx.published["source"])) if ctx.published is not None and len(ctx.published) else []
        text = t(L, "demo_banner")
        if sources:
            text += t(L, "demo_banner_published", sources="；".join(sources) if L == "zh" else "; ".join(sources))
        parts.append(f'<div class="ipeval-demo-banner" style="background:#fff3cd;border:2px solid #d39e00;'
                     f'padding:8px 12px;font-weight:bold;color:#7a5200">{_e(text)}</div>')
    title = t(L, "report_title", plan=ctx.plan.title(L), section=ctx.section_name())
    parts.append(f"<h1>{_e(title)}</h1>")
    parts.append(f"<p><b>{_e(t(L, 'geography'))}</b>: {_e(ctx.geography.name(L))} ({_e(ctx.geography.code)}) · "
                 f"<b>{_e(t(L, 'quarter'))}</b>: {_e(ctx.quarter)}</p>")
    parts.append(f'<p class="ipeval-plan-ref">{_e(plan_reference(ctx.plan, L))}</p>')
    parts.append(stage_banner(ctx.plan, ctx.quarter, ctx.assessments, ctx.geography, L))
    _display_html("\n".join(parts))


def published_figures(ctx: ReportContext) -> None:
    """The page's figures that come from a publication, with their source (real, not generated)."""
    p = _published_here(ctx)
    if p.empty:
        return
    L = ctx.lang
    out = [f"<h2>{_e(t(L, 'published_title'))}</h2><p>{_e(t(L, 'published_note'))}</p>",
           '<table class="ipeval-analysis ipeval-text"><thead><tr>']
    out += [f"<th>{_e(t(L, k))}</th>" for k in ("indicator", "period", "published_value", "source", "published_says")]
    out.append("</tr></thead><tbody>")
    for _, r in p.iterrows():
        ind = ctx.plan.indicator(r["indicator_id"])
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in [
            _e(ind.name(L)), _e(r["period"]),
            f'<span class="ipeval-published">◆ {_e(_fmt(r["value"], 1))} {_e(ind.unit(L))}</span>',
            _e(r["source"]), _e(r["says"] if L == "zh" else r["note"])]) + "</tr>")
    out.append("</tbody></table>")
    _display_html("".join(out))


def _rows(ctx: ReportContext, geography_code: str | None = None) -> pd.DataFrame:
    code = geography_code or ctx.geography.code
    ids = [i.id for i in ctx.indicators]
    a = ctx.assessments
    rows = a[(a["geography_code"] == code) & (a["indicator_id"].isin(ids))]
    return rows.set_index("indicator_id").reindex([i for i in ids if i in set(rows["indicator_id"])])


def _fmt(x, digits=1) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)) or (isinstance(x, str) and not x):
        return "—"
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


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
    return f"<br><small>{_e(early)}{_e(t(lang, 'settled_on'))} {_e(when)}</small>"


def headline_table(ctx: ReportContext) -> None:
    """The section's headline table: value, target and due date, gap, probability, status, category."""
    rows = _rows(ctx)
    L = ctx.lang
    if rows.empty:
        _display_html(f"<p>{_e(t(L, 'no_rows'))}</p>")
        return
    head = ["indicator", "latest", "progress", "target", "due", "gap", "probability", "forecast", "status", "sdg_category"]
    out = [f"<h2>{_e(t(L, 'headline'))}</h2>", '<table class="ipeval-headline"><thead><tr>']
    out += [f"<th>{_e(t(L, h))}</th>" for h in head] + ["</tr></thead><tbody>"]
    for ind_id, r in rows.iterrows():
        ind = ctx.plan.indicator(ind_id)
        tgt = ind.target
        target_txt = f"{tgt.symbol}{_fmt(tgt.value)} {ind.unit(L)}" if tgt else "—"
        if r["status"] == "reference":  # the plan's number is the city's, not this district's
            target_txt = t(L, "city_target_prefix") + target_txt
        prob = r["probability"]
        prob_txt = f"{prob * 100:.0f}%" if np.isfinite(prob) else "—"
        fc = "—"
        if np.isfinite(r.get("forecast_median", np.nan)):
            fc = f"{_fmt(r['forecast_median'])} [{_fmt(r['forecast_lo80'])}, {_fmt(r['forecast_hi80'])}]"
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in [
            _e(ind.name(L)),
            f"{_e(_fmt(r['latest_value']))} <small>({_e(r['latest_period'])})</small>",
            _e(_fmt(r["progress_value"])),
            _e(target_txt),
            _e(r["due"] if isinstance(r["due"], str) and r["due"] else "—"),
            _e(_fmt(r["gap"])),
            _e(prob_txt),
            _e(fc),
            status_badge(r["status"], L) + _settled_text(r, L),
            _e(SDG_NAMES[L].get(r["sdg_category"], r["sdg_category"])),
        ]) + "</tr>")
    out.append("</tbody></table>")
    _display_html("\n".join(out))


def section_summary(ctx: ReportContext) -> None:
    """The overview's middle part: per section, how many targets are in each status, with a link
    to the section's report for this geography (the per-indicator charts live there), and the
    same counts as a chart (drawn by the run's chart step, or here when run on its own)."""
    from helpers.pages import charts

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
    if not charts.show_chart(ctx.run_dir, charts.OVERVIEW_CHART, ctx.geography.code, t(L, "sections_chart")):
        _show(charts.draw(charts.sections_spec(ctx.plan, ctx.assessments, ctx.geography, L)))


def indicator_charts(ctx: ReportContext) -> None:
    """One chart per indicator, with its methods note, clause and interpretation underneath.

    In a run the chart step has drawn every chart already (``<run>/charts``): the page embeds
    that PNG and the kernel draws nothing. On its own (no run folder) the report draws the same
    chart from the same specification (:mod:`helpers.pages.charts`).
    """
    from helpers.pages import charts

    L = ctx.lang
    _display_html(f"<h2>{_e(t(L, 'charts'))}</h2>")
    rows = _rows(ctx)
    published = _published_here(ctx)
    for ind in ctx.indicators:
        if ind.id not in rows.index:
            continue
        r = rows.loc[ind.id].to_dict()
        if not charts.show_chart(ctx.run_dir, ind.id, ctx.geography.code,
                                 charts.chart_title(ctx.run_dir, ind.id, ctx.geography.code)
                                 or charts.chart_labels(ind, L)["title"]):
            _show(charts.draw(charts.chart_spec(ctx.frame, ctx.plan, ind, ctx.geography, ctx.geos, ctx.quarter, r,
                                                ctx.bands, L, ctx.published)))
        note = t(L, "methods_note", models=r.get("models_used") or "—",
                 decided=DECIDED_BY[L].get(r.get("decided_by") or "", r.get("decided_by")),
                 note=r.get("note") if isinstance(r.get("note"), str) else "")
        clause = f"{ind.clause_ref}：“{ind.clause_text}”" if L == "zh" else f"Plan {ind.clause_ref}: “{ind.clause_text}”"
        interpretation = ind.interpretation_text(L)
        interp = f"<br><i>{_e(t(L, 'interpretation'))}{_e(interpretation)}</i>" if interpretation else ""
        mine = published[published["indicator_id"] == ind.id]
        pub = "".join(f'<br><span class="ipeval-published">◆ {_e(t(L, "published_marker"))}</span> '
                      f'{_e(p["period"])}: {_e(_fmt(p["value"], 1))} {_e(ind.unit(L))} ({_e(p["source"])})'
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
    a = a[a["indicator_id"].isin([i.id for i in inds])].set_index(["indicator_id", "geography_code"])
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
        city_value = a[shown].get((ind.id, city), np.nan)
        ranked = {}
        for g in geos:
            key = (ind.id, g.code)
            if key not in a.index:
                cells.append('<td class="ipeval-na">—</td>')
                continue
            r = a.loc[key]
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
            order = sorted(ranked, key=lambda c: ranked[c], reverse=not lower_better)
            cells.append(f"<td>{order.index(here) + 1}/{len(order)}</td>" if here in ranked else "<td>—</td>")
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

    L = ctx.lang
    q = quality_table(ctx.frame, ctx.indicators, ctx.geography, ctx.geos, ctx.quarter)
    out = [f"<h2>{_e(t(L, 'quality'))}</h2>", '<table class="ipeval-quality"><thead><tr>']
    out += [f"<th>{_e(t(L, k))}</th>" for k in ("indicator", "missing", "late", "revised", "outliers")]
    out.append("</tr></thead><tbody>")
    none = t(L, "none")
    for ind in ctx.indicators:
        r = q.get(ind.id, {})
        out.append("<tr>" + "".join(f"<td>{_e(x)}</td>" for x in [
            ind.name(L), r.get("missing") or none, r.get("late") or none, r.get("revised") or none,
            r.get("outliers") or none]) + "</tr>")
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
    link = f'<a href="{_e(href)}">{_e(METHODOLOGY_DOC)}</a>' if href else _e(METHODOLOGY_DOC)
    text = _e(t(ctx.lang, "methodology_link", on=int(th.on_track * 100), risk=int(th.at_risk * 100)))
    _display_html(f"<h2>{_e(t(ctx.lang, 'methods'))}</h2><p>" + text.replace(_e(METHODOLOGY_DOC), link, 1) + "</p>")


def changes_since_last_run(ctx: ReportContext, limit: int = 12) -> None:
    """What moved here since the last published run, split by cause (the run's ``changes.csv``).

    The overview lists every target of the geography; a section report those of its section.
    Nothing is shown outside a run (no run folder) or before there is a run to compare with.
    """
    from helpers.pages.changes import change_rows, changes_html

    f = Path(ctx.run_dir) / "changes.csv" if ctx.run_dir else None
    if f is None or not f.is_file():
        return
    changes = pd.read_csv(f, dtype={"geography_code": str}, keep_default_na=False)
    ids = None if ctx.section == OVERVIEW else [i.id for i in ctx.indicators]
    rows = change_rows(changes, ctx.plan, ctx.geos, ctx.lang, limit=limit, geography=ctx.geography.code,
                       indicators=ids)
    _display_html(changes_html(rows, ctx.lang))
