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

This module is the entry point and the list of commands; each group of commands is a module of
its own (``cli_run``, ``cli_data``, ``cli_schedule``, ``cli_model``, ``cli_plan``), and what
they share (the settings, failing with the right code) is :mod:`helpers.cli_common`.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

import typer

from helpers.cli_common import (  # noqa: F401 - re-exported: helpers.cli._settings, helpers.cli._state, ...
    EXIT_ENVIRONMENT,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_REPORTS_FAILED,
    SettingsOpt,
    _fail,
    _problems,
    _settings,
    _state,
    _write_report,
)
from helpers.cli_data import demo_data, export, ingest, template, validate
from helpers.cli_model import backtest, calibrate
from helpers.cli_plan import plan_draft, validate_plan
from helpers.cli_run import _notify_run, backfill, report, reproduce, run  # noqa: F401 - _notify_run re-exported
from helpers.cli_schedule import remind, schedule, status
from helpers.exceptions import EnvironmentFailure, IpevalError, RunInterrupted

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025), quarter by quarter.")


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show the traceback of an internal failure.")):
    """Evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025), quarter by quarter."""
    _state["debug"] = _state["debug"] or debug


def _internal_failure(exc: BaseException) -> int:
    """One line for an environment failure or a bug; the traceback in a log file (or with --debug)."""
    import errno
    import traceback

    from helpers.i18n import ERROR_LANGUAGE, et

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if _state["debug"]:
        typer.echo(text, err=True)
        where = ""
    else:
        try:
            fd, name = tempfile.mkstemp(prefix="ipeval-error-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            where = et("cli_details", path=name)
        except OSError:  # the disk is full: the line alone
            where = ""
    if isinstance(exc, EnvironmentFailure):
        msg = f"{exc}{where}"
    elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        msg = et("cli_disk_full", file=exc.filename or ("writing" if ERROR_LANGUAGE["lang"] == "en" else "写入时"),
                 where=where)
    elif isinstance(exc, OSError):
        msg = et("cli_os_error", reason=exc.strerror or exc, file=exc.filename or type(exc).__name__, where=where)
    else:
        msg = et("cli_internal", error=f"{type(exc).__name__}: {str(exc)[:200]}", where=where)
    typer.echo(f"ipeval: {msg}", err=True)
    return EXIT_ENVIRONMENT


# the commands, in the order ``ipeval --help`` lists them
app.command()(run)
app.command()(report)
app.command()(validate)
app.command()(template)
app.command()(ingest)
app.command()(export)
app.command("demo-data")(demo_data)
app.command()(reproduce)
app.command()(backfill)
app.command()(schedule)
app.command()(calibrate)
app.command()(backtest)
plan_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Draft a plan registry from the plan's text.")
app.add_typer(plan_app, name="plan")
plan_app.command("draft")(plan_draft)
app.command("validate-plan")(validate_plan)
app.command()(status)
app.command()(remind)


def main() -> None:
    """Entry point of the ``ipeval`` console script: the exit-code rule of the module docstring."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from helpers.i18n import et, use_error_language

    use_error_language(sys.argv[1:])  # error messages in Chinese unless the command says --lang en
    try:
        app(standalone_mode=True)
    except RunInterrupted as exc:
        typer.echo(f"ipeval: {exc}", err=True)
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        typer.echo(f"ipeval: {et('cli_interrupted')}", err=True)
        sys.exit(130)
    except IpevalError as exc:  # a command that did not catch its own
        typer.echo(et("cli_error", message=exc), err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the exit-code rule: 3, one line, the traceback in a file
        sys.exit(_internal_failure(exc))


def console() -> None:
    """The ``ipeval`` console script (:func:`main` in a process of its own): a finished run then leaves at
    once (:func:`helpers.cli_common.leave`). The tests call :func:`main` in their own process."""
    _state["console"] = True
    main()


if __name__ == "__main__":
    console()
