"""A registry drafted from a plan's text: every numeric target it finds, for a person to confirm.

``ipeval plan draft PLAN.txt -o draft.yaml`` reads a plan (the text of the official publication)
and proposes one registry entry per numeric target: the clause quoted verbatim (whitespace
removed, as the registry quotes it), a proposed id, unit, value, direction (≥/≤), due quarter,
target kind and whom it binds, each marked ``confirmed: false``. A draft never runs: the run loader
and ``ipeval validate-plan`` refuse unconfirmed entries (:func:`helpers.plan.registry.require_confirmed`).

How a target is found (measured on the Hangzhou plan against its hand-written registry; the
figures are in ``docs/registry.md``, "Drafting a registry from a plan's text"):

* a number with a unit of a target (%, 件, 亿元, 万元, 人次, 家, 个, 名, 户, 份, 项, 次, 分, 天 ...),
  or the words 全覆盖 (read as 100%);
* and, in the same clause, a word of commitment: 以上, 不少于, 不低于, 达到, 达, 以内, 缩短至,
  累计, 每年, 超过, 力争;
* not a date, a document number (〔2023〕71号), a list number (``3.``) or a standard's number.

A main-indicator table (a row: name（unit）, then the baseline and the target numbers) is read as
well: :func:`table_targets` takes the last number of each row as the target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

UNITS = ("个百分点", "亿元", "万元", "万件", "万人", "万户", "人次", "件", "家", "个", "名", "户", "份", "项",
         "次", "分", "天", "人", "%", "％", "元", "所", "座", "条", "批", "倍")
_UNIT_RE = "|".join(re.escape(u) for u in UNITS)
_NUM = r"(?<![\d.〔（(／/—-])(\d+(?:\.\d+)?)"
_CANDIDATE = re.compile(_NUM + r"(" + _UNIT_RE + r")")
_AT_LEAST = ("以上", "不少于", "不低于", "达到", "达", "超过", "提高到", "提升至", "突破", "全覆盖", "力争")
_AT_MOST = ("以内", "以下", "不超过", "缩短至", "降至", "控制在", "低于")
_CUES = _AT_LEAST + _AT_MOST + ("累计", "每年", "年均", "目标")
# a clause that reports where things stand (截至2025年底…达到16件; 同比增长) states a value, not a target
_REPORTED = ("截至", "同比", "较上年", "比上年")
_SENTENCE = re.compile(r"[。；;！!？?\n]")
_CLAUSE = re.compile(r"[，,：:。；;]")
_DUE = re.compile(r"到(20\d\d)年")
_PERIOD_WORDS = ("示范区建设期间", "期间", "“十四五”时期", "十四五")
_HEADINGS = (
    (re.compile(r"(?:^|[。\n])([一二三四五六七八九十]+)、"), 0),
    (re.compile(r"[（(]([一二三四五六七八九十]+)[）)]"), 1),
    (re.compile(r"(?:^|[。\n）)])(\d{1,2})[.．](?!\d)"), 2),
)
# readable ids: the first glossary words found in the clause, in order (ids are the registry's
# keys, so a person may rename them before confirming; nothing else depends on these)
_GLOSSARY = (
    ("高价值发明专利", "high_value_patents"), ("发明专利", "invention_patents"), ("专利", "patents"),
    ("商标", "trademarks"), ("版权", "copyright"), ("地理标志", "gi"), ("满意度", "satisfaction"),
    ("调解", "mediation"), ("裁决", "ruling"), ("维权援助", "rights_assistance"), ("培训", "training"),
    ("人才", "talent"), ("调查官", "investigators"), ("宣传", "publicity"), ("预警", "warning"),
    ("质押", "pledge"), ("融资", "financing"), ("使用费", "royalties"), ("许可", "licensing"),
    ("经费", "funding"), ("标准", "standards"), ("产值", "output"), ("农户", "households"),
    ("增加值", "value_added"), ("占GDP比重", "gdp_share"), ("服判息诉率", "acceptance_rate"),
    ("成功率", "success_rate"), ("周期", "duration"), ("案件", "cases"), ("组织", "organisations"),
    ("海外", "overseas"), ("涉外", "foreign"), ("马德里", "madrid"), ("预审", "preexamination"),
    ("警务", "police"), ("覆盖", "coverage"), ("电商", "ecommerce"), ("企业", "enterprises"),
    ("每万人", "per_10k"), ("每百户", "per_100"), ("每年", "yearly"), ("累计", "total"),
)


@dataclass
class DraftTarget:
    """One proposed target: what a person checks and confirms (``confirmed: false`` until then)."""

    clause: str
    value: float
    unit: str
    direction: str
    kind: str
    due: str
    binds: str
    ref: str
    position: int  # offset of the number in the whitespace-free text (for measuring against a registry)
    every_year: bool = False
    id: str = ""
    extra: dict = field(default_factory=dict)


def normalise(text: str) -> str:
    """The plan's text without whitespace: the registry quotes clauses so (``docs/registry.md``)."""
    return re.sub(r"\s+", "", text)


def _clause_bounds(text: str, pos: int) -> tuple[int, int]:
    """The comma-clause around ``pos``, with the clause before it when that one only sets the
    scene (a date or period: 到2025年, 示范区建设期间) or names the thing the number counts
    (建设…基地，每年培训1000人次以上): a clause that starts with a verb of quantity has no subject."""
    start = max((m.end() for m in _CLAUSE.finditer(text, 0, pos)), default=0)
    end_m = _CLAUSE.search(text, pos)
    end = end_m.start() if end_m else len(text)
    own = text[start:end]
    sentence_start = max((m.end() for m in _SENTENCE.finditer(text, 0, pos)), default=0)
    if start > sentence_start and start - 1 >= 0 and text[start - 1] in "，,":
        prev_start = max((m.end() for m in _CLAUSE.finditer(text, 0, start - 1)), default=0)
        prev = text[max(prev_start, sentence_start):start - 1]
        scene = (_DUE.search(prev) and len(prev) <= 10) or prev in _PERIOD_WORDS or prev.endswith("期间")
        subjectless = own.startswith(("每年", "累计", "年均"))
        if scene or subjectless:
            start = max(prev_start, sentence_start)
    return start, end


def _is_noise(text: str, m: re.Match) -> bool:
    """Numbers that are not targets: dates, document and list numbers, standards' codes."""
    s, e = m.span()
    before, after = text[max(0, s - 12):s], text[e:e + 2]
    if m.group(2) in ("人", "个", "分", "次") and after[:1] in ("民", "体", "析", "级", "数", "会"):
        return True  # 人民, 个体, 分析, 次级: a word, not a unit
    if re.search(r"(GB|DB|ISO|T)[\w/]*$", before):
        return True
    return bool(re.search(r"[〔\[]$", before))


def _direction(clause: str, num_end: int) -> str:
    near = clause[max(0, num_end - 12):num_end + 6]
    return "at_most" if any(w in near for w in _AT_MOST) else "at_least"


def _kind(clause: str, unit: str) -> tuple[str, bool]:
    if "达到并保持" in clause or "保持在" in clause:
        return "level", True
    if "每年" in clause or "年均" in clause:
        return "flow_per_year", True
    if "累计" in clause or "期间" in clause:
        return "cumulative", False
    if "全覆盖" in clause or clause.startswith("培育"):
        return "milestone", False  # an achievement: once reached, it stays
    if "平均" in clause and unit == "天":
        return "rate", False  # an average over the cases of the year: a ratio of sums
    if "年产值" in clause or re.search(r"(注册|审)量", clause):
        return "flow_per_year", False  # a yearly quantity of the due year
    if re.match(r"(引进|培养|制定)", clause) and "到20" not in clause:
        return "cumulative", False  # people recruited or standards issued over the plan's period
    if unit in ("%", "％") and ("率" in clause) and "比重" not in clause:
        return "rate", False
    return "level", False


def _binds(clause: str) -> str:
    if re.search(r"区县|区、县|各地|各区|各省|各市", clause):
        return "each_district"
    return "city"


class _Headings:
    """The clause reference (``二(三)9``) of a position: the last part, sub-part and item before it."""

    def __init__(self, text: str):
        self.marks = sorted(
            (m.start(1), level, m.group(1)) for rx, level in _HEADINGS for m in rx.finditer(text)
        )

    def ref(self, pos: int) -> str:
        parts = ["", "", ""]
        for start, level, label in self.marks:
            if start > pos:
                break
            parts[level] = label
            for lower in range(level + 1, 3):
                parts[lower] = ""
        top, sub, item = parts
        return top + (f"({sub})" if sub else "") + item


def _slug(clause: str, used: set) -> str:
    words: list[str] = []
    for zh, en in _GLOSSARY:
        if zh in clause and not any(en in w or w in en for w in words):
            words.append(en)
        if len(words) == 3:
            break
    base = "_".join(words) or "target"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}_{n}", n + 1
    used.add(slug)
    return slug


def find_targets(text: str, due_default: str = "2025Q4") -> list[DraftTarget]:
    """Every numeric target of a plan's text.

    Parameters
    ----------
    text : str
        The plan as published (line breaks and spaces anywhere; they are removed first).
    due_default : str
        The quarter a target without a date of its own is due (the plan's end).

    Returns
    -------
    list of DraftTarget
        In the order of the text; ``position`` is the number's offset in :func:`normalise` (text).
    """
    flat = normalise(text)
    heads = _Headings(flat)
    found: list[DraftTarget] = []
    # (start, end, value, unit, match); the match is None for 全覆盖 (100%, no number of its own)
    candidates: list[tuple[int, int, float, str, re.Match[str] | None]] = [
        (m.start(1), m.end(2), float(m.group(1)), m.group(2).replace("％", "%"), m)
        for m in _CANDIDATE.finditer(flat) if not _is_noise(flat, m)]
    candidates += [(m.start(), m.end(), 100.0, "%", None) for m in re.finditer("全覆盖", flat)]
    for pos, end, value, unit, m in sorted(candidates, key=lambda c: c[0]):
        start, stop = _clause_bounds(flat, pos)
        clause = flat[start:stop]
        before = flat[max((m.end() for m in _CLAUSE.finditer(flat, 0, max(start - 1, 0))), default=0):start]
        if not any(w in clause for w in _CUES) or any(w in clause or w in before for w in _REPORTED):
            continue
        if unit == "%" and m is not None and re.search(r"(提高|增长|下降|增加|较上年)$", flat[start:pos]):
            continue  # a change already achieved ("较上年提高0.35个百分点"), not a target
        sentence_start = max((s.end() for s in _SENTENCE.finditer(flat, 0, pos)), default=0)
        dates = _DUE.findall(flat[sentence_start:stop])
        due = f"{dates[-1]}Q4" if dates else due_default
        kind, every_year = _kind(clause, unit)
        found.append(DraftTarget(
            clause=clause, value=value, unit=unit, direction=_direction(clause, end - start),
            kind=kind, due=due, binds=_binds(clause), ref=heads.ref(pos), position=pos,
            every_year=every_year,
        ))
    used: set = set()
    for target in found:
        target.id = _slug(target.clause, used)
    return found


_TABLE_ROW = re.compile(r"^\s*(\d+\.?\s*)?(?P<name>[^\d\s|][^|\t]*?[（(](?P<unit>[^）)]+)[）)])"
                        r"(?P<nums>(?:[\s|\t]+[\d.]+)+)(?P<rest>[\s|\t]*[^\d\s|]*)?\s*\|?\s*$")


def table_targets(text: str, due: str = "2025Q4") -> list[DraftTarget]:
    """Targets from a main-indicator table: rows such as ``每万人口高价值发明专利拥有量（件） 6.3 12 预期性``.

    The name keeps its unit in brackets, as tables print it; the last number is the target, the
    one before it the baseline (kept under ``extra``), and a trailing 预期性/约束性 the attribute.
    """
    found = []
    used: set = set()
    for line in text.splitlines():
        m = _TABLE_ROW.match(line.strip().strip("|"))
        if not m:
            continue
        nums = [float(x) for x in re.findall(r"[\d.]+", m.group("nums")) if x.strip(".")]
        if not nums:
            continue
        row = normalise(line).strip("|")
        unit = m.group("unit")
        target = DraftTarget(
            clause=row, value=nums[-1], unit=unit, direction="at_least", kind="level", due=due,
            binds="city", ref="", position=text.find(line), every_year=False,
            extra={"baseline": nums[-2] if len(nums) > 1 else None,
                   "attribute": (m.group("rest") or "").strip() or None},
        )
        target.id = _slug(row, used)
        found.append(target)
    return found


def _measure(unit: str, clause: str) -> str:
    if unit == "%" or "比重" in clause or "率" in clause:
        return "ratio"
    if "每万人" in clause:
        return "per_capita"
    if unit in ("亿元", "万元", "元"):
        return "amount"
    return "score" if unit == "分" else "count"


def draft_registry(targets: list[DraftTarget], title: str, source: str, start: str, end: str) -> dict:
    """The draft as a registry document (``docs/registry.md``) whose every entry is unconfirmed.

    Each proposal is complete enough for the schema (so ``ipeval validate-plan`` checks it like any
    registry) but says ``confirmed: false``: the measure, frequency and aggregation are guesses a
    person must check, and a run refuses the file until every entry is confirmed.
    """
    indicators = []
    for t in targets:
        measure = _measure(t.unit, t.clause)
        flow = t.kind in ("flow_per_year", "cumulative")
        kind = "level" if (t.kind == "rate" and measure != "ratio") else t.kind
        target = {"kind": kind, "direction": t.direction, "value": t.value, "due": t.due,
                  "binds": "city"}
        if t.every_year:
            target["every_year"] = True
        entry = {
            "id": t.id, "confirmed": False, "section": "draft",
            "name_zh": t.clause[:40], "name_en": f"(to name) {t.id}",
            "unit_zh": t.unit, "unit_en": t.unit, "measure": "count" if measure == "ratio" and kind != "rate" else measure,
            "flow": flow, "frequency": "annual", "applies_to": "city", "aggregation": "none",
            "target": target, "clause": {"ref": t.ref or "?", "text": t.clause},
            "notes": f"proposed: binds {t.binds}" + (f"; baseline {t.extra['baseline']}" if t.extra.get("baseline") is not None else "")
                     + (f"; {t.extra['attribute']}" if t.extra.get("attribute") else ""),
        }
        if entry["measure"] == "ratio":
            entry.update(scale=100, numerator_zh="（待填）", numerator_en="(to fill)",
                         denominator_zh="（待填）", denominator_en="(to fill)")
        if entry["measure"] == "per_capita":
            entry.update(numerator_zh="（待填）", numerator_en="(to fill)",
                         denominator_zh="常住人口（万人）", denominator_en="Resident population (10,000s)")
        indicators.append(entry)
    return {
        "schema_version": 1,
        "plan": {"id": "draft", "title_zh": title, "title_en": "(to translate)", "source_text": source,
                 "zone_period": {"start": start, "end": end}},
        "sections": [{"id": "draft", "name_zh": "待分章节", "name_en": "To be sorted into sections"}],
        "indicators": indicators,
    }


def plan_span(text: str) -> tuple[str, str]:
    """The plan's period from its title, e.g. （2023—2025年） -> 2023Q1, 2025Q4; 十四五 -> 2021-2025."""
    flat = normalise(text[:3000])
    m = re.search(r"(20\d\d)[—–\-－~至](20\d\d)年", flat)
    if m:
        return f"{m.group(1)}Q1", f"{m.group(2)}Q4"
    if "十四五" in flat:
        return "2021Q1", "2025Q4"
    years = [int(y) for y in _DUE.findall(normalise(text))]
    end = max(years) if years else 2025
    return f"{end - 2}Q1", f"{end}Q4"


def draft_from_file(path: str | Path) -> tuple[dict, list[DraftTarget]]:
    """Read a plan's text file and return (draft registry document, targets found).

    Raises
    ------
    helpers.exceptions.ConfigError
        If the file cannot be read as UTF-8 text (message in Chinese, naming the file).
    """
    from helpers.exceptions import ConfigError

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"无法读取方案文本 {p}：{exc}（需要 UTF-8 文本文件）") from None
    start, end = plan_span(text)
    targets = find_targets(text, end) + table_targets(text, end)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # the plan's own title line, not the cover letter's (…的通知) or the issuing office's header
    title = next((x for x in lines if re.search(r"(方案|规划|计划|纲要)[）)]?$", x) and "通知" not in x),
                 lines[0] if lines else p.stem)
    return draft_registry(targets, title[:80], str(p), start, end), targets


def to_yaml(doc: dict) -> str:
    """The draft as YAML, Chinese kept readable, keys in the registry's order."""
    import yaml

    head = ("# 由 `ipeval plan draft` 从方案文本生成的草稿登记表：每条均为 confirmed: false。\n"
            "# 请逐条核对条款原文、数值、单位、方向（at_least/at_most）、类型、期限和约束对象，\n"
            "# 分入章节并补全英文名称后改为 confirmed: true；未确认的条目不能用于评估运行。\n")
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
