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


QUARTER_CODE = re.compile(r"(?<![A-Za-z0-9])20\d\dQ[1-4](?![0-9])")
# what a final report (终期评估) must not say before its annexes: it speaks of completion, not of
# being on track or of a probability (the method annex may still describe the model's categories)
MID_TERM = ("按计划推进", "存在风险", "进度滞后", "达标概率", "当前")


def document_leaks(text: str) -> Counter:
    """Counts of what a Chinese Word/PDF document must not contain besides :func:`text_leaks`: a
    quarter written as a code (2024Q4, not 2024年第四季度), a date written as ISO (2025-04-23, not 2025年4月23日)."""
    return Counter(quarter_code=len(QUARTER_CODE.findall(text)),
                   iso_date=len(re.findall(r"(?<![0-9_-])\d{4}-\d{2}-\d{2}(?![0-9])", text)))


def final_leaks(text: str) -> Counter:
    """Counts of mid-term vocabulary in a final report's body (the text before 附件)."""
    body = text.rsplit("\n附件\n", 1)[0]  # the last one: the contents list 附件 too
    return Counter({f"mid_term:{w}": body.count(w) for w in MID_TERM if w in body})


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
            text = docx_text(p)
            out["docx"] += text_leaks(text) + document_leaks(text)
    for p in sorted((run_dir / "documents").glob("*.pdf")):
        if ".en." not in p.name:
            lines = pdf_lines(p)
            text = "\n".join(lines)  # in reading order, tables in place (docx_text puts them last)
            out["pdf"] += text_leaks(text) + line_leaks(lines) + document_leaks(text)
            if "终期" in p.name:
                out["pdf"] += final_leaks(text)
    for p in sorted((run_dir / "reports").glob("*/*.html")) if (run_dir / "reports").is_dir() else []:
        if "audit" not in p.name:
            out["html"] += text_leaks(html_text(p))
    return out


if __name__ == "__main__":
    for fmt, c in count_run(Path(sys.argv[1])).items():
        print(fmt, dict(c), sum(c.values()))
