"""The English report's judgement and published figures, from the same files as the Chinese report.

The Chinese report takes 问题与建议 from the team's ``params/judgement.yaml``
(:mod:`helpers.pages.document.judgement`) and the press release's figures from
``data/reference/press_release_2025-04-23_figures.csv`` (:mod:`helpers.pages.published`). The
English report (``--lang en``) reads the same two files:

* **judgement**: an entry's ``problem_en`` / ``recommendation_en`` replace the problem and the
  recommendation; an entry written only in Chinese is said to exist ("the evaluation team's own
  judgement on this target is in the Chinese report"), beside the template; without an entry, the
  template follows the numbers as the Chinese one does (missed narrowly or widely, in which
  years, by which districts, or off track with the pace needed);
* **published figures**: the same context paragraph after each section's table of the city's
  report and the same list in Annex 2, in English. The publication's words are Chinese; their
  English rendering is ours, kept beside the figures in ``press_release_2025-04-23_figures.en.csv``
  (``figure_id, says_en, publication_en``); a figure without one is quoted in Chinese.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from helpers.data.press_figures import COMPARATORS, MARK, press_figures

EN_FILE = Path("data") / "reference" / "press_release_2025-04-23_figures.en.csv"
_ITEM = re.compile(r"^(\d+)\. ")
ANNEX_HEAD = ["No.", "Figure", "Period", "Use", "Words (our translation)", "Source"]
ANNEX_NAME = "Published figures"
ANNEX_NOTE = ("The table lists every figure of the press conference of 23 April 2025 (◆). A figure used as the "
              "city's value replaces generated data and is marked ◆ in the report; a figure given as context is "
              "shown in its section and judges nothing. \"≤\" marks a ceiling (\"within 50 days\").")
CHINESE_JUDGEMENT = "The evaluation team's own judgement on this target is written in Chinese (see the Chinese report)."


@lru_cache(maxsize=4)
def _figures(root: str) -> tuple:
    # read here, not through helpers.pages.published (which places these texts: no import cycle)
    return tuple(press_figures(Path(root)).to_dict("records"))


@lru_cache(maxsize=4)
def _translations(root: str) -> dict:
    path = Path(root) / EN_FILE
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as f:
        return {r["figure_id"]: r for r in csv.DictReader(f)}


def translation(root, figure: dict) -> dict:
    """``{"says_en", "publication_en"}`` of a published figure ({} when it has none)."""
    return _translations(str(root)).get(figure["figure_id"], {})


def date_en(text: str) -> str:
    """``2025-04-23`` as ``23 April 2025``."""
    import calendar

    y, m, d = (int(x) for x in str(text).split("-"))
    return f"{d} {calendar.month_name[m]} {y}"


def source_text_en(root, figure: dict) -> str:
    """The publication and its date in English (the Chinese name when no translation is kept)."""
    return f"{translation(root, figure).get('publication_en') or figure['publication']}, {date_en(figure['published'])}"


def words_en(root, figure: dict) -> str:
    """What the figure says, in English; the publication's Chinese words, quoted, when no translation is kept."""
    return translation(root, figure).get("says_en") or f"“{figure['says']}”"


def figure_number(figure: dict) -> str:
    """The figure as a number with its comparator (``≤50``, ``2,859``, ``55.3%``): the words say what it counts."""
    v = float(figure["value"])
    num = f"{v:,.0f}" if v.is_integer() else f"{v:,.2f}".rstrip("0").rstrip(".")
    return f"{COMPARATORS[figure['comparator']]}{num}{'%' if figure['unit_zh'] == '%' else ''}"


def context_sentence_en(root, section: str) -> str:
    """One paragraph of a section's published figures, in English (``""`` when it has none)."""
    rows = [r for r in _figures(str(root)) if r["section"] == section]
    if not rows:
        return ""
    parts = list(dict.fromkeys(words_en(root, r) for r in rows))
    return f"{MARK} Published figures: " + "; ".join(parts) + f" ({source_text_en(root, rows[0])})."


def annex_rows_en(root) -> list[list[str]]:
    """Annex 2's list of published figures in English: No., figure, period, use, words, source."""
    use = {"city_value": "city value", "context": "context"}
    return [[str(k), f"{MARK}{figure_number(r)}", r["period"], use[r["use"]], words_en(root, r), source_text_en(root, r)]
            for k, r in enumerate(_figures(str(root)), start=1)]


# --------------------------------------------------------------------------- judgement

def default_recommendation_en(ind, row: dict, missed_districts: list[str]) -> str:
    """The template recommendation for one target, chosen by the numbers as
    :func:`helpers.pages.document.judgement.default_recommendation` chooses the Chinese one."""
    from helpers.pages.document.judgement import NARROW
    from helpers.pages.document.narrative import missed_years, num, verdict

    v = verdict(row)
    name, unit = ind.name_en, ind.unit_en
    gap_unit = "percentage points" if unit == "%" else unit
    target = float(row.get("target_value") or (ind.target.value if ind.target else np.nan))
    gap = float(row.get("gap") or 0.0)
    share = abs(gap) / abs(target) if target and np.isfinite(target) and gap else np.nan
    years = missed_years(row, "en")
    gap_text = f"{num(gap, unit=unit)} {gap_unit}"
    parts = []
    if v == "missed":
        if years and not gap:
            parts.append(f"{name} missed its yearly target in {years} and ended above it: split the yearly target "
                         "into quarters so that no year falls back")
        elif np.isfinite(share) and share <= NARROW:
            parts.append(f"{name} fell short narrowly ({gap_text}, {share * 100:.1f}% of the target): keep what "
                         "works, find the last shortfalls and close them early in the next period")
        elif np.isfinite(share):
            parts.append(f"{name} fell short widely ({gap_text}, {share * 100:.1f}% of the target): review how "
                         "the target was measured and whether it can be met, and set specific measures with a "
                         "responsible unit and a deadline")
        else:
            parts.append(f"{name} was not met by its due date: analyse why and set a responsible unit and a deadline")
        if years and gap:
            parts.append(f"it missed its yearly target in {years}")
    elif v == "off_track":
        need = row.get("required_pace", np.nan)
        pace = (f"; the yearly pace must rise to about {num(need, unit=unit)} {unit}"
                if need is not None and np.isfinite(need) else "")
        parts.append(f"at the current trend {name} will not be met in time{pace}: follow it quarterly")
    else:
        parts.append(f"{name} is at risk of missing its due date (gap {gap_text}): follow it closely, quarter by quarter")
    if missed_districts:
        shown = ", ".join(missed_districts[:6]) + (" and others" if len(missed_districts) > 6 else "")
        parts.append(f"districts that missed it: {shown} ({len(missed_districts)} in all); follow each of them up")
    return "Recommendation: " + "; ".join(parts) + "."


def _missed_districts_en(tables, ind_id: str) -> list[str]:
    from helpers.pages.document.narrative import verdict

    return [g.name_en for g in tables.geos.districts for r in tables.records.get(g.code, [])
            if r["indicator_id"] == ind_id and verdict(r) == "missed"]


def apply_judgement_en(doc, tables, geo_code: str):
    """Rewrite "4. Problems and recommendations" from the team's file (English fields, or a note that
    its judgement is in Chinese) or the numbers' template; add the cover's names. Returns ``doc``."""
    from helpers.i18n import dt
    from helpers.pages.document.blocks import Cover, Heading, Para
    from helpers.pages.document.judgement import judgement_path, load_judgement

    team = load_judgement(judgement_path(tables), tables.plan)
    rows = {r["indicator_id"]: r for r in tables.records.get(geo_code, [])}
    names = sorted(((i.name_en, i) for i in tables.plan.indicators), key=lambda p: -len(p[0]))
    geo = tables.geos.get(geo_code)
    blocks, inside = doc.blocks, False
    for k, b in enumerate(blocks):
        if isinstance(b, Heading) and b.level == 1:
            # the chapter's number moves when 工作成效 and 任务完成情况 are inserted (4. becomes 6.)
            inside = b.text.endswith(re.sub(r"^\d+\.\s*", "", dt("en", "h_problems")))
            continue
        m = _ITEM.match(b.text) if inside and isinstance(b, Para) else None
        ind = next((i for n, i in names if b.text[m.end():].startswith(f"{n}: ")), None) if m else None
        if m is None or ind is None or ind.id not in rows:
            continue
        own = team.get((ind.id, geo_code)) or team.get((ind.id, "*")) or {}
        if own.get("problem_en"):
            b.text = f"{m.group(1)}. {ind.name_en}: {own['problem_en']}"
        if own.get("recommendation_en"):
            rec = f"Recommendation: {own['recommendation_en']}"
        else:
            rec = default_recommendation_en(ind, rows[ind.id], _missed_districts_en(tables, ind.id)
                                            if geo.is_city and ind.target and ind.target.binds == "each_district" else [])
            if own.get("problem_zh") or own.get("recommendation_zh"):
                rec += " " + CHINESE_JUDGEMENT
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        if isinstance(nxt, Para) and nxt.style == "note":
            nxt.text = rec
    cover = next((b for b in blocks if isinstance(b, Cover)), None)
    if cover is not None:
        cover.lines += cover_lines_en(tables)
    return doc


def cover_lines_en(tables) -> list[str]:
    """Evaluator, commissioned by, date of the evaluation, from the settings' ``report`` block."""
    r = tables.settings.file.report
    day = r.evaluation_date or str(tables.produced)[:10]
    return [f"Evaluator: {named_en(r.evaluator_en, r.evaluator)}",
            f"Commissioned by: {named_en(r.commissioner_en, r.commissioner)}", f"Date of evaluation: {date_en(day)}"]


def named_en(english: str, chinese: str) -> str:
    """A name the settings give in Chinese, in English: ``English (“中文”)``, ``“中文”`` alone without an
    English one, ``(to be filled in)`` without either."""
    if not chinese:
        return english or "(to be filled in)"
    if not re.search(r"[\u3400-\u9fff]", chinese):
        return chinese
    return f"{english} (“{chinese}”)" if english else f"“{chinese}” (in Chinese)"


def document_number(meta, lang: str, *, beside: bool = False) -> str:
    """The plan's document number: as issued (zh); in English ``document_number_en`` (with the Chinese
    beside it when ``beside``), else the Chinese quoted."""
    zh = str(meta.get("document_number", "") or "")
    if lang == "zh" or not zh:
        return zh
    en = str(meta.get("document_number_en", "") or "")
    if not en:
        return f"“{zh}”"
    return f"{en} (“{zh}”)" if beside else en
