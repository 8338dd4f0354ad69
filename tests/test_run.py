"""`ipeval run` end to end on the demo data (two sections x two geographies), and its refusals."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers.model.assess import OPEN
from conftest import PUBLISHED_RUN, ipeval, ipeval_here

SECTIONS, GEOS = PUBLISHED_RUN[3], PUBLISHED_RUN[5]  # the session's published run: "enforcement,judicial", "330100,330106"


def _tree_digest(folder: Path) -> dict:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".cache" not in p.parts}


@pytest.fixture(scope="module")
def published(published_run):
    """The session's published run (conftest.PUBLISHED_RUN: these SECTIONS and GEOS)."""
    return published_run


@pytest.mark.e2e
def test_run_publishes_reports_index_and_tables(published, plan):
    proj, r = published
    out = proj / "outputs" / "2025Q2"
    assert (out / "index.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    for section in SECTIONS.split(","):
        for code in GEOS.split(","):
            for variant in ("report", "audit"):
                rel = f"reports/{section}/{code}.{variant}.html"
                assert (out / rel).is_file()
                assert rel in index
    table = pd.read_csv(out / "assessments.csv", dtype={"geography_code": str})
    assert {"indicator_id", "geography_code", "latest_value", "target_value", "gap", "status", "probability",
            "sdg_category", "models_used"} <= set(table.columns)
    # one row per indicator and geography it applies to: city-only indicators for the city alone
    n_city_only = sum(i.city_only for i in plan.indicators)
    assert len(table) == len(plan.indicators) + 13 * (len(plan.indicators) - n_city_only)
    assert not table.duplicated(["indicator_id", "geography_code"]).any()
    assert (out / "assessments.xlsx").is_file()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert all(len(v) == 64 for v in manifest["inputs_sha256"].values())
    assert {j["status"] for j in manifest["jobs"]} == {"ok"}
    # a 2025Q2 run is mid-term: said in the manifest, the table, the index and every report
    city = table[table["geography_code"] == "330100"]
    assert manifest["assessment_stage"] == "midterm" and set(table["assessment_stage"]) == {"midterm"}
    assert manifest["city_counts"] == {"achieved": int((city["status"] == "achieved").sum()),
                                       "missed": int((city["status"] == "missed").sum()),
                                       "open": int(city["status"].isin(OPEN).sum())}
    assert "中期评估" in index and "终期评估" not in index
    assert "中期评估" in (out / f"reports/{SECTIONS.split(',')[0]}/330100.report.html").read_text(encoding="utf-8")
    # every judged, unsettled row has a probability: none is left to a rule
    open_rows = table[table["status"].isin(OPEN) & (table["status"] != "insufficient_data")]
    assert len(open_rows) and open_rows["probability"].between(0, 1).all()
    assert "rules" not in set(table["decided_by"])
    # the store's view the run read, and the received file it was made of
    assert manifest["data_copy"] == ["data/observations.csv"] and (out / "data" / "observations.csv").is_file()
    assert [p.name.endswith("-demo_data.csv") for p in (out / "data" / "received").iterdir()] == [True]
    # a quiet run for cron: one summary line on stdout (no progress bar, no kernel output), and the kernels'
    # own log holds no error
    assert len(r.stdout.splitlines()) == 1, r.stdout
    assert re.fullmatch(r"2025Q2: 4/4 reports ok \(0 unchanged\), 0 failed -> \S+/outputs/2025Q2/index\.html\s*", r.stdout)
    kernel_log = (out / "kernels.log").read_text(encoding="utf-8")
    assert "ERROR" not in kernel_log and "Traceback" not in kernel_log, kernel_log[-2000:]


@pytest.mark.e2e
def test_rerun_with_nothing_changed_skips_every_job(published):
    import os

    proj, _ = published
    pointer = proj / "outputs" / "2025Q2"
    first = os.readlink(pointer)
    runs_before = len(list((proj / "outputs" / "runs" / "2025Q2").iterdir()))
    # nothing changed at all: the fast path answers from one hash, nothing is run or published
    r = ipeval("run", "--quarter", "2025Q2", "--sections", SECTIONS, "--geos", GEOS, "--quiet", cwd=proj)
    assert r.returncode == 0 and "2025Q2" in r.stdout and "无需重新运行" in r.stdout, (r.stdout, r.stderr[-2000:])
    assert len(list((proj / "outputs" / "runs" / "2025Q2").iterdir())) == runs_before
    # a file no report reads: the full path, every report taken from the last run
    (proj / "params" / "README.txt").write_text("notes", encoding="utf-8")
    try:
        r = ipeval("run", "--quarter", "2025Q2", "--sections", SECTIONS, "--geos", GEOS, "--quiet", cwd=proj)
    finally:
        (proj / "params" / "README.txt").unlink()
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((pointer / "manifest.json").read_text(encoding="utf-8"))
    assert all(j.get("skipped") for j in manifest["jobs"]) and manifest["input_fingerprint"]
    assert len(list((proj / "outputs" / "runs" / "2025Q2").iterdir())) == runs_before + 1  # the earlier run is kept
    # the session's run is shared (conftest.published_run): point the quarter back at the run the others read
    os.symlink(first, proj / "outputs" / ".2025Q2.restore")
    os.replace(proj / "outputs" / ".2025Q2.restore", pointer)


@pytest.mark.e2e
def test_invalid_data_exits_2_and_leaves_outputs_untouched(published, tmp_path):
    proj, _ = published
    before = _tree_digest(proj / "outputs")
    bad = tmp_path / "bad.csv"
    df = pd.read_csv(proj / "data" / "demo" / "demo_data.csv", dtype=str, keep_default_na=False)
    df.loc[5, "value"] = "-3"
    df.loc[9, "geography_code"] = "999999"
    df.to_csv(bad, index=False)
    r = ipeval("run", "--quarter", "2025Q2", "--data", str(bad), "--quiet", "--validation-report-dir", str(tmp_path),
               cwd=proj)
    assert r.returncode == 2
    assert "bad.csv" in r.stderr and "value_not_negative" in r.stderr and "known_geography" in r.stderr
    (report_path,) = tmp_path.glob("ipeval-validation-report-*.csv")  # a new uniquely named file
    assert str(report_path) in r.stderr
    report = pd.read_csv(report_path, dtype=str)
    assert set(report["row"]) == {"7", "11"}
    assert _tree_digest(proj / "outputs") == before


@pytest.mark.parametrize("args, message", [
    (["--geos", "330199"], "有效代码"),
    (["--geos", "../x"], "有效代码"),
    (["--sections", "../../etc"], "有效板块"),
    (["--sections", "enforcement'; import os"], "有效板块"),
    (["--quarter", "2025Q5"], "不是季度"),
    (["--quarter", "__import__('os')"], "不是季度"),
])
def test_bad_parameters_are_refused_before_anything_runs(project, args, message, monkeypatch, capsys):
    code, _, err = ipeval_here(["run", *args, "--quiet"], project, monkeypatch, capsys)
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (project / "outputs").exists() or not any((project / "outputs").glob("20*"))


def test_a_second_run_of_the_same_quarter_is_locked_out(project, monkeypatch, capsys):
    from helpers.run.lock import QuarterLock

    (project / "outputs").mkdir()
    # flock is per open file: a second open of the lock file is refused even in this process
    with QuarterLock(project / "outputs" / ".2025Q2.lock", "2025Q2"):
        code, _, err = ipeval_here(["run", "--quarter", "2025Q2", "--sections", "enforcement", "--geos", "330106",
                                    "--quiet"], project, monkeypatch, capsys)
    assert code == 2
    assert "2025Q2 的另一次运行正在进行" in err


@pytest.mark.parametrize("command", ["run", "validate", "template", "demo-data", "reproduce", "backfill", "schedule",
                                     "backtest", "ingest", "export"])
def test_every_command_has_help(project, command):
    r = ipeval(command, "--help", cwd=project)
    assert r.returncode == 0 and "Usage" in r.stdout


def test_template_then_validate_roundtrip(project, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "t.xlsx"
    assert ipeval("template", "-o", str(out), "--geo", "330106", "--quarter", "2025Q3", cwd=project).returncode == 0
    wb = load_workbook(out)
    assert "说明" in wb.sheetnames and "行政保护" in wb.sheetnames
    # an unfilled template holds no figure; filled in, it validates (and runs with --data)
    r = ipeval("validate", str(out), cwd=project)
    assert r.returncode == 2 and "no data rows" in r.stderr
    ratio = {"mediation_success_rate", "ruling_cycle_days", "police_liaison_coverage",
             "trademarks_per_100_enterprises", "gi_mark_usage_rate"}
    for ws in wb.worksheets[1:]:
        for r in range(3, ws.max_row + 1):
            if ws.cell(r, 3).value in ("2025Q3", "2025"):
                if ws.cell(r, 10).value in ratio:
                    ws.cell(r, 6).value, ws.cell(r, 7).value = 1, 2
                else:
                    ws.cell(r, 5).value = 1
    wb.save(out)
    r = ipeval("validate", str(out), cwd=project)
    assert r.returncode == 0, r.stderr


@pytest.mark.e2e
def test_overview_counts_each_sections_targets_and_links_its_reports(published, plan, monkeypatch):
    import re

    from helpers.pages import sections as report

    proj, _ = published
    out = proj / "outputs" / "2025Q2"
    shown, figures = [], []
    monkeypatch.setattr(report, "_display_html", shown.append)
    monkeypatch.setattr(report, "_show", figures.append)
    from helpers.pages import chartfiles

    import zipfile

    packed = zipfile.ZipFile(out / "charts.zip")  # the published run's one copy of its SVG files

    def show_chart(run_dir, ind, code, alt):
        name = f"{ind}/{code}.svg"
        return name in packed.namelist() and not figures.append(packed.read(name))

    monkeypatch.setattr(chartfiles, "show_chart", show_chart)
    ctx = report.open_context("overview", "330106", "2025Q2", lang="en",
                              settings_path=str(proj / "params" / "settings.yaml"), run_dir=str(out))
    report.section_summary(ctx)
    page = "".join(shown)
    table = pd.read_csv(out / "assessments.csv", dtype={"geography_code": str})
    from helpers.model.assess import JUDGED

    # the targets this district is held to: not its figure toward a city target (status reference)
    mine = table[(table["geography_code"] == "330106") & table["status"].isin(JUDGED)]
    assert (table.loc[table["geography_code"] == "330106", "status"] == "reference").any()
    for section in ("enforcement", "judicial"):
        ids = {i.id for i in plan.indicators_in(section)}
        part = mine[mine["indicator_id"].isin(ids)]
        name = plan.section(section).name("en")
        row = re.search(rf"<tr><td>{re.escape(name)}</td><td>(\d+)</td>((?:<td>\d+</td>)+)", page)
        assert row, name
        assert int(row.group(1)) == len(part)
        assert sum(map(int, re.findall(r"<td>(\d+)</td>", row.group(2)))) == len(part)
        href = f"../{section}/330106.report.html"
        assert f'href="{href}"' in page
        assert (out / "reports" / "overview" / href).resolve().is_file()  # the link works in the published run
    assert len(figures) == 1  # the status chart, drawn by the run's chart step when the run has the overview
    if "overview/330106.svg" in packed.namelist():
        assert figures[0] == packed.read("overview/330106.svg")
