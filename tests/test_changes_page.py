"""The what-changed table of the pages and the index: mid-term with probabilities, final with completion only."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def changes():
    """Three rows of a run's changes.csv: a status change, a probability move alone, and a revision."""
    base = dict(previous_quarter="2025Q2", new_periods="2025Q3-2025Q4", revisions="", method_changes="",
                from_revisions=0.0, from_method=0.0)
    return pd.DataFrame([
        dict(base, indicator_id="admin_cases", geography_code="330100", previous_probability=0.52, probability=1.0,
             change=0.48, previous_status="at_risk", status="achieved", cause="new_periods", from_new_periods=0.48),
        dict(base, indicator_id="mediation_success_rate", geography_code="330100", previous_probability=0.3,
             probability=0.05, change=-0.25, previous_status="missed", status="missed", cause="new_periods",
             from_new_periods=-0.25),
        dict(base, indicator_id="tech_investigators", geography_code="330100", previous_probability=0.89,
             probability=0.0, change=-0.89, previous_status="on_track", status="missed", cause="new_periods",
             from_new_periods=-0.89),
    ])


def test_the_final_table_speaks_of_completion_not_probability(changes, plan, geos):
    from helpers.pages.changes import change_rows, changes_html, completion_changes

    rows = change_rows(changes, plan, geos, "zh")
    mid = changes_html(rows, "zh")
    assert "达标概率" in mid and "52% → 100%" in mid and "2025年第二季度" in mid and "2025Q2" not in mid
    final_rows = completion_changes(rows)
    assert [r["status_now"] for r in final_rows] == ["未达标", "已达标"]  # the probability-only move is left out
    final = changes_html(final_rows, "zh", final=True)
    assert "达标概率" not in final and "%" not in final and "概率" not in final
    assert "存在风险 → 已达标" in final and "主要原因" in final and "完成情况有变化" in final
    assert "完成情况均无变化" in changes_html([], "zh", final=True)
    assert "达标概率" in changes_html([], "zh")  # mid-term wording kept for the mid-term


@pytest.mark.parametrize("quarter, title, gone", [((2025, 2), "距目标还需的进度", None),
                                                  ((2025, 4), "目标完成情况", "剩余季度")])
def test_the_pace_table_becomes_completion_once_every_target_is_due(quarter, title, gone, plan, geos, demo_frame):
    from types import SimpleNamespace

    from helpers.pages.analysis_blocks import pace_needed
    from helpers.plan.periods import Quarter

    inds = [i for i in plan.indicators if i.target and i.target.kind in ("cumulative", "flow_per_year")]
    assessments = pd.DataFrame({"geography_code": geos.city.code, "indicator_id": [i.id for i in inds],
                                "status": "missed"})
    ctx = SimpleNamespace(lang="zh", assessments=assessments, geography=geos.city, geos=geos,
                          quarter=Quarter(*quarter), frame=demo_frame)
    html = pace_needed(ctx, inds)
    assert title in html
    if gone:  # the final assessment: target, done and the shortfall, no pace still needed
        assert "差距" in html and gone not in html and "每季度需" not in html
    else:
        assert "剩余季度" in html and "目标完成情况" not in html
