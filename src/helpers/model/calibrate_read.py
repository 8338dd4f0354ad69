"""Reading the calibration files (:mod:`helpers.model.calibrate`): one long table of real series,
``series, category, start_year, start_period, t, value``, and whether they are yearly or quarterly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.exceptions import ConfigError, DataValidationError
from helpers.i18n import et

_REQUIRED = ("series", "category", "start_year", "start_period", "t", "value")


def infer_freq(frame: pd.DataFrame, path: str | Path = "") -> str:
    """Yearly or quarterly, from the periods of a calibration file.

    ``start_period`` is the period of the year a series starts in: quarterly files use 1-4,
    yearly files mostly 1. Three or more distinct start periods (all within 1-4) mean quarterly,
    a single one yearly; anything else (two distinct values, as M3's yearly sheet has) is decided
    by the file name when it says ``year``/``annual`` or ``quarter``.

    Raises
    ------
    ConfigError
        When the periods do not decide and the name does not say: pass ``--freq``.
    """
    periods = set(pd.to_numeric(frame["start_period"], errors="coerce").dropna().astype(int))
    name = Path(path).name.lower()
    if periods and max(periods) <= 4 and len(periods) >= 3:
        return "quarterly"
    if periods and max(periods) > 4:
        raise ConfigError(et("cal_start_period_high", path=path, max=max(periods)))
    if "quarter" in name:
        return "quarterly"
    if len(periods) == 1 or "year" in name or "annual" in name:
        return "yearly"
    raise ConfigError(et("cal_freq_unknown", path=path, periods=sorted(periods)))


def read_series(path: str | Path) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Read one calibration file in the long format ``series, category, start_year, start_period, t, value``.

    Returns
    -------
    (frame, series) : pandas.DataFrame and dict of str to numpy.ndarray
        The file as read, and each series' values in ``t`` order.

    Raises
    ------
    DataValidationError
        Naming the file, row (1 = first data row) and column of the first problems: a missing
        column, a value that is not a positive number, ``t`` not 1..N without gaps in a series.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(et("cal_file_missing", path=path))
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        # an empty file, or one that is not a CSV table: the user's file, not a bug
        raise DataValidationError(et("cal_not_a_table", path=path, columns=list(_REQUIRED),
                                     error=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")) from None
    if frame.empty:
        raise DataValidationError(et("cal_no_rows", path=path, columns=list(_REQUIRED)))
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise DataValidationError(et("cal_missing_columns", path=path, missing=missing, columns=list(_REQUIRED)))
    problems = []
    value = pd.to_numeric(frame["value"], errors="coerce")
    for i in np.flatnonzero(~(value > 0).to_numpy()):
        problems.append(dict(file=str(path), row=int(i) + 1, column="value", rule="a positive number",
                             value=frame["value"].iloc[i], message=et("cal_row_positive")))
    t = pd.to_numeric(frame["t"], errors="coerce")
    frame = frame.assign(value=value, t=t)
    series: dict[str, np.ndarray] = {}
    for name, g in frame.groupby("series", sort=True):
        g = g.sort_values("t")
        if not np.array_equal(g["t"].to_numpy(), np.arange(1, len(g) + 1)):
            problems.append(dict(file=str(path), row=int(g.index[0]) + 1, column="t", rule="1..N without gaps",
                                 value=name, message=et("cal_row_t", name=name)))
            continue
        series[str(name)] = g["value"].to_numpy(float)
    if problems:
        failures = pd.DataFrame(problems)
        raise DataValidationError(et("cal_problems", path=path, n=len(failures)), failures)
    return frame, series
