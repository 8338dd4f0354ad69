"""The data contract as a pandera schema: its columns, and the rules every row must meet.

:func:`build_schema` is the schema for one plan and its geographies: a check per column (a known
indicator and geography, a period in range, figures that are numbers) and the row rules that
involve several columns, each named after its rule (:data:`helpers.data.validation.RULES` says
what each means and which column a user should fix). The contract itself is described in
:mod:`helpers.data.contract` and ``docs/data_contract.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa

from helpers.plan.geography import Geographies
from helpers.plan.periods import QUARTER_RE, YEAR_RE, latest_complete_quarter
from helpers.plan.registry import Plan

REQUIRED_COLUMNS = ("indicator_id", "geography_code", "period", "value", "numerator", "denominator", "source", "note")
NUMERIC_COLUMNS = ("value", "numerator", "denominator")
# Columns the Excel template adds for people; accepted and ignored on load.
DISPLAY_COLUMNS = ("indicator_name", "geography_name", "unit", "指标名称", "地区", "单位")
FAILURE_COLUMNS = ["file", "row", "column", "rule", "value", "message"]
#: Problems listed one by one; beyond, only their counts by rule (a file of millions of bad rows
#: must not take minutes and gigabytes to describe).
MAX_LISTED = 1000


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.replace(",", "", regex=False).str.strip().replace("", np.nan),
                         errors="coerce")


def _blank(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().eq("")


#: How far the districts of a summed count may exceed the city figure before it is an error:
#: 0.1%, the rounding of 13 parts reported in whole units or one decimal.
SUM_TOLERANCE = 0.001


def build_schema(plan: Plan, geos: Geographies) -> pa.DataFrameSchema:
    """The pandera schema of the data contract for this plan and these geographies.

    Row-level rules that involve several columns (a rate within its unit's range, numerator above
    denominator, a city-only indicator reported for a district) are dataframe checks named after
    the rule; :func:`helpers.data.validation.validate_frame` maps them back to the column a user should fix.
    """
    ind = {i.id: i for i in plan.indicators}
    period_in_range = _period_in_range(plan)

    str_col: dict[str, Any] = dict(dtype=str, nullable=True, coerce=True)
    return pa.DataFrameSchema(
        columns={
            "indicator_id": pa.Column(str, pa.Check.isin(sorted(ind), name="known_indicator"), coerce=True),
            "geography_code": pa.Column(str, pa.Check.isin(geos.codes, name="known_geography"), coerce=True),
            "period": pa.Column(str, [pa.Check.str_matches(r"^\d{4}(Q[1-4])?$", name="period_format"),
                                      pa.Check(period_in_range, name="period_in_range")], coerce=True),
            "value": pa.Column(checks=_number_checks(), **str_col),
            "numerator": pa.Column(checks=_number_checks(), **str_col),
            "denominator": pa.Column(checks=_number_checks(), **str_col),
            "source": pa.Column(**str_col),
            "note": pa.Column(**str_col),
        },
        checks=[*_figure_checks(plan), *_place_checks(plan, geos)],
        unique=["indicator_id", "geography_code", "period"],
        report_duplicates="all",
        strict=False,
        name="ipeval data contract",
    )


def _number_checks() -> list[pa.Check]:
    """The checks of a figure column (value, numerator, denominator): a number or blank, and finite."""

    def numeric_or_blank(s: pd.Series) -> pd.Series:
        return _blank(s) | _num(s).notna()

    def finite(s: pd.Series) -> pd.Series:
        # "inf", "-inf" and 1e309 parse as numbers; an infinite denominator would become a value of 0
        v = _num(s)
        return v.isna() | np.isfinite(v)

    return [pa.Check(numeric_or_blank, name="numeric"), pa.Check(finite, name="finite_number")]


def _period_in_range(plan: Plan):
    """The check of the period column: from the plan's first data year to the last ended quarter."""
    first, last = plan.data_from, latest_complete_quarter()

    def period_in_range(s: pd.Series) -> pd.Series:
        p = s.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
        m = p.str.extract(r"^(\d{4})(?:Q([1-4]))?$")
        ok = m[0].notna()
        year = pd.to_numeric(m[0], errors="coerce")
        q = pd.to_numeric(m[1], errors="coerce").fillna(4)
        idx = year * 4 + q - 1
        return ~ok | ((idx >= first.index) & (idx <= last.index))

    return period_in_range


def _figure_checks(plan: Plan) -> list[pa.Check]:
    """The row rules on a row's figures: present, not negative, a denominator above zero, a share's
    numerator not above its denominator, within the range the unit allows."""
    ratio = {i.id for i in plan.indicators if i.uses_ratio}
    share = {i.id for i in plan.indicators if i.numerator_le_denominator}
    # "not applicable" ratios (registry: zero_denominator) may be 0/0: nothing to count there
    zero_ok = {i.id for i in plan.indicators if i.allows_zero_over_zero}
    lower = {i.id: i.bounds[0] for i in plan.indicators}
    upper = {i.id: i.bounds[1] for i in plan.indicators}
    scale = {i.id: i.scale for i in plan.indicators}

    def value_present(df):
        needs_value = ~df["indicator_id"].isin(ratio)
        return ~needs_value | ~_blank(df["value"])

    def parts_present(df):
        is_ratio = df["indicator_id"].isin(ratio)
        return ~is_ratio | (~_blank(df["numerator"]) & ~_blank(df["denominator"])) | ~_blank(df["value"])

    def not_negative(col):
        return lambda df: ~(_num(df[col]) < 0)

    def denominator_positive(df):
        n, d = _num(df["numerator"]), _num(df["denominator"])
        not_applicable = df["indicator_id"].isin(zero_ok) & (d == 0) & (n == 0)
        return ~(df["indicator_id"].isin(ratio) & d.notna() & (d <= 0) & ~not_applicable)

    def numerator_le_denominator(df):
        n, d = _num(df["numerator"]), _num(df["denominator"])
        return ~(df["indicator_id"].isin(share) & (d > 0) & (n > d))

    def within_bounds(df):
        v = _num(df["value"])
        n, d = _num(df["numerator"]), _num(df["denominator"])
        k = df["indicator_id"].map(scale).astype(float)
        v = v.where(v.notna(), n / d.where(d > 0) * k)
        lo = pd.to_numeric(df["indicator_id"].map(lower), errors="coerce")
        hi = pd.to_numeric(df["indicator_id"].map(upper), errors="coerce")
        return ~((v < lo) | (v > hi))

    return [
        pa.Check(value_present, name="value_required"),
        pa.Check(parts_present, name="numerator_and_denominator_required"),
        pa.Check(not_negative("value"), name="value_not_negative"),
        pa.Check(not_negative("numerator"), name="numerator_not_negative"),
        pa.Check(denominator_positive, name="denominator_positive"),
        pa.Check(numerator_le_denominator, name="numerator_not_above_denominator"),
        pa.Check(within_bounds, name="value_within_unit_range"),
    ]


def _place_checks(plan: Plan, geos: Geographies) -> list[pa.Check]:
    """The row rules on where and when: a city-only indicator for the city alone, the period of the
    indicator's frequency, the districts of a summed count not above the city."""
    ind = {i.id: i for i in plan.indicators}
    city_only = {i.id for i in plan.indicators if i.city_only}
    annual = {i.id for i in plan.indicators if i.frequency == "annual"}
    city_code = geos.city.code
    summed = {i.id for i in plan.indicators if i.aggregation == "sum"}
    district_codes = [g.code for g in geos.districts]

    def geography_allowed(df):
        return ~(df["indicator_id"].isin(city_only) & (df["geography_code"].astype(str) != city_code))

    def period_matches_frequency(df):
        p = df["period"].astype(str).str.strip()
        is_annual = df["indicator_id"].isin(annual)
        is_year = p.str.match(YEAR_RE.pattern)
        is_quarter = p.str.match(QUARTER_RE.pattern)
        return ~((is_annual & is_quarter) | (~is_annual & df["indicator_id"].isin(ind) & is_year))

    def districts_not_above_city(df):
        # the city row of a summed count fails when its districts add up to more: a district
        # counted twice, or a city figure too low. The city may exceed the sum (municipal bodies'
        # own work belongs to no district); the tolerance absorbs rounding of the parts.
        ids = df["indicator_id"].astype(str).str.strip()
        geo = df["geography_code"].astype(str).str.strip()
        per = df["period"].astype(str).str.strip()
        v = _num(df["value"])
        parts = ids.isin(summed) & geo.isin(district_codes) & v.notna()
        totals = v[parts].groupby([ids[parts], per[parts]]).sum()
        district_total = pd.Series(totals.reindex(pd.MultiIndex.from_arrays([ids, per])).to_numpy(), index=df.index)
        city = ids.isin(summed) & (geo == city_code) & v.notna()
        return ~(city & (district_total > v * (1 + SUM_TOLERANCE) + 1e-9))

    return [
        pa.Check(geography_allowed, name="city_only_indicator"),
        pa.Check(period_matches_frequency, name="period_matches_frequency"),
        pa.Check(districts_not_above_city, name="districts_not_above_city"),
    ]
