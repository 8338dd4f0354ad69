"""The run's chart step: every (indicator, geography) chart of a quarter drawn once, used everywhere.

After the assessments, :func:`helpers.pages.chartpool.render_charts` (or, in a run, its
:class:`~helpers.pages.chartpool.ChartDrawing`) draws each chart the run's reports show, in a pool
of processes forked after Matplotlib and the CJK font are loaded, once per reader's form:

* ``<run>/charts/<indicator_id>/<geography_code>.svg`` for the HTML pages, inlined by
  :func:`show_chart` (text kept as text; about 17 KB against 107 KB for the 200 dpi PNG in
  base64, so a page is a sixth of the size and stays one offline file);
* a JPEG at print resolution (200 dpi, quality 92) for the Word/PDF documents only, drawn when
  the run writes documents (what the documents embed; they used to convert a PNG into it), kept
  in the cache and found through ``charts.json`` (:func:`helpers.pages.chartfiles.print_pictures`): the documents carry it.

A chart is named in a cache by the hash of what it shows (its data, bands, assessment fields,
labels and the drawing code), so an unchanged chart is linked from the cache instead of drawn
again. ``charts.zip`` for slides is built on demand (``python -m helpers.pages.chartfiles
RUN_DIR``), not stored beside the files it would copy; :mod:`helpers.pages.chartfiles` also skips
the step when its inputs are unchanged and finds the documents' print pictures.

Run on its own (JupyterLab, plain papermill, no run folder), a report draws its charts with the
same :func:`chart_spec` and :func:`draw`, so both routes give the same picture.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.cache import Key, Store
from helpers.pages.chartstep import chart_step_drawing
from helpers.pages.chartjpeg import save_jpeg
from helpers.pages.chartsvg import DISPLAY_WIDTH, compact_svg  # noqa: F401 - DISPLAY_WIDTH: its old home

if TYPE_CHECKING:
    from helpers.data.series import SeriesIndex

FIGSIZE = (7.2, 3.8)  # inches, = plots.FIGSIZE (tested): not imported, a page inlining the run's charts imports
# this module and never Matplotlib
CHART_DPI = 200
FIGSIZE_PX = tuple(round(x * CHART_DPI) for x in FIGSIZE)  # (1440, 760)
JPEG_QUALITY = 92  # the documents' pictures (helpers.pages.document.charts)
PAGE_FORMAT, PRINT_FORMAT = "svg", "jpg"
CHARTS_DIR = "charts"
INDEX_FILE = "charts.json"


@dataclass
class ChartSpec:
    """Everything one chart shows; :meth:`digest` is its cache key."""

    indicator_id: str
    geography_code: str
    kind: str  # "series" (history, bands, target line) or "annual" (a target per year: yearly bars)
    history: pd.DataFrame
    bands: pd.DataFrame
    assessment: dict
    labels: dict
    running_total: bool = False
    start_period: str | None = None
    zone_start_year: int = 2023
    show_target: bool = True
    published: pd.DataFrame = field(default_factory=pd.DataFrame)

    def digest(self) -> str:
        """SHA-256 of what the chart shows and of the code that draws it."""
        payload = {
            "kind": self.kind, "running_total": self.running_total, "start_period": self.start_period,
            "zone_start_year": self.zone_start_year, "show_target": self.show_target, "labels": self.labels,
            "assessment": {k: _plain(v) for k, v in sorted(self.assessment.items())},
            "history": self.history.to_json(orient="split", index=False, double_precision=10),
            "bands": self.bands.to_json(orient="split", index=False, double_precision=10),
            "published": self.published.to_json(orient="split", index=False, double_precision=10),
            "code": _code_hash(), "dpi": CHART_DPI, "quality": JPEG_QUALITY,
        }
        return Key("chart").json("shows", payload).hexdigest()


def _plain(v):
    """A JSON-safe, stable form of an assessment value (NaN and numpy scalars included)."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


_CODE = None


def _code_hash() -> str:
    """The drawing code and Matplotlib's version: a change to either draws every chart again."""
    global _CODE
    if _CODE is None:
        import matplotlib

        # the drawing code only, not helpers.cache.code_version: a change elsewhere in the package
        # must not draw all 336 charts of a quarter again
        key = Key("chart-code").text("matplotlib", matplotlib.__version__)
        for name in ("plots.py", "charts.py", "chartsvg.py", "chartstep.py", "chartjpeg.py"):  # the files as written
            key.file(name, Path(__file__).parent / name)
        _CODE = key.hexdigest()
    return _CODE


# --------------------------------------------------------------------------- what a chart shows

# the assessment fields the drawing reads; the others (model names, notes) do not change the picture
ASSESSMENT_FIELDS = ("target_value", "target_kind", "due", "status", "forecast_lo80", "forecast_hi80")


def chart_labels(ind, lang: str) -> dict:
    """The texts of an indicator's chart in ``lang``."""
    from helpers.i18n import t

    kind = ind.target.kind if ind.target else ""
    suffix = t(lang, "running_total") if kind == "cumulative" else t(lang, "annual_total") if kind == "flow_per_year" else ""
    keys = dict(history="history", median="median", band80="band80", band95="band95", target="target", due="due",
                achieved="achieved_marker", observed="observed_total", projected="projected_rest",
                before_period="before_period", published="published_marker")
    labels = dict(title=ind.name(lang) + suffix, unit=ind.unit(lang), **{k: t(lang, v) for k, v in keys.items()})
    if ind.target is not None and lang == "zh":  # the due date as a Chinese reader writes it: 期限 2025年第四季度
        from helpers.pages.notes import quarter_label

        labels["due_when"] = quarter_label(ind.target.due, lang)
    return labels


def chart_spec(frame: pd.DataFrame | SeriesIndex, plan, ind, geo, geos, quarter, row: dict, bands: pd.DataFrame, lang: str,
               published: pd.DataFrame | None = None) -> ChartSpec:
    """The chart of ``ind`` for ``geo`` at ``quarter``.

    Parameters
    ----------
    frame : DataFrame or SeriesIndex
        The validated data, or its :class:`~helpers.data.series.SeriesIndex` (many charts: the same series, faster).
    plan, ind, geo, geos
        The registry, the indicator, the geography and the geography list.
    quarter : Quarter
        The as-of quarter.
    row : dict
        The indicator's row of ``assessments.csv`` for ``geo``.
    bands : DataFrame
        ``bands.csv`` (any rows; those of ``ind`` and ``geo`` are taken).
    lang : {'zh', 'en'}
    published : DataFrame, optional
        :func:`helpers.data.reference.published_figures`; marked on the city's charts.
    """
    from helpers.data.series import indicator_series

    hist = indicator_series(frame, ind, geo, geos, quarter)
    hist = hist.loc[hist["value"].notna(), ["period", "year", "value"]].reset_index(drop=True)
    b = bands
    if len(b):
        b = b[(b["indicator_id"] == ind.id) & (b["geography_code"] == geo.code)]
        b = b[[c for c in ("period", "q025", "q100", "q500", "q900", "q975") if c in b.columns]].reset_index(drop=True)
    else:
        b = pd.DataFrame(columns=["period", "q500"])
    kind = ind.target.kind if ind.target else ""
    a = {k: row.get(k) for k in ASSESSMENT_FIELDS}
    a["direction_symbol"] = ind.target.symbol if ind.target else ""
    pub = pd.DataFrame(columns=["period", "value"])
    if published is not None and len(published) and geo.is_city:
        p = published[(published["indicator_id"] == ind.id) & (published["geography_code"] == geo.code)]
        keep = [_period_index(x) <= quarter.index and _comparable(ind, x) for x in p["period"]]
        pub = p.loc[keep, ["period", "value"]].reset_index(drop=True)
    running = kind == "cumulative"
    return ChartSpec(
        indicator_id=ind.id, geography_code=geo.code, kind="annual" if kind == "flow_per_year" else "series",
        history=hist, bands=b, assessment=a, labels=chart_labels(ind, lang), running_total=running,
        start_period=str(ind.target.start) if running else None, zone_start_year=plan.zone_start.year,
        # a district's count toward a target set for the city: the city's line would mislead
        show_target=row.get("status") != "reference", published=pub)


def _comparable(ind, period: str) -> bool:
    """Whether a published figure can sit on the indicator's chart as a point of the same series.

    A yearly total next to quarterly flows (453.4亿元 for 2024 against about a hundred a quarter)
    or a cumulative count next to flows would mislead; such figures are listed in the page's table
    of published figures only. Comparable: the chart's own period (a year on a yearly-totals chart
    or an annual series) or a quarter-end stock or level on a quarterly chart.
    """
    annual_period = "Q" not in str(period)
    kind = ind.target.kind if ind.target else ""
    if kind == "cumulative":
        return False  # the chart shows running totals the publication does not state
    if kind == "flow_per_year" or ind.frequency == "annual":
        return annual_period
    return not annual_period and not ind.flow


def _period_index(text: str) -> int:
    """A period label ('2024Q3' or '2024', a year ending with its Q4) as a quarter index."""
    from helpers.plan.periods import Quarter

    text = str(text)
    return Quarter.parse(text).index if "Q" in text else Quarter(int(text), 4).index


OVERVIEW_CHART = "overview"  # the folder of the overview's chart (targets by section and status), beside the indicators'


def sections_spec(plan, assessments: pd.DataFrame, geo, lang: str) -> ChartSpec:
    """The overview's chart of ``geo``: per section, its targets by status."""
    from helpers.i18n import STATUS_NAMES, t
    from helpers.pages.stage import section_status_counts

    rows = section_status_counts(plan, assessments, geo)
    counts = pd.DataFrame([{"section": sec.name(lang), **c} for sec, _, c, _ in rows])
    return ChartSpec(indicator_id=OVERVIEW_CHART, geography_code=geo.code, kind="sections", history=counts,
                     bands=pd.DataFrame(), assessment={},
                     labels={"title": t(lang, "sections_chart"), "status": STATUS_NAMES[lang]})


def draw(spec: ChartSpec):
    """The Matplotlib figure of ``spec``."""
    from helpers.pages.plots import annual_total_chart, indicator_chart, sections_chart

    if spec.kind == "sections":
        return sections_chart(spec.history, spec.labels)
    if spec.kind == "annual":
        return annual_total_chart(spec.history, spec.bands, spec.assessment, spec.labels,
                                  zone_start_year=spec.zone_start_year, show_target=spec.show_target,
                                  published=spec.published)
    return indicator_chart(spec.history, spec.bands, spec.assessment, spec.labels, running_total=spec.running_total,
                           start_period=spec.start_period, show_target=spec.show_target, published=spec.published)


def run_specs(frame: pd.DataFrame, plan, geos, quarter, assessments: pd.DataFrame, bands: pd.DataFrame, lang: str,
              pairs, published: pd.DataFrame | None = None) -> list[ChartSpec]:
    """The charts of a run's reports: every indicator of each (section, geography) pair that has an
    assessment, and each overview's chart of targets by section and status."""
    return list(iter_specs(frame, plan, geos, quarter, assessments, bands, lang, pairs, published))


def iter_specs(frame: pd.DataFrame, plan, geos, quarter, assessments: pd.DataFrame, bands: pd.DataFrame, lang: str,
               pairs, published: pd.DataFrame | None = None):
    """:func:`run_specs` one at a time, in the order of ``pairs``: a run draws the first while it makes
    the rest (:class:`helpers.pages.chartpool.ChartDrawing`)."""
    from helpers.data.series import SeriesIndex
    from helpers.plan.registry import OVERVIEW

    # the data and the bands split once by (indicator, geography), not filtered whole for each of the 336
    # charts (2025Q2 demo, CPU user+sys, mean of two sets of 3 on a loaded 2-core machine: 1.08 s -> 0.85 s)
    series = SeriesIndex(frame)
    band_rows = _pair_rows(bands)
    rows = assessments.set_index(["indicator_id", "geography_code"])
    seen = set()
    for section, code in pairs:
        geo = geos.get(code)
        if section == OVERVIEW:
            spec = sections_spec(plan, assessments, geo, lang)
            if len(spec.history):
                yield spec
            continue
        for ind in plan.indicators_in(section):
            key = (ind.id, code)
            if key in seen or key not in rows.index or (ind.city_only and not geo.is_city):
                continue
            seen.add(key)
            # the pair's band rows: chart_spec takes the same rows from them; the whole table where the pair has
            # none, so that chart_spec makes of it what it makes of the table
            yield chart_spec(series, plan, ind, geo, geos, quarter, rows.loc[key].to_dict(),
                             band_rows.get(key, bands), lang, published)


def _pair_rows(table: pd.DataFrame) -> dict:
    """``{(indicator_id, geography_code): rows}`` of ``table`` (bands.csv), each in the table's order, so
    a filter of the pair's rows selects all of them: the same rows, in the same order, as filtering the table."""
    if not len(table):
        return {}
    groups = table.groupby(["indicator_id", "geography_code"], sort=False, observed=True).indices
    return {key: table.take(sorted(at)) for key, at in groups.items()}


# --------------------------------------------------------------------------- drawing them all

def chart_path(run_dir: str | Path, indicator_id: str, geography_code: str, ext: str = PAGE_FORMAT) -> Path:
    """Where a run keeps a chart: ``<run>/charts/<indicator_id>/<geography_code>.<ext>``."""
    return Path(run_dir) / CHARTS_DIR / indicator_id / f"{geography_code}.{ext}"


@chart_step_drawing()  # the chart step sets its style once: figures and text sizes made once a process
def _render_one(job: tuple) -> str:
    """Draw one chart into the cache: the page's SVG, and the print JPEG when ``jpg`` is given
    (each written under a temporary name, then renamed)."""
    import matplotlib
    import matplotlib.pyplot as plt

    spec, svg, jpg = job
    fig = draw(spec)
    alt = fig.axes[0].get_title() if fig.axes else ""
    if jpg:
        tmp = f"{jpg}.{os.getpid()}.tmp"
        save_jpeg(fig, tmp, CHART_DPI, JPEG_QUALITY)
        os.replace(tmp, jpg)
    # drawn because the cache lacked it, did not verify, or --force: always written. SVG text stays text (editable
    # on a slide, a fifth of the size of glyph outlines); a viewer without Noto Sans CJK SC shows it in its own CJK font
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ipeval"}):
        fig.savefig(buf, format="svg", metadata={"Title": alt, "Date": None, "Creator": None})
    tmp = f"{svg}.{os.getpid()}.tmp"
    Path(tmp).write_text(compact_svg(buf.getvalue()), encoding="utf-8")
    os.replace(tmp, svg)
    plt.close(fig)
    record_cached(svg, jpg)
    return alt


def record_cached(svg: str, jpg: str | None) -> None:
    """``<hash>.sha256`` beside a chart drawn into the cache: ``{form: sha256}`` of each file, what
    the next run checks before reusing them (:func:`_cached_ok`: a file emptied or edited is drawn again)."""
    Store(Path(svg).parent).seal(Path(svg).stem, [PAGE_FORMAT] + ([PRINT_FORMAT] if jpg else []))


def _link_or_copy(src: Path, dst: Path) -> None:
    # a copy, never a hard link: a link is one file in the cache and in every run, so emptying
    # one published chart emptied it in the cache and in every other run (issue 20)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _cached_ok(cache: Path, h: str, exts) -> bool:
    """A cached chart is reused only if every form it needs (``exts``) still holds the bytes
    recorded when it was drawn (``<hash>.sha256``: :meth:`helpers.cache.Store.lookup`)."""
    return Store(cache).lookup(h, exts) is not None
