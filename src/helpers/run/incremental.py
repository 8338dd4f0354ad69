"""Incremental runs: a report is executed again only when something it depends on changed.

A job's input hash covers its parameters, its notebook, the ``helpers`` code, the registry, the
geographies, the settings and the data rows it reads. A job whose hash equals the one recorded in
the last published run is not executed: its files are taken from there.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

HASHED_COLUMNS = ["indicator_id", "geography_code", "period", "value", "numerator", "denominator", "source", "note"]


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per data row (every column a report can show), computed once per run."""
    return pd.util.hash_pandas_object(frame[HASHED_COLUMNS], index=False).to_numpy()


def job_data_hash(frame: pd.DataFrame, plan, section: str, code: str, city_code: str,
                  hashes: np.ndarray | None = None) -> str:
    """Hash of the data rows a report depends on: its own geography's rows (the city and the
    overview aggregate every district, so they depend on all rows of their indicators)."""
    ids = [i.id for i in plan.page_indicators(section)]
    mask = frame["indicator_id"].isin(ids).to_numpy()
    if code != city_code:
        mask = mask & (frame["geography_code"] == code).to_numpy()
    hashes = row_hashes(frame) if hashes is None else hashes
    return hashlib.sha256(hashes[mask].tobytes()).hexdigest()


def job_input_hash(stable_params: dict, *parts: str) -> str:
    """The input hash of one job: its stable parameters and the hashes of everything it reads."""
    return hashlib.sha256(json.dumps([stable_params, *parts], sort_keys=True).encode()).hexdigest()


def previous_jobs(prev_dir: Path | None) -> dict:
    """The jobs of the last published run, by (section, geography), from its manifest."""
    if not prev_dir or not (prev_dir / "manifest.json").is_file():
        return {}
    try:
        m = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {(j["section"], j["geography_code"]): j for j in m.get("jobs", [])}


def reuse_job_files(prev_dir: Path, staging: Path, old: dict) -> bool:
    """Take an unchanged job's files from the previous run, as copies.

    Never hard links: a hard link is one file in two runs, so editing (or a tool rewriting) the
    report of one run would change the published report of another.
    """
    try:
        for key in ("notebook", "report", "audit"):
            src, dst = prev_dir / old[key], staging / old[key]
            if not src.is_file():
                return False
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        return True
    except (KeyError, OSError):
        return False

