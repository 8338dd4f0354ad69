"""Backtests of the assessments, split by job.

* :mod:`.metrics`: the scores (Brier decomposition, reliability table, interval coverage);
* :mod:`.rolling`: the rolling-origin run over the demo (or any) data, through
  :func:`helpers.model.assess.assess_one` and the target kinds of :mod:`helpers.model.kinds`.

The reliability figure and the methodology page's HTML live in :mod:`helpers.pages.backtest`; the
``ipeval backtest`` command, which writes the files and runs the methodology notebook through the
same job runner as every report, in :mod:`helpers.run.backtest`.
"""

from helpers.model.backtest.metrics import (
    N_BINS,
    SUMMARY_COLUMNS,
    brier_decomposition,
    interval_coverage,
    reliability_table,
    summarise,
)
from helpers.model.backtest.rolling import (
    DEFAULT_GEOGRAPHIES,
    DEFAULT_ORIGINS,
    ENSEMBLE,
    FORECAST_COLUMNS,
    RULES,
    RULES_MET,
    SMALL_ORIGINS,
    as_list,
    load_inputs,
    parse_origins,
    run_backtest,
)

__all__ = [
    "DEFAULT_GEOGRAPHIES", "DEFAULT_ORIGINS", "ENSEMBLE", "FORECAST_COLUMNS", "N_BINS", "RULES", "RULES_MET",
    "SMALL_ORIGINS", "SUMMARY_COLUMNS", "as_list", "brier_decomposition", "interval_coverage", "load_inputs",
    "parse_origins", "reliability_table", "run_backtest", "summarise",
]
