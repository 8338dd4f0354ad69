"""The quarterly executor: validate, assess once, run every report, publish atomically.

``run_quarter`` is what ``ipeval run`` calls. In order:

1. every parameter is checked (quarter, sections, geographies) before it reaches a path or a notebook;
2. the data are validated (invalid data: :class:`DataValidationError`, exit 2, ``outputs/`` untouched);
3. a lock per quarter stops a second run of the same quarter;
4. the run is built in ``outputs/.staging/<quarter>/<run-id>``: assessments (computed once, cached by input
   hash), the charts (drawn once, cached by content: :mod:`helpers.pages.charts`), the job list (sections x
   geographies), the notebooks in parallel, the HTML, the index,
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
import shutil
import signal
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from helpers.exceptions import ConfigError, InvalidPeriodError, RunInterrupted
from helpers.files import atomic_write_bytes, people_csv, sha256_file
from helpers.plan.periods import Quarter, latest_complete_quarter
from helpers.plan.registry import OVERVIEW
from helpers.run.execute import check_scheduler, execute_jobs, kill_children, threading_main, worker_count
from helpers.run.lock import QuarterLock
from helpers.run.incremental import (
    job_data_hash,
    job_input_hash,
    previous_jobs,
    reuse_job_files,
    row_hashes,
)
from helpers.run.changes import method_fingerprint, write_changes
from helpers.run.provenance import git_commit, json_log_handler, package_versions
from helpers.run.publish import publish, published_dir
from helpers.settings import Settings

log = logging.getLogger("ipeval.run")
log.propagate = False  # the run's log goes to its JSON-lines file; the console gets the progress bar and a summary


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
    store_state: dict | None = None   # the store's vintages and view hash (None: --data files read directly)
    store_view: pd.DataFrame | None = None
    received_files: list = field(default_factory=list)


# --------------------------------------------------------------------------- parameters

def resolve_quarter(text: str, frame: pd.DataFrame | None = None, first: Quarter | None = None,
                    today=None) -> Quarter:
    """``2025Q2`` or ``latest``: the last quarter with quarterly data, not after the last quarter
    ended by ``today`` (default: now; a run ``--as-of`` a date: that date).

    A quarter given by name must lie between the first quarter with data (else ``first``, the
    registry's ``plan.data_from``) and the last ended quarter: a run of 2000Q1 or of a quarter
    not yet over would publish reports about nothing.
    """
    last = latest_complete_quarter(today)
    if str(text).strip().lower() == "latest":
        if frame is not None and len(frame):
            quarterly = frame[frame["period"].str.contains("Q")]
            if len(quarterly):
                last = min(last, Quarter.from_index(int(quarterly["qindex"].max())))
        return last
    q = Quarter.parse(text)
    if frame is not None and len(frame):
        first = Quarter.from_index(int(frame["qindex"].min()))
    if q > last:
        raise InvalidPeriodError(f"{q} has not ended yet: the last quarter that can be evaluated is {last}")
    if first is not None and q < first:
        raise InvalidPeriodError(f"{q} is before the first period with data ({first}): choose a quarter from "
                                 f"{first} to {last}")
    return q


def plan_jobs(plan, geos, sections: list[str] | None, geographies: list[str] | None) -> list[tuple[str, str]]:
    """(section, geography code) pairs to run: every section with at least one indicator that
    applies to the geography, plus the overview. Unknown sections or codes are refused here."""
    chosen = sections or plan.pages
    for s in chosen:
        if s != OVERVIEW:
            plan.section(s)  # raises UnknownSectionError listing the valid ones
    chosen = list(dict.fromkeys(s.strip() for s in chosen))  # --sections a,a: one report, not two into the same files
    codes = list(dict.fromkeys(c.strip() for c in geographies)) if geographies else None
    geo_objs = [geos.get(c) for c in codes] if codes else list(geos.all)
    pairs = []
    for s in chosen:
        for g in geo_objs:
            if any(g.is_city or not i.city_only for i in plan.page_indicators(s)):
                pairs.append((s, g.code))
    return pairs


def load_run_inputs(settings: Settings, quarter="latest", *, sections=None, geographies=None, lang=None,
                    workers=None, executor="local", scheduler=None, data_paths=None, as_of=None) -> RunInputs:
    """Load and check every input of a run; raises an :class:`IpevalError` before anything is written.

    Without ``data_paths`` the data are the observation store's view as known at ``as_of``
    (default: the latest vintage); files given directly bypass the store.
    """
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
    n_workers = worker_count(workers, settings.executor.workers)
    out_root = settings.outputs_path
    if out_root.exists() and not out_root.is_dir():
        raise ConfigError(f"outputs: {out_root} (in {settings.path}) is a file, not a folder: point outputs: at a folder")
    pairs = plan_jobs(plan, geos, sections, geographies)  # refuses unknown sections/codes
    state = view = None
    received = []
    if data_paths:
        if as_of:
            raise ConfigError("--as-of reads the observation store; it cannot be combined with --data")
        data_files = [Path(p).resolve() for p in data_paths]
    else:
        from helpers.data.store import read_view

        data_files, state, view, received = read_view(settings, plan, geos, as_of)
    ds = load_data(data_files, plan, geos)  # DataValidationError: nothing written
    as_of_day = datetime.fromisoformat(state["as_of"].replace("Z", "+00:00")).date() if state and state["as_of"] else None
    q = resolve_quarter(quarter, ds.frame, plan.data_from, as_of_day)
    if executor == "dask":
        check_scheduler(scheduler)  # in seconds, before anything is written
    return RunInputs(settings, plan, geos, ds, q, lang, data_files,
                     ForecastSettings.from_mapping(settings.block("forecast")),
                     StatusThresholds(**settings.block("status")), pairs, n_workers, executor, scheduler,
                     state, view, received)


# --------------------------------------------------------------------------- the run

def run_quarter(settings: Settings, quarter: str = "latest", *, sections=None, geographies=None, lang=None,
                workers=None, force=False, quiet=False, executor="local", scheduler=None, data_paths=None,
                stop_after_jobs=None, as_of=None, log_events=(), documents=True,
                input_fingerprint: str | None = None) -> RunResult:
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
    as_of : str, optional
        Read the observation store as known at this date or time (default: the latest vintage).
    log_events : sequence of dict
        Written to the run's log first (e.g. the inbox files a scheduled run ingested).
    documents : bool
        Also write the assessment report of each geography as .docx and .pdf (``documents/``).
    input_fingerprint : str, optional
        The hash of the run's inputs (:mod:`helpers.run.fastpath`), recorded in the manifest.

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
    started = datetime.now(timezone.utc)
    inp = load_run_inputs(settings, quarter, sections=sections, geographies=geographies, lang=lang,
                          workers=workers, executor=executor, scheduler=scheduler, data_paths=data_paths,
                          as_of=as_of)
    q = inp.quarter
    out_root = settings.outputs_path
    out_root.mkdir(parents=True, exist_ok=True)
    lock = QuarterLock(out_root / f".{q}.lock", str(q)).acquire()  # RunLockedError: nothing written
    run_id = started.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    # staging per quarter: holding the quarter's lock, anything else in it is what a killed run
    # (SIGKILL, power cut) of this quarter left, and goes
    staging_root = out_root / ".staging" / str(q)
    if staging_root.is_dir():
        for old in staging_root.iterdir():
            shutil.rmtree(old, ignore_errors=True)
    staging = staging_root / run_id
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
        log.info("run started", extra={"event": "start", "quarter": str(q), "run_id": run_id,
                                       "as_of": (inp.store_state or {}).get("as_of")})
        for ev in log_events:
            log.info(ev.get("message", ev.get("event", "")), extra={k: v for k, v in ev.items() if k != "message"})
        table, demo = _assess(inp, staging, out_root)
        _draw_charts(inp, staging, out_root, documents)
        _changes(inp, table, staging, out_root)
        _copy_inputs(inp, staging)
        prov = _provenance(inp, run_id, started)
        jobs, skipped = _plan_job_dicts(inp, staging, out_root, prov, force)
        if stop_after_jobs is not None:
            jobs = jobs[:stop_after_jobs]
        results = list(skipped) + execute_jobs(jobs, inp.workers, inp.executor, inp.scheduler, quiet,
                                               fork_kernels=settings.executor.fork_kernels)
        _write_manifest_and_index(inp, staging, run_id, started, prov, results, table, demo, input_fingerprint)
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
    # tables people open in Excel: text cells that would run as formulas get a leading quote
    # (OWASP); the notebooks read them back through helpers.files.restore_frame
    (staging / "assessments.csv").write_bytes(people_csv(table, float_format="%.6g"))
    # the validated, typed data for the notebooks, so no kernel re-reads and re-validates the inputs
    (staging / "validated_data.csv").write_bytes(people_csv(frame))
    bands.to_csv(staging / "bands.csv", index=False, float_format="%.6g")
    demo = bool(frame["source"].astype(str).str.startswith("DEMO").any())
    _write_xlsx_once(inp, table, staging, published_dir(out_root, inp.quarter), demo)
    log.info("assessed", extra={"event": "assessed", "seconds": round(time.monotonic() - t0, 2), "rows": len(table)})
    return table, demo


def _changes(inp: RunInputs, table: pd.DataFrame, staging: Path, out_root: Path) -> None:
    """``changes.csv``: what moved since the previous published run, and why (:mod:`helpers.run.changes`)."""
    t0 = time.monotonic()
    files = {}
    if inp.store_view is not None:
        v = inp.store_view
        files = dict(zip(zip(v["indicator_id"], v["geography_code"], v["period"]), v["file"]))
    else:
        files = {}  # --data files: the value came from one of them
    out = write_changes(inp, table, staging, out_root, files, workers=min(inp.workers, 2) if inp.workers > 1 else 1)
    if out is not None:
        log.info("changes", extra={"event": "changes", "seconds": round(time.monotonic() - t0, 2)})


def _read_changes(staging: Path) -> pd.DataFrame | None:
    f = staging / "changes.csv"
    return pd.read_csv(f, dtype={"geography_code": str}, keep_default_na=False) if f.is_file() else None


def _draw_charts(inp: RunInputs, staging: Path, out_root: Path, documents: bool = False) -> None:
    """Every chart of the run's reports, drawn once (cached by content) before any report runs,
    so report kernels embed files instead of drawing (:mod:`helpers.pages.charts`)."""
    from helpers.data.reference import published_figures
    from helpers.pages.chartfiles import charts_stamp, reuse_charts, write_stamp
    from helpers.pages.charts import render_charts, run_specs

    stamp = charts_stamp(staging, plan_sha=inp.plan.sha256, geos_sha=inp.geos.sha256, quarter=inp.quarter,
                         lang=inp.lang, pairs=inp.pairs, documents=documents,
                         reference_dir=inp.settings.root / "data" / "reference")
    stats = reuse_charts(staging, published_dir(out_root, inp.quarter), stamp)
    if stats is not None:
        log.info("charts", extra={"event": "charts", **stats})
        return
    table = pd.read_csv(staging / "assessments.csv", dtype={"geography_code": str})
    bands = pd.read_csv(staging / "bands.csv", dtype={"geography_code": str}) if (staging / "bands.csv").stat().st_size > 1 else pd.DataFrame()
    pairs = list(inp.pairs)
    if documents:  # a geography's Word/PDF report shows every section's charts: draw them here, in the pool
        codes = dict.fromkeys(c for _, c in inp.pairs)
        pairs += [(sec.id, c) for c in codes for sec in inp.plan.sections if (sec.id, c) not in inp.pairs]
    specs = run_specs(inp.dataset.frame, inp.plan, inp.geos, inp.quarter, table, bands, inp.lang, pairs,
                      published_figures(inp.settings.root))
    stats = render_charts(staging, specs, out_root / ".cache" / "charts", workers=min(inp.workers, 2),
                          documents=documents)
    write_stamp(staging, stamp)
    log.info("charts", extra={"event": "charts", **stats})


def data_copy_names(data_files: list) -> list[str]:
    """Where each data file is copied in the run folder: ``data/<name>``, or ``data/<n>-<name>`` when
    two files share a name (``a/data.csv`` and ``b/data.csv`` must not overwrite each other)."""
    names = [p.name for p in data_files]
    return [f"data/{n}" if names.count(n) == 1 else f"data/{k + 1}-{n}" for k, n in enumerate(names)]


def _copy_inputs(inp: RunInputs, staging: Path) -> None:
    """A copy of the inputs, so the run can be reproduced from its own folder."""
    (staging / "data").mkdir()
    for p, name in zip(inp.data_files, data_copy_names(inp.data_files)):
        shutil.copy2(p, staging / name)
    if inp.received_files:
        # the ingested files the store's view was made of, as received (the audit trail)
        (staging / "data" / "received").mkdir()
        for p in inp.received_files:
            shutil.copy2(p, staging / "data" / "received" / p.name)
    (staging / "params").mkdir()
    s = inp.settings
    for p in (s.path, s.plan_path, s.geographies_path):
        shutil.copy2(p, staging / "params" / p.name)
    from helpers.pages.report import write_methodology_page

    # the reports' methods note links this copy, so the link works wherever the run folder goes
    if (s.root / "docs" / "methodology.md").is_file():
        write_methodology_page(s.root / "docs" / "methodology.md", staging / "docs" / "methodology.html", inp.lang)


def _provenance(inp: RunInputs, run_id: str, started: datetime) -> dict:
    """What every report and the manifest record of the run's origin."""
    s = inp.settings
    return {"run_id": run_id, "started": started, "git_commit": git_commit(s.root), "packages": package_versions(),
            "inputs": {str(p): sha256_file(p) for p in (s.path, s.plan_path, s.geographies_path, *inp.data_files,
                                                        *inp.received_files)}}


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
                              results: list, table: pd.DataFrame, demo: bool, input_fingerprint: str | None = None) -> None:
    """``manifest.json`` (everything needed to trace and re-run the run) and ``index.html``."""
    from helpers.pages.report import render_index

    s, q = inp.settings, inp.quarter
    finished = datetime.now(timezone.utc)
    fs = inp.forecast
    manifest = {
        "run_id": run_id, "quarter": str(q), "plan": inp.plan.id, "language": inp.lang,
        "started": started.isoformat(timespec="seconds"), "finished": finished.isoformat(timespec="seconds"),
        "git_commit": prov["git_commit"], "packages": prov["packages"], "inputs_sha256": prov["inputs"],
        "data_copy": data_copy_names(inp.data_files),
        # what reproduce checks the copies against before recomputing anything
        "copies_sha256": {p.relative_to(staging).as_posix(): sha256_file(p)
                          for p in sorted([*(staging / "data").rglob("*"), *(staging / "params").iterdir()])
                          if p.is_file()},
        "settings": s.raw,
        "forecast_settings": fs.__dict__ if hasattr(fs, "__dict__") else str(fs),
        "executor": {"kind": inp.executor, "workers": inp.workers, "scheduler": inp.scheduler,
                     "fork_kernels": s.executor.fork_kernels},
        "jobs": [dict(r) for r in results],
        "demo_data": demo,
        **_stage_fields(inp, table),
        "store": inp.store_state,
        "method": method_fingerprint(inp.plan, inp.geos, s),
        "input_fingerprint": input_fingerprint,  # helpers.run.fastpath: the no-change check's hash
    }
    atomic_write_bytes(staging / "manifest.json",
                       json.dumps(manifest, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    downloads = [(n, n) for n in ("assessments.csv", "assessments.xlsx", "bands.csv", "changes.csv", "revisions.csv",
                                  "manifest.json", "run.log.jsonl") if (staging / n).is_file() or n == "manifest.json"]
    render_index(staging / "index.html", plan=inp.plan, geos=inp.geos, quarter=str(q), sections=inp.plan.pages,
                 jobs=results, assessments=table, demo=demo, lang=inp.lang, downloads=downloads,
                 changes=_read_changes(staging),
                 manifest={"run": run_id, "git": prov["git_commit"] or "—",
                           "data sha256": ", ".join(prov["inputs"][str(p)][:16] for p in inp.data_files)})


def _stage_fields(inp: RunInputs, table: pd.DataFrame) -> dict:
    """The manifest's record of the assessment stage: final (终期评估) or mid-term, with the city's counts."""
    from helpers.model.assess import assessment_stage
    from helpers.pages.stage import stage_counts

    return {"assessment_stage": assessment_stage(inp.plan, inp.quarter),
            "city_counts": stage_counts(table, inp.geos.city.code)}


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
            # a copy, never a hard link: editing one run's workbook must not change another run's
            shutil.copy2(prev_dir / "assessments.xlsx", staging / "assessments.xlsx")
            (staging / ".assessments.xlsx.sha256").write_text(stamp)
            return
    write_workbook(staging / "assessments.xlsx", table=table, frame=inp.dataset.frame, plan=inp.plan, geos=inp.geos,
                   quarter=inp.quarter, demo=demo, lang=inp.lang, thresholds=inp.thresholds)
    (staging / ".assessments.xlsx.sha256").write_text(stamp)
