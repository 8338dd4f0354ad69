"""The Excel template a district fills in (``ipeval template``): one sheet per section.

Each data sheet has Chinese headers on row 1 and the data contract's column codes on row 2 (so
the filled file loads as it is, :mod:`helpers.data.ingest`), then one row per indicator and period:
the last periods before the reporting one, with the value the store already holds beside the
cell to fill (a figure typed there is a revision; left blank, nothing changes), then the
reporting period itself (highlighted). Excel checks every figure as it is typed (whole numbers
for counts, 0-100 for percentages, never negative); every cell but the figures, source and note
is locked (sheet protection without a password); panes are frozen on the names and headers.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.tasks import add_task_sheet
from helpers.data.template_key import KEY_PROPERTY, TEMPLATE_VERSION, locked_digest  # noqa: F401 - re-exported
from helpers.i18n import COLUMN_NAMES
from helpers.plan.periods import Quarter

#: the columns of a data sheet, in order: (contract code or template-only code, width)
LAYOUT = [("indicator_name", 40), ("unit", 10), ("period", 9), ("stored_value", 18), ("value", 14),
          ("numerator", 12), ("denominator", 12), ("source", 24), ("note", 24), ("indicator_id", 26),
          ("geography_code", 14)]
FILL = ("value", "numerator", "denominator", "source", "note")
N_PREVIOUS = {"quarterly": 4, "annual": 2}  # earlier periods shown for checking and revising
YELLOW, GREY = "FFF2CC", "EDEDED"


def _periods(ind, q: Quarter) -> list[str]:
    if ind.frequency == "annual":
        return [str(q.year - k) for k in range(N_PREVIOUS["annual"], -1, -1)]
    return [str(q - k) for k in range(N_PREVIOUS["quarterly"], -1, -1)]


def _stored_text(r, ind) -> str:
    """What the store holds, as the district wrote it (``99/141 = 70.2`` for a ratio)."""
    if r is None:
        return ""
    v, n, d = (str(r[c]).strip() for c in ("value", "numerator", "denominator"))
    if n and d:
        try:
            shown = f"{float(n) / float(d) * ind.scale:.1f}" if float(d) else "—"
        except ValueError:
            shown = v
        return f"{n}/{d} = {v or shown}"
    return v


def _validation(ind, column: str):
    """The Excel data validation of one figure cell of ``ind``."""
    from openpyxl.worksheet.datavalidation import DataValidation

    lo, hi = ind.bounds
    lo = 0 if lo is None else lo
    # counts are whole; a numerator is a count only for shares (a sum of days need not be whole)
    whole = (column == "denominator" or (column == "numerator" and ind.numerator_le_denominator)
             or (column == "value" and ind.measure in ("count", "per_capita")))
    kind = "whole" if whole else "decimal"
    if column == "value" and hi is not None:
        dv = DataValidation(type=kind, operator="between", formula1=str(lo), formula2=str(hi), allow_blank=True)
        rule = f"{lo}–{hi}"
    else:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(lo if column == "value" else 0),
                            allow_blank=True)
        rule = f"≥ {lo if column == 'value' else 0}"
    dv.error = f"请填写{'整数' if whole else '数字'}（{rule}）"
    dv.errorTitle = "数值不符合要求"
    dv.prompt = f"{'整数' if whole else '数字'}，{rule}" + ("；无地理标志产品的地区填 0/0" if ind.allows_zero_over_zero else "")
    dv.showErrorMessage = dv.showInputMessage = True
    return dv


def _readme(wb, geo, q: Quarter, plan) -> None:
    from openpyxl.styles import Alignment, Font

    ws = wb.active
    ws.title = "说明"
    zero = [i.name_zh for i in plan.indicators if i.allows_zero_over_zero]
    lines = [
        (f"{plan.title_zh} — 数据报送模板", True),
        (f"地区：{geo.name_zh}（{geo.code}）；报送期：{q}（年度指标报 {q.year} 年）", True),
        ("每个板块一张表。第1行为中文表头，第2行为数据规范的列代码（请勿修改）。", False),
        ("黄色单元格为本期（报送期）待填数值；比率类指标请填写“分子”和“分母”，系统自动计算比率。", False),
        ("“库中现值（已报送）”列是数据库中已有的数值，供核对。若需修订以往某期，请在该期所在行的“本期数值”"
         "（或分子、分母）中填写修订后的数值，并在“备注”中说明修订原因；不需修订的行请留空。", False),
        ("填写时 Excel 会检查：计数类为非负整数，百分比在 0–100 之间，金额等不能为负。", False),
        ("“不适用”：" + "、".join(zero) + " 在没有相应对象的地区请填 分子 0、分母 0（0/0），不要留空。" if zero else "", False),
        ("“数据来源”填写部门或报表名称，“备注”填写修订、估算等说明。", False),
        ("工作表已保护（无密码），只有待填单元格可以编辑；如需调整格式：审阅 → 撤销工作表保护。", False),
        ("提交：把本文件交给市级评估组，或放入 data/inbox/；系统逐格检查，有问题时会返回错误报告（列出工作表、单元格和规则）。", False),
        ("English: fill the yellow cells (ratios: numerator and denominator). A figure typed in an earlier "
         "period's row revises it; leave rows you do not revise blank. Sheets are protected without a password.", False),
    ]
    for r, (text, bold) in enumerate([x for x in lines if x[0]], start=1):
        c = ws.cell(r, 1, text)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.font = Font(bold=bold)
    ws.column_dimensions["A"].width = 120


def _section_sheet(wb, title: str, inds, geo, q: Quarter, known: dict, locked: list) -> None:
    """One data sheet: the headers, then each indicator's rows (earlier periods, then the reporting
    one), its cells to fill unlocked and checked; the locked cells' contents go to ``locked``."""
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter

    names = COLUMN_NAMES["zh"]
    col = {code: j for j, (code, _w) in enumerate(LAYOUT, start=1)}
    ws = wb.create_sheet(title)
    for code, width in LAYOUT:
        j = col[code]
        ws.cell(1, j, names.get(code, code)).font = Font(bold=True)
        ws.cell(1, j).alignment = Alignment(wrap_text=True, vertical="center")
        ws.cell(2, j, code).font = Font(color="808080", size=8)
        ws.column_dimensions[get_column_letter(j)].width = width
    r = 3
    for ind in inds:
        name, unit = ind.name_zh, ind.unit_zh
        if ind.measure == "per_capita":
            name, unit = f"{ind.numerator_zh or ind.name_zh}（用于计算{ind.name_zh}）", "件"
        if ind.uses_ratio:
            unit = f"{unit}（分子：{ind.numerator_zh}；分母：{ind.denominator_zh}）"
        periods = _periods(ind, q)
        for period in periods:
            current = period == periods[-1]
            values = {"indicator_name": name, "unit": unit, "period": period,
                      "stored_value": _stored_text(known.get((ind.id, period)), ind),
                      "indicator_id": ind.id, "geography_code": geo.code}
            for code, v in values.items():
                ws.cell(r, col[code], v)
            locked.append((ws.title, r, ind.id, geo.code, period))
            editable = ["value", "source", "note"] + (["numerator", "denominator"] if ind.uses_ratio else [])
            for code in FILL:
                c = ws.cell(r, col[code])
                c.number_format = "@" if code in ("source", "note") else "General"
                if code in editable:
                    c.protection = Protection(locked=False)
                    if current and code in ("value", "numerator", "denominator"):
                        c.fill = PatternFill("solid", fgColor=YELLOW)
                else:
                    c.fill = PatternFill("solid", fgColor=GREY)
            for code in ("value", *(("numerator", "denominator") if ind.uses_ratio else ())):
                dv = _validation(ind, code)
                ws.add_data_validation(dv)
                dv.add(ws.cell(r, col[code]))
            if not current:
                for code in ("indicator_name", "period", "stored_value"):
                    ws.cell(r, col[code]).font = Font(color="606060")
            r += 1
    ws.freeze_panes = ws.cell(3, col["stored_value"])  # names, units, periods and headers stay in view
    ws.protection.sheet = True  # no password: a district may unprotect to reformat (说明 says how)
    ws.protection.formatColumns = False  # widths may still be changed


def write_template(path: str | Path, plan, geos, geography_code: str, quarter: str,
                   stored: pd.DataFrame | None = None, stored_tasks: pd.DataFrame | None = None) -> Path:
    """Write a template for one geography and quarter.

    Parameters
    ----------
    geography_code : str
        The reporting geography (checked against the geographies list).
    quarter : str
        The quarter to report (``2025Q3``); annual indicators get the quarter's year.
    stored : DataFrame, optional
        The store's current view (:meth:`helpers.data.store.ObservationStore.view`): its values
        for this geography are shown beside the cells to fill.
    stored_tasks : DataFrame, optional
        The store's task view (:func:`helpers.data.tasks.task_view`), shown on the 任务进展 sheet.
    """
    from openpyxl import Workbook

    geo = geos.get(geography_code)
    q = Quarter.parse(quarter)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    known = {}
    if stored is not None and len(stored):
        mine = stored[stored["geography_code"].astype(str) == geo.code]
        known = {(r["indicator_id"], r["period"]): r for r in mine.to_dict("records")}
    wb = Workbook()
    _readme(wb, geo, q, plan)
    locked: list[tuple] = []
    for section in plan.sections:
        inds = [i for i in plan.indicators_in(section.id) if geo.is_city or not i.city_only]
        if not inds:
            continue
        _section_sheet(wb, section.name_zh[:31], inds, geo, q, known, locked)
    import json

    from openpyxl.packaging.custom import StringProperty

    key = {"geography": geo.code, "quarter": str(q), "version": TEMPLATE_VERSION, "locked_sha256": locked_digest(locked)}
    wb.custom_doc_props.append(StringProperty(name=KEY_PROPERTY, value=json.dumps(key)))
    add_task_sheet(wb, plan, geo, q, stored_tasks)  # the plan's tasks: status and evidence (data/tasks.py)
    wb.save(path)
    return path
