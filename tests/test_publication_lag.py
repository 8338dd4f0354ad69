"""Publication lag: a run sees only periods up to its quarter and figures published by its date."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from helpers.data.contract import Dataset
from helpers.plan.periods import Quarter
from helpers.plan.publication import load_lags
from helpers.run.publication import PENDING, known_at_run, mark_pending, run_date


def test_lags_from_the_registry(plan):
    lags = load_lags(plan)
    gdp, cases = plan.indicator("patent_intensive_gdp_share"), plan.indicator("admin_cases")
    assert lags.lag(gdp) == 12 and lags.lag(cases) == 1
    assert lags.available_on(gdp, "2025") == date(2026, 12, 15)
    assert lags.available_on(cases, "2025Q4") == date(2026, 1, 15)
    assert lags.available_on(cases, "2025Q2") == date(2025, 7, 15)
    assert lags.available_on(plan.indicator("public_satisfaction"), "2024") == date(2025, 6, 15)


def test_the_run_date_is_its_as_of_else_the_day_it_runs_in_shanghai(settings):
    from datetime import datetime, timezone

    scheduled = datetime(2026, 1, 24, 22, 0, tzinfo=timezone.utc)  # 06:00 on 25 January in Shanghai
    assert run_date(settings, Quarter(2025, 4), now=scheduled) == date(2026, 1, 25)
    assert run_date(settings, Quarter(2025, 4), date(2027, 1, 1), now=scheduled) == date(2027, 1, 1)


def _frame(rows):
    df = pd.DataFrame(rows, columns=["indicator_id", "geography_code", "period", "value"])
    df["qindex"] = [Quarter(int(p[:4]), int(p[-1]) if "Q" in p else 4).index for p in df["period"]]
    return Dataset(df, (), "")


def test_packages_hold_nothing_after_the_quarter_or_unpublished(plan, settings):
    ds = _frame([("admin_cases", "330106", "2025Q2", 1), ("admin_cases", "330106", "2025Q3", 2),
                 ("public_satisfaction", "330100", "2025", 80), ("public_satisfaction", "330100", "2024", 81),
                 ("patent_intensive_gdp_share", "330100", "2024", 15.1)])
    kept, pending = known_at_run(ds, plan, settings, Quarter(2025, 2), date(2025, 7, 25))  # the scheduled day
    assert list(kept.frame["period"]) == ["2025Q2", "2024"]  # the 2025Q3 and 2025 rows are gone
    assert list(pending["indicator_id"]) == ["patent_intensive_gdp_share"]  # 2024 GDP share: out 2025-12-15
    kept, pending = known_at_run(ds, plan, settings, Quarter(2025, 2), date(2025, 6, 1))
    assert list(pending["indicator_id"]) == ["admin_cases", "public_satisfaction", "patent_intensive_gdp_share"]
    kept, pending = known_at_run(ds, plan, settings, Quarter(2025, 4), date(2026, 1, 25))
    assert list(pending["period"]) == ["2025"] and len(kept.frame) == 4


def test_a_final_verdict_resting_on_an_unpublished_figure_is_pending(plan):
    table = pd.DataFrame([
        dict(indicator_id="patent_intensive_gdp_share", geography_code="330100", status="achieved", settled_on="2025",
             probability=0.9, note=""),
        dict(indicator_id="public_satisfaction", geography_code="330100", status="missed", settled_on="2023",
             probability=0.0, note=""),
        dict(indicator_id="copyright_culture_gdp_share", geography_code="330100", status="missed", settled_on="2025",
             probability=0.3, note="", sdg_category="met"),
        dict(indicator_id="admin_cases", geography_code="330100", status="achieved", settled_on="2024Q4",
             probability=1.0, note="")])
    pending = pd.DataFrame({"indicator_id": ["patent_intensive_gdp_share", "public_satisfaction",
                                             "copyright_culture_gdp_share"],
                            "geography_code": "330100", "period": "2025", "available_on": "2026-12-15"})
    out = mark_pending(table, plan, pending, Quarter(2025, 4)).set_index("indicator_id")
    # achieved stays (settled_on would be a published period in a real run), missed in 2023 stays missed,
    # a missed that rests on the 2025 figure becomes pending, with its forecast kept
    assert out.loc["public_satisfaction", "status"] == "missed"
    assert out.loc["copyright_culture_gdp_share", "status"] == PENDING
    assert out.loc["copyright_culture_gdp_share", "probability"] == pytest.approx(0.3)
    assert out.loc["copyright_culture_gdp_share", "sdg_category"] == "not_applicable"
    assert out.loc["admin_cases", "status"] == "achieved"
    assert mark_pending(table, plan, pending, Quarter(2025, 2)).equals(table)  # mid-term: the forecast is the answer
