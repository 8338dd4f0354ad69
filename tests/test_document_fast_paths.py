"""The documents' fast paths give what the slow ones gave: widths to the last bit, the same Word XML."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def pdf():
    from helpers.pages.document.pdf import ReportPDF, cjk_font_files

    p = ReportPDF(format="A4")
    p.add_font("serif", fname=str(cjk_font_files()["serif"]))
    p.add_font("sans", fname=str(cjk_font_files()["serif"]))  # the running header's face; one file loads faster
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


def test_word_table_rows_copied_from_their_kinds_first_hold_their_own_values(tmp_path):
    from copy import deepcopy

    from docx import Document as Docx
    from docx.oxml.ns import qn
    from lxml import etree

    from helpers.pages.document.blocks import Document, Table
    from helpers.pages.document.word import write_docx

    rows = [["杭州市", "1.5", ""], ["西湖区", "2", "达标"], ["滨江区", " 3 ", "两行\n文字"], ["余杭区", "4", "x"]]
    doc = Document([Table(["地区", "数值", "说明"], rows, [40, 20, 60], align=["L", "R", "L"], highlight_rows=[1, 3])],
                   header="h", lang="zh", title="t")
    table = Docx(str(write_docx(doc, tmp_path / "t.docx"))).tables[0]
    assert [[c.text for c in r.cells] for r in table.rows] == [["地区", "数值", "说明"], *rows]
    shaded = [r._tr.find(f".//{qn('w:shd')}") is not None for r in table.rows]
    assert shaded == [True, False, True, False, True]  # the header, and the highlighted rows 1 and 3
    assert [c.paragraphs[0].alignment for c in table.rows[3].cells] == [c.paragraphs[0].alignment
                                                                         for c in table.rows[1].cells]
    assert table.rows[3].cells[2]._tc.find(f".//{qn('w:br')}") is not None  # a newline as add_run writes it

    def bare(tr):  # a row's XML without its texts
        tr = deepcopy(tr)
        for r in tr.iter(qn("w:r")):
            for child in [c for c in r if c.tag != qn("w:rPr")]:
                r.remove(child)
        return etree.tostring(tr)

    assert bare(table.rows[3]._tr) == bare(table.rows[1]._tr)
    assert bare(table.rows[4]._tr) == bare(table.rows[2]._tr) != bare(table.rows[1]._tr)


def test_measured_table_rows_are_as_high_as_fpdf2_measures_them(pdf):
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    from helpers.pages.document import pdf as writer

    rows = [["指标", "说明"], ["每万人口高价值发明专利拥有量", "两行\n文字"], ["短", "x" * 200], ["短", "两行\n文字"]]

    def height(table_method) -> float:
        pdf.add_page()
        pdf.set_font("serif", size=8)
        top = pdf.get_y()
        with table_method(col_widths=(30, 60), width=90, line_height=4, padding=(0.8, 1.0),
                          headings_style=FontFace(family="serif", size_pt=8, fill_color=(230, 234, 240))) as t:
            for r in rows:
                row = t.row()
                for c in r:
                    row.cell(c)
        return pdf.get_y() - top

    if pdf.page_no() == 0:
        pdf.add_page()  # the cover: the tables go on pages with the running header, which all start at one y
    writer._HEIGHTS.clear()
    plain = height(lambda **kw: FPDF.table(pdf, **kw))
    assert not writer._HEIGHTS
    cold = height(pdf.table)
    assert len(writer._HEIGHTS) == 6  # 8 cells; "两行\n文字" in the same column twice, "短" twice: measured once each
    warm = height(pdf.table)
    assert warm == cold == plain > 4 * 4 * 2  # the wrapped 200 x's take several lines
