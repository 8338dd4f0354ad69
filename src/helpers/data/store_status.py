"""What ``ipeval status`` asks the observation store: when each value first arrived, and the store's health."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pandas as pd

from helpers.data.observation_store import ObservationStore
from helpers.data.store_schema import SEED_RECEIVED_AT


def first_received(store: ObservationStore, geography_codes, periods, as_of: str | None = None) -> pd.DataFrame:
    """When each value of these geographies and periods first arrived, and in which file.

    The returns status (``ipeval status``) asks this: a district's return for a quarter is in
    once its rows are, and late if they came after the deadline. A later revision does not make
    a return late, so the first arrival counts.

    Returns
    -------
    pandas.DataFrame
        ``indicator_id, geography_code, period, received_at`` (UTC, the store's format) and
        ``file`` (the name of the file that first brought it).
    """
    cols = ["indicator_id", "geography_code", "period", "received_at", "file"]
    codes, pers = [str(c) for c in geography_codes], [str(p) for p in periods]
    if not store.path.is_file() or not codes or not pers:
        return pd.DataFrame(columns=cols)
    sql = f"""
    SELECT indicator_id, geography_code, period, received_at, file FROM (
        SELECT o.indicator_id, o.geography_code, o.period, v.received_at, v.name AS file, ROW_NUMBER() OVER (
            PARTITION BY o.indicator_id, o.geography_code, o.period ORDER BY v.received_at, o.vintage_id) AS rn
        FROM observations o JOIN vintages v USING (vintage_id)
        WHERE o.geography_code IN ({",".join("?" * len(codes))}) AND o.period IN ({",".join("?" * len(pers))})
          AND TRIM(o.value || o.numerator || o.denominator) != ''{" AND v.received_at <= ?" if as_of else ""})
    WHERE rn = 1"""
    with closing(store._connect()) as con:
        return pd.read_sql_query(sql, con, params=(*codes, *pers, *((as_of,) if as_of else ())))[cols]


def store_health(store: ObservationStore) -> dict:
    """The store at a glance: vintages, the last ingest, and SQLite's ``PRAGMA integrity_check``."""
    if not store.path.is_file():
        return {"path": str(store.path), "exists": False, "vintages": 0, "last_ingest": None, "integrity": None}
    vint = store.vintages()
    real = vint[vint["received_at"] != SEED_RECEIVED_AT]
    with closing(sqlite3.connect(store.path, timeout=60)) as con:
        integrity = "; ".join(r[0] for r in con.execute("PRAGMA integrity_check").fetchall())
    last = real.iloc[-1] if len(real) else None
    return {"path": str(store.path), "exists": True, "vintages": int(len(vint)),
            "last_ingest": None if last is None else {"received_at": last["received_at"], "name": last["name"]},
            "integrity": integrity}
