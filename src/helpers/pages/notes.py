"""The assessment's notes and its method in the reader's language.

:mod:`helpers.model.assess` and :mod:`helpers.model.forecast` write their notes in English (the
machine-read ``assessments.csv`` keeps them). A Chinese page, document or workbook shows them
through :func:`note_label`, which translates every note the model writes and drops a part it
does not know rather than print English in a Chinese document. :func:`method_text` describes the
method that ran, from the ``models_used`` of the rows (not a fixed description of one engine).

A program that needs a note's meaning (the typed report input) takes :func:`note_codes`: each
phrase becomes ``{"code": ..., **its numbers}``; a phrase the table does not know is kept whole as
``{"code": "text", "text": ...}``, so nothing is lost.
"""

from __future__ import annotations

import re

from helpers.i18n import dt

_SCALES = {"original": "原始尺度", "log(1+y)": "对数尺度", "scaled-logit": "缩放logit尺度"}

# (pattern, Chinese template): every note helpers.model writes; groups fill the template.
_PATTERNS = [
    (r"target missed in ([0-9, ]+)", "n_missed_in"),
    (r"target not met by (\S+)", "n_not_met_by"),
    (r"(\d+) observations \(< (\d+)\): rule-based layer only", "n_rules_only"),
    (r"no data", "n_no_data"),
    (r"target set for the city as a whole.*", "n_city_whole"),
    (r"The history is constant.*", "n_constant"),
    (r"Damped drift model .* on the (\S+) scale, with parameter uncertainty.*", "n_drift_t"),
    (r"Random walk with drift on the (\S+) scale; parameter uncertainty not included\.?", "n_rw"),
    (r"No model converged, so paths come from a random walk with drift on the (\S+) scale.*", "n_rw_fallback"),
    (r"Equal-weight ensemble of (\d+) converged models? \(([^)]*)\) simulated on the (\S+) scale.*", "n_ensemble"),
]
_CJK = re.compile(r"[\u4e00-\u9fff]")
_ENGLISH_RUN = re.compile(r"[A-Za-z]{2,}(?:[\s,;:()'-]+[A-Za-z]{2,}){2,}")


def _fill(key: str, groups: tuple, lang: str) -> str:
    if key == "n_missed_in":
        return dt(lang, key, years="、".join(y.strip() for y in groups[0].split(",") if y.strip()))
    if key == "n_not_met_by":
        return dt(lang, key, q=quarter_label(groups[0], lang))
    if key == "n_rules_only":
        return dt(lang, key, n=groups[0], m=groups[1])
    if key in ("n_drift_t", "n_rw", "n_rw_fallback"):
        return dt(lang, key, scale=_SCALES.get(groups[0], ""))
    if key == "n_ensemble":
        members = "、".join(n for n in (model_name(m.strip(), lang) for m in groups[1].split(",")
                                        if m.strip() and not m.strip()[0].isdigit() and " " not in m.strip()) if n)
        return dt(lang, key, k=groups[0], members=members, scale=_SCALES.get(groups[2], ""))
    return dt(lang, key)


def note_label(note, lang: str, reference: bool = False) -> str:
    """The assessment's note in ``lang``; in Chinese, a part not known is left out, never printed in English.

    ``reference``: the row is shown for reference (a target set for the city as a whole), so a
    verdict in the note ("not met by ...", "missed in ...") is left out: it is never judged.
    """
    if not isinstance(note, str) or not note:
        return ""
    verdicts = ("n_missed_in", "n_not_met_by")
    if lang != "zh":
        if not reference:
            return note
        return "; ".join(p for p in note.split("; ")
                         if not any(re.fullmatch(pat, p.strip()) for pat, k in _PATTERNS if k in verdicts))
    out = []
    for part in note.split("; "):
        part = part.strip()
        for pattern, key in _PATTERNS:
            m = re.fullmatch(pattern, part)
            if m and reference and key in verdicts:
                break
            if m:
                text = _fill(key, m.groups(), lang)
                if text not in out:
                    out.append(text)
                break
        else:
            # a part the model wrote that is not known: kept only when it carries Chinese and no
            # English phrase (a path or a sentence of English never reaches a Chinese reader)
            if part and _CJK.search(part) and not _ENGLISH_RUN.search(part):
                out.append(part)
    return "；".join(out)


MODEL_NAMES = {
    "zh": {"drift_t": "阻尼漂移模型（学生t预测分布）", "rw_drift": "带漂移随机游走模型", "ets_ann": "简单指数平滑",
           "ets_aadn": "阻尼趋势指数平滑", "ets_ana": "季节性指数平滑", "theta": "Theta模型",
           "uc_llt": "不可观测成分模型", "ensemble": "模型集成", "rules": "规则法"},
    "en": {"drift_t": "damped drift model (Student-t predictive)", "rw_drift": "random walk with drift",
           "ets_ann": "simple exponential smoothing", "ets_aadn": "damped-trend exponential smoothing",
           "ets_ana": "seasonal exponential smoothing", "theta": "Theta model", "uc_llt": "unobserved components model",
           "ensemble": "model ensemble", "rules": "rule-based"},
}


def model_name(code: str, lang: str) -> str:
    """A forecasting model's name in ``lang`` ('' for a code not known in Chinese)."""
    return MODEL_NAMES.get(lang, MODEL_NAMES["zh"]).get(code, code if lang != "zh" else "")


def models_label(models_used, lang: str) -> str:
    """``models_used`` of a row ('drift_t' or 'ets_ann,theta') as names; '—' when none."""
    codes = [m.strip() for m in re.split(r"[,;+ ]+", str(models_used or "")) if m.strip() and m.strip() != "nan"]
    names = [n for n in (model_name(c, lang) for c in codes) if n]
    return ("、" if lang == "zh" else ", ").join(names) or "—"


def engines_used(table) -> list:
    """The forecasting models the run's rows used, most used first (from ``models_used``)."""
    counts: dict = {}
    if table is None or "models_used" not in getattr(table, "columns", []):
        return []
    for v in table["models_used"].dropna().astype(str):
        for c in re.split(r"[,;+ ]+", v):
            if c and c != "nan":
                counts[c] = counts.get(c, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


def method_text(table, lang: str) -> str:
    """What the run's forecasts were made with, and whether their intervals include parameter uncertainty."""
    used = engines_used(table)
    if not used:
        return dt(lang, "m_engine_none")
    names = ("、" if lang == "zh" else ", ").join(n for n in (model_name(c, lang) for c in used) if n)
    key = "m_engine_drift_t" if used[0] == "drift_t" else "m_engine_ensemble" if len(used) > 1 else "m_engine_other"
    return dt(lang, key, names=names)


def quarter_label(q, lang: str) -> str:
    """'2025Q4' as 2025年第四季度 (zh) or 2025 Q4 (en); a year '2025' as 2025年."""
    s = str(q)
    m = re.fullmatch(r"(\d{4})Q([1-4])", s)
    if not m:
        return f"{s}年" if lang == "zh" and re.fullmatch(r"\d{4}", s) else s
    if lang != "zh":
        return f"{m.group(1)} Q{m.group(2)}"
    return f"{m.group(1)}年第{'一二三四'[int(m.group(2)) - 1]}季度"


def quarters_in_text(text, lang: str) -> str:
    """Every quarter code of a text written as :func:`quarter_label` writes it: '2024Q3, 2025Q1'
    as 2024年第三季度, 2025年第一季度 on a Chinese page."""
    if lang != "zh":  # an English page keeps its codes
        return str(text)
    return re.sub(r"(?<![A-Za-z0-9_])\d{4}Q[1-4](?![0-9])", lambda m: quarter_label(m.group(0), lang), str(text))


def dates_in_text(text, lang: str) -> str:
    """Every ISO date of a text as :func:`date_label` writes it (杭州市政府新闻办 新闻发布会 2025年4月23日)."""
    if lang != "zh":
        return str(text)
    return re.sub(r"(?<![0-9_-])\d{4}-\d{2}-\d{2}(?![0-9])", lambda m: date_label(m.group(0), lang), str(text))


def date_label(d, lang: str) -> str:
    """An ISO date as 2025年12月31日 (zh)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}).*", str(d))
    if not m or lang != "zh":
        return str(d)
    return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"


#: (code, pattern of the model's English phrase); the named groups become the code's fields.
NOTE_PATTERNS: tuple[tuple[str, re.Pattern], ...] = (
    ("missed_in", re.compile(r"target missed in (?P<years>[0-9, ]+)")),
    ("not_met_by", re.compile(r"target not met by (?P<due>\S+)")),
    ("rules_only", re.compile(r"(?P<n>\d+) observations \(< (?P<min>\d+)\): rule-based layer only")),
    ("no_data", re.compile(r"no data")),
    ("city_whole", re.compile(r"target set for the city as a whole; shown for reference")),
)

TEXT = re.compile(r"(?P<text>.*?)(?:; |$)")  # a phrase the table does not know, up to the next "; "


def note_codes(note) -> tuple[dict, ...]:
    """``note`` (as in ``assessments.csv``) as a tuple of ``{"code": ..., ...}``, in the note's order.

    Examples
    --------
    >>> note_codes("no data; target not met by 2025Q4")
    ({'code': 'no_data'}, {'code': 'not_met_by', 'due': '2025Q4'})
    """
    if not isinstance(note, str) or not note:
        return ()
    out, rest = [], note
    while rest:
        for code, pattern in NOTE_PATTERNS:  # a phrase may itself hold "; ": match phrases, not split parts
            m = pattern.match(rest)
            if m and rest[m.end():m.end() + 2] in ("; ", ""):
                out.append({"code": code, **m.groupdict()})
                break
        else:
            m = TEXT.match(rest)  # always matches (it may match nothing before "; ")
            out.append({"code": "text", "text": m.group("text") if m else rest})
        rest = rest[m.end():].removeprefix("; ") if m else ""
    return tuple(out)
