"""Task returns: the status and evidence of the plan's tasks, as districts and lead units send them.

The plan's tasks (:mod:`helpers.plan.tasks`) are not counted but done. Each reporting unit says,
per task and quarter, its 状态 (已完成 / 推进中 / 未启动), 进展说明 and 佐证材料 on a 任务进展 sheet of
the same template as its figures (:func:`add_task_sheet`), so a district sends one file; the city's
lead unit may send a workbook with that sheet alone (``ipeval template --tasks-only``).

``ipeval ingest`` finds the sheet by the code ``task_id`` in its second row (the data reader skips
it: it has no ``indicator_id``), checks every row (:func:`check_task_sheet`), and stores the rows in
the store's ``task_status`` table under the same vintage as the file's figures, in the same
transaction: a file with one bad task row stores nothing (``docs/data_store.md``, *Task returns*).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.contract import FAILURE_COLUMNS, REQUIRED_COLUMNS
from helpers.data.ingest import check_return
from helpers.exceptions import DataValidationError
from helpers.i18n import et
from helpers.plan.periods import InvalidPeriodError, Quarter
from helpers.plan.tasks import KIND_LABELS_ZH, load_tasks, tasks_for

SHEET = "任务进展"
STATUSES = ("已完成", "推进中", "未启动")
#: English codes a lead unit may type instead (the report prints the Chinese)
STATUS_ALIASES = {"done": "已完成", "completed": "已完成", "in_progress": "推进中", "not_started": "未启动"}
FIELDS = ("task_id", "geography_code", "period", "status", "progress", "evidence")
#: the sheet's columns: (code, Chinese header, width); codes in row 2 as on the data sheets
LAYOUT = [("task_kind", "类别", 12), ("task_ref", "方案条款", 9), ("task_title", "任务", 30),
          ("responsible", "责任单位", 18), ("clause", "方案原文", 50), ("stored_status", "上次填报", 16),
          ("status", "状态", 10), ("progress", "进展说明", 50), ("evidence", "佐证材料", 36),
          ("task_id", "任务代码", 24), ("geography_code", "地区代码", 10), ("period", "期别", 9)]
HEADERS_ZH = {code: name for code, name, _w in LAYOUT}
EDITABLE = ("status", "progress", "evidence")
SCHEMA = """
CREATE TABLE IF NOT EXISTS task_status (
    status_id      INTEGER PRIMARY KEY,
    vintage_id     INTEGER NOT NULL REFERENCES vintages(vintage_id),
    task_id        TEXT NOT NULL,
    geography_code TEXT NOT NULL,
    period         TEXT NOT NULL,
    status         TEXT NOT NULL,
    progress       TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    cell           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS task_key ON task_status(task_id, geography_code, period, vintage_id);
"""


def _tasks(plan):
    return load_tasks(plan.path)


def add_task_sheet(wb, plan, geo, quarter: Quarter, stored: pd.DataFrame | None = None) -> int:
    """Append the 任务进展 sheet for ``geo`` to an openpyxl workbook; return the number of tasks.

    ``stored`` is the store's task view (:func:`task_view`): the last status is shown beside the cell.
    """
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    tasks = tasks_for(_tasks(plan), geo.code)
    if not tasks:
        return 0
    last = {}
    if stored is not None and len(stored):
        mine = stored[stored["geography_code"] == geo.code]
        last = {r["task_id"]: f"{r['status']}（{r['period']}）" for r in mine.to_dict("records")}
    ws = wb.create_sheet(SHEET)
    for j, (code, name, width) in enumerate(LAYOUT, start=1):
        ws.cell(1, j, name).font = Font(bold=True)
        ws.cell(2, j, code).font = Font(color="808080", size=8)
        ws.column_dimensions[get_column_letter(j)].width = width
    col = {code: j for j, (code, _n, _w) in enumerate(LAYOUT, start=1)}
    dv = DataValidation(type="list", formula1='"' + ",".join(STATUSES) + '"', allow_blank=True)
    dv.error, dv.errorTitle, dv.prompt = "请选择 已完成、推进中 或 未启动", "状态不符合要求", "已完成 / 推进中 / 未启动"
    dv.showErrorMessage = dv.showInputMessage = True
    ws.add_data_validation(dv)
    for r, task in enumerate(tasks, start=3):
        values = {"task_kind": KIND_LABELS_ZH[task.kind], "task_ref": task.ref, "task_title": task.title_zh,
                  "responsible": task.responsible_text, "clause": task.clause,
                  "stored_status": last.get(task.id, ""), "task_id": task.id, "geography_code": geo.code,
                  "period": str(quarter)}
        for code, v in values.items():
            ws.cell(r, col[code], v).alignment = Alignment(wrap_text=True, vertical="top")
        for code in EDITABLE:
            c = ws.cell(r, col[code])
            c.protection = Protection(locked=False)
            c.alignment = Alignment(wrap_text=True, vertical="top")
            c.number_format = "@"
            c.fill = PatternFill("solid", fgColor="FFF2CC")
        dv.add(ws.cell(r, col["status"]))
    ws.freeze_panes = ws.cell(3, col["stored_status"])
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    return len(tasks)


def write_task_template(path, plan, geos, geography_code: str, quarter: str, stored=None) -> Path:
    """A workbook with the 说明 and 任务进展 sheets only: the city-level return of a lead unit."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    geo, q, path = geos.get(geography_code), Quarter.parse(quarter), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = "说明"
    lines = [f"{plan.title_zh} — 任务进展报送模板（{geo.name_zh}，{q}）",
             "“任务进展”表每行一项任务：方案原文和责任单位取自方案，请勿修改。",
             "状态从下拉框选择：已完成、推进中、未启动。已完成、推进中须填写进展说明；已完成须填写佐证材料（文件名、文号或网址）。",
             "不填状态的行视为本期未报送，不改变以往填报。",
             "提交：交给市级评估组或放入 data/inbox/（ipeval ingest）；有问题时返回错误报告，列出工作表、单元格和规则。"]
    for r, text in enumerate(lines, start=1):
        ws.cell(r, 1, text).alignment = Alignment(wrap_text=True)
    ws.column_dimensions["A"].width = 120
    add_task_sheet(wb, plan, geo, q, stored)
    wb.save(path)
    return path


def _failure(path: Path, row: str, column: str, rule: str, value, message: str) -> dict:
    return {"file": path.name, "row": row, "column": column, "rule": rule, "value": value, "message": message}


def _read_sheet(path: Path):
    """The 任务进展 sheet's rows as dicts (with ``_row``), and its column letters; None if absent."""
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return None  # a CSV return: no openpyxl to import (0.06 s of seeding a fresh clone from the demo CSV)
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - an unreadable workbook is refused by the data reader, by name
        return None
    try:
        for ws in wb.worksheets:
            rows = [[("" if c is None else str(c).strip()) for c in r] for r in ws.iter_rows(values_only=True)]
            if len(rows) < 2 or "task_id" not in rows[1]:
                continue
            cols = {c: j for j, c in enumerate(rows[1]) if c}
            out = []
            for n, r in enumerate(rows[2:], start=3):
                rec = {c: (r[j] if j < len(r) else "") for c, j in cols.items()}
                rec["_row"] = f"{ws.title}!{n}"
                out.append(rec)
            return out, {ws.title: {c: get_column_letter(j + 1) for c, j in cols.items()}}
    finally:
        wb.close()
    return None


def check_task_sheet(path, plan, geos):
    """Read and check the task sheet of one file.

    Returns
    -------
    (rows, failures, letters) or None
        None when the file has no task sheet. ``rows``: the filled rows (status given), with the
        status in Chinese; ``failures``: the problems, in the data contract's failure columns
        (messages in Chinese); ``letters``: the sheet's column letters for the error report.
    """
    path = Path(path)
    found = _read_sheet(path)
    if found is None:
        return None
    raw, letters = found
    by_id = {t.id: t for t in _tasks(plan)}
    codes = set(geos.codes)
    rows, fails, seen = [], [], set()
    for rec in raw:
        status = STATUS_ALIASES.get(rec.get("status", "").lower(), rec.get("status", ""))
        if not status and not rec.get("progress") and not rec.get("evidence"):
            continue  # a task not reported this time: its last status stands
        where, tid, geo = rec["_row"], rec.get("task_id", ""), rec.get("geography_code", "")
        problems = []
        if tid not in by_id:
            problems.append(("task_id", "task_known", tid, "不是方案任务登记表中的任务代码"))
        if geo not in codes:
            problems.append(("geography_code", "known_geography", geo, "不是杭州市或其13个区、县（市）的代码"))
        elif tid in by_id and not by_id[tid].reported_by(geo):
            problems.append(("geography_code", "task_geography", geo, f"任务“{by_id[tid].title_zh}”不由该地区填报"))
        try:
            period = str(Quarter.parse(rec.get("period", "")))
        except (InvalidPeriodError, ValueError):
            period = ""
            problems.append(("period", "task_period", rec.get("period", ""), "期别应写作季度（如 2025Q4）"))
        if status not in STATUSES:
            problems.append(("status", "task_status", rec.get("status", ""), "状态须为 已完成、推进中 或 未启动 之一"))
        if status in ("已完成", "推进中") and not rec.get("progress"):
            problems.append(("progress", "task_progress_required", "", f"状态为{status}时须填写进展说明"))
        if status == "已完成" and not rec.get("evidence"):
            problems.append(("evidence", "task_evidence_required", "", "状态为已完成时须填写佐证材料（文件名、文号或网址）"))
        key = (tid, geo, period)
        if key in seen:
            problems.append(("task_id", "task_duplicate", tid, "同一任务、地区、期别填报了两次"))
        seen.add(key)
        fails += [_failure(path, where, c, rule, v, m) for c, rule, v, m in problems]
        if not problems:
            rows.append({"task_id": tid, "geography_code": geo, "period": period, "status": status,
                         "progress": rec.get("progress", ""), "evidence": rec.get("evidence", ""), "cell": where})
    return (pd.DataFrame(rows, columns=[*FIELDS, "cell"]), pd.DataFrame(fails, columns=FAILURE_COLUMNS), letters)


def refuse(path: Path, failures: pd.DataFrame, letters: dict, also: DataValidationError | None = None):
    """The error for a file whose task rows (and maybe figures) break the rules: nothing is stored."""
    if also is not None and also.failures is not None:
        failures = pd.concat([also.failures, failures], ignore_index=True)
        letters = {**(getattr(also, "letters", None) or {}), **letters}
    exc = DataValidationError(et("file_problems", n=len(failures), file=Path(path).name), failures)
    exc.letters = letters
    return exc


def store_rows(con, vintage_id: int, rows: pd.DataFrame) -> int:
    """Insert the task rows that differ from what the store holds for their key; return how many."""
    n = 0
    for r in rows.to_dict("records"):
        last = con.execute(
            "SELECT status, progress, evidence FROM task_status t JOIN vintages v USING (vintage_id) "
            "WHERE task_id=? AND geography_code=? AND period=? ORDER BY v.received_at DESC, t.status_id DESC "
            "LIMIT 1", (r["task_id"], r["geography_code"], r["period"])).fetchone()
        if last == (r["status"], r["progress"], r["evidence"]):
            continue
        con.execute("INSERT INTO task_status (vintage_id, task_id, geography_code, period, status, progress, "
                    "evidence, cell) VALUES (?,?,?,?,?,?,?,?)", (vintage_id, *(r[c] for c in FIELDS), r["cell"]))
        n += 1
    return n


def task_view(store, as_of: str | None = None, quarter: str | None = None) -> pd.DataFrame:
    """Each task's latest status per geography: reported for ``quarter`` or before, received by ``as_of``.

    Returns
    -------
    pandas.DataFrame
        ``task_id, geography_code, period, status, progress, evidence, file, received_at``.
    """
    cols = [*FIELDS, "file", "received_at"]
    if not store.path.is_file():
        return pd.DataFrame(columns=cols)
    where, params = [], []
    if as_of:
        where.append("v.received_at <= ?")
        params.append(as_of)
    if quarter:
        where.append("t.period <= ?")
        params.append(str(quarter))
    sql = f"""SELECT * FROM (
        SELECT t.*, v.name AS file, v.received_at, ROW_NUMBER() OVER (
            PARTITION BY t.task_id, t.geography_code
            ORDER BY t.period DESC, v.received_at DESC, t.status_id DESC) AS rn
        FROM task_status t JOIN vintages v USING (vintage_id)
        {'WHERE ' + ' AND '.join(where) if where else ''}) WHERE rn = 1
        ORDER BY task_id, geography_code"""
    from contextlib import closing

    with closing(store._connect()) as con:
        return pd.read_sql_query(sql, con, params=params)[cols]


def check_file(path: Path, plan, geos):
    """Check one return's figures and task rows: ``(raw figures, task rows or None)``.

    A file of task rows alone (no figure filled in, or no data sheet) is a valid return. Every
    problem of both kinds is reported in one refusal.

    Raises
    ------
    DataValidationError
        With ``.failures`` and ``.letters``; nothing is stored.
    """
    checked = check_task_sheet(path, plan, geos)
    try:
        raw = check_return(path, plan, geos)
    except DataValidationError as exc:
        no_rows = "[rule: not_empty]" in str(exc.args[0]) or "[rule: column_in_dataframe]" in str(exc.args[0])
        if checked is None or not no_rows:  # figures wrong (or no task sheet): report both sheets
            if checked is not None and len(checked[1]) and exc.failures is not None:
                raise refuse(path, checked[1], checked[2], also=exc) from None
            raise
        raw = pd.DataFrame(columns=[*REQUIRED_COLUMNS, "_row", "_file"])  # a return of tasks alone
    if checked is None:
        return raw, None
    rows, failures, letters = checked
    if len(failures):
        raise refuse(path, failures, letters)
    if rows.empty and raw.empty:
        raise DataValidationError(et("tasks_nothing_filled", file=path.name))
    return raw, rows


def first_task_received(store, periods, as_of: str | None = None) -> pd.DataFrame:
    """When each task status for ``periods`` first arrived, and in which file.

    Parameters
    ----------
    store : helpers.data.store.ObservationStore
    periods : iterable of str
        Quarters as the store writes them (``2025Q3``).
    as_of : str, optional
        Only what was received by then (the store's time format).

    Returns
    -------
    pandas.DataFrame
        ``task_id, geography_code, period, received_at, file``: one row per task, geography and period.
    """
    cols = ["task_id", "geography_code", "period", "received_at", "file"]
    periods = sorted({str(p) for p in periods})
    if not store.path.is_file() or not periods:
        return pd.DataFrame(columns=cols)
    where, params = [f"t.period IN ({','.join('?' * len(periods))})"], list(periods)
    if as_of:
        where.append("v.received_at <= ?")
        params.append(as_of)
    sql = f"""SELECT task_id, geography_code, period, received_at, file FROM (
        SELECT t.task_id, t.geography_code, t.period, v.received_at, v.name AS file, ROW_NUMBER() OVER (
            PARTITION BY t.task_id, t.geography_code, t.period ORDER BY v.received_at, t.status_id) AS rn
        FROM task_status t JOIN vintages v USING (vintage_id) WHERE {' AND '.join(where)}) WHERE rn = 1
        ORDER BY task_id, geography_code, period"""
    from contextlib import closing

    with closing(store._connect()) as con:
        return pd.read_sql_query(sql, con, params=params)[cols]
