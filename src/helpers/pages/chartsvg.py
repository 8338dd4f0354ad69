"""A chart's SVG made fit to inline in a report page (:func:`compact_svg`).

Apart from :mod:`helpers.pages.charts` so that the page's size and fonts sit with the one function
that writes them."""

from __future__ import annotations

import re

DISPLAY_WIDTH = 720  # CSS px on the HTML pages (SVG: sharp at any density)

_FONT = re.compile(r"'Noto Sans CJK SC'")
FONT_FALLBACK = "'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"


def compact_svg(text: str) -> str:
    """Matplotlib's SVG made fit to inline in a page and still a valid file on its own.

    The XML declaration, DOCTYPE and RDF metadata go (a page holds several charts; 1.2 KB each);
    the size becomes :data:`DISPLAY_WIDTH` CSS px wide, scaling with the page (``viewBox`` kept);
    the font list ends with the common Chinese system fonts, so a machine without Noto Sans CJK
    SC shows Chinese in its own font rather than boxes.
    """
    text = re.sub(r"^<\?xml[^>]*>\s*", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>\s*", "", text)
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    m = re.search(r'<svg[^>]*viewBox="0 0 ([\d.]+) ([\d.]+)"', text)
    if m:
        w, h = float(m.group(1)), float(m.group(2))
        height = round(DISPLAY_WIDTH * h / w)
        text = re.sub(r'(<svg[^>]*?)\swidth="[^"]*"\s+height="[^"]*"',
                      rf'\1 width="{DISPLAY_WIDTH}" height="{height}" style="max-width:100%;height:auto"',
                      text, count=1)
    return _FONT.sub(FONT_FALLBACK, text)
