"""Where the assessment stands on the page: the stage, mid-term (中期评估) or final (终期评估), with
the counts of targets achieved, missed and still open (:func:`helpers.model.assess.assessment_stage`),
and the counts of statuses per section."""

from __future__ import annotations

import html

import pandas as pd

from helpers.i18n import STAGE_NAMES, STATUS_NAMES, t
from helpers.pages.notes import quarter_label
from helpers.plan.periods import Quarter


def stage_counts(assessments: pd.DataFrame, geography_code: str) -> dict:
    """How many targets of a geography are achieved, missed and still open."""
    from helpers.model.assess import OPEN

    a = assessments[assessments["geography_code"] == geography_code]["status"]
    return {"achieved": int((a == "achieved").sum()), "missed": int((a == "missed").sum()),
            "open": int(a.isin(OPEN).sum())}


def final_counts(assessments: pd.DataFrame, geography_code: str, lang: str) -> str:
    """已达标 16 项，未达标 14 项，待公布 2 项: achieved and missed always, any other status a target of this
    geography still has (pending publication, data missing) by its own name."""
    from helpers.model.assess import JUDGED

    a = assessments.loc[assessments["geography_code"] == geography_code, "status"]
    counts = a[a.isin(JUDGED)].value_counts().to_dict()
    shown = ["achieved", "missed"] + [s for s in JUDGED if s not in ("achieved", "missed") and counts.get(s)]
    return t(lang, "stage_count_sep").join(t(lang, "stage_count", name=STATUS_NAMES[lang].get(s, s), n=counts.get(s, 0))
                                          for s in shown)


def period_label(period, lang: str) -> str:
    """A quarter or year as a Chinese page writes it (2025年第四季度, 2025年); English pages keep 2025Q4."""
    return quarter_label(period, lang) if lang == "zh" else str(period)


def stage_banner(plan, quarter: Quarter, assessments: pd.DataFrame, geography, lang: str) -> str:
    """One line saying whether this is the final (终期评估) or a mid-term assessment, with the
    geography's counts of targets achieved, missed and still open."""
    from helpers.model.assess import assessment_stage

    stage = assessment_stage(plan, quarter)
    due = max((i.target.due for i in plan.targets), default=quarter)
    common = dict(stage=STAGE_NAMES[lang][stage], quarter=period_label(quarter, lang), due=period_label(due, lang),
                  where=geography.name(lang))
    if stage == "final":  # every target has fallen due: each status by its name (待公布, 数据缺失), never "尚未确定"
        text = t(lang, "stage_banner_final", counts=final_counts(assessments, geography.code, lang), **common)
    else:
        text = t(lang, "stage_banner", **common, **stage_counts(assessments, geography.code))
    colour = "#e8f0fe" if stage == "final" else "#f5f5f5"
    return (f'<p class="ipeval-stage ipeval-stage-{stage}" style="background:{colour};padding:6px 10px;'
            f'border-left:4px solid #1a73e8"><b>{html.escape(text)}</b></p>')


def section_status_counts(plan, assessments: pd.DataFrame, geo) -> list:
    """Per section with targets ``geo`` is held to: ``(section, n, {status: count}, mean probability)``."""
    from helpers.model.assess import JUDGED

    a = assessments
    a = a[(a["geography_code"] == geo.code) & a["status"].isin(JUDGED)]
    rows = []
    for sec in plan.sections:
        ids = {i.id for i in plan.indicators_in(sec.id) if geo.is_city or not i.city_only}
        part = a[a["indicator_id"].isin(ids)]
        if part.empty:
            continue
        counts = part["status"].value_counts()
        rows.append((sec, len(part), {s: int(counts.get(s, 0)) for s in JUDGED}, part["probability"].mean()))
    return rows
