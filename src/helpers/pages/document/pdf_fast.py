"""fpdf2's measuring, made cheaper for the reports' PDFs (:mod:`helpers.pages.document.pdf` lays them out).

Three shortcuts, each giving what fpdf2 gives (tested against fpdf2's own result in
``tests/test_document_fast_paths.py``; fpdf2 is bounded to the minor version they follow in pyproject.toml):
table cell heights remembered, text widths summed directly, and the cut fonts' glyphs copied as they are.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import Align
from fpdf.fonts import TTFFont
from fpdf.table import Table as FpdfTable


class _MeasuredTable(FpdfTable):
    """fpdf2's table, remembering the height each cell's text needs.

    fpdf2 lays every cell out twice: once (writing disabled) to measure the row heights, then to
    draw it. The 14 reports of a quarter have 12,566 table cells but only 1,690 different ones
    (the plan's names, units, clauses and sources repeat), so the measuring pass is taken from
    :data:`_HEIGHTS` (this process's) when the same text was measured in the same column width,
    style and font before; the drawing pass is fpdf2's own. The height of a text does not depend
    on where on the page it is (fpdf2 adds up its lines), and the measuring pass's page-break
    flag is ignored by fpdf2.
    """

    def _render_table_cell(self, i, j, cell, row_height, cell_height_info=None, **kwargs):  # type: ignore[no-untyped-def]
        if cell_height_info is not None or kwargs or cell.img or cell.rowspan != 1 or cell.link:
            return super()._render_table_cell(i, j, cell, row_height, cell_height_info, **kwargs)
        pdf = self._fpdf
        align = cell.align or self._text_align
        # what is the same for every cell of the table, and each row's style, written out once, not the
        # 67,440 repr() of styles and 13,488 font lists of 2025Q2's 14 PDFs: their CPU 2.79-2.90 s ->
        # 2.69-2.74 s (3 runs each, alternated)
        same = self.__dict__.get("_same_key")
        if same is None:
            same = self._same_key = (self._line_height, repr(self._initial_style), repr(self._headings_style),
                                     repr(self._padding), self._wrapmode, self._markdown, pdf.c_margin, pdf.k,
                                     _font_files(pdf))
        rows = self.__dict__.setdefault("_row_keys", {})
        row = rows.get(i)
        if row is None:
            row = rows[i] = (i < self._num_heading_rows, repr(self.rows[i].style))
        key = (cell.text, self._get_col_width(i, j, cell.colspan), row_height, row,
               repr(cell.style) if cell.style is not None else None,
               repr(cell.padding) if cell.padding else None,
               str(align if isinstance(align, (Align, str)) else align[j]),
               pdf.font_family, pdf.font_style, pdf.font_size_pt, same)
        hit = _HEIGHTS.get(key)
        if hit is None:
            if len(_HEIGHTS) > 50_000:  # a long-lived process writing many quarters
                _HEIGHTS.clear()
            hit = _HEIGHTS[key] = super()._render_table_cell(i, j, cell, row_height, cell_height_info, **kwargs)
        return hit


_HEIGHTS: dict = {}


def _font_files(pdf: FPDF) -> tuple:
    """Which file each of ``pdf``'s fonts is (heights depend on the fonts' widths)."""
    return tuple(sorted((k, str(getattr(f, "ttffile", ""))) for k, f in pdf.fonts.items()))


def _keep_glyph_boxes(pdf: FPDF) -> None:
    """Let fpdf2 subset the fonts at output without unpacking every glyph again.

    fpdf2 embeds each font subset to the glyphs the PDF uses; fontTools then recomputes each kept
    glyph's bounding box, which means decoding and re-encoding its outlines: 0.4 s of a 1.6 s PDF
    (cProfile, city report, 2025Q4). The boxes of the run's cut (:mod:`.fonts`) were computed when
    it was cut and subsetting does not change an outline, so the glyphs are copied as they are;
    the embedded glyphs are the same, only the fonts' header totals keep the cut's values.
    """
    for font in pdf.fonts.values():
        if hasattr(font, "ttfont"):
            font.ttfont.recalcBBoxes = False


def text_width(pdf: FPDF):
    """``pdf.get_string_width`` for the current font and size, as a function of the text.

    The same sum fpdf2 computes (advance widths x size / 1000 / scale, in that order) without its
    per-call text parsing: the Chinese line breaking measures each piece of every paragraph and
    table cell, 100,000 calls a quarter, 3 of the 22 s of the PDFs under cProfile. fpdf2's own
    method where it would add spacing, stretching or text shaping.
    """
    font = pdf.current_font
    if (not isinstance(font, TTFFont) or font.is_symbol or pdf.font_stretching != 100 or pdf.char_spacing
            or pdf.text_shaping or getattr(pdf, "_fallback_font_ids", None)):
        return pdf.get_string_width
    cw, size, k = font.cw, pdf.font_size_pt, pdf.k

    def width(s: str) -> float:
        return sum(cw[ord(c)] for c in s) * size * 0.001 / k

    return width
