"""The quarterly executor: validate, assess once, run every report, publish atomically.

``run_quarter`` is what ``ipeval run`` calls. In order:

1. every parameter is checked (quarter, sections, geographies) before it reaches a path or a notebook;
2. the data are validated (invalid data: :class:`DataValidationError`, exit 2, ``outputs/`` untouched);
3. a lock per quarter stops a second run of the same quarter;
4. the run is built in ``outputs/.staging/<run-id>``: assessments (computed once, cached by input
   hash), the job list (sections x geographies), the notebooks in parallel, the HTML, the index,
   the tables, a copy of the input data and ``manifest.json``;
5. only when all of that is done is it moved to ``outputs/runs/<quarter>/<run-id>`` and the
   pointer ``outputs/<quarter>`` (a symbolic link) replaced atomically. An interrupted run
   (Ctrl-C, SIGTERM) publishes nothing and releases the lock.

A job whose inputs (notebook, parameters, helpers' code, registry, settings and its data rows)
hash the same as in the last published run is not executed again: its files are linked from there.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.config import Settings
from helpers.exceptions import ConfigError, RunLockedError
from helpers.periods import Quarter, latest_complete_quarter

log = logging.getLogger("ipeval.run")
log.propagate = False  # the run's log goes to its JSON-lines file; the console gets the progress bar and a summary
OVERVIEW = "overview"
KEY_PACKAGES = ("pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "pandera", "papermill",
                "nbconvert", "nbclient", "ipykernel", "jinja2", "openpyxl", "apscheduler", "dask", "distributed")


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
    all_sections = [s.id for s in plan.sections] + [OVERVIEW]
    chosen = sections or all_sections
    for s in chosen:
        if s != OVERVIEW:
            plan.section(s)  # raises UnknownSectionError listing the valid ones
    geo_objs = [geos.get(c) for c in geographies] if geographies else list(geos.all)
    pairs = []
    for s in chosen:
        for g in geo_objs:
            inds = plan.indicators if s == OVERVIEW else plan.indicators_in(s)
            if any(g.is_city or not i.city_only for i in inds):
                pairs.append((s, g.code))
    return pairs


# --------------------------------------------------------------------------- provenance

def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_commit(root: Path) -> str | None:
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
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("ipeval", *KEY_PACKAGES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


HASHED_COLUMNS = ["indicator_id", "geography_code", "period", "value", "numerator", "denominator", "source", "note"]


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per data row (every column a report can show), computed once per run."""
    return pd.util.hash_pandas_object(frame[HASHED_COLUMNS], index=False).to_numpy()


def _job_data_hash(frame: pd.DataFrame, plan, section: str, code: str, city_code: str,
                   hashes: np.ndarray | None = None) -> str:
    """Hash of the data rows a report depends on: its own geography's rows (the city and the
    overview aggregate every district, so they depend on all rows of their indicators)."""
    ids = [i.id for i in plan.indicators] if section == OVERVIEW else [i.id for i in plan.indicators_in(section)]
    mask = frame["indicator_id"].isin(ids).to_numpy()
    if code != city_code:
        mask = mask & (frame["geography_code"] == code).to_numpy()
    hashes = row_hashes(frame) if hashes is None else hashes
    return hashlib.sha256(hashes[mask].tobytes()).hexdigest()


# --------------------------------------------------------------------------- the run

def run_quarter(settings: Settings, quarter: str = "latest", *, sections=None, geographies=None, lang=None,
                workers=None, force=False, quiet=False, executor="local", scheduler=None, data_paths=None,
                stop_after_jobs=None) -> RunResult:
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
        Parallel notebooks (default: settings, else the number of CPUs).
    force : bool
        Re-run jobs whose inputs are unchanged.
    executor : {'local', 'dask'}
        ``dask`` submits the same jobs to the Dask distributed scheduler at ``scheduler``.

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

    from helpers.assess import StatusThresholds, assess_all, code_hash
    from helpers.data import load_data
    from helpers.forecast import ForecastSettings
    from helpers.geography import load_geographies
    from helpers.registry import load_plan

    started = datetime.now(timezone.utc)
    plan = load_plan(settings.plan_path)
    geos = load_geographies(settings.geographies_path)
    lang = lang or settings.language
    if lang not in ("zh", "en"):
        raise ConfigError(f"language must be zh or en, not {lang!r}")
    data_files = [Path(p).resolve() for p in (data_paths or [settings.data_path])]
    fs = ForecastSettings.from_mapping(settings.block("forecast"))
    th = StatusThresholds(**settings.block("status"))
    ex = settings.block("executor")
    if executor not in ("local", "dask"):
        raise ConfigError(f"executor must be 'local' or 'dask', not {executor!r}")
    if executor == "dask" and not scheduler:
        raise ConfigError("--executor dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    pairs = plan_jobs(plan, geos, sections, geographies)  # refuses unknown sections/codes
    ds = load_data(data_files, plan, geos)  # DataValidationError: nothing written
    q = resolve_quarter(quarter, ds.frame)
    workers = int(workers or ex.get("workers") or default_workers())

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
        handler = _json_log_handler(staging / "run.log.jsonl")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.info("run started", extra={"event": "start", "quarter": str(q), "run_id": run_id})

        # ---- assessments, once per run (cached by input hash)
        t0 = time.monotonic()
        table, bands = assess_all(ds.frame, plan, geos, q, fs, th, cache_dir=out_root / ".cache" / "assess",
                                  workers=min(workers, 2) if workers > 1 else 1)
        table.to_csv(staging / "assessments.csv", index=False, float_format="%.6g")
        # the validated, typed data for the notebooks, so no kernel re-reads and re-validates the inputs
        ds.frame.to_csv(staging / "validated_data.csv", index=False)
        bands.to_csv(staging / "bands.csv", index=False, float_format="%.6g")
        demo = bool(ds.frame["source"].astype(str).str.startswith("DEMO").any())
        _write_xlsx_once(table, staging, published_dir(out_root, q), geos, demo)
        log.info("assessed", extra={"event": "assessed", "seconds": round(time.monotonic() - t0, 2), "rows": len(table)})

        # ---- a copy of the inputs, so the run can be reproduced from its own folder
        (staging / "data").mkdir()
        for p in data_files:
            shutil.copy2(p, staging / "data" / p.name)
        (staging / "params").mkdir()
        for p in (settings.path, settings.plan_path, settings.geographies_path):
            shutil.copy2(p, staging / "params" / p.name)

        # ---- jobs
        commit = git_commit(settings.root)
        versions = package_versions()
        inputs = {str(p): sha256_file(p) for p in (settings.path, settings.plan_path, settings.geographies_path, *data_files)}
        prev_dir = published_dir(out_root, q)
        prev_jobs = _previous_jobs(prev_dir)
        jobs, skipped = [], []
        hashes = row_hashes(ds.frame)
        for section, code in pairs:
            nb = settings.root / "notebooks" / f"{section}.ipynb"
            if not nb.is_file():
                raise ConfigError(f"notebook {nb} is missing")
            params = dict(section=section, geography=code, quarter=str(q), lang=lang,
                          settings_path=str(settings.path), data_path=",".join(map(str, data_files)),
                          registry_path=str(settings.plan_path), run_dir=str(staging))
            stable = {k: v for k, v in params.items() if k not in ("run_dir", "data_path")}
            h = hashlib.sha256(json.dumps([stable, sha256_file(nb), code_hash(), plan.sha256, geos.sha256,
                                           settings.sha256, _job_data_hash(ds.frame, plan, section, code, geos.city.code, hashes)],
                                          sort_keys=True).encode()).hexdigest()
            geo = geos.get(code)
            sec_name = "总览" if section == OVERVIEW and lang == "zh" else ("Overview" if section == OVERVIEW else plan.section(section).name(lang))
            job = dict(section=section, geography_code=code, quarter=str(q), lang=lang, notebook=str(nb),
                       output_dir=str(staging), parameters=params, input_hash=h,
                       start_timeout=ex.get("start_timeout", 120), execution_timeout=ex.get("execution_timeout", 600),
                       retries=ex.get("retries", 1), title=f"{geo.name(lang)} · {sec_name} · {q}",
                       provenance={"run_id": run_id, "quarter": str(q), "git_commit": commit or "not a git checkout",
                                   "time (UTC)": started.isoformat(timespec="seconds"),
                                   **{f"sha256 {Path(k).name}": v for k, v in inputs.items()},
                                   "packages": ", ".join(f"{k} {v}" for k, v in versions.items())})
            old = prev_jobs.get((section, code))
            if not force and old and old.get("status") == "ok" and old.get("input_hash") == h and _reuse(prev_dir, staging, old):
                skipped.append({**old, "skipped": True, "duration": 0.0})
            else:
                jobs.append(job)
        if stop_after_jobs is not None:
            jobs = jobs[:stop_after_jobs]
        results = list(skipped)
        results += _execute(jobs, workers, executor, scheduler, quiet)

        # ---- index and manifest
        finished = datetime.now(timezone.utc)
        from helpers.report import render_index

        downloads = [("assessments.csv", "assessments.csv"), ("assessments.xlsx", "assessments.xlsx"),
                     ("bands.csv", "bands.csv"), ("manifest.json", "manifest.json"), ("run.log.jsonl", "run.log.jsonl")]
        manifest = {
            "run_id": run_id, "quarter": str(q), "plan": plan.id, "language": lang,
            "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
            "git_commit": commit, "packages": versions, "inputs_sha256": inputs,
            "data_copy": [f"data/{p.name}" for p in data_files], "settings": settings.raw,
            "forecast_settings": fs.__dict__ if hasattr(fs, "__dict__") else str(fs),
            "executor": {"kind": executor, "workers": workers, "scheduler": scheduler},
            "jobs": [{k: v for k, v in r.items()} for r in results],
            "demo_data": demo,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        render_index(staging / "index.html", plan=plan, geos=geos, quarter=str(q),
                     sections=[s.id for s in plan.sections] + [OVERVIEW], jobs=results, assessments=table, demo=demo,
                     lang=lang, downloads=downloads,
                     manifest={"run": run_id, "git": commit or "—", "data sha256": ", ".join(
                         sha256_file(p)[:16] for p in data_files)})
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
        _kill_children()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        for sig, h in previous_handlers.items():
            signal.signal(sig, h)
        lock.release()


def default_workers() -> int:
    """Reports run at once by default: one more than the CPUs.

    A report's kernel is busy for about two thirds of the report's time; the rest is the kernel
    starting and stopping and this process exporting HTML, when that core would otherwise idle.
    Measured on 2 cores (benchmarks/bench_quarter.py): 3 reports at a time finish a quarter about
    18% sooner than 2; 4 gain nothing more.
    """
    return (os.cpu_count() or 1) + 1


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _kill_children() -> None:
    """Stop kernels still running for an interrupted run."""
    try:
        import psutil
    except ImportError:  # psutil comes with distributed; without it kernels end with their parent
        return
    for child in psutil.Process().children(recursive=True):
        try:
            child.kill()
        except psutil.Error:
            pass


def _execute(jobs: list, workers: int, executor: str, scheduler, quiet: bool) -> list:
    from helpers.jobs import run_job

    results = []
    if not jobs:
        return results
    progress = None
    if not quiet:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("failed: {task.fields[failed]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                            transient=False)
        progress.start()
        task = progress.add_task("reports", total=len(jobs), failed=0)
    failed = 0

    def collect(r: dict) -> None:
        nonlocal failed
        results.append(r)
        failed += r["status"] == "failed"
        _log_job(r)
        if progress:
            progress.update(task, advance=1, failed=failed)

    try:
        if executor == "dask":
            from distributed import Client, as_completed as dask_completed

            with Client(scheduler, timeout="30s") as client:
                futures = [client.submit(run_job, j, pure=False, key=f"ipeval-{j['section']}-{j['geography_code']}-{uuid.uuid4().hex[:6]}") for j in jobs]
                for fut in dask_completed(futures):
                    collect(fut.result())
        else:
            import tempfile

            from helpers.forkserver import ForkServer

            with ForkServer(tempfile.gettempdir(), kernel_log=Path(jobs[0]["output_dir"]) / "kernels.log"):
                pool = ThreadPoolExecutor(max_workers=workers)
                futures = [pool.submit(run_job, j) for j in jobs]
                try:
                    for fut in as_completed(futures):
                        collect(fut.result())
                except BaseException:
                    # don't wait for running notebooks: kill their kernels, and the threads see them die
                    pool.shutdown(wait=False, cancel_futures=True)
                    _kill_children()
                    raise
                pool.shutdown(wait=True)
    finally:
        if progress:
            progress.stop()
    order = {(j["section"], j["geography_code"]): n for n, j in enumerate(jobs)}
    return sorted(results, key=lambda r: order.get((r["section"], r["geography_code"]), 0))


def _log_job(r: dict) -> None:
    log.info("job", extra={"event": "job", **{k: r[k] for k in ("section", "geography_code", "status", "duration", "attempts", "error")}})


def _previous_jobs(prev_dir: Path | None) -> dict:
    if not prev_dir or not (prev_dir / "manifest.json").is_file():
        return {}
    try:
        m = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {(j["section"], j["geography_code"]): j for j in m.get("jobs", [])}


def _write_xlsx_once(table, staging: Path, prev_dir: Path | None, geos, demo: bool) -> None:
    """``assessments.xlsx``, reused from the previous run when ``assessments.csv`` is byte-identical
    (and the code that formats it unchanged): formatting the workbook is the slowest step of a
    run in which nothing changed."""
    from helpers.assess import code_hash
    from helpers.report import write_xlsx

    names = {g.code: g.name_zh for g in geos.all}
    stamp = hashlib.sha256((staging / "assessments.csv").read_bytes() + code_hash().encode() + bytes([demo])
                           + repr(sorted(names.items())).encode()).hexdigest()
    if prev_dir is not None:
        old_stamp = prev_dir / ".assessments.xlsx.sha256"
        if old_stamp.is_file() and old_stamp.read_text().strip() == stamp and (prev_dir / "assessments.xlsx").is_file():
            try:
                os.link(prev_dir / "assessments.xlsx", staging / "assessments.xlsx")
            except OSError:
                shutil.copy2(prev_dir / "assessments.xlsx", staging / "assessments.xlsx")
            (staging / ".assessments.xlsx.sha256").write_text(stamp)
            return
    write_xlsx(table, staging / "assessments.xlsx", names, demo)
    (staging / ".assessments.xlsx.sha256").write_text(stamp)


def _reuse(prev_dir: Path, staging: Path, old: dict) -> bool:
    """Link an unchanged job's files from the previous run (hard links: no copy, no change)."""
    try:
        for key in ("notebook", "report", "audit"):
            src, dst = prev_dir / old[key], staging / old[key]
            if not src.is_file():
                return False
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
        return True
    except (KeyError, OSError):
        return False


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


def _json_log_handler(path: Path) -> logging.Handler:
    class JsonFormatter(logging.Formatter):
        def format(self, record):
            d = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "message": record.getMessage()}
            for k, v in record.__dict__.items():
                if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__ and k not in ("message",):
                    d[k] = v
            return json.dumps(d, ensure_ascii=False, default=str)

    h = logging.FileHandler(path, encoding="utf-8")
    h.setFormatter(JsonFormatter())
    return h
