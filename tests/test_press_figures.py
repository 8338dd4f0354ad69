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


def test_pages_show_the_release_growth_the_ceiling_and_the_context(settings, plan, geos):
    from types import SimpleNamespace

    from openpyxl import Workbook

    from helpers.pages.document.blocks import Document, Heading, Para, Table
    from helpers.pages.published import (add_published_figures, add_published_sheet, context_sentence,
                                         published_growth, value_cell)

    assert published_growth(ROOT, "pledge_financing_amount", "330100", 2024) == pytest.approx(0.553)
    assert published_growth(ROOT, "pledge_financing_amount", "330106", 2024) is None
    assert published_growth(ROOT, "pledge_financing_amount", "330100", 2023) is None
    assert value_cell(ROOT, "ruling_cycle_days", "2024", "50") == "≤50"
    assert value_cell(ROOT, "admin_cases", "2024", "2,859") == "2,859"
    text = context_sentence(ROOT, "international")
    assert text.startswith("◆ 公开发布数据：") and "监测海外诉讼案件383条；涉及企业1358家次" in text
    assert text.endswith("（杭州市人民政府新闻办公室新闻发布会（2025年4月23日））。")
    sec = plan.section("enforcement")
    doc = Document([Heading(f"（二）{sec.name_zh}", 2), Table(["a"], [["1"]], [10], caption="表1  x"), Para("p"),
                    Heading("附件2 数据来源", 2), Table(["a"], [["1"]], [10], caption="表2  来源")], "", "zh", "")
    tables = SimpleNamespace(settings=SimpleNamespace(root=ROOT), geos=geos, plan=plan)
    add_published_figures(doc, tables, "330100")
    kinds = [type(b).__name__ for b in doc.blocks]
    assert kinds == ["Heading", "Table", "Para", "Para", "Heading", "Table", "Para", "Table"]
    assert "2024年,杭州办理各类行政案件2859件".replace(",", "，") in doc.blocks[2].text
    annex = doc.blocks[7]  # after 附件2's own table of sources
    assert annex.caption == "表3  公开发布数据一览" and doc.blocks[5].caption == "表2  来源"
    assert len(annex.rows) == 19 and ["≤50日", "作为全市数值"] == [annex.rows[6][1][1:], annex.rows[6][3]]
    wb = Workbook()
    add_published_sheet(wb, ROOT)
    ws = wb["公开发布数据"]
    assert ws.max_row == 20 and ws["G2"].value == "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）"


@pytest.mark.parametrize(("cumulative", "value", "figure", "shown"), [
    (True, 5856.0, {"value": 2859.0, "comparator": "eq"}, "5,856，当年◆2,859"),  # a running total and the year's own
    (False, 47.0, {"value": 50.0, "comparator": "le"}, "47，◆≤50"),             # a ceiling stays a ceiling
    (False, 62.6, {"value": 62.6, "comparator": "eq"}, "◆62.60"),                 # the publication's value itself
])
def test_the_standard_table_marks_the_citys_published_figures(cumulative, value, figure, shown):
    from helpers.pages.standard import _year_cell

    row = {"unit": "件" if cumulative else ("天" if figure["comparator"] == "le" else "件/万人"),
           "years": {2024: value}, "published": {2024: figure}, "cumulative": cumulative}
    assert _year_cell(row, 2024) == shown
    assert _year_cell({**row, "published": {}}, 2024) == _year_cell(row, 2024).split("，")[0].lstrip("◆")


def test_the_standard_table_names_the_plans_lead_where_it_names_no_unit_per_target(plan):
    from helpers.pages.standard import plan_lead

    assert plan_lead(plan, "zh") == "市知识产权局（牵头）"


def test_english_pages_name_the_press_release_in_english_and_quote_other_publications():
    """The published-figures table of an English page: the release's name and our translation of its
    words; a publication without a translation quoted in Chinese, our remark after it."""
    from types import SimpleNamespace

    from helpers.pages.section_published import _source_words

    ctx = SimpleNamespace(lang="en", settings=SimpleNamespace(root=ROOT))
    release = {"indicator_id": "admin_cases", "period": "2024", "source": "杭州市政府新闻办 新闻发布会 2025-04-23",
               "says": "2024年办理各类行政案件2859件", "note": "", "remark": "annual total"}
    source, words = _source_words(ctx, release)
    assert source.endswith("Hangzhou Municipal People&#x27;s Government, 23 April 2025")
    assert words.endswith(" (annual total)") and not re.search(r"[\u4e00-\u9fff]", source + words)
    other = {**release, "period": "2021", "source": "杭州市官方统计（2021年）", "says": "行政案件", "remark": ""}
    assert _source_words(ctx, other) == ["“杭州市官方统计（2021年）”", "“行政案件”"]
    assert _source_words(SimpleNamespace(lang="zh", settings=ctx.settings), release) == [
        "杭州市政府新闻办 新闻发布会 2025年4月23日", "2024年办理各类行政案件2859件"]  # a Chinese date on a Chinese page
