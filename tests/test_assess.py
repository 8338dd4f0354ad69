"""Known answers for helpers.model.assess: the probability that a target is met, per target kind.

Each test builds a short synthetic series in the data contract's own format, validates it like a
district file, and assesses one of the plan's real indicators with a target chosen so the answer
is known: a clean trend far past its target is met with probability near 1, far short of it near 0;
a cumulative target already reached is achieved for good; an at-most target is the mirror image
of an at-least one; a rate stays inside its bounds; a year that missed an "every year" target
settles it; a district's share of a city-wide count is not judged against the city's number.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.data.contract import load_data
from helpers.model.assess import StatusThresholds, assess_one, judged_on_city
from helpers.model.forecast import ForecastSettings
from helpers.plan.periods import Quarter

CITY, DISTRICT = "330100", "330106"
AS_OF = Quarter(2024, 4)  # one year before the plan's targets fall due (2025Q4)
FIRST = Quarter(2021, 1)


@pytest.fixture(scope="module")
def fs(settings):
    # fewer paths than the reports use keeps this fast; the known answers are far from the thresholds
    return dataclasses.replace(ForecastSettings.from_mapping(settings.block("forecast")), n_paths=600)


def _rows(indicator_id, code, values=None, numerators=None, denominators=None, first=FIRST) -> list[dict]:
    n = len(values if values is not None else numerators)
    out = []
    for k in range(n):
        q = first + k
        out.append(dict(indicator_id=indicator_id, geography_code=code, period=str(q),
                        value="" if values is None else values[k],
                        numerator="" if numerators is None else numerators[k],
                        denominator="" if denominators is None else denominators[k],
                        source="test", note=""))
    return out


def _frame(rows, plan, geos) -> pd.DataFrame:
    """Write the rows as a district would send them and load them through the data contract."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        return load_data(path, plan, geos).frame


def _with_target(ind, **changes):
    return dataclasses.replace(ind, target=dataclasses.replace(ind.target, **changes))


def _assess(rows, ind, code, plan, geos, fs):
    return assess_one(_frame(rows, plan, geos), ind, geos.get(code), geos, AS_OF, fs, StatusThresholds())


# --------------------------------------------------------------------------- level targets

@pytest.mark.parametrize("target, near", [(30000, 1.0), (80000, 0.0)])
def test_clean_trend_far_from_a_level_target(plan, geos, fs, target, near):
    # digital-economy patents in force: 20,000 rising by 1,000 a quarter -> about 39,000 at 2025Q4
    ind = _with_target(plan.indicator("digital_economy_hv_patents"), value=target)
    values = [20000 + 1000 * k + (50 if k % 2 else -50) for k in range(16)]
    a = _assess(_rows(ind.id, CITY, values), ind, CITY, plan, geos, fs)
    assert a.decided_by == fs.engine
    assert abs(a.probability - near) < 0.05, a
    # 35,000 observed in 2024Q4 already meets 30,000: on track (target level reached) until 2025Q4 is observed
    assert a.status == ("on_track_reached" if near else "off_track")
    assert a.forecast_lo95 <= a.forecast_median <= a.forecast_hi95
    assert 36000 < a.forecast_median < 42000  # the quantity at the due date, not the last value


# --------------------------------------------------------------------------- at-most targets, mirrored

def _ruling_rows(days_per_ruling):
    rulings = [40 + (k % 3) for k in range(len(days_per_ruling))]
    return _rows("ruling_cycle_days", CITY, numerators=[round(d * r) for d, r in zip(days_per_ruling, rulings)],
                 denominators=rulings)


def test_at_most_target_is_mirrored(plan, geos, fs):
    ind = plan.indicator("ruling_cycle_days")  # average ruling cycle <= 50 days in 2025
    assert ind.target.direction == "at_most"
    falling = [80 - 2.5 * k for k in range(16)]  # 80 -> 42.5 days: well under 50 in 2025
    rising = [20 + 2.5 * k for k in range(16)]  # 20 -> 57.5 days: well over 50 in 2025
    down = _assess(_ruling_rows(falling), ind, CITY, plan, geos, fs)
    up = _assess(_ruling_rows(rising), ind, CITY, plan, geos, fs)
    assert down.probability > 0.95 and up.probability < 0.05, (down, up)
    # the same rising series against an at-least target is the mirror image
    flipped = _with_target(ind, direction="at_least")
    up_at_least = _assess(_ruling_rows(rising), flipped, CITY, plan, geos, fs)
    assert up_at_least.probability > 0.95
    assert up_at_least.probability == pytest.approx(1 - up.probability, abs=0.02)


# --------------------------------------------------------------------------- rates stay in bounds

def test_a_rate_near_its_bound_is_simulated_inside_it(plan, geos, fs):
    ind = plan.indicator("mediation_success_rate")  # settled / concluded mediations, percent
    lo, hi = ind.bounds
    rng = np.random.default_rng(7)
    den = [200] * 16
    num = [min(200, int(197 + rng.integers(-3, 3))) for _ in range(16)]  # about 98.5%, noisy
    a = _assess(_rows(ind.id, CITY, numerators=num, denominators=den), ind, CITY, plan, geos, fs)
    assert a.decided_by == fs.engine
    for q in ("forecast_lo95", "forecast_lo80", "forecast_median", "forecast_hi80", "forecast_hi95"):
        assert lo <= getattr(a, q) <= hi, (q, getattr(a, q))
    for band in a.bands:
        assert lo <= band["q025"] and band["q975"] <= hi, band
    assert a.probability > 0.95  # 98.5% against a 37% target


# --------------------------------------------------------------------------- cumulative and yearly flows

def test_a_cumulative_target_already_reached_is_achieved_for_good(plan, geos, fs):
    ind = _with_target(plan.indicator("admin_cases"), value=500)  # cases over 2023Q1-2025Q4
    a = _assess(_rows(ind.id, CITY, [100] * 16), ind, CITY, plan, geos, fs)  # 800 in 2023-2024
    assert (a.status, a.probability, a.decided_by) == ("achieved", 1.0, "observed")
    assert a.progress_value == 800 and a.gap == 0


def test_a_cumulative_target_within_reach_counts_only_the_zone_period(plan, geos, fs):
    # 2021-2022 are before the zone period and must not count: 800 so far, 400 more expected
    ind = _with_target(plan.indicator("admin_cases"), value=1100)
    a = _assess(_rows(ind.id, CITY, [100 + (3 if k % 2 else -3) for k in range(16)]), ind, CITY, plan, geos, fs)
    assert a.progress_value == 800
    assert a.decided_by == fs.engine and a.probability > 0.9
    assert 1100 < a.forecast_median < 1300
    assert a.forecast_lo95 >= a.progress_value  # flows are never simulated below zero


def test_a_year_that_missed_an_every_year_target_settles_it(plan, geos, fs):
    ind = plan.indicator("mediation_cases")  # >= 2000 mediation cases every year of the zone period
    assert ind.target.every_year
    per_quarter = [600] * 8 + [450] * 4 + [600] * 4  # 2023: 1800, missed; 2024: 2400
    a = _assess(_rows(ind.id, CITY, per_quarter), ind, CITY, plan, geos, fs)
    assert (a.status, a.probability, a.settled_on) == ("missed", 0.0, "2023Q4")
    assert "2023" in a.note


# --------------------------------------------------------------------------- districts

def test_a_district_counts_toward_a_city_wide_count_without_being_judged_on_it(plan, geos, fs):
    ind = plan.indicator("admin_cases")  # the city's 1000 cases: no district target in the plan
    assert judged_on_city(ind, geos.get(DISTRICT)) and not judged_on_city(ind, geos.city)
    a = _assess(_rows(ind.id, DISTRICT, [100] * 16), ind, DISTRICT, plan, geos, fs)
    assert a.status == "reference" and a.sdg_category == "not_applicable"
    assert np.isnan(a.probability) and np.isnan(a.gap)
    assert a.progress_value == 800  # its own contribution is still reported


def test_a_district_is_held_to_a_rate_standard(plan, geos, fs):
    ind = plan.indicator("mediation_success_rate")  # ratio of sums: a standard every district can meet
    assert not judged_on_city(ind, geos.get(DISTRICT))
    a = _assess(_rows(ind.id, DISTRICT, numerators=[20] * 16, denominators=[100] * 16), ind, DISTRICT, plan, geos, fs)
    assert a.status == "off_track" and a.probability < 0.05  # 20% against 37%


def test_identical_inputs_give_identical_numbers(plan, geos, fs):
    ind = plan.indicator("digital_economy_hv_patents")
    rows = _rows(ind.id, CITY, [20000 + 900 * k + (k % 3) * 300 for k in range(16)])
    one, two = (_assess(rows, ind, CITY, plan, geos, fs) for _ in range(2))
    assert one.row() == two.row() and one.bands == two.bands


# --------------------------------------------------------------------------- the jobs of assess_all

def test_each_job_gets_the_rows_its_series_needs(demo_frame, plan, geos):
    """A job is sent its indicator's rows known at the quarter, not the whole frame: its series (the city's
    summed from the districts' rows) and its missing returns are the same as from the whole frame."""
    from helpers.data.series import indicator_series, missing_returns
    from helpers.model.assess import applicable, indicator_rows

    q = Quarter(2025, 2)
    rows = indicator_rows(demo_frame, q)
    assert sum(map(len, rows.values())) == int((demo_frame["qindex"] <= q.index).sum()) < len(demo_frame)
    checked = set()
    for ind in plan.indicators:
        mine = rows[ind.id]
        assert set(mine["indicator_id"]) == {ind.id} and mine["qindex"].max() <= q.index
        assert list(mine.index) == sorted(mine.index)  # the frame's order: ties sort the same way
        for geo in (geos.get(CITY), geos.get(DISTRICT)):
            if not applicable(ind, geo):
                continue
            pd.testing.assert_frame_equal(indicator_series(mine, ind, geo, geos, q),
                                          indicator_series(demo_frame, ind, geo, geos, q))
            first = Quarter(2023, 1)
            assert missing_returns(mine, ind, geo, geos, first, q) == missing_returns(demo_frame, ind, geo, geos, first, q)
            checked.add((ind.aggregation, geo.is_city))
    assert {("sum", True), ("ratio_of_sums", True), ("sum", False)} <= checked  # the city's sums were among them


def test_the_pool_gives_the_serial_results(demo_frame, plan, geos, fs):
    """Two worker processes (fed each job's rows) give the table and bands of one process, to the last digit."""
    from helpers.model.assess import assess_all

    few = dataclasses.replace(fs, n_paths=200)
    q = Quarter(2025, 2)
    serial = assess_all(demo_frame, plan, geos, q, few, geographies=[CITY, DISTRICT], workers=1)
    pooled = assess_all(demo_frame, plan, geos, q, few, geographies=[CITY, DISTRICT], workers=2)
    assert len(serial[0]) > 8  # enough jobs for the pool
    pd.testing.assert_frame_equal(pooled[0], serial[0], check_exact=True)
    pd.testing.assert_frame_equal(pooled[1], serial[1], check_exact=True)


def _interrupted_at_the_first(job):
    n, folder = job
    if n == 0:
        raise KeyboardInterrupt("Ctrl-C")  # comes back to the parent as it would from a signal
    import time

    time.sleep(0.02)
    (Path(folder) / str(n)).touch()


def test_an_interrupt_does_not_wait_for_the_queued_fits(tmp_path):
    """Ctrl-C during the fits returns at once: the chunks not started are cancelled (by ``map``) and those
    already handed to the workers (3 chunks of 25 here, 0.5 s each) are not waited for."""
    from helpers.model.fitpool import map_jobs

    jobs = [(n, str(tmp_path)) for n in range(200)]
    with pytest.raises(KeyboardInterrupt):
        list(map_jobs(_interrupted_at_the_first, jobs, 2))
    assert len(list(tmp_path.iterdir())) < 50  # waiting for them would leave 75


def test_the_fit_workers_start_with_the_model_imported():
    """The fork server imported the model before forking: a worker has it before running anything (``eval``,
    a builtin, is all the job brings), so no worker imports it again."""
    from helpers.model.fitpool import map_jobs

    probe = "sorted(m for m in ('helpers.model.assess', 'scipy.special') if m in __import__('sys').modules)"
    assert list(map_jobs(eval, [probe], 1)) == [["helpers.model.assess", "scipy.special"]]
