"""Publishing a run all or nothing: staging folder, atomic switch of ``outputs/<quarter>``."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.plan.periods import Quarter


def published_dir(out_root: Path, q: Quarter | str) -> Path | None:
    """The folder the pointer ``outputs/<quarter>`` names, if a run was published."""
    link = out_root / str(q)
    return link.resolve() if link.exists() else None


def publish(out_root: Path, q: Quarter, staging: Path, run_id: str) -> Path:
    """Move the finished run into ``runs/<quarter>/<run-id>`` and swap the pointer atomically."""
    final = out_root / "runs" / str(q) / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, final)
    link = out_root / str(q)
    tmp = out_root / f".{q}.{run_id}.link"
    os.symlink(Path("runs") / str(q) / run_id, tmp)
    if link.exists() and not link.is_symlink():
        # an outputs/<quarter> folder from elsewhere: keep it beside the runs, never delete it
        os.replace(link, out_root / "runs" / str(q) / f"previous-{run_id}")
    os.replace(tmp, link)  # rename(2) over the old link: readers see the old run or the new, never half
    return final
