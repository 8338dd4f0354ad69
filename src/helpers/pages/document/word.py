"""The Word writer: :class:`~.blocks.Document` to .docx with python-docx.

Page set-up after GB/T 9704-2012: A4, margins top 37 mm, bottom 35, left 28, right 26. Body text
in 仿宋 (FangSong), headings in 黑体 (SimHei), Latin text in Times New Roman: the faces a
government Word installation has; where they are missing Word and LibreOffice substitute the
nearest CJK serif and sans (on Linux, Noto Serif/Sans CJK SC). Page numbers "— n —" centred in
the footer, the running header (plan, 文号, validity) on every page but the cover, and a table of
contents field that Word fills in when the file is opened (``updateFields``).
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

from docx import Document as DocxDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from helpers.i18n import dt
from helpers.pages.document.blocks import Cover, Heading, Image, PageBreak, Para, Table, Toc, leads

BODY_FONT, HEADING_FONT, LATIN_FONT = "仿宋", "黑体", "Times New Roman"
BODY_PT, NOTE_PT = 12, 10.5
HEADING_PT = {1: 16, 2: 14, 3: 12}


def _fonts(style_or_run, east_asia: str, latin: str = LATIN_FONT) -> None:
    font = style_or_run.font
    font.name = latin
    rpr = style_or_run.element.get_or_add_rPr()
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(rfonts)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)


def _field(paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (PAGE, TOC) in ``paragraph``; Word computes its value."""
    def fld(kind):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()
    run._r.append(fld("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = instruction
    run._r.append(instr)
    run._r.append(fld("separate"))
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    run._r.append(fld("end"))


def _toc_field(d, entries: list) -> None:
    """The contents as a TOC field whose result is already the headings (written at build time),
    so a reader that does not update fields (LibreOffice, a viewer) shows the entries rather than
    a placeholder; Word refreshes them, with page numbers, on opening (``w:updateFields``)."""

    def fld(run, kind):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    if not entries:
        _field(d.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u')
        return
    for k, h in enumerate(entries):
        p = d.add_paragraph()
        p.paragraph_format.left_indent = Mm(8 * (h.level - 1))
        if k == 0:
            run = p.add_run()
            fld(run, "begin")
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = 'TOC \\o "1-2" \\h \\z \\u'
            run._r.append(instr)
            fld(run, "separate")
        p.add_run(h.text)
        if k == len(entries) - 1:
            fld(p.add_run(), "end")


def _shade(cell_or_par_pr, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell_or_par_pr.append(shd)


def write_docx(doc, path: str | Path) -> Path:
    """Write ``doc`` as a Word document at ``path``; returns the path."""
    d = DocxDocument()
    d.core_properties.title = doc.title
    d.core_properties.author = "ipeval"
    d.core_properties.language = "zh-CN" if doc.lang == "zh" else "en"
    _styles(d)
    _page_setup(d, doc)
    indent = Pt(BODY_PT * 2) if doc.lang == "zh" else None
    # the tables' style by id, looked up once: by name python-docx searches every style per table
    grid = d.part.get_style_id("Table Grid", WD_STYLE_TYPE.TABLE)
    # and the headings' styles: add_heading looks its style up by name for each heading, 0.36 of
    # the 2.96 s of the 14 .docx of 2025Q2 under cProfile
    headings = {level: d.part.get_style_id(f"Heading {level}", WD_STYLE_TYPE.PARAGRAPH) for level in (1, 2, 3)}
    kept = leads(doc.blocks)  # kept with the table or picture they lead to, as the heading is with them
    for k, b in enumerate(doc.blocks):
        if isinstance(b, Cover):
            _cover(d, b)
        elif isinstance(b, Toc):
            _toc(d, b, [h for h in doc.blocks if isinstance(h, Heading) and h.level <= 2])
        elif isinstance(b, PageBreak):
            d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif isinstance(b, Heading):
            _paragraph(d, b.text)._p.style = headings[min(b.level, 3)]  # add_heading's XML
        elif isinstance(b, Para):
            _para(d, b, indent).paragraph_format.keep_with_next = k in kept or None
        elif isinstance(b, Table):
            _table(d, b, grid)
        elif isinstance(b, Image):
            _image(d, b)
    # ask Word to fill in the table of contents and page fields on opening
    upd = OxmlElement("w:updateFields")
    upd.set(qn("w:val"), "true")
    d.settings.element.append(upd)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    d.save(str(out))
    return out


def _page_setup(d, doc) -> None:
    """A4, the GB/T 9704 margins, the running header and the page number "— n —" (not on the cover)."""
    sec = d.sections[0]
    sec.page_width, sec.page_height = Mm(210), Mm(297)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Mm(37), Mm(35), Mm(28), Mm(26)
    sec.header_distance, sec.footer_distance = Mm(15), Mm(20)
    sec.different_first_page_header_footer = True  # no header or page number on the cover
    header = sec.header.paragraphs[0]
    header.text = doc.header
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in header.runs:
        r.font.size = Pt(8)
    footer = sec.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    left, right = dt(doc.lang, "page_number", n="\x00").split("\x00")
    footer.add_run(left)
    _field(footer, "PAGE", "1")
    footer.add_run(right)


def _styles(d) -> None:
    """Body in 仿宋 at 1.5 lines, headings in 黑体, black, kept with the next paragraph."""
    normal = d.styles["Normal"]
    _fonts(normal, BODY_FONT)
    normal.font.size = Pt(BODY_PT)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(3)
    for level, size in HEADING_PT.items():
        st = d.styles[f"Heading {level}"]
        _fonts(st, HEADING_FONT)
        st.font.size = Pt(size)
        st.font.bold = level == 1
        st.font.color.rgb = RGBColor(0, 0, 0)
        st.paragraph_format.space_before = Pt(12 if level == 1 else 8)
        st.paragraph_format.space_after = Pt(6)
        st.paragraph_format.keep_with_next = True


def _cover(d, b: Cover) -> None:
    for _ in range(4):
        d.add_paragraph()
    for text, size in ((b.title, 20), (b.subtitle, 18)):
        p = d.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(text)
        _fonts(run, HEADING_FONT)
        run.font.size = Pt(size)
        run.font.bold = True
        if size == 20:
            run.font.color.rgb = RGBColor(0xA0, 0x1E, 0x1E)
    d.add_paragraph()
    for line in b.lines:
        d.add_paragraph(line)
    if b.warning:
        p = d.add_paragraph()
        run = p.add_run(b.warning)
        _fonts(run, HEADING_FONT)
        _shade(p._p.get_or_add_pPr(), "FFF3CD")


def _toc(d, b: Toc, entries: list) -> None:
    d.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    p = d.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(b.title)
    _fonts(run, HEADING_FONT)
    run.font.size = Pt(16)
    _toc_field(d, entries)


def _paragraph(d, text: str):
    """``d.add_paragraph(text)``, the run's text set by :func:`_run_text`."""
    p = d.add_paragraph()
    if text:
        _run_text(p._p.add_r(), text)
    return p


def _run_text(r, text: str) -> None:
    """Set the text of the run element ``r`` as python-docx's ``CT_R.text`` setter sets it, in one
    ``w:t`` without going through the text a character at a time (a tab or line break: python-docx's
    own way, which writes ``w:tab``/``w:br`` elements).

    The setter finds what to remove by XPath and appends every character to a buffer: 0.53 of the
    2.96 s of the 14 .docx of 2025Q2 under cProfile, for 15,314 runs.
    """
    if "\t" in text or "\n" in text or "\r" in text:
        r.text = text
        return
    for e in list(r):
        if e.tag != _RPR:
            r.remove(e)
    if text:  # CT_R.add_t's element, appended as it appends it after the w:rPr (a w:r's only other child here)
        t = r.makeelement(_T, {})
        t.text = text
        r.append(t)
        if len(text.strip()) < len(text):
            t.set(_SPACE, "preserve")


_RPR, _T, _SPACE = qn("w:rPr"), qn("w:t"), qn("xml:space")


def _para(d, b: Para, indent):
    p = _paragraph(d, b.text)
    if indent is not None:
        p.paragraph_format.first_line_indent = indent
    if b.style == "note":
        for r in p.runs:
            r.font.size = Pt(NOTE_PT)
    return p


def _image(d, b: Image) -> None:
    d.add_picture(str(b.path), width=Mm(b.width_mm))
    d.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    d.paragraphs[-1].paragraph_format.keep_with_next = True
    cap = d.add_paragraph(b.caption)
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in cap.runs:
        r.font.size = Pt(9)


def _table(d, b: Table, style_id: str | None = None) -> None:
    aligns = {"L": WD_ALIGN_PARAGRAPH.LEFT, "C": WD_ALIGN_PARAGRAPH.CENTER, "R": WD_ALIGN_PARAGRAPH.RIGHT}
    if b.caption:
        cap = d.add_paragraph(b.caption)
        cap.alignment = WD_ALIGN_PARAGRAPH.CENTER
        cap.paragraph_format.keep_with_next = True
        for r in cap.runs:
            _fonts(r, HEADING_FONT)
            r.font.size = Pt(b.font_size + 1)
    t = d.add_table(rows=1 + len(b.rows), cols=len(b.header))
    if style_id is None:
        t.style = "Table Grid"
    else:
        t._tbl.tblStyle_val = style_id  # what the setter does after its lookup
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False  # fixed widths: a column is never squeezed to one character per line
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    t._tbl.tblPr.append(layout)
    align = b.align or ["L"] * len(b.header)
    shade = set(b.highlight_rows)
    # The header row and the first plain and first shaded data row are laid out through python-docx;
    # every other row is a copy of its kind's first with its own texts: the same XML, a fifth of the
    # time (python-docx re-finds each property element on every set: 0.15 of a 0.23 s .docx).
    # A kind's first row is itself a copy when a table of this process had one of the same kind,
    # widths, alignments and size (_ROWS): the 14 reports share most of their tables' layouts. With
    # _run_text and the headings' styles looked up once, the 14 .docx of 2025Q2 take 0.94-0.96 s CPU
    # instead of 1.70-1.72 s (3 runs each alternated with the code before; every XML part identical).
    first: dict = {}
    rows = list(t.rows)  # t.rows[i] lists every row of the table again
    for i, values in enumerate([b.header, *b.rows]):
        row = rows[i]
        kind = "header" if i == 0 else "shaded" if i - 1 in shade else "plain"
        if kind not in first:
            key = (kind, tuple(b.widths_mm), tuple(align), b.font_size, len(values))
            first[kind] = _ROWS.get(key)
            if first[kind] is None:
                first[kind] = row._tr
                _lay_out_row(row, values, i == 0, i - 1 in shade, b, [aligns["C" if i == 0 else a] for a in align])
                if len(_ROWS) > 1000:  # a long-lived process writing many quarters
                    _ROWS.clear()
                _ROWS[key] = deepcopy(row._tr)
                continue
        _copy_row(first[kind], row._tr, values)
    for j, w in enumerate(b.widths_mm):
        t.columns[j].width = Mm(w)
    d.add_paragraph()


#: a table row laid out by :func:`_lay_out_row`, by kind, column widths, alignments, size and cells
_ROWS: dict[tuple, object] = {}


def _lay_out_row(row, values, header: bool, shaded: bool, b: Table, aligns: list) -> None:
    """Lay out the table row ``row`` holding ``values`` through python-docx."""
    if header:  # the header row repeats on every page the table runs over
        trpr = row._tr.get_or_add_trPr()
        el = OxmlElement("w:tblHeader")
        el.set(qn("w:val"), "true")
        trpr.append(el)
    cells = row.cells  # python-docx rebuilds this list on every access
    for j, value in enumerate(values):
        cell = cells[j]
        cell.width = Mm(b.widths_mm[j])
        p = cell.paragraphs[0]
        p.paragraph_format.first_line_indent = Pt(0)
        p.paragraph_format.line_spacing = 1.15
        p.paragraph_format.space_after = Pt(0)
        p.alignment = aligns[j]
        run = p.add_run(str(value))
        run.font.size = Pt(b.font_size)
        if header:
            _fonts(run, HEADING_FONT)
            _shade(cell._tc.get_or_add_tcPr(), "E6EAF0")
        elif shaded:
            _shade(cell._tc.get_or_add_tcPr(), "FFF4D6")


def _copy_row(model, tr, values) -> None:
    """Replace the table row ``tr`` by a copy of ``model`` (a row laid out by :func:`_table`) that
    holds ``values``: one run per cell, whose text is set as ``add_run`` sets it."""
    new = deepcopy(model)
    for r, value in zip(new.iter(qn("w:r")), values):
        _run_text(r, str(value))
    tr.getparent().replace(tr, new)
