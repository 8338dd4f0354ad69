"""The assessment's notes as structured codes: the one place that reads the model's English notes.

:mod:`helpers.model.assess` writes a row's ``note`` as English phrases joined by ``"; "``
(``assessments.csv`` keeps them: it is the published, machine-read table). Pages that need the
note in another language, or a program that needs its meaning, take :func:`note_codes` instead of
parsing the sentence again: each phrase becomes ``{"code": ..., **its numbers}``; a phrase this table
does not know is kept whole as ``{"code": "text", "text": ...}``, so nothing is lost.
"""

from __future__ import annotations

import re

#: (code, pattern of the model's English phrase); the named groups become the code's fields.
NOTE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("missed_in", re.compile(r"target missed in (?P<years>[0-9, ]+)")),
    ("not_met_by", re.compile(r"target not met by (?P<due>\S+)")),
    ("rules_only", re.compile(r"(?P<n>\d+) observations \(< (?P<min>\d+)\): rule-based layer only")),
    ("no_data", re.compile(r"no data")),
    ("city_whole", re.compile(r"target set for the city as a whole; shown for reference")),
)

TEXT = re.compile(r"(?P<text>.*?)(?:; |$)")  # a phrase the table does not know, up to the next "; "


def note_codes(note) -> tuple[dict, ...]:
    """``note`` (as in ``assessments.csv``) as a tuple of ``{"code": ..., ...}``, in the note's order.

    Examples
    --------
    >>> note_codes("no data; target not met by 2025Q4")
    ({'code': 'no_data'}, {'code': 'not_met_by', 'due': '2025Q4'})
    """
    if not isinstance(note, str) or not note:
        return ()
    out, rest = [], note
    while rest:
        for code, pattern in NOTE_PATTERNS:  # a phrase may itself hold "; ": match phrases, not split parts
            m = pattern.match(rest)
            if m and rest[m.end():m.end() + 2] in ("; ", ""):
                out.append({"code": code, **m.groupdict()})
                break
        else:
            m = TEXT.match(rest)  # always matches (it may match nothing before "; ")
            out.append({"code": "text", "text": m.group("text") if m else rest})
        rest = rest[m.end():].removeprefix("; ") if m else ""
    return tuple(out)
