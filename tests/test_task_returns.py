"""Task returns: the 任务进展 sheet of the template, its checks, and storing it as a vintage."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.data.tasks import SHEET, task_view, write_task_template
from helpers.data.template import write_template
from helpers.exceptions import DataValidationError

QIANTANG = "330114"


def _fill(src, dst, statuses: dict, figure=None):
    """Fill the task sheet: {task_id: (status, progress, evidence)}; optionally one figure cell."""
    wb = load_workbook(src)
    ws = wb[SHEET]
    codes = {c.value: c.column for c in ws[2]}
    for r in range(3, ws.max_row + 1):
        tid = ws.cell(r, codes["task_id"]).value
        if tid in statuses:
            for code, v in zip(("status", "progress", "evidence"), statuses[tid]):
                ws.cell(r, codes[code], v)
    if figure:
        sheet, row, col, v = figure
        wb[sheet].cell(row, col, v)
    wb.save(dst)
    return {ws.cell(r, codes["task_id"]).value: r for r in range(3, ws.max_row + 1)}, codes


def test_district_template_lists_its_own_tasks_with_the_plan_text(store, plan, geos, tmp_path):
    t = write_template(tmp_path / "t.xlsx", plan, geos, QIANTANG, "2025Q4", stored=store.view())
    ws = load_workbook(t)[SHEET]
    ids = {ws.cell(r, 10).value for r in range(3, ws.max_row + 1)}
    assert "d_qiantang_accelerator" in ids and "d_all_police_liaison" in ids and "d_binjiang_one_thing" not in ids
    row = next(r for r in range(3, ws.max_row + 1) if ws.cell(r, 10).value == "d_qiantang_accelerator")
    assert ws.cell(row, 5).value == "在钱塘区建设科创企业上市知识产权加速器" and ws.cell(row, 4).value == "钱塘区"
    assert ws.cell(row, 5).protection.locked and not ws.cell(row, 7).protection.locked
    assert any(dv.formula1 == '"已完成,推进中,未启动"' for dv in ws.data_validations.dataValidation)


def test_one_file_carries_figures_and_tasks_and_a_bad_task_row_stores_nothing(store, plan, geos, tmp_path):
    t = write_template(tmp_path / "t.xlsx", plan, geos, QIANTANG, "2025Q4", stored=store.view())
    vint = store.vintages()
    bad = tmp_path / "bad.xlsx"
    rows, codes = _fill(t, bad, {"d_qiantang_accelerator": ("已完成", "加速器已运营", ""),
                                 "d_all_police_liaison": ("差不多", "", "")})
    with pytest.raises(DataValidationError) as err:
        store.ingest(bad, plan, geos)
    pd.testing.assert_frame_equal(store.vintages(), vint)
    assert task_view(store).empty
    from helpers.data.ingest import failure_report

    report = failure_report(err.value.failures, err.value.letters, "zh")
    by_rule = report.set_index("rule")
    ev = by_rule.loc["task_evidence_required"]
    assert ev["cell"] == f"{SHEET}!I{rows['d_qiantang_accelerator']}" and ev["column"] == "佐证材料"
    assert "佐证材料" in ev["message"] and ev["file"] == "bad.xlsx"
    assert by_rule.loc["task_status", "cell"] == f"{SHEET}!G{rows['d_all_police_liaison']}"
    good = tmp_path / "good.xlsx"
    _fill(t, good, {"d_qiantang_accelerator": ("已完成", "加速器已运营，服务企业 30 家", "钱塘区市场监管局文件"),
                    "d_all_police_liaison": ("推进中", "已设联络官 2 名", "")})
    res = store.ingest(good, plan, geos)
    assert res.tasks == 2 and res.vintage_id == len(vint) + 1
    view = task_view(store, quarter="2025Q4").set_index("task_id")
    assert view.loc["d_qiantang_accelerator", "status"] == "已完成"
    assert view.loc["d_all_police_liaison", "file"] == "good.xlsx"
    assert task_view(store, quarter="2025Q3").empty  # a 2025Q4 status is not known for 2025Q3
    assert task_view(store, as_of="2000-01-01T00:00:00Z").empty


def test_city_lead_unit_sends_tasks_alone_and_the_store_rebuilds_them(store, plan, geos, tmp_path):
    t = write_task_template(tmp_path / "city.xlsx", plan, geos, "330100", "2025Q4")
    assert load_workbook(t).sheetnames == ["说明", SHEET]
    filled = tmp_path / "city_filled.xlsx"
    _fill(t, filled, {"m08_fast_protection": ("已完成", "拱墅、余杭工作站点已设立", "杭市管〔2024〕1号")})
    res = store.ingest(filled, plan, geos)
    assert (res.tasks, res.new, res.revised) == (1, 0, 0)
    empty = tmp_path / "city_empty.xlsx"
    _fill(t, empty, {})
    with pytest.raises(DataValidationError, match="neither a figure nor a task status"):
        store.ingest(empty, plan, geos)
    store.rebuild(plan, geos)
    assert list(task_view(store)["task_id"]) == ["m08_fast_protection"]
