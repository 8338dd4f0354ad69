"""The ``ipeval`` command.

Exit codes: 0 all done; 1 some notebooks failed (the run was published, failures marked);
2 invalid input or configuration (nothing executed, ``outputs/`` untouched).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

import typer

from helpers.exceptions import DataValidationError, IpevalError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025), quarter by quarter.")


def _settings(settings: Optional[Path]):
    from helpers.settings import load_settings

    return load_settings(settings)


def _fail(exc: IpevalError, report_dir: Optional[Path] = None) -> None:
    typer.echo(f"error: {exc}", err=True)
    if isinstance(exc, DataValidationError) and exc.failures is not None and len(exc.failures):
        folder = report_dir or Path(tempfile.gettempdir())
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / "ipeval-validation-report.csv"
        exc.failures.to_csv(out, index=False, encoding="utf-8-sig")
        typer.echo(f"validation report: {out}", err=True)
    raise typer.Exit(exc.exit_code)


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
    documents: bool = typer.Option(True, "--documents/--no-documents", help="Also write each geography's assessment report as Word and PDF (documents/)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Run every section notebook for every geography for one quarter, and publish the reports."""
    from helpers.run.quarter import RunInterrupted, run_quarter

    try:
        s = _settings(settings)
        result = run_quarter(s, quarter, sections=sections.split(",") if sections else None,
                             geographies=geos.split(",") if geos else None, lang=lang, workers=workers, force=force,
                             quiet=quiet, executor=executor, scheduler=scheduler, data_paths=data,
                             documents=documents)
    except IpevalError as exc:
        _fail(exc, validation_report)
    except RunInterrupted as exc:
        typer.echo(f"ipeval: {exc}", err=True)
        sys.stderr.flush()
        # the run cleaned up (staging removed, lock released); a notebook thread still waiting on a
        # killed kernel must not keep the process alive, so leave without joining it
        os._exit(128 + exc.signum)
    n, bad = len(result.jobs), len(result.failed)
    skipped = sum(1 for j in result.jobs if j.get("skipped"))
    typer.echo(f"{result.quarter}: {n - bad}/{n} reports ok ({skipped} unchanged), {bad} failed -> {result.published / 'index.html'}")
    for j in result.failed:
        typer.echo(f"  failed: {j['section']} {j['geography_code']}: {j['error'].splitlines()[0] if j['error'] else ''}", err=True)
    raise typer.Exit(result.exit_code)


@app.command()
def report(
    quarter: str = typer.Option(..., "--quarter", "-q", help="A published quarter, e.g. 2025Q4."),
    geo: Optional[str] = typer.Option(None, "--geo", help="Comma-separated geography codes (default: every geography of the run)."),
    formats: Optional[str] = typer.Option("docx,pdf", "--format", help="docx, pdf or both (comma-separated)."),
    lang: Optional[str] = typer.Option(None, "--lang", help="zh or en (default: settings)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Folder for the files (default: outputs/<quarter>/documents)."),
    settings: Optional[Path] = SettingsOpt,
):
    """Write the assessment report (mid-term or final by the quarter) as Word and PDF from a published run."""
    from helpers.exceptions import ConfigError
    from helpers.pages.document import parse_formats, write_documents
    from helpers.plan.periods import Quarter
    from helpers.run.publish import published_dir

    try:
        s = _settings(settings)
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
    settings: Optional[Path] = SettingsOpt,
):
    """Check data files against the data contract; list every problem with file, row, column and rule."""
    from helpers.data.contract import format_failures, load_data
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        plan, g = load_plan(s.plan_path), load_geographies(s.geographies_path)
        ds = load_data(paths, plan, g)
    except DataValidationError as exc:
        typer.echo(f"INVALID: {exc.args[0]}", err=True)
        if exc.failures is not None and len(exc.failures):
            typer.echo(format_failures(exc.failures), err=True)
            if report:
                exc.failures.to_csv(report, index=False, encoding="utf-8-sig")
                typer.echo(f"report: {report}", err=True)
        raise typer.Exit(2)
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
):
    """Write an Excel template a district fills in: one sheet per section, names in Chinese, units shown."""
    from helpers.data.template import write_template
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    try:
        s = _settings(settings)
        out = write_template(output, load_plan(s.plan_path), load_geographies(s.geographies_path), geo, quarter)
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"template: {out}")


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
    except IpevalError as exc:
        _fail(exc)
    typer.echo(f"demo data: {out}")


@app.command()
def reproduce(
    run_dir: Path = typer.Argument(..., help="A published run, e.g. outputs/2025Q2 or outputs/runs/2025Q2/<run-id>."),
):
    """Recompute a run's assessments from the copy of its inputs; report whether assessments.csv is byte-identical."""
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
    """Run a range of quarters, each with only the data up to it, and write outputs/timeline.html."""
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.run.backfill import parse_range, render_timeline
    from helpers.run.quarter import run_quarter

    worst = 0
    try:
        s = _settings(settings)
        qs = parse_range(quarters)
        for q in qs:
            result = run_quarter(s, str(q), sections=sections.split(",") if sections else None,
                                 geographies=geos.split(",") if geos else None, lang=lang, workers=workers,
                                 force=force, quiet=quiet)
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
    from helpers.model.backtest import backtest_command, render_methodology

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


def main() -> None:
    """Entry point of the ``ipeval`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
