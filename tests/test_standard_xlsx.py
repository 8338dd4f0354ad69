"""The workbook's 指标完成情况一览表 marks the city's published figures per cell, numbers kept numbers
(helpers.pages.standard_xlsx): written and read back with openpyxl, in milliseconds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _figure(figure_id: str) -> dict:
    from helpers.pages.published import figures

    return next(f for f in figures(ROOT) if f["figure_id"] == figure_id)


def _written(tmp_path, rows):
    """The rows as the sheet lays them out (years in columns 8-10, the three published columns last)."""
    from openpyxl import Workbook, load_workbook

    from helpers.pages.standard_xlsx import mark_published, published_columns

    wb = Workbook()
    ws = wb.active
    for i, r in enumerate(rows, start=2):
        for j, v in enumerate([r["years"].get(y) for y in (2023, 2024, 2025)], start=8):
            ws.cell(i, j, v)
        for j, v in enumerate(published_columns(r, "zh"), start=11):
            ws.cell(i, j, v)
    n = mark_published(ws, rows, 2, {2023: 8, 2024: 9, 2025: 10}, 11, "zh")
    wb.save(tmp_path / "t.xlsx")
    return n, load_workbook(tmp_path / "t.xlsx").active


def test_the_citys_2024_administrative_cases_cell_carries_2859_marked_with_its_source(tmp_path):
    admin = {"unit": "件", "years": {2023: 2997.0, 2024: 5856.0, 2025: 8801.0}, "cumulative": True,
             "published": {2024: _figure("admin_cases_2024")}}
    ruling = {"unit": "天", "years": {2023: 52.0, 2024: 47.0}, "cumulative": False,
              "published": {2024: _figure("ruling_cycle_2024")}}
    district = {"unit": "件", "years": {2024: 410.0}, "cumulative": True, "published": {}}
    n, ws = _written(tmp_path, [admin, ruling, district])
    assert n == 2
    cell = ws["I2"]  # 2024
    assert cell.value == 5856 and cell.data_type == "n"  # still a number Excel sums
    assert cell.number_format == '#,##0"，当年◆2,859"'  # shown as the Word table writes it
    assert "◆ 公开发布：2024年当年合计 2,859件" in cell.comment.text
    assert "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）" in cell.comment.text
    assert "2024年,杭州办理各类行政案件2859件" in cell.comment.text
    assert ws["H2"].comment is None and ws["H2"].number_format == "General"  # 2023: not published
    assert [ws["K2"].value, ws["L2"].value, ws["M2"].value] == [
        2859, "2024年当年合计", "杭州市人民政府新闻办公室新闻发布会（2025年4月23日）"]
    assert ws["K2"].number_format == '"◆"#,##0'
    # a ceiling stays a ceiling: 47 days against 50日内
    assert ws["I3"].value == 47 and ws["I3"].number_format.endswith('"，◆≤50"')
    assert ws["L3"].value == "2024年（上限）" and ws["K3"].number_format.startswith('"◆≤"')
    # a district has no published figure: nothing marked
    assert ws["I4"].comment is None and ws["K4"].value is None and ws["M4"].value is None


def test_a_published_value_equal_to_the_data_is_marked_in_front(tmp_path):
    hv = {"unit": "件", "years": {2024: 62.6}, "cumulative": False,
          "published": {2024: {**_figure("hv_patents_per_10k_2024"), "value": 62.6}}}
    from helpers.pages.standard_xlsx import year_format

    assert year_format({**hv, "unit": "件/万人"}, 2024, "#,##0.00").startswith('"◆"')
    missing = {"unit": "件", "years": {2024: None}, "cumulative": True, "published": {2024: _figure("admin_cases_2024")}}
    _, ws = _written(tmp_path, [missing])
    assert ws["I2"].value == "—，当年◆2,859"  # no number to keep: the documents' text


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_published_columns_name_the_publication_and_date(lang):
    from helpers.pages.standard_xlsx import published_columns

    row = {"unit": "件", "years": {2024: 5856.0}, "cumulative": True, "published": {2024: _figure("admin_cases_2024")}}
    value, scope, source = published_columns(row, lang)
    assert value == 2859.0 and "2024" in scope and "2025" in source
    # the English workbook names the publication in English (press_release_2025-04-23_figures.en.csv)
    assert ("新闻发布会" in source) if lang == "zh" else ("Press conference" in source and "23 April 2025" in source
                                                          and not re.search(r"[\u4e00-\u9fff]", source))


def test_the_hangzhou_press_release_marks_nothing_in_the_national_plan(plan, geos):
    """Both plans have high-value patents per 10,000 people; the release's 62.6 is Hangzhou's, not China's."""
    from types import SimpleNamespace

    from helpers.pages.document.blocks import Document, Heading, Table
    from helpers.pages.published import add_published_figures
    from helpers.pages.standard import published_years
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.settings import load_settings

    s = load_settings(ROOT / "params" / "settings_cn_ipr_14th_fyp_2021_2025.yaml")
    national, country = load_plan(s.plan_path), load_geographies(s.geographies_path)
    assert "high_value_patents_per_10k" in national.by_id
    assert published_years(ROOT, country.city, national) == {}
    assert published_years(ROOT, geos.city, plan)["admin_cases"][2024]["value"] == 2859
    doc = Document([Heading("附件2 数据来源", 2), Table(["a"], [["1"]], [10], caption="表1  来源")], "", "zh", "")
    add_published_figures(doc, SimpleNamespace(settings=SimpleNamespace(root=ROOT), geos=country, plan=national),
                          country.city.code)
    assert len(doc.blocks) == 2  # no Hangzhou figures listed in the national report's annex
