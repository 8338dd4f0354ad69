"""Known answers for the target kinds (helpers.model.kinds), the status lifecycle, the official-style
layer (helpers.model.official) and whom a target binds.

The kind tests build the observed series directly (the frame indicator_series returns) and give the
kinds hand-made paths, so every answer is exact; the lifecycle tests run assess_one and assess_all
on the demo data.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers.model import official
from helpers.model.assess import (
    JUDGED,
    OPEN,
    StatusThresholds,
    assess_all,
    assess_one,
    assessment_stage,
    binds_geography,
)
from helpers.model.forecast import ForecastSettings
from helpers.model.kinds import (
    Cumulative,
    EachGovernment,
    FlowEveryYear,
    FlowInYear,
    Future,
    Level,
    MaintainedLevel,
    Milestone,
    PerCapitaLevel,
    YearRate,
    end_time,
    kind_of,
)
from helpers.plan.periods import Quarter
from helpers.plan.registry import Target, default_binds

START, DUE = Quarter(2023, 1), Quarter(2025, 4)


def _ind(plan, ind_id, **target):
    ind = plan.indicator(ind_id)
    return dataclasses.replace(ind, target=dataclasses.replace(ind.target, **target)) if target else ind


def _series(values, first: Quarter, annual=False, numerators=None, denominators=None) -> pd.DataFrame:
    rows = []
    for k, v in enumerate(values):
        q = Quarter(first.year + k, 4) if annual else first + k
        rows.append(dict(period=str(q.year) if annual else str(q), qindex=q.index, year=q.year, quarter=q.q,
                         value=float(v), numerator=np.nan if numerators is None else float(numerators[k]),
                         denominator=np.nan if denominators is None else float(denominators[k])))
    return pd.DataFrame(rows)


def _future(s, annual=False, due=DUE):
    last = Quarter.from_index(int(s["qindex"].iloc[-1]))
    return Future(last, annual, (due.year - last.year) if annual else (due - last))


# --------------------------------------------------------------------------- periods

def test_an_annual_value_is_at_the_end_of_its_year_and_one_step_to_the_next():
    s = _series([1, 2], Quarter(2023, 4), annual=True)
    assert list(end_time(s)) == [2024.0, 2025.0]
    fut = _future(s, annual=True)
    assert fut.steps == 1 and fut.column(DUE) == 0  # 2024 -> 2025 is one step, not 1.875 years
    q = _series([1, 2], Quarter(2025, 1))
    assert list(end_time(q)) == [2025.25, 2025.5]
    assert _future(q).columns_of_year(2025) == [0, 1]


def test_the_kind_is_read_from_the_registry(plan):
    expected = {"public_satisfaction": MaintainedLevel, "deployment_meetings": EachGovernment,
                "ip_trainees": FlowEveryYear, "adjudicators": Milestone, "technical_investigators": Level,
                "high_value_patents_per_10k": PerCapitaLevel, "admin_cases": Cumulative,
                "fast_preexamination": FlowInYear, "mediation_success_rate": YearRate}
    for ind_id, cls in expected.items():
        assert type(kind_of(plan.indicator(ind_id))) is cls, ind_id
    assert kind_of(plan.indicator("police_liaison_coverage")).name == "coverage_share"
    assert kind_of(plan.indicator("valid_invention_patents")) is None


# --------------------------------------------------------------------------- levels

def test_a_level_settles_only_on_its_due_period(plan):
    k = kind_of(plan.indicator("technical_investigators"))  # >= 50 at 2025Q4
    s = _series([40, 45, 52, 55], Quarter(2025, 1))
    assert k.settle(s.iloc[:3]) is None and k.reached(s.iloc[:3])  # met in 2025Q3: reached, still open
    st = k.settle(s)
    assert (st.outcome, st.period, st.early) == ("achieved", "2025Q4", False)
    st = k.settle(_series([40, 45, 52, 49], Quarter(2025, 1)))
    assert (st.outcome, st.period) == ("missed", "2025Q4")


def test_an_annual_level_is_not_achieved_before_its_year_is_observed(plan):
    k = kind_of(plan.indicator("patent_intensive_gdp_share"))  # >= 15% in 2025
    s = _series([14.0, 15.2, 15.6], Quarter(2022, 4), annual=True)  # 2022-2024
    assert k.settle(s) is None and k.reached(s)
    paths = np.array([[14.0], [15.5], [16.0], [15.0]])
    q, ok = k.outcome(s, paths, _future(s, annual=True))
    assert list(ok) == [False, True, True, True] and list(q) == [14.0, 15.5, 16.0, 15.0]


def test_maintained_level_misses_as_soon_as_one_year_misses(plan):
    k = kind_of(plan.indicator("public_satisfaction"))  # 达到并保持80分以上: every year 2023-2025
    assert isinstance(k, MaintainedLevel)
    ok_so_far = _series([83, 81], Quarter(2023, 4), annual=True)
    assert k.settle(ok_so_far) is None
    st = k.settle(_series([83, 79], Quarter(2023, 4), annual=True))
    assert (st.outcome, st.period) == ("missed", "2024")
    st = k.settle(_series([83, 81, 79], Quarter(2023, 4), annual=True))  # 83 -> 81 -> 79: missed in 2025
    assert (st.outcome, st.period) == ("missed", "2025")
    st = k.settle(_series([83, 81, 80], Quarter(2023, 4), annual=True))
    assert (st.outcome, st.period) == ("achieved", "2025")
    # a year before the zone period does not count
    assert k.settle(_series([70, 83], Quarter(2022, 4), annual=True)) is None


def test_milestone_reached_early_is_achieved_early(plan):
    k = kind_of(plan.indicator("adjudicators"))  # >= 20 once by 2025Q4
    s = _series([15, 19, 20, 18], Quarter(2024, 1))
    st = k.settle(s)
    assert (st.outcome, st.period, st.early) == ("achieved", "2024Q3", True)
    # before the period it does not count
    assert k.settle(_series([21, 15], Quarter(2022, 3))) is None
    assert k.settle(_series([15] * 4, Quarter(2025, 1))).outcome == "missed"
    s = _series([19], Quarter(2025, 2))
    paths = np.array([[20, 18], [19, 19], [18, 21]], float)
    q, ok = k.outcome(s, paths, _future(s))
    assert list(ok) == [True, False, True] and list(q) == [20, 19, 20]
    assert k.realised(_series([19, 20, 19], Quarter(2025, 2))) == 20


# --------------------------------------------------------------------------- flows

def test_cumulative_reached_early_and_the_total_from_paths(plan):
    k = kind_of(plan.indicator("high_level_talent"))  # >= 20 over 2023-2025
    s = _series([5, 3, 6, 7, 4], Quarter(2022, 4))  # 2022Q4 is before the period
    st = k.settle(s)
    assert (st.outcome, st.period, st.early) == ("achieved", "2023Q4", True)  # 3+6+7+4 = 20
    assert k.progress(s) == 20
    s = _series([2] * 9, START)  # 18 by 2025Q1
    assert k.settle(s) is None
    paths = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]], float)
    q, ok = k.outcome(s, paths, _future(s))
    assert list(q) == [19, 19, 18] and not ok.any()
    assert k.settle(_series([1] * 12, START)).outcome == "missed"
    assert np.isnan(k.realised(s)) and k.realised(_series([1] * 12, START)) == 12


def test_every_year_flow_misses_in_the_first_year_that_misses(plan):
    k = kind_of(plan.indicator("ip_trainees"))  # >= 1000 every year 2023-2025
    good, bad = [300] * 4, [200] * 4
    st = k.settle(_series(bad + good, START))
    assert (st.outcome, st.period) == ("missed", "2023Q4") and "2023" in st.note
    assert k.settle(_series(good * 2 + [300, 300], START)) is None
    assert k.settle(_series(good * 3, START)).outcome == "achieved"
    s = _series(good * 2 + [300, 300], START)  # 600 so far in 2025
    paths = np.array([[200, 200], [100, 250]], float)
    q, ok = k.outcome(s, paths, _future(s))
    assert list(q) == [1000, 950] and list(ok) == [True, False]


def test_flow_in_the_due_year_only_and_achieved_early_once_over(plan):
    k = kind_of(plan.indicator("fast_preexamination"))  # >= 3000 in 2025
    s = _series([500] * 8 + [2000, 1200], START)  # 2023-2024 do not count
    st = k.settle(s)
    assert (st.outcome, st.period, st.early) == ("achieved", "2025Q2", True)
    assert k.settle(_series([500] * 8 + [1000, 1000], START)) is None
    assert k.settle(_series([500] * 12, START)).outcome == "missed"


def test_a_yearly_rate_is_the_ratio_of_the_years_sums_not_one_quarter(plan):
    k = kind_of(plan.indicator("mediation_success_rate"))  # >= 37% over 2025
    nums, dens = [40] * 4 + [30, 38], [100] * 4 + [100, 100]
    s = _series([n / d * 100 for n, d in zip(nums, dens)], Quarter(2024, 1), numerators=nums, denominators=dens)
    assert k.settle(s) is None
    assert k.progress(s) == pytest.approx(34.0)  # 2025 so far: 68/200, although Q2 alone is 38%
    # rest of the year at 40% on last year's denominators: (68 + 80) / 400 = 37%
    paths = np.array([[40.0, 40.0], [30.0, 30.0]])
    q, ok = k.outcome(s, paths, _future(s))
    assert q == pytest.approx([37.0, 32.0]) and list(ok) == [True, False]
    full = _series([40] * 4 + [30, 38, 40, 40], Quarter(2024, 1), numerators=[40] * 4 + [30, 38, 40, 40],
                   denominators=[100] * 8)
    assert k.realised(full) == pytest.approx(37.0) and k.settle(full).outcome == "achieved"


def test_a_constant_full_rate_meets_a_100_percent_target_despite_rounding(plan):
    t = plan.indicator("foreign_case_guidance_rate").target
    assert t.met(np.float64(29) / 31 * 31 / 29 * 100) and t.met(100 - 1e-12) and not t.met(99.99)


# --------------------------------------------------------------------------- official-style layer

def test_unsd_ratio_of_actual_to_required_growth():
    # from 100 (end of 2022) to 121 two years later: 10% a year; 150 by the end of 2025 needs 14.47%
    ratio, cat = official.progress_ratio([2023.0, 2025.0], [100, 121], 150, "at_least", 2026.0, 2023.0)
    assert ratio == pytest.approx(0.10 / (1.5 ** (1 / 3) - 1)) and cat == "acceleration_needed"
    assert official.progress_ratio([2023.0, 2025.0], [100, 130], 150, "at_least", 2026.0, 2023.0)[1] == "on_track"
    assert official.progress_ratio([2023.0, 2025.0], [100, 102], 150, "at_least", 2026.0, 2023.0)[1] == "limited_progress"
    assert official.progress_ratio([2023.0, 2025.0], [100, 90], 150, "at_least", 2026.0, 2023.0)[1] == "deterioration"
    assert official.progress_ratio([2023.0, 2025.0], [100, 160], 150, "at_least", 2026.0, 2023.0)[1] == "met"
    # at most: 60 days down to 55 against 50 needed: both rates negative, ratio positive
    r, c = official.progress_ratio([2023.0, 2025.0], [60, 55], 50, "at_most", 2026.0, 2023.0)
    assert 0.5 <= r < 0.95 and c == "acceleration_needed"


def test_unsd_baseline_is_the_start_of_the_zone_not_the_first_observation():
    # grew long ago (2021-2022), flat since the baseline: limited progress, not on track
    times, values = [2022.0, 2023.0, 2024.0, 2025.0], [50, 100, 100, 101]
    assert official.progress_ratio(times, values, 150, "at_least", 2026.0, 2023.0)[1] == "limited_progress"


def test_unsd_a_baseline_that_met_the_target_and_fell_below_is_moving_away():
    # 83 -> 81 -> 79 against >= 80: deterioration, never "on track"
    assert official.progress_ratio([2023.0, 2024.0, 2025.0], [83, 81, 79], 80, "at_least", 2026.0, 2023.0) \
        == (pytest.approx(np.nan, nan_ok=True), "deterioration")


def test_unsd_cuts_at_095_05_and_0():
    assert [official.category(x) for x in (1.2, 0.95, 0.94, 0.5, 0.49, 0.0, -0.01)] == [
        "on_track", "on_track", "acceleration_needed", "acceleration_needed", "limited_progress",
        "limited_progress", "deterioration"]


# --------------------------------------------------------------------------- whom a target binds

def test_binds_is_read_from_the_clause(plan, geos):
    assert plan.indicator("high_value_patents_per_10k").target.binds == "city"  # 全市每万人...
    assert plan.indicator("admin_cases").target.binds == "sum_of_districts"
    assert plan.indicator("deployment_meetings").target.binds == "each_district"
    assert plan.indicator("mediation_success_rate").target.binds == "each_district"
    assert default_binds("all", "per_capita", "全市每万人高价值发明专利拥有量50件以上") == "city"
    assert default_binds("all", "ratio_of_sums", "调解成功率37%以上") == "each_district"
    assert "binds: city" in plan.indicator("high_value_patents_per_10k").interpretation
    ind, district = plan.indicator("high_value_patents_per_10k"), geos.get("330127")
    assert binds_geography(ind, geos.city) and not binds_geography(ind, district)
    assert binds_geography(ind, district, hold_districts=True)  # the setting holds districts to it
    assert not binds_geography(plan.indicator("admin_cases"), district, hold_districts=True)


def test_a_district_row_of_a_city_only_target_is_reference(demo_frame, plan, geos):
    fs = ForecastSettings(n_paths=200)
    ind, district = plan.indicator("high_value_patents_per_10k"), geos.get("330127")  # 淳安县
    a = assess_one(demo_frame, ind, district, geos, Quarter(2025, 2), fs)
    assert a.status == "reference" and np.isnan(a.probability) and a.sdg_category == "not_applicable"
    assert np.isfinite(a.progress_value) and a.gap > 0  # its own figure, against the city standard
    held = assess_one(demo_frame, ind, district, geos, Quarter(2025, 2), fs, StatusThresholds(hold_districts=True))
    assert held.status in OPEN + ("achieved", "missed") and held.status != "reference"


def test_a_registry_binding_must_fit_the_indicator(tmp_path, root):
    import yaml

    from helpers.exceptions import RegistryError
    from helpers.plan.registry import load_plan

    doc = yaml.safe_load((root / "params/plans/hangzhou_ipz_2023_2025.yaml").read_text(encoding="utf-8"))
    entry = next(i for i in doc["indicators"] if i["id"] == "public_satisfaction")
    entry["target"]["binds"] = "each_district"
    p = tmp_path / "plan.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RegistryError, match="public_satisfaction.*binds"):
        load_plan(p)


# --------------------------------------------------------------------------- the lifecycle on the demo data

@pytest.fixture(scope="module")
def final(demo_frame, plan, geos):
    table, _ = assess_all(demo_frame, plan, geos, Quarter(2025, 4), ForecastSettings(n_paths=200))
    return table


def test_the_final_quarter_settles_every_judged_row(final, plan):
    assert assessment_stage(plan, Quarter(2025, 4)) == "final"
    assert assessment_stage(plan, Quarter(2025, 3)) == "midterm"
    assert set(final["assessment_stage"]) == {"final"}
    judged = final[final["status"].isin(JUDGED)]
    assert len(judged) > 50 and set(judged["status"]) <= {"achieved", "missed"}
    assert (judged["decided_by"] == "observed").all() and (judged["settled_on"].astype(str) != "").all()
    # the category is the verdict: never "on track" beside a miss
    assert ((judged["status"] == "achieved") == (judged["sdg_category"] == "met")).all()
    assert ((judged["status"] == "missed") == (judged["sdg_category"] == "not_met")).all()
    assert set(final.loc[final["status"] == "reference", "sdg_category"]) == {"not_applicable"}


def test_short_series_get_a_probability(demo_frame, plan, geos):
    fs = ForecastSettings(n_paths=200)  # min_points 8 in the settings; 3 yearly points suffice
    for ind_id in ("copyright_culture_gdp_share", "gi_households", "ip_professionals_trained"):
        a = assess_one(demo_frame, plan.indicator(ind_id), geos.city, geos, Quarter(2025, 2), fs)
        assert a.n_obs < 8 and a.decided_by == fs.engine and 0 <= a.probability <= 1, (ind_id, a.note)
        assert a.status in ("on_track_reached", "on_track", "at_risk", "off_track")


def test_too_short_a_series_is_insufficient_data_not_a_rule_verdict(plan, geos):
    from helpers.data.contract import load_data

    import tempfile
    from pathlib import Path

    rows = [dict(indicator_id="gi_households", geography_code="330100", period=str(y), value=v, numerator="",
                 denominator="", source="test", note="") for y, v in ((2023, 30000), (2024, 33000))]
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "rows.csv"
        pd.DataFrame(rows).to_csv(p, index=False)
        frame = load_data(p, plan, geos).frame
    a = assess_one(frame, plan.indicator("gi_households"), geos.city, geos, Quarter(2025, 2), ForecastSettings(n_paths=50))
    assert (a.status, a.decided_by) == ("insufficient_data", "none") and np.isnan(a.probability)
    assert "2 observations" in a.note


def test_target_dataclass_default_binds_city():
    t = Target("level", "at_least", 1.0, START, DUE)
    assert t.binds == "city" and t.met(1.0)


def test_the_final_assessment_is_labelled_with_the_geographys_counts(final, plan, geos):
    from helpers.pages.stage import stage_banner

    district = geos.get("330106")
    for geo in (geos.city, district):
        rows = final[final["geography_code"] == geo.code]
        achieved, missed = int((rows["status"] == "achieved").sum()), int((rows["status"] == "missed").sum())
        zh = stage_banner(plan, Quarter(2025, 4), final, geo, "zh")
        assert "终期评估" in zh and geo.name_zh in zh and "评估季度 2025年第四季度" in zh and "2025Q4" not in zh
        assert f"已达标 {achieved} 项，未达标 {missed} 项" in zh and "尚未确定" not in zh  # final: no open targets
        en = stage_banner(plan, Quarter(2025, 4), final, geo, "en")
        assert "final assessment" in en and f"achieved {achieved}, missed {missed}" in en
    # a status other than achieved or missed is named as itself (待公布), never "not yet settled"
    pending = final.copy()
    city = pending["geography_code"] == geos.city.code
    pending.loc[pending.index[city & pending["status"].eq("achieved")][:2], "status"] = "pending_publication"
    zh = stage_banner(plan, Quarter(2025, 4), pending, geos.city, "zh")
    assert "待公布 2 项" in zh and "尚未确定" not in zh
    assert "尚未确定" in stage_banner(plan, Quarter(2025, 2), final, geos.city, "zh")  # mid-term keeps it
    assert "中期评估" in stage_banner(plan, Quarter(2025, 2), final, geos.city, "zh")


# --------------------------------------------------------------------------- targets at their bound

def test_a_rate_whose_target_is_its_bound_is_a_beta_binomial_question(plan):
    """100% of key foreign cases guided: continuous paths stay strictly below 100%, so the
    probability is that every remaining case of 2025 is guided, theta ~ Beta(S + 1/2, F + 1/2)."""
    from scipy.special import betaln

    kind = YearRate(plan.indicator("foreign_case_guidance_rate"))
    den = [10, 12, 14, 16] * 2 + [10, 12]  # 2023Q1 .. 2025Q2
    s = _series([100.0] * len(den), START, numerators=den, denominators=den)
    fut = Future(Quarter(2025, 2), False, 2)
    p = kind.exact_probability(s, fut)
    m = 14 + 16  # 2025Q3 and Q4 cases, as many as a year before
    assert p == pytest.approx(np.exp(betaln(sum(den) + 0.5 + m, 0.5) - betaln(sum(den) + 0.5, 0.5)))
    assert 0.8 < p < 1.0  # likely, never certain
    # one case of 2025 not guided: the year's ratio cannot reach 100%
    nums = den[:-1] + [11]
    assert kind.exact_probability(_series([100.0] * 9 + [11 / 12 * 100], START, numerators=nums,
                                          denominators=den), fut) == 0.0
    # a failure earlier in the zone period lowers it
    nums = [9] + den[1:]
    assert kind.exact_probability(_series([90.0] + [100.0] * 9, START, numerators=nums, denominators=den), fut) < p
    # a target below the bound is left to the simulated paths
    assert YearRate(_ind(plan, "foreign_case_guidance_rate", value=90.0)).exact_probability(s, fut) is None


def test_units_covered_are_simulated_as_a_count_of_units(plan, geos, demo_frame):
    """12 of 13 districts with a police liaison officer -> 13 of 13 is a count question: paths are
    whole districts, the probability is strictly between 0 and 1, and the bands end at 100%."""
    from helpers.data.series import indicator_series

    ind = plan.indicator("police_liaison_coverage")
    s = indicator_series(demo_frame, ind, geos.city, geos, Quarter(2025, 2))
    assert kind_of(ind).units(s) is not None and kind_of(ind).units(s)[1] == 13
    fs = dataclasses.replace(ForecastSettings(), n_paths=400)
    a = assess_one(demo_frame, ind, geos.city, geos, Quarter(2025, 2), fs, StatusThresholds())
    assert a.latest_value < 100 and 0.0 < a.probability < 1.0
    assert a.forecast_hi95 <= 100.0
    counts = np.array([b["q500"] for b in a.bands]) / 100 * 13
    assert np.allclose(counts, np.round(counts))  # whole districts
