"""The English report reads the same judgement file and press release as the Chinese one
(helpers.pages.document.english): fast tests on built blocks, no run."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.pages.document.blocks import Cover, Document, Heading, Para, Table

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _row(ind, **kw):
    base = dict(indicator_id=ind, status="missed", target_value=1000.0, gap=0.0, note="", probability=float("nan"),
                decided_by="observed")
    return {**base, **kw}


def test_every_published_figure_has_an_english_rendering():
    from helpers.pages.document.english import EN_FILE

    with (ROOT / "data" / "reference" / "press_release_2025-04-23_figures.csv").open(encoding="utf-8") as f:
        ids = [r["figure_id"] for r in csv.DictReader(f)]
    with (ROOT / EN_FILE).open(encoding="utf-8") as f:
        en = list(csv.DictReader(f))
    assert [r["figure_id"] for r in en] == ids
    assert not [r for r in en if CJK.search(r["says_en"] + r["publication_en"]) or not r["says_en"]]


def test_the_section_paragraph_and_annex_2_in_english(plan, geos):
    from helpers.i18n import dt
    from helpers.pages.document.english import context_sentence_en
    from helpers.pages.published import add_published_figures

    text = context_sentence_en(ROOT, "enforcement")
    assert text.startswith("◆ Published figures: in 2024 Hangzhou handled 2,859 administrative cases")
    assert "within 50 days" in text and text.endswith(", 23 April 2025).") and not CJK.search(text)
    assert text.count("statutory 90 days") == 1  # one sentence of the release gives two figures
    sec = plan.section("enforcement")
    doc = Document([Heading(dt("en", "section_heading", n=2, name=sec.name_en), 2),
                    Table(["a"], [["1"]], [10], caption="Table 1  x"), Para("p"),
                    Heading(dt("en", "h_annex_sources"), 2), Table(["a"], [["1"]], [10], caption="Table 2  Sources")],
                   "", "en", "")
    tables = SimpleNamespace(settings=SimpleNamespace(root=ROOT), geos=geos, plan=plan)
    add_published_figures(doc, tables, "330100", "en")
    assert [type(b).__name__ for b in doc.blocks] == ["Heading", "Table", "Para", "Para", "Heading", "Table", "Para",
                                                      "Table"]
    assert doc.blocks[2].text == text
    annex = doc.blocks[7]
    assert annex.header[-2:] == ["Words (our translation)", "Source"] and len(annex.rows) == 19
    ceiling = next(r for r in annex.rows if r[1] == "◆≤50")
    assert ceiling[3] == "city value" and "within 50 days" in ceiling[4]
    assert not [c for r in annex.rows for c in r if CJK.search(c)]
    district = Document([Heading(dt("en", "section_heading", n=2, name=sec.name_en), 2), Table(["a"], [["1"]], [10])],
                        "", "en", "")
    add_published_figures(district, tables, "330106", "en")
    assert len(district.blocks) == 2  # a district's report has no city context paragraph


def _tables(plan, geos, tmp_path, settings, judgement: str):
    run = tmp_path / "run"
    (run / "params").mkdir(parents=True)
    (run / "params" / "judgement.yaml").write_text(judgement, encoding="utf-8")
    recs = {"330100": [_row("ip_trainees", note="target missed in 2023"),
                       _row("technical_investigators", target_value=50.0, gap=5.0),
                       _row("mediation_success_rate", target_value=37.0, gap=3.8)],
            "330102": [_row("mediation_success_rate")], "330106": [_row("mediation_success_rate", status="achieved")]}
    return SimpleNamespace(plan=plan, geos=geos, run_dir=run, settings=settings, records=recs, produced="2026-01-25")


def test_the_english_report_uses_the_teams_file(plan, geos, settings, tmp_path):
    from helpers.pages.document.english import CHINESE_JUDGEMENT, apply_judgement_en

    team = ("recommendations:\n"
            "  - indicator: technical_investigators\n    recommendation_zh: 与市中级法院共建技术调查官共享库。\n"
            "    recommendation_en: Build a shared pool of technical investigators with the intermediate court.\n"
            "    problem_en: five investigators short at the end of 2025.\n"
            "  - indicator: ip_trainees\n    recommendation_zh: 分季度下达培训任务。\n")
    names = {i: plan.indicator(i).name_en for i in ("ip_trainees", "technical_investigators", "mediation_success_rate")}
    # numbered 6. as in a report with 工作成效 and 任务完成情况 (the template's 4. moves)
    doc = Document([Cover("t", "s", ["No."]), Heading("6. Problems and recommendations", 1), Para("These targets"),
                    *[p for k, i in enumerate(names, start=1)
                      for p in (Para(f"{k}. {names[i]}: missed."), Para("Recommendation: old", "note"))],
                    Heading("Annexes", 1)], "", "en", "")
    apply_judgement_en(doc, _tables(plan, geos, tmp_path, settings, team), "330100")
    items = [b.text for b in doc.blocks if isinstance(b, Para) and b.style != "note"][1:]
    notes = [b.text for b in doc.blocks if isinstance(b, Para) and b.style == "note"]
    assert items[1] == f"2. {names['technical_investigators']}: five investigators short at the end of 2025."
    assert notes[1] == "Recommendation: Build a shared pool of technical investigators with the intermediate court."
    # written in Chinese only: the numbers' template, and the reader told the team's judgement exists
    assert "missed its yearly target in 2023" in notes[0] and notes[0].endswith(CHINESE_JUDGEMENT)
    from helpers.pages.document.narrative import missed_years

    assert missed_years(_row("x", note="target missed in 2023, 2024"), "en") == "2023, 2024"  # not 2023、2024
    # no entry: the template with the districts that missed a target every district is held to
    assert "fell short" in notes[2] and "Shangcheng" in notes[2] and CHINESE_JUDGEMENT not in notes[2]
    assert not [n for n in notes if CJK.search(n) or "old" in n]
    assert doc.blocks[0].lines[-3:] == ["Evaluator: (to be filled in)", doc.blocks[0].lines[-2],
                                        "Date of evaluation: 25 January 2026"]


def test_english_templates_differ_with_the_numbers(plan):
    from helpers.pages.document.english import default_recommendation_en

    ind = plan.indicator("ip_professionals_trained")
    narrow = default_recommendation_en(ind, _row(ind.id, target_value=500.0, gap=20.0), [])
    wide = default_recommendation_en(ind, _row(ind.id, target_value=500.0, gap=62.0), [])
    assert "narrowly (20" in narrow and "4.0% of the target" in narrow and "review" not in narrow
    assert "widely (62" in wide and "12.4% of the target" in wide
    rate = plan.indicator("mediation_success_rate")
    assert "3.8 percentage points" in default_recommendation_en(rate, _row(rate.id, target_value=37.0, gap=3.8), [])


def test_a_judgement_entry_may_be_english_only(plan, tmp_path):
    from helpers.pages.document.judgement import load_judgement

    p = tmp_path / "judgement.yaml"
    p.write_text("recommendations:\n  - indicator: ip_trainees\n    recommendation_en: Train by quarter.\n",
                 encoding="utf-8")
    assert load_judgement(p, plan)[("ip_trainees", "*")]["recommendation_en"] == "Train by quarter."


@pytest.mark.parametrize(("lang", "shown"), [("zh", "5,856，当年◆2,859"), ("en", "5,856; year ◆2,859")])
def test_a_published_year_cell_in_the_reports_language(lang, shown):
    from helpers.pages.standard import _year_cell

    row = {"unit": "件", "years": {2024: 5856.0}, "published": {2024: {"value": 2859.0, "comparator": "eq"}},
           "cumulative": True}
    assert _year_cell(row, 2024, lang) == shown


def test_an_english_unit_has_the_decimals_of_its_chinese_unit(plan):
    from helpers.pages.numbers import decimals_for

    differ = {(i.unit_zh, i.unit_en): (decimals_for(i.unit_zh), decimals_for(i.unit_en))
              for i in plan.indicators if decimals_for(i.unit_zh) != decimals_for(i.unit_en)}
    assert not differ, differ  # "27,089 patents", not "27,089.0 patents"
