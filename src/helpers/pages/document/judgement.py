"""Judgement the evaluation team owns: 问题与建议 per target, and the cover's 评估单位 / 委托单位 / 评估日期.

The team writes its own problem and recommendation for any target in ``params/judgement.yaml``
(settings ``report.judgement``; the run keeps a copy). Where it has not, the recommendation is a
template chosen by what the numbers say: missed narrowly (within 10% of the target) or widely, in
which years, by which districts (for a target every district is held to), or off track / at risk
with the pace needed. :func:`apply_judgement` rewrites the 存在问题与建议 chapter of a built document
and adds the team's names and date to the cover, so it is one call after the document is built.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from helpers.exceptions import ConfigError
from helpers.settings import read_yaml_file

FILE_NAME = "judgement.yaml"
NARROW = 0.10  # a miss within 10% of the target value is "narrow": finish the job rather than rethink it
_FIELDS = {"indicator", "geography", "problem_zh", "recommendation_zh", "problem_en", "recommendation_en"}
_ITEM = re.compile(r"^(\d+)\. (.+?)：")


def load_judgement(path: str | Path, plan=None) -> dict:
    """The team's entries as ``{(indicator_id, geography_code or "*"): {"problem_zh": …, "recommendation_zh": …}}``.

    Raises
    ------
    ConfigError
        The file is not YAML or an entry breaks the rules (message names the file, entry and field).
    """
    p = Path(path)
    if not p.is_file():
        return {}
    doc, _ = read_yaml_file(p, ConfigError, "judgement file")
    entries = (doc or {}).get("recommendations") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{p}: recommendations 应为列表（每项一个目标）")
    out = {}
    for n, e in enumerate(entries):
        where = f"{p}: recommendations[{n}]"
        if not isinstance(e, dict):
            raise ConfigError(f"{where}: 每项应为键值对（indicator、problem_zh、recommendation_zh）")
        unknown = sorted(set(e) - _FIELDS)
        if unknown:
            raise ConfigError(f"{where}: 未知字段 {', '.join(unknown)}（可用：{', '.join(sorted(_FIELDS))}）")
        ind = e.get("indicator")
        if not ind or (plan is not None and ind not in plan.by_id):
            raise ConfigError(f"{where}: indicator {ind!r} 不是方案登记表中的指标代码")
        if not any(e.get(k) for k in ("problem_zh", "recommendation_zh", "problem_en", "recommendation_en")):
            raise ConfigError(f"{where}: 至少填写 problem_zh 或 recommendation_zh 之一（英文报告：problem_en、recommendation_en）")
        out[(ind, str(e.get("geography") or "*"))] = e
    return out


def judgement_path(tables) -> Path:
    """The run's copy of the judgement file if it has one, else the settings' file."""
    copy = Path(tables.run_dir) / "params" / FILE_NAME
    return copy if copy.is_file() else tables.settings.resolve(tables.settings.file.report.judgement)


def _num(x, unit: str | None = None) -> str:
    from helpers.pages.document.narrative import num

    return num(x, unit=unit)


def default_recommendation(ind, row: dict, missed_districts: list[str], n_districts: int = 0) -> str:
    """The template recommendation for one target, chosen by the numbers (zh); ``n_districts``: how
    many districts the target binds (every one missed: 全部13个区县均未达标)."""
    from helpers.pages.document.narrative import missed_years, verdict

    v = verdict(row)
    name, unit = ind.name_zh, ind.unit_zh
    gap_unit = "个百分点" if unit == "%" else unit
    target = float(row.get("target_value") or (ind.target.value if ind.target else np.nan))
    gap = float(row.get("gap") or 0.0)
    share = abs(gap) / abs(target) if target and np.isfinite(target) and gap else np.nan
    years = missed_years(row).replace(", ", "、")
    parts = []
    if v == "missed":
        if years and not gap:
            parts.append(f"{name}在{years}年未达到年度目标，期末已回到目标水平以上，宜将年度目标分解到季度，避免个别年份回落")
        elif np.isfinite(share) and share <= NARROW:
            parts.append(f"{name}差距较小（差{_num(gap, gap_unit)}{gap_unit}，为目标值的{share * 100:.1f}%），"
                         "宜巩固现有做法、查找末端短板，在下一阶段尽早补齐")
        elif np.isfinite(share):
            parts.append(f"{name}差距较大（差{_num(gap, gap_unit)}{gap_unit}，为目标值的{share * 100:.1f}%），"
                         "应复核目标测算口径和可行性，制定专项措施并明确责任单位和完成时限")
        else:
            parts.append(f"{name}未在期限内实现，应分析原因并明确责任单位和完成时限")
        if years and gap:
            parts.append(f"其中{years}年未达到年度目标")
    elif v == "off_track":
        need = row.get("required_pace", np.nan)
        pace = f"，需将年度进度提高到每年{_num(need, unit)}{unit}左右" if need is not None and np.isfinite(need) else ""
        parts.append(f"{name}按当前趋势难以按期实现{pace}，应按季度调度")
    else:
        parts.append(f"{name}存在不能按期实现的风险（差{_num(gap, gap_unit)}{gap_unit}），应加强调度、按季度跟踪")
    if missed_districts:
        shown = "、".join(missed_districts[:6]) + ("等" if len(missed_districts) > 6 else "")
        parts.append(f"全部{len(missed_districts)}个区县均未达标，应逐一督导" if len(missed_districts) == n_districts
                     else f"未达标的区县有{shown}（共{len(missed_districts)}个），应逐一督导")
    return "建议：" + "；".join(parts) + "。"  # one 建议, the parts say 应/宜 (not 建议：…，建议…)


def _missed_districts(tables, ind_id: str) -> list[str]:
    from helpers.pages.document.narrative import verdict

    out = []
    for g in tables.geos.districts:
        for r in tables.records.get(g.code, []):
            if r["indicator_id"] == ind_id and verdict(r) == "missed":
                out.append(g.name_zh)
    return out


def apply_judgement(doc, tables, geo_code: str, lang: str = "zh"):
    """Rewrite 存在问题与建议 with the team's text or the numbers' template; add the cover's names. Returns ``doc``."""
    if lang != "zh":  # the English report reads the same file: pages/document/english.py
        return doc
    from helpers.pages.document.blocks import Cover, Heading, Para

    team = load_judgement(judgement_path(tables), tables.plan)
    by_name = {i.name_zh: i for i in tables.plan.indicators}
    rows = {r["indicator_id"]: r for r in tables.records.get(geo_code, [])}
    geo = tables.geos.get(geo_code)
    blocks, inside = doc.blocks, False
    for k, b in enumerate(blocks):
        if isinstance(b, Heading) and b.level == 1:
            inside = b.text.endswith("存在问题与建议")
            continue
        m = _ITEM.match(b.text) if inside and isinstance(b, Para) else None
        if m is None:
            continue
        ind = by_name.get(m.group(2))
        if ind is None or ind.id not in rows:
            continue
        own = team.get((ind.id, geo_code)) or team.get((ind.id, "*")) or {}
        if own.get("problem_zh"):
            b.text = f"{m.group(1)}. {ind.name_zh}：{own['problem_zh']}"
        rec = f"建议：{own['recommendation_zh']}" if own.get("recommendation_zh") else default_recommendation(
            ind, rows[ind.id], _missed_districts(tables, ind.id) if geo.is_city and ind.target
            and ind.target.binds == "each_district" else [], len(tables.geos.districts))
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        if isinstance(nxt, Para) and nxt.style == "note":
            nxt.text = rec
    cover = next((b for b in blocks if isinstance(b, Cover)), None)
    if cover is not None:
        cover.lines += cover_lines(tables)
    return doc


def cover_lines(tables) -> list[str]:
    """评估单位 / 委托单位 / 评估日期 from the settings' ``report`` block."""
    from datetime import date

    r = tables.settings.file.report
    day = date.fromisoformat(r.evaluation_date or str(tables.produced)[:10])
    return [f"评估单位：{r.evaluator or '（待填写）'}", f"委托单位：{r.commissioner or '（待填写）'}",
            f"评估日期：{day.year}年{day.month}月{day.day}日"]
