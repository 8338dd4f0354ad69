"""How one chart is drawn and written: the faster paths give the files the plain Matplotlib calls give."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest

from helpers.pages.charts import CHART_DPI, JPEG_QUALITY
from helpers.pages.chartjpeg import save_jpeg
from helpers.pages.plots import ShownAutoLocator, ShownMaxNLocator, use_cjk_font


def _svg(fig) -> bytes:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "test"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue().encode()


def _figure(x, y, shown: bool):
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(3, 2), dpi=100)
    ax.plot(x, y)
    ax.xaxis.set_major_locator(ShownMaxNLocator(integer=True) if shown else MaxNLocator(integer=True))
    if shown:
        ax.yaxis.set_major_locator(ShownAutoLocator())
    return fig, ax


@pytest.mark.parametrize("y", [[0.3, 7.7], [0.0011, 0.0037], [-120.0, 98000.0], [2.5, 2.5000004], [-3.0, -1.0]])
def test_shown_locators_draw_the_same_ticks_without_the_ones_outside(y):
    import matplotlib.pyplot as plt

    use_cjk_font()
    x = [2019.4, 2025.6]
    fig0, ax0 = _figure(x, y, shown=False)
    fig1, ax1 = _figure(x, y, shown=True)
    try:
        assert _svg(fig0) == _svg(fig1)  # the same ticks, labels and grid lines drawn
        for a0, a1 in ((ax0.xaxis, ax1.xaxis), (ax0.yaxis, ax1.yaxis)):
            lo, hi = sorted(a1.get_view_interval())
            shown = a1.get_majorticklocs()
            assert len(shown) >= 2 and all(lo <= v <= hi for v in shown)
            everything = a0.get_majorticklocs()
            assert list(shown) == [v for v in everything if lo <= v <= hi]
        # MaxNLocator's ticks reach past both ends here: the ones the axis made and never drew
        assert len(ax1.yaxis.get_majorticklocs()) < len(ax0.yaxis.get_majorticklocs())
    finally:
        plt.close(fig0)
        plt.close(fig1)


@pytest.mark.parametrize("opaque", [True, False])
def test_save_jpeg_writes_the_bytes_savefig_writes(tmp_path, opaque):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.2), dpi=100)
    ax.fill_between([0, 1, 2], [0, 1, 0.5], color="#4292c6", alpha=0.45)
    ax.plot([0, 1, 2], [1, 0, 1], color="#d1242f")
    if not opaque:  # no background drawn: transparent pixels, Matplotlib's paste onto white
        fig.patch.set_visible(False)
        ax.patch.set_visible(False)
    try:
        fig.savefig(tmp_path / "a.jpg", format="jpg", dpi=CHART_DPI, facecolor="white",
                    pil_kwargs={"quality": JPEG_QUALITY})
        save_jpeg(fig, str(tmp_path / "b.jpg"), CHART_DPI, JPEG_QUALITY)
    finally:
        plt.close(fig)
    a, b = (tmp_path / "a.jpg").read_bytes(), (tmp_path / "b.jpg").read_bytes()
    assert a == b
    from PIL import Image

    with Image.open(tmp_path / "b.jpg") as im:
        assert im.size == (400, 240) and im.mode == "RGB"
        corner = np.asarray(im)[0, 0]
    assert corner.min() > 245  # white where nothing is drawn, transparent or not


LABELS = dict(title="专利授权量", unit="件", history="历史", median="中位数", band80="80%区间", band95="95%区间",
              target="目标", due="期限", achieved="已实现", observed="已观测", projected="预计其余",
              before_period="规划期前", published="公布数")


def _series(level: float, n: int = 10):
    import pandas as pd

    periods = [f"{2023 + q // 4}Q{q % 4 + 1}" for q in range(n)]
    history = pd.DataFrame({"period": periods[:-3], "year": [int(p[:4]) for p in periods[:-3]],
                            "value": level * (1 + 0.1 * np.arange(n - 3))})
    bands = pd.DataFrame({"period": periods[-3:], **{q: level * f * np.array([1.7, 1.8, 1.9]) for q, f in
                          (("q025", 0.8), ("q100", 0.9), ("q500", 1.0), ("q900", 1.1), ("q975", 1.2))}})
    return history, bands


def _chart_svgs(order):
    """The SVG of each chart in ``order`` (``"small"``, ``"large"``, ``"annual"``, ``"sections"``), drawn in that order."""
    import matplotlib.pyplot as plt
    import pandas as pd

    from helpers.pages.plots import annual_total_chart, indicator_chart, sections_chart

    out = {}
    for name in order:
        if name == "sections":
            counts = pd.DataFrame({"section": ["创造", "运用", "保护"], "achieved": [2, 0, 1], "at_risk": [1, 3, 0]})
            fig = sections_chart(counts, {"title": "各部分目标", "status": {"achieved": "已实现", "at_risk": "有风险"}})
        elif name == "annual":
            h, b = _series(500.0)
            fig = annual_total_chart(h, b, {"target_value": 2000.0, "due": "2025Q4", "forecast_lo80": 1800.0,
                                            "forecast_hi80": 2300.0}, LABELS, zone_start_year=2023)
        else:  # very different ranges and a title set: whatever one leaves behind would show in the other
            h, b = _series(0.004 if name == "small" else 90000.0)
            fig = indicator_chart(h, b, {"target_value": float(h["value"].iloc[-1] * 2), "due": "2025Q4",
                                         "status": "achieved"}, {**LABELS, "title": name})
        out[name] = _svg(fig)
        plt.close(fig)
    return out


def test_charts_from_the_blank_figure_are_the_charts_plt_subplots_draws_in_any_order():
    import matplotlib.pyplot as plt

    from helpers.pages.chartstep import chart_step_drawing

    use_cjk_font()
    names = ["small", "large", "annual", "sections"]
    fresh = _chart_svgs(names)
    open_figures = plt.get_fignums()
    with chart_step_drawing():
        forward = _chart_svgs(names)
        backward = _chart_svgs(names[::-1])
        again = _chart_svgs(names)
    assert forward == fresh and backward == fresh and again == fresh
    assert plt.get_fignums() == open_figures  # copies are not registered with pyplot: nothing left open
    assert len(set(fresh.values())) == 4  # four different charts compared, not one picture


def test_new_axes_copies_are_independent_figures():
    from helpers.pages.chartstep import X_TICKS, Y_TICKS, chart_step_drawing, new_axes

    with chart_step_drawing():
        fig1, ax1 = new_axes((3.0, 2.0))
        ax1.set_title("one")
        ax1.plot([0, 1], [5, 6])
        fig2, ax2 = new_axes((3.0, 2.0))
    assert fig1 is not fig2 and ax2.get_title() == "" and not ax2.get_lines()
    assert len(ax2.xaxis.majorTicks) == X_TICKS and len(ax2.yaxis.majorTicks) == Y_TICKS
    assert tuple(fig2.get_size_inches()) == (3.0, 2.0) and fig2.dpi == 100
    fig3, _ = new_axes((3.0, 2.0))  # outside the context: plt.subplots, registered with pyplot
    import matplotlib.pyplot as plt

    assert fig3.number in plt.get_fignums()
    plt.close(fig3)


def _measure(renderer, text, size=10.0, family="sans-serif"):
    import matplotlib.text as mtext
    from matplotlib.font_manager import FontProperties

    return mtext._get_text_metrics_with_cache(renderer, text, FontProperties(family=family, size=size), False, 100)


def test_text_sizes_kept_across_renderers_are_matplotlibs_and_follow_the_font_settings():
    import matplotlib.text as mtext
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    from helpers.pages import chartstep
    from helpers.pages.chartstep import chart_step_drawing

    use_cjk_font()
    real = mtext._get_text_metrics_with_cache
    texts = ["2024", "专利授权量（件）", "95%区间"]
    svg, agg100, agg200 = RendererSVG(100, 100, io.StringIO()), RendererAgg(100, 100, 100), RendererAgg(100, 100, 200)
    expected = [_measure(r, t, s) for r in (svg, agg100, agg200) for t in texts for s in (10.0, 12.0)]
    chartstep._METRICS.clear()  # what earlier tests' charts left
    with chart_step_drawing():
        assert mtext._get_text_metrics_with_cache is not real
        got = [_measure(r, t, s) for r in (svg, agg100, agg200) for t in texts for s in (10.0, 12.0)]
        kept = len(chartstep._METRICS)
        again = [_measure(r, t, s) for r in (RendererSVG(50, 50, io.StringIO()), RendererAgg(10, 10, 100),
                                             RendererAgg(10, 10, 200)) for t in texts for s in (10.0, 12.0)]
        assert len(chartstep._METRICS) == kept == 18  # new renderers of the same kinds: nothing measured again
    assert mtext._get_text_metrics_with_cache is real
    assert got == expected and again == expected
    assert expected[0] != expected[12]  # Agg at 200 dpi measures in its own pixels: kept apart
    # another font first in the list: what was kept is dropped, the new font measured
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        fresh = _measure(RendererSVG(100, 100, io.StringIO()), "2024")
        with chart_step_drawing():
            assert _measure(RendererSVG(100, 100, io.StringIO()), "2024") == fresh != expected[0]


def test_a_copied_figures_transforms_know_their_parents_by_their_own_ids():
    """Unpickled, Matplotlib keys a transform's parents by the ids they had when pickled; a new transform
    at such a reused address took a live parent's entry and left a tick label's position stale."""
    from helpers.pages.chartstep import chart_step_drawing, new_axes

    with chart_step_drawing():
        fig, ax = new_axes((3.5, 2.5))
    tick = ax.yaxis.majorTicks[0]
    nodes = [fig.transFigure, fig.dpi_scale_trans, ax.transAxes, ax.transData, ax.transLimits,
             tick.label1.get_transform(), tick.gridline.get_transform()]
    seen = 0
    for node in nodes:
        for key, ref in node._parents.items():
            assert ref() is not None and key == id(ref())
            seen += 1
    assert seen > 5  # the parents were checked, not an empty figure's nothing


def test_font_line_heights_kept_are_the_ones_matplotlib_reads_from_the_font():
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    from helpers.pages.chartstep import chart_step_drawing

    use_cjk_font()
    fig = plt.figure(figsize=(3, 2), dpi=100)
    texts = [fig.text(0.1, 0.5, "专利授权量\n（件）", fontsize=12), fig.text(0.5, 0.5, "2024", fontsize=10)]
    try:
        def layouts():
            out = []
            for renderer, dpi in ((RendererSVG(100, 100, io.StringIO()), 72), (RendererAgg(300, 200, 100), 100),
                                  (RendererAgg(600, 400, 200), 200)):
                fig.dpi = dpi  # as savefig sets it for each renderer
                out += [(t._get_layout(renderer)[0].bounds, t._get_layout(renderer)[1]) for t in texts]
            fig.dpi = 100
            return out

        expected = layouts()
        with chart_step_drawing():
            assert hasattr(RendererSVG, "_get_font_height_metrics") and hasattr(RendererAgg, "_get_font_height_metrics")
            assert layouts() == expected and layouts() == expected
        assert not hasattr(RendererSVG, "_get_font_height_metrics") and not hasattr(RendererAgg, "_get_font_height_metrics")
    finally:
        plt.close(fig)


def test_with_a_matplotlib_not_checked_the_chart_step_takes_no_shortcut(monkeypatch):
    """The shortcuts use Matplotlib's internals, checked against the versions of ``TESTED_MATPLOTLIB``
    only; with another version, a chart is drawn Matplotlib's own way."""
    import matplotlib
    import matplotlib.text as mtext

    from helpers.pages import chartstep

    real = mtext._get_text_metrics_with_cache
    with chartstep.chart_step_drawing():
        assert chartstep.tested_matplotlib() == matplotlib.__version__.startswith("3.11.")
        assert (mtext._get_text_metrics_with_cache is real) is not chartstep.tested_matplotlib()
    monkeypatch.setattr(matplotlib, "__version__", "3.12.0")
    with chartstep.chart_step_drawing():
        assert mtext._get_text_metrics_with_cache is real and not chartstep._state["active"]
        fig, ax = chartstep.new_axes((7.2, 3.8))
        assert fig.axes == [ax]
        import matplotlib.pyplot as plt

        plt.close(fig)
