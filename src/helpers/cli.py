"""The ``ipeval`` command.

Exit codes, one rule for every command (README, ``docs/reliability.md``):

* 0 done;
* 1 some reports failed (the run was published, the failures marked);
* 2 invalid input or configuration (nothing executed, ``outputs/`` untouched);
* 3 an environment or internal failure (disk full, cluster unreachable, a bug): one line saying
  what and what to do; the traceback goes to a log file named in that line, or to the console
  with ``ipeval --debug``;
* 128 + N killed by signal N (SIGTERM: 143, Ctrl-C: 130), nothing published.

No command shows a user a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from helpers.exceptions import DataValidationError, EnvironmentFailure, IpevalError, RunInterrupted

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025), quarter by quarter.")

EXIT_OK, EXIT_REPORTS_FAILED, EXIT_INVALID, EXIT_ENVIRONMENT = 0, 1, 2, 3
_state = {"debug": bool(os.environ.get("IPEVAL_DEBUG"))}


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal failure.")):
    """Evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025), quarter by quarter."""
    _state["debug"] = _state["debug"] or debug


def _settings(settings: Optional[Path], plan: Optional[str] = None):
    from helpers.settings import load_settings

    if plan and not settings:
        # --plan ID: that plan's own settings file (its registry, geographies, data, store, outputs)
        from helpers.exceptions import ConfigError
        from helpers.settings import find_project_root

        settings = find_project_root() / "params" / f"settings_{plan}.yaml"
        if not settings.is_file():
            raise ConfigError(f"--plan {plan}：没有找到该方案的设置文件 {settings}（params/settings_<方案id>.yaml）")
    return load_settings(settings)


def _problems(exc: DataValidationError, lang: str | None) -> str:
    """Every problem of invalid data, in the user's language, wrapped to the terminal, never cut."""
    from helpers.data.ingest import failure_report, format_report

    lang = lang if lang in ("zh", "en") else "zh"
    return format_report(failure_report(exc.failures, getattr(exc, "letters", None), lang), lang)


def _fail(exc: IpevalError, report_dir: Optional[Path] = None, lang: str | None = None) -> None:
    if isinstance(exc, DataValidationError) and exc.failures is not None and len(exc.failures):
        typer.echo(f"error: {exc.args[0]}", err=True)
        typer.echo(_problems(exc, lang), err=True)
        from helpers.files import unique_path

        # a new file with a unique name (mkstemp, O_EXCL): never a fixed /tmp name another user
        # could plant a symbolic link at
        out = unique_path(report_dir or Path(tempfile.gettempdir()), "ipeval-validation-report-", ".csv")
        _write_report(exc.failures, out)
        typer.echo(f"validation report: {out}", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.exit_code)


def _write_report(failures, out: Path) -> None:
    """The validation report, for Excel: UTF-8 with BOM, cells that could run as formulas quoted."""
    from helpers.files import atomic_write_bytes, people_csv

    atomic_write_bytes(out, people_csv(failures, encoding="utf-8-sig"))


def _internal_failure(exc: BaseException) -> int:
    """One line for an environment failure or a bug; the traceback in a log file (or with --debug)."""
    import errno
    import traceback

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if _state["debug"]:
        typer.echo(text, err=True)
        where = ""
    else:
        try:
            fd, name = tempfile.mkstemp(prefix="ipeval-error-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = f"; details: {name}"
        except OSError:  # the disk is full: the line alone
            where = ""
    if isinstance(exc, EnvironmentFailure):
        msg = f"{exc}{where}"
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = (f"the disk is full ({exc.filename or 'writing'}): free some space and run again; "
               f"nothing was published, the previous outputs are unchanged{where}")
    elif isinstance(exc, OSError):
        msg = f"{exc.strerror or exc} ({exc.filename or type(exc).__name__}): check the path and its permissions{where}"
    else:
        msg = (f"internal error ({type(exc).__name__}: {str(exc)[:200]}); nothing was published. This is a bug: "
               f"please report it with the details file{where}")
    typer.echo(f"ipeval: {msg}", err=True)
    return EXIT_ENVIRONMENT


SettingsOpt = typer.Option(None, "--settings", help="Settings file (default: params/settings.yaml).")


@app.command()
def run(
    quarter: str = typer.Option("latest", "--quarter", "-q", help="Quarter to evaluate, e.g. 2025Q2, or 'latest'."),
    sections: Optional[str] = typer.Option(None, "--sections", help="Comma-separated section ids (default: all)."),
    geos: Optional[str] = typer.Option(None, "--geos", help="Comma-separated geography codes (default: all 14)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    data: Optional[list[Path]] = typer.Option(None, "--data", help="Data file(s) (default: settings)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Parallel notebooks (default: settings, else CPUs + 1)."),
    force: bool = typer.Option(False, "--force", help="Re-run reports whose inputs are unchanged."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar (for cron)."),
    executor: str = typer.Option("local", "--executor", help="local (default) or dask."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address for --executor dask."),
    validation_report: Optional[Path] = typer.Option(None, "--validation-report-dir", help="Where to write the validation CSV on invalid data (default: temp folder)."),
    inbox: bool = typer.Option(False, "--inbox", help="First ingest the files waiting in data/inbox/ (bad ones go to data/inbox/rejected/); scheduled runs do."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Use the data as known at this date/time (2025-07-25 or an ISO time, UTC); default: the latest vintage."),
    documents: bool = typer.Option(True, "--documents/--no-documents", help="Also write each geography's assessment report as Word and PDF (documents/)."),
    settings: Optional[Path] = SettingsOpt,
    notify: bool = typer.Option(False, "--notify", help="Send the result message (notify in params/settings.yaml), as scheduled runs do; for cron/systemd."),
    plan: Optional[str] = typer.Option(None, "--plan", help="A plan id, e.g. cn_ipr_14th_fyp_2021_2025: runs with params/settings_<id>.yaml."),
):
    """Run every section notebook for every geography for one quarter, and publish the reports.

    The data are the observation store's (``ipeval ingest``) as known at --as-of; --data FILE
    reads files directly instead.
    """
    from helpers.run.fastpath import FastPath  # the standard library and PyYAML only: decided in milliseconds

    fast = FastPath(dict(quarter=quarter, sections=sections, geos=geos, lang=lang, data=[str(p) for p in data or []],
                         as_of=as_of, documents=documents), settings, force=force, inbox=inbox)
    if fast.published is not None:
        from helpers.i18n import t

        rec = fast.published.resolve()
        typer.echo(t(lang if lang in ("zh", "en") else "zh", "run_unchanged", quarter=fast.published.name,
                     run=rec.name, path=fast.published / "index.html"))
        raise typer.Exit(EXIT_OK)
    from helpers.run.execute import max_workers
    from helpers.run.quarter import run_quarter

    if workers is not None and workers > max_workers():
        typer.echo(f"note: -j {workers} is more than {max_workers()} (4 x {os.cpu_count()} CPUs); using {max_workers()}",
                   err=True)
    try:
        s = _settings(settings, plan)
        events = []
        if inbox:
            from helpers.run.inbox import take_inbox

            events = take_inbox(s, lang)
            for ev in events:
                typer.echo(ev["message"], err=ev["event"] == "inbox_rejected")
        result = run_quarter(s, quarter, sections=sections.split(",") if sections else None,
                             geographies=geos.split(",") if geos else None, lang=lang, workers=workers, force=force,
                             quiet=quiet, executor=executor, scheduler=scheduler, data_paths=data, as_of=as_of,
                             log_events=events, documents=documents, input_fingerprint=fast.fingerprint)
        fast.finish(result.quarter, result.run_id, result.exit_code == 0)
    except IpevalError as exc:
        _notify_run(notify, settings, quarter, plan=plan, error=exc)
        _fail(exc, validation_report, lang)
    except RunInterrupted as exc:
        typer.echo(f"ipeval: {exc}", err=True)
        sys.stderr.flush()
        # the run cleaned up (staging removed, lock released); a notebook thread still waiting on a
        # killed kernel must not keep the process alive, so leave without joining it; but first
        # what atexit would have done for multiprocessing (its pymp-* folder in TMPDIR)
        try:
            import multiprocessing.util

            multiprocessing.util._run_finalizers()
        except Exception:  # noqa: BLE001 - leaving anyway
            pass
        os._exit(128 + exc.signum)
    n, bad = len(result.jobs), len(result.failed)
    skipped = sum(1 for j in result.jobs if j.get("skipped"))
    typer.echo(f"{result.quarter}: {n - bad}/{n} reports ok ({skipped} unchanged), {bad} failed -> {result.published / 'index.html'}")
    for j in result.failed:
        typer.echo(f"  failed: {j['section']} {j['geography_code']}: {j['error'].splitlines()[0] if j['error'] else ''}", err=True)
    _notify_run(notify, settings, result.quarter, plan=plan, result=result)
    raise typer.Exit(result.exit_code)


def _notify_run(notify: bool, settings: Optional[Path], quarter: str, plan: Optional[str] = None, **outcome) -> None:
    """``run --notify``: the result message of the run (never raises, never changes the exit code)."""
    if not notify:
        return
    from helpers.run.notify.jobs import after_run

    try:
        after_run(_settings(settings, plan), quarter, **outcome)
    except IpevalError:  # the settings themselves are what failed: nothing to send with
        pass


@app.command()
def report(
    quarter: str = typer.Option(..., "--quarter", "-q", help="A published quarter, e.g. 2025Q4."),
    geo: Optional[str] = typer.Option(None, "--geo", help="Comma-separated geography codes (default: every geography of the run)."),
    formats: Optional[str] = typer.Option("docx,pdf", "--format", help="docx, pdf or both (comma-separated)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the files (default: outputs/<quarter>/documents)."),
    settings: Optional[Path] = SettingsOpt,
    plan: Optional[str] = typer.Option(None, "--plan", help="A plan id: its published run (params/settings_<id>.yaml)."),
):
    """Write the assessment report (mid-term or final by the quarter) as Word and PDF from a published run."""
    from helpers.exceptions import ConfigError
    from helpers.pages.document import parse_formats, write_documents
    from helpers.plan.periods import Quarter
    from helpers.run.publish import published_dir

    try:
        s = _settings(settings, plan)
        chosen = parse_formats(formats)
        language = lang or s.language
        if language not in ("zh", "en"):
            raise ConfigError(f"--lang must be zh or en, not {language!r}")
        q = Quarter.parse(quarter)
        run_dir = published_dir(s.outputs_path, q)
        if run_dir is None:
            raise ConfigError(f"no published run of {q} under {s.outputs_path}: run `ipeval run --quarter {q}` first")
        codes = None
        if geo:
            from helpers.plan.geography import load_geographies

            g = load_geographies(s.geographies_path)
            codes = [g.get(c).code for c in geo.split(",")]  # unknown codes: an error listing the valid ones
        files = write_documents(s, run_dir, geographies=codes, formats=chosen, lang=language, out_dir=output,
                                workers=min(2, os.cpu_count() or 1))
    except IpevalError as exc:
        _fail(exc)
    for f in files:
        typer.echo(str(f))


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="CSV or .xlsx files following the data contract."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write every problem to this CSV."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en, for the messages (default: settings)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Check data files against the data contract; list every problem with file, row, column and rule."""
    from helpers.data.contract import load_data
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        plan, g = load_plan(s.plan_path), load_geographies(s.geographies_path)
        ds = load_data(paths, plan, g)
    except DataValidationError as exc:
        typer.echo(f"INVALID: {exc.args[0]}", err=True)
        if exc.failures is not None and len(exc.failures):
            typer.echo(_problems(exc, lang or s.language), err=True)
            if report:
                _write_report(exc.failures, report)
                typer.echo(f"report: {report}", err=True)
        raise typer.Exit(2) from None
    except IpevalError as exc:
        _fail(exc)
    if report:
        import pandas as pd

        pd.DataFrame(columns=["file", "row", "column", "rule", "value", "message"]).to_csv(report, index=False)
    typer.echo(f"OK: {len(ds.frame)} rows in {len(paths)} file(s) are valid (sha256 {ds.sha256[:16]})")


@app.command()
def template(
    output: Path = typer.Option(Path("ipeval-template.xlsx"), "--output", "-o", help="Where to write the .xlsx."),
    geo: str = typer.Option("330100", "--geo", help="Geography code of the reporting unit."),
    quarter: str = typer.Option("2025Q3", "--quarter", help="The quarter to report."),
    settings: Optional[Path] = SettingsOpt,
    tasks_only: bool = typer.Option(False, "--tasks-only", help="Only the 任务进展 sheet (a lead unit's task return)."),
):
    """Write an Excel template a district fills in: one sheet per section, Chinese headers, the values
    already stored beside the cells to fill, checks on every cell, a 说明 sheet, and a 任务进展 sheet
    for the status of the plan's tasks."""
    from helpers.data.store import ObservationStore
    from helpers.data.template import write_template
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        plan, g = load_plan(s.plan_path), load_geographies(s.geographies_path)
        store = ObservationStore.of(s)
        if s.data_path.is_file():
            store.ensure_seed(s.data_path, plan, g)
        from helpers.data.tasks import task_view, write_task_template

        tasks = task_view(store)
        out = (write_task_template(output, plan, g, geo, quarter, stored=tasks) if tasks_only
               else write_template(output, plan, g, geo, quarter, stored=store.view(), stored_tasks=tasks))
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"template: {out}")


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(None, help="District returns: the template's .xlsx, or CSV (UTF-8, UTF-8-BOM, GBK/GB18030)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en, for the messages (default: settings)."),
    report_dir: Optional[Path] = typer.Option(None, "--report-dir", help="Where a refused file's error report goes (default: beside the file)."),
    rebuild: bool = typer.Option(False, "--rebuild", help="Recreate the store from data/received/ alone."),
    settings: Optional[Path] = SettingsOpt,
):
    """Store district returns as new vintages, each file all or nothing; a bad file changes nothing.

    Every problem of a refused file is listed with its cell as Excel shows it (行政保护!E7) and
    written to <file>.errors.csv and .errors.xlsx. Exit 2 if any file was refused.
    """
    from helpers.data.ingest import format_report
    from helpers.data.store import ObservationStore, ingest_files
    from helpers.i18n import t
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        lang = lang or s.language
        plan, g = load_plan(s.plan_path), load_geographies(s.geographies_path)
        store = ObservationStore.of(s)
        if rebuild:
            done = store.rebuild(plan, g)
            typer.echo(t(lang, "store_rebuilt", n=len(done), path=store.path))
            if not paths:
                return
        if not paths:
            raise typer.BadParameter("give at least one FILE (or --rebuild)")
        outcomes = ingest_files(store, paths, plan, g, lang, report_dir, seed=s.data_path)
    except IpevalError as exc:
        _fail(exc)
    bad = 0
    for o in outcomes:
        r = o.result
        if o.ok and r.vintage_id is None:
            typer.echo(t(lang, "ingest_duplicate", file=o.path.name, vintage=r.duplicate_of))
        elif o.ok:
            typer.echo(t(lang, "ingest_ok", file=o.path.name, vintage=r.vintage_id, new=r.new, revised=r.revised,
                         unchanged=r.unchanged))
            if r.tasks:
                typer.echo(t(lang, "ingest_tasks", n=r.tasks))
        else:
            bad += 1
            typer.echo(t(lang, "ingest_refused", file=o.path.name, n=len(o.report)), err=True)
            typer.echo(format_report(o.report, lang), err=True)
            typer.echo(t(lang, "ingest_report", files=", ".join(map(str, o.report_files))), err=True)
    raise typer.Exit(2 if bad else 0)


@app.command()
def export(
    output: Path = typer.Option(Path("observations.csv"), "--output", "-o", help="The CSV to write."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The values as known at this date/time (default: now)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Write the observation store's current view (or as known at --as-of) as a data-contract CSV."""
    from helpers.data.store import ObservationStore, parse_as_of
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        store = ObservationStore.of(s)
        if s.data_path.is_file():
            store.ensure_seed(s.data_path, load_plan(s.plan_path), load_geographies(s.geographies_path))
        out = store.export(output, parse_as_of(as_of))
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"export: {out}")


@app.command("demo-data")
def demo_data(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Default: the data file named in the settings."),
    seed: int = typer.Option(20231023, "--seed", help="The generator's seed."),
    settings: Optional[Path] = SettingsOpt,
):
    """Generate the seeded demonstration dataset (2021Q1-2025Q4, every indicator and geography)."""
    from helpers.data.demo import write_demo
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        out = write_demo(output or s.data_path, load_plan(s.plan_path), load_geographies(s.geographies_path), seed)
        from helpers.data.demo_tasks import write_demo_task_returns

        write_demo_task_returns(Path(out).parent / "tasks", load_plan(s.plan_path), load_geographies(s.geographies_path))
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"demo data: {out}")


@app.command()
def reproduce(
    run_dir: Path = typer.Argument(..., help="A published run, e.g. outputs/2025Q2 or outputs/runs/2025Q2/<run-id>."),
):
    """Check a run's copied inputs against its manifest, recompute its assessments, compare every table."""
    from helpers.run.reproduce import reproduce_run

    try:
        same, detail = reproduce_run(run_dir)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(detail)
    raise typer.Exit(0 if same else 1)


@app.command()
def backfill(
    quarters: str = typer.Argument(..., help="A range FIRST:LAST, e.g. 2024Q1:2025Q4."),
    sections: Optional[str] = typer.Option(None, "--sections", help="Comma-separated section ids (default: all)."),
    geos: Optional[str] = typer.Option(None, "--geos", help="Comma-separated geography codes (default: all 14)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Parallel notebooks (default: settings, else CPUs + 1)."),
    force: bool = typer.Option(False, "--force", help="Re-run reports whose inputs are unchanged."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    settings: Optional[Path] = SettingsOpt,
):
    """Run a range of quarters, each as known at its scheduled run date, and write outputs/timeline.html.

    Each quarter reads the observation store as it stood at that quarter's scheduled run (the
    settings' cron), so revisions that came later are not used: a past quarter is what was known then.
    """
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.run.backfill import as_of_for, parse_range, render_timeline
    from helpers.run.quarter import run_quarter

    worst = 0
    try:
        s = _settings(settings)
        qs = parse_range(quarters)
        for q in qs:
            result = run_quarter(s, str(q), sections=sections.split(",") if sections else None,
                                 geographies=geos.split(",") if geos else None, lang=lang, workers=workers,
                                 force=force, quiet=quiet, as_of=as_of_for(s, q))
            typer.echo(f"{q}: {len(result.jobs) - len(result.failed)}/{len(result.jobs)} reports ok")
            worst = max(worst, result.exit_code)
        out = render_timeline(s.outputs_path, qs, load_plan(s.plan_path), load_geographies(s.geographies_path),
                              lang=lang or s.language)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"timeline: {out}")
    raise typer.Exit(worst)


@app.command()
def schedule(
    print_cron: bool = typer.Option(False, "--print-cron", help="Print the equivalent crontab entry and exit."),
    print_systemd: bool = typer.Option(False, "--print-systemd", help="Print an equivalent systemd service and timer and exit."),
    settings: Optional[Path] = SettingsOpt,
):
    """Run the quarterly schedule as a long-lived process (APScheduler; trigger in params/settings.yaml)."""
    from helpers.run import schedule as sch

    try:
        s = _settings(settings)
        if print_cron:
            typer.echo(sch.print_cron(s), nl=False)
            return
        if print_systemd:
            typer.echo(sch.print_systemd(s), nl=False)
            return
        logging.getLogger("ipeval").setLevel(logging.INFO)
        sch.serve(s)
    except IpevalError as exc:
        _fail(exc)


@app.command()
def calibrate(
    files: list[Path] = typer.Argument(..., help="Calibration files (long format: series, category, start_year, start_period, t, value)."),
    history: Optional[str] = typer.Option(None, "--history", help="History lengths, e.g. 4,6,8 (default: yearly 4,6,8; quarterly 8,12,16)."),
    freq: Optional[str] = typer.Option(None, "--freq", help="yearly or quarterly (default: inferred from the file's periods)."),
    out: Path = typer.Option(Path("."), "--out", "-o", help="Folder for calibration.csv and calibration_forecasts.csv."),
    max_series: Optional[int] = typer.Option(None, "--max-series", min=1, help="Score a fixed-seed sample of this many series per file."),
    origins: int = typer.Option(3, "--origins", min=1, help="Origins per series and history length."),
    half: str = typer.Option("all", "--half", help="all, or a / b: one fixed half of the series (choose on one, check on the other)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Score the forecast engine and three baselines on real series (rolling origins); write calibration.csv."""
    from helpers.model.calibrate import calibrate_files, format_table, goal_report
    from helpers.model.forecast import ForecastSettings

    try:
        fs = ForecastSettings.from_mapping(_settings(settings).block("forecast"))
        table, path = calibrate_files(files, fs, history=history, freq=freq, out=out, max_series=max_series,
                                      origins=origins, half=half)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(format_table(table))
    for line in goal_report(table):
        typer.echo(line)
    typer.echo(f"calibration table: {path}")


@app.command()
def backtest(
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the three files (default: outputs/backtest)."),
    geos: Optional[str] = typer.Option(None, "--geos", help="Comma-separated geography codes, or 'all' (default: 330100,330106,330127)."),
    origins: Optional[str] = typer.Option(None, "--origins", help="Forecast origins: FIRST:LAST[:STEP], a comma list, or 'all' (default: 2023Q4:2025Q3:2)."),
    members: Optional[str] = typer.Option(None, "--members", help="Methods to score, comma-separated (default: the ensemble, each member, the rules)."),
    n_paths: int = typer.Option(500, "--n-paths", help="Simulated paths per forecast."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Processes (default: settings, else CPUs)."),
    data: Optional[str] = typer.Option(None, "--data", help="Data file(s), comma-separated (default: settings)."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also render the methodology notebook on the results as HTML."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en, for the HTML (default: settings)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Score the forecasts against what happened: a rolling-origin backtest (Brier score, reliability, coverage).

    Writes backtest_summary.csv, backtest_forecasts.csv and backtest_reliability.png, and the
    methodology notebook (notebooks/methodology.ipynb) run on them as methodology.report.html and
    methodology.audit.html.
    """
    from helpers.run.backtest import backtest_command, render_methodology

    try:
        out = backtest_command(settings_path=settings, output_dir=output, geographies=geos, origins=origins,
                               members=members, n_paths=n_paths, workers=workers, data_path=data)
        if html:
            render_methodology(out, settings, lang=lang or _settings(settings).language)
    except IpevalError as exc:
        _fail(exc)
    import pandas as pd

    summary = pd.read_csv(out / "backtest_summary.csv")
    cols = [c for c in ("method", "n", "brier", "brier_skill", "reliability", "resolution", "coverage80", "coverage95") if c in summary.columns]
    typer.echo(summary[cols].to_string(index=False))
    typer.echo(f"backtest: {out}")

plan_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Draft a plan registry from the plan's text.")
app.add_typer(plan_app, name="plan")


@plan_app.command("draft")
def plan_draft(
    text: Path = typer.Argument(..., help="The plan's text (UTF-8), e.g. docs/sources/hangzhou_ipz_plan_2023_2025.txt."),
    output: Path = typer.Option(Path("draft.yaml"), "--output", "-o", help="The draft registry to write."),
    against: Optional[Path] = typer.Option(None, "--against", help="A registry written by hand: print found/missed/spurious."),
):
    """Propose a registry: every numeric target of the text, its clause verbatim, each `confirmed: false`."""
    from helpers.files import atomic_write_bytes
    from helpers.plan.check import score_against
    from helpers.plan.draft import draft_from_file, to_yaml
    from helpers.plan.registry import load_plan

    try:
        doc, targets = draft_from_file(text)
        atomic_write_bytes(output, to_yaml(doc).encode("utf-8"))
        typer.echo(f"{len(targets)} 个数值目标（均为 confirmed: false，请逐条核对）-> {output}")
        if against:
            s = score_against(targets, load_plan(against), text.read_text(encoding="utf-8"))
            typer.echo(f"found {len(s['found'])}/{len(s['found']) + len(s['missed'])} (recall {s['recall']:.0%}, "
                       f"with clause {s['clause_recall']:.0%}), spurious {len(s['spurious'])} "
                       f"(precision {s['precision']:.0%}); missed: {', '.join(s['missed']) or '-'}")
    except IpevalError as exc:
        _fail(exc)


@app.command("validate-plan")
def validate_plan(plan_file: Path = typer.Argument(..., help="A plan registry (params/plans/*.yaml or a draft).")):
    """Check a registry: its schema, every clause verbatim in the plan's text, and no unconfirmed entry (exit 2)."""
    from helpers.exceptions import RegistryError
    from helpers.plan.check import clause_problems
    from helpers.plan.registry import load_plan, require_confirmed
    from helpers.settings import find_project_root

    try:
        plan = load_plan(plan_file)
        problems = clause_problems(plan, find_project_root(plan_file.resolve().parent))
        if problems:
            raise RegistryError(f"{plan_file}：\n  " + "\n  ".join(problems))
        require_confirmed(plan)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"{plan_file}: {len(plan.targets)} 个目标、{len(plan.indicators)} 个指标，均已确认，条款均为原文")


@app.command()
def status(
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="The quarter to show with the four before it (default: the one whose returns are due next)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    settings: Optional[Path] = SettingsOpt,
):
    """District returns (in, late, missing) by quarter, district and section; the last runs; the next
    scheduled run; the store's health; failed sends of reminders and results."""
    import json

    from helpers.run.status import collect, render_text

    try:
        s = _settings(settings)
        st = collect(s, quarter)
    except IpevalError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(st, ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(render_text(st, s, lang if lang in ("zh", "en") else s.language))


@app.command()
def remind(
    quarter: Optional[str] = typer.Option(None, "--quarter", "-q", help="The quarter to chase (default: the one whose returns are due next)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write the messages to outputs/ instead of sending them."),
    settings: Optional[Path] = SettingsOpt,
):
    """Remind (催报) each district whose return is missing: an e-mail to its contact listing what is
    missing, with its pre-filled template, and a summary to the office's channels (params/settings.yaml notify)."""
    from helpers.run.notify.jobs import remind as send_reminders

    try:
        s = _settings(settings)
        sent = send_reminders(s, quarter, dry_run=True if dry_run else None)
    except IpevalError as exc:
        _fail(exc)
    for e in sent:
        typer.echo(f"{'ok' if e['ok'] else 'FAILED'} {e['channel']}: {e['subject']} -> {', '.join(e['to']) or '-'}"
                   f" ({e['detail']})", err=not e["ok"])
    if not sent:
        typer.echo("nothing to send: every return is in, or no channel carries reminders (notify.channels)")
    raise typer.Exit(0 if all(e["ok"] for e in sent) else 3)


def main() -> None:
    """Entry point of the ``ipeval`` console script: the exit-code rule of the module docstring."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from helpers.i18n import use_error_language

    use_error_language(sys.argv[1:])  # error messages in Chinese unless the command says --lang en
    try:
        app(standalone_mode=True)
    except RunInterrupted as exc:
        typer.echo(f"ipeval: {exc}", err=True)
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        typer.echo("ipeval: interrupted; nothing was published, the previous outputs are unchanged", err=True)
        sys.exit(130)
    except IpevalError as exc:  # a command that did not catch its own
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the exit-code rule: 3, one line, the traceback in a file
        sys.exit(_internal_failure(exc))


if __name__ == "__main__":
    main()
