"""Completeness before a verdict, and zero cases as data (issue 17), probed on the demo data.

Each test edits a few rows of the complete demo data the way a late or partial district return
does (a return left out, a quarter with no cases) and checks the city's and the district's verdict:
a total is achieved when the returns received already add up to the target, missed only on
complete data, and otherwise 数据缺失 (``data_missing``) with the missing returns listed.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from helpers.model.assess import JUDGED, STATUSES, StatusThresholds, assess_one
from helpers.model.forecast import ForecastSettings
from helpers.model.kinds import YearRate
from helpers.plan.periods import Quarter

FINAL, MID = Quarter(2025, 4), Quarter(2025, 2)


def _drop(frame, ind_id, code, period):
    out = frame[~((frame["indicator_id"] == ind_id) & (frame["geography_code"] == code) & (frame["period"] == period))]
    assert len(out) == len(frame) - 1, "the probe must remove exactly one return"
    return out


def _with_target(ind, **changes):
    return dataclasses.replace(ind, target=dataclasses.replace(ind.target, **changes))


def test_a_total_the_received_returns_already_meet_is_achieved(demo_frame, plan, geos):
    """publicity_events (>= 100 over 2023-2025): one district's 2024Q4 return left out. The city's
    quarter is no longer summed, but what the other districts sent is a lower bound that meets it."""
    ind = plan.indicator("publicity_events")
    frame = _drop(demo_frame, ind.id, "330106", "2024Q4")
    a = assess_one(frame, ind, geos.city, geos, FINAL, ForecastSettings(n_paths=50), fit=False)
    assert a.status == "achieved" and a.decided_by == "observed"
    assert a.missing_returns == "330106:2024Q4"
    assert a.progress_value >= ind.target.value
    complete = assess_one(demo_frame, ind, geos.city, geos, FINAL, ForecastSettings(n_paths=50), fit=False)
    assert complete.missing_returns == "" and complete.progress_value > a.progress_value


def test_a_total_the_missing_return_could_decide_is_data_missing_in_the_final(demo_frame, plan, geos):
    """The yearly total set exactly at its complete value: with one 2025Q4 return left out, the
    lower bound falls short, so neither achieved nor missed but 数据缺失, naming the return."""
    fs = ForecastSettings(n_paths=50)
    base = _with_target(plan.indicator("mediation_cases"), every_year=False)  # the 2025 total only
    total = assess_one(demo_frame, base, geos.city, geos, FINAL, fs, fit=False).progress_value
    ind = _with_target(base, value=float(total))
    assert assess_one(demo_frame, ind, geos.city, geos, FINAL, fs, fit=False).status == "achieved"
    frame = _drop(demo_frame, ind.id, "330108", "2025Q4")
    a = assess_one(frame, ind, geos.city, geos, FINAL, fs)
    assert a.status == "data_missing" and a.status in JUDGED and a.status in STATUSES
    assert a.missing_returns == "330108:2025Q4" and np.isnan(a.probability)
    assert a.sdg_category == "insufficient_data" and a.decided_by == "none"
    # the district that sent its returns is not touched by another's missing one
    d = assess_one(frame, ind, geos.get("330106"), geos, FINAL, fs, fit=False)
    assert d.missing_returns == "" and d.status != "data_missing"


def test_a_missing_quarter_is_not_taken_for_a_short_year(demo_frame, plan, geos):
    """mediation_cases (>= 2,000 every year): one 2024Q3 return left out. The partial 2024 is not
    the year's total: at 2025Q2 the target stays on track as with complete data, not off track p = 0."""
    fs = ForecastSettings(n_paths=200)
    ind = plan.indicator("mediation_cases")
    frame = _drop(demo_frame, ind.id, "330108", "2024Q3")
    a = assess_one(frame, ind, geos.city, geos, MID, fs)
    full = assess_one(demo_frame, ind, geos.city, geos, MID, fs)
    assert a.missing_returns == "330108:2024Q3"
    assert a.status != "off_track" and a.probability > 0.5
    assert abs(a.probability - full.probability) < 0.15


def test_zero_cases_are_not_applicable_and_do_not_block_the_city(demo_frame, plan, geos):
    """A district with no mediations concluded in 2025 reports 0/0 each quarter: 不适用 for it, and
    the city's rate (a ratio of sums) is still judged."""
    ind = plan.indicator("mediation_success_rate")
    assert ind.allows_zero_over_zero
    frame = demo_frame.copy()
    rows = (frame["indicator_id"] == ind.id) & (frame["geography_code"] == "330127") & (frame["year"] == 2025)
    assert rows.sum() == 4
    frame.loc[rows, ["numerator", "denominator", "value"]] = [0.0, 0.0, np.nan]
    fs = ForecastSettings(n_paths=50)
    d = assess_one(frame, ind, geos.get("330127"), geos, FINAL, fs, fit=False)
    assert d.status == "not_applicable" and d.status not in JUDGED and np.isnan(d.probability)
    city = assess_one(frame, ind, geos.city, geos, FINAL, fs, fit=False)
    assert city.status in ("achieved", "missed") and city.missing_returns == ""


def test_the_contract_accepts_no_cases_for_a_rate(plan, geos, tmp_path):
    import pandas as pd

    from helpers.data.contract import load_data

    path = tmp_path / "zero.csv"
    pd.DataFrame([dict(indicator_id="mediation_success_rate", geography_code="330127", period="2025Q1",
                       value="", numerator=0, denominator=0, source="t", note="")]).to_csv(path, index=False)
    frame = load_data(path, plan, geos).frame
    assert len(frame) == 1 and np.isnan(frame["value"].iloc[0])


def test_a_full_rate_with_a_failure_in_its_due_year_is_missed_then(plan):
    """100% of key foreign cases guided: one case of 2025Q1 not guided settles it missed in 2025Q1."""
    import pandas as pd

    kind = YearRate(plan.indicator("foreign_case_guidance_rate"))
    den = [10, 12, 14, 16] * 2 + [10, 12]
    num = den[:8] + [9, 12]
    rows = [dict(period=str(Quarter(2023, 1) + k), qindex=(Quarter(2023, 1) + k).index,
                 year=(Quarter(2023, 1) + k).year, quarter=(Quarter(2023, 1) + k).q,
                 value=n / d * 100, numerator=float(n), denominator=float(d)) for k, (n, d) in enumerate(zip(num, den))]
    st = kind.settle(pd.DataFrame(rows))
    assert st is not None and (st.outcome, st.period) == ("missed", "2025Q1")


def test_decided_by_names_the_beta_binomial(demo_frame, plan, geos):
    ind = plan.indicator("foreign_case_guidance_rate")
    a = assess_one(demo_frame, ind, geos.city, geos, MID, ForecastSettings(n_paths=100), StatusThresholds())
    assert a.decided_by == "beta_binomial" and 0 < a.probability < 1
