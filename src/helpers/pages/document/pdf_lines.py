"""fpdf2's line breaking, one line at a time where the text is already broken into lines.

The Chinese PDFs are broken into lines by :mod:`.linebreak` before fpdf2 sees them (paragraphs and
table cells: ``"\\n"`` between lines, each narrower than the cell). fpdf2's ``MultiLineBreak.get_line``
still walks every character: it measures it, appends it to the line and re-adds the width of the
whole line so far to test whether the next character fits (``CurrentLine.width``), so a line of n
characters costs about n²/2 width lookups. cProfile, 14 PDFs of 2025Q2: 39,040 lines, 387,271
``Fragment.get_width`` calls; ``get_line`` 3.9 of 10.8 s.

:class:`_LineBreak` takes a line whole when fpdf2 could not do anything but keep it whole: it ends
at a ``"\\n"`` (or the end of the text) inside one fragment, its font is a plain TrueType face with
no spacing, stretching or shaping, it holds no soft hyphen, no-break space or form feed, and its
width (summed as fpdf2 sums it) is below the line's room by more than fpdf2's tolerance. It then
returns the :class:`~fpdf.line_break.TextLine` fpdf2 would return (same fragment, width, spaces,
height, alignment), else it lets fpdf2's own ``get_line`` do the line. Its lines are tested equal to
fpdf2's (``tests/test_document_fast_paths.py``: paragraphs, cells, empty lines, spaces, tabs, soft
hyphens, lines too wide, each alignment and wrap mode), and the PDFs of 2025Q2 and 2025Q4, Chinese and
English, render identical with and without it (docs/documents.md). Used only with the fpdf2 versions
of :data:`TESTED_FPDF`; with another, fpdf2 breaks every line itself. 14 Chinese PDFs of 2025Q2: 3.6 ->
2.8 s CPU.
"""

from __future__ import annotations

from contextlib import contextmanager

import fpdf
import fpdf.fpdf as fpdf_module
from fpdf.enums import Align
from fpdf.fonts import TTFFont
from fpdf.line_break import (BREAKING_SPACE_SYMBOLS_STR, FORM_FEED, NBSP, SOFT_HYPHEN, Fragment, MultiLineBreak,
                             TextLine)
from fpdf.util import FloatTolerance

#: the fpdf2 versions whose ``MultiLineBreak.get_line`` :class:`_LineBreak` was checked against
TESTED_FPDF = ("2.8.",)
# a line is taken whole only when it is this much narrower than its room (mm): fpdf2 tests each
# character's fit with a tolerance of 1e-9 on sums that may round differently in the last bit
_MARGIN = 1e-6
_SLOW = frozenset(SOFT_HYPHEN + NBSP + FORM_FEED)


class _LineBreak(MultiLineBreak):
    """``MultiLineBreak`` that returns a line already broken by the caller without walking it."""

    def get_line(self) -> TextLine | None:  # type: ignore[override]
        line = self._whole_line()
        return super().get_line() if line is None else line

    def _whole_line(self) -> TextLine | None:
        """The next line as fpdf2 would return it, or None where fpdf2 must break it itself."""
        k, start = self.fragment_index, self.character_index
        if k >= len(self.fragments) or self.skip_leading_spaces or self.idx_last_forced_break is not None:
            return None
        frag = self.fragments[k]
        chars = frag.characters
        if start >= len(chars) or not _plain(frag):
            return None
        try:
            end, newline = chars.index("\n", start), True
        except ValueError:
            if k != len(self.fragments) - 1:  # the line would go on into the next fragment
                return None
            end, newline = len(chars), False
        text = chars[start:end]
        if not _SLOW.isdisjoint(text):
            return None
        height = frag.font_size
        if not FloatTolerance.greater_than(height, 0):  # fpdf2 would keep the width of no height
            return None
        room = self.get_width(height)
        max_width = room
        for margin in self.margins:
            max_width -= float(margin)
        indent = self.first_line_indent if self._is_first_line else 0
        if self._is_first_line:
            max_width -= self.first_line_indent
        # the width as CurrentLine.width sums it, 0 + each fragment's (here one)
        width = 0 if not text else 0 + frag.get_width(start, end, initial_cs=False)
        if width > max_width - _MARGIN:
            return None
        if not newline and not width:
            return None  # fpdf2 drops a last line of no width: let it
        fragments = []
        if text:
            line_frag = frag.clone(characters="", link=frag.link)
            line_frag.characters.extend(text)
            fragments.append(line_frag)
        if newline:
            self.character_index = end + 1
        else:
            self.fragment_index, self.character_index = k + 1, 0
        self._is_first_line = False
        return TextLine(fragments=fragments, text_width=width,
                        number_of_spaces=sum(1 for c in text if c in BREAKING_SPACE_SYMBOLS_STR),
                        align=Align.L if self.align == Align.J else self.align,
                        height=height * self.line_height, max_width=room - indent,
                        trailing_nl=newline, trailing_form_feed=False, indent=indent)


def _plain(frag) -> bool:
    """Whether fpdf2 measures ``frag``'s text as the sum of its characters' advance widths."""
    font = frag.font
    return (type(frag) is Fragment and isinstance(font, TTFFont) and not font.is_symbol
            and not frag.text_shaping_parameters and frag.font_stretching == 100 and not frag.char_spacing)


def tested_fpdf() -> bool:
    """Whether the installed fpdf2 is one :class:`_LineBreak` was checked against (:data:`TESTED_FPDF`)."""
    return fpdf.__version__.startswith(TESTED_FPDF)


@contextmanager
def whole_lines():
    """Within this context fpdf2's ``multi_cell`` and ``write`` break text with :class:`_LineBreak`
    (a tested fpdf2 only; nested contexts are fine)."""
    if fpdf_module.MultiLineBreak is not MultiLineBreak or not tested_fpdf():
        yield
        return
    fpdf_module.MultiLineBreak = _LineBreak  # type: ignore[misc]
    try:
        yield
    finally:
        fpdf_module.MultiLineBreak = MultiLineBreak  # type: ignore[misc]

