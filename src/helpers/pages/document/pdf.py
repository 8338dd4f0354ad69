"""The PDF writer: :class:`~.blocks.Document` to PDF with fpdf2, fonts embedded.

Why fpdf2: it is pure Python (installs with pip, no system library), it embeds and subsets
CFF-flavoured OpenType fonts such as Noto Serif/Sans CJK SC (ReportLab embeds TrueType outlines
only, so it cannot embed these), and it writes a whole report in well under a second, where
converting each .docx with LibreOffice would spawn an office suite per document.

Typesetting after GB/T 9704-2012 where the fonts allow: A4, margins top 37 mm, bottom 35, left 28,
right 26; body in a serif CJK face (Noto Serif CJK SC, the free stand-in for 仿宋), headings in a
sans face (Noto Sans CJK SC, for 黑体); page numbers centred at the foot as "— n —"; a table of
contents with page numbers, and PDF bookmarks.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode
from fpdf.fonts import FontFace

from helpers.i18n import dt
from helpers.pages.document.blocks import Cover, Heading, Image, PageBreak, Para, Table, Toc
from helpers.pages.document.linebreak import break_lines
from helpers.pages.document.pdf_fast import _HEIGHTS, _keep_glyph_boxes, _MeasuredTable, text_width  # noqa: F401 - _HEIGHTS: tests reach it here
from helpers.pages.document.pdf_lines import whole_lines

MARGINS = dict(top=37.0, bottom=35.0, left=28.0, right=26.0)
BODY_PT, NOTE_PT = 12.0, 10.5
HEADING_PT = {1: 16.0, 2: 14.0, 3: 12.0}
LINE = 1.55  # line height as a multiple of the font size
PT_MM = 0.3528


def cjk_font_files() -> dict:
    """The serif and sans CJK OpenType files shipped by ``mplfonts`` (a dependency of the project)."""
    import mplfonts

    d = Path(mplfonts.__file__).parent / "fonts"
    files = {"serif": d / "NotoSerifCJKsc-Regular.otf", "sans": d / "NotoSansCJKsc-Regular.otf"}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        from helpers.exceptions import ConfigError
        from helpers.i18n import et

        raise ConfigError(et("document_fonts_missing", fonts=", ".join(missing)))
    return files


class ReportPDF(FPDF):
    """An A4 page with the running header (not on the cover) and the page number "— n —" at its foot."""

    running_header = ""
    page_label = "— {n} —"

    @contextmanager
    def table(self, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        """:meth:`FPDF.table` with :class:`_MeasuredTable` (fpdf2's method builds, yields, renders)."""
        table = _MeasuredTable(self, *args, **kwargs)
        yield table
        table.render()

    def header(self):
        if self.page_no() == 1:  # the cover carries no running header
            return
        self.set_font("sans", size=8)
        self.set_text_color(90, 90, 90)
        self.set_xy(MARGINS["left"], 24)
        self.cell(self.epw, 5, self.running_header, align="C")
        self.set_draw_color(160, 30, 30)
        self.line(MARGINS["left"], 30, self.w - MARGINS["right"], 30)
        self.set_text_color(0, 0, 0)
        self.set_xy(MARGINS["left"], MARGINS["top"])

    def footer(self):
        if self.page_no() == 1:
            return
        self.set_y(-MARGINS["bottom"] + 10)
        self.set_font("serif", size=11)
        self.cell(0, 6, self.page_label.format(n=self.page_no() - 1), align="C")


def write_pdf(doc, path: str | Path, fonts: dict | None = None) -> Path:
    """Lay out ``doc`` as an A4 PDF at ``path``; returns the path.

    Parameters
    ----------
    doc : Document
    path : path
    fonts : dict, optional
        ``{'serif': file, 'sans': file}``, e.g. the TrueType cuts of
        :func:`helpers.pages.document.fonts.truetype_fonts`; default the OpenType files of
        :func:`cjk_font_files` (same look, slower to embed).
    """
    pdf, _ = lay_out(doc, fonts)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def lay_out(doc, fonts: dict | None = None) -> tuple[FPDF, "_Layout"]:
    """``doc`` placed on the pages of a new PDF (not yet written), and the layout that placed it."""
    pdf = ReportPDF(format="A4")
    pdf.running_header = doc.header
    pdf.page_label = dt(doc.lang, "page_number", n="{n}")
    for name, f in (fonts or cjk_font_files()).items():
        pdf.add_font(name, fname=str(f))
    _keep_glyph_boxes(pdf)
    pdf.set_margins(MARGINS["left"], MARGINS["top"], MARGINS["right"])
    pdf.set_auto_page_break(True, MARGINS["bottom"])
    pdf.set_title(doc.title)
    pdf.set_creator("ipeval")
    pdf.set_lang("zh-CN" if doc.lang == "zh" else "en")
    layout = _Layout(pdf, doc.lang)
    # the lines our line breaking made are taken whole by fpdf2, not walked a character at a time
    # (pdf_lines): the 14 PDFs of 2025Q2 in 2.76-2.87 s CPU instead of 3.59-3.64 (3 runs each, alternated)
    with whole_lines():
        for k, b in enumerate(doc.blocks):
            if isinstance(b, Heading):
                layout.keep_with_next(doc.blocks[k:])
            layout.block(b)
    return pdf, layout


class _Layout:
    """Places the blocks of one document on the pages of ``pdf``, one method per kind of block."""

    def __init__(self, pdf: ReportPDF, lang: str):
        self.pdf, self.lang = pdf, lang
        #: ``(block, page)``: the page each block ended on, what a test checks of the page breaks
        self.placed: list[tuple[object, int]] = []
        self.indent = "\u3000\u3000" if lang == "zh" else ""
        # Chinese breaks between any two characters; English only between words
        self.wrap = WrapMode.CHAR if lang == "zh" else WrapMode.WORD

    def block(self, b) -> None:
        self._place(b)
        self.placed.append((b, self.pdf.page))

    def _place(self, b) -> None:
        pdf = self.pdf
        if isinstance(b, Cover):
            self.cover(b)
        elif isinstance(b, Toc):
            pdf.add_page()
            pdf.insert_toc_placeholder(_toc_renderer(b.title), pages=1)
        elif isinstance(b, PageBreak):
            if pdf.get_y() > MARGINS["top"] + 1:
                pdf.add_page()
        elif isinstance(b, Heading):
            self.heading(b)
        elif isinstance(b, Para):
            if b.style == "note":
                self.para(b.text, size=NOTE_PT)
            elif b.style == "bullet":
                self.para(b.text, first=self.indent or "- ")
            else:
                self.para(b.text)
        elif isinstance(b, Table):
            _table(pdf, b, self.wrap)
        elif isinstance(b, Image):
            _image(pdf, b)

    def para(self, text: str, size: float = BODY_PT, font: str = "serif", align: str = "J",
             first: str | None = None) -> None:
        pdf = self.pdf
        first = self.indent if first is None else first
        pdf.set_font(font, size=size)
        if self.lang == "zh":  # our own Chinese line breaks (避头尾, numbers whole): helpers.pages.document.linebreak
            text = "\n".join(break_lines(text, pdf.epw - 2 * pdf.c_margin - 0.2, text_width(pdf), first))
            first, align = "", "L" if align == "J" else align
        pdf.multi_cell(0, size * PT_MM * LINE, first + text, align=align, wrapmode=self.wrap,
                       new_x="LMARGIN", new_y="NEXT")
        pdf.ln(size * PT_MM * 0.3)

    def cover(self, b: Cover) -> None:
        pdf, wrap = self.pdf, self.wrap
        pdf.add_page()
        pdf.set_y(70)
        pdf.set_font("sans", size=20)
        pdf.set_text_color(160, 30, 30)
        # a long title breaks before its bracketed years, not inside them
        title = b.title.replace("（", "\n（", 1) if pdf.get_string_width(b.title) > pdf.epw else b.title
        pdf.multi_cell(0, 12, title, align="C", wrapmode=wrap, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(6)
        pdf.set_font("sans", size=18)
        pdf.multi_cell(0, 11, b.subtitle, align="C", wrapmode=wrap, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(18)
        for line in b.lines:
            self.para(line, size=11.5, align="L", first="")
        if b.warning:
            pdf.ln(6)
            pdf.set_fill_color(255, 243, 205)
            pdf.set_draw_color(211, 158, 0)
            pdf.set_font("sans", size=11)
            pdf.multi_cell(0, 7, b.warning, border=1, fill=True, align="L", wrapmode=wrap,
                           new_x="LMARGIN", new_y="NEXT", padding=2)
            pdf.set_fill_color(255, 255, 255)  # tables fill their cells with the current colour
            pdf.set_draw_color(0, 0, 0)

    def keep_with_next(self, blocks: list) -> None:
        """Start a new page before the heading ``blocks[0]`` unless it fits on this page with what
        introduces its content: the paragraphs after it and the beginning of the table or picture
        they lead to (a caption, the header and two rows; a whole picture).

        A reader of a printed report should never find a heading and its one-sentence lead at the
        foot of a page and the table they announce on the next (seen in the 2025Q4 city report).
        A group taller than a page is left to break where it falls.
        """
        pdf = self.pdf
        if not pdf.page:  # a document that opens with a heading: it starts the first page anyway
            return
        heading = blocks[0]
        size = HEADING_PT.get(heading.level, BODY_PT)
        need = size * PT_MM * (0.6 + LINE + 0.3)
        for b in blocks[1:]:
            if isinstance(b, Heading):  # 二、 then （一）: both go with what the second leads to
                need += HEADING_PT.get(b.level, BODY_PT) * PT_MM * (0.6 + LINE + 0.3)
                continue
            if isinstance(b, Para):
                need += self._para_height(b)
                continue
            if isinstance(b, Table):
                need += _table_start(b)
            elif isinstance(b, Image):
                need += _image_height(pdf, b) + 9  # its caption's line and the space after
            break
        page = pdf.h - MARGINS["top"] - MARGINS["bottom"]
        if need < page and pdf.will_page_break(need):
            pdf.add_page()

    def _para_height(self, b: Para) -> float:
        """The height ``b`` takes, as :meth:`para` lays it out."""
        pdf = self.pdf
        size = NOTE_PT if b.style == "note" else BODY_PT
        first = (self.indent or "- ") if b.style == "bullet" else self.indent
        pdf.set_font("serif", size=size)
        width = pdf.epw - 2 * pdf.c_margin - 0.2
        if self.lang == "zh":
            lines = len(break_lines(b.text, width, text_width(pdf), first))
        else:
            out = pdf.multi_cell(0, size * PT_MM * LINE, first + b.text, wrapmode=self.wrap,
                                 dry_run=True, output="LINES")
            lines = len(out) if isinstance(out, list) else 1  # output="LINES" gives the list of lines
        return size * PT_MM * (LINE * lines + 0.3)

    def heading(self, b: Heading) -> None:
        pdf = self.pdf
        size = HEADING_PT.get(b.level, BODY_PT)
        if pdf.will_page_break(size * PT_MM * 6):  # never a heading alone at the foot of a page
            pdf.add_page()
        pdf.ln(size * PT_MM * 0.6)
        pdf.start_section(b.text, level=b.level - 1)
        self.para(b.text, size=size, font="sans", align="L", first="")


def _table_start(b: Table) -> float:
    """The height a table needs on a page to begin there: its caption, header and first rows."""
    return b.font_size * PT_MM * 8


def _table(pdf, b: Table, wrap) -> None:
    size = b.font_size
    if b.caption:
        if pdf.will_page_break(_table_start(b)):
            pdf.add_page()
        pdf.set_font("sans", size=size + 1)
        pdf.cell(0, (size + 1) * PT_MM * LINE, b.caption, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", size=size)
    align = b.align or ["L"] * len(b.header)
    head_style = FontFace(family="sans", size_pt=size, fill_color=(230, 234, 240))
    with pdf.table(col_widths=tuple(b.widths_mm), width=sum(b.widths_mm), text_align=tuple(align),
                   line_height=size * PT_MM * 1.45, headings_style=head_style, repeat_headings=1,
                   wrapmode=wrap, padding=(0.8, 1.0), borders_layout="SINGLE_TOP_LINE",
                   first_row_as_headings=True) as t:
        cjk = any("\u4e00" <= ch <= "\u9fff" for ch in "".join(map(str, b.header)))
        row = t.row()
        for j, h in enumerate(b.header):
            row.cell(_cell_text(pdf, str(h), b.widths_mm[j] - 2.2) if cjk else str(h), align="C")
        shade = set(b.highlight_rows)
        for k, r in enumerate(b.rows):
            style = FontFace(fill_color=(255, 244, 214)) if k in shade else None
            row = t.row(style=style)
            for j, c in enumerate(r):
                row.cell(_cell_text(pdf, str(c), b.widths_mm[j] - 2.2) if cjk else str(c))
    pdf.ln(3)


def _cell_text(pdf, text: str, width: float) -> str:
    """A Chinese table cell broken by :func:`~helpers.pages.document.linebreak.break_lines` (numbers whole)."""
    return "\n".join(break_lines(text, width, text_width(pdf))) if width > 3 else text


def _image_height(pdf, b: Image) -> float:
    """The printed height of ``b`` in mm, at its width."""
    from PIL import Image as PILImage

    with PILImage.open(b.path) as im:
        w_px, h_px = im.size
    return min(b.width_mm, pdf.epw) * h_px / w_px


def _image(pdf, b: Image) -> None:
    w = min(b.width_mm, pdf.epw)
    h = _image_height(pdf, b)
    caption_h = 7
    if pdf.will_page_break(h + caption_h):
        pdf.add_page()
    x = pdf.l_margin + (pdf.epw - w) / 2
    pdf.image(b.path, x=x, y=pdf.get_y(), w=w, h=h)
    pdf.set_y(pdf.get_y() + h + 1)
    pdf.set_font("sans", size=9)
    pdf.cell(0, 5, b.caption, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _toc_renderer(title: str):
    def render(pdf, outline):
        pdf.set_x(pdf.l_margin)
        pdf.set_font("sans", size=16)
        pdf.cell(0, 12, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        for s in outline:
            size = 12 if s.level == 0 else 11
            pdf.set_font("sans" if s.level == 0 else "serif", size=size)
            indent = 8 * s.level
            label = s.page_number - 1  # the cover is not counted
            text_w = pdf.epw - indent - 14
            name = s.name
            while pdf.get_string_width(name) > text_w and len(name) > 4:
                name = name[:-2] + "…"
            dots_w = text_w - pdf.get_string_width(name)
            dots = "·" * max(int(dots_w / max(pdf.get_string_width("·"), 0.1)) - 2, 0)
            pdf.set_x(pdf.l_margin + indent)
            link = pdf.add_link(page=s.page_number)
            pdf.cell(text_w, size * PT_MM * 1.9, f"{name} {dots}", link=link)
            pdf.cell(14, size * PT_MM * 1.9, str(label), align="R", new_x="LMARGIN", new_y="NEXT", link=link)

    return render
