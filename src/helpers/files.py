"""Files on disk: content hashes (the provenance of every input and output)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB chunks (data files can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- atomic writes

def atomic_write_bytes(path: str | Path, data: bytes, sync: bool = True) -> Path:
    """Write ``data`` to ``path`` all or nothing.

    The bytes go to a uniquely named temporary file in the same folder (``tempfile.mkstemp``:
    created with ``O_EXCL``, so a planted file or symbolic link is never followed), are flushed to
    disk (unless ``sync`` is false), then renamed over ``path``: a reader, or a process killed
    half-way, sees the old file or the new one, never a truncated one.
    """
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def unique_path(folder: str | Path, prefix: str, suffix: str) -> Path:
    """A new, empty file with a unique name in ``folder`` (never a fixed name another user could plant)."""
    import os
    import tempfile

    Path(folder).mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)


# --------------------------------------------------------------------------- cells for spreadsheets

#: First characters that make Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP,
#: "CSV Injection"): = + - @, and tab and carriage return, which some of them skip before looking.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A text cell a spreadsheet will show as text: a leading single quote before a formula start.

    Numbers are returned as they are (``-5`` is a number, not a formula), and so is text that
    reads as a plain number (``"-5"``, ``"+1.5e3"``: a spreadsheet makes a number of it, never a
    formula); only other strings are changed, as the OWASP CSV-injection guidance recommends.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _plain_number(value):
        return "'" + value
    return value


def _plain_number(text: str) -> bool:
    import re

    return re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text) is not None


def restore_cell(value):
    """Undo :func:`safe_cell` when a program reads back a table written for people."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def safe_frame(frame):
    """A copy of ``frame`` whose text cells (object or string columns) are passed through :func:`safe_cell`."""
    out = frame.copy()
    for col in out.columns:
        if _is_text(out[col]):
            out[col] = out[col].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def restore_frame(frame):
    """Undo :func:`safe_frame` on the text columns of a table read back."""
    for col in frame.columns:
        if _is_text(frame[col]):
            frame[col] = frame[col].map(restore_cell)
    return frame


def _is_text(series) -> bool:
    """Object or string columns (pandas 3 reads text as its ``str`` dtype, not ``object``)."""
    import pandas as pd

    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def people_csv(frame, encoding: str = "utf-8", **to_csv) -> bytes:
    """A table as CSV for people (and Excel): formula cells neutralised (:func:`safe_frame`), and
    RFC 4180 line ends (CRLF), so that a cell holding a carriage return is quoted: with bare LF
    line ends the CSV writer leaves a lone CR unquoted, and Excel and pandas then split the row."""
    return safe_frame(frame).to_csv(index=False, lineterminator="\r\n", **to_csv).encode(encoding)


# --------------------------------------------------------------------------- folders the tool writes

def refuse_links(path: str | Path, what: str, parent: bool = True) -> None:
    """Refuse to write at ``path`` if it, or (``parent``) the folder it is in, is a symbolic link.

    A link planted in a folder the tool writes (inbox, rejected, staging, export, received) would
    make it overwrite or empty a file or folder anywhere the user can write; the tool never
    follows one, it says which path and stops (exit 2).

    Raises
    ------
    helpers.exceptions.UnsafePathError
    """
    from helpers.exceptions import UnsafePathError
    from helpers.i18n import ERROR_LANGUAGE, LINK_PLACES_ZH, et

    path = Path(path)
    for p in (path, path.parent) if parent else (path,):
        if p.is_symlink():
            place = LINK_PLACES_ZH.get(what, what) if ERROR_LANGUAGE["lang"] == "zh" else what
            raise UnsafePathError(et("symbolic_link", what=place, path=p, target=os.readlink(p)))


def xlsx_text_cell(cell, value):
    """Put ``value`` in an openpyxl ``cell`` so Excel shows it exactly and never runs it.

    A text starting like a formula is stored as text with the cell's quote-prefix style (what
    Excel itself does when one types ``'=1+2``): shown without a visible apostrophe, never
    evaluated. Everything else is stored as it is. Returns the cell.
    """
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
        cell.quotePrefix = True
    return cell


def people_xlsx_sheet(ws, frame, start_row: int = 1) -> None:
    """Write ``frame`` (header and rows) into worksheet ``ws`` through :func:`xlsx_text_cell`."""
    for j, name in enumerate(frame.columns, start=1):
        xlsx_text_cell(ws.cell(row=start_row, column=j), str(name))
    for i, row in enumerate(frame.itertuples(index=False), start=start_row + 1):
        for j, v in enumerate(row, start=1):
            xlsx_text_cell(ws.cell(row=i, column=j), None if _is_missing(v) else v)


def _is_missing(v) -> bool:
    try:
        return v is None or v != v
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- verified reuse

#: the manifest key holding the SHA-256 of every file of a run (relative POSIX path -> hex digest)
FILES_KEY = "files_sha256"
#: the file beside ``manifest.json`` holding the manifest's own SHA-256
MANIFEST_SUM = ".manifest.sha256"


def recorded_checksums(run_dir: str | Path | None) -> dict:
    """The checksums a published run recorded for its files (``manifest.json``, :data:`FILES_KEY`).

    An unreadable or damaged manifest, or one written before checksums were recorded, gives ``{}``:
    nothing of that run is reused unverified (its reports are computed again).
    """
    import json

    if run_dir is None:
        return {}
    try:
        m = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
        files = m.get(FILES_KEY) if isinstance(m, dict) else None
        return files if isinstance(files, dict) else {}
    except (OSError, ValueError):
        return {}


def copy_verified(src_root: str | Path, rel: str, dst_root: str | Path, recorded: dict) -> bool:
    """Copy ``src_root/rel`` to ``dst_root/rel`` if its bytes match the checksum recorded for it.

    Returns False (and copies nothing) when no checksum was recorded, the file is missing, is a
    link, or differs: the caller then computes it again. Always a copy, never a hard link, so
    editing one run's file can never change another run's.
    """
    import shutil

    src, dst = Path(src_root) / rel, Path(dst_root) / rel
    want = recorded.get(Path(rel).as_posix())
    if not want or src.is_symlink() or not src.is_file():
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    if sha256_file(dst) != want:  # hash the copy: what was checked is what is published
        dst.unlink()
        return False
    return True


def checksum_tree(run_dir: str | Path, skip=("manifest.json", ".manifest.sha256")) -> dict:
    """SHA-256 of every file under ``run_dir`` (relative POSIX paths), except ``skip``."""
    run_dir = Path(run_dir)
    return {p.relative_to(run_dir).as_posix(): sha256_file(p) for p in sorted(run_dir.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.relative_to(run_dir).as_posix() not in skip}


def seal_manifest(run_dir: str | Path) -> dict:
    """Record :func:`checksum_tree` in the run's ``manifest.json`` (the last write before publishing),
    so the next run reuses a file of this one only if it is still what was published."""
    import json

    run_dir = Path(run_dir)
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    m[FILES_KEY] = checksum_tree(run_dir)
    data = json.dumps(m, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    atomic_write_bytes(run_dir / "manifest.json", data)
    # the manifest's own checksum, beside it: `ipeval reproduce` names an edited manifest
    atomic_write_bytes(run_dir / MANIFEST_SUM, (hashlib.sha256(data).hexdigest() + "\n").encode("ascii"))
    return m[FILES_KEY]
