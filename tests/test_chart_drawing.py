"""How one chart is drawn and written: the faster paths give the files the plain Matplotlib calls give."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest

from helpers.pages.charts import CHART_DPI, JPEG_QUALITY, save_jpeg
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
        save_jpeg(fig, str(tmp_path / "b.jpg"))
    finally:
        plt.close(fig)
    a, b = (tmp_path / "a.jpg").read_bytes(), (tmp_path / "b.jpg").read_bytes()
    assert a == b
    from PIL import Image

    with Image.open(tmp_path / "b.jpg") as im:
        assert im.size == (400, 240) and im.mode == "RGB"
        corner = np.asarray(im)[0, 0]
    assert corner.min() > 245  # white where nothing is drawn, transparent or not
