"""What a run records about itself: the git commit, package versions, the run's JSON-lines log."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

KEY_PACKAGES = ("pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "pandera", "papermill",
                "nbconvert", "nbclient", "ipykernel", "jupyter_client", "jinja2", "openpyxl", "apscheduler", "dask",
                "distributed", "pydantic")


def git_commit(root: Path) -> str | None:
    """The checked-out commit, ``+dirty`` when tracked files differ from it; None outside git."""
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def package_versions() -> dict:
    """Versions of Python and of the packages a report's numbers depend on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("ipeval", *KEY_PACKAGES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


class _JsonFormatter(logging.Formatter):
    _STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}

    def format(self, record):
        d = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
             "level": record.levelname, "message": record.getMessage()}
        d.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        return json.dumps(d, ensure_ascii=False, default=str)


def json_log_handler(path: Path) -> logging.Handler:
    """A handler writing one JSON object per line (``run.log.jsonl``): time, level, message, extras."""
    h = logging.FileHandler(path, encoding="utf-8")
    h.setFormatter(_JsonFormatter())
    return h


#: files of a run that are text and may name a path: rewritten by :func:`scrub_machine_paths`
TEXT_SUFFIXES = (".json", ".jsonl", ".html", ".ipynb", ".csv", ".md", ".txt", ".svg", ".yaml", ".xml")
#: folders of a run holding inputs copied byte for byte (``reproduce`` checks them against the
#: manifest): never rewritten
VERBATIM = ("data", "params")


def machine_roots(*paths) -> list[bytes]:
    """The spellings of the given folders a published file could hold: as given and resolved, as
    plain text and as JSON escapes them (non-ASCII as ``\\uXXXX``, ``/`` as ``\\/``), longest first."""
    out = set()
    for p in paths:
        if p is None:
            continue
        for form in {str(Path(p)), str(Path(p).resolve())}:
            if len(form) <= 1:
                continue  # never rewrite "/" itself
            out.add(form.encode("utf-8"))
            esc = json.dumps(form)[1:-1]
            out.add(esc.encode("ascii"))
            out.add(esc.replace("/", "\\/").encode("ascii"))
    return sorted(out, key=len, reverse=True)


def scrub_machine_paths(run_dir: Path, roots) -> int:
    """Make every text file of a run project-relative: ``<root>/params/settings.yaml`` becomes
    ``params/settings.yaml`` (and the root alone ``.``), in the manifest, the log, the provenance
    lines, the audit pages and the executed notebooks. A published run names no folder of the
    machine it ran on (who ran it where is not part of the result; a clone reproduces it).

    Returns
    -------
    int
        How many files were rewritten.
    """
    from helpers.files import atomic_write_bytes

    roots = machine_roots(*roots)
    n = 0
    for p in Path(run_dir).rglob("*"):
        if p.suffix.lower() not in TEXT_SUFFIXES or p.is_symlink() or not p.is_file():
            continue
        if p.relative_to(run_dir).parts[0] in VERBATIM:
            continue
        data = p.read_bytes()
        if not any(r in data for r in roots):
            continue
        for r in roots:
            data = data.replace(r + b"/", b"").replace(r + b"\\/", b"")
            # the folder alone (not the start of a longer name: /tmp/p is not /tmp/proj2)
            data = re.sub(re.escape(r) + rb"(?![\w.-])", b".", data)
        atomic_write_bytes(p, data)
        n += 1
    return n
