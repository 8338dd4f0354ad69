"""A chart's empty figure and axes (:func:`new_axes`), copied from a pickled blank one in the chart step.

``plt.subplots`` builds the Figure, the Axes and their first ticks from the rcParams; the axes then
make a ``Tick`` (three lines, two texts, deep-copied marker styles) for each tick label they draw, at
about 0.44 CPU-ms each, 10 to 13 a chart. Inside :func:`from_blank_figures` (the chart step's
:func:`helpers.pages.charts._render_one`), a figure is instead unpickled from a blank one made once
per size and process, whose axes already hold :data:`X_TICKS` and :data:`Y_TICKS` ticks: 2.1 ms instead
of 4.4 ms for the figure, about 0.17 ms instead of 0.44 ms a tick (measured one by one, 100 each).

Every chart gets its own copy, so nothing one chart does reaches the next; the copy is taken of a
figure made under the rcParams of the process at its first chart, which is why only the chart step
(whose workers set the style once, :func:`helpers.pages.plots.use_cjk_font`, and never change it)
asks for it: elsewhere (reports drawn on their own, a notebook changing the style) a figure is made
by ``plt.subplots`` as before. The files drawn either way are byte-identical
(``benchmarks/bench_charts.py``; ``tests/test_chart_drawing.py``).
"""

from __future__ import annotations

import pickle
from contextlib import contextmanager

# ticks made in the blank axes: of 2025Q2's 120 first charts, 80 draw 4 to 6 years (x), 94 draw 4 to 6
# values (y); a tick made and not used costs its unpickling (0.17 ms), one missing is made as before
X_TICKS, Y_TICKS = 5, 6

_BLANK: dict[tuple[float, float], bytes] = {}
_from_blank = False


@contextmanager
def from_blank_figures():
    """Within this context :func:`new_axes` copies a pickled blank figure instead of building one."""
    global _from_blank
    before, _from_blank = _from_blank, True
    try:
        yield
    finally:
        _from_blank = before


def new_axes(figsize: tuple[float, float]):
    """A new figure of ``figsize`` inches at 100 dpi with one Axes, as ``plt.subplots(figsize=figsize, dpi=100)``.

    Returns
    -------
    (Figure, Axes)
    """
    import matplotlib.pyplot as plt

    if not _from_blank:
        return plt.subplots(figsize=figsize, dpi=100)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    blob = _BLANK.get(figsize)
    if blob is None:
        fig, ax = plt.subplots(figsize=figsize, dpi=100)
        ax.xaxis.get_major_ticks(X_TICKS)
        ax.yaxis.get_major_ticks(Y_TICKS)
        plt.close(fig)  # pickled out of pyplot: a copy is not registered with it (nothing to close)
        blob = _BLANK[figsize] = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
    fig = pickle.loads(blob)
    FigureCanvasAgg(fig)  # the canvas plt.subplots gives under the Agg backend
    return fig, fig.axes[0]
