"""The commands on data: ``validate``, ``template``, ``ingest``, ``export``, ``demo-data``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from helpers.cli_common import SettingsOpt, _fail, _problems, _settings, _write_report
from helpers.exceptions import DataValidationError, IpevalError


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
    from helpers.i18n import et, t
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
            raise typer.BadParameter(et("cli_ingest_no_file"))
        outcomes = ingest_files(store, paths, plan, g, lang, report_dir, seed=s.data_path)
    except IpevalError as exc:
        _fail(exc)
    assert lang is not None  # set from the settings above (for the type checker)
    bad = 0
    for o in outcomes:
        # an outcome holds a result when stored (o.ok), else a report: never both, never neither
        r = o.result
        if r is not None and r.vintage_id is None:
            typer.echo(t(lang, "ingest_duplicate", file=o.path.name, vintage=r.duplicate_of))
        elif r is not None:
            typer.echo(t(lang, "ingest_ok", file=o.path.name, vintage=r.vintage_id, new=r.new, revised=r.revised,
                         unchanged=r.unchanged))
            if r.tasks:
                typer.echo(t(lang, "ingest_tasks", n=r.tasks))
        elif o.report is not None:
            bad += 1
            typer.echo(t(lang, "ingest_refused", file=o.path.name, n=len(o.report)), err=True)
            typer.echo(format_report(o.report, lang), err=True)
            typer.echo(t(lang, "ingest_report", files=", ".join(map(str, o.report_files or []))), err=True)
    raise typer.Exit(2 if bad else 0)


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
