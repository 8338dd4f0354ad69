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

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.data.asof import check_as_of, parse_as_of, utc_now  # noqa: F401 - re-exported
from helpers.data.observation_store import (  # noqa: F401 - re-exported: helpers.data.store.ObservationStore
    LOCK_WAIT_SECONDS,
    IngestResult,
    ObservationStore,
    _same,
)
from helpers.data.store_schema import (  # noqa: F401 - re-exported
    _SCHEMA,
    FIGURES,
    KEY,
    SEED_RECEIVED_AT,
    STORED_NAME,
    _short,
)
from helpers.data.store_status import first_received, store_health  # noqa: F401 - re-exported
from helpers.exceptions import ConfigError, DataValidationError
from helpers.files import refuse_links, sha256_file
from helpers.i18n import ERROR_LANGUAGE, et

log = logging.getLogger("ipeval.store")


def read_view(settings, plan, geos, as_of=None) -> tuple[list[Path], dict, pd.DataFrame, list[Path]]:
    """The store's view for a run, as a contract CSV the rest of the run reads like any data file.

    Makes sure the store is built (:meth:`ObservationStore.ensure_seed`: from ``received/`` when it
    was lost, from the settings' data file only on a fresh clone, saying which), reads the vintages
    and the view as known at ``as_of`` in one snapshot, and writes the view to
    ``outputs/.cache/store/<view-hash>/observations.csv`` unless a file there already holds exactly
    those bytes (its SHA-256 is checked: an edited cache file is rewritten, never read).

    Returns
    -------
    (data_files, state, view, received_files)
        ``[observations.csv]``, :meth:`ObservationStore.state` (with ``notes``: what was done to
        the store), the view with each row's file, and the copies under ``data/received/`` of the
        vintages it was made of.

    Raises
    ------
    ConfigError
        Nothing had been received by ``as_of``.
    InvalidPeriodError
        ``as_of`` in the future or before the first file received.
    """
    from helpers.files import atomic_write_bytes

    store = ObservationStore.of(settings)
    t = parse_as_of(as_of)
    note = store.ensure_seed(settings.data_path, plan, geos)
    check_as_of(t, store.vintages())
    state, vint, view, data = store.snapshot(t)
    if not state["vintages"]:
        raise ConfigError(et("store_nothing_by", path=store.path, t=t or ("now" if ERROR_LANGUAGE["lang"] == "en" else "现在")))
    if note:
        state["notes"] = [note]
    # not a helpers.cache.Store entry: the file is named by its own SHA-256 (checked by hashing it), and
    # its name must stay observations.csv, the name the run copies and records
    out = settings.outputs_path / ".cache" / "store" / state["view_sha256"][:20] / "observations.csv"
    refuse_links(out, "the store's cache")
    if not (out.is_file() and sha256_file(out) == state["view_sha256"]):
        if out.is_file():
            log.warning(f"{out.name} in the cache did not match its view's hash: written again")
        atomic_write_bytes(out, data)
    stored = dict(zip(vint["vintage_id"], vint["stored_as"]))
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
            # no file, no report beside it: `ingest typo.csv` must not create typo.csv.errors.*
            files = write_report(report, report_dir or p.parent, p.name, lang) if p.is_file() else []
            out.append(Outcome(p, report=report, report_files=files))
    return out
