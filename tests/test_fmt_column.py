"""A table column's numbers share their decimals (pages/display.py fmt_column)."""

import math

import pytest

from helpers.pages.display import fmt_column


@pytest.mark.parametrize("values, expected", [
    ([30.7, 34.0, 37.0, 38.46], ["30.7", "34.0", "37.0", "38.5"]),  # a rate: one decimal throughout
    ([312, 338.0, 153], ["312", "338", "153"]),  # counts: whole
    ([1234.5, 12.0], ["1,234.5", "12.0"]),
    ([math.nan, None, 5.0], ["—", "—", "5"]),
    ([2.04, 3.0], ["2", "3"]),  # whole at one decimal (2.0): as the single numbers were shown
])
def test_a_column_has_one_number_of_decimals(values, expected):
    assert fmt_column(values) == expected
