"""The documents' fast paths give what the slow ones gave: widths to the last bit, the same Word XML."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pdf():
    from helpers.pages.document.pdf import ReportPDF, cjk_font_files

    p = ReportPDF(format="A4")
    p.add_font("serif", fname=str(cjk_font_files()["serif"]))
    return p


@pytest.mark.parametrize("size", [8, 10.5, 12, 16])
def test_text_width_is_fpdf2s_string_width(pdf, size):
    from helpers.pages.document.pdf import text_width

    pdf.set_font("serif", size=size)
    measure = text_width(pdf)
    assert measure != pdf.get_string_width  # the fast path is taken for these fonts
    for s in ("", "专利", "每万人口高价值发明专利拥有量（件）", "2025Q4 high-value patents 18.5%", "≥≤×—“”（）、。",
              "\u3000\u3000首行缩进", "𠀀"):  # the last one has no glyph in the font: its default width
        assert measure(s) == pdf.get_string_width(s), s


def test_text_width_falls_back_when_fpdf2_would_space_the_letters(pdf):
    from helpers.pages.document.pdf import text_width

    pdf.set_font("serif", size=12)
    pdf.set_char_spacing(1)
    try:
        assert text_width(pdf) == pdf.get_string_width
    finally:
        pdf.set_char_spacing(0)
