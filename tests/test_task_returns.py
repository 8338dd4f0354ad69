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
    with pytest.raises(DataValidationError, match="既没有填写数值，也没有填写任务状态"):
        store.ingest(empty, plan, geos)
    store.rebuild(plan, geos)
    assert list(task_view(store)["task_id"]) == ["m08_fast_protection"]


def test_status_shows_which_units_sent_their_task_statuses_for_the_quarter(store, settings, plan, geos, tmp_path):
    """``ipeval status``'s task part: a full return before the deadline is in, after it late, a return with
    some of its tasks partial, none missing once the deadline (15 October) has passed, pending before."""
    from datetime import date

    from helpers.plan.periods import Quarter
    from helpers.plan.tasks import load_tasks, tasks_for
    from helpers.run.task_returns import render_task_returns, task_returns_status

    tasks = load_tasks(plan.path, check_text=False)

    def send(code: str, n: int | None, received_at: str, quarter="2025Q3", status=("未启动", "", "")) -> None:
        ids = [t.id for t in tasks_for(tasks, code)][:n]
        t = write_task_template(tmp_path / f"{code}.xlsx", plan, geos, code, quarter)
        _fill(t, tmp_path / f"{code}-filled.xlsx", {tid: status for tid in ids})
        store.ingest(tmp_path / f"{code}-filled.xlsx", plan, geos, received_at=received_at)

    send(QIANTANG, None, "2025-10-10T02:00:00Z")
    send("330106", None, "2025-10-20T02:00:00Z")
    send("330100", 1, "2025-10-12T02:00:00Z")
    # Binjiang reported its first task done for 2025Q2: that status stands, the task is not owed again
    binjiang = [t.id for t in tasks_for(tasks, "330108")]
    send("330108", 1, "2025-07-10T02:00:00Z", "2025Q2", ("已完成", "已建成", "区政府文件"))
    cells = task_returns_status(settings, plan, geos, store, [Quarter(2025, 3), Quarter(2025, 4)],
                                today=date(2025, 11, 1))
    q3 = {c.geography_code: c for c in cells if c.quarter == "2025Q3"}
    assert set(q3) == {g.code for g in [geos.city, *geos.districts] if tasks_for(tasks, g.code)}
    assert q3[QIANTANG].status == "in" and q3[QIANTANG].received == q3[QIANTANG].expected > 0
    assert q3["330106"].status == "late" and q3["330106"].files == ["330106-filled.xlsx"]
    city = q3["330100"]
    assert city.status == "partial" and city.received == 1 and len(city.missing) == city.expected - 1
    others = {c.status for code, c in q3.items() if code not in (QIANTANG, "330106", "330100")}
    assert others == {"missing"}
    assert q3["330108"].expected == len(binjiang) - 1 and binjiang[0] not in q3["330108"].missing
    assert {c.status for c in cells if c.quarter == "2025Q4"} == {"pending"}  # due 15 January
    # the same store as it stood before the late district sent its statuses
    early = task_returns_status(settings, plan, geos, store, [Quarter(2025, 3)], as_of="2025-10-15T00:00:00Z")
    assert {c.geography_code: c.status for c in early}["330106"] == "pending"

    text = render_task_returns([c.__dict__ for c in cells], ["2025Q3", "2025Q4"], geos, "zh")
    assert "2025Q3（截止 2025-10-15）：已报 1、逾期已报 1、部分缺报 1、未报 11" in "\n".join(text)
    line = next(x for x in text if x.startswith("  未报齐："))
    assert line.startswith(f"  未报齐：杭州市（牵头单位）（1/{city.expected}）、")
    assert geos.get(QIANTANG).name_zh not in line and geos.get("330106").name_zh not in line
    assert any(x.startswith("2025Q4（截止 2026-01-15）：未到期 ") for x in text)
    assert "not complete: " in "\n".join(render_task_returns([c.__dict__ for c in cells], ["2025Q3"], geos, "en"))
