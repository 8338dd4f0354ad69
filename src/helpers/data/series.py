"""An indicator's series for one geography, the city built from its districts.

How districts add up to the city is the registry's ``aggregation``:

* ``sum``: counts and amounts add up;
* ``ratio_of_sums``: a rate for the city is the sum of numerators over the sum of denominators,
  never an average of district percentages;
* ``per_capita``: the sum of district counts over the city's population;
* ``each``: every geography is judged on its own figures (the city reports its own);
* ``none``: the indicator is reported for the city only.

Where the city reports a figure itself for a period, that figure is used; otherwise the city's
figure for a period exists only when every district has reported it (a partial sum would
understate the city, so it is treated as missing and flagged in the data-quality section).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.plan.geography import Geographies, Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator

SERIES_COLUMNS = ["period", "qindex", "year", "quarter", "value", "numerator", "denominator", "count", "origin"]


def _per_capita(count: pd.Series, years: pd.Series, geo: Geography) -> pd.Series:
    pop_10k = years.map(lambda y: geo.population_in(int(y)) / 1e4)
    return count / pop_10k


def indicator_series(frame: pd.DataFrame, indicator: Indicator, geo: Geography, geos: Geographies,
                     as_of: Quarter | None = None) -> pd.DataFrame:
    """The observed series of ``indicator`` for ``geo``, up to ``as_of``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Validated data (:attr:`helpers.data.contract.Dataset.frame`).
    indicator, geo, geos
        What to build, for where, and the district list used to aggregate the city.
    as_of : Quarter, optional
        Only periods that have ended by this quarter are used (a year counts once its Q4 has).

    Returns
    -------
    pandas.DataFrame
        One row per period, ordered, with ``value`` (in the indicator's unit) and, where they
        apply, ``numerator``, ``denominator`` and ``count`` (the per-capita numerator);
        ``origin`` says whether the city row was reported or aggregated.
    """
    rows = frame[frame["indicator_id"] == indicator.id]
    if as_of is not None:
        rows = rows[rows["qindex"] <= as_of.index]
    own = rows[rows["geography_code"] == geo.code].copy()
    own["origin"] = "reported"
    aggregate = geo.is_city and indicator.aggregation in ("sum", "ratio_of_sums", "per_capita")
    if aggregate:
        district_codes = [d.code for d in geos.districts]
        d = rows[rows["geography_code"].isin(district_codes)]
        g = d.groupby(["qindex", "period", "year", "quarter"], as_index=False).agg(
            value=("value", "sum"), numerator=("numerator", "sum"), denominator=("denominator", "sum"),
            reporting=("geography_code", "nunique"))
        g = g[g["reporting"] == len(district_codes)].drop(columns="reporting")
        if indicator.aggregation == "ratio_of_sums":
            g["value"] = g["numerator"] / g["denominator"] * indicator.scale
        g["origin"] = "aggregated"
        g = g[~g["qindex"].isin(own["qindex"])]
        own = pd.concat([own, g], ignore_index=True)
    out = own.sort_values("qindex").reset_index(drop=True)
    if indicator.measure == "per_capita":
        out["count"] = out["value"]
        out["value"] = _per_capita(out["count"], out["year"], geo)
    else:
        out["count"] = np.nan
    for col in SERIES_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    return out[SERIES_COLUMNS]


def periods_between(indicator: Indicator, first: Quarter, last: Quarter) -> list[Quarter]:
    """The periods of ``indicator``'s frequency that have ended from ``first`` to ``last`` (a year is its Q4).

    A year is expected only once its fourth quarter is within ``last``: at 2025Q2 the year 2025
    has not ended, so its annual figure is not yet missing.
    """
    if indicator.frequency == "annual":
        return [Quarter(y, 4) for y in range(first.year, last.year + 1) if first <= Quarter(y, 4) <= last]
    return [Quarter.from_index(i) for i in range(first.index, last.index + 1)]
