"""What an English document must not contain: Chinese outside a quotation beside its English.

The English report quotes Chinese on purpose: the plan's words beside our translation
(``Establish … (“建立高效统筹协调机制”)``), a district's progress note as returned, a place in
brackets (``Xihu Longjing (西湖龙井)``). Anything else in Chinese is a leak: a status left as
``已完成``, a heading, a publication's name, a clause number ``二(一)1``, a full-width bracket.

The rule, per paragraph or table cell (a *unit*):

* every Chinese character (CJK ideographs and full-width punctuation) stands inside a quotation
  (“…”) or brackets ((…), [ … ]), nesting allowed: the quoted text keeps its own punctuation;
* a unit with quoted Chinese also has English outside the quotation (the translation or the
  label beside it), unless it is a table cell whose column head declares what it holds
  (``Text of the plan (Chinese)``, ``Progress (as returned)``, ``Words (Chinese)``).

``python tests/doccheck_en.py RUN_DIR`` counts the leaks of the English documents of RUN_DIR.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
OPEN = {"“": "”", "(": ")", "[": "]", "‘": "’"}
WORD = re.compile(r"[A-Za-z]{3,}")
DECLARED = re.compile(r"Chinese|as returned", re.I)  # a column head saying its cells are quoted text


def unquoted_chinese(text: str) -> list[str]:
    """The runs of Chinese characters standing outside any quotation or brackets."""
    runs, depth, current = [], [], ""
    for ch in text:
        if ch == '"' and (not depth or depth[-1] == '"'):  # a straight quote opens or closes
            depth.pop() if depth else depth.append('"')
        elif ch in OPEN:
            depth.append(OPEN[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif not depth and CJK.match(ch):
            current += ch
            continue
        if current:
            runs.append(current)
            current = ""
    return runs + ([current] if current else [])


def outside_quotes(text: str) -> str:
    """The text with every quotation and bracketed span removed (what is left to carry the English)."""
    out, depth = [], []
    for ch in text:
        if ch == '"' and (not depth or depth[-1] == '"'):
            depth.pop() if depth else depth.append('"')
        elif ch in OPEN:
            depth.append(OPEN[ch])
        elif depth and ch == depth[-1]:
            depth.pop()
        elif not depth:
            out.append(ch)
    return "".join(out)


def unit_leaks(text: str, head: str = "") -> list[str]:
    """The leaks of one paragraph or cell: unquoted Chinese, or quoted Chinese with no English beside it."""
    leaks = unquoted_chinese(text)
    if not leaks and CJK.search(text) and not WORD.search(outside_quotes(text)) and not DECLARED.search(head):
        leaks.append(text)
    return leaks


def block_leaks(blocks) -> list[str]:
    """The leaks of a built document's blocks (:mod:`helpers.pages.document.blocks`)."""
    out = []
    for b in blocks:
        if hasattr(b, "rows"):
            out += unit_leaks(b.caption or "")
            out += [x for h in b.header for x in unit_leaks(h)]
            for row in b.rows:
                out += [x for h, cell in zip(b.header, row) for x in unit_leaks(str(cell), h)]
        elif hasattr(b, "text"):
            out += unit_leaks(b.text)
    return out


def docx_leaks(path: Path) -> list[str]:
    """The leaks of a written English .docx: its paragraphs and its tables' cells under their heads."""
    import docx

    d = docx.Document(str(path))
    out = [x for p in d.paragraphs for x in unit_leaks(p.text)]
    for t in d.tables:
        head = [c.text for c in t.rows[0].cells]
        out += [x for h in head for x in unit_leaks(h)]
        for row in t.rows[1:]:
            out += [x for h, c in zip(head, row.cells) for x in unit_leaks(c.text, h)]
    return out


def pdf_chinese_count(path: Path) -> int:
    """Chinese characters in a PDF's text outside quotations: the lines joined, as a quotation in a table
    cell wraps over several lines (a PDF has no cells to read, so the column-head rule is not applied)."""
    from doccheck import pdf_lines

    return sum(len(r) for r in unquoted_chinese(" ".join(pdf_lines(path))))


if __name__ == "__main__":
    for p in sorted((Path(sys.argv[1]) / "documents").glob("*.en.*")):
        if p.suffix == ".docx":
            leaks = docx_leaks(p)
            print(p.name, "leaks", len(leaks), "chars", sum(len(x) for x in leaks))
            for x in leaks[:int(sys.argv[2]) if len(sys.argv) > 2 else 0]:
                print("   ", x[:120])
        elif p.suffix == ".pdf":
            print(p.name, "unquoted Chinese chars", pdf_chinese_count(p))
