"""Every numeric figure of the 2025-04-23 press release, verbatim, with how the report uses it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.data.press_figures import city_values, figure_text, press_figures, published_date_zh
from helpers.exceptions import DataValidationError

ROOT = Path(__file__).resolve().parents[1]
TEXT = re.sub(r"\s+", "", (ROOT / "docs" / "sources" / "press_release_2025-04-23.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def figures(plan):
    return press_figures(ROOT, plan)


def test_every_quote_is_verbatim_and_holds_its_number(figures):
    for r in figures.to_dict("records"):
        says = re.sub(r"\s+", "", r["says"])
        assert says in TEXT, r["figure_id"]
        v = r["value"]
        shown = {f"{v:g}", f"{v / 1e4:g}万" if v >= 1e4 else f"{v:g}"}
        assert any(s in says for s in shown), (r["figure_id"], shown)


def test_the_eighteen_figures_of_the_issue_are_all_there(figures):
    values = set(figures["value"])
    for v in (182900, 62.6, 4.5, 14, 2859, 50, 383, 1358, 100, 453.4, 55.3, 2085, 13, 139, 12.5, 2.3, 72, 5):
        assert v in values
    assert len(figures) == 19  # and the statutory 90 days the 50-day ceiling is compared with


def test_a_ceiling_stays_a_ceiling_and_the_city_values_are_keyed(figures):
    rows = {r["figure_id"]: r for r in figures.to_dict("records")}
    assert figure_text(rows["ruling_cycle_2024"]) == "≤50日"
    assert figure_text(rows["admin_cases_2024"]) == "2,859件"
    assert figure_text(rows["pledge_financing_growth_2024"]) == "55.3%"
    keyed = city_values(figures)
    assert keyed[("admin_cases", "2024")]["value"] == 2859
    assert ("pledge_financing_amount", "2024") in keyed and len(keyed) == 8
    assert published_date_zh("2025-04-23") == "2025年4月23日"


def test_a_broken_row_is_refused_naming_row_and_field(tmp_path, plan):
    src = (ROOT / "data" / "reference" / "press_release_2025-04-23_figures.csv").read_text(encoding="utf-8")
    (tmp_path / "data" / "reference").mkdir(parents=True)
    bad = src.replace("ruling_cycle_2024,50,日,le", "ruling_cycle_2024,50,日,below")
    (tmp_path / "data" / "reference" / "press_release_2025-04-23_figures.csv").write_text(bad, encoding="utf-8")
    with pytest.raises(DataValidationError, match="第8行 comparator"):
        press_figures(tmp_path, plan)
