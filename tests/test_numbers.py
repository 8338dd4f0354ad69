"""Known answers for every number the reports derive (helpers.pages.numbers)."""

from __future__ import annotations

import math

import pytest

from helpers.pages import numbers as nb


@pytest.mark.parametrize("x, unit, want", [
    (1147, "人次", "1,147"),
    (1147.4, "件", "1,147"),
    (80, None, "80.0"),
    (11.65, "%", "11.7"),          # half up on the decimal written (f"{11.65:.1f}" is '11.6')
    (15.96, "%", "16.0"),
    (67, "%", "67.0"),             # never '67' beside '67.3'
    (67.34, "%", "67.3"),
    (11.654, "件/万人", "11.65"),
    (-0.04, "%", "0.0"),           # no '-0.0'
    (None, "件", "—"),
    (float("nan"), "件", "—"),
    ("", "件", "—"),
    (2859, "件", "2,859"),
])
def test_one_formatter_decimals_by_unit(x, unit, want):
    assert nb.fmt_number(x, unit) == want


@pytest.mark.parametrize("unit, fmt", [("件", "#,##0"), ("%", "#,##0.0"), ("亿元", "#,##0.00")])
def test_workbook_format_matches_the_text_and_never_shows_a_trailing_point(unit, fmt):
    assert nb.excel_format(unit) == fmt
    assert not nb.excel_format(unit).endswith(".")


@pytest.mark.parametrize("v0, t0, target, tdue, want", [
    # 地理标志惠及农户: 1,301 a year over 3.5 years is 1,518 over the 3 years the observed pace counts
    (0.0, 2022.5, 1301 * 3.5, nb.due_time(2025, 4, annual=True), 1517.8),
    (100.0, nb.period_time("2022Q4"), 120.0, nb.due_time(2025, 4, annual=False), 20 / 3),
    (50.0, 2025.5, 60.0, 2025.5, math.nan),   # no time left
    (None, 2022.5, 60.0, 2025.5, math.nan),
])
def test_required_pace_counts_the_years_the_observed_pace_counts(v0, t0, target, tdue, want):
    got = nb.required_pace(v0, t0, target, tdue)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=0.05)


def test_required_and_observed_pace_share_their_years():
    t0, t1 = nb.period_time("2022"), nb.period_time("2025")
    assert t1 - t0 == 3 and nb.due_time(2025, 4, annual=True) == t1
    assert nb.observed_pace(1000, t0, 4000, t1) == 1000
    # a series that grew at exactly the pace needed reaches the target
    need = nb.required_pace(1000, t0, 4000, nb.due_time(2025, 4, annual=True))
    assert need == nb.observed_pace(1000, t0, 4000, t1)


@pytest.mark.parametrize("value, target, direction, want", [
    (1147, 1000, "at_least", 0.0), (828, 1000, "at_least", 172.0), (55, 50, "at_most", 5.0),
    (45, 50, "at_most", 0.0), (None, 10, "at_least", math.nan)])
def test_shortfall(value, target, direction, want):
    got = nb.shortfall(value, target, direction)
    assert (math.isnan(got) and math.isnan(want)) or got == want


def test_missed_every_year_target_has_a_gap_from_the_year_it_missed():
    # 人才教育培训: 2025 met (1,147 >= 1,000) but 2023 missed: the gap is 2023's, never 0
    assert nb.missed_gap({2023: 880, 2024: 1010, 2025: 1147}, 1000) == 120
    assert nb.missed_gap({2023: 60, 2024: 52}, 50, "at_most") == 10
    assert math.isnan(nb.missed_gap({}, 1))


@pytest.mark.parametrize("now, before, base, want", [
    (155.3, 110.2, 100.0, 0.553),   # the publication's own base gives its quoted 55.3%
    (155.3, 110.2, None, 155.3 / 110.2 - 1),
    (10, 0, None, math.nan), (None, 5, None, math.nan)])
def test_growth_uses_the_published_base_where_one_exists(now, before, base, want):
    got = nb.growth(now, before, base)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)


@pytest.mark.parametrize("values, higher, want", [
    ([100.0] * 13, True, [1] * 13),
    ([100, 100, 90, 80, 80, 70], True, [1, 1, 3, 4, 4, 6]),
    ([3, 1, 1, None], False, [3, 1, 1, None]),
    ([], True, []),
])
def test_ranks_share_ties(values, higher, want):
    assert nb.shared_ranks(values, higher) == want


@pytest.mark.parametrize("a, b, want", [(32.6, 28.8, "3.8个百分点"), (27.3, 32.6, "5.3个百分点"), (None, 1, "—")])
def test_rate_differences_are_percentage_points(a, b, want):
    assert nb.fmt_pct_points(a, b) == want


def test_yearly_rates_come_from_the_years_sums_not_one_quarter():
    # 淳安县: the year's rate rose 27.3% -> 32.6% although the last quarter's alone fell
    rows = [("2024Q1", 30, 100), ("2024Q2", 20, 100), ("2024Q3", 29.2, 100), ("2024Q4", 30, 100),
            ("2025Q1", 40, 100), ("2025Q2", 35, 100), ("2025Q3", 30.4, 100), ("2025Q4", 25, 100)]
    r = nb.yearly_rates(rows)
    assert r[2024] == pytest.approx(27.3) and r[2025] == pytest.approx(32.6)
    assert r[2025] - r[2024] > 0 > 25 / 100 * 100 - 30  # the quarter alone says the opposite


@pytest.mark.parametrize("values, unit, expected", [
    ([30.7, 34.0, 37.0, 38.46], "%", ["30.7", "34.0", "37.0", "38.5"]),  # a rate column: one decimal throughout
    ([312, 338.0, 153], "件", ["312", "338", "153"]),  # counts: whole
    ([1234.5, 12.0], "%", ["1,234.5", "12.0"]),
    ([float("nan"), None, 5.0], "%", ["—", "—", "5.0"]),
])
def test_a_district_table_column_has_its_units_decimals(values, unit, expected):
    """The district comparison's year columns (pages/analysis_blocks.district_years) print with fmt_number."""
    assert [nb.fmt_number(v, unit) for v in values] == expected
