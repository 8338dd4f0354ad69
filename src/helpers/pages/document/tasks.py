"""工作成效 and 任务完成情况: the report's chapters on the plan's tasks, built from the task returns.

The evaluation team edits data (the 任务进展 sheets, :mod:`helpers.data.tasks`), not prose: the run
writes the statuses it saw to ``task_status.csv`` (:mod:`helpers.run.task_status`) and this module
turns them into blocks. :func:`add_task_chapters` inserts them before 存在问题与建议 and renumbers
the chapters after them, so it is one call after the document is built.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypedDict

import pandas as pd

from helpers.i18n import dt
from helpers.pages.document import tasks_en as en
from helpers.pages.document.blocks import Heading, Para, Table
from helpers.plan.tasks import KIND_LABELS_ZH, load_tasks

FILE = "task_status.csv"
NOT_REPORTED = "未报送"
ORDER = ("已完成", "推进中", "未启动", NOT_REPORTED)
_NUMERALS = "一二三四五六七八九十"
_ZH_HEAD = re.compile(r"^([一二三四五六七八九十]+)、")
_EN_HEAD = re.compile(r"^(\d+)\. ")


class _Texts(TypedDict):
    """One language's texts of the task chapters: templates for ``str.format``, ``kinds`` by task
    kind, ``cols``/``dcols`` the tables' column heads."""

    h_results: str
    h_tasks: str
    kinds: dict[str, str]
    sub: str
    summary: str
    lead: str
    part: str
    none_reported: str
    evidence: str
    demo: str
    intro_tasks: str
    open: str
    caption: str
    cols: list[str]
    dcols: list[str]
    c_main: str
    c_district: str
    sep: str


TEXTS: dict[str, _Texts] = {
    "zh": {"h_results": "工作成效", "h_tasks": "任务完成情况", "kinds": KIND_LABELS_ZH, "sub": "（{n}）{kind}",
           "summary": "{kind}{n}项中，{parts}", "lead": "截至{quarter}，{body}。", "part": "{status}{n}项",
           "none_reported": "截至{quarter}，尚无任务进展填报。",
           "evidence": "（佐证：{e}）",
           "demo": "注：本章任务进展为演示填报（进展说明以【演示】标注），并非真实填报。",
           "intro_tasks": "下表列出方案各项任务的状态、进展说明和佐证材料。责任单位按方案写法；方案未逐项明确责任单位的，"
                          "列牵头实施单位并注（牵头）。",
           "open": "尚未完成的{kind}：{names}。", "caption": "表{n} {name}",
           "cols": ["序号", "任务（方案条款）", "责任单位", "状态", "进展说明", "佐证材料"],
           "dcols": ["任务", "地区", "状态", "进展说明"], "c_main": "主要措施和区域性标志成果完成情况",
           "c_district": "区县（市）任务完成情况", "sep": "；"},
    "en": {"h_results": "Results of the work", "h_tasks": "Tasks", "sub": "{kind}", "kinds": {
               "measure": "key measures", "landmark": "landmark outcomes", "district": "district tasks"},
           "summary": "of {n} {kind}: {parts}", "lead": "By {quarter}, {body}.", "part": "{status} {n}",
           "none_reported": "By {quarter} no task status has been reported.", "evidence": " (evidence: {e})",
           "demo": "Note: the task statuses of this chapter are demonstration returns (files DEMO_tasks_*), not real ones.",
           "intro_tasks": "Status, progress and evidence of each task of the plan; responsible bodies as the plan names "
                          "them, or the plan's lead marked (lead). " + en.TITLES_NOTE,
           "open": "Not completed ({kind}): {names}.", "caption": "Table {n} {name}",
           "cols": ["No.", "Task (clause)", "Responsible", "Status", "Progress (as returned)", "Evidence"],
           "dcols": ["Task", "Geography", "Status", "Progress (as returned)"], "c_main": "Key measures and landmark outcomes",
           "c_district": "District tasks", "sep": "; "},
}


def read_task_status(run_dir: str | Path) -> pd.DataFrame:
    """The run's ``task_status.csv`` (empty when the run predates task returns)."""
    p = Path(run_dir) / FILE
    cols = ["task_id", "geography_code", "period", "status", "progress", "evidence", "file"]
    if not p.is_file():
        return pd.DataFrame(columns=cols)
    return pd.read_csv(p, dtype=str, keep_default_na=False)


def _rows_for(tasks, status: pd.DataFrame, codes) -> list[tuple]:
    """(task, geography code, status row or None) for each task each of ``codes`` reports on."""
    got = {(r["task_id"], r["geography_code"]): r for r in status.to_dict("records")}
    return [(t, c, got.get((t.id, c))) for t in tasks for c in codes if t.reported_by(c)]


def _title(t, lang: str) -> str:
    """A task's title: the plan's Chinese, or in English our translation with the Chinese beside it."""
    return t.title_zh if lang == "zh" else en.title_en(t)


def _status(status: str, lang: str) -> str:
    return status if lang == "zh" else en.status_en(status)


def _said(r, key: str, lang: str, root=None) -> str:
    """A return's progress note or evidence as the report prints it (``—`` for none)."""
    text = (r[key] if r else "") or ""
    if lang == "zh":
        return text or "—"
    return en.evidence_en(text, root) if key == "evidence" else en.returned_en(text)


def _counts_sentence(T, kind, rows, lang: str = "zh") -> str | None:
    if not rows:
        return None
    states = [r["status"] if r else NOT_REPORTED for _t, _c, r in rows]
    parts = ("、" if lang == "zh" else ", ").join(T["part"].format(status=_status(s, lang), n=states.count(s))
                                                 for s in ORDER if states.count(s))
    return T["summary"].format(kind=T["kinds"][kind], n=len(rows), parts=parts)


def task_blocks(tables, geo, lang: str, start_table: int) -> tuple[list, list, int]:
    """The blocks of 工作成效 and of 任务完成情况 for one geography, and the tables they used.

    Returns
    -------
    (results, completion, n_tables)
        Blocks after each chapter's heading; ``n_tables``: tables numbered from ``start_table``.
    """
    T = TEXTS.get(lang, TEXTS["zh"])
    tasks = load_tasks(tables.plan.path, check_text=False)
    status = read_task_status(tables.run_dir)
    names = {g.code: g.name(lang) for g in tables.geos.all}
    codes = [g.code for g in tables.geos.all] if geo.is_city else [geo.code]
    quarter = _quarter_text(tables.quarter, lang)
    mine = status[status["geography_code"].isin(codes)]
    if mine.empty:
        return [Para(T["none_reported"].format(quarter=quarter))], [Para(T["none_reported"].format(quarter=quarter))], 0
    # the city's report: measures and landmarks as the city reports them, district tasks as each district does
    by_kind = {k: [x for x in _rows_for([t for t in tasks if t.kind == k], status, codes)
                   if not geo.is_city or (x[1] == geo.code) == (k != "district")]
               for k in ("measure", "landmark", "district")}
    counts = [s for s in (_counts_sentence(T, k, by_kind[k], lang) for k in by_kind) if s]
    root = getattr(getattr(tables, "settings", None), "root", None)
    results: list[Heading | Para] = [Para(T["lead"].format(quarter=quarter, body=T["sep"].join(counts)))] if counts else []
    if lang != "zh" and counts:  # say once, before the first quoted note, what is translated and what is quoted
        results.append(Para(en.TITLES_NOTE, "note"))
    n_sub = 0
    for k in ("measure", "landmark", "district"):
        done = [(t, c, r) for t, c, r in by_kind[k] if r and r["status"] in ("已完成", "推进中") and r["progress"]]
        if not done:
            continue
        order = {g.code: j for j, g in enumerate(tables.geos.all)}
        done.sort(key=lambda x: (ORDER.index(x[2]["status"]), order.get(x[1], 99)))
        n_sub += 1
        results.append(Heading(T["sub"].format(n=_NUMERALS[n_sub - 1], kind=T["kinds"][k]) if lang == "zh"
                               else T["kinds"][k].capitalize(), 2))
        for t, c, r in done:
            who = names[c] if k == "district" and geo.is_city and not t.title_zh.startswith(names[c]) else ""
            ev = (T["evidence"].format(e=_said(r, "evidence", lang, root))
                  if r["evidence"] and r["status"] == "已完成" else "")
            if lang == "zh":
                lead = f"{who}：{t.title_zh}" if who else t.title_zh
                results.append(Para(f"{lead}（{r['status']}）。{r['progress']}{ev}", "bullet"))
            else:
                lead = f"{who}: {_title(t, lang)}" if who else _title(t, lang)
                results.append(Para(f"{lead}: {_status(r['status'], lang)}. {_said(r, 'progress', lang)}{ev}",
                                    "bullet"))
    if mine["file"].astype(str).str.startswith("DEMO").any():
        results.append(Para(T["demo"], "note"))
    completion: list[Para | Table] = [Para(T["intro_tasks"], "note")]
    n = 0
    main = by_kind["measure"] + by_kind["landmark"]
    if main:
        body = [[str(j), _task_cell(t, lang), t.responsible_text if lang == "zh" else t.responsible_text_en,
                 _status(r["status"] if r else NOT_REPORTED, lang), _said(r, "progress", lang),
                 _said(r, "evidence", lang, root)]
                for j, (t, _c, r) in enumerate(main, start=1)]
        completion.append(Table(T["cols"], body, [10, 34, 24, 14, 46, 28], font_size=8,
                                caption=dt(lang, "table_caption", n=start_table + n, name=T["c_main"]),
                                align=["C", "L", "L", "C", "L", "L"]))
        n += 1
    if by_kind["district"]:
        body = [[_task_cell(t, lang), names[c], _status(r["status"] if r else NOT_REPORTED, lang),
                 _said(r, "progress", lang)] for t, c, r in by_kind["district"]]
        completion.append(Table(T["dcols"], body, [48, 18, 14, 76], font_size=8,
                                caption=dt(lang, "table_caption", n=start_table + n, name=T["c_district"]),
                                align=["L", "L", "C", "L"]))
        n += 1
    for k in ("measure", "landmark"):
        open_ = [_title(t, lang) for t, _c, r in by_kind[k] if not r or r["status"] != "已完成"]
        if open_ and tables.final:
            completion.append(Para(T["open"].format(kind=T["kinds"][k], names=T["sep"].join(open_))))
    return results, completion, n


def _task_cell(t, lang: str) -> str:
    """The task column: ``title（二(一)1）`` (zh), ``title (“标题”), clause 2(1)1`` (en)."""
    return f"{t.title_zh}（{t.ref}）" if lang == "zh" else f"{en.title_en(t)}, clause {t.ref_en}"


def _quarter_text(q, lang: str) -> str:
    if lang != "zh":
        return str(q)
    return f"{q.year}年第{_NUMERALS[q.q - 1]}季度"


def add_task_chapters(doc, tables, geo_code: str, lang: str = "zh"):
    """Insert 工作成效 and 任务完成情况 before 存在问题与建议 and renumber the chapters after them.

    Table numbers after the insertion point move up by the tables inserted. Returns ``doc``.
    """
    geo = tables.geos.get(geo_code)
    blocks = doc.blocks
    problems = dt(lang, "h_problems")
    at = next((k for k, b in enumerate(blocks) if isinstance(b, Heading) and b.level == 1 and b.text == problems), None)
    if at is None:  # a layout without that chapter: before the annexes, else at the end
        annex = dt(lang, "h_annex")
        at = next((k for k, b in enumerate(blocks) if isinstance(b, Heading) and b.text == annex), len(blocks))
    before = sum(1 for b in blocks[:at] if isinstance(b, Table) and b.caption)
    results, completion, n_new = task_blocks(tables, geo, lang, before + 1)
    T = TEXTS.get(lang, TEXTS["zh"])
    new = [Heading(T["h_results"], 1), *results, Heading(T["h_tasks"], 1), *completion]
    for b in blocks[at:]:
        if isinstance(b, Table) and b.caption and n_new:
            b.caption = _shift_caption(b.caption, n_new)
    blocks[at:at] = new
    _renumber(blocks, lang)
    blocks.extend(_clause_annex(tables, geo, lang, sum(1 for b in blocks if isinstance(b, Table) and b.caption) + 1))
    return doc


def _clause_annex(tables, geo, lang: str, n_table: int) -> list:
    """附件4: the tasks of this report with their clause verbatim from the plan and their 责任单位."""
    tasks = [t for t in load_tasks(tables.plan.path, check_text=False) if geo.is_city or t.reported_by(geo.code)]
    if not tasks:
        return []
    zh = lang == "zh"
    head = (["任务", "方案条款", "责任单位", "方案原文"] if zh
            else ["Task (our translation)", "Clause", "Responsible", "Text of the plan (Chinese)"])
    rows = ([[t.title_zh, t.ref, t.responsible_text, t.clause] for t in tasks] if zh
            else [[en.title_en(t), t.ref_en, t.responsible_text_en, f"“{t.clause}”"] for t in tasks])
    return [Heading("附件4 方案任务与原文" if zh else "Annex 4 The plan's tasks", 2),
            Table(head, rows, [32, 14, 26, 84], font_size=8,
                  caption=dt(lang, "table_caption", n=n_table, name="方案任务" if zh else "Tasks"))]


def _shift_caption(caption: str, by: int) -> str:
    return re.sub(r"^(表|Table )(\d+)", lambda m: f"{m.group(1)}{int(m.group(2)) + by}", caption, count=1)


def _renumber(blocks, lang: str) -> None:
    """Number the level-1 chapters 一、二、… (zh) or 1. 2. … (en) in order; unnumbered ones (附件) stay."""
    n = 0
    pattern = _ZH_HEAD if lang == "zh" else _EN_HEAD
    for b in blocks:
        if not isinstance(b, Heading) or b.level != 1:
            continue
        if b.text in (TEXTS["zh"]["h_results"], TEXTS["zh"]["h_tasks"], TEXTS["en"]["h_results"],
                      TEXTS["en"]["h_tasks"]) or pattern.match(b.text):
            n += 1
            bare = pattern.sub("", b.text)
            b.text = f"{_NUMERALS[n - 1]}、{bare}" if lang == "zh" and n <= 10 else f"{n}. {bare}"
