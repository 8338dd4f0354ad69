"""Figures taken from publications (``data/reference/``), kept apart from generated and reported data.

The report marks these values as published, with their source, so a reader never mistakes a
real figure for a generated one or the other way round.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

REFERENCE_FILE = Path("data") / "reference" / "hangzhou_public_figures.csv"
COLUMNS = ["indicator_id", "geography_code", "period", "value", "source", "note"]
EMPTY = COLUMNS + ["says", "remark"]


def published_figures(root: str | Path) -> pd.DataFrame:
    """The published figures under the project folder ``root``, or an empty table.

    Every row's source names the publication (docs/sources/README.md lists them).

    Parameters
    ----------
    root : path
        The project folder (the one holding ``params/`` and ``data/``).

    Returns
    -------
    pandas.DataFrame
        ``indicator_id, geography_code, period, value, source, note, says, remark``: ``source``
        without the repository path of the transcript that may follow it in brackets; ``says``
        the publication's own words (the note before a bracket) and ``remark`` ours (in it).
    """
    path = Path(root) / REFERENCE_FILE
    if not path.is_file():
        return pd.DataFrame(columns=EMPTY)
    import csv

    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], [r for r in rows[1:] if r]
    # a note holding an unquoted comma (the file is edited by hand) stays one note
    width = len(header)
    df = pd.DataFrame([r[:width - 1] + [",".join(r[width - 1:])] for r in body], columns=header)
    df["value"] = pd.to_numeric(df["value"], errors="coerce")
    # a trailing bracket (half- or full-width) points at the transcript in the repository, not the publication
    df["source"] = df["source"].str.replace(r"\s*[(（][^)）]*[)）]\s*$", "", regex=True).str.strip()
    # the note is the publication's wording, then our remark in brackets (in English)
    split = df["note"].str.extract(r"^(?P<says>.*?)\s*(?:\((?P<remark>[^)]*)\))?\s*$")
    df["says"], df["remark"] = split["says"].fillna(""), split["remark"].fillna("")
    return df[COLUMNS + ["says", "remark"]].reset_index(drop=True)
