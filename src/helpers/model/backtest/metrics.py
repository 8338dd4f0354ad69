"""The backtest's summary table, scored with :mod:`helpers.model.scoring` (Brier score with Murphy's
(1973) decomposition, reliability table, interval coverage), the same functions that score the
calibration on real series.
"""

from __future__ import annotations

import pandas as pd

from helpers.model.scoring import N_BINS, brier_decomposition, interval_coverage, reliability_table

__all__ = ["N_BINS", "SUMMARY_COLUMNS", "brier_decomposition", "interval_coverage", "reliability_table", "summarise"]

SUMMARY_COLUMNS = [
    "method", "n", "brier", "reliability", "resolution", "uncertainty", "rel_within_bin", "brier_skill",
    "mean_forecast", "base_rate", "n_intervals", "coverage80", "coverage95",
]


def summarise(per_forecast: pd.DataFrame, n_bins: int = N_BINS) -> pd.DataFrame:
    """The summary table: per method, Brier score and decomposition, interval coverage.

    Only rows with ``scored`` true count. Methods keep their order of first appearance.
    """
    rows = []
    scored = per_forecast[per_forecast["scored"].astype(bool)] if len(per_forecast) else per_forecast
    for method in dict.fromkeys(scored["method"]) if len(scored) else []:
        d = scored[scored["method"] == method]
        d = d[d["probability"].notna() & d["outcome"].notna()]
        b = brier_decomposition(d["probability"].to_numpy(float), d["outcome"].to_numpy(float), n_bins)
        n80, c80 = interval_coverage(d["forecast_lo80"], d["forecast_hi80"], d["realised"])
        _, c95 = interval_coverage(d["forecast_lo95"], d["forecast_hi95"], d["realised"])
        rows.append(dict(method=method, **b, n_intervals=n80, coverage80=c80, coverage95=c95))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
