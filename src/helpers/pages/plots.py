"""Charts for the reports (Matplotlib in seaborn's whitegrid look), with a CJK font so Chinese never renders as boxes.

The font is Noto Sans CJK SC shipped by the PyPI package ``mplfonts`` (a project dependency),
registered with Matplotlib's font manager directly: ``mplfonts.use_font`` alone falls back to
DejaVu Sans unless ``mplfonts init`` has been run, which a fresh machine has not.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import cast

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless; the inline backend still shows figures in Jupyter

import matplotlib.pyplot as plt  # noqa: E402,F401 - loaded with this module: the chart step forks its workers after
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager, rcsetup  # noqa: E402
from matplotlib.ticker import AutoLocator, MaxNLocator  # noqa: E402

from helpers.i18n import STATUS_COLOURS  # noqa: E402,F401 - defined beside the labels, shared with the Excel table
from helpers.pages.chartstep import new_axes  # noqa: E402

CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"

WHITEGRID = {
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.grid": True, "axes.labelcolor": ".15",
    "axes.labelsize": 12.0, "axes.linewidth": 1.25, "axes.titlesize": 12.0, "axes.unicode_minus": False,
    "axes.prop_cycle": rcsetup.cycler(color=["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
                                                "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]),  # seaborn "deep"
    "font.size": 12.0, "grid.color": ".8", "grid.linewidth": 1.0, "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0, "lines.solid_capstyle": "round", "patch.edgecolor": "w",
    "patch.force_edgecolor": True, "text.color": ".15", "xtick.bottom": False, "xtick.color": ".15",
    "xtick.labelsize": 11.0, "xtick.major.size": 6.0, "xtick.major.width": 1.25, "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0, "ytick.color": ".15", "ytick.labelsize": 11.0, "ytick.left": False,
    "ytick.major.size": 6.0, "ytick.major.width": 1.25, "ytick.minor.size": 4.0, "ytick.minor.width": 1.0,
}
WHITEGRID_SANS = ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"]


@lru_cache(maxsize=1)
def use_cjk_font() -> str:
    """Register the bundled CJK font and put it first; return the family name Matplotlib resolved."""
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"CJK font {path} is missing: reinstall the mplfonts package")
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    # seaborn's "whitegrid" theme at the "notebook" context, as its set_theme sets it: importing
    # seaborn for these two calls cost every process that draws 0.4-0.9 s
    # rcParams is typed by its literal key names; WHITEGRID's keys are such names (matplotlib checks them here)
    matplotlib.rcParams.update(WHITEGRID)  # type: ignore[arg-type]
    matplotlib.rcParams["font.sans-serif"] = [family, *WHITEGRID_SANS]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False  # the CJK font lacks U+2212
    return family


def _x(periods: pd.Series) -> np.ndarray:
    """Period labels ('2024Q3' or '2024') as decimal years at the period's middle."""
    out = []
    for p in periods.astype(str):
        if "Q" in p:
            y, q = p.split("Q")
            out.append(int(y) + (int(q) - 0.5) / 4)
        else:
            out.append(int(p) + 0.5)
    return np.array(out, dtype=float)


class _ShownOnly:
    """A locator mixin: only the ticks Matplotlib draws, those inside the view limits.

    Matplotlib's :class:`~matplotlib.ticker.MaxNLocator` also yields the first tick beyond each end
    of the axis; the axis makes a ``Tick`` (three lines, two texts) for each, labels it, then
    leaves it out of the drawing. Dropping them here, with the test the axis applies
    (``Axis._update_ticks``: inside the view interval widened by 1e-10 of its width), leaves the
    picture as it was: the labels' format depends only on ticks in view (their offset and order of
    magnitude are computed from those; the number of decimals from the spacing, which any two
    neighbouring ticks show). 2025Q2 demo, 120 charts: about 4 of 15 ticks a chart were never drawn.
    """

    def __call__(self):
        locs = super().__call__()  # type: ignore[misc]
        axis = self.axis  # type: ignore[attr-defined]  # the locator's (TickHelper.axis)
        lo, hi = axis.get_transform().transform(sorted(axis.get_view_interval()))
        lo, hi = min(lo, hi), max(lo, hi)
        tol = (hi - lo) * 1e-10
        t = axis.get_transform().transform(np.asarray(locs, dtype=float))
        return np.asarray(locs)[(lo - tol <= t) & (t <= hi + tol)]


class ShownMaxNLocator(_ShownOnly, MaxNLocator):
    """:class:`~matplotlib.ticker.MaxNLocator` yielding only the ticks in view (:class:`_ShownOnly`)."""


class ShownAutoLocator(_ShownOnly, AutoLocator):
    """:class:`~matplotlib.ticker.AutoLocator` yielding only the ticks in view (:class:`_ShownOnly`)."""


def _shown_ticks_only(axis) -> None:
    """Replace a linear axis's default locator by the same locator yielding only ticks in view."""
    loc = axis.get_major_locator()
    if type(loc) is AutoLocator:  # a categorical axis (section names) keeps its own locator
        shown = ShownAutoLocator()
        shown.__dict__.update(loc.__dict__)  # its parameters as they are (nbins, steps, ...)
        axis.set_major_locator(shown)


PRINT_PT = 10  # legends and tick labels: >= 8 pt on paper at the reports' 156 mm (helpers.pages.document)
FIGSIZE = (7.2, 3.8)  # inches: 1440 x 760 px at the 200 dpi the chart step saves (= charts.FIGSIZE, tested)


def indicator_chart(history: pd.DataFrame, bands: pd.DataFrame, assessment: dict, labels: dict,
                    running_total: bool = False, start_period: str | None = None, show_target: bool = True,
                    published: pd.DataFrame | None = None):
    """History, forecast median, 80% and 95% bands, the target line and due date.

    Parameters
    ----------
    history : DataFrame
        ``period`` and ``value`` of the observed series.
    bands : DataFrame
        ``period`` and quantile columns ``q025, q100, q500, q900, q975`` of the simulated series.
    assessment : dict
        The indicator's row of ``assessments.csv``.
    labels : dict
        Texts in the report's language: ``title``, ``unit``, ``history``, ``median``, ``band80``,
        ``band95``, ``target``, ``due``, ``achieved``.
    running_total : bool
        Flow and cumulative targets: plot the running total from ``start_period`` against the target.
    show_target : bool
        False for a district's count toward a target the plan sets for the city only: the city's
        line against a district's own figure would mislead.
    published : DataFrame, optional
        ``period`` and ``value`` of figures from a publication (not generated), drawn as markers;
        ignored for running totals, whose points are sums the publication does not state.

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    fig, ax = new_axes(FIGSIZE)
    h = history[["period", "value"]].copy()
    b = bands.copy()
    if running_total and len(h):
        if start_period is not None:
            h = h[_x(h["period"]) >= _x(pd.Series([start_period]))[0]]
        base = h["value"].cumsum()
        last = float(base.iloc[-1]) if len(base) else 0.0
        h = h.assign(value=base)
        if len(b):
            # a running total of quantiles is not the quantile of running totals; show the median path only
            b = b.assign(q500=last + b["q500"].cumsum(), q025=np.nan, q100=np.nan, q900=np.nan, q975=np.nan)
    if len(h):
        ax.plot(_x(h["period"]), h["value"], marker="o", ms=3, color="#1f4e79", label=labels["history"])
    if len(b):
        xb = _x(b["period"])
        if "q025" in b and b["q025"].notna().any():
            ax.fill_between(xb, b["q025"], b["q975"], color="#9ecae1", alpha=0.45, label=labels["band95"])
            ax.fill_between(xb, b["q100"], b["q900"], color="#4292c6", alpha=0.45, label=labels["band80"])
        if len(h):
            xb = np.concatenate([_x(h["period"])[-1:], xb])
            med = np.concatenate([h["value"].to_numpy()[-1:], b["q500"].to_numpy()])
        else:
            med = b["q500"].to_numpy()
        ax.plot(xb, med, ls="--", color="#08519c", label=labels["median"])
    if published is not None and len(published) and not running_total:
        _published_markers(ax, published, labels)
    tv = assessment.get("target_value")
    if show_target and tv is not None and np.isfinite(tv) and (running_total or assessment.get("target_kind") not in ("flow_per_year",)):
        _target_line(ax, tv, labels, assessment)
    due = assessment.get("due")
    if isinstance(due, str) and due:
        ax.axvline(_x(pd.Series([due]))[0] + 0.125, color="#555", lw=0.8, ls=":",
                   label=f"{labels['due']} {labels.get('due_when', due)}")
    if assessment.get("status") == "achieved" and len(h):
        ax.scatter(_x(h["period"])[-1:], h["value"].to_numpy()[-1:], s=120, marker="*", color="#1a7f37",
                   zorder=5, label=labels["achieved"])
    _finish(fig, ax, labels)
    return fig


def _target_line(ax, value: float, labels: dict, assessment: dict) -> None:
    """The target as a horizontal line, with the y range widened so it never sits on the frame.

    ``axhline`` does not enter Matplotlib's data limits: a target just above the data (the
    mediation rate's 37%) would otherwise run along the top edge, one far away would be off the chart.
    """
    ax.axhline(value, color="#d1242f", lw=1.2, label=f"{labels['target']} {assessment.get('direction_symbol', '')}{value:g}")
    lo, hi = ax.get_ylim()
    lo, hi = min(lo, value), max(hi, value)
    pad = 0.08 * (hi - lo or abs(value) or 1.0)
    ax.set_ylim(max(lo - pad, 0.0) if lo >= 0 else lo - pad, hi + pad)


def _published_markers(ax, published: pd.DataFrame, labels: dict) -> None:
    """Figures from a publication: black diamonds, so a reader tells them from generated data."""
    ax.scatter(_x(published["period"]), published["value"].to_numpy(float), marker="D", s=42, color="#000000",
               zorder=6, label=labels.get("published", "published"))


def _finish(fig, ax, labels: dict) -> None:
    """Title, unit, legend and margins of an indicator chart.

    The legend goes under the axes, never over the data or the target line. Fixed margins instead
    of ``tight_layout``: every chart has the same size and one-line title, and tick labels of at
    most six characters (the registry's units keep values below a million), so measuring every
    text's extent again, a third of a chart's drawing time, buys nothing.
    """
    # sizes for print: the 7.2 in figure is printed 156 mm wide in the reports (x0.85), so 10 pt
    # here is 8.5 pt on paper (7.5 pt legends were about 4 pt at the old 130 mm)
    # y given: Matplotlib then leaves the title where it is instead of measuring every tick label to
    # see whether one rises above the axes (none does: ticks are below and left). That measuring was
    # 31% of a chart's drawing time (cProfile of 80 charts, 2026-12-06); the SVG and JPEG files of
    # the demo's 336 charts are byte-identical with and without it.
    ax.set_title(labels["title"], fontsize=12, y=1.0)
    ax.set_ylabel(labels["unit"], fontsize=PRINT_PT)
    ax.tick_params(labelsize=PRINT_PT)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, fontsize=PRINT_PT, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                  ncol=min(4, len(handles)), frameon=False)
    ax.xaxis.set_major_locator(ShownMaxNLocator(integer=True))  # years, never "2023.5"
    _shown_ticks_only(ax.yaxis)
    lo, hi = ax.get_ylim()
    # the data's lines only: the due date's axvline has y = [0, 1] in axes coordinates, which hid an
    # all-zero series from this check (淳安县's new mediation organisations drawn on -0.04..0.04)
    ys = [y for line in ax.get_lines() if line.get_transform() == ax.transData
          for y in np.asarray(line.get_ydata(), dtype=float).ravel()
          if np.isfinite(y)] + [r.get_height() for r in ax.patches if hasattr(r, "get_height")]
    if ys and max(abs(y) for y in ys) == 0 and lo < 0:  # an all-zero series: a 0-based axis, not -0.04..0.04
        ax.set_ylim(0, 1)
    fig.subplots_adjust(left=0.11, right=0.97, top=0.91, bottom=0.30)


def annual_total_chart(history: pd.DataFrame, bands: pd.DataFrame, assessment: dict, labels: dict,
                       zone_start_year: int, show_target: bool = True, published: pd.DataFrame | None = None):
    """A flow target set per year ("每年…不少于2000件"): each year's total against the target.

    Complete years are solid bars; the open years are the part observed so far plus the median of
    the simulated rest (hatched), and the due year carries the 80% interval of its total from the
    assessment. Years before the zone period are grey: they show the trend but do not count (a
    target dated 2025 still has 2023 and 2024 inside the zone period, in its colour).

    Parameters
    ----------
    history : DataFrame
        ``period``, ``year`` and ``value`` of the observed flows (quarters or years).
    bands : DataFrame
        ``period`` and ``q500`` of the simulated flows per future period.
    assessment : dict
        The indicator's row of ``assessments.csv`` (target, due, interval of the due year's total).
    labels : dict
        As :func:`indicator_chart`, plus ``observed``, ``projected`` and ``before_period``.
    zone_start_year : int
        The first year of the plan's zone period (2023); earlier years are "before the plan".
    show_target, published
        As :func:`indicator_chart`; ``published`` holds yearly totals (``period`` a year).

    Returns
    -------
    matplotlib.figure.Figure
    """
    use_cjk_font()
    fig, ax = new_axes(FIGSIZE)
    due = str(assessment.get("due") or "")
    due_year = int(due[:4]) if due else None
    obs = history.groupby("year")["value"].sum()
    proj = pd.Series(dtype=float)
    if len(bands):
        b = bands.assign(year=bands["period"].astype(str).str.slice(0, 4).astype(int))
        proj = b.groupby("year")["q500"].sum()
    years = sorted(set(obs.index) | set(proj.index))
    if due_year is not None:
        years = [y for y in years if y <= due_year]
    observed = np.array([float(obs.get(y, 0.0)) for y in years])
    projected = np.array([float(proj.get(y, 0.0)) for y in years])
    before = np.array([y < zone_start_year for y in years])
    if before.any():
        ax.bar(np.array(years)[before], observed[before], color="#b0b7bf", width=0.6, label=labels["before_period"])
    ax.bar(np.array(years)[~before], observed[~before], color="#1f4e79", width=0.6, label=labels["observed"])
    if projected.any():
        ax.bar(years, projected, bottom=observed, color="#9ecae1", hatch="//", edgecolor="#4292c6", width=0.6,
               label=labels["projected"])
    lo, hi = assessment.get("forecast_lo80"), assessment.get("forecast_hi80")
    if due_year is not None and due_year in years and lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
        ax.errorbar([due_year], [(lo + hi) / 2], yerr=[[(hi - lo) / 2]], fmt="none", ecolor="#08519c", capsize=6,
                    lw=1.5, label=labels["band80"])
    if published is not None and len(published):
        p = published[published["period"].astype(str).str.fullmatch(r"\d{4}")]
        p = p[p["period"].astype(int).isin(years)]
        if len(p):  # bars sit on whole years, not at the year's middle
            ax.scatter(p["period"].astype(int), p["value"].to_numpy(float), marker="D", s=42, color="#000000",
                       zorder=6, label=labels.get("published", "published"))
    tv = assessment.get("target_value")
    if show_target and tv is not None and np.isfinite(tv):
        _target_line(ax, tv, labels, assessment)
    if years:
        ax.set_xticks(years, [str(y) for y in years])
        ax.set_xlim(min(years) - 0.6, max(years) + 0.6)
    _finish(fig, ax, labels)
    return fig


def sections_chart(counts: pd.DataFrame, labels: dict):
    """The overview's chart: per section, its targets stacked by status.

    Parameters
    ----------
    counts : DataFrame
        ``section`` (names, top to bottom) and one column of counts per status code.
    labels : dict
        ``title`` and ``status`` (status code -> name in the report's language).

    Returns
    -------
    matplotlib.figure.Figure
    """

    use_cjk_font()
    fig, ax = new_axes((FIGSIZE[0], max(2.2, 0.42 * len(counts) + 1.4)))
    names = list(counts["section"])[::-1]
    left = np.zeros(len(counts))
    for s in [c for c in counts.columns if c != "section"]:
        v = counts[s].to_numpy(dtype=float)[::-1]
        if v.any():
            ax.barh(names, v, left=left, color=STATUS_COLOURS[s], label=labels["status"][s])
        left += v
    ax.set_title(labels["title"], fontsize=11, y=1.0)  # placed, not measured (see _finish)
    ax.tick_params(labelsize=PRINT_PT)
    ax.legend(fontsize=PRINT_PT, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, frameon=False)
    # a linear axis's locator is an AutoLocator, a MaxNLocator (the only locator with ``integer``)
    _shown_ticks_only(ax.xaxis)
    cast(MaxNLocator, ax.xaxis.get_major_locator()).set_params(integer=True)
    fig.tight_layout()  # section names differ in length: measured once per geography, not per indicator
    return fig
