"""The observation store: every value ever received, with its vintage (``docs/data_store.md``).

One SQLite database (``data/store.sqlite``, standard library, one file, transactions) with two
tables:

``vintages``
    one row per ingested file: ``vintage_id``, ``name``, ``sha256``, ``received_at`` (UTC, ISO),
    ``stored_as`` (its copy under ``data/received/``), ``n_rows`` (rows it added or changed).
``observations``
    one row per value a file added or changed: the contract's columns as text, the ``vintage_id``,
    the ``cell`` it came from, and ``revises`` (the ``obs_id`` of the value it replaced, or NULL).

The view *as known at* a time is, for each indicator, geography and period, the row of the last
vintage received by then. A file is stored all or nothing: it is validated on its own and merged
with the current view before anything is written; a bad file changes nothing.

The database is a cache of ``data/received/``: each ingested file is copied there as
``<seq>-<received>-<sha12>-<name>``, so :meth:`ObservationStore.rebuild` replays them in order.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from helpers.data.contract import FAILURE_COLUMNS, REQUIRED_COLUMNS, _num, validate_frame
from helpers.data.ingest import check_return
from helpers.exceptions import ConfigError, DataValidationError
from helpers.files import sha256_file
from helpers.data.tasks import SCHEMA as TASK_SCHEMA, check_file as _check_file, store_rows as store_task_rows

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


def utc_now() -> str:
    """Now, UTC, to the second, as the store writes times (``2026-12-02T00:47:15Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_as_of(text: str | datetime | None) -> str | None:
    """``2025-07-25`` (the end of that day, UTC) or an ISO time -> the store's time format."""
    if text is None or text == "":
        return None
    if isinstance(text, datetime):
        t = text
    else:
        s = str(text).strip()
        try:
            t = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"--as-of {s!r} is not a date (2025-07-25) or time (2025-07-25T06:00:00Z)") from None
        if len(s) == 10:  # a date alone: everything received that day
            t = t.replace(hour=23, minute=59, second=59)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class IngestResult:
    """What one ``ingest`` did."""

    path: Path
    vintage_id: int | None  # None: the same bytes were ingested before
    new: int = 0            # rows for a key the store did not have
    revised: int = 0        # rows that replaced a different figure
    unchanged: int = 0      # rows equal to what the store had (not stored again)
    duplicate_of: int | None = None
    tasks: int = 0          # task-status rows stored (helpers.data.tasks)


def _same(a: pd.Series, b: pd.Series) -> pd.Series:
    """Text cells equal, or both numbers and equal (``120`` is ``120.0``)."""
    na, nb = _num(a), _num(b)
    return (a.astype(str).str.strip() == b.astype(str).str.strip()) | (na.notna() & nb.notna() & (na == nb))


class ObservationStore:
    """The vintaged store of one project.

    Parameters
    ----------
    path : Path
        The SQLite file (created on first use).
    received_dir : Path
        Where ingested files are kept (the store is rebuilt from them).
    """

    def __init__(self, path: Path, received_dir: Path):
        self.path, self.received_dir = Path(path), Path(received_dir)

    @classmethod
    def of(cls, settings) -> "ObservationStore":
        """The store named by the settings' ``store`` block."""
        return cls(settings.resolve(settings.store.path), settings.resolve(settings.store.received))

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        con.executescript(_SCHEMA)
        con.executescript(TASK_SCHEMA)  # task returns (helpers.data.tasks): their own table
        return con

    @property
    def exists(self) -> bool:
        return self.path.is_file() and len(self.vintages()) > 0

    # ------------------------------------------------------------------ reading

    def vintages(self, as_of: str | None = None) -> pd.DataFrame:
        """The ingested files (received by ``as_of`` if given), oldest first."""
        if not self.path.is_file():
            return pd.DataFrame(columns=["vintage_id", "name", "sha256", "received_at", "stored_as", "n_rows"])
        with closing(self._connect()) as con:
            q = "SELECT * FROM vintages" + (" WHERE received_at <= ?" if as_of else "") + " ORDER BY received_at, vintage_id"
            return pd.read_sql_query(q, con, params=(as_of,) if as_of else ())

    def observations(self) -> pd.DataFrame:
        """Every stored row with its vintage's file name and received time."""
        with closing(self._connect()) as con:
            return pd.read_sql_query(
                "SELECT o.*, v.name AS file, v.received_at FROM observations o JOIN vintages v USING (vintage_id) "
                "ORDER BY v.received_at, o.vintage_id, o.obs_id", con)

    def view(self, as_of: str | None = None) -> pd.DataFrame:
        """The values as known at ``as_of`` (default: now), one row per indicator, geography, period.

        Returns
        -------
        pandas.DataFrame
            The contract's columns as text, sorted by the key, plus ``vintage_id``, ``obs_id``,
            ``file`` and ``cell``.
        """
        if not self.path.is_file():
            return pd.DataFrame(columns=[*REQUIRED_COLUMNS, "vintage_id", "obs_id", "file", "cell"])
        sql = """
        SELECT * FROM (
            SELECT o.*, v.name AS file, ROW_NUMBER() OVER (
                PARTITION BY o.indicator_id, o.geography_code, o.period
                ORDER BY v.received_at DESC, o.vintage_id DESC, o.obs_id DESC) AS rn
            FROM observations o JOIN vintages v USING (vintage_id)
            {where}) WHERE rn = 1
        ORDER BY indicator_id, geography_code, period"""
        with closing(self._connect()) as con:
            df = pd.read_sql_query(sql.format(where="WHERE v.received_at <= ?" if as_of else ""), con,
                                   params=(as_of,) if as_of else ())
        return df[[*REQUIRED_COLUMNS, "vintage_id", "obs_id", "file", "cell"]].reset_index(drop=True)

    def export(self, path: str | Path, as_of: str | None = None) -> Path:
        """Write the view as a contract CSV (UTF-8, the contract's columns, sorted by the key)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        self.view(as_of)[list(REQUIRED_COLUMNS)].to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
        tmp.replace(path)
        return path

    def state(self, as_of: str | None = None) -> dict:
        """What a run read: the vintages received by ``as_of`` and the hash of the view."""
        vint = self.vintages(as_of)
        view = self.view(as_of)[list(REQUIRED_COLUMNS)]
        digest = hashlib.sha256(view.to_csv(index=False, lineterminator="\n").encode("utf-8")).hexdigest()
        return {"as_of": as_of, "view_sha256": digest,
                "vintages": [{k: (int(v) if k in ("vintage_id", "n_rows") else v) for k, v in r.items()}
                             for r in vint[["vintage_id", "name", "sha256", "received_at", "n_rows"]].to_dict("records")]}

    # ------------------------------------------------------------------ writing

    def ingest(self, path: str | Path, plan, geos, received_at: str | None = None, keep_copy: bool = True,
               _stored_as: str | None = None) -> IngestResult:
        """Validate one file and store the rows it adds or changes, all or nothing.

        Parameters
        ----------
        path : path
            A district return (CSV or .xlsx, see :mod:`helpers.data.ingest`).
        received_at : str, optional
            UTC time in the store's format (default: now).
        keep_copy : bool
            Copy the file to ``received/`` (off only when rebuilding from those copies).

        Raises
        ------
        DataValidationError
            The file alone, or the store's view with the file merged in, breaks the data contract;
            nothing was written.
        """
        path = Path(path)
        raw, task_rows = _check_file(path, plan, geos)  # the file on its own: full report with cells
        sha = sha256_file(path)
        received_at = received_at or utc_now()
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time; readers see before or after
            try:
                dup = con.execute("SELECT vintage_id FROM vintages WHERE sha256 = ?", (sha,)).fetchone()
                if dup:
                    con.execute("ROLLBACK")
                    return IngestResult(path, None, duplicate_of=int(dup[0]))
                result, rows = self._diff(raw, path) if len(raw) else (IngestResult(path, None), raw)
                self._check_merged(rows, plan, geos, path)
                seq = (con.execute("SELECT COALESCE(MAX(vintage_id), 0) FROM vintages").fetchone()[0] or 0) + 1
                stored_as = _stored_as or f"{seq:04d}-{received_at.replace(':', '').replace('-', '')}-{sha[:12]}-{path.name}"
                cur = con.execute("INSERT INTO vintages (name, sha256, received_at, stored_as, n_rows) VALUES (?,?,?,?,?)",
                                  (path.name, sha, received_at, stored_as, len(rows)))
                vid = cur.lastrowid
                con.executemany(
                    "INSERT INTO observations (vintage_id, indicator_id, geography_code, period, value, numerator, "
                    "denominator, source, note, cell, revises) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(vid, *(r[c] for c in REQUIRED_COLUMNS), r["_row"], r["revises"]) for r in rows.to_dict("records")])
                if task_rows is not None:
                    result.tasks = store_task_rows(con, vid, task_rows)
                if keep_copy:
                    self.received_dir.mkdir(parents=True, exist_ok=True)
                    tmp = self.received_dir / f".{stored_as}.tmp"
                    shutil.copy2(path, tmp)
                    tmp.replace(self.received_dir / stored_as)
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
        result.vintage_id = vid
        return result

    def _diff(self, raw: pd.DataFrame, path: Path) -> tuple[IngestResult, pd.DataFrame]:
        """The rows of ``raw`` that are new or differ from the current view, with what they revise."""
        cur = self.view()
        new = raw.copy()
        for c in REQUIRED_COLUMNS:
            new[c] = new[c].astype(str).str.strip()
        new["period"] = new["period"].str.replace(r"\.0$", "", regex=True)
        m = new.merge(cur, on=KEY, how="left", suffixes=("", "_old"), indicator=True)
        known = m["_merge"] == "both"
        same_fig = pd.Series(True, index=m.index)
        for c in FIGURES:
            same_fig &= _same(m[c], m[f"{c}_old"].fillna(""))
        same_text = (m["source"] == m["source_old"].fillna("")) & (m["note"] == m["note_old"].fillna(""))
        changed = ~known | ~(same_fig & same_text)
        out = m.loc[changed, [*REQUIRED_COLUMNS, "_row", "obs_id"]].rename(columns={"obs_id": "revises"})
        out["revises"] = out["revises"].astype("Int64").astype(object).where(out["revises"].notna(), None)
        res = IngestResult(path, None, new=int((~known).sum()), revised=int((known & ~same_fig).sum()),
                           unchanged=int((known & same_fig & same_text).sum()))
        return res, out.reset_index(drop=True)

    def _check_merged(self, rows: pd.DataFrame, plan, geos, path: Path) -> None:
        """The view with these rows in must still meet the contract (e.g. districts not above the city)."""
        if rows.empty:
            return
        cur = self.view()
        cur = cur.assign(_file=cur["file"], _row=cur["cell"])
        keys = pd.MultiIndex.from_frame(rows[KEY])
        keep = ~pd.MultiIndex.from_frame(cur[KEY]).isin(keys)
        merged = pd.concat([cur.loc[keep, [*REQUIRED_COLUMNS, "_file", "_row"]],
                            rows[[*REQUIRED_COLUMNS, "_row"]].assign(_file=path.name)], ignore_index=True)
        failures = validate_frame(merged, plan, geos)
        if len(failures):
            raise DataValidationError(
                f"{path.name}: with the values already stored, {len(failures)} problem(s); nothing was stored",
                failures[FAILURE_COLUMNS].reset_index(drop=True))

    def ensure_seed(self, seed: Path, plan, geos) -> IngestResult | None:
        """Build the store from the settings' data file if it is empty; later, a changed seed file
        (its bytes not yet ingested) is ingested as a new vintage received now."""
        seed = Path(seed)
        if not self.exists:
            return self.ingest(seed, plan, geos, received_at=SEED_RECEIVED_AT)
        if sha256_file(seed) not in set(self.vintages()["sha256"]):
            return self.ingest(seed, plan, geos)
        return None

    def rebuild(self, plan, geos) -> list[IngestResult]:
        """Recreate the database from ``received/`` alone, replaying the files in their order."""
        files = sorted(p for p in self.received_dir.glob("[0-9]*-*") if p.is_file())
        tmp = self.path.with_name(self.path.name + ".rebuild")
        tmp.unlink(missing_ok=True)
        fresh = ObservationStore(tmp, self.received_dir)
        out = []
        for p in files:
            _seq, stamp, _sha, _name = p.name.split("-", 3)
            received = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append(fresh._ingest_copy(p, _name, plan, geos, received))
        tmp.replace(self.path)
        return out

    def _ingest_copy(self, copy: Path, name: str, plan, geos, received_at: str) -> IngestResult:
        # the copy carries the original's bytes; ingest it under the original's name
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            orig = Path(d) / name
            shutil.copy2(copy, orig)
            return self.ingest(orig, plan, geos, received_at=received_at, keep_copy=False, _stored_as=copy.name)


def read_view(settings, plan, geos, as_of=None) -> tuple[list[Path], dict, pd.DataFrame, list[Path]]:
    """The store's view for a run, as a contract CSV the rest of the run reads like any data file.

    Builds the store from the settings' data file when it is empty (a fresh clone), ingests that
    file again as a new vintage when its bytes changed, then exports the view as known at
    ``as_of`` to ``outputs/.cache/store/<view-hash>/observations.csv``.

    Returns
    -------
    (data_files, state, view, received_files)
        ``[observations.csv]``, :meth:`ObservationStore.state`, the view with each row's file, and
        the copies under ``data/received/`` of the vintages it was made of.

    Raises
    ------
    ConfigError
        Nothing had been received by ``as_of``.
    """
    store = ObservationStore.of(settings)
    if settings.data_path.is_file():
        store.ensure_seed(settings.data_path, plan, geos)
    t = parse_as_of(as_of)
    state = store.state(t)
    if not state["vintages"]:
        raise ConfigError(f"the observation store {store.path} holds nothing received by {t or 'now'}: "
                          f"ingest a file (ipeval ingest FILE) or give --data FILE")
    view = store.view(t)
    out = settings.outputs_path / ".cache" / "store" / state["view_sha256"][:20] / "observations.csv"
    if not out.is_file():
        store.export(out, t)
    stored = dict(zip(store.vintages(t)["vintage_id"], store.vintages(t)["stored_as"]))
    received = [store.received_dir / stored[v["vintage_id"]] for v in state["vintages"]
                if (store.received_dir / stored[v["vintage_id"]]).is_file()]
    return [out.resolve()], state, view, received


@dataclass
class Outcome:
    """One file of :func:`ingest_files`: stored, or refused with its report."""

    path: Path
    result: IngestResult | None = None
    report: pd.DataFrame | None = None
    report_files: list | None = None

    @property
    def ok(self) -> bool:
        return self.report is None


def ingest_files(store: ObservationStore, paths, plan, geos, lang: str = "zh", report_dir: Path | None = None,
                 seed: Path | None = None) -> list[Outcome]:
    """Ingest several files one by one; a bad file is refused alone, with its report written.

    Parameters
    ----------
    report_dir : Path, optional
        Where ``<file>.errors.csv`` and ``.errors.xlsx`` go (default: beside the file).
    seed : Path, optional
        The settings' data file: loaded first when the store is empty, so it is the first vintage.
    """
    from helpers.data.ingest import error_report, write_report

    if seed is not None and Path(seed).is_file():
        store.ensure_seed(seed, plan, geos)
    out = []
    for p in map(Path, paths):
        try:
            out.append(Outcome(p, store.ingest(p, plan, geos)))
        except DataValidationError as exc:
            report = error_report(exc, p, getattr(exc, "letters", None), lang)
            files = write_report(report, report_dir or p.parent, p.name, lang)
            out.append(Outcome(p, report=report, report_files=files))
    return out
