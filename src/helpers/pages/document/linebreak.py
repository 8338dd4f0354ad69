"""Chinese line breaking for the PDF (GB/T 15834 and the usual 避头尾 rules).

fpdf2's character wrapping breaks between any two characters: a line could start with "。" and
a number could be split ("1,14/7人次", "202/5Q4"). :func:`break_lines` breaks a paragraph into
lines itself, measuring with the PDF's font, so that

* no line starts with closing punctuation (，。、；：？！）」》…) and none ends with an opening
  one (（「《), the punctuation going with its neighbour;
* a run of Latin letters, digits and the signs inside numbers (``2,859``, ``-0.2%``, ``2025Q4``,
  ``GDP``) is never split, unless it is wider than a line on its own.
"""

from __future__ import annotations

import re

CLOSING = set("，。、；：？！）」』》〉】〕”’%‰…—·,.;:?!)]}")
OPENING = set("（「『《〈【〔“‘([{")
# signs that belong to the number after them ("≤50", "◆2,859", "≥80"): they go with what follows,
# like an opening mark, so "◆≤" never ends a line apart from its number
PREFIXES = set("≤≥◆±<>＜＞")
UNIT_CHARS = set("年月日季件户人项次名家份个万亿元天分单倍位")
# an unbreakable run: letters, digits and what sits inside numbers and codes
_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,%‰/+\-_:·']*|[+\-−][0-9][A-Za-z0-9.,%‰/\-_]*")


def tokens(text: str) -> list[str]:
    """``text`` as the pieces a line may break between, punctuation glued to its neighbour."""
    raw: list[str] = []
    k = 0
    while k < len(text):
        m = _RUN.match(text, k)
        if m:
            raw.append(m.group(0))
            k = m.end()
        else:
            raw.append(text[k])
            k += 1
    # a number keeps its first unit character: "2025年", "1,147人", not "（2025" / "年）"
    glued: list[str] = []
    for piece in raw:
        if glued and len(piece) == 1 and piece in UNIT_CHARS and glued[-1][-1:].isdigit():
            glued[-1] += piece
        else:
            glued.append(piece)
    out: list[str] = []
    carry = ""
    for piece in glued:
        if piece in OPENING or piece in PREFIXES:
            carry += piece  # an opening mark goes with what follows
            continue
        piece, carry = carry + piece, ""
        if out and (piece[0] in CLOSING):
            out[-1] += piece  # a closing mark stays with what precedes
        else:
            out.append(piece)
    if carry:
        if out:
            out[-1] += carry
        else:
            out.append(carry)
    return out


def break_lines(text: str, width: float, measure, first: str = "") -> list[str]:
    """Break ``first + text`` into lines no wider than ``width`` as measured by ``measure(str)``.

    Explicit newlines are kept. A piece wider than a line on its own is broken by characters.
    """
    lines: list[str] = []
    widths: dict = {}

    def w(tok: str) -> float:  # widths add up (no kerning in these fonts); one measure per piece
        if tok not in widths:
            widths[tok] = measure(tok)
        return widths[tok]

    for part in (first + text).split("\n"):
        line, used = "", 0.0
        for tok in tokens(part):
            tw = w(tok)
            if not line or used + tw <= width:
                line, used = line + tok, used + tw
                continue
            if line.strip():
                lines.append(line)
            line, used = tok, tw
            while used > width and len(line) > 1:  # a piece longer than a line
                cut = len(line) - 1
                while cut > 1 and measure(line[:cut]) > width:
                    cut -= 1
                while cut > 1 and (line[cut] in CLOSING or line[cut - 1] in OPENING):  # 避头尾 still
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
                used = measure(line)
        lines.append(line)
    return lines
