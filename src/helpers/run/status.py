"""``ipeval status``: the returns, the last runs, the next firing, the store and failed sends.

:func:`collect` gathers everything as plain data (what ``--json`` prints); :func:`render_text`
writes it for a person, Chinese by default.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from helpers.plan.periods import Quarter
from helpers.run.returns import STATE_NAMES, coming_quarter, district_states, returns_status
from helpers.run.task_returns import render_task_returns

_T = {
    "zh": {"returns": "区县报表（截止日：季度结束后次月 {day} 日）", "quarter": "{q}（截止 {due}）",
           "not_in": "  未报齐：", "all_in": "  全部已报", "runs": "最近的运行", "no_runs": "  （无）",
           "run": "  {q} {started}  退出码 {code}  报告 {n} 份，失败 {failed}  已达标 {achieved} 未达标 {missed} 进行中 {open}",
           "failed": "    失败：{what}", "next": "下次定时运行：{t}", "store": "数据库：{path}",
           "store_line": "  版本 {n} 个；最近导入 {last}；完整性检查 {ok}", "sends": "发送失败的消息（最近 {n} 条）",
           "send": "  {time} {channel} {event} {quarter}：{detail}", "legend": "图例：", "never": "无"},
    "en": {"returns": "District returns (due the {day}th of the month after the quarter)", "quarter": "{q} (due {due})",
           "not_in": "  not complete: ", "all_in": "  all in", "runs": "Last runs", "no_runs": "  (none)",
           "run": "  {q} {started}  exit {code}  {n} reports, {failed} failed  achieved {achieved} missed {missed} open {open}",
           "failed": "    failed: {what}", "next": "Next scheduled run: {t}", "store": "Store: {path}",
           "store_line": "  {n} vintages; last ingest {last}; integrity check {ok}", "sends": "Failed sends (last {n})",
           "send": "  {time} {channel} {event} {quarter}: {detail}", "legend": "Legend: ", "never": "never"},
}
_MARK = {"in": "✓", "late": "迟", "partial": "缺", "missing": "✗", "pending": "…", None: "—"}
_MARK_EN = {"in": "ok", "late": "late", "partial": "part", "missing": "MISS", "pending": "due", None: "-"}


def run_history(settings, quarters, per_quarter: int = 3) -> list[dict]:
    """The last runs of each quarter, from ``outputs/runs/<quarter>/*/manifest.json``, newest first."""
    out = []
    for q in quarters:
        found = []
        for m in (settings.outputs_path / "runs" / str(q)).glob("*/manifest.json"):
            try:
                man = json.loads(m.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            jobs = man.get("jobs") or []
            failed = [j for j in jobs if j.get("status") == "failed"]
            found.append({"quarter": str(q), "run_id": man.get("run_id"), "started": man.get("started"),
                          "finished": man.get("finished"), "exit_code": 1 if failed else 0, "jobs": len(jobs),
                          "failed": [f"{j.get('section')} {j.get('geography_code')}: "
                                     f"{(j.get('error') or '').strip().splitlines()[0][:160] if j.get('error') else ''}"
                                     for j in failed],
                          "counts": man.get("city_counts") or {}, "folder": str(m.parent)})
        out += sorted(found, key=lambda r: r["started"] or "", reverse=True)[:per_quarter]
    return out


def next_firing(settings, now: datetime | None = None) -> str | None:
    """The schedule's next firing, ISO with its time zone."""
    from zoneinfo import ZoneInfo

    from helpers.run.schedule import trigger

    nxt = trigger(settings).get_next_fire_time(None, now or datetime.now(ZoneInfo(settings.schedule.timezone)))
    return nxt.isoformat() if nxt else None


def collect(settings, quarter: str | None = None, today: date | None = None, n_before: int = 4) -> dict:
    """Everything ``ipeval status`` shows, as plain data.

    Parameters
    ----------
    quarter : str, optional
        The focal quarter (default: the one whose returns are due next, :func:`coming_quarter`);
        the ``n_before`` quarters before it are shown too.
    """
    from helpers.data.store import ObservationStore, store_health
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.run.notify.dispatch import failed_sends

    today = today or datetime.now(timezone.utc).date()
    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    store = ObservationStore.of(settings)
    if settings.data_path.is_file():
        store.ensure_seed(settings.data_path, plan, geos)
    focal = Quarter.parse(quarter) if quarter else coming_quarter(settings, plan, today)
    quarters = [focal - k for k in range(n_before, -1, -1)]
    cells = returns_status(settings, plan, geos, store, quarters, today)
    states = district_states(cells)
    return {
        "today": today.isoformat(), "quarter": str(focal), "quarters": [str(q) for q in quarters],
        "sections": [s.id for s in plan.sections],
        "returns": [c.__dict__ for c in cells],
        "districts": [{"quarter": q, "geography_code": g, "status": s} for (q, g), s in states.items()],
        "runs": run_history(settings, reversed(quarters)),
        "next_run": next_firing(settings),
        "store": store_health(store),
        "failed_sends": failed_sends(settings),
        "task_returns": _task_returns(settings, plan, geos, store, quarters, today),
    }


def _task_returns(settings, plan, geos, store, quarters, today) -> list[dict]:
    """The 任务进展 returns of the quarters (:mod:`helpers.run.task_returns`), the demo's stored first
    as a run stores them."""
    from helpers.run.task_returns import task_returns_status
    from helpers.run.task_status import ensure_demo_task_returns

    ensure_demo_task_returns(settings, plan, geos)
    return [c.__dict__ for c in task_returns_status(settings, plan, geos, store, quarters, today)]


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a Chinese character takes two)."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 1)


def _returns_text(st: dict, plan, geos, lang: str) -> list[str]:
    marks = _MARK if lang == "zh" else _MARK_EN
    by = {(c["quarter"], c["geography_code"], c["section"]): c for c in st["returns"]}
    dist = {(d["quarter"], d["geography_code"]): d["status"] for d in st["districts"]}
    names = STATE_NAMES[lang]
    lines = []
    width, col = 16, 10
    for q in reversed(st["quarters"]):
        due = next((c["deadline"] for c in st["returns"] if c["quarter"] == q), "")
        lines += ["", _T[lang]["quarter"].format(q=q, due=due)]
        lines.append("  " + _pad("", width) + "".join(_pad(plan.section(s).name(lang)[:4 if lang == "zh" else 8], col)
                                                      for s in st["sections"]))
        for g in geos.districts:
            cells = [marks[(by.get((q, g.code, s)) or {}).get("status")] for s in st["sections"]]
            lines.append("  " + _pad(g.name(lang), width) + "".join(_pad(m, col) for m in cells)
                         + names.get(dist.get((q, g.code)) or "", ""))
        bad = [g.name(lang) for g in geos.districts if dist.get((q, g.code)) in ("missing", "partial")]
        lines.append(_T[lang]["not_in"] + ("、" if lang == "zh" else ", ").join(bad) if bad else _T[lang]["all_in"])
    legend = ("；" if lang == "zh" else "; ").join(f"{marks[k]} {names[k]}" for k in names)
    return lines + ["", _T[lang]["legend"] + legend]


def render_text(st: dict, settings, lang: str = "zh") -> str:
    """The status for a person: returns by quarter, district and section, runs, schedule, store, sends."""
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    t = _T[lang]
    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    lines = [t["returns"].format(day=settings.schedule.returns_due_day), *_returns_text(st, plan, geos, lang)]
    lines += render_task_returns(st.get("task_returns") or [], st["quarters"], geos, lang)
    lines += ["", t["runs"]]
    for r in st["runs"]:
        c = {"achieved": "?", "missed": "?", "open": "?", **r["counts"]}
        lines.append(t["run"].format(q=r["quarter"], started=r["started"], code=r["exit_code"], n=r["jobs"],
                                     failed=len(r["failed"]), **c))
        lines += [t["failed"].format(what=f) for f in r["failed"][:5]]
    if not st["runs"]:
        lines.append(t["no_runs"])
    lines += ["", t["next"].format(t=st["next_run"] or t["never"])]
    s = st["store"]
    last = s["last_ingest"]
    lines += [t["store"].format(path=s["path"]),
              t["store_line"].format(n=s["vintages"], last=f"{last['received_at']} {last['name']}" if last else t["never"],
                                     ok=s["integrity"] or t["never"])]
    if st["failed_sends"]:
        lines += ["", t["sends"].format(n=len(st["failed_sends"]))]
        lines += [t["send"].format(**{k: e.get(k, "") for k in ("time", "channel", "event", "quarter", "detail")})
                  for e in st["failed_sends"]]
    return "\n".join(lines)
