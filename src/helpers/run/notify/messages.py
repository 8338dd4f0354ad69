"""The messages: a run's result, a failed run, a reminder to a district, the reminders' summary.

Each is a :class:`Message` with a subject, a plain text body (lines a group robot shows as they are)
and attachments. Chinese by default (``lang='en'`` for English).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import pandas as pd


class _Texts(TypedDict):
    """One language's texts: templates for ``str.format``; ``stage`` and ``remind_when`` by key."""

    ok_subject: str
    partly_subject: str
    fail_subject: str
    stage: dict[str, str]
    counts: str
    changes: str
    change_line: str
    no_changes: str
    failed_jobs: str
    attached: str
    files_head: str
    files: str
    incomplete: str
    incomplete_line: str
    reason: str
    log: str
    untouched: str
    remind_subject: str
    remind_body: str
    remind_when: dict[str, str]
    remind_line: str
    summary_subject: str
    summary_body: str
    summary_line: str
    sep: str


_T: dict[str, _Texts] = {
    "zh": {
        "ok_subject": "【ipeval】{quarter} 评估已完成：已达标 {achieved}，未达标 {missed}，进行中 {open}",
        "partly_subject": "【ipeval】{quarter} 评估已完成，{failed} 份报告失败",
        "fail_subject": "【ipeval】{quarter} 定时评估失败",
        "stage": {"final": "终期评估", "midterm": "中期评估"},
        "counts": "{stage}（全市）：已达标 {achieved} 项，未达标 {missed} 项，尚在进行 {open} 项。",
        "changes": "与上次发布相比变化最大的指标：",
        "change_line": "  - {name}（{geo}）：{old} → {new}（{cause}）",
        "no_changes": "与上次发布相比无明显变化。",
        "failed_jobs": "失败的报告（{n}）：",
        "attached": "附件：全市评估报告（PDF）。其余文件：",
        "files_head": "文件：",
        "files": "  首页 {index}\n  评估表 {xlsx}\n  各区县报告 {documents}",
        "incomplete": "注意：本次评估时以下区县 {quarter} 的报表尚未报齐，结论基于不完整的数据：",
        "incomplete_line": "  - {name}：{sections}",
        "reason": "原因：{reason}",
        "log": "日志：{log}",
        "untouched": "此前发布的结果保持不变。",
        "remind_subject": "【催报】{name} {quarter} 知识产权保护统计报表（截止 {deadline}）",
        "remind_body": ("{contact}：\n\n{name} {quarter} 的知识产权保护统计报表{when}，截止日期为 {deadline}。"
                        "尚未收到以下部分：\n{lines}\n\n附件为已预填往期数值的报送模板，请填写黄色单元格后交回市级评估组"
                        "（或放入 data/inbox/）。如已报送，请忽略本提醒。"),
        "remind_when": {"before": "将于 {days} 天后截止", "today": "今天截止", "after": "已逾期"},
        "remind_line": "  - {section}：缺 {n} 项（{names}）",
        "summary_subject": "【ipeval】{quarter} 报表催报：{n} 个区县未报齐（截止 {deadline}）",
        "summary_body": "{quarter} 报表截止 {deadline}，以下区县尚未报齐，已向其联系人发送提醒：",
        "summary_line": "  - {name}：{sections}",
        "sep": "、",
    },
    "en": {
        "ok_subject": "[ipeval] {quarter} evaluated: {achieved} achieved, {missed} missed, {open} open",
        "partly_subject": "[ipeval] {quarter} evaluated, {failed} report(s) failed",
        "fail_subject": "[ipeval] the scheduled run of {quarter} failed",
        "stage": {"final": "Final assessment", "midterm": "Mid-term assessment"},
        "counts": "{stage} (city): {achieved} targets achieved, {missed} missed, {open} still open.",
        "changes": "Largest changes since the last published run:",
        "change_line": "  - {name} ({geo}): {old} -> {new} ({cause})",
        "no_changes": "No notable change since the last published run.",
        "failed_jobs": "Failed reports ({n}):",
        "attached": "Attached: the city's assessment report (PDF). The other files:",
        "files_head": "Files:",
        "files": "  index {index}\n  workbook {xlsx}\n  district reports {documents}",
        "incomplete": "Note: these districts' {quarter} returns were not complete; the run judged on incomplete data:",
        "incomplete_line": "  - {name}: {sections}",
        "reason": "Reason: {reason}",
        "log": "Log: {log}",
        "untouched": "The results published before are unchanged.",
        "remind_subject": "[reminder] {name} {quarter} IP protection return (due {deadline})",
        "remind_body": ("{contact}:\n\n{name}'s {quarter} IP protection return {when}; the deadline is {deadline}. "
                        "Not yet received:\n{lines}\n\nAttached is the template pre-filled with earlier values: fill "
                        "the yellow cells and send it back to the city's evaluation team (or drop it in data/inbox/). "
                        "If you have already sent it, please ignore this reminder."),
        "remind_when": {"before": "is due in {days} days", "today": "is due today", "after": "is overdue"},
        "remind_line": "  - {section}: {n} missing ({names})",
        "summary_subject": "[ipeval] {quarter} returns: {n} district(s) incomplete (due {deadline})",
        "summary_body": "{quarter} returns are due {deadline}; these districts are not complete and were reminded:",
        "summary_line": "  - {name}: {sections}",
        "sep": ", ",
    },
}


@dataclass
class Message:
    """One message. ``to`` set: only to those addresses (a district's contact), by e-mail; empty:
    to each channel's own recipients (the office: e-mail ``to``, the group robots)."""

    event: str                    # result | reminder
    quarter: str
    subject: str
    text: str
    attachments: list = field(default_factory=list)
    to: tuple = ()
    geography_code: str | None = None


def _sections(plan, cells, lang) -> str:
    return _T[lang]["sep"].join(plan.section(c.section).name(lang) for c in cells)


def incomplete_lines(plan, geos, missing: dict, quarter: str, lang: str) -> list[str]:
    """The lines saying which districts' returns were not complete (empty if all were)."""
    if not missing:
        return []
    t = _T[lang]
    return [t["incomplete"].format(quarter=quarter),
            *(t["incomplete_line"].format(name=geos.get(code).name(lang), sections=_sections(plan, cells, lang))
              for code, cells in missing.items())]


def _top_changes(run_dir: Path, plan, geos, lang: str, n: int = 5) -> list[str]:
    path = run_dir / "changes.csv"
    if not path.is_file():
        return []
    ch = pd.read_csv(path, dtype={"geography_code": str})
    if ch.empty or "change" not in ch:
        return []
    ch = ch[ch["change"].notna()]
    ch = ch.assign(size=ch["change"].abs()).sort_values("size", ascending=False).head(n)
    t, out = _T[lang], []
    for r in ch.to_dict("records"):
        try:
            name = plan.indicator(r["indicator_id"]).name_zh if lang == "zh" else plan.indicator(r["indicator_id"]).name_en
        except Exception:  # noqa: BLE001 - an indicator since removed from the registry: its id
            name = r["indicator_id"]
        fmt = lambda p: "—" if pd.isna(p) else f"{float(p):.0%}"  # noqa: E731
        out.append(t["change_line"].format(name=name, geo=geos.get(r["geography_code"]).name(lang),
                                           old=fmt(r.get("previous_probability")), new=fmt(r.get("probability")),
                                           cause=r.get("cause") or ""))
    return out


def city_pdf(run_dir: Path, city_code: str) -> Path | None:
    """The city's assessment report (PDF) of a published run, if the run wrote documents."""
    found = sorted((run_dir / "documents").glob(f"{city_code}_*.pdf"))
    return found[0] if found else None


def result_message(run_dir: Path, plan, geos, exit_code: int, missing: dict, lang: str = "zh") -> Message:
    """The message after a published run: counts, largest changes, the city's PDF, paths to the rest."""
    t = _T[lang]
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    q = m["quarter"]
    counts = m.get("city_counts") or {"achieved": 0, "missed": 0, "open": 0}
    failed = [j for j in m.get("jobs", []) if j.get("status") == "failed"]
    subject = (t["partly_subject"].format(quarter=q, failed=len(failed)) if exit_code
               else t["ok_subject"].format(quarter=q, **counts))
    lines = [t["counts"].format(stage=t["stage"].get(m.get("assessment_stage"), ""), **counts), ""]
    changes = _top_changes(run_dir, plan, geos, lang)
    lines += [t["changes"], *changes] if changes else [t["no_changes"]]
    if failed:
        lines += ["", t["failed_jobs"].format(n=len(failed)),
                  *(f"  - {j['section']} {j['geography_code']}: {(j.get('error') or '').splitlines()[0][:200] if j.get('error') else ''}"
                    for j in failed[:10])]
    inc = incomplete_lines(plan, geos, missing, q, lang)
    lines += ["", *inc] if inc else []
    pdf = city_pdf(run_dir, geos.city.code)
    lines += ["", t["attached"] if pdf else t["files_head"],
              t["files"].format(index=run_dir / "index.html", xlsx=run_dir / "assessments.xlsx",
                                documents=run_dir / "documents")]
    return Message("result", q, subject, "\n".join(lines), [pdf] if pdf else [])


def failure_message(quarter: str, reason: str, log_path, missing: dict, plan, geos, lang: str = "zh") -> Message:
    """The message after a run that published nothing: the one-line reason and where the log is."""
    t = _T[lang]
    lines = [t["reason"].format(reason=str(reason).strip().splitlines()[0][:500] if str(reason).strip() else "?"),
             t["log"].format(log=log_path), t["untouched"]]
    if plan is not None:
        inc = incomplete_lines(plan, geos, missing, quarter, lang)
        lines += ["", *inc] if inc else []
    return Message("result", str(quarter), t["fail_subject"].format(quarter=quarter), "\n".join(lines))


def reminder_message(plan, geo, contact: dict, quarter: str, deadline, today, cells, template: Path | None,
                     lang: str = "zh") -> Message:
    """The reminder (催报) to one district: what is missing, the deadline, its pre-filled template."""
    t = _T[lang]
    days = (deadline - today).days
    when = t["remind_when"]["today" if days == 0 else ("before" if days > 0 else "after")].format(days=days)
    lines = []
    for c in cells:
        names = [plan.indicator(i).name_zh if lang == "zh" else plan.indicator(i).name_en for i in c.missing]
        lines.append(t["remind_line"].format(section=plan.section(c.section).name(lang), n=len(c.missing),
                                             names=t["sep"].join(names[:6]) + ("…" if len(names) > 6 else "")))
    name = geo.name(lang)
    body = t["remind_body"].format(contact=contact.get("name") or name, name=name, quarter=quarter, when=when,
                                   deadline=deadline.isoformat(), lines="\n".join(lines))
    return Message("reminder", str(quarter), t["remind_subject"].format(name=name, quarter=quarter,
                                                                      deadline=deadline.isoformat()),
                   body, [template] if template else [], to=tuple(contact.get("email") or ()), geography_code=geo.code)


def reminder_summary(plan, geos, quarter: str, deadline, outstanding: dict, lang: str = "zh") -> Message:
    """One message to the office's channels: which districts were reminded."""
    t = _T[lang]
    lines = [t["summary_body"].format(quarter=quarter, deadline=deadline.isoformat()),
             *(t["summary_line"].format(name=geos.get(code).name(lang), sections=_sections(plan, cells, lang))
               for code, cells in outstanding.items())]
    return Message("reminder", str(quarter), t["summary_subject"].format(quarter=quarter, n=len(outstanding),
                                                                        deadline=deadline.isoformat()),
                   "\n".join(lines))
