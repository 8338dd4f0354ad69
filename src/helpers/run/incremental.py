"""Incremental runs: a report is executed again only when something it depends on changed.

A job's input hash covers its parameters, its notebook, the ``helpers`` code, the registry, the
geographies, the settings and the data rows it reads. A job whose hash equals the one recorded in
the last published run is not executed: its files are taken from there.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.cache import Key, copy_all_verified
from helpers.files import copy_verified, recorded_checksums

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
    return Key("job-data").blob("rows", hashes[mask].tobytes()).hexdigest()


def job_input_hash(stable_params: dict, *parts: str) -> str:
    """The input hash of one job: its stable parameters and the hashes of everything it reads."""
    return Key("job").json("inputs", [stable_params, *parts]).hexdigest()


def previous_jobs(prev_dir: Path | None) -> dict:
    """The jobs of the last published run, by (section, geography), from its manifest."""
    if not prev_dir or not (prev_dir / "manifest.json").is_file():
        return {}
    try:
        m = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {(j["section"], j["geography_code"]): j for j in m.get("jobs", [])}


def reuse_job_files(prev_dir: Path, staging: Path, old: dict, recorded: dict | None = None) -> bool:
    """Take an unchanged job's files from the previous run, as copies verified against the
    checksums that run's manifest recorded (``files_sha256``).

    A file missing, without a recorded checksum, or not matching it (a 0-byte report, an edited
    audit page) is not reused: the job runs again. Never hard links: a hard link is one file in
    two runs, so editing the report of one run would change the published report of another.
    """
    recorded = _recorded(prev_dir) if recorded is None else recorded
    try:
        return copy_all_verified(prev_dir, [old[key] for key in ("notebook", "report", "audit")], staging, recorded)
    except (KeyError, OSError, TypeError):
        return False



def _recorded(prev_dir: Path) -> dict:
    """:func:`helpers.files.recorded_checksums`, read once per manifest version (a run reuses
    up to 112 jobs from one manifest)."""
    m = Path(prev_dir) / "manifest.json"
    try:
        st = m.stat()
    except OSError:
        return {}
    return _recorded_cached(str(prev_dir), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=4)
def _recorded_cached(prev_dir: str, _mtime_ns: int, _size: int) -> dict:
    return recorded_checksums(prev_dir)


def carry_forward(prev_dir: Path | None, staging: Path, pairs, results: list) -> list:
    """A subset run never shrinks a published quarter: the reports it did not run are copied from
    the last published run, each verified against that run's checksums, and marked with the run
    they come from (``from_run``). A report whose files fail the check is left out (and said in
    the log by the caller); with no published run there is nothing to carry.

    Returns
    -------
    list of dict
        The carried jobs' result dicts (``carried`` True, ``from_run`` the run that computed them).
    """
    prev = previous_jobs(prev_dir)
    if prev_dir is None or not prev:  # no published run (or one without jobs)
        return []
    prev_id = _run_id(prev_dir)
    for r in results:  # reused unchanged reports also come from an earlier run
        if r.get("skipped") and not r.get("from_run"):
            r["from_run"] = prev_id
    ran = {(s, c) for s, c in pairs} | {(r.get("section"), r.get("geography_code")) for r in results}
    recorded = _recorded(prev_dir)
    carried = []
    for key, old in prev.items():
        if key in ran or old.get("status") != "ok":
            continue
        if reuse_job_files(prev_dir, staging, old, recorded):
            carried.append({**old, "skipped": True, "carried": True, "duration": 0.0,
                            "from_run": old.get("from_run") or prev_id})
    return carried


def carry_documents(prev_dir: Path | None, staging: Path, codes) -> list[str]:
    """The Word/PDF reports of geographies a subset run did not cover (not in ``codes``), copied
    (verified) from the last published run; returns their names. The reports of geographies the
    run covers are never carried: they would be older than the run's tables."""
    if prev_dir is None:
        return []
    recorded = _recorded(prev_dir)
    codes = set(codes)
    out = []
    for rel in sorted(recorded):
        name = rel[len("documents/"):]
        if (rel.startswith("documents/") and "/" not in name and not name.startswith(".")
                and name.split("_", 1)[0] not in codes and not (staging / rel).exists()):
            if copy_verified(prev_dir, rel, staging, recorded):
                out.append(rel)
    return out


def _run_id(run_dir: Path) -> str:
    try:
        return str(json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return run_dir.name
