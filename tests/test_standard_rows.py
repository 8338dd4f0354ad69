"""The 一览表's rows (helpers.pages.standard) stay the same when built faster: from the frame split once
(SeriesIndex) and with a level's year taken in Python (issue 19)."""

from __future__ import annotations

import math

import pandas as pd

from helpers.data.series import SeriesIndex, indicator_series
from helpers.pages import numbers as nb
from helpers.pages.standard import standard_rows, year_measures
from helpers.plan.periods import Quarter

Q = Quarter(2025, 2)


def _level_years_by_pandas(series: pd.DataFrame) -> dict:
    """The year's last period of a level as the table took it before: a stable sort by time and a groupby."""
    s = series[series["value"].notna()]
    periods = s["period"].astype(str)
    s = s.assign(_y=periods.str[:4].astype(int).to_numpy(),
                 _t=[nb.period_time(p) + (0.5 if len(p) == 4 else 0) for p in periods])
    last = s.sort_values("_t", kind="stable").groupby("_y")["value"].last()
    return {int(y): float(v) for y, v in last.items()}


def _is_level(ind) -> bool:
    kind = ind.target.kind if ind.target is not None else ("flow_per_year" if ind.flow else "level")
    return kind != "rate" and not (ind.flow and kind in ("flow_per_year", "cumulative"))


def test_a_levels_years_are_the_last_period_of_each_year_as_before(plan, geos, demo_frame):
    index = SeriesIndex(demo_frame)
    levels = [i for i in plan.indicators if _is_level(i)]
    assert levels
    compared = 0
    for ind in levels:
        for geo in geos.all:
            s = indicator_series(index, ind, geo, geos, Q)
            want = _level_years_by_pandas(s)
            got = year_measures(ind, s)
            assert list(got) == list(want) and all(repr(got[y]) == repr(want[y]) for y in want), (ind.id, geo.code)
            compared += len(want)
    assert compared > 100


def test_a_years_own_row_is_its_level_after_its_quarters_and_missing_values_are_skipped(plan):
    ind = next(i for i in plan.indicators if _is_level(i) and i.target is not None)
    s = pd.DataFrame({"period": ["2024Q4", "2024", "2023", "2025Q1", "2025Q2"], "value": [5.0, 4.0, 3.0, 6.0, math.nan]})
    assert year_measures(ind, s) == {2023: 3.0, 2024: 4.0, 2025: 6.0} == _level_years_by_pandas(s)


def test_rows_from_the_frame_and_from_its_index_are_the_same(plan, geos, demo_frame):
    records = [{"indicator_id": i.id, "status": "on_track", "probability": 0.5, "progress_value": 1.0}
               for i in plan.indicators if i.target is not None]
    index = SeriesIndex(demo_frame)
    for geo in (geos.city, *geos.districts[:2]):  # every series is compared in tests/test_series_index.py
        rows = standard_rows(plan, geo, geos, demo_frame, records, Q, False, "zh")
        assert rows and repr(rows) == repr(standard_rows(plan, geo, geos, index, records, Q, False, "zh"))


def test_rows_from_an_index_keeping_its_series_compute_each_year_measure_once(plan, geos, demo_frame, monkeypatch):
    from helpers.pages import standard

    records = [{"indicator_id": i.id, "status": "on_track", "probability": 0.5, "progress_value": 1.0}
               for i in plan.indicators if i.target is not None]
    counted: list = []

    def counting(ind, series):
        counted.append(ind.id)
        return year_measures(ind, series)

    monkeypatch.setattr(standard, "year_measures", counting)
    monkeypatch.setattr(standard, "_YEAR_MEASURES", {})
    geo = geos.districts[0]
    fresh = standard_rows(plan, geo, geos, SeriesIndex(demo_frame), records, Q, False, "zh")
    kept = SeriesIndex(demo_frame)
    kept.memo = {}
    n = len(counted)
    first = standard_rows(plan, geo, geos, kept, records, Q, False, "zh")
    assert len(counted) == 2 * n  # computed for the kept series too, once
    again = standard_rows(plan, geo, geos, kept, records, Q, False, "zh")
    assert len(counted) == 2 * n  # the same series objects: not again
    assert repr(fresh) == repr(first) == repr(again)
    standard_rows(plan, geo, geos, SeriesIndex(demo_frame), records, Q, False, "zh")
    assert len(counted) == 3 * n  # an index that keeps nothing: computed each time
