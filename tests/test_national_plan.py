"""The second plan: 《“十四五”国家知识产权保护和运用规划》 on real published figures, one geography, yearly data.

One end-to-end run (three pages: two sections and the overview) and ``ipeval reproduce`` on it; the rest
are fast checks of the registry, the figures and the refusals.
"""

from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ipeval

ROOT = Path(__file__).resolve().parents[1]
PLAN_ID = "cn_ipr_14th_fyp_2021_2025"
FIGURES = ROOT / "data" / "reference" / "cn_ipr_national_figures.csv"


def test_registry_is_valid_confirmed_and_quotes_its_source(tmp_path):
    from typer.testing import CliRunner

    from helpers.cli import app

    res = CliRunner().invoke(app, ["validate-plan", str(ROOT / "params" / "plans" / f"{PLAN_ID}.yaml")])
    assert res.exit_code == 0, res.output


def test_every_figure_names_its_publication_and_matches_the_registry():
    from helpers.plan.registry import load_plan

    plan = load_plan(ROOT / "params" / "plans" / f"{PLAN_ID}.yaml")
    figures = pd.read_csv(FIGURES, dtype=str)
    assert set(figures["indicator_id"]) <= set(plan.by_id)
    assert (figures["geography_code"] == "100000").all()
    assert figures["source"].str.len().gt(8).all()  # a publication and its date, never empty
    assert not figures["source"].str.upper().str.startswith("DEMO").any()
    assert figures["source"].str.contains(r"20\d\d").all()  # every row dates its publication
    # a value derived from published increments says so in its note
    derived = figures[figures["period"].isin(["2020", "2021"]) & (figures["indicator_id"] == "high_value_patents_per_10k")]
    assert derived["note"].str.contains("推算").all()


def test_unknown_plan_and_unconfirmed_registry_are_refused_before_running(tmp_path):
    from typer.testing import CliRunner

    from helpers.cli import app

    res = CliRunner().invoke(app, ["run", "--plan", "no_such_plan", "--quarter", "2025Q4"])
    assert res.exit_code == 2 and "no_such_plan" in res.output
    # a draft's unconfirmed entry: the run loader refuses it, naming it, exit 2
    plan = yaml.safe_load((ROOT / "params" / "plans" / f"{PLAN_ID}.yaml").read_text(encoding="utf-8"))
    plan["indicators"][1]["confirmed"] = False
    (tmp_path / "params" / "plans").mkdir(parents=True)
    (tmp_path / "params" / "plans" / "p.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    settings = yaml.safe_load((ROOT / "params" / f"settings_{PLAN_ID}.yaml").read_text(encoding="utf-8"))
    settings.update(plan="params/plans/p.yaml", geographies=str(ROOT / "params" / "geographies_cn.yaml"),
                    data=str(FIGURES), outputs=str(tmp_path / "out"))
    settings["store"] = {"path": str(tmp_path / "s.sqlite"), "received": str(tmp_path / "r"), "inbox": str(tmp_path / "i")}
    (tmp_path / "params" / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    res = CliRunner().invoke(app, ["run", "--settings", str(tmp_path / "params" / "settings.yaml"), "--quarter", "2025Q4"])
    assert res.exit_code == 2
    assert "尚未确认" in res.output and "patent_intensive_gdp_share" in res.output
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    """The final assessment of the national plan, its three pages, as a user runs it."""
    from conftest import make_project

    proj = make_project(tmp_path_factory.mktemp("national") / "proj")
    r = ipeval("run", "--plan", PLAN_ID, "--quarter", "2025Q4", "--quiet", "-j", "2",
               cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    return proj, proj / "outputs" / PLAN_ID / "2025Q4"


@pytest.mark.e2e
def test_final_assessment_on_real_figures_has_no_demo_banner_and_reproduces(national):
    proj, out = national
    table = pd.read_csv(out / "assessments.csv", dtype={"geography_code": str, "latest_period": str})
    assert set(table["geography_code"]) == {"100000"}
    assert (table["assessment_stage"] == "final").all()
    hv = table.set_index("indicator_id").loc["high_value_patents_per_10k"]
    assert (hv["status"], hv["latest_period"], float(hv["latest_value"])) == ("achieved", "2025", 16.0)
    # an indicator with no published value is shown as missing, never filled in
    assert pd.isna(table.set_index("indicator_id").loc["overseas_invention_grants", "latest_value"])
    for page in ("creation_use", "protection", "overview"):  # sections of its own, rendered by reused notebooks
        html = (out / "reports" / page / "100000.report.html").read_text(encoding="utf-8")
        assert "演示数据" not in html and "杭州" not in html
        assert "“十四五”国家知识产权保护和运用规划" in html
    assert not pd.read_csv(out / "validated_data.csv")["source"].astype(str).str.startswith("DEMO").any()
    r = ipeval("reproduce", str(out), cwd=proj)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "identical: assessments.csv" in r.stdout
