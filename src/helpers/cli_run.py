"""The commands that run quarters and write their reports: ``run``, ``report``, ``reproduce``, ``backfill``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn, Optional

import typer

from helpers.cli_common import EXIT_OK, SettingsOpt, _fail, _settings, leave
from helpers.exceptions import IpevalError, RunInterrupted


def run(
    quarter: str = typer.Option("latest", "--quarter", "-q", help="Quarter to evaluate, e.g. 2025Q2, or 'latest'."),
    sections: Optional[str] = typer.Option(None, "--sections", help="Comma-separated section ids (default: all)."),
    geos: Optional[str] = typer.Option(None, "--geos", help="Comma-separated geography codes (default: all 14)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    data: Optional[list[Path]] = typer.Option(None, "--data", help="Data file(s) (default: settings)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Parallel notebooks (default: settings, else the CPUs; + 1 with kernels)."),
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
        _leave_interrupted(exc)
    n, bad = len(result.jobs), len(result.failed)
    skipped = sum(1 for j in result.jobs if j.get("skipped"))
    typer.echo(f"{result.quarter}: {n - bad}/{n} reports ok ({skipped} unchanged), {bad} failed -> {result.published / 'index.html'}")
    for j in result.failed:
        typer.echo(f"  failed: {j['section']} {j['geography_code']}: {j['error'].splitlines()[0] if j['error'] else ''}", err=True)
    _notify_run(notify, settings, result.quarter, plan=plan, result=result)
    leave(result.exit_code)


def _leave_interrupted(exc: RunInterrupted) -> NoReturn:
    """Exit 128 + N at once after a signal stopped the run."""
    typer.echo(f"ipeval: {exc}", err=True)
    sys.stderr.flush()
    # the run cleaned up (staging removed, lock released); a notebook thread still waiting on a
    # killed kernel must not keep the process alive, so leave without joining it; but first
    # what atexit would have done for multiprocessing (its pymp-* folder in TMPDIR)
    try:
        import multiprocessing.util

        multiprocessing.util._run_finalizers()  # type: ignore[attr-defined]  # private, not in the stubs
    except Exception:  # noqa: BLE001 - leaving anyway
        pass
    os._exit(128 + exc.signum)


def _notify_run(notify: bool, settings: Optional[Path], quarter: str, plan: Optional[str] = None, **outcome) -> None:
    """``run --notify``: the result message of the run (never raises, never changes the exit code)."""
    if not notify:
        return
    from helpers.run.notify.jobs import after_run

    try:
        after_run(_settings(settings, plan), quarter, **outcome)
    except IpevalError:  # the settings themselves are what failed: nothing to send with
        pass


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
    from helpers.i18n import et
    from helpers.pages.document import parse_formats, write_documents
    from helpers.plan.periods import Quarter
    from helpers.run.publish import published_dir

    try:
        s = _settings(settings, plan)
        chosen = parse_formats(formats)
        language = lang or s.language
        if language not in ("zh", "en"):
            raise ConfigError(et("cli_lang", lang=repr(language)))
        q = Quarter.parse(quarter)
        run_dir = published_dir(s.outputs_path, q)
        if run_dir is None:
            raise ConfigError(et("cli_no_published_run", q=q, outputs=s.outputs_path))
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


def backfill(
    quarters: str = typer.Argument(..., help="A range FIRST:LAST, e.g. 2024Q1:2025Q4."),
    sections: Optional[str] = typer.Option(None, "--sections", help="Comma-separated section ids (default: all)."),
    geos: Optional[str] = typer.Option(None, "--geos", help="Comma-separated geography codes (default: all 14)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    workers: Optional[int] = typer.Option(None, "--workers", "-j", help="Parallel notebooks (default: settings, else the CPUs; + 1 with kernels)."),
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
