"""The commands that score the forecasts: ``calibrate`` (real series) and ``backtest`` (the plan's data)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from helpers.cli_common import SettingsOpt, _fail, _settings
from helpers.exceptions import IpevalError


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
