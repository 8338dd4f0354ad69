"""Shortcuts the chart step takes inside :func:`chart_step_drawing`, each giving the files plain Matplotlib gives.

The chart step (:func:`helpers.pages.charts._render_one`) draws a quarter's 336 charts in worker
processes that set the style once (:func:`helpers.pages.plots.use_cjk_font`) and never change it.
Three things Matplotlib does again for every chart can then be done once per process:

* **the empty figure** (:func:`new_axes`). ``plt.subplots`` builds the Figure, the Axes and their
  first ticks from the rcParams; the axes then make a ``Tick`` (three lines, two texts, deep-copied
  marker styles) for each tick label they draw, about 0.44 CPU-ms each, 10 to 13 a chart. Here a
  figure is unpickled from a blank one made once per size and process, whose axes already hold
  :data:`X_TICKS` and :data:`Y_TICKS` ticks, and its transforms' parents are keyed by their own ids
  again (:func:`_unpickle`): 3.6 CPU-ms instead of 7.9 ms for the figure with its 11 ticks (200 each,
  one process). Every chart gets its own copy, so nothing one chart does reaches the next.
* **text measurements** (:func:`_text_metrics`). Matplotlib caches a text's width, height and
  descent per renderer, and every ``savefig`` makes a new renderer, so each chart measures its tick
  labels, legend entries and title again through FreeType (``FT2Font.set_text`` on the CJK font,
  about a seventh of an SVG chart's CPU in cProfile). The measurement depends on the text, the
  font properties, the renderer's kind and resolution and the font settings only, so here it is
  kept across charts, keyed on all of these.
* **font line heights** (:func:`_font_heights`). Laying out a text, Matplotlib looks its font up
  and reads the ascent, descent and line gap from the font's tables (about 25 us, 60 times a
  chart) unless the renderer offers them (``_get_font_height_metrics``); inside the context the
  SVG and Agg renderers do, computed once per font, size and resolution.

Elsewhere (reports drawn on their own, a notebook changing the style) figures are made by
``plt.subplots`` and measured by Matplotlib as before. The files drawn either way are byte-identical
(``benchmarks/bench_charts.py``; ``tests/test_chart_drawing.py``).
"""

from __future__ import annotations

import pickle
import weakref
from contextlib import contextmanager

# ticks made in the blank axes: of 2025Q2's 120 first charts, 80 draw 4 to 6 years (x), 94 draw 4 to 6
# values (y); a tick made and not used costs its unpickling (0.17 ms), one missing is made as before
X_TICKS, Y_TICKS = 5, 6

_BLANK: dict[tuple[float, float], bytes] = {}
_METRICS: dict[tuple, tuple[float, float, float]] = {}
_METRICS_MAX = 20000  # entries (a few hundred distinct texts a quarter); emptied when full
_FONT_SETTINGS = ("font.family", "font.sans-serif", "font.serif", "font.monospace", "font.cursive", "font.fantasy",
                  "font.style", "font.variant", "font.weight", "font.stretch", "font.size", "text.hinting",
                  "text.hinting_factor", "text.kerning_factor", "font.enable_last_resort")
_state: dict = {"active": False, "fonts": None, "real": None}


@contextmanager
def chart_step_drawing():
    """Within this context (also a decorator), :func:`new_axes` copies a pickled blank figure and text
    measurements are kept across charts.

    The measurements and blank figures kept are dropped when the font settings or the fonts
    Matplotlib knows differ from those they were taken with (other style settings are the
    caller's to keep: see the module's docstring).
    """
    import matplotlib.text as mtext

    if _state["active"] or not tested_matplotlib():  # nested: already in place; else Matplotlib's own way
        yield
        return
    fonts = _font_state()
    if fonts != _state["fonts"]:
        _METRICS.clear()
        _BLANK.clear()
        _state["fonts"] = fonts
    real = _state["real"] = mtext._get_text_metrics_with_cache
    _state["active"] = True
    mtext._get_text_metrics_with_cache = _text_metrics
    hooked = _hook_font_heights()
    try:
        yield
    finally:
        mtext._get_text_metrics_with_cache = real
        for cls in hooked:
            delattr(cls, "_get_font_height_metrics")
        _state["active"] = False


#: the Matplotlib versions whose internals these shortcuts were checked against (files byte-identical:
#: ``benchmarks/bench_charts.py``); with another, charts are drawn without them
TESTED_MATPLOTLIB = ("3.11.",)


def tested_matplotlib() -> bool:
    """Whether the installed Matplotlib is one the shortcuts were checked against (:data:`TESTED_MATPLOTLIB`)."""
    import matplotlib

    return matplotlib.__version__.startswith(TESTED_MATPLOTLIB)


def _hook_font_heights() -> list:
    """Give the SVG and Agg renderers Matplotlib's hook for a font's line heights, kept across charts.

    ``Text._get_layout`` asks a renderer for ``_get_font_height_metrics`` and, where it lacks one
    (SVG and Agg do), looks the font up and reads its OS/2 or hhea table: about 25 us, 60 times a
    chart. :func:`_font_heights` computes the same numbers once per font, size and resolution.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_svg import RendererSVG

    hooked = []
    for cls in (RendererSVG, RendererAgg):
        if not hasattr(cls, "_get_font_height_metrics"):  # a Matplotlib that has its own: left to it
            setattr(cls, "_get_font_height_metrics", _font_heights)  # noqa: B010 - an attribute the classes lack
            hooked.append(cls)
    return hooked


def _font_heights(renderer, fontprop):
    """``(ascent, descent, line gap)`` of ``fontprop``'s font in pixels, as ``Text._get_layout`` computes them.

    Its resolution is the figure's: 72 while Matplotlib writes an SVG (``print_svg`` sets it), the
    renderer's for Agg (the canvas makes its renderer at the figure's dpi).
    """
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.font_manager import fontManager, get_font

    dpi = 72 if isinstance(renderer, RendererSVG) else renderer.dpi
    prop = fontprop.copy()
    key = ("heights", dpi, prop)
    got = _METRICS.get(key)
    if got is None:
        got = (None, None, None)
        font = get_font(fontManager._find_fonts_by_props(prop))
        for table_name, linegap_key, ascent_key, descent_key in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"), ("hhea", "lineGap", "ascent", "descent")):
            table = font.get_sfnt_table(table_name)
            if table is None:
                continue
            # the same operations in the same order as Text._get_layout, so the same floats
            fontsize = prop.get_size_in_points()
            units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
            scale = 1 / units_per_em * fontsize * dpi / 72
            got = (table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale)
            break
        _METRICS[key] = got
    return got


def _font_state() -> tuple:
    """What a text's measurement depends on besides the text, its font properties and the renderer."""
    import matplotlib
    from matplotlib import font_manager

    rc = matplotlib.rcParams
    # rcParams is typed by its literal key names; _FONT_SETTINGS holds such names
    values = tuple(tuple(v) if isinstance(v, list) else v for v in (rc[k] for k in _FONT_SETTINGS))  # type: ignore[index]
    return values, id(font_manager.fontManager), len(font_manager.fontManager.ttflist)


def _text_metrics(renderer, text, fontprop, ismath, dpi):
    """``matplotlib.text._get_text_metrics_with_cache``, with the results kept across renderers.

    SVG's measurement (``TextToPath``) does not depend on the renderer at all; Agg's depends on its
    dpi, which is in the key. Other renderers and mathematical text go to Matplotlib's own cache.
    """
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.backends.backend_svg import RendererSVG

    # savefig's SVG renderer is wrapped in a MixedModeRenderer (RendererAgg's own _renderer is its C++ half)
    base = renderer._renderer if isinstance(renderer, MixedModeRenderer) else renderer
    kind = type(base)
    if ismath or (kind is not RendererSVG and kind is not RendererAgg):
        return _state["real"](renderer, text, fontprop, ismath, dpi)
    prop = fontprop.copy()  # FontProperties is mutable and hashed by its state
    key = (kind, base.dpi if kind is RendererAgg else None, text, prop)
    got = _METRICS.get(key)
    if got is None:
        if len(_METRICS) >= _METRICS_MAX:
            _METRICS.clear()
        got = _METRICS[key] = base.get_text_width_height_descent(text, prop, ismath)
    return got


def new_axes(figsize: tuple[float, float]):
    """A new figure of ``figsize`` inches at 100 dpi with one Axes, as ``plt.subplots(figsize=figsize, dpi=100)``.

    Returns
    -------
    (Figure, Axes)
    """
    import matplotlib.pyplot as plt

    if not _state["active"]:
        return plt.subplots(figsize=figsize, dpi=100)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    blob = _BLANK.get(figsize)
    if blob is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=100)
        ax.xaxis.get_major_ticks(X_TICKS)
        ax.yaxis.get_major_ticks(Y_TICKS)
        plt.close(fig)  # pickled out of pyplot: a copy is not registered with it (nothing to close)
        blob = _BLANK[figsize] = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
    fig = _unpickle(blob)
    FigureCanvasAgg(fig)  # the canvas plt.subplots gives under the Agg backend
    return fig, fig.axes[0]


def _unpickle(blob: bytes):
    """The pickled figure, with each transform's parents keyed by their own ``id``.

    A Matplotlib transform finds the transforms built on it (to invalidate them when it changes) in a
    dict keyed by their ``id``; unpickled, that dict keeps the ids the parents had in the process that
    pickled them. Once those addresses were reused, a new transform could take a live parent's entry,
    which then kept a stale position: the y tick labels of about one chart in 336 drawn 17 pt too far
    left, depending on the order of the charts (found by ``benchmarks/bench_charts.py --jpg-every 1``).
    """
    from matplotlib.transforms import TransformNode

    nodes: list = []
    restore = TransformNode.__dict__["__setstate__"]

    def collect(self, state):
        restore(self, state)
        nodes.append(self)

    setattr(TransformNode, "__setstate__", collect)  # noqa: B010 - for this one load only
    try:
        fig = pickle.loads(blob)
    finally:
        setattr(TransformNode, "__setstate__", restore)  # noqa: B010
    for node in nodes:  # as TransformNode.set_children registers a parent
        parents: dict = {}
        for ref in node._parents.values():
            if (parent := ref()) is not None:
                parents[id(parent)] = weakref.ref(parent, _forget(parents, id(parent)))
        node._parents = parents
    return fig


def _forget(parents: dict, key: int):
    """The callback dropping a dead parent's entry (``TransformNode.set_children``'s)."""
    return lambda _: parents.pop(key)
