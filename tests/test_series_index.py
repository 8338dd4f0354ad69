"""The frame split once (helpers.data.series.SeriesIndex) gives the very series the frame gives.

The 一览表, the charts, the workbook and the documents build their series from the index to save time
(issue 19); a reader must see the same numbers, so the series must be identical, not close: the same
rows, in the same order (a city's sum adds the districts in the frame's order), the same dtypes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.data.series import SeriesIndex, indicator_series
from helpers.plan.periods import Quarter

QUARTERS = (Quarter(2025, 2), Quarter(2024, 4))


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("quarter", QUARTERS, ids=str)
def test_every_indicator_and_geography_of_the_demo_data_is_the_same_from_the_index(plan, geos, demo_frame, quarter):
    index = SeriesIndex(demo_frame)
    built = 0
    for ind in plan.indicators:
        for geo in geos.all:
            old = indicator_series(demo_frame, ind, geo, geos, quarter)
            _same(old, indicator_series(index, ind, geo, geos, quarter))
            built += len(old) > 0
    assert built > len(plan.indicators) * len(geos.all) // 2  # the comparison is of real series, not empty ones


def test_the_same_without_an_as_of_quarter_and_from_a_shuffled_frame(plan, geos, demo_frame):
    """Rows in another order: the index keeps the frame's order, so the city's sums add up as the filter's do."""
    shuffled = demo_frame.sample(frac=1.0, random_state=7)
    index = SeriesIndex(shuffled)
    for ind in plan.indicators:
        for geo in (geos.city, geos.districts[0]):
            _same(indicator_series(shuffled, ind, geo, geos, None), indicator_series(index, ind, geo, geos, None))


def test_an_indicator_or_geography_without_rows_gives_the_same_empty_series(plan, geos, demo_frame):
    ind = plan.indicators[0]
    without = demo_frame[demo_frame["indicator_id"] != ind.id]
    index = SeriesIndex(without)
    for geo in (geos.city, geos.districts[0]):
        old = indicator_series(without, ind, geo, geos, QUARTERS[0])
        assert old.empty
        _same(old, indicator_series(index, ind, geo, geos, QUARTERS[0]))
    one_district = demo_frame[demo_frame["geography_code"] != geos.districts[1].code]
    index = SeriesIndex(one_district)
    for other in plan.indicators:  # the city's sum where a district never reported: no aggregated period
        _same(indicator_series(one_district, other, geos.city, geos, QUARTERS[0]),
              indicator_series(index, other, geos.city, geos, QUARTERS[0]))


def test_of_keeps_an_index_and_indexes_a_frame(demo_frame):
    index = SeriesIndex.of(demo_frame)
    assert SeriesIndex.of(index) is index
    assert index.frame is demo_frame
    ids = demo_frame["indicator_id"].iloc[0], demo_frame["geography_code"].iloc[0]
    rows = index.own(*ids)
    mask = (demo_frame["indicator_id"] == ids[0]) & (demo_frame["geography_code"] == ids[1])
    assert list(rows.index) == list(demo_frame.index[mask.to_numpy()])


def test_a_frame_with_periods_as_floats_takes_the_general_path_and_the_same_series(plan, geos, demo_frame):
    floats = demo_frame.assign(qindex=demo_frame["qindex"].astype(float))
    index = SeriesIndex(floats)
    assert not index.sortable and SeriesIndex(demo_frame).sortable
    for ind in plan.indicators[:6]:
        for geo in (geos.city, geos.districts[0]):
            _same(indicator_series(floats, ind, geo, geos, QUARTERS[0]), indicator_series(index, ind, geo, geos, QUARTERS[0]))


def test_missing_returns_from_the_index_are_the_frames(plan, geos, demo_frame):
    """Each Gap equal (its lower bound's float repr too) for every indicator, for the city and the district whose
    last two quarters are missing, and for another district."""
    from helpers.data.series import missing_returns

    quarter, gone = QUARTERS[0], geos.districts[2]
    late = demo_frame[(demo_frame["geography_code"] != gone.code) | (demo_frame["qindex"] < quarter.index - 1)]
    index = SeriesIndex(late)
    found = 0
    for ind in plan.indicators:
        for geo in (geos.city, gone, geos.districts[0]):
            old = missing_returns(late, ind, geo, geos, Quarter(2023, 1), quarter)
            assert repr(old) == repr(missing_returns(index, ind, geo, geos, Quarter(2023, 1), quarter))
            found += len(old)
    assert found > len(plan.indicators)


def test_a_shared_index_keeps_its_series_and_gives_the_same_ones(plan, geos, demo_frame, monkeypatch):
    """The fork server builds every series once (pages/context.py `_share_series`); a page forked from it
    reads them through SeriesIndex.of(its frame): the same frames, built once."""
    from helpers.data import series as series_module

    monkeypatch.setattr(series_module, "_SHARED", {})
    frame = demo_frame.copy()
    quarter = QUARTERS[0]
    shared = SeriesIndex.share(frame)
    assert SeriesIndex.of(frame) is shared
    assert SeriesIndex.of(frame.copy()) is not shared  # another frame, even equal, gets its own
    plain = SeriesIndex(demo_frame)
    for ind in plan.indicators[:6]:
        for geo in (geos.city, geos.districts[0]):
            first = indicator_series(SeriesIndex.of(frame), ind, geo, geos, quarter)
            assert indicator_series(shared, ind, geo, geos, quarter) is first  # kept, not built again
            _same(first, indicator_series(plain, ind, geo, geos, quarter))
            assert indicator_series(plain, ind, geo, geos, quarter) is not indicator_series(plain, ind, geo, geos, quarter)
    assert plain.memo is None and len(shared.memo) == 12


def test_the_fork_server_shares_the_run_series_with_its_pages(plan, geos, demo_frame, monkeypatch):
    from helpers.data import series as series_module
    from helpers.pages import context

    monkeypatch.setattr(series_module, "_SHARED", {})
    frame = demo_frame.copy()
    context._share_series(frame, plan, geos, QUARTERS[0])
    index = SeriesIndex.of(frame)
    assert index.memo is not None and len(index.memo) == len(plan.indicators) * len(geos.all)
    ind = plan.indicators[0]
    _same(index.memo[(ind.id, geos.city.code, QUARTERS[0].index)],
          indicator_series(demo_frame, ind, geos.city, geos, QUARTERS[0]))
