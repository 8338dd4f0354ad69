"""What the observation store holds: its two tables, the key of a value, and the names of kept copies.

The tables are described in :mod:`helpers.data.store` (and ``docs/data_store.md``); each
ingested file is kept under ``data/received/`` as ``<seq>-<received>-<sha12>-<name>``.
"""

from __future__ import annotations

import re
from pathlib import Path

#: the name of a kept copy: sequence, received time, the first 12 hex digits of its SHA-256, name
STORED_NAME = re.compile(r"^(\d{4,})-(\d{8}T\d{6}Z)-([0-9a-f]{12})-(.+)$")

#: the received time of the seed file (the settings' data file) when the store is first built: it
#: counts as known from the start, so a backfill on a fresh store sees what it saw before the store
SEED_RECEIVED_AT = "1970-01-01T00:00:00Z"
FIGURES = ("value", "numerator", "denominator")
KEY = ["indicator_id", "geography_code", "period"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vintages (
    vintage_id  INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    sha256      TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    stored_as   TEXT NOT NULL,
    n_rows      INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS observations (
    obs_id         INTEGER PRIMARY KEY,
    vintage_id     INTEGER NOT NULL REFERENCES vintages(vintage_id),
    indicator_id   TEXT NOT NULL,
    geography_code TEXT NOT NULL,
    period         TEXT NOT NULL,
    value          TEXT NOT NULL,
    numerator      TEXT NOT NULL,
    denominator    TEXT NOT NULL,
    source         TEXT NOT NULL,
    note           TEXT NOT NULL,
    cell           TEXT NOT NULL,
    revises        INTEGER REFERENCES observations(obs_id)
);
CREATE INDEX IF NOT EXISTS obs_key ON observations(indicator_id, geography_code, period, vintage_id);
"""



def _short(name: str, limit: int = 200) -> str:
    """A file name cut to ``limit`` UTF-8 bytes, keeping its suffix: with the copy's prefix and the
    ``.pending`` of an ingest in progress it stays under the 255 bytes a file system allows (a
    235-byte name failed the ingest with "File name too long")."""
    if len(name.encode("utf-8")) <= limit:
        return name
    suffix = Path(name).suffix[:16]
    stem = name[: len(name) - len(suffix)] if suffix else name
    while len((stem + suffix).encode("utf-8")) > limit:
        stem = stem[:-1]
    return stem + suffix
