"""The neutral content of a document: what the Word and PDF writers both lay out.

The report is built once as a list of blocks (:mod:`helpers.pages.document.content`); each
writer turns the same list into its format, so the .docx and the .pdf never say different things.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    """A heading; level 1 (一、总体情况), 2 (（一）行政保护) or 3."""

    text: str
    level: int = 1


@dataclass
class Para:
    """A paragraph of body text; ``style`` is ``body``, ``note`` (smaller) or ``bullet``."""

    text: str
    style: str = "body"


@dataclass
class Table:
    """A table with fixed column widths in millimetres (they add up to the text width or less).

    Fixed widths keep a column from being squeezed into one character per line; ``font_size``
    (points) is lowered for wide tables instead.
    """

    header: list
    rows: list
    widths_mm: list
    caption: str = ""
    font_size: float = 9.0
    align: list = field(default_factory=list)  # per column: "L" | "C" | "R"
    highlight_rows: list = field(default_factory=list)  # row indexes to shade (a district's own row)


@dataclass
class Image:
    """A picture (PNG) with a caption underneath, ``width_mm`` wide."""

    path: str
    caption: str = ""
    width_mm: float = 140.0


@dataclass
class PageBreak:
    pass


@dataclass
class Cover:
    """The cover page: a title, a subtitle and lines of facts."""

    title: str
    subtitle: str
    lines: list
    warning: str = ""  # the demo-data notice, shown boxed


@dataclass
class Toc:
    """The table of contents (Word: a TOC field; PDF: the outline's entries with page numbers)."""

    title: str


@dataclass
class Document:
    """A whole document: its blocks, and the running header every page carries."""

    blocks: list
    header: str
    lang: str
    title: str


def leads(blocks: list) -> set[int]:
    """The indexes of the paragraphs that lead from a heading to the table or picture it introduces
    (the paragraphs between them, when only paragraphs are): a page should not part them from it."""
    out: set[int] = set()
    run: list[int] = []
    after_heading = False
    for k, b in enumerate(blocks):
        if isinstance(b, Heading):
            after_heading, run = True, []
        elif isinstance(b, Para) and after_heading:
            run.append(k)
        else:
            if after_heading and isinstance(b, (Table, Image)):
                out.update(run)
            after_heading, run = False, []
    return out
