"""The quarterly executor: validate, assess once, run every report, publish atomically.

``run_quarter`` is what ``ipeval run`` calls. In order:

1. every parameter is checked (quarter, sections, geographies) before it reaches a path or a notebook;
2. the data are validated (invalid data: :class:`DataValidationError`, exit 2, ``outputs/`` untouched);
3. a lock per quarter stops a second run of the same quarter;
4. the run is built in ``outputs/.staging/<run-id>``: assessments (computed once, cached by input
   hash), the job list (sections x geographies), the notebooks in parallel, the HTML, the index,
   the tables, a copy of the input data and ``manifest.json``;
5. only when all of that is done is it moved to ``outputs/runs/<quarter>/<run-id>`` and the
   pointer ``outputs/<quarter>`` (a symbolic link) replaced atomically (:mod:`helpers.run.publish`).
   An interrupted run (Ctrl-C, SIGTERM) publishes nothing and releases the lock.

A job whose inputs hash the same as in the last published run is not executed again
(:mod:`helpers.run.incremental`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from helpers.exceptions import ConfigError, RunLockedError
from helpers.files import sha256_file
from helpers.plan.periods import Quarter, latest_complete_quarter
from helpers.plan.registry import OVERVIEW
from helpers.run.execute import default_workers, execute_jobs, kill_children, threading_main
from helpers.run.incremental import (
    job_data_hash,
    job_input_hash,
    previous_jobs,
    reuse_job_files,
    row_hashes,
)
from helpers.run.provenance import git_commit, json_log_handler, package_versions
from helpers.run.publish import publish, published_dir
from helpers.settings import Settings

log = logging.getLogger("ipeval.run")
log.propagate = False  # the run's log goes to its JSON-lines file; the console gets the progress bar and a summary


class RunInterrupted(Exception):
    """SIGTERM or Ctrl-C during a run."""

    def __init__(self, signum: int):
        super().__init__(f"interrupted by signal {signum}; nothing was published, the previous outputs are unchanged")
        self.signum = signum


@dataclass
class RunResult:
    """What a run did: where it is, and each job's outcome."""

    quarter: str
    run_id: str
    run_dir: Path
    published: Path
    jobs: list = field(default_factory=list)

    @property
    def failed(self) -> list:
        return [j for j in self.jobs if j["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


@dataclass
class RunInputs:
    """Everything a run reads, loaded and checked before anything is written."""

    settings: Settings
    plan: object
    geos: object
    dataset: object
    quarter: Quarter
    lang: str
    data_files: list
    forecast: object
    thresholds: object
    pairs: list
    workers: int
    executor: str
    scheduler: str | None


# --------------------------------------------------------------------------- parameters

def resolve_quarter(text: str, frame: pd.DataFrame | None = None) -> Quarter:
    """``2025Q2`` or ``latest``: the last quarter with quarterly data, not after the last ended quarter."""
    if str(text).strip().lower() == "latest":
        last = latest_complete_quarter()
        if frame is not None and len(frame):
            quarterly = frame[frame["period"].str.contains("Q")]
            if len(quarterly):
                last = min(last, Quarter.from_index(int(quarterly["qindex"].max())))
        return last
    return Quarter.parse(text)


def plan_jobs(plan, geos, sections: list[str] | None, geographies: list[str] | None) -> list[tuple[str, str]]:
    """(section, geography code) pairs to run: every section with at least one indicator that
    applies to the geography, plus the overview. Unknown sections or codes are refused here."""
    chosen = sections or plan.pages
    for s in chosen:
        if s != OVERVIEW:
            plan.section(s)  # raises UnknownSectionError listing the valid ones
    geo_objs = [geos.get(c) for c in geographies] if geographies else list(geos.all)
    pairs = []
    for s in chosen:
        for g in geo_objs:
            if any(g.is_city or not i.city_only for i in plan.page_indicators(s)):
                pairs.append((s, g.code))
    return pairs


def load_run_inputs(settings: Settings, quarter="latest", *, sections=None, geographies=None, lang=None,
                    workers=None, executor="local", scheduler=None, data_paths=None) -> RunInputs:
    """Load and check every input of a run; raises an :class:`IpevalError` before anything is written."""
    from helpers.data.contract import load_data
    from helpers.model.assess import StatusThresholds
    from helpers.model.forecast import ForecastSettings
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    plan = load_plan(settings.plan_path)
    geos = load_geographies(settings.geographies_path)
    lang = lang or settings.language
    if lang not in ("zh", "en"):
        raise ConfigError(f"language must be zh or en, not {lang!r}")
    if executor not in ("local", "dask"):
        raise ConfigError(f"executor must be 'local' or 'dask', not {executor!r}")
    if executor == "dask" and not scheduler:
        raise ConfigError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    data_files = [Path(p).resolve() for p in (data_paths or [settings.data_path])]
    pairs = plan_jobs(plan, geos, sections, geographies)  # refuses unknown sections/codes
    ds = load_data(data_files, plan, geos)  # DataValidationError: nothing written
    return RunInputs(settings, plan, geos, ds, resolve_quarter(quarter, ds.frame), lang, data_files,
                     ForecastSettings.from_mapping(settings.block("forecast")),
                     StatusThresholds(**settings.block("status")), pairs,
                     int(workers or settings.executor.workers or default_workers()), executor, scheduler)


# --------------------------------------------------------------------------- the run

def run_quarter(settings: Settings, quarter: str = "latest", *, sections=None, geographies=None, lang=None,
                workers=None, force=False, quiet=False, executor="local", scheduler=None, data_paths=None,
                stop_after_jobs=None, documents=True) -> RunResult:
    """Run one quarter end to end and publish it.

    Parameters
    ----------
    settings : Settings
    quarter : str
        ``2025Q2`` or ``latest``.
    sections, geographies : list of str, optional
        Restrict the job list (default: all).
    lang : {'zh', 'en'}, optional
    workers : int, optional
        Parallel notebooks (default: settings, else the number of CPUs + 1).
    force : bool
        Re-run jobs whose inputs are unchanged.
    executor : {'local', 'dask'}
        ``dask`` submits the same jobs to the Dask distributed scheduler at ``scheduler``.
    documents : bool
        Also write the assessment report of each geography as .docx and .pdf (``documents/``).

    Returns
    -------
    RunResult

    Raises
    ------
    IpevalError
        Invalid input or configuration (nothing executed, nothing written under ``outputs/``).
    RunLockedError
        Another run of this quarter is in progress.
    """
    from filelock import FileLock, Timeout

    started = datetime.now(timezone.utc)
    inp = load_run_inputs(settings, quarter, sections=sections, geographies=geographies, lang=lang,
                          workers=workers, executor=executor, scheduler=scheduler, data_paths=data_paths)
    q = inp.quarter
    out_root = settings.outputs_path
    out_root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out_root / f".{q}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLockedError(f"another run of {q} is in progress (lock {lock.lock_file}); "
                             "wait for it to finish, or remove the lock file if no ipeval process is running") from None
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    staging = out_root / ".staging" / run_id
    previous_handlers = {}

    def _on_signal(signum, frame):
        raise RunInterrupted(signum)

    try:
        if threading_main():
            for sig in (signal.SIGTERM, signal.SIGINT):
                previous_handlers[sig] = signal.signal(sig, _on_signal)
        staging.mkdir(parents=True)
        handler = json_log_handler(staging / "run.log.jsonl")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.info("run started", extra={"event": "start", "quarter": str(q), "run_id": run_id})
        table, demo = _assess(inp, staging, out_root)
        _copy_inputs(inp, staging)
        prov = _provenance(inp, run_id, started)
        jobs, skipped = _plan_job_dicts(inp, staging, out_root, prov, force)
        if stop_after_jobs is not None:
            jobs = jobs[:stop_after_jobs]
        results = list(skipped) + execute_jobs(jobs, inp.workers, inp.executor, inp.scheduler, quiet,
                                               fork_kernels=settings.executor.fork_kernels)
        _write_manifest_and_index(inp, staging, run_id, started, prov, results, table, demo)
        if documents:
            results += _documents(inp, staging, out_root)
        log.info("run finished", extra={"event": "finish", "failed": sum(r["status"] == "failed" for r in results),
                                        "jobs": len(results), "skipped": len(skipped)})
        log.removeHandler(handler)
        handler.close()
        published = publish(out_root, q, staging, run_id)
        return RunResult(str(q), run_id, published, out_root / str(q), results)
    except BaseException:
        # nothing is published: the previous outputs stay as they were
        for h in list(log.handlers):
            if isinstance(h, logging.FileHandler) and str(staging) in str(getattr(h, "baseFilename", "")):
                log.removeHandler(h)
                h.close()
        kill_children()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        for sig, h in previous_handlers.items():
            signal.signal(sig, h)
        lock.release()


# --------------------------------------------------------------------------- the stages

def _assess(inp: RunInputs, staging: Path, out_root: Path) -> tuple[pd.DataFrame, bool]:
    """Every assessment, once per run (cached by input hash), and the tables made from them."""
    from helpers.model.assess import assess_all

    t0 = time.monotonic()
    frame = inp.dataset.frame
    table, bands = assess_all(frame, inp.plan, inp.geos, inp.quarter, inp.forecast, inp.thresholds,
                              cache_dir=out_root / ".cache" / "assess",
                              workers=min(inp.workers, 2) if inp.workers > 1 else 1)
    table.to_csv(staging / "assessments.csv", index=False, float_format="%.6g")
    # the validated, typed data for the notebooks, so no kernel re-reads and re-validates the inputs
    frame.to_csv(staging / "validated_data.csv", index=False)
    bands.to_csv(staging / "bands.csv", index=False, float_format="%.6g")
    demo = bool(frame["source"].astype(str).str.startswith("DEMO").any())
    _write_xlsx_once(inp, table, staging, published_dir(out_root, inp.quarter), demo)
    log.info("assessed", extra={"event": "assessed", "seconds": round(time.monotonic() - t0, 2), "rows": len(table)})
    return table, demo


def _copy_inputs(inp: RunInputs, staging: Path) -> None:
    """A copy of the inputs, so the run can be reproduced from its own folder."""
    (staging / "data").mkdir()
    for p in inp.data_files:
        shutil.copy2(p, staging / "data" / p.name)
    (staging / "params").mkdir()
    s = inp.settings
    for p in (s.path, s.plan_path, s.geographies_path):
        shutil.copy2(p, staging / "params" / p.name)


def _provenance(inp: RunInputs, run_id: str, started: datetime) -> dict:
    """What every report and the manifest record of the run's origin."""
    s = inp.settings
    return {"run_id": run_id, "started": started, "git_commit": git_commit(s.root), "packages": package_versions(),
            "inputs": {str(p): sha256_file(p) for p in (s.path, s.plan_path, s.geographies_path, *inp.data_files)}}


def _plan_job_dicts(inp: RunInputs, staging: Path, out_root: Path, prov: dict, force: bool) -> tuple[list, list]:
    """The job dicts to execute, and the results of unchanged jobs taken from the last published run."""
    from helpers.model.assess import code_hash

    s, plan, geos, q, ex = inp.settings, inp.plan, inp.geos, inp.quarter, inp.settings.executor
    report_prov = {"run_id": prov["run_id"], "quarter": str(q), "git_commit": prov["git_commit"] or "not a git checkout",
                   "time (UTC)": prov["started"].isoformat(timespec="seconds"),
                   **{f"sha256 {Path(k).name}": v for k, v in prov["inputs"].items()},
                   "packages": ", ".join(f"{k} {v}" for k, v in prov["packages"].items())}
    prev_dir = published_dir(out_root, q)
    prev_jobs = previous_jobs(prev_dir)
    hashes = row_hashes(inp.dataset.frame)
    jobs, skipped = [], []
    for section, code in inp.pairs:
        nb = s.root / "notebooks" / f"{section}.ipynb"
        if not nb.is_file():
            raise ConfigError(f"notebook {nb} is missing")
        params = dict(section=section, geography=code, quarter=str(q), lang=inp.lang,
                      settings_path=str(s.path), data_path=",".join(map(str, inp.data_files)),
                      registry_path=str(s.plan_path), run_dir=str(staging))
        stable = {k: v for k, v in params.items() if k not in ("run_dir", "data_path")}
        h = job_input_hash(stable, sha256_file(nb), code_hash(), plan.sha256, geos.sha256, s.sha256,
                           job_data_hash(inp.dataset.frame, plan, section, code, geos.city.code, hashes))
        job = dict(section=section, geography_code=code, quarter=str(q), lang=inp.lang, notebook=str(nb),
                   output_dir=str(staging), parameters=params, input_hash=h, start_timeout=ex.start_timeout,
                   execution_timeout=ex.execution_timeout, retries=ex.retries, fork_kernels=ex.fork_kernels,
                   title=f"{geos.get(code).name(inp.lang)} · {plan.page_name(section, inp.lang)} · {q}",
                   provenance=report_prov)
        old = prev_jobs.get((section, code))
        if (not force and old and old.get("status") == "ok" and old.get("input_hash") == h
                and reuse_job_files(prev_dir, staging, old)):
            skipped.append({**old, "skipped": True, "duration": 0.0})
        else:
            jobs.append(job)
    return jobs, skipped


def _write_manifest_and_index(inp: RunInputs, staging: Path, run_id: str, started: datetime, prov: dict,
                              results: list, table: pd.DataFrame, demo: bool) -> None:
    """``manifest.json`` (everything needed to trace and re-run the run) and ``index.html``."""
    from helpers.pages.report import render_index

    s, q = inp.settings, inp.quarter
    finished = datetime.now(timezone.utc)
    fs = inp.forecast
    manifest = {
        "run_id": run_id, "quarter": str(q), "plan": inp.plan.id, "language": inp.lang,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "git_commit": prov["git_commit"], "packages": prov["packages"], "inputs_sha256": prov["inputs"],
        "data_copy": [f"data/{p.name}" for p in inp.data_files], "settings": s.raw,
        "forecast_settings": fs.__dict__ if hasattr(fs, "__dict__") else str(fs),
        "executor": {"kind": inp.executor, "workers": inp.workers, "scheduler": inp.scheduler,
                     "fork_kernels": s.executor.fork_kernels},
        "jobs": [dict(r) for r in results],
        "demo_data": demo,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                           encoding="utf-8")
    downloads = [(n, n) for n in ("assessments.csv", "assessments.xlsx", "bands.csv", "manifest.json", "run.log.jsonl")]
    render_index(staging / "index.html", plan=inp.plan, geos=inp.geos, quarter=str(q), sections=inp.plan.pages,
                 jobs=results, assessments=table, demo=demo, lang=inp.lang, downloads=downloads,
                 manifest={"run": run_id, "git": prov["git_commit"] or "—",
                           "data sha256": ", ".join(prov["inputs"][str(p)][:16] for p in inp.data_files)})


def _documents(inp: RunInputs, staging: Path, out_root: Path) -> list:
    """The Word and PDF reports; a failure here is reported as a failed job, not a lost run."""
    from helpers.pages.document import write_documents

    codes = sorted({c for _, c in inp.pairs}, key=inp.geos.codes.index)
    t0 = time.monotonic()
    try:
        files = write_documents(inp.settings, staging, geographies=codes, lang=inp.lang,
                                workers=min(inp.workers, 2), reuse_from=published_dir(out_root, inp.quarter))
    except Exception as exc:  # noqa: BLE001 - the HTML reports and tables are still worth publishing
        log.exception("documents failed", extra={"event": "documents_failed"})
        return [dict(section="documents", geography_code=",".join(codes), status="failed",
                     error=f"{type(exc).__name__}: {exc}")]
    log.info("documents", extra={"event": "documents", "files": len(files),
                                 "seconds": round(time.monotonic() - t0, 2)})
    return []


def _write_xlsx_once(inp: RunInputs, table, staging: Path, prev_dir: Path | None, demo: bool) -> None:
    """``assessments.xlsx``, reused from the previous run when ``assessments.csv`` and
    ``validated_data.csv`` are byte-identical (and the code that formats it unchanged): formatting
    the workbook is the slowest step of a run in which nothing changed."""
    from helpers.model.assess import code_hash
    from helpers.pages.workbook import write_workbook

    stamp = hashlib.sha256((staging / "assessments.csv").read_bytes() + (staging / "validated_data.csv").read_bytes()
                           + code_hash().encode() + bytes([demo]) + inp.lang.encode() + inp.plan.sha256.encode()
                           + inp.geos.sha256.encode()).hexdigest()
    if prev_dir is not None:
        old_stamp = prev_dir / ".assessments.xlsx.sha256"
        if old_stamp.is_file() and old_stamp.read_text().strip() == stamp and (prev_dir / "assessments.xlsx").is_file():
            try:
                os.link(prev_dir / "assessments.xlsx", staging / "assessments.xlsx")
            except OSError:
                shutil.copy2(prev_dir / "assessments.xlsx", staging / "assessments.xlsx")
            (staging / ".assessments.xlsx.sha256").write_text(stamp)
            return
    write_workbook(staging / "assessments.xlsx", table=table, frame=inp.dataset.frame, plan=inp.plan, geos=inp.geos,
                   quarter=inp.quarter, demo=demo, lang=inp.lang, thresholds=inp.thresholds)
    (staging / ".assessments.xlsx.sha256").write_text(stamp)
