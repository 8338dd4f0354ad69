"""Errors a user can cause, with messages written for them.

Every error the command line reports to a user derives from :class:`IpevalError`; the CLI maps
them to exit code 2 ("invalid input or configuration, nothing executed"). Anything else is a bug.
"""

from __future__ import annotations


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
    """

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


class RunFailedError(IpevalError):
    """Some notebooks failed; the run finished and published what it could."""

    exit_code = 1
