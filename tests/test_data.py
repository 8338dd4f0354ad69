"""The data contract: every class of bad input gives a clear error (file, row, column, rule), all at once."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.data.contract import REQUIRED_COLUMNS, load_data
from helpers.exceptions import DataValidationError

GOOD = [
    # indicator, geography, period, value, numerator, denominator
    ("admin_cases", "330106", "2024Q1", "120", "", ""),
    ("admin_cases", "330106", "2024Q2", "130", "", ""),
    ("mediation_success_rate", "330106", "2024Q1", "", "40", "100"),
    ("public_satisfaction", "330100", "2024", "83.5", "", ""),
    ("gi_households", "330127", "2024", "5000", "", ""),
]


def _write(tmp_path, rows, name="data.csv", columns=REQUIRED_COLUMNS):
    df = pd.DataFrame([dict(zip(REQUIRED_COLUMNS, (*r, "test", ""))) for r in rows])
    df = df[[c for c in columns if c in df.columns]]
    path = tmp_path / name
    if name.endswith(".xlsx"):
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


def _failures(path, plan, geos) -> pd.DataFrame:
    with pytest.raises(DataValidationError) as info:
        load_data(path, plan, geos)
    assert info.value.failures is not None
    return info.value.failures


def test_good_rows_load(tmp_path, plan, geos):
    ds = load_data(_write(tmp_path, GOOD), plan, geos)
    rate = ds.frame[ds.frame["indicator_id"] == "mediation_success_rate"]["value"].iloc[0]
    assert rate == pytest.approx(40.0)  # value computed from numerator / denominator x 100
    assert len(ds.frame) == len(GOOD)


@pytest.mark.parametrize("bad_row, rule, column", [
    (("no_such_indicator", "330106", "2024Q1", "1", "", ""), "known_indicator", "indicator_id"),
    (("admin_cases", "999999", "2024Q1", "1", "", ""), "known_geography", "geography_code"),
    (("admin_cases", "330106", "2024-03", "1", "", ""), "period_format", "period"),
    (("admin_cases", "330106", "2024Q3", "-5", "", ""), "value_not_negative", "value"),
    (("admin_cases", "330106", "2024Q3", "twelve", "", ""), "numeric", "value"),
    (("mediation_success_rate", "330106", "2024Q2", "", "120", "100"), "numerator_not_above_denominator", "numerator"),
    (("mediation_success_rate", "330106", "2024Q3", "140", "", ""), "value_within_unit_range", "value"),
    (("public_satisfaction", "330106", "2024", "80", "", ""), "city_only_indicator", "geography_code"),
    (("public_satisfaction", "330100", "2023Q4", "80", "", ""), "period_matches_frequency", "period"),
    (("mediation_success_rate", "330106", "2024Q4", "", "10", "0"), "denominator_positive", "denominator"),
])
def test_each_bad_row_is_named(tmp_path, plan, geos, bad_row, rule, column):
    path = _write(tmp_path, [*GOOD, bad_row])
    f = _failures(path, plan, geos)
    hit = f[f["rule"] == rule]
    assert len(hit) == 1, f.to_string()
    assert hit["file"].iloc[0] == "data.csv"
    assert str(hit["row"].iloc[0]) == str(len(GOOD) + 2)  # the spreadsheet row: header is row 1
    assert hit["column"].iloc[0] == column
    assert hit["message"].iloc[0]


def test_districts_adding_up_to_more_than_the_city_are_named_on_the_city_row(tmp_path, plan, geos):
    rows = [("admin_cases", "330100", "2024Q1", "100", "", ""),   # the city figure (spreadsheet row 2)
            ("admin_cases", "330106", "2024Q1", "80", "", ""),
            ("admin_cases", "330108", "2024Q1", "30", "", ""),    # 80 + 30 = 110 > 100
            ("admin_cases", "330100", "2024Q2", "100", "", ""),   # the city may exceed its districts
            ("admin_cases", "330106", "2024Q2", "60", "", ""),    # (municipal bodies' own cases)
            ("admin_cases", "330100", "2024Q3", "1000", "", ""),  # rounding of the parts is tolerated
            ("admin_cases", "330106", "2024Q3", "1000.5", "", "")]
    f = _failures(_write(tmp_path, rows), plan, geos)
    assert list(f["rule"]) == ["districts_not_above_city"], f.to_string()
    assert (str(f["row"].iloc[0]), f["column"].iloc[0]) == ("2", "value")
    assert "add up to more" in f["message"].iloc[0]


def test_duplicate_rows_are_reported(tmp_path, plan, geos):
    f = _failures(_write(tmp_path, [*GOOD, GOOD[0]]), plan, geos)
    dup = f[f["rule"].str.contains("uniqueness")]
    assert set(dup["row"].astype(str)) == {"2", str(len(GOOD) + 2)}


def test_all_errors_reported_at_once(tmp_path, plan, geos):
    rows = [*GOOD, ("nope", "330106", "2024Q1", "1", "", ""), ("admin_cases", "330106", "2024Q4", "-1", "", ""),
            ("admin_cases", "123", "bad", "x", "", "")]
    f = _failures(_write(tmp_path, rows), plan, geos)
    assert {"known_indicator", "value_not_negative", "known_geography", "period_format", "numeric"} <= set(f["rule"])


def test_missing_column(tmp_path, plan, geos):
    path = _write(tmp_path, GOOD, columns=[c for c in REQUIRED_COLUMNS if c != "period"])
    f = _failures(path, plan, geos)
    assert list(f["rule"]) == ["column_in_dataframe"] and f["column"].iloc[0] == "period"


def test_empty_file(tmp_path, plan, geos):
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(DataValidationError, match="empty"):
        load_data(p, plan, geos)


def test_header_only_file(tmp_path, plan, geos):
    p = tmp_path / "header.csv"
    p.write_text(",".join(REQUIRED_COLUMNS) + "\n")
    with pytest.raises(DataValidationError, match="no data rows"):
        load_data(p, plan, geos)


@pytest.mark.parametrize("name, content", [("data.json", b'{"a": 1}'), ("data.xlsx", b"this is not a zip file")])
def test_not_csv_or_excel(tmp_path, plan, geos, name, content):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(DataValidationError, match=name):
        load_data(p, plan, geos)


def test_excel_is_accepted_with_sheet_and_row(tmp_path, plan, geos):
    good = load_data(_write(tmp_path, GOOD, name="ok.xlsx"), plan, geos)
    assert len(good.frame) == len(GOOD)
    f = _failures(_write(tmp_path, [*GOOD, ("admin_cases", "330106", "2024Q3", "-5", "", "")], name="bad.xlsx"), plan, geos)
    assert f["row"].iloc[0].endswith("!7") and f["file"].iloc[0] == "bad.xlsx"


def test_demo_data_is_valid(demo_frame):
    assert len(demo_frame) > 3000


@pytest.mark.parametrize("as_of, years", [("2025Q2", [2021, 2022, 2023, 2024]), ("2025Q4", [2021, 2022, 2023, 2024, 2025])])
def test_a_year_is_expected_only_once_it_has_ended(plan, as_of, years):
    """At 2025Q2 an annual indicator's 2025 figure is not missing yet: the year has not ended."""
    from helpers.data.series import periods_between
    from helpers.plan.periods import Quarter

    annual = next(i for i in plan.indicators if i.frequency == "annual")
    got = periods_between(annual, Quarter(2021, 1), Quarter.parse(as_of))
    assert [q.year for q in got] == years and all(q.q == 4 for q in got)


def test_quality_table_does_not_flag_the_running_year(demo_frame, plan, geos):
    from helpers.data.quality import quality_table
    from helpers.plan.periods import Quarter

    annual = [i for i in plan.indicators if i.frequency == "annual"]
    q = quality_table(demo_frame, annual, geos.city, geos, Quarter(2025, 2))
    assert not any("2025" in q[i.id]["missing"] for i in annual)
