"""Which district returns are in, late or missing (``ipeval status``, the index, the reminders).

A district's *return* for a quarter and section is the set of values it owes: every indicator of
the section that binds districts (not the city's own), for the quarter itself if quarterly, and for
the year in the fourth quarter if annual (the template asks the same, :mod:`helpers.data.template`).
Returns are due on ``schedule.returns_due_day`` (the 15th) of the month after the quarter; the
store knows when each value first arrived and in which file (:func:`helpers.data.store.first_received`).

States, per quarter x district x section:

``in``       every value arrived by the deadline (the seed file counts as known from the start);
``late``     every value arrived, some after the deadline;
``partial``  some values arrived, not all;
``missing``  nothing arrived and the deadline has passed;
``pending``  nothing arrived yet, before the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import pandas as pd

from helpers.plan.periods import Quarter

STATES = ("in", "late", "partial", "missing", "pending")
#: a district's state is the worst of its sections'
_WORST = {"missing": 4, "partial": 3, "pending": 2, "late": 1, "in": 0}
STATE_NAMES = {
    "zh": {"in": "已报", "late": "逾期已报", "partial": "部分缺报", "missing": "未报", "pending": "未到期"},
    "en": {"in": "in", "late": "late", "partial": "partial", "missing": "missing", "pending": "not yet due"},
}


def deadline(settings, q: Quarter) -> date:
    """The day district returns for ``q`` are due: ``returns_due_day`` of the month after it."""
    first = date.fromordinal(q.end_date.toordinal() + 1)
    return first.replace(day=int(settings.schedule.returns_due_day))


def coming_quarter(settings, plan, today: date) -> Quarter:
    """The quarter whose returns are due next (or are being chased): the last ended quarter until
    its deadline has passed, then the current one; never after the plan's last quarter."""
    last = Quarter.containing(today) - 1
    q = last if today <= deadline(settings, last) else last + 1
    return min(q, plan.zone_end)


def expected(plan, geo, section_id: str, q: Quarter) -> list[tuple[str, str]]:
    """``(indicator_id, period)`` a geography owes for one section and quarter."""
    out = []
    for ind in plan.indicators_in(section_id):
        if ind.city_only and not geo.is_city:
            continue
        if ind.frequency == "annual":
            if q.q == 4:
                out.append((ind.id, str(q.year)))
        else:
            out.append((ind.id, str(q)))
    return out


@dataclass
class ReturnCell:
    """One district's return for one section and quarter."""

    quarter: str
    deadline: str
    geography_code: str
    section: str
    status: str
    expected: int
    received: int
    late: int
    missing: list = field(default_factory=list)   # indicator ids not yet received
    files: list = field(default_factory=list)     # the files that brought what arrived
    last_received: str | None = None


def returns_status(settings, plan, geos, store, quarters, today: date | None = None,
                   as_of: str | None = None) -> list[ReturnCell]:
    """The returns of every district for ``quarters``, one :class:`ReturnCell` per district x section.

    Parameters
    ----------
    store : helpers.data.store.ObservationStore
    quarters : iterable of Quarter
    today : date, optional
        Decides ``missing`` against ``pending`` (default: today, UTC; the day of ``as_of`` if given).
    as_of : str, optional
        The returns as they stood at this time (the store's format), as a run ``--as-of`` saw them.
    """
    from helpers.data.store import first_received

    today = today or (date.fromisoformat(as_of[:10]) if as_of else datetime.now(timezone.utc).date())
    quarters = list(quarters)
    periods = {str(q) for q in quarters} | {str(q.year) for q in quarters if q.q == 4}
    got = first_received(store, [g.code for g in geos.districts], sorted(periods), as_of)
    arrived = {(r["indicator_id"], r["geography_code"], r["period"]): (r["received_at"], r["file"])
               for r in got.to_dict("records")}
    cells = []
    for q in quarters:
        due = deadline(settings, q)
        # a value received on the deadline day (Beijing or UTC) is on time: compare dates, UTC
        due_text = due.isoformat() + "T23:59:59Z"
        for g in geos.districts:
            for s in plan.sections:
                owed = expected(plan, g, s.id, q)
                if not owed:
                    continue
                seen = {k: arrived[(k[0], g.code, k[1])] for k in owed if (k[0], g.code, k[1]) in arrived}
                status, late = return_state(seen, len(owed), due_text, today > due)
                cells.append(ReturnCell(
                    str(q), due.isoformat(), g.code, s.id, status, len(owed), len(seen), late,
                    missing=[i for i, p in owed if (i, p) not in seen],
                    files=sorted({f for _t, f in seen.values()}),
                    last_received=max((t for t, _f in seen.values()), default=None)))
    return cells


def return_state(seen: dict, owed: int, due_text: str, overdue: bool) -> tuple[str, int]:
    """The state of one return (:data:`STATES`) and how many of its items came late: ``seen`` maps each
    item received to ``(received_at, file)``, ``owed`` is how many are due by ``due_text`` (UTC, the
    deadline day's end), ``overdue`` whether that day has passed. Shared by the figures' returns and the
    task returns (:mod:`helpers.run.task_returns`)."""
    late = sum(t > due_text for t, _f in seen.values())
    if len(seen) == owed:
        return ("late" if late else "in"), late
    if seen:
        return "partial", late
    return ("missing" if overdue else "pending"), late


def district_states(cells: list[ReturnCell]) -> dict[tuple[str, str], str]:
    """``(quarter, geography_code) -> state``: the worst state of the district's sections."""
    out: dict[tuple[str, str], str] = {}
    for c in cells:
        key = (c.quarter, c.geography_code)
        if key not in out or _WORST[c.status] > _WORST[out[key]]:
            out[key] = c.status
    return out


def outstanding(cells: list[ReturnCell], quarter: str) -> dict[str, list[ReturnCell]]:
    """The districts whose return for ``quarter`` is not complete: code -> their incomplete sections."""
    out: dict[str, list[ReturnCell]] = {}
    for c in cells:
        if c.quarter == quarter and c.status in ("missing", "partial", "pending"):
            out.setdefault(c.geography_code, []).append(c)
    return out


def returns_frame(cells: list[ReturnCell]) -> pd.DataFrame:
    """The cells as a table (for JSON and the index)."""
    return pd.DataFrame([c.__dict__ for c in cells])


def quarter_returns(settings, quarter, today: date | None = None) -> list[ReturnCell]:
    """The returns of one quarter, loading the plan, geographies and store of the settings."""
    from helpers.data.store import ObservationStore
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    return returns_status(settings, plan, geos, ObservationStore.of(settings), [Quarter.parse(str(quarter))], today)


def index_returns(settings, plan, geos, quarter, store_state) -> list[dict] | None:
    """The quarter's returns for the index, as the run's store state saw them (its ``as_of``), or
    None when the run read ``--data`` files (no store) or the store cannot say; the table is a
    help, never a reason for a run to fail."""
    import logging

    from helpers.data.store import ObservationStore

    if not store_state:
        return None
    try:
        cells = returns_status(settings, plan, geos, ObservationStore.of(settings), [Quarter.parse(str(quarter))],
                               as_of=store_state.get("as_of"))
    except Exception:  # noqa: BLE001 - logged; the index goes without the table
        logging.getLogger("ipeval.run").exception("returns table left out")
        return None
    return [c.__dict__ for c in cells]
