"""What every ``ipeval`` command shares: the settings it reads, the exit codes, and how it fails.

A user's mistake (:class:`helpers.exceptions.IpevalError`) is one line, ``error: ...``, and the
exit code of its class; invalid data also gets every problem listed and a validation report CSV.
The rule of exit codes is in :mod:`helpers.cli`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import NoReturn, Optional

import typer

from helpers.exceptions import DataValidationError, IpevalError

EXIT_OK, EXIT_REPORTS_FAILED, EXIT_INVALID, EXIT_ENVIRONMENT = 0, 1, 2, 3
_state = {"debug": bool(os.environ.get("IPEVAL_DEBUG")), "console": False}  # console: in the ipeval script


def _settings(settings: Optional[Path], plan: Optional[str] = None):
    from helpers.settings import load_settings

    if plan and not settings:
        # --plan ID: that plan's own settings file (its registry, geographies, data, store, outputs)
        from helpers.exceptions import ConfigError
        from helpers.i18n import et
        from helpers.settings import find_project_root

        settings = find_project_root() / "params" / f"settings_{plan}.yaml"
        if not settings.is_file():
            raise ConfigError(et("cli_plan_settings", plan=plan, settings=settings))
    return load_settings(settings)


def _problems(exc: DataValidationError, lang: str | None) -> str:
    """Every problem of invalid data, in the user's language, wrapped to the terminal, never cut."""
    from helpers.data.ingest import failure_report, format_report

    lang = lang if lang in ("zh", "en") else "zh"
    return format_report(failure_report(exc.failures, getattr(exc, "letters", None), lang), lang)


def _fail(exc: IpevalError, report_dir: Optional[Path] = None, lang: str | None = None) -> None:
    from helpers.i18n import et

    if isinstance(exc, DataValidationError) and exc.failures is not None and len(exc.failures):
        typer.echo(et("cli_error", message=exc.args[0]), err=True)
        typer.echo(_problems(exc, lang), err=True)
        from helpers.files import unique_path

        # a new file with a unique name (mkstemp, O_EXCL): never a fixed /tmp name another user
        # could plant a symbolic link at
        out = unique_path(report_dir or Path(tempfile.gettempdir()), "ipeval-validation-report-", ".csv")
        _write_report(exc.failures, out)
        typer.echo(et("cli_validation_report", path=out), err=True)
    else:
        typer.echo(et("cli_error", message=exc), err=True)
    raise typer.Exit(exc.exit_code)


def _write_report(failures, out: Path) -> None:
    """The validation report, for Excel: UTF-8 with BOM, cells that could run as formulas quoted."""
    from helpers.files import atomic_write_bytes, people_csv

    atomic_write_bytes(out, people_csv(failures, encoding="utf-8-sig"))


SettingsOpt = typer.Option(None, "--settings", help="Settings file (default: params/settings.yaml).")


def leave(code: int) -> NoReturn:
    """End a finished command with exit status ``code``.

    In the ``ipeval`` console script: at once, after what Python runs at exit (the ``atexit``
    functions: logging's flush, multiprocessing's clean-up, temporary folders' finalizers) but without
    tearing down the interpreter's modules and freeing the run's objects one by one, which after a
    quarter took 0.4 s of the run's 24 s, on one core (the demo's 2025Q2, 2026-12-06); the system frees
    the memory. Elsewhere (the tests' in-process runner): ``typer.Exit(code)``.
    """
    if not _state["console"]:
        raise typer.Exit(code)
    import atexit
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
