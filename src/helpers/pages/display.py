"""Putting a page part into the notebook's output: HTML, a PNG at the pages' width, a Matplotlib figure."""

from __future__ import annotations

import html

import numpy as np


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
