"""What a run records about itself: the git commit, package versions, the run's JSON-lines log."""

from __future__ import annotations

import json
import logging
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
