"""Reuse by content: a key from what a result is made of, a verified lookup, an atomic store.

Every reuse of earlier work in ``ipeval`` goes through this module (``docs/architecture.md``,
"Reuse by content", lists each and its key; the store's view of the data stays apart, named by its
own SHA-256), so each is keyed, checked and written the same way:

* :class:`Key`: a SHA-256 over labelled parts (bytes, files, JSON-able values, the package's code,
  :func:`code_version`). Each part is framed by its label and length, so two different sets of
  inputs can never run together into the same bytes.
* :class:`Store`: results by key in one folder shared by runs (``outputs/.cache/<kind>``). A file
  result is ``<key>.<form>`` with a sidecar ``<key>.sha256`` naming the key and each form's
  SHA-256; a JSON result is one ``<key>.json`` carrying its key and its own checksum. A lookup
  returns a hit only when the files still hold the recorded bytes (a truncated, emptied, edited
  or misfiled entry is a miss, logged as ``cache_bad`` and removed); a store writes each file under
  a temporary name and renames it, the sidecar last, so a process killed half-way leaves a miss,
  never a half-written hit.
* :func:`write_stamp` / :func:`read_stamp` / :func:`copy_all_verified`: reuse from the previous
  published run. The run records the key its files were made from beside them (a stamp); a later
  run with the same key copies them, each verified against the checksums that run's manifest
  recorded (:func:`helpers.files.copy_verified`), all or nothing.

Standard library only (and :mod:`helpers.files`): the stages below the run import it cheaply.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from helpers.files import atomic_write_bytes, copy_verified, sha256_file

# a child of the run's logger: a bad entry is recorded in the run's run.log.jsonl
log = logging.getLogger("ipeval.run.cache")

#: bump when the framing of a key or the layout of a store changes: every entry is then a miss
FORMAT = "1"
_SKIP_DIRS = {"__pycache__", ".ipynb_checkpoints", ".git"}
_SKIP_SUFFIXES = (".pyc", ".tmp")


# --------------------------------------------------------------------------- keys

def _plain(o):
    """JSON for what :func:`json.dumps` does not know: numpy scalars (``.item()``), paths, sets."""
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return o.as_posix()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"not JSON-able in a cache key: {type(o).__name__}")


def canonical_json(value) -> bytes:
    """``value`` as JSON with sorted keys and no whitespace choices left open: equal values, equal bytes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()


def json_checksum(value) -> str:
    """The SHA-256 of :func:`canonical_json` of ``value``."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


class Key:
    """A content key, built part by part: ``Key("charts").json("spec", payload).code().hexdigest()``.

    Parameters
    ----------
    kind : str
        What is keyed (``"assessment"``, ``"documents"``...): keys of different kinds never meet.
    """

    def __init__(self, kind: str):
        self._h = hashlib.sha256(f"ipeval-cache-{FORMAT}\0{kind}\0".encode())

    def blob(self, label: str, data: bytes) -> "Key":
        """Add ``data`` under ``label`` (framed by its length)."""
        self._h.update(f"{label}\0{len(data)}\0".encode())
        self._h.update(data)
        return self

    def text(self, label: str, value) -> "Key":
        """Add ``str(value)`` (UTF-8)."""
        return self.blob(label, str(value).encode("utf-8"))

    def json(self, label: str, value) -> "Key":
        """Add a JSON-able value (:func:`canonical_json`: dict order does not matter)."""
        return self.blob(label, canonical_json(value))

    def file(self, label: str, path: str | Path) -> "Key":
        """Add a file's bytes; a missing file counts as such (``<absent>``), never as empty."""
        path = Path(path)
        if not path.is_file():
            self._h.update(f"{label}\0<absent>\0".encode())
            return self
        self._h.update(f"{label}\0{path.stat().st_size}\0".encode())
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                self._h.update(chunk)
        return self

    def tree(self, label: str, root: str | Path) -> "Key":
        """Add every file under ``root``: its path relative to ``root`` and its bytes, in a fixed
        order (a file renamed, added or removed changes the key); bytecode, temporary files
        (``*.tmp``, an atomic write under way) and ``.git`` are left out. A ``root`` that is a file
        adds that file; a missing one counts as missing (:meth:`file`)."""
        root = Path(root)
        if not root.is_dir():
            return self.file(label, root)
        self.text(label, "<tree>")
        for folder, dirs, files in os.walk(root):  # links to folders are not followed
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(files):
                if not name.endswith(_SKIP_SUFFIXES):
                    p = Path(folder) / name
                    self.file(p.relative_to(root).as_posix(), p)
        return self

    def code(self) -> "Key":
        """Add :func:`code_version`: a change to any module of ``helpers`` changes the key."""
        return self.text("code", code_version())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


_CODE_VERSION: str | None = None


def code_version() -> str:
    """SHA-256 over the ``helpers`` package's source (paths relative to it, so the same code in
    another folder has the same version); computed once per process."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        package = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(package.rglob("*.py")):
            h.update(p.relative_to(package).as_posix().encode())
            h.update(p.read_bytes())
        _CODE_VERSION = h.hexdigest()
    return _CODE_VERSION


# --------------------------------------------------------------------------- a store shared by runs

#: Whether a cache entry is flushed to disk (``fsync``) before it is renamed into place: no. Every entry is
#: checked when it is read (its checksum inside, or the sidecar's checksums of its files) and computed again
#: when it does not verify, so an entry a power cut truncates costs a recomputation, never a wrong result,
#: while the fsyncs cost about 2 ms of CPU and a wait on the disk each: the demo's 322 assessments 0.73 s in
#: the run's one-core part, its 336 charts' sidecars 2.2 ms a chart in the chart workers (cProfile,
#: 2026-12-06). Still written under a temporary name and renamed: a killed process leaves no half entry.
CACHE_SYNC = False


class Store:
    """Results by key in one folder (``outputs/.cache/<kind>``), verified on every lookup.

    Parameters
    ----------
    folder : path
        Created on the first store.
    """

    SIDECAR = "sha256"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def path(self, key: str, form: str) -> Path:
        """Where the ``form`` (file suffix: ``svg``, ``jpg``, ``ttf``...) of ``key`` is kept."""
        return self.folder / f"{key}.{form}"

    def lookup(self, key: str, forms) -> dict[str, Path] | None:
        """``{form: path}`` of ``key`` if every form in ``forms`` holds the bytes recorded when it was
        stored; None otherwise (never stored: a plain miss; damaged or misfiled: logged, forgotten)."""
        side = self.path(key, self.SIDECAR)
        if not side.is_file():
            return None
        try:
            rec = json.loads(side.read_text(encoding="utf-8"))
            sums = rec.get("sha256") if isinstance(rec, dict) and rec.get("key") == key else None
            if not isinstance(sums, dict):
                return self.forget(side, "filed under another key or unreadable")
            if any(sums.get(form) is None for form in forms):
                # stored without this form (a chart drawn for the pages only): a plain miss, the rest kept
                return None
            for form in forms:
                p = self.path(key, form)
                if not p.is_file() or p.is_symlink() or sha256_file(p) != sums[form]:
                    return self.forget(side, f"{form} does not match its checksum")
        except (OSError, ValueError) as exc:
            return self.forget(side, f"unreadable ({type(exc).__name__}: {exc})")
        return {form: self.path(key, form) for form in forms}

    def put(self, key: str, files: dict) -> dict[str, Path]:
        """Store ``{form: bytes or path}`` under ``key``: bytes are written all or nothing, a path (a
        finished file in the same file system) is renamed into place; then the sidecar, last."""
        out = {}
        for form, content in files.items():
            dst = self.path(key, form)
            if isinstance(content, (bytes, bytearray)):
                atomic_write_bytes(dst, bytes(content), sync=CACHE_SYNC)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(content, dst)
            out[form] = dst
        self.seal(key, list(files))
        return out

    def seal(self, key: str, forms) -> None:
        """Record the checksums of the forms of ``key`` already in place (each written by its maker
        under a temporary name and renamed, as Matplotlib's charts are): the sidecar that makes
        them a hit. A form whose file is missing is left out (a lookup needing it misses)."""
        sums = {f: sha256_file(self.path(key, f)) for f in forms if self.path(key, f).is_file()}
        atomic_write_bytes(self.path(key, self.SIDECAR), canonical_json({"key": key, "sha256": sums}), sync=CACHE_SYNC)

    def get_json(self, key: str):
        """The JSON value stored under ``key``, or None (absent, truncated, misfiled or not matching
        its checksum: logged and removed, so it is computed again)."""
        path = self.path(key, "json")
        if not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(entry, dict) or entry.get("key") != key:
                return self.forget(path, "filed under another key")
            if entry.get("sha256") != json_checksum(entry.get("data")):
                return self.forget(path, "content does not match its checksum")
            return entry["data"]
        except (OSError, ValueError, KeyError) as exc:
            return self.forget(path, f"unreadable ({type(exc).__name__}: {exc})")

    def put_json(self, key: str, value) -> Path:
        """Store a JSON value under ``key`` as one file carrying its key and checksum, all or nothing."""
        # as it will be read back (numpy scalars made plain), its keys in their order: a table made
        # from a cached value has its columns in the order of a computed one (bands.csv byte-identical)
        data = json.loads(json.dumps(value, ensure_ascii=False, default=_plain))
        entry = {"key": key, "sha256": json_checksum(data), "data": data}
        return atomic_write_bytes(self.path(key, "json"), json.dumps(entry, ensure_ascii=False).encode("utf-8"),
                                  sync=CACHE_SYNC)

    @staticmethod
    def forget(path: str | Path, problem: str) -> None:
        """Log an entry found unusable (``cache_bad``, with ``problem``) and remove it: computed again."""
        log.warning("cache entry ignored", extra={"event": "cache_bad", "path": str(path), "problem": problem})
        Path(path).unlink(missing_ok=True)
        return None


# --------------------------------------------------------------------------- reuse from the previous run

def write_stamp(path: str | Path, key: str, names=()) -> None:
    """Record beside a run's files the key they were made from (first line) and their names."""
    atomic_write_bytes(path, "\n".join([key, *names]).encode("utf-8"))


def read_stamp(path: str | Path, key: str) -> list[str] | None:
    """The names recorded with ``key`` in the stamp at ``path``; None when there is no stamp or it
    records another key (the files were made from other inputs)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[1:] if lines and lines[0].strip() == key else None


def copy_all_verified(src_root: str | Path, rels, dst_root: str | Path, recorded: dict) -> bool:
    """Copy every ``src_root/rel`` to ``dst_root/rel``, each verified against ``recorded`` (a run's
    ``files_sha256``, :func:`helpers.files.copy_verified`); all or nothing: on the first file that
    fails, the copies made are removed and False returned (the caller computes them again)."""
    done: list[Path] = []
    for rel in rels:
        if not copy_verified(src_root, rel, dst_root, recorded):
            for p in done:
                p.unlink(missing_ok=True)
            return False
        done.append(Path(dst_root) / rel)
    return True
