"""Reports: executed notebooks to self-contained HTML (nbconvert), the index dashboard, the tables.

Two HTML variants per notebook:

* ``report``, for evaluation teams: no code, and neither the ``parameters`` nor papermill's
  ``injected-parameters`` cell (papermill's report mode only hides code in some viewers);
* ``audit``, for academics: with code and the parameters the run injected.

Both use the ``offline`` template in ``helpers/templates/nbconvert``: nbconvert's stock template
loads require.js and MathJax from CDNs, which breaks offline and inside government networks.
The run's charts are inline SVG in the report page; the audit page links them (the report page
and the SVG file) instead of carrying a second copy; pictures a kernel drew itself are data URIs.
Each page's stylesheet is trimmed to the rules it uses (:mod:`helpers.pages.pagestyle`). A
provenance footer names the inputs' SHA-256, the package versions, the git commit, the
parameters and the run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from helpers.pages.pagestyle import trim_styles

TEMPLATES = Path(__file__).parent / "templates"
VARIANTS = ("report", "audit")


def _exporter(variant: str, lang: str = "zh"):
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    from helpers.pages.htmlexport import PageExporter  # nbconvert's HTMLExporter, without a BeautifulSoup pass

    c = Config()
    c.HTMLExporter.language_code = "zh" if lang == "zh" else "en"  # <html lang>: fonts and screen readers
    c.TagRemovePreprocessor.enabled = True
    if variant == "report":
        c.TagRemovePreprocessor.remove_cell_tags = {"parameters", "injected-parameters", "audit-only"}
        c.HTMLExporter.exclude_input = True
        c.HTMLExporter.exclude_input_prompt = True
        c.HTMLExporter.exclude_output_prompt = True
    exporter = PageExporter(config=c, template_name="offline",
                            extra_template_basedirs=[str(TEMPLATES / "nbconvert")])
    exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    return exporter


_EXPORTERS: dict = {}


def export_html(notebook, out_path: str | Path, variant: str, provenance: dict | None = None,
                title: str = "", lang: str = "zh") -> Path:
    """Convert an executed notebook to one HTML variant.

    Parameters
    ----------
    notebook : nbformat.NotebookNode or path
    out_path : path
        Where the HTML goes (its folder is created).
    variant : {'report', 'audit'}
    provenance : dict, optional
        Shown in the footer, every value escaped.
    """
    import nbformat

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    nb = nbformat.read(str(notebook), as_version=4) if not hasattr(notebook, "cells") else notebook
    nb = _run_dir_relative(nb)
    if title:
        nb.metadata["title"] = title
    key = (variant, lang)
    exporter = _EXPORTERS.get(key) or _EXPORTERS.setdefault(key, _exporter(variant, lang))
    if variant == "report":  # the reader's page: the run's file paths belong to the audit page only
        provenance = {k: v for k, v in (provenance or {}).items() if k != "parameters"}
        if lang == "zh":
            provenance = {_PROV_ZH.get(k, k.replace("sha256 ", "SHA-256 ")): ("—" if v == "not a git checkout" else v)
                          for k, v in provenance.items()}
    resources = {"provenance": provenance or {},
                 "provenance_title": "来源与可复现信息" if lang == "zh" else "Provenance"}
    swapped = _charts_as_links(nb, Path(out_path), lang) if variant == "audit" else []
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    finally:
        for output, data in swapped:
            output["data"] = data
    # JupyterLab's whole theme (256 KB) trimmed to the rules this page can use (about 10 KB)
    body = trim_styles(body)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


# the provenance footer's labels on a Chinese reader's page
_PROV_ZH = {"run_id": "运行编号", "quarter": "评估季度", "git_commit": "代码版本", "time (UTC)": "时间（UTC）",
            "packages": "软件包版本"}


def _charts_as_links(nb, out_path: Path, lang: str) -> list:
    """In the audit page, each chart of the run as a link to the report page and to ``charts.zip``
    (the member named beside it), where the published quarter keeps the SVG file.

    The report page beside it shows the same picture inline; the audit page is read for its code
    and numbers, and a second copy of every chart made it as large as the report page. Returns
    ``(output, data)`` pairs to put back after the export (the notebook is also stored).
    """
    from html import escape

    from helpers.i18n import t

    report_page = out_path.name.replace(".audit.html", ".report.html")
    swapped = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            chart = output.get("metadata", {}).get("ipeval", {}).get("chart")
            if not chart or "image/svg+xml" not in output.get("data", {}):
                continue
            alt = output["metadata"].get("image/svg+xml", {}).get("alt", "")
            text = t(lang, "chart_in_report", title=alt)
            # the SVG file is in the run's charts.zip (pages/chartfiles.py: its only copy in the quarter)
            member = chart[len("charts/"):] if chart.startswith("charts/") else chart
            html = (f'<p class="ipeval-chart-ref"><a href="{escape(report_page)}">{escape(text)}</a> '
                    f'<a href="../../charts.zip">SVG</a> <small>(charts.zip: {escape(member)})</small></p>')
            swapped.append((output, output["data"]))
            output["data"] = {"text/html": html, "text/plain": output["data"].get("text/plain", "")}
    return swapped


def store_notebook(nb, path: str | Path) -> Path:
    """Save an executed notebook without a second copy of the run's charts.

    Each chart output shown from the run's files (:func:`helpers.pages.chartfiles.show_chart`) keeps
    its plain-text line naming the file (``charts/<indicator>/<geography>.svg``, next to the run's
    ``notebooks/`` folder) and loses the picture itself, which the run keeps once under
    ``charts/`` and the HTML pages inline. A notebook run on its own keeps its drawn pictures.
    Written as JSON directly (nbformat's validation costs more than the write, and the notebook
    was validated by papermill).
    """
    import json

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("metadata", {}).get("ipeval", {}).get("chart"):
                out["data"] = {k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")}
                out["metadata"] = {"ipeval": out["metadata"]["ipeval"]}
    out_path = Path(path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(out_path)
    return out_path


RUN_DIR_LINE = re.compile(r'^run_dir = "(?P<path>[^"\n]+)"\s*$', re.M)
INPUT_LINE = re.compile(r'^report_input = "[^"\n]*/(?P<page>inputs/[^"/\n]+/[^"/\n]+\.json)"\s*$', re.M)


def _run_dir_relative(nb):
    """``nb`` with its injected ``run_dir`` as the run folder relative to the executed notebook.

    The runner passes the absolute staging folder (``outputs/.staging/<run-id>``), which is gone
    once the run is published; the audit page shows ``run_dir = "../.."`` instead, which is where
    the run folder is from ``notebooks/<section>/<code>.ipynb``, so the shown cell can be re-run
    from the published notebook as it is.
    """
    for c in nb.cells:  # in place: the executed notebook is saved already, only its pages are still to come
        if "injected-parameters" in c.get("metadata", {}).get("tags", []):
            c.source = RUN_DIR_LINE.sub('run_dir = "../.."  # the run folder, from this notebook\'s folder', c.source)
            c.source = INPUT_LINE.sub(r'report_input = "../../\g<page>"  # in the run folder, from this notebook\'s folder',
                                      c.source)
    return nb


# --------------------------------------------------------------------------- the index

def render_index(out_path: str | Path, *, plan, geos, quarter: str, sections: list, jobs: list,
                 assessments: pd.DataFrame, demo: bool, lang: str = "zh", downloads: list | None = None,
                 manifest: dict | None = None, changes: pd.DataFrame | None = None,
                 returns: list | None = None, documents=None) -> Path:
    """The dashboard: geographies x sections coloured by the share of targets achieved or on track.

    Rendered by Jinja2 with autoescape on, so text from data files (notes, names) shows as text.

    Parameters
    ----------
    jobs : list of dict
        One per report: ``section, geography_code, status ('ok'|'failed'|'skipped'), report, audit,
        notebook, error`` (paths relative to the index).
    changes : DataFrame, optional
        The run's ``changes.csv``: the largest moves since the last published run are listed.
    returns : list of dict, optional
        The district returns of the quarter (:func:`helpers.run.returns.returns_status`): a table
        of which are in, late or missing is appended.
    documents : set of str, optional
        The geographies whose Word and PDF reports the run writes (``documents/``, after this
        page): they are linked.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from helpers.i18n import STATUS_NAMES, t
    from helpers.model.assess import JUDGED
    from helpers.pages.stage import period_label, stage_banner
    from helpers.plan.periods import Quarter
    from helpers.pages.changes import index_changes
    from helpers.pages.sections import plan_reference

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))
    tmpl = env.get_template("index.html.j2")
    by_key = {(j["section"], j["geography_code"]): j for j in jobs}
    sec_inds = {s: [i.id for i in plan.page_indicators(s)] for s in sections}
    rows = []
    for g in geos.all:
        cells = []
        for s in sections:
            job = by_key.get((s, g.code))
            a = assessments[(assessments["geography_code"] == g.code) & assessments["indicator_id"].isin(sec_inds[s])]
            a = a[a["status"].isin(JUDGED)]  # targets this geography is held to
            good = int(a["status"].isin(["achieved", "on_track_reached", "on_track"]).sum())
            share = good / len(a) if len(a) else None
            cells.append(dict(job=job, share=share, n=len(a), good=good,
                              colour=_share_colour(share) if job and job["status"] != "failed" else "#f8d7da"))
        rows.append(dict(geo=g, cells=cells))
    city = assessments[assessments["geography_code"] == geos.city.code]
    counts = city["status"].value_counts().to_dict()
    from helpers.model.assess import assessment_stage

    final = assessment_stage(plan, Quarter.parse(str(quarter))) == "final"
    # the final assessment speaks of completion: the open statuses only where a target still has one
    summary = [(STATUS_NAMES[lang][s], counts.get(s, 0), s) for s in STATUS_NAMES[lang]
               if s != "reference" and (counts.get(s, 0) or not final or s in ("achieved", "missed"))]
    worst = city[city["status"].isin(["off_track", "at_risk"])].sort_values("probability").head(8)
    shown_changes = index_changes(changes, plan, geos, lang, final)  # final: completion changes only
    text = tmpl.render(
        lang=lang, t=lambda k, **kw: t(lang, k, **kw), plan=plan, quarter=quarter,
        quarter_text=period_label(quarter, lang), rows=rows, demo=demo,
        section_names=[plan.page_name(s, lang) for s in sections],
        summary=summary, worst=worst.to_dict("records"), status_names=STATUS_NAMES[lang],
        downloads=download_links(downloads or [], Path(out_path).parent, lang), manifest={(_FOOTER_ZH.get(k, k) if lang == "zh" else k): v for k, v in (manifest or {}).items()},
        failed=[j for j in jobs if j["status"] == "failed"], plan_ref=plan_reference(plan, lang),
        stage=stage_banner(plan, Quarter.parse(str(quarter)), assessments, geos.city, lang),
        final=final,  # the final assessment's legend: achieved, not 'or on track'
        changes=shown_changes, has_changes=changes is not None,
        changes_quarter=period_label(shown_changes[0]["previous_quarter"], lang) if shown_changes else "",
        colon="：" if lang == "zh" else ": ",
        top_name=geos.city.name(lang),  # 杭州市概况, 全国概况: the plan's top geography, not "the city"
        # the run's own documents and those carried from the last run (a subset run keeps the others')
        documents=document_links(plan, geos, quarter, lang, set(documents or ()), Path(out_path).parent),
    )
    if returns:
        from helpers.pages.returns_table import returns_html

        text = text.replace("</body>", returns_html(returns, plan, geos, lang) + "</body>", 1)
    out = Path(out_path)
    out.write_text(text, encoding="utf-8")
    return out


# the index footer's keys on a Chinese reader's page
_FOOTER_ZH = {"run": "运行编号", "git": "代码版本", "data sha256": "数据 SHA-256"}

# what each download is, in the reader's words (the file name stays beside it)
DOWNLOAD_LABELS = {
    "zh": {"assessments.csv": "评估结果（机器可读，CSV）", "assessments.xlsx": "评估结果工作簿（Excel，含指标完成情况一览表）",
           "bands.csv": "预测区间（CSV）", "changes.csv": "本期变化及原因（CSV）", "revisions.csv": "数据修订（CSV）",
           "manifest.json": "运行清单与校验值", "run.log.jsonl": "运行日志",
           "charts.zip": "全部图表（SVG矢量图，可编辑，可用于幻灯片）"},
    "en": {"assessments.csv": "Assessments (machine-read, CSV)", "assessments.xlsx": "Workbook (Excel)",
           "bands.csv": "Forecast bands (CSV)", "changes.csv": "What changed and why (CSV)",
           "revisions.csv": "Data revisions (CSV)", "manifest.json": "Run manifest and checksums",
           "run.log.jsonl": "Run log", "charts.zip": "Every chart (SVG, editable, for slides)"},
}


def download_links(downloads: list, folder: Path, lang: str) -> list:
    """``[(label, href)]`` of the index's downloads: what each file is, its name and size
    (``全部图表（SVG矢量图，可编辑，可用于幻灯片）charts.zip，0.7 MB``)."""
    out = []
    for name, href in downloads:
        label = DOWNLOAD_LABELS.get(lang, DOWNLOAD_LABELS["en"]).get(str(href))
        p = folder / str(href)
        size = f"{p.stat().st_size / 1e6:.1f} MB" if p.is_file() and p.stat().st_size >= 50_000 else ""
        tail = (("，" if lang == "zh" else ", ") + size) if size else ""
        if label:
            text = f"{label}：{href}{tail}" if lang == "zh" else f"{label}: {href}{tail}"
        else:
            text = f"{name}{tail}"
        out.append((text, href))
    return out


def document_links(plan, geos, quarter, lang: str, codes: set | None = None, run_dir: Path | None = None) -> list:
    """``[(geography name, [(format, href), ...]), ...]``: the Word and PDF report of each geography
    (of ``codes``, the run's, when given; with ``run_dir``, also each geography whose files are in its
    ``documents/``, e.g. carried by a subset run)."""
    from helpers.model.assess import assessment_stage
    from helpers.pages.document import FORMATS, document_name
    from helpers.plan.periods import Quarter

    final = assessment_stage(plan, Quarter.parse(str(quarter))) == "final"
    label = {"docx": "Word", "pdf": "PDF"}
    if run_dir is not None:
        codes = set(codes or ()) | {g.code for g in geos.all
                                    if all((run_dir / "documents" / document_name(g, lang, f, final)).is_file()
                                           for f in FORMATS)}
    return [(g.name(lang), [(label[f], f"documents/{document_name(g, lang, f, final)}") for f in FORMATS])
            for g in geos.all if codes is None or g.code in codes]


def _share_colour(share) -> str:
    if share is None:
        return "#eeeeee"
    if share >= 0.8:
        return "#4caf50"
    if share >= 0.5:
        return "#c5e1a5"
    if share >= 0.3:
        return "#ffe082"
    return "#ef9a9a"


# --------------------------------------------------------------------------- the methodology

def write_methodology_page(source: str | Path, out_path: str | Path, lang: str = "zh") -> Path:
    """``docs/methodology.md`` as a self-contained HTML page, for the reports' methods link.

    Converted with mistune (nbconvert's own Markdown renderer, so no new dependency); the page
    embeds its styles and loads nothing from another host.
    """
    import html

    import mistune

    text = Path(source).read_text(encoding="utf-8")
    body = str(mistune.create_markdown(plugins=["table", "strikethrough", "url"])(text))  # HTML: a str
    title = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#")), "Methodology")
    page = (f'<!DOCTYPE html><html lang="{"zh" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>body{{max-width:60em;margin:2em auto;padding:0 1em;"
            'font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;line-height:1.5}'
            "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px}"
            "pre,code{background:#f5f5f5}</style></head><body>" + body + "</body></html>")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
