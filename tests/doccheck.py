"""What a Chinese document must not contain: the checks of tests/test_document_check.py.

A module of its own so the counts can also be taken on another checkout (before/after a change):
``python tests/doccheck.py RUN_DIR`` counts the leaks of the documents and reports in RUN_DIR.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

# codes, units and names that may stand in Chinese text as Latin letters
ALLOW = {"GDP", "SHA", "Brier", "Theta", "ipeval", "SDG", "logit", "PCT", "WIPO", "DEMO"}
_WORD = r"[A-Za-z][A-Za-z'\-]+"
ENGLISH_RUN = re.compile(rf"{_WORD}(?:[ ,;:()]+{_WORD}){{2,}}")
NONE_NAN = re.compile(r"(?<![A-Za-z])(None|nan|NaN)(?![A-Za-z])")
PATH = re.compile(r"\b[\w\-]+/[\w\-/]+\.(?:md|py|yaml|yml|ipynb)\b|\bdocs/|\bsrc/helpers")
COMMAND = re.compile(r"(运行|run)\s*ipeval\s+[a-z]|\bipeval\s+(run|backtest|report|demo-data|ingest|calibrate)\b")
CLOSING_START = re.compile(r"^[，。、；：？！）」》]")
OPENING_END = re.compile(r"[（「《]$")


def english_runs(text: str) -> list[str]:
    """Runs of three or more English words not made only of allowed codes."""
    out = []
    for m in ENGLISH_RUN.finditer(text):
        words = re.findall(_WORD, m.group(0))
        if sum(w not in ALLOW for w in words) >= 3:
            out.append(m.group(0))
    return out


def text_leaks(text: str) -> Counter:
    """Counts of each kind of leak in a text (any format)."""
    c = Counter()
    c["none_nan"] = len(NONE_NAN.findall(text))
    c["english"] = len(english_runs(text))
    c["path"] = len(PATH.findall(text))
    c["command"] = len(COMMAND.findall(text))
    return c


def line_leaks(lines: list[str]) -> Counter:
    """Counts of line-breaking faults in a PDF's lines: a line starting with closing punctuation,
    one ending with an opening one, and a number split across two lines."""
    c = Counter()
    lines = [ln.strip() for ln in lines if ln.strip()]
    for a, b in zip(lines, lines[1:]):
        if CLOSING_START.match(b):
            c["line_start_punct"] += 1
        if OPENING_END.search(a):
            c["line_end_open"] += 1
        # "1,14" / "7人次", "-0." / "2%", "202" / "5Q4": a number that goes on on the next line
        # (a list of hashes, "78b8f01c40dd320a," at a line's end, is a list, not a number)
        if re.search(r"(?<![0-9a-f]{7})\d[,.]$|\d,\d{1,2}$|[-−]0?\.?$", a) and re.match(r"^\d", b):
            c["split_number"] += 1
    return c


def docx_text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    parts = [p.text for p in d.paragraphs]
    for t in d.tables:
        for row in t.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def pdf_lines(path: Path) -> list[str]:
    from pypdf import PdfReader

    out = []
    for page in PdfReader(str(path)).pages:
        out += page.extract_text().splitlines()
    return out


def html_text(path: Path) -> str:
    """The visible text of an HTML report (scripts, styles and tags removed)."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    raw = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", raw)
    raw = re.sub(r"(?s)<[^>]+>", " ", raw)
    import html

    return html.unescape(raw)


def count_run(run_dir: Path) -> dict:
    """``{format: Counter}`` over every Chinese document and HTML report of a run folder."""
    out = {"docx": Counter(), "pdf": Counter(), "html": Counter()}
    for p in sorted((run_dir / "documents").glob("*.docx")):
        if ".en." not in p.name:
            out["docx"] += text_leaks(docx_text(p))
    for p in sorted((run_dir / "documents").glob("*.pdf")):
        if ".en." not in p.name:
            lines = pdf_lines(p)
            out["pdf"] += text_leaks("\n".join(lines)) + line_leaks(lines)
    for p in sorted((run_dir / "reports").glob("*/*.html")) if (run_dir / "reports").is_dir() else []:
        if "audit" not in p.name:
            out["html"] += text_leaks(html_text(p))
    return out


if __name__ == "__main__":
    for fmt, c in count_run(Path(sys.argv[1])).items():
        print(fmt, dict(c), sum(c.values()))
