"""The district workflow end to end, as cron and a district would do it: run a quarter, generate a
template, fill it (a new quarter and a revision of an earlier one), ingest, run the next quarter;
the new values and the revision show, changes.csv names the cause, and --as-of before the ingest
reproduces the earlier run byte for byte."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pandas as pd
import pytest
from conftest import ipeval, make_project

RUN = ("--sections", "overview", "--geos", "330100", "--quiet")
CITY = "330100"


@pytest.fixture(scope="module")
def workflow(tmp_path_factory):
    from openpyxl import load_workbook

    proj = make_project(tmp_path_factory.mktemp("district") / "proj")
    # the data known before 2025Q3 was reported: periods up to 2025Q2
    data = proj / "data" / "demo" / "demo_data.csv"
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    keep = df["period"].str.match(r"^(20(1\d|2[0-4])(Q[1-4])?|2025Q[12])$")
    df[keep].to_csv(data, index=False)
    r = ipeval("run", "--quarter", "2025Q2", *RUN, cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    first = (proj / "outputs" / "2025Q2").resolve()
    before = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.2)  # the store's times are to the second
    t = proj / "city.xlsx"
    r = ipeval("template", "-o", str(t), "--geo", CITY, "--quarter", "2025Q3", cwd=proj)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(t)
    ws = wb["行政保护"]
    rows = {(ws.cell(r, 10).value, ws.cell(r, 3).value): r for r in range(3, ws.max_row + 1)}
    stored_q1 = int(ws.cell(rows[("fast_preexamination", "2025Q1")], 4).value)
    ws.cell(rows[("fast_preexamination", "2025Q1")], 5).value = stored_q1 + 6000  # a large correction
    ws.cell(rows[("fast_preexamination", "2025Q1")], 9).value = "修订：补录"
    gov = wb["统筹部署与能力建设"]
    new = next(r for r in range(3, gov.max_row + 1)
               if gov.cell(r, 10).value == "technical_investigators" and gov.cell(r, 3).value == "2025Q3")
    gov.cell(new, 5).value = 77  # the new quarter
    wb.save(t)
    r = ipeval("ingest", str(t), cwd=proj)
    assert r.returncode == 0, r.stderr
    r = ipeval("run", "--quarter", "2025Q3", *RUN, cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    return proj, first, before, stored_q1


@pytest.mark.e2e
def test_new_values_and_the_revision_appear(workflow):
    proj, _, _, stored_q1 = workflow
    out = proj / "outputs" / "2025Q3"
    data = pd.read_csv(out / "data" / "observations.csv", dtype=str, keep_default_na=False).set_index(
        ["indicator_id", "geography_code", "period"])
    assert data.loc[("fast_preexamination", CITY, "2025Q1"), "value"] == str(stored_q1 + 6000)
    assert data.loc[("technical_investigators", CITY, "2025Q3"), "value"] == "77"
    rev = pd.read_csv(out / "revisions.csv", dtype={"geography_code": str, "period": str})
    hit = rev[(rev["indicator_id"] == "fast_preexamination") & (rev["period"] == "2025Q1")].iloc[0]
    assert (hit["old"], hit["new"], hit["file"], hit["kind"]) == (stored_q1, stored_q1 + 6000, "city.xlsx", "revised")
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [v["name"] for v in m["store"]["vintages"]] == ["demo_data.csv", "city.xlsx"]
    assert m["data_copy"] == ["data/observations.csv"] and (out / "data" / "received").is_dir()
    # the overview report and the index show the move and name the revised value and its file
    report = (out / "reports" / "overview" / f"{CITY}.report.html").read_text(encoding="utf-8")
    assert "自上次发布以来的变化" in report and "2025Q1" in report and "city.xlsx" in report
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "自上次发布以来的变化" in index and "changes.csv" in index
    # the returns table: the city sent its file, no district has sent its 2025Q3 return
    assert "区县报表报送情况（2025年第三季度，截止2025年10月15日）" in index and "本次评估时尚未报齐的区县：上城区、" in index


@pytest.mark.e2e
def test_changes_attribute_each_move_to_its_cause(workflow):
    proj, first, _, _ = workflow
    ch = pd.read_csv(proj / "outputs" / "2025Q3" / "changes.csv", dtype={"geography_code": str},
                     keep_default_na=False).set_index(["indicator_id", "geography_code"])
    fast = ch.loc[("fast_preexamination", CITY)]
    assert fast["cause"] == "revisions" and fast["previous_quarter"] == "2025Q2"
    assert float(fast["from_revisions"]) > 0.3 and "city.xlsx" in fast["revisions"]
    assert float(fast["from_method"]) == 0 and fast["method_changes"] == ""
    # the parts add up to the move, for every target
    num = ch[ch["change"] != ""]
    parts = num[["from_method", "from_revisions", "from_new_periods"]].astype(float).sum(axis=1)
    assert (parts - num["change"].astype(float)).abs().max() < 1e-6
    tech = ch.loc[("technical_investigators", CITY)]
    assert "2025Q3" in tech["new_periods"] and tech["revisions"] == ""
    assert fast["previous_run"] == json.loads((first / "manifest.json").read_text())["run_id"]


@pytest.mark.e2e
def test_as_of_before_the_ingest_reproduces_the_earlier_run(workflow):
    proj, first, before, _ = workflow
    r = ipeval("run", "--quarter", "2025Q2", *RUN, "--as-of", before, cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    again = (proj / "outputs" / "2025Q2").resolve()
    assert again != first
    assert (again / "assessments.csv").read_bytes() == (first / "assessments.csv").read_bytes()
    m = json.loads((again / "manifest.json").read_text(encoding="utf-8"))
    assert m["store"]["as_of"] == before and [v["name"] for v in m["store"]["vintages"]] == ["demo_data.csv"]
    # and a run re-computes from its own folder
    r = ipeval("reproduce", str(proj / "outputs" / "2025Q3"), cwd=proj)
    assert r.returncode == 0 and "identical" in r.stdout, r.stdout + r.stderr


def test_a_bad_return_is_refused_whole_with_a_chinese_report(project, tmp_path):
    from openpyxl import load_workbook

    t = tmp_path / "t.xlsx"
    assert ipeval("template", "-o", str(t), "--geo", "330106", "--quarter", "2025Q3", cwd=project).returncode == 0
    wb = load_workbook(t)
    ws = wb["行政保护"]
    row = next(r for r in range(3, ws.max_row + 1)
               if ws.cell(r, 10).value == "admin_cases" and ws.cell(r, 3).value == "2025Q3")
    ws.cell(row, 5).value = -4
    wb.save(t)
    before = ipeval("export", "-o", str(tmp_path / "before.csv"), cwd=project)
    assert before.returncode == 0, before.stderr
    r = ipeval("ingest", str(t), cwd=project)
    assert r.returncode == 2
    assert f"行政保护!E{row}" in r.stderr and "数量和金额不能为负数" in r.stderr and "value_not_negative" in r.stderr
    assert "Traceback" not in r.stderr
    report = pd.read_csv(tmp_path / "t.xlsx.errors.csv", dtype=str)
    assert f"行政保护!E{row}" in set(report["单元格"])
    assert ipeval("export", "-o", str(tmp_path / "after.csv"), cwd=project).returncode == 0
    assert (tmp_path / "after.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()


def test_a_targets_detail_names_its_own_revisions_and_for_a_summed_city_figure_the_districts_too():
    import pandas as pd

    from helpers.run.changes import _Details

    rev = pd.DataFrame([
        ("admin_cases", "330102", "2025Q1", "revised", 3.0, 4.0, "a.xlsx"),
        ("admin_cases", "330100", "2025Q2", "new_period", None, 9.0, "c.xlsx"),
        ("admin_cases", "330105", "2024Q4", "new_period", None, 1.0, "b.xlsx"),
        ("satisfaction", "330100", "2024", "revised", 80.0, 81.0, "c.xlsx"),
        ("satisfaction", "330102", "2024", "revised", 70.0, 71.0, "a.xlsx"),
    ], columns=["indicator_id", "geography_code", "period", "kind", "old", "new", "file"])
    d = _Details(rev, city="330100", summed={"admin_cases"})
    # the city's summed figure: every geography's rows, in the list's order; new periods sorted
    assert d.of("admin_cases", "330100") == ("2024Q4, 2025Q2", "330102 2025Q1: 3 -> 4 (a.xlsx)")
    assert d.of("admin_cases", "330102") == ("", "330102 2025Q1: 3 -> 4 (a.xlsx)")
    # a city figure of its own (not summed): the city's rows only
    assert d.of("satisfaction", "330100") == ("", "330100 2024: 80 -> 81 (c.xlsx)")
    assert d.of("satisfaction", "330105") == ("", "")
    assert _Details(rev.iloc[:0], "330100", {"admin_cases"}).of("admin_cases", "330100") == ("", "")
