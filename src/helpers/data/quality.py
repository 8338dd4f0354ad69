"""Data-quality checks shown in every report: missing periods, late values, revisions, outliers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.series import SeriesIndex, indicator_series, periods_between
from helpers.plan.periods import Quarter

REVISION_WORDS = ("revised", "revision", "修订", "更正", "调整")


def robust_outliers(values: np.ndarray, threshold: float = 3.5) -> np.ndarray:
    """Indexes of points whose change from the previous point is an outlier by the modified z-score
    (Iglewicz & Hoaglin: 0.6745 (x - median) / MAD > 3.5), on first differences so trends are not flagged."""
    if len(values) < 5:
        return np.array([], dtype=int)
    d = np.diff(values)
    med = np.median(d)
    mad = np.median(np.abs(d - med))
    if mad == 0:
        return np.array([], dtype=int)
    z = 0.6745 * (d - med) / mad
    return np.where(np.abs(z) > threshold)[0] + 1


def quality_table(frame: pd.DataFrame | SeriesIndex, indicators, geo, geos, as_of: Quarter,
                  first: Quarter = Quarter(2021, 1)) -> dict:
    """Per indicator id: texts listing missing periods, late values, revised values and outliers.

    ``frame`` is the validated data or its :class:`~helpers.data.series.SeriesIndex`; a page's table
    splits the frame once instead of filtering it whole twice per indicator (the same rows).
    """
    index = SeriesIndex.of(frame)
    out = {}
    for ind in indicators:
        s = indicator_series(index, ind, geo, geos, as_of)
        have = set(s.loc[s["value"].notna(), "qindex"].astype(int))
        expected = periods_between(ind, first, as_of)
        label = (lambda q: str(q.year)) if ind.frequency == "annual" else str
        missing = [label(q) for q in expected if q.index not in have]
        rows = index.rows(ind.id, as_of)
        late = ""
        if geo.is_city and not ind.city_only and ind.aggregation != "each" and len(rows):
            newest = rows["qindex"].max()
            reported = set(rows.loc[rows["qindex"] == newest, "geography_code"])
            absent = [d.name_zh for d in geos.districts if d.code not in reported]
            if absent:
                late = f"{label(Quarter.from_index(int(newest)))}: " + "、".join(absent)
        elif not ind.city_only or geo.is_city:
            newest_all = rows["qindex"].max() if len(rows) else None
            if newest_all is not None and newest_all not in have and not (ind.city_only and not geo.is_city):
                late = label(Quarter.from_index(int(newest_all)))
        own = rows if geo.is_city and ind.aggregation in ("sum", "ratio_of_sums", "per_capita") else rows[rows["geography_code"] == geo.code]
        rev = own[own["note"].astype(str).str.lower().str.contains("|".join(REVISION_WORDS), regex=True)]
        revised = ", ".join(sorted(set(rev["period"].astype(str))))
        vals = s[s["value"].notna()]
        idx = robust_outliers(vals["value"].to_numpy(float))
        outliers = ", ".join(str(vals["period"].iloc[i]) for i in idx)
        out[ind.id] = dict(missing=", ".join(missing), late=late, revised=revised, outliers=outliers)
    return out
