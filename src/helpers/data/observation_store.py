"""The observation store of one project (:class:`ObservationStore`): one SQLite file with vintages.

What it holds and how a view *as known at* a time is read: :mod:`helpers.data.store`, the module
other code imports it from.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from helpers.data.asof import check_as_of, utc_now
from helpers.data.contract import FAILURE_COLUMNS, REQUIRED_COLUMNS, _num, validate_frame
from helpers.data.store_schema import _SCHEMA, FIGURES, KEY, SEED_RECEIVED_AT, STORED_NAME, _short
from helpers.data.tasks import SCHEMA as TASK_SCHEMA, check_file as _check_file, store_rows as store_task_rows
from helpers.exceptions import DataValidationError, EnvironmentFailure
from helpers.files import refuse_links, sha256_file
from helpers.i18n import et

log = logging.getLogger("ipeval.store")
#: how long a command waits for another program holding the store (a long ingest, an open
#: DB browser) before it says so; SQLite retries during the whole wait
LOCK_WAIT_SECONDS = 30.0


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
        if self.path.is_symlink():
            refuse_links(self.path, "the observation store")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=LOCK_WAIT_SECONDS, isolation_level=None)
        try:
            con.executescript(_SCHEMA)
            con.executescript(TASK_SCHEMA)  # task returns (helpers.data.tasks): their own table
        except BaseException:
            con.close()
            raise
        return con

    @contextmanager
    def _db(self):
        """A connection, with SQLite's failures said as what they are (all exit 3, environment):
        the store locked by another program past :data:`LOCK_WAIT_SECONDS`, the disk full, the
        file not a database."""
        try:
            with closing(self._connect()) as con:
                yield con
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if "locked" in text or "busy" in text:
                raise EnvironmentFailure(et("store_locked", path=self.path, seconds=LOCK_WAIT_SECONDS)) from exc
            if "full" in text:
                raise EnvironmentFailure(et("store_disk_full", path=self.path)) from exc
            raise EnvironmentFailure(et("store_unusable", path=self.path, reason=exc)) from exc
        except sqlite3.DatabaseError as exc:
            raise EnvironmentFailure(et("store_damaged", path=self.path, reason=exc, received=self.received_dir)) from exc

    @property
    def exists(self) -> bool:
        return self.path.is_file() and len(self.vintages()) > 0

    # ------------------------------------------------------------------ reading

    _VINTAGES_SQL = "SELECT * FROM vintages{where} ORDER BY received_at, vintage_id"
    _VIEW_SQL = """
        SELECT * FROM (
            SELECT o.*, v.name AS file, ROW_NUMBER() OVER (
                PARTITION BY o.indicator_id, o.geography_code, o.period
                ORDER BY v.received_at DESC, o.vintage_id DESC, o.obs_id DESC) AS rn
            FROM observations o JOIN vintages v USING (vintage_id)
            {where}) WHERE rn = 1
        ORDER BY indicator_id, geography_code, period"""

    @classmethod
    def _read_vintages(cls, con, as_of):
        return pd.read_sql_query(cls._VINTAGES_SQL.format(where=" WHERE received_at <= ?" if as_of else ""), con,
                                 params=(as_of,) if as_of else ())

    @classmethod
    def _read_view(cls, con, as_of):
        df = pd.read_sql_query(cls._VIEW_SQL.format(where="WHERE v.received_at <= ?" if as_of else ""), con,
                               params=(as_of,) if as_of else ())
        return df[[*REQUIRED_COLUMNS, "vintage_id", "obs_id", "file", "cell"]].reset_index(drop=True)

    def vintages(self, as_of: str | None = None) -> pd.DataFrame:
        """The ingested files (received by ``as_of`` if given), oldest first."""
        if not self.path.is_file():
            return pd.DataFrame(columns=["vintage_id", "name", "sha256", "received_at", "stored_as", "n_rows"])
        with self._db() as con:
            return self._read_vintages(con, as_of)

    def observations(self) -> pd.DataFrame:
        """Every stored row with its vintage's file name and received time."""
        with self._db() as con:
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
        with self._db() as con:
            return self._read_view(con, as_of)

    def snapshot(self, as_of: str | None = None) -> tuple[dict, pd.DataFrame, pd.DataFrame, bytes]:
        """The vintages, the view and its contract CSV as one consistent snapshot.

        Both are read inside one read transaction, so an ingest committing meanwhile is either
        wholly in or wholly out; the hash is computed from the very bytes the run will read, so a
        view is never filed under another view's hash.

        Returns
        -------
        (state, vintages, view, csv_bytes)
            :meth:`state`'s dict, the vintages frame, the view, and the view as contract CSV bytes
            (whose SHA-256 is ``state['view_sha256']``).
        """
        with self._db() as con:
            con.execute("BEGIN")  # deferred: the first SELECT takes the snapshot both reads share
            try:
                vint = self._read_vintages(con, as_of)
                view = self._read_view(con, as_of)
            finally:
                con.execute("COMMIT")
        data = view[list(REQUIRED_COLUMNS)].to_csv(index=False, lineterminator="\n").encode("utf-8")
        state = {"as_of": as_of, "view_sha256": hashlib.sha256(data).hexdigest(),
                 "vintages": [{k: (int(v) if k in ("vintage_id", "n_rows") else v) for k, v in r.items()}
                              for r in vint[["vintage_id", "name", "sha256", "received_at", "n_rows"]].to_dict("records")]}
        return state, vint, view, data

    def export(self, path: str | Path, as_of: str | None = None) -> Path:
        """Write the view as a contract CSV (UTF-8, the contract's columns, sorted by the key)."""
        from helpers.files import atomic_write_bytes, safe_frame

        path = Path(path)
        refuse_links(path, "the export", parent=False)  # the folder is the user's choice
        check_as_of(as_of, self.vintages())
        # a CSV for people (they open it in Excel): formula-looking text neutralised (OWASP)
        data = safe_frame(self.view(as_of)[list(REQUIRED_COLUMNS)]).to_csv(index=False, lineterminator="\n")
        atomic_write_bytes(path, data.encode("utf-8"))
        return path

    def state(self, as_of: str | None = None) -> dict:
        """What a run read: the vintages received by ``as_of`` and the hash of the view."""
        return self.snapshot(as_of)[0]

    # ------------------------------------------------------------------ writing

    def ingest(self, path: str | Path, plan, geos, received_at: str | None = None, keep_copy: bool = True,
               _stored_as: str | None = None, _vintage_id: int | None = None) -> IngestResult:
        """Validate one file and store the rows it adds or changes, all or nothing.

        The copy under ``received/`` is part of the store only with the commit: it is written
        under a hidden ``.pending`` name and given its real name after the commit (a failed or
        killed ingest leaves no copy a rebuild would replay; :meth:`recover` finishes or removes
        a pending copy).

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
        EnvironmentFailure
            The store locked past :data:`LOCK_WAIT_SECONDS`, the disk full: nothing was written.
        """
        path = Path(path)
        raw, task_rows = _check_file(path, plan, geos)  # the file on its own: full report with cells
        sha = sha256_file(path)
        received_at = received_at or utc_now()
        if keep_copy:
            refuse_links(self.received_dir, "the received files", parent=False)
            self.recover()
        pending = None
        with self._db() as con:
            con.execute("BEGIN IMMEDIATE")  # one writer at a time; readers see before or after
            try:
                dup = con.execute("SELECT vintage_id FROM vintages WHERE sha256 = ?", (sha,)).fetchone()
                if dup:
                    con.execute("ROLLBACK")
                    return IngestResult(path, None, duplicate_of=int(dup[0]))
                result, rows = self._diff(raw, path, con) if len(raw) else (IngestResult(path, None), raw)
                self._check_merged(rows, plan, geos, path, con)
                seq = _vintage_id or (con.execute("SELECT COALESCE(MAX(vintage_id), 0) FROM vintages").fetchone()[0] or 0) + 1
                stored_as = _stored_as or f"{seq:04d}-{received_at.replace(':', '').replace('-', '')}-{sha[:12]}-{_short(path.name)}"
                cur = con.execute("INSERT INTO vintages (vintage_id, name, sha256, received_at, stored_as, n_rows) "
                                  "VALUES (?,?,?,?,?,?)", (seq, path.name, sha, received_at, stored_as, len(rows)))
                vid = cur.lastrowid
                con.executemany(
                    "INSERT INTO observations (vintage_id, indicator_id, geography_code, period, value, numerator, "
                    "denominator, source, note, cell, revises) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    [(vid, *(r[c] for c in REQUIRED_COLUMNS), r["_row"], r["revises"]) for r in rows.to_dict("records")])
                if task_rows is not None:
                    result.tasks = store_task_rows(con, vid, task_rows)
                if keep_copy:
                    self.received_dir.mkdir(parents=True, exist_ok=True)
                    pending = self.received_dir / f".{stored_as}.pending"
                    shutil.copy2(path, pending)
                    with open(pending, "rb") as fh:
                        os.fsync(fh.fileno())
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                if pending is not None:
                    pending.unlink(missing_ok=True)
                raise
        if pending is not None:
            try:
                os.replace(pending, self.received_dir / stored_as)
            except FileNotFoundError:  # another command's recover() named it first (the vintage is committed)
                if not (self.received_dir / stored_as).is_file():
                    raise
        result.vintage_id = vid
        return result

    def recover(self) -> None:
        """Finish what a killed ingest left: a ``.pending`` copy whose vintage was committed gets its
        name; one whose vintage was not is removed (its ingest never happened)."""
        if not self.received_dir.is_dir():
            return
        if not any(self.received_dir.glob(".*.pending")) or not self.path.is_file():
            return
        with self._db() as con:
            # under the write lock: an ingest in progress holds it from before its copy is written
            # until its commit, so a pending copy seen here is either committed or abandoned
            con.execute("BEGIN IMMEDIATE")
            try:
                known = {r[0] for r in con.execute("SELECT stored_as FROM vintages")}
                for p in self.received_dir.glob(".*.pending"):
                    if not p.is_file() or p.is_symlink():
                        continue
                    name = p.name[1:-len(".pending")]
                    if name in known:
                        os.replace(p, self.received_dir / name)
                    else:
                        p.unlink(missing_ok=True)
            finally:
                con.execute("ROLLBACK")

    def _diff(self, raw: pd.DataFrame, path: Path, con=None) -> tuple[IngestResult, pd.DataFrame]:
        """The rows of ``raw`` that are new or differ from the current view, with what they revise."""
        cur = self._read_view(con, None) if con is not None else self.view()
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
        res = IngestResult(path, None, new=int((~known).sum()), revised=int((known & ~(same_fig & same_text)).sum()),
                           unchanged=int((known & same_fig & same_text).sum()))
        return res, out.reset_index(drop=True)

    def _check_merged(self, rows: pd.DataFrame, plan, geos, path: Path, con=None) -> None:
        """The view with these rows in must still meet the contract (e.g. districts not above the city)."""
        if rows.empty:
            return
        cur = self._read_view(con, None) if con is not None else self.view()
        cur = cur.assign(_file=cur["file"], _row=cur["cell"])
        keys = pd.MultiIndex.from_frame(rows[KEY])
        keep = ~pd.MultiIndex.from_frame(cur[KEY]).isin(keys)
        merged = pd.concat([cur.loc[keep, [*REQUIRED_COLUMNS, "_file", "_row"]],
                            rows[[*REQUIRED_COLUMNS, "_row"]].assign(_file=path.name)], ignore_index=True)
        failures = validate_frame(merged, plan, geos)
        if len(failures):
            raise DataValidationError(
                et("store_merge_problems", file=path.name, n=len(failures)),
                failures[FAILURE_COLUMNS].reset_index(drop=True))

    def received_files(self) -> list[Path]:
        """The kept copies under ``received/`` (named ``<seq>-<time>-<sha12>-<name>``), in order."""
        if not self.received_dir.is_dir():
            return []
        return sorted(p for p in self.received_dir.iterdir()
                      if STORED_NAME.match(p.name) and p.is_file() and not p.is_symlink())

    def ensure_seed(self, seed: Path | None, plan, geos) -> str | None:
        """Make sure the store holds what it should, never silently replacing it.

        * the store holds vintages: a changed seed file (its bytes not yet ingested) is ingested
          as a new vintage received now;
        * the store is missing or empty but ``received/`` holds copies: it is rebuilt from them
          (the store is a cache of ``received/``), never from the seed;
        * both empty (a fresh clone): the seed (the demonstration data) becomes the first vintage.

        Returns
        -------
        str or None
            What was done, when anything was (also logged as a warning, so a person sees it).
        """
        self.recover()
        note = None
        if not self.exists:
            kept = self.received_files()
            if kept:
                done = self.rebuild(plan, geos)
                note = et("store_rebuilt", name=self.path.name, n=len(done), folder=self.received_dir.name)
            elif seed is not None and Path(seed).is_file():
                self.ingest(seed, plan, geos, received_at=SEED_RECEIVED_AT)
                note = et("store_seeded", seed=Path(seed).name)
        elif seed is not None and Path(seed).is_file() and sha256_file(seed) not in set(self.vintages()["sha256"]):
            res = self.ingest(seed, plan, geos)
            note = et("store_seed_changed", seed=Path(seed).name, vintage=res.vintage_id)
        if note:
            log.warning(note)
        return note

    def rebuild(self, plan, geos) -> list[IngestResult]:
        """Recreate the database from ``received/`` alone, replaying the files in their order.

        Each vintage keeps the number in its copy's name (a deleted copy leaves a gap, it does not
        renumber the later ones); a file in ``received/`` not named like a kept copy is left alone
        and said.
        """
        refuse_links(self.received_dir, "the received files", parent=False)
        files = self.received_files()
        stray = [p.name for p in self.received_dir.glob("*")
                 if not p.name.startswith(".") and p not in files] if self.received_dir.is_dir() else []
        if stray:
            log.warning(f"{self.received_dir.name}/: not a kept copy, not replayed: {', '.join(sorted(stray)[:5])}")
        tmp = self.path.with_name(self.path.name + ".rebuild")
        tmp.unlink(missing_ok=True)
        fresh = ObservationStore(tmp, self.received_dir)
        out = []
        kept = [(p, m) for p in files if (m := STORED_NAME.match(p.name))]  # all: received_files() matched them
        for p, m in sorted(kept, key=lambda pm: int(pm[1].group(1))):
            seq, stamp, _sha, name = m.groups()
            received = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
            out.append(fresh._ingest_copy(p, name, plan, geos, received, int(seq)))
        tmp.replace(self.path)
        return out

    def _ingest_copy(self, copy: Path, name: str, plan, geos, received_at: str, seq: int | None = None) -> IngestResult:
        # the copy carries the original's bytes; ingest it under the original's name
        import tempfile

        with tempfile.TemporaryDirectory() as d:
            orig = Path(d) / name
            shutil.copy2(copy, orig)
            return self.ingest(orig, plan, geos, received_at=received_at, keep_copy=False, _stored_as=copy.name,
                               _vintage_id=seq)
