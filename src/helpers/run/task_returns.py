"""Which districts and lead units have sent their 任务进展 (task statuses) for a quarter (``ipeval status``).

A unit's *task return* for a quarter is a status for every plan task it reports on
(:meth:`helpers.plan.tasks.Task.reported_by`: a district its district tasks, the city its lead units'
measures and landmark outcomes), with the quarter as its period, except the tasks it reported done (已完成)
for an earlier quarter: their status stands (the template's "上次填报"). It is due on the same day as the
figures (:func:`helpers.run.returns.deadline`); the store knows when each status first arrived
(:func:`helpers.data.tasks.first_task_received`). The states are those of the figures' returns
(:data:`helpers.run.returns.STATES`): ``in``, ``late``, ``partial``, ``missing``, ``pending``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from helpers.run.returns import STATE_NAMES, deadline, return_state

_T = {
    "zh": {"head": "任务进展（区县与市级牵头单位，截止日同上）",
           "quarter": "{q}（截止 {due}）：{counts}", "not_in": "  未报齐：", "all_in": "  全部已报",
           "lead": "{city}（牵头单位）", "of": "（{received}/{expected}）"},
    "en": {"head": "Task statuses (districts and the city's lead units; due as above)",
           "quarter": "{q} (due {due}): {counts}", "not_in": "  not complete: ", "all_in": "  all in",
           "lead": "{city} lead units", "of": " ({received}/{expected})"},
}


@dataclass
class TaskReturnCell:
    """One unit's task statuses for one quarter."""

    quarter: str
    deadline: str
    geography_code: str
    status: str
    expected: int
    received: int
    late: int
    missing: list = field(default_factory=list)   # task ids without a status for the quarter
    files: list = field(default_factory=list)     # the files that brought the statuses
    last_received: str | None = None


def task_returns_status(settings, plan, geos, store, quarters, today: date | None = None,
                        as_of: str | None = None) -> list[TaskReturnCell]:
    """The task returns of the city's lead units and every district for ``quarters``.

    Parameters
    ----------
    store : helpers.data.store.ObservationStore
    quarters : iterable of Quarter
    today : date, optional
        Decides ``missing`` against ``pending`` (default: today, UTC; the day of ``as_of`` if given).
    as_of : str, optional
        The returns as they stood at this time (the store's format).

    Returns
    -------
    list of TaskReturnCell
        One per quarter and unit that owes at least one task status; empty for a plan without tasks.
    """
    from helpers.data.tasks import first_task_received, task_view
    from helpers.plan.tasks import load_tasks, tasks_for

    today = today or (date.fromisoformat(as_of[:10]) if as_of else datetime.now(timezone.utc).date())
    quarters = list(quarters)
    tasks = load_tasks(plan.path, check_text=False)
    units = [(g.code, [t.id for t in tasks_for(tasks, g.code)]) for g in [geos.city, *geos.districts]]
    units = [(code, ids) for code, ids in units if ids]
    if not units:
        return []
    got = first_task_received(store, [str(q) for q in quarters], as_of)
    arrived = {(r["task_id"], r["geography_code"], r["period"]): (r["received_at"], r["file"])
               for r in got.to_dict("records")}
    cells = []
    for q in quarters:
        due = deadline(settings, q)
        due_text = due.isoformat() + "T23:59:59Z"  # on the deadline day is on time, as for the figures
        before = task_view(store, as_of=as_of, quarter=str(q - 1))
        done = set(zip(before.loc[before["status"] == "已完成", "task_id"],
                       before.loc[before["status"] == "已完成", "geography_code"]))
        for code, all_ids in units:
            ids = [tid for tid in all_ids if (tid, code) not in done]
            if not ids:  # every task of the unit done before this quarter: nothing owed
                continue
            seen = {tid: arrived[(tid, code, str(q))] for tid in ids if (tid, code, str(q)) in arrived}
            status, late = return_state(seen, len(ids), due_text, today > due)
            cells.append(TaskReturnCell(
                str(q), due.isoformat(), code, status, len(ids), len(seen), late,
                missing=[tid for tid in ids if tid not in seen], files=sorted({f for _t, f in seen.values()}),
                last_received=max((t for t, _f in seen.values()), default=None)))
    return cells


def render_task_returns(cells: list[dict], quarters: list[str], geos, lang: str = "zh") -> list[str]:
    """The task returns for a person: per quarter (newest first) the count of units in each state
    and the units not complete, each with how many of its tasks have a status."""
    if not cells:
        return []
    t, names = _T[lang], STATE_NAMES[lang]
    sep = "、" if lang == "zh" else ", "
    lines = ["", t["head"]]
    for q in reversed(quarters):
        mine = [c for c in cells if c["quarter"] == q]
        if not mine:
            continue
        counts = sep.join(f"{names[s]} {n}" for s in names
                          if (n := sum(c["status"] == s for c in mine)))
        lines.append(t["quarter"].format(q=q, due=mine[0]["deadline"], counts=counts))
        bad = [c for c in mine if c["status"] in ("missing", "partial")]
        if bad:
            lines.append(t["not_in"] + sep.join(_unit(c, geos, lang) for c in bad))
        elif all(c["status"] in ("in", "late") for c in mine):
            lines.append(t["all_in"])
    return lines


def _unit(cell: dict, geos, lang: str) -> str:
    g = geos.get(cell["geography_code"])
    name = _T[lang]["lead"].format(city=g.name(lang)) if g.is_city else g.name(lang)
    return name + _T[lang]["of"].format(received=cell["received"], expected=cell["expected"])
