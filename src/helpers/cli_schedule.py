"""The commands of the quarterly cycle: ``schedule``, ``status`` (district returns), ``remind``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer

from helpers.cli_common import SettingsOpt, _fail, _settings
from helpers.exceptions import IpevalError


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
