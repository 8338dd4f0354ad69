"""The no-change fast path of ``ipeval run``: one hash of every input, checked before anything heavy.

A scheduled run with nothing new used to spend about 5 s (Python start-up, importing pandas and
the model, rebuilding every chart specification to compare hashes, the what-changed step, the
manifest and the index) to publish a copy of what was already published. Here the command first
hashes, with the standard library and PyYAML only, everything a run reads:

* the options that change what is published (quarter, sections, geographies, language, data
  files, ``--as-of``, documents) and, for ``latest``, the last quarter ended by today;
* the settings file, ``params/``, ``notebooks/``, the data files the settings name (the seed CSV,
  ``data/reference``), the observation store's database, ``docs/methodology.md``;
* the code: every file of the ``helpers`` package, the Python version and the installed
  distributions (their ``*.dist-info`` names carry the versions).

If that hash equals the one recorded for the run now published for the quarter (``outputs/
.fastpath.json``, written after a run that published with every report ok), the command says
"unchanged" and exits 0. Anything else (``--force``, files waiting in the inbox, a missing or
different record, a published run that is not the recorded one, a run of the quarter in
progress, a staging folder a killed run left) falls through to the full run,
which decides per report and per chart as before. The hash is also written into the run's
``manifest.json`` (``input_fingerprint``).
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
from datetime import date
from pathlib import Path

from helpers.cache import Key  # the standard library only: no heavy import before the decision

RECORD_FILE = ".fastpath.json"
KEEP_RECORDS = 64  # fingerprints remembered (a quarter's subsets and languages); the oldest go first


def project_root() -> Path:
    """As :func:`helpers.settings.find_project_root`, without importing pydantic (150 ms)."""
    env = os.environ.get("IPEVAL_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "settings.yaml").is_file():
            return folder
    return Path(__file__).resolve().parents[3]


def _environment(h) -> None:
    """The interpreter and the installed distributions (name and version by their dist-info folder)."""
    h.text("python", sys.version)
    for key in ("purelib", "platlib"):
        d = Path(sysconfig.get_paths()[key])
        if d.is_dir():
            h.json(key, sorted(n for n in os.listdir(d) if n.endswith((".dist-info", ".egg-info"))))


def last_ended_quarter(today: date | None = None) -> str:
    """The last quarter ended by ``today`` ('2025Q2' on 2025-08-01): what ``latest`` can be at most."""
    today = today or date.today()
    q = (today.month - 1) // 3  # quarters ended this year
    return f"{today.year - 1}Q4" if q == 0 else f"{today.year}Q{q}"


def _settings_paths(root: Path, settings_path: Path) -> dict:
    """The files the settings name, resolved as :class:`helpers.settings.Settings` does."""
    import yaml

    try:
        raw = yaml.safe_load(settings_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(raw, dict):
        return {}

    def res(v):
        p = Path(str(v))
        return p if p.is_absolute() else root / p

    out = {k: res(raw[k]) for k in ("plan", "geographies", "data", "outputs") if raw.get(k)}
    store: dict = raw["store"] if isinstance(raw.get("store"), dict) else {}
    out["store"] = res(store.get("path", "data/store.sqlite"))
    out["inbox"] = res(store.get("inbox", "data/inbox"))
    out.setdefault("outputs", root / "outputs")
    return out


def fingerprint(options: dict, settings_path: Path | None = None, today: date | None = None,
                include_store: bool = True) -> tuple[str, dict]:
    """The hash of everything a run with ``options`` reads, and the paths it found in the settings.

    Parameters
    ----------
    options : dict
        The run's options that change what is published: ``quarter, sections, geos, lang, data,
        as_of, documents`` (as given on the command line; ``None`` for defaults).
    settings_path : path, optional
        ``--settings`` (default ``<project>/params/settings.yaml``).
    today : date, optional
        For ``latest`` (default: today).
    include_store : bool
        False: everything but the observation store (to tell a run's own seeding of the store
        from other changes).

    Returns
    -------
    (str, dict)
        The SHA-256 and the settings' paths (``outputs``, ``store``, ``inbox``, ...).
    """
    root = project_root()
    sp = (Path(settings_path) if settings_path else root / "params" / "settings.yaml").resolve()
    if settings_path:
        root = sp.parent.parent if sp.parent.name == "params" else root
    paths = _settings_paths(root, sp)
    h = Key("fastpath")
    opts = {k: (sorted(map(str, v)) if isinstance(v, (list, tuple)) else v) for k, v in sorted(options.items())}
    h.text("options", json.dumps(opts, sort_keys=True, default=str))
    if str(options.get("quarter", "latest")).strip().lower() == "latest":
        h.text("latest", last_ended_quarter(today))
    h.tree("settings", sp)
    h.tree("params", root / "params")
    h.tree("notebooks", root / "notebooks")
    h.tree("reference", root / "data" / "reference")
    h.tree("methodology", root / "docs" / "methodology.md")
    for key in ("plan", "geographies", "data", "store"):
        if key in paths and (include_store or key != "store"):
            h.tree(key, paths[key])
    if "store" in paths and include_store:  # a write-ahead log not yet folded into the database holds rows too
        h.tree("store-wal", Path(f"{paths['store']}-wal"))
    for p in options.get("data") or []:
        h.tree("data-option", Path(p).resolve())
    h.tree("code", Path(__file__).resolve().parents[1])
    _environment(h)
    return h.hexdigest(), paths


def inbox_waiting(paths: dict) -> bool:
    """Whether files wait in the inbox (a run with ``--inbox`` then ingests them: not unchanged)."""
    inbox = paths.get("inbox")
    return bool(inbox and inbox.is_dir() and any(p.is_file() for p in inbox.iterdir()))


def _records(outputs: Path) -> dict:
    try:
        data = json.loads((outputs / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _published_intact(run_dir: Path, manifest: dict) -> bool:
    """Every file the published run recorded (``files_sha256``) still holds those bytes, and so does
    the manifest itself (``.manifest.sha256``). About 0.1 s for a whole quarter (50 MB). Its own check,
    not :func:`helpers.cache.copy_all_verified`: the run is verified where it is, nothing is copied."""
    from helpers.files import FILES_KEY, MANIFEST_SUM, sha256_file

    recorded = manifest.get(FILES_KEY)
    if not isinstance(recorded, dict) or not recorded:
        return False
    try:
        seal = (run_dir / MANIFEST_SUM).read_text(encoding="ascii").strip()
        if seal != sha256_file(run_dir / "manifest.json"):
            return False
        for rel, want in recorded.items():
            p = run_dir / rel
            if p.is_symlink() or sha256_file(p) != want:
                return False
    except (OSError, UnicodeDecodeError):
        return False
    return True


def unchanged(fp: str, paths: dict) -> Path | None:
    """The published run folder recorded for ``fp`` if it is still the one published, else None."""
    outputs = paths.get("outputs")
    if outputs is None:
        return None
    rec = _records(outputs).get(fp)
    if not isinstance(rec, dict) or not rec.get("quarter") or not rec.get("run_id"):
        return None
    pointer = outputs / str(rec["quarter"])
    try:
        run_dir = pointer.resolve(strict=True)
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("run_id") != rec["run_id"] or manifest.get("input_fingerprint") != rec.get("manifest_fingerprint"):
        return None
    if any(j.get("status") != "ok" for j in manifest.get("jobs", [])) or not (run_dir / "index.html").is_file():
        return None
    if not _published_intact(run_dir, manifest):
        return None  # a published file emptied or edited since: the full run recomputes it (issue 20)
    if _run_in_progress(outputs, str(rec["quarter"])) or _left_in_staging(outputs, str(rec["quarter"])):
        return None  # the full path reports the running run, or sweeps what a killed one left
    return pointer


def _run_in_progress(outputs: Path, quarter: str) -> bool:
    """Whether a run of ``quarter`` holds its lock (:mod:`helpers.run.lock`), tested by taking the
    ``flock`` for an instant: a run starting in that microsecond is refused as if two had started."""
    import fcntl

    try:
        fd = os.open(outputs / f".{quarter}.lock", os.O_RDONLY)
    except OSError:
        return False  # never locked
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _left_in_staging(outputs: Path, quarter: str) -> bool:
    """Whether a killed run of ``quarter`` left a staging folder (the next full run removes it)."""
    staging = outputs / ".staging" / quarter
    return staging.is_dir() and any(staging.iterdir())


def record(fp: str, paths: dict, quarter: str, run_id: str, manifest_fingerprint: str | None) -> None:
    """Remember that the run ``run_id`` of ``quarter`` was made from inputs hashing to ``fp``.

    Written atomically (a temporary file renamed over the old one); at most :data:`KEEP_RECORDS`.
    """
    outputs = paths.get("outputs")
    if not outputs or not outputs.is_dir():
        return
    recs = _records(outputs)
    recs.pop(fp, None)
    recs[fp] = {"quarter": quarter, "run_id": run_id, "manifest_fingerprint": manifest_fingerprint}
    recs = dict(list(recs.items())[-KEEP_RECORDS:])
    tmp = outputs / f"{RECORD_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(recs, indent=1), encoding="utf-8")
    os.replace(tmp, outputs / RECORD_FILE)


class FastPath:
    """The fast path of one ``ipeval run``: :meth:`begin` before anything heavy, :meth:`finish` after.

    Attributes
    ----------
    fingerprint : str or None
        The inputs' hash before the run (None with ``--force``); recorded in the manifest.
    published : Path or None
        The published quarter when nothing changed: the command stops there.
    """

    def __init__(self, options: dict, settings_path=None, force: bool = False, inbox: bool = False):
        self.options, self.settings_path = options, settings_path
        self.fingerprint, self.published, self._store_existed = None, None, True
        self.paths: dict[str, Path] = {}
        self._without_store = None  # set when the full run follows a check; None: record only if nothing changed
        self.force = force
        if force:
            return
        try:
            self.fingerprint, self.paths = fingerprint(options, settings_path)
            self._store_existed = bool(self.paths.get("store") and self.paths["store"].exists())
            if inbox and inbox_waiting(self.paths):
                return
            self.published = unchanged(self.fingerprint, self.paths)
            if self.published is None:
                self._without_store = fingerprint(options, settings_path, include_store=False)[0]
        except OSError:  # an unreadable input: the full run names it with its own message
            self.fingerprint, self.published = None, None

    def finish(self, quarter: str, run_id: str, ok: bool) -> bool:
        """After a published run: record its fingerprint when the next run may skip on it.

        Recorded only when every report was ok and nothing but the run's own first seeding of the
        store changed while it ran (an edit or an ingest during the run: the next run goes the
        full way and records then). Returns whether it was recorded.
        """
        if self.force or not ok or self.fingerprint is None:
            return False
        try:
            return self._record_after(quarter, run_id)
        except (OSError, ValueError):  # the run is published; without a record the next run goes the full way
            return False

    def _record_after(self, quarter: str, run_id: str) -> bool:
        after, paths = fingerprint(self.options, self.settings_path)
        if after != self.fingerprint:
            if self._without_store is None:  # e.g. files ingested from the inbox: the next run records
                return False
            same_rest = fingerprint(self.options, self.settings_path, include_store=False)[0] == self._without_store
            if not (same_rest and not self._store_existed):
                return False
        record(after, paths, quarter, run_id, self.fingerprint)
        return True
