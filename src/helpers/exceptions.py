"""Errors a user can cause, with messages written for them.

Every error the command line reports to a user derives from :class:`IpevalError`; the CLI maps
them to exit code 2 ("invalid input or configuration, nothing executed"). :class:`EnvironmentFailure`
(exit 3) is the machine's fault, not the input's: disk full, a cluster that does not answer.
:class:`RunInterrupted` is not an ``Exception`` at all, so that no ``except Exception`` around a
model fit or a notebook can mistake SIGTERM or Ctrl-C for a failure of that step.

The exit codes (README, ``docs/reliability.md``): 0 done; 1 some reports failed (published, marked);
2 invalid input or configuration (nothing executed, outputs untouched); 3 an environment or internal
failure (one line on the console, the traceback in the run log or with ``--debug``).
"""

from __future__ import annotations

from helpers.i18n import et  # a leaf too, importing nothing: the messages below in the error language


def format_failures(failures, limit: int = 50) -> str:
    """A readable fixed-width table of failures (the first ``limit`` rows)."""
    shown = failures.head(limit).fillna("")
    text = shown.to_string(index=False, max_colwidth=60)
    if len(failures) > limit:
        text += f"\n... and {len(failures) - limit} more (see the CSV report)"
    return text


class IpevalError(Exception):
    """Base class for errors caused by input, parameters or configuration."""

    exit_code = 2


class ConfigError(IpevalError):
    """A file under ``params/`` is missing, malformed or inconsistent."""


class RegistryError(ConfigError):
    """The plan registry breaks its schema (unknown field, duplicate id, bad target...)."""


class UnknownGeographyError(IpevalError):
    """A geography code that is not Hangzhou or one of its districts/counties."""


class UnknownSectionError(IpevalError):
    """A section id that the plan registry does not define."""


class InvalidPeriodError(IpevalError):
    """A quarter or year that cannot be parsed or is out of range."""


class DataValidationError(IpevalError):
    """Input data failed validation.

    Parameters
    ----------
    message : str
        A one-line summary.
    failures : pandas.DataFrame
        One row per problem with columns ``file, row, column, rule, value, message``.

    Attributes
    ----------
    letters : dict or None
        ``{sheet: {column: Excel letter}}``, set by the readers that know the cells (None: unknown).
    """

    letters: dict | None = None

    def __init__(self, message: str, failures=None):
        super().__init__(message)
        self.failures = failures

    def __str__(self) -> str:  # the summary plus a readable table of every failure
        head = super().__str__()
        if self.failures is None or len(self.failures) == 0:
            return head
        return head + "\n" + format_failures(self.failures)


class RunLockedError(IpevalError):
    """Another run of the same quarter holds the lock."""


class EnvironmentFailure(Exception):
    """The machine, not the input, stopped the command (disk full, Dask cluster unreachable): exit 3."""

    exit_code = 3


class RunInterrupted(BaseException):
    """SIGTERM or Ctrl-C during a run.

    A ``BaseException`` like ``KeyboardInterrupt``: the ``except Exception`` that keeps one failing
    ensemble member or notebook from sinking a run must let it through, so an interrupted run
    publishes nothing and caches nothing.
    """

    def __init__(self, signum: int):
        super().__init__(et("interrupted_by_signal", signum=signum))
        self.signum = signum


class RunFailedError(IpevalError):
    """Some notebooks failed; the run finished and published what it could."""

    exit_code = 1


class UnsafePathError(IpevalError):
    """A folder or file the tool would write is a symbolic link (it could point anywhere): refused."""
