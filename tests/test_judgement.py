"""Judgement the team owns: 问题与建议 per target from params/judgement.yaml or templates that follow the numbers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from helpers.exceptions import ConfigError
from helpers.pages.document.blocks import Cover, Document, Heading, Para
from helpers.pages.document.judgement import apply_judgement, default_recommendation, load_judgement


def _row(ind, **kw):
    base = dict(indicator_id=ind, status="missed", target_value=1000.0, gap=0.0, note="", probability=float("nan"),
                decided_by="observed")
    return {**base, **kw}


def test_templates_differ_with_the_numbers(plan):
    ind = plan.indicator("ip_professionals_trained")
    narrow = default_recommendation(ind, _row(ind.id, target_value=500.0, gap=20.0), [])
    wide = default_recommendation(ind, _row(ind.id, target_value=500.0, gap=62.0), [])
    assert "差距较小（差20人，为目标值的4.0%）" in narrow and "复核" not in narrow
    assert "差距较大（差62人，为目标值的12.4%）" in wide and "复核目标测算口径" in wide
    trainees = plan.indicator("ip_trainees")
    years = default_recommendation(trainees, _row(trainees.id, note="target missed in 2023"), [])
    assert "在2023年未达到年度目标，期末已回到目标水平以上" in years
    rate = plan.indicator("mediation_success_rate")
    city = default_recommendation(rate, _row(rate.id, target_value=37.0, gap=3.83), ["上城区", "拱墅区"])
    assert "差3.83个百分点" in city or "差3.8个百分点" in city
    assert "未达标的区县有上城区、拱墅区（共2个）" in city
    every = default_recommendation(rate, _row(rate.id, target_value=37.0, gap=3.83), ["上城区", "拱墅区"], 2)
    assert "全部2个区县均未达标，应逐一督导" in every and "上城区" not in every
    # one 建议 per recommendation: the parts say 应/宜, never 建议：…，建议…
    assert all(r.count("建议") == 1 for r in (narrow, wide, years, city, every)), (narrow, wide, years, city)
    assert len({narrow, wide, years, city}) == 4


def _tables(plan, geos, tmp_path, settings, judgement: str | None):
    run = tmp_path / "run"
    (run / "params").mkdir(parents=True)
    if judgement is not None:
        (run / "params" / "judgement.yaml").write_text(judgement, encoding="utf-8")
    recs = {"330100": [_row("ip_trainees", note="target missed in 2023"),
                       _row("technical_investigators", target_value=50.0, gap=5.0)]}
    return SimpleNamespace(plan=plan, geos=geos, run_dir=run, settings=settings, records=recs, produced="2026-01-25")


def _doc():
    return Document([Cover("t", "s", ["文号"]), Heading("四、存在问题与建议", 1), Para("以下目标"),
                     Para("1. 知识产权人才教育培训人次：未实现。"), Para("建议：旧模板", "note"),
                     Para("2. 知识产权技术调查官人数：未实现。"), Para("建议：旧模板", "note"), Heading("附件", 1)], "", "zh", "")


def test_the_team_file_replaces_a_template_and_the_cover_names_the_team(plan, geos, settings, tmp_path):
    team = ("recommendations:\n  - indicator: technical_investigators\n    geography: '330100'\n"
            "    recommendation_zh: 与市中级法院共建技术调查官共享库，2026年6月前补足5名。\n")
    doc = apply_judgement(_doc(), _tables(plan, geos, tmp_path, settings, team), "330100")
    notes = [b.text for b in doc.blocks if isinstance(b, Para) and b.style == "note"]
    assert notes[1] == "建议：与市中级法院共建技术调查官共享库，2026年6月前补足5名。"
    assert "2023年未达到年度目标" in notes[0] and "旧模板" not in notes[0]
    cover = doc.blocks[0]
    assert cover.lines[-3:] == ["评估单位：（待填写）", "委托单位：杭州市市场监督管理局（杭州市知识产权局）",
                                "评估日期：2026年1月25日"]


@pytest.mark.parametrize("text, message", [
    ("recommendations:\n  - indicator: no_such\n    recommendation_zh: x\n", "不是方案登记表中的指标代码"),
    ("recommendations:\n  - indicator: ip_trainees\n    advice: x\n", "未知字段 advice"),
    ("recommendations:\n  - indicator: ip_trainees\n", "至少填写"),
])
def test_a_broken_judgement_file_is_refused_naming_the_entry(plan, tmp_path, text, message):
    p = tmp_path / "judgement.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_judgement(p, plan)


def test_report_block_defaults_and_a_bad_date(tmp_path, settings):
    import yaml

    from helpers.settings import load_settings

    raw = yaml.safe_load(settings.path.read_text(encoding="utf-8"))
    assert settings.file.report.judgement == "params/judgement.yaml"
    raw["report"] = {"evaluation_date": "2026-13-01"}
    p = tmp_path / "params" / "settings.yaml"
    p.parent.mkdir()
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match="report.evaluation_date"):
        load_settings(p)


def test_an_edited_judgement_file_is_not_answered_with_the_last_runs_reports(tmp_path):
    """The documents' reuse stamp covers the run's copy of the judgement file: an edit alone rewrites them."""
    from helpers.pages.document import _stamp

    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "judgement.yaml").write_text("recommendations: []\n", encoding="utf-8")
    before = _stamp(tmp_path, ["330100"], ("docx",), "zh")
    (tmp_path / "params" / "judgement.yaml").write_text(
        "recommendations:\n  - indicator: ip_trainees\n    recommendation_zh: 分季度下达。\n", encoding="utf-8")
    assert _stamp(tmp_path, ["330100"], ("docx",), "zh") != before
