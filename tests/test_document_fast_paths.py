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


def _lines(pdf, breaker, text: str, width: float, **kw) -> tuple[list, list]:
    """The lines ``breaker`` (fpdf2's MultiLineBreak or a subclass) makes of ``text`` in the current font."""
    from fpdf.enums import Align, WrapMode

    frags = pdf._preload_font_styles(text, False)
    brk = breaker(frags, width, [pdf.c_margin, pdf.c_margin], align=kw.get("align", Align.L),
                  wrapmode=kw.get("wrapmode", WrapMode.CHAR), first_line_indent=kw.get("indent", 0))
    out, states = [], []
    while (line := brk.get_line()) is not None:
        out.append(line)
        states.append((brk.fragment_index, brk.character_index, brk._is_first_line))
    return out, states


@pytest.mark.parametrize("text", [
    "\u3000\u3000每万人口高价值发明专利拥有量达到18.5件，\n比2022年提高4.2件。", "短", "", "\n", "两行\n", "\n\n空行\n\n",
    "a b  c\nd e", "x" * 200, "超长" * 60 + "\n短", "soft\u00adhyphen\nand\u00a0nbsp", "tab\there\n\u200bzero",
    "2025Q4 high-value patents 18.5%\nfits", "（一）" + "专利" * 40])
@pytest.mark.parametrize("align", ["L", "J", "C", "R"])
def test_whole_lines_are_the_lines_fpdf2_breaks(pdf, text, align):
    from fpdf.enums import Align, WrapMode
    from fpdf.line_break import MultiLineBreak

    from helpers.pages.document.pdf_lines import _LineBreak

    pdf.set_font("serif", size=10.5)
    for wrap in (WrapMode.CHAR, WrapMode.WORD):
        for indent in (0, 4.2):
            kw = dict(align=Align.coerce(align), wrapmode=wrap, indent=indent)
            theirs, their_states = _lines(pdf, MultiLineBreak, text, 60, **kw)
            ours, our_states = _lines(pdf, _LineBreak, text, 60, **kw)
            assert ours == theirs  # the fragments (characters, style), width to the bit, spaces, height, alignment
            assert [type(t) for line in ours for t in (line.text_width, line.height)] == \
                   [type(t) for line in theirs for t in (line.text_width, line.height)]
            assert [[f.link for f in line.fragments] for line in ours] == \
                   [[f.link for f in line.fragments] for line in theirs]
            assert our_states == their_states


def test_whole_lines_are_taken_whole_where_they_fit(pdf, monkeypatch):
    from fpdf.line_break import MultiLineBreak

    from helpers.pages.document.pdf_lines import _LineBreak

    walked = []
    monkeypatch.setattr(MultiLineBreak, "get_line", lambda self: walked.append(1) or None)
    pdf.set_font("serif", size=12)
    lines, _ = _lines(pdf, _LineBreak, "第一行\n第二行，有 空格\n", 60)
    assert ["".join(ln.fragments[0].characters) for ln in lines] == ["第一行", "第二行，有 空格"]
    assert lines[1].number_of_spaces == 1
    assert len(walked) == 1  # only the end of the text (nothing after the last newline) was left to fpdf2
    walked.clear()
    _lines(pdf, _LineBreak, "专利" * 60, 60)  # wider than the cell: fpdf2 breaks it
    assert walked


def test_whole_lines_only_with_a_tested_fpdf2(monkeypatch):
    import fpdf
    import fpdf.fpdf as fpdf_module
    from fpdf.line_break import MultiLineBreak

    from helpers.pages.document.pdf_lines import _LineBreak, whole_lines

    with whole_lines():
        assert fpdf_module.MultiLineBreak is _LineBreak
        with whole_lines():
            assert fpdf_module.MultiLineBreak is _LineBreak
        assert fpdf_module.MultiLineBreak is _LineBreak  # the inner context leaves the outer's in place
    assert fpdf_module.MultiLineBreak is MultiLineBreak
    monkeypatch.setattr(fpdf, "__version__", "2.9.0")
    with whole_lines():
        assert fpdf_module.MultiLineBreak is MultiLineBreak


@pytest.mark.parametrize("text", ["", "专利", " leading", "trailing ", "a\tb", "two\nlines", "cr\rhere", "≥80%（2025）"])
def test_run_text_is_python_docxs_run_text(text):
    from docx import Document as Docx
    from lxml import etree

    from helpers.pages.document.word import _run_text

    p = Docx().add_paragraph()
    theirs, ours = p.add_run("old\ttext"), p.add_run("old\ttext")
    theirs.font.size = ours.font.size = 120000  # a w:rPr, which stays
    theirs._r.text = text
    _run_text(ours._r, text)
    assert etree.tostring(ours._r) == etree.tostring(theirs._r)
    assert ours.text == text.replace("\r", "\n")


def test_word_headings_and_rows_remembered_across_tables_give_the_same_xml(tmp_path, monkeypatch):
    import zipfile

    from docx import Document as Docx

    from helpers.pages.document import word
    from helpers.pages.document.blocks import Document, Heading, Table

    def table(rows, shade):
        return Table(["地区", "数值"], rows, [40, 20], align=["L", "R"], highlight_rows=shade)

    blocks = [Heading("一、总体情况", 1), table([["杭州市", "1"], ["西湖区", "2"]], [1]), Heading("（一）分领域", 2),
              table([["滨江区", "3"], ["余杭区", " 4 "], ["萧山区", "5"]], [0]), Heading("三级", 3)]
    doc = Document(blocks, header="h", lang="zh", title="t")

    def body(name):
        with zipfile.ZipFile(word.write_docx(doc, tmp_path / name)) as z:
            return z.read("word/document.xml")

    class Forget(dict):
        def __setitem__(self, key, value):
            pass

    monkeypatch.setattr(word, "_ROWS", Forget())
    laid_out = body("laid_out.docx")  # every table's first row of each kind laid out through python-docx
    monkeypatch.setattr(word, "_ROWS", {})
    cold = body("cold.docx")  # the first table's laid out, the second's copied
    assert len(word._ROWS) == 3
    warm = body("warm.docx")  # every row a copy
    assert warm == cold == laid_out
    read = Docx(str(tmp_path / "warm.docx"))
    assert [[c.text for c in r.cells] for r in read.tables[1].rows] == [["地区", "数值"], ["滨江区", "3"],
                                                                         ["余杭区", " 4 "], ["萧山区", "5"]]
    expected = Docx()
    for level in (1, 2, 3):
        expected.add_heading("x", level)
    assert [p.style.style_id for p in read.paragraphs if p.text in ("一、总体情况", "（一）分领域", "三级")] == \
           [p.style.style_id for p in expected.paragraphs[-3:]] == ["Heading1", "Heading2", "Heading3"]
