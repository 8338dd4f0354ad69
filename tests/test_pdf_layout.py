"""The PDF layout's page breaks (pages/document/pdf.py): a heading goes with what it introduces."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from helpers.pages.document import pdf as pdf_layout
from helpers.pages.document.blocks import Cover, Document, Heading, Image, PageBreak, Para, Table

SENTENCE = "本项目标按计划推进，全年完成情况见下表。"
FILLER = "知识产权行政保护工作稳步推进，案件办理质量和效率持续提升，调解和仲裁等多元化纠纷解决机制不断完善。" * 3


def _table():
    return Table(header=["指标", "目标值", "完成值"], rows=[["行政裁决案件", "≤50天", "45.6天"]] * 12,
                 widths_mm=[80, 38, 38], caption="表1 指标完成情况")


def _doc(filler: tuple, tail: list) -> Document:
    """Cover, then a page with ``filler[0]`` long paragraphs and ``filler[1]`` one-line ones, then ``tail``."""
    blocks = [Cover("测试报告", "终期评估", []), PageBreak(), Heading("一、总体情况", 1)]
    blocks += [Para(FILLER) for _ in range(filler[0])] + [Para(SENTENCE) for _ in range(filler[1])] + tail
    return Document(blocks=blocks, title="测试报告", lang="zh", header="测试报告")


ENGLISH = "The targets of this section and their completion are in the table below. " * 2


@lru_cache(maxsize=1)
def _fonts() -> dict:
    """TrueType cuts of the report fonts holding this file's characters (as the documents use:
    quick to load, where the whole OpenType files take a second a layout)."""
    from helpers.pages.document.fonts import truetype_fonts
    from helpers.pages.document.pdf import cjk_font_files

    chars = set(chr(c) for c in range(32, 127)) | set(FILLER + SENTENCE + ENGLISH + "测试报告终期评估一、总体情况"
                                                         "（一）行政保护二、分项情况图1 行政裁决周期表1 指标完成情况"
                                                         "指标目标值完成值行政裁决案件≤50天45.6天第页")
    import tempfile

    return truetype_fonts(cjk_font_files(), chars, Path(tempfile.mkdtemp(prefix="ipeval-fonts-")))


def lay_out(doc):
    return pdf_layout.lay_out(doc, _fonts())


def _page_of(layout, block) -> int:
    return next(page for b, page in layout.placed if b is block)


@lru_cache(maxsize=1)
def _fill_to_the_foot() -> tuple:
    """Filler after which what follows starts 30-38 mm above a page's foot: room for a heading
    (which asks for 30 mm) and its one-line lead, not for a table's caption, header and rows after them."""
    for n in range(1, 12):
        for k in range(0, 8):
            pdf, _ = lay_out(_doc((n, k), []))
            if 30 < pdf.h - 35.0 - pdf.get_y() < 38:
                return (n, k)
    raise AssertionError("never 30-38 mm from a page's foot")


@pytest.mark.parametrize("lead", [[Para(SENTENCE)], [Para(SENTENCE), Para(SENTENCE)], []])
def test_a_heading_and_its_lead_go_to_the_page_of_their_table(lead):
    n = _fill_to_the_foot()
    heading, table = Heading("（一）行政保护", 2), _table()
    _, layout = lay_out(_doc(n, [heading, *lead, table]))
    assert _page_of(layout, heading) == _page_of(layout, table)
    for p in lead:
        assert _page_of(layout, p) == _page_of(layout, table)


def test_a_heading_with_room_for_its_table_stays_where_it_is():
    heading, table = Heading("（一）行政保护", 2), _table()
    _, layout = lay_out(_doc((1, 0), [heading, Para(SENTENCE), table]))
    assert _page_of(layout, heading) == _page_of(layout, table) == 2


def test_two_headings_go_together_with_the_picture_they_lead_to(tmp_path):
    from PIL import Image as PILImage

    png = tmp_path / "chart.png"
    PILImage.new("RGB", (1440, 760), "white").save(png)
    n = _fill_to_the_foot()
    h1, h2, pic = Heading("二、分项情况", 1), Heading("（一）行政保护", 2), Image(str(png), "图1 行政裁决周期")
    _, layout = lay_out(_doc(n, [h1, h2, Para(SENTENCE), pic]))
    assert _page_of(layout, h1) == _page_of(layout, h2) == _page_of(layout, pic)


def test_english_leads_are_measured_by_words():
    n = _fill_to_the_foot()
    heading, table = Heading("1. Administrative protection", 2), _table()
    doc = _doc(n, [heading, Para(ENGLISH), table])
    doc.lang = "en"
    _, layout = lay_out(doc)
    assert _page_of(layout, heading) == _page_of(layout, table)


def test_leads_are_the_paragraphs_between_a_heading_and_its_table_or_picture():
    from helpers.pages.document.blocks import leads

    blocks = [Heading("一、", 1), Para("a"), Heading("（一）", 2), Para("b"), Para("c"), _table(),  # 3, 4
              Para("after the table"), Heading("（二）", 2), Para("d"), Heading("（三）", 2), Para("e"),  # not 8
              Image("x.png"), Para("f")]  # 10
    assert leads(blocks) == {3, 4, 10}


def test_word_keeps_the_leads_with_their_table(tmp_path):
    from docx import Document as Docx

    from helpers.pages.document.word import write_docx

    doc = _doc((0, 0), [Heading("（一）行政保护", 2), Para(SENTENCE), _table(), Para("表后说明。"),
                        Heading("（二）司法保护", 2), Para("没有表的一段。")])
    d = Docx(str(write_docx(doc, tmp_path / "a.docx")))
    paras = {p.text: p for p in d.paragraphs}
    kept = {t: p.paragraph_format.keep_with_next for t, p in paras.items()}
    assert kept[SENTENCE] is True
    assert kept["表后说明。"] is None and kept["没有表的一段。"] is None
    assert paras["（一）行政保护"].style.paragraph_format.keep_with_next is True  # a heading, by its style
