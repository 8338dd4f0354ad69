"""The fault and bad-input matrix (issue 11, ``docs/reliability.md``).

Every bad input is tried the way an operator or a statistician would make it, through the command
line (``helpers.cli.main``, the console script's entry point, in process: no kernel starts for a
refused input). Each case asserts the exit code, that the message names what is wrong (and, for
data, the file, row and rule), that no traceback is shown, and that the published outputs are
byte for byte what they were. Faults (signals, a bad cache, a full disk, a bug, locks, kills) run
on one report (``--sections enforcement --geos 330106``) so the suite stays in its CI budget.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import ipeval, ipeval_here, make_project

ONE = ("--quarter", "2025Q2", "--sections", "enforcement", "--geos", "330106")
INJECTIONS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://example.invalid","x")', "+1+1", "-2+3", "@SUM(1,1)",
              "\t=1+1", "\r=1+1"]


# --------------------------------------------------------------------------- helpers

def snapshot(folder: Path) -> dict:
    """Every file and link under ``folder``: its SHA-256 or link target (what "untouched" means)."""
    out = {}
    if not folder.exists():
        return out
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def published_part(snap: dict) -> dict:
    """A snapshot without the cache and the lock files (not outputs: a run may update them)."""
    return {k: v for k, v in snap.items() if ".cache" not in k and not k.endswith(".lock")}


def cli(args, cwd: Path, monkeypatch, capsys):
    """Run ``ipeval ARGS`` in process through the console entry point; (exit code, stdout, stderr)."""
    return ipeval_here(args, cwd, monkeypatch, capsys)


def demo(project: Path) -> pd.DataFrame:
    return pd.read_csv(project / "data" / "demo" / "demo_data.csv", dtype=str, keep_default_na=False)


def set_cell(df: pd.DataFrame, ind: str, geo: str, when: str, **values) -> pd.DataFrame:
    df = df.copy()
    m = (df["indicator_id"] == ind) & (df["geography_code"] == geo) & (df["period"] == when)
    assert m.sum() == 1, (ind, geo, when)
    for k, v in values.items():
        df.loc[m, k] = v
    return df


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A project with one published run (enforcement, 330106, 2025Q2) whose data notes carry
    formula and HTML injection strings."""
    project = make_project(tmp_path_factory.mktemp("rel") / "proj")
    data = project / "data" / "demo" / "demo_data.csv"
    df = pd.read_csv(data, dtype=str, keep_default_na=False)
    rows = df.index[(df["geography_code"] == "330106") & (df["indicator_id"] == "admin_cases")][:len(INJECTIONS) + 1]
    for r, text in zip(rows, [*INJECTIONS, "<script>alert('x')</script>"]):
        df.loc[r, "note"] = text
    df.to_csv(data, index=False, quoting=csv.QUOTE_ALL)  # pandas leaves a lone \r unquoted otherwise
    r = ipeval("run", *ONE, "--quiet", cwd=project)
    assert r.returncode == 0, r.stderr[-3000:]
    return project


# --------------------------------------------------------------------------- bad data (36 classes)

def _write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


def _xlsx(df: pd.DataFrame, path: Path, percent: bool = False) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        df.to_excel(xw, index=False, sheet_name="data")
        if percent:
            ws = xw.sheets["data"]
            ws.cell(2, 4).value = 0.45
            ws.cell(2, 4).number_format = "0%"
    return path


def _set(ind, geo, when, **values):
    return lambda df, p: _write(set_cell(df, ind, geo, when, **values), p / "bad.csv")


def _raw(content: bytes, name: str):
    def make(df, p):
        (p / name).write_bytes(content)
        return p / name
    return make


def _zip_not_workbook(df, p):
    with zipfile.ZipFile(p / "bad.xlsx", "w") as z:
        z.writestr("hello.txt", "not a workbook")
    return p / "bad.xlsx"


def _encrypted(df, p):
    # the head of an OLE compound file holding an "EncryptedPackage" stream: what Excel writes
    # for a workbook with a password to open
    body = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 512
    (p / "secret.xlsx").write_bytes(body)
    return p / "secret.xlsx"


def _two_files_same_row(df, p):
    (p / "a").mkdir()
    _write(df, p / "a" / "one.csv")
    _write(df[(df["indicator_id"] == "admin_cases") & (df["geography_code"] == "330106")], p / "two.csv")
    return [p / "a" / "one.csv", p / "two.csv"]


DATA_CASES = [
    # id, make(df, folder) -> path(s), rule or phrase the message must contain
    ("missing_file", lambda df, p: p / "nope.csv", "不存在"),
    ("folder", lambda df, p: p, "是文件夹"),
    ("empty_file", _raw(b"", "empty.csv"), "not_empty"),
    ("header_only", _raw(b"indicator_id,geography_code,period,value,numerator,denominator,source,note\n", "h.csv"),
     "not_empty"),
    ("wrong_type", _raw(b"hello", "data.txt"), "file_type"),
    ("legacy_xls", _raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024, "old.xls"), "legacy_xls"),
    ("encrypted_xlsx", _encrypted, "encrypted_workbook"),
    ("not_a_zip_xlsx", _raw(b"this is text, not a workbook", "fake.xlsx"), "not_a_workbook"),
    ("zip_not_workbook", _zip_not_workbook, "not_a_workbook"),
    ("undecodable_csv", _raw(b"indicator_id,geography_code\n\xff\xfe\xff\xfe,\x80\x80\n", "bin.csv"), "encoding"),
    ("missing_column", lambda df, p: _write(df.drop(columns=["source"]), p / "bad.csv"), "column_in_dataframe"),
    ("unknown_column", lambda df, p: _write(df.assign(extra="x"), p / "bad.csv"), "unknown_column"),
    ("unknown_indicator", _set("admin_cases", "330106", "2024Q1", indicator_id="admin_casez"), "known_indicator"),
    ("unknown_geography", _set("admin_cases", "330106", "2024Q1", geography_code="330199"), "known_geography"),
    ("period_format", _set("admin_cases", "330106", "2024Q1", period="2024-3"), "period_format"),
    ("period_0000Q1", _set("admin_cases", "330106", "2024Q1", period="0000Q1"), "period_in_range"),
    ("period_1999Q1", _set("admin_cases", "330106", "2024Q1", period="1999Q1"), "period_in_range"),
    ("period_2052Q1", _set("admin_cases", "330106", "2024Q1", period="2052Q1"), "period_in_range"),
    ("period_2205Q1", _set("admin_cases", "330106", "2024Q1", period="2205Q1"), "period_in_range"),
    ("period_not_ended", _set("admin_cases", "330106", "2024Q1", period="2099Q4"), "period_in_range"),
    ("year_for_quarterly", _set("admin_cases", "330106", "2024Q1", period="2017"), "period_matches_frequency"),
    ("not_a_number", _set("admin_cases", "330106", "2024Q1", value="abc"), "numeric"),
    ("value_inf", _set("admin_cases", "330106", "2024Q1", value="inf"), "finite_number"),
    ("value_1e309", _set("admin_cases", "330106", "2024Q1", value="1e309"), "finite_number"),
    ("denominator_inf", _set("ruling_cycle_days", "330106", "2024Q1", value="", denominator="inf"), "finite_number"),
    ("negative_count", _set("admin_cases", "330106", "2024Q1", value="-5"), "value_not_negative"),
    ("denominator_zero", _set("ruling_cycle_days", "330106", "2024Q1", value="", numerator="10", denominator="0"),
     "denominator_positive"),
    ("numerator_above_denominator", _set("mediation_success_rate", "330106", "2024Q1", value="", numerator="90",
                                         denominator="10"), "numerator_not_above_denominator"),
    ("percent_above_100", _set("mediation_success_rate", "330106", "2024Q1", value="150", numerator="",
                               denominator=""), "value_within_unit_range"),
    ("city_only_for_district", lambda df, p: _write(pd.concat([df, set_cell(df, "ip_trainees", "330100", "2024Q1",
                                                                            geography_code="330106").pipe(
        lambda d: d[(d["indicator_id"] == "ip_trainees") & (d["geography_code"] == "330106")])]), p / "bad.csv"),
     "city_only_indicator"),
    ("duplicate_row", lambda df, p: _write(pd.concat([df, df.iloc[[1309]]]), p / "bad.csv"), "uniqueness"),
    ("same_row_in_two_files", _two_files_same_row, "duplicate_across_files"),
    ("value_blank", _set("admin_cases", "330106", "2024Q1", value=""), "value_required"),
    ("ratio_parts_blank", _set("ruling_cycle_days", "330106", "2024Q1", value="", numerator="", denominator=""),
     "numerator_and_denominator_required"),
    ("districts_above_city", lambda df, p: _write(pd.concat([df, set_cell(df, "admin_cases", "330106", "2024Q1").pipe(
        lambda d: d[(d["indicator_id"] == "admin_cases") & (d["geography_code"] == "330106") & (d["period"] == "2024Q1")]
    ).assign(geography_code="330100", value="1")]), p / "bad.csv"), "districts_not_above_city"),
    ("percent_formatted_cell", lambda df, p: _xlsx(df, p / "pct.xlsx", percent=True), "percent_format"),
]


@pytest.mark.parametrize("case, make, expected", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_bad_data_is_refused_with_exit_2_and_outputs_untouched(case, make, expected, published, tmp_path,
                                                                monkeypatch, capsys):
    paths = make(demo(published), tmp_path)
    paths = paths if isinstance(paths, list) else [paths]
    before = snapshot(published / "outputs")
    args = ["run", *ONE, "--quiet", "--validation-report-dir", tmp_path / "reports"]
    for p in paths:
        args += ["--data", p]
    code, out, err = cli(args, published, monkeypatch, capsys)
    assert code == 2, (out, err)
    assert expected in err, err
    assert "Traceback" not in err
    assert snapshot(published / "outputs") == before
    reports = list((tmp_path / "reports").glob("ipeval-validation-report-*.csv"))
    if reports:  # row-level problems: the report names file, row, column and rule
        rep = pd.read_csv(reports[0], encoding="utf-8-sig", dtype=str, keep_default_na=False)
        assert list(rep.columns) == ["file", "row", "column", "rule", "value", "message"]
        assert rep["file"].str.len().gt(0).all() and rep["rule"].str.len().gt(0).all()


def test_a_gbk_csv_is_read_like_utf8(published, tmp_path, monkeypatch, capsys):
    df = demo(published)
    utf8 = _write(df, tmp_path / "utf8.csv")
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(utf8.read_text(encoding="utf-8").replace("演示数据", "演示数据（区县报送）").encode("gb18030"))
    from helpers.data.readers import read_table

    a, b = read_table(utf8), read_table(gbk)
    assert a.shape == b.shape and b["source"].str.contains("区县报送").all()
    code, out, err = cli(["validate", gbk], published, monkeypatch, capsys)
    assert code == 0 and "OK" in out, err


def test_a_denominator_of_inf_never_becomes_zero_days(published, tmp_path, plan, geos):
    from helpers.data.contract import load_data
    from helpers.exceptions import DataValidationError

    bad = _set("ruling_cycle_days", "330106", "2024Q1", value="", numerator="120", denominator="inf")(demo(published),
                                                                                                   tmp_path)
    with pytest.raises(DataValidationError) as e:
        load_data(bad, plan, geos)
    f = e.value.failures
    assert f[["column", "rule"]].values.tolist() == [["denominator", "finite_number"]]
    assert f["row"].iloc[0] != ""


@pytest.mark.parametrize("n", [5_000, 30_000])
def test_a_large_bad_file_lists_1000_problems_and_counts_the_rest(n, tmp_path, plan, geos):
    from helpers.data.contract import CHUNK_ROWS, MAX_LISTED, load_data
    from helpers.exceptions import DataValidationError

    pd.DataFrame({"indicator_id": ["nope"] * n, "geography_code": ["1"] * n, "period": ["x"] * n, "value": ["a"] * n,
                  "numerator": [""] * n, "denominator": [""] * n, "source": [""] * n,
                  "note": [""] * n}).to_csv(tmp_path / "big.csv", index=False)
    with pytest.raises(DataValidationError) as e:
        load_data(tmp_path / "big.csv", plan, geos)
    assert len(e.value.failures) == MAX_LISTED
    msg = e.value.args[0]
    checked = min(n, CHUNK_ROWS)  # a file larger than a block: checking stops after the first
    for rule in ("known_indicator", "known_geography", "period_format", "numeric"):
        assert f"{rule}: {checked}" in msg, msg
    assert ("发现 1000 处问题后停止检查（停在 big.csv 第 20001 行）" in msg) == (n > CHUNK_ROWS)


# --------------------------------------------------------------------------- bad parameters and settings (21)

def _settings_with(project: Path, **changes) -> Path:
    import yaml

    s = yaml.safe_load((project / "params" / "settings.yaml").read_text(encoding="utf-8"))
    for k, v in changes.items():
        block, _, key = k.partition("__")
        if key:
            s[block][key] = v
        else:
            s[block] = v
    out = project / "params" / f"alt-{hashlib.sha1(repr(changes).encode()).hexdigest()[:8]}.yaml"
    out.write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
    return out


def _outputs_is_a_file(project):
    (project / "a-file").write_text("x")
    return ["run", *ONE, "--settings", _settings_with(project, outputs="a-file")]


def _bad_yaml(project):
    p = project / "params" / "broken.yaml"
    p.write_text("outputs: [unclosed\n", encoding="utf-8")
    return ["run", *ONE, "--settings", p]


def _reproduce_corrupt_manifest(project):
    run = project / "copy-corrupt"
    _copy_run(project, run)
    (run / "manifest.json").write_text('{"quarter": "2025Q2", "data_', encoding="utf-8")
    return ["reproduce", run]


def _reproduce_no_assessments(project):
    run = project / "copy-noassess"
    _copy_run(project, run)
    (run / "assessments.csv").unlink()
    return ["reproduce", run]


def _copy_run(project: Path, dst: Path) -> None:
    import shutil

    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree((project / "outputs" / "2025Q2").resolve(), dst)


PARAM_CASES = [
    ("quarter_garbage", lambda p: ["run", "--quarter", "2025-2"], 2, "2024Q3"),
    ("quarter_2000Q1", lambda p: ["run", "--quarter", "2000Q1", "--sections", "enforcement", "--geos", "330106"], 2,
     "早于有数据的第一期"),
    ("quarter_not_ended", lambda p: ["run", "--quarter", "2026Q4"], 2, "尚未结束"),
    ("quarter_2100Q4", lambda p: ["run", "--quarter", "2100Q4"], 2, "尚未结束"),
    ("quarter_out_of_range", lambda p: ["run", "--quarter", "2205Q1"], 2, "不是有效的季度"),
    ("unknown_section", lambda p: ["run", "--sections", "nope"], 2, "有效板块"),
    ("unknown_geography", lambda p: ["run", "--geos", "123456"], 2, "123456"),
    ("bad_language", lambda p: ["run", *ONE, "--lang", "fr"], 2, "zh 或 en"),
    ("workers_zero", lambda p: ["run", *ONE, "-j", "0"], 2, "至少为 1"),
    ("workers_negative", lambda p: ["run", *ONE, "-j", "-1"], 2, "至少为 1"),
    ("bad_executor", lambda p: ["run", *ONE, "--executor", "slurm"], 2, "'local' 或 'dask'"),
    ("dask_without_scheduler", lambda p: ["run", *ONE, "--executor", "dask"], 2, "--scheduler"),
    ("dask_bad_address", lambda p: ["run", *ONE, "--executor", "dask", "--scheduler", "not an address"], 2,
     "tcp://HOST:PORT"),
    ("dask_unreachable", lambda p: ["run", *ONE, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9"], 3,
     "没有响应"),
    ("outputs_is_a_file", _outputs_is_a_file, 2, "是文件而不是文件夹"),
    ("settings_missing", lambda p: ["run", *ONE, "--settings", p / "params" / "nope.yaml"], 2, "nope.yaml"),
    ("settings_bad_yaml", _bad_yaml, 2, "broken.yaml"),
    ("settings_unknown_key", lambda p: ["run", *ONE, "--settings", _settings_with(p, status__on_trak=0.8)], 2,
     "on_trak"),
    ("settings_workers_zero", lambda p: ["run", *ONE, "--settings", _settings_with(p, executor__workers=0)], 2,
     "executor.workers"),
    ("settings_bad_cron", lambda p: ["schedule", "--print-cron", "--settings",
                                     _settings_with(p, schedule__cron="every quarter")], 2, "cron"),
    ("systemd_day_of_week", lambda p: ["schedule", "--print-systemd", "--settings",
                                       _settings_with(p, schedule__cron="0 6 * * 1")], 2, "day-of-week"),
    ("backfill_bad_range", lambda p: ["backfill", "2025Q4-2025Q1"], 2, "2025Q4"),
    ("reproduce_not_a_run", lambda p: ["reproduce", p / "params"], 2, "没有 manifest.json"),
    ("reproduce_corrupt_manifest", _reproduce_corrupt_manifest, 2, "已损坏"),
    ("reproduce_no_assessments", _reproduce_no_assessments, 2, "assessments.csv 缺失"),
]


@pytest.mark.parametrize("case, make, code, expected", PARAM_CASES, ids=[c[0] for c in PARAM_CASES])
def test_bad_parameters_are_refused_with_a_clear_message(case, make, code, expected, published, monkeypatch, capsys):
    before = snapshot(published / "outputs")
    args = make(published)
    t0 = time.monotonic()
    got, out, err = cli(args, published, monkeypatch, capsys)
    assert got == code, (out, err)
    assert expected in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) <= 5, err
    assert snapshot(published / "outputs") == before
    if case == "dask_unreachable":
        assert time.monotonic() - t0 < 15  # fails fast, not after Dask's 30 s connect timeout


def test_too_many_workers_are_capped_and_said(monkeypatch):
    import logging

    from helpers.run import execute

    said = []
    handler = logging.Handler()
    handler.emit = said.append  # type: ignore[method-assign]
    execute.log.addHandler(handler)
    monkeypatch.setattr(execute.os, "cpu_count", lambda: 3)  # a machine of 3 CPUs: at most 12 reports at once
    try:
        assert execute.worker_count(10_000, None) == 12
        assert [(r.event, r.requested, r.used) for r in said] == [("workers_capped", 10_000, 12)]
        assert execute.worker_count(12, None) == 12 and len(said) == 1  # at the cap: nothing to say
        assert execute.worker_count(None, 2) == 2  # the settings, when -j is not given
        assert execute.worker_count(None, None) == 3  # the default: one per CPU (reports in forked shells)
        assert execute.worker_count(None, None, shells=False) == 4  # in kernels: one more than the CPUs
    finally:
        execute.log.removeHandler(handler)


def test_print_systemd_converts_cron_ranges_and_steps(published, monkeypatch, capsys):
    alt = _settings_with(published, schedule__cron="30 6 25 1-12/3 *")
    code, out, err = cli(["schedule", "--print-systemd", "--settings", alt], published, monkeypatch, capsys)
    assert code == 0, err
    assert "OnCalendar=*-01,04,07,10-25 06:30:00 Asia/Shanghai" in out
    assert f'"--settings" "{alt}"' in out  # systemd's own quoting (test_trust: % and $ in paths)


def test_print_cron_keeps_the_settings_file(published, monkeypatch, capsys):
    alt = _settings_with(published, schedule__cron="0 7 26 1,4,7,10 *")
    code, out, err = cli(["schedule", "--print-cron", "--settings", alt], published, monkeypatch, capsys)
    assert code == 0 and f"--settings {alt}" in out and "0 7 26 1,4,7,10 *" in out
    code, out, _ = cli(["schedule", "--print-cron"], published, monkeypatch, capsys)
    assert "--settings" not in out


def test_schedule_catches_up_the_quarter_print_cron_would_run(published, tmp_path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from helpers.run.schedule import missed_quarter
    from helpers.settings import load_settings

    s = load_settings(_settings_with(published, outputs=str(tmp_path / "empty-outputs")))
    # late 2026: the last firing evaluates 2026Q3, but the data end in 2025Q4, the quarter
    # `ipeval run --quarter latest` (the crontab entry) runs
    assert str(missed_quarter(s, datetime(2026, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")))) == "2025Q4"


# --------------------------------------------------------------------------- injections

def test_formula_cells_are_neutralised_in_every_table_for_people(published, tmp_path, monkeypatch, capsys):
    run = (published / "outputs" / "2025Q2").resolve()
    validated = pd.read_csv(run / "validated_data.csv", dtype=str, keep_default_na=False)
    notes = set(validated["note"])
    for text in INJECTIONS:
        # the store keeps a note without its surrounding white space ("\t=1+1" -> "=1+1"): neutralised all the same
        assert ("'" + text in notes or "'" + text.strip() in notes) and text not in notes and text.strip() not in notes
    # what the notebooks read back is the original text (less that white space)
    from helpers.files import restore_frame

    back = set(restore_frame(validated)["note"])
    assert all(text in back or text.strip() in back for text in INJECTIONS)
    # the HTML report escapes markup
    html = (run / "reports" / "enforcement" / "330106.report.html").read_text(encoding="utf-8")
    assert "<script>alert('x')</script>" not in html
    # the validation report of invalid data
    df = demo(published)
    df = set_cell(df, "admin_cases", "330106", "2024Q1", value="=cmd|' /C calc'!A0", note="@SUM(1,1)")
    bad = _write(df, tmp_path / "bad.csv")
    code, _, err = cli(["validate", bad, "--report", tmp_path / "r.csv"], published, monkeypatch, capsys)
    assert code == 2
    cells = pd.read_csv(tmp_path / "r.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False)["value"].tolist()
    assert "'=cmd|' /C calc'!A0" in cells and "=cmd|' /C calc'!A0" not in cells


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_workbook_never_holds_a_formula_from_data(text, tmp_path, plan, geos, demo_frame):
    from openpyxl import load_workbook

    from helpers.model.assess import StatusThresholds
    from helpers.pages.workbook import write_workbook
    from helpers.plan.periods import Quarter

    table = pd.DataFrame([{"indicator_id": "admin_cases", "section": "enforcement", "geography_code": "330106",
                           "status": "on_track", "sdg_category": "on_track", "note": text, "probability": 0.5,
                           "target_value": 1000.0, "due": "2025Q4", "decided_by": "ensemble"}])
    frame = demo_frame[demo_frame["geography_code"] == "330106"].head(3).assign(note=text, source=text)
    write_workbook(tmp_path / "a.xlsx", table=table, frame=frame, plan=plan, geos=geos, quarter=Quarter(2025, 2),
                   demo=False, lang="zh", thresholds=StatusThresholds())
    cells = [c for ws in load_workbook(tmp_path / "a.xlsx").worksheets for row in ws.iter_rows() for c in row
             if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)
    # text with the quote-prefix style: Excel shows it as typed, no visible apostrophe, never run
    # (XML stores a carriage return as a line feed)
    assert any(isinstance(c.value, str) and c.quotePrefix and c.value.lstrip() == text.lstrip() for c in cells)
    assert not any(isinstance(c.value, str) and c.value.startswith("'=") for c in cells)


def test_numbers_and_plain_text_are_not_changed():
    from helpers.files import restore_cell, safe_cell

    for v in (-5, 3.2, "西湖区", "2024Q1", "a=b", ""):
        assert safe_cell(v) == v
    for v in INJECTIONS:
        assert restore_cell(safe_cell(v)) == v


def test_the_validation_report_never_follows_a_planted_link(published, tmp_path, monkeypatch, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    reports = tmp_path / "reports"
    reports.mkdir()
    os.symlink(victim, reports / "ipeval-validation-report.csv")  # the old fixed name
    bad = _set("admin_cases", "330106", "2024Q1", value="abc")(demo(published), tmp_path)
    code, _, err = cli(["run", *ONE, "--data", bad, "--validation-report-dir", reports], published, monkeypatch,
                       capsys)
    assert code == 2 and victim.read_text() == "keep me"
    written = [p for p in reports.iterdir() if not p.is_symlink()]
    assert len(written) == 1 and str(written[0]) in err


# --------------------------------------------------------------------------- faults (15)

def _cache_files(project: Path) -> list[Path]:
    return sorted((project / "outputs" / ".cache" / "assess").glob("*.json"))


def test_a_bad_cache_entry_is_ignored_logged_and_recomputed(published, monkeypatch, capsys):
    run = (published / "outputs" / "2025Q2").resolve()
    good = (run / "assessments.csv").read_bytes()
    files = _cache_files(published)
    assert files
    files[0].write_text(files[0].read_text()[:40])  # truncated
    files[1].write_bytes(files[2].read_bytes())  # another key's entry
    entry = json.loads(files[3].read_text())
    entry["data"]["probability"] = 0.123456  # content no longer matches its checksum
    files[3].write_text(json.dumps(entry))
    code, out, err = cli(["run", *ONE, "--quiet", "--force"], published, monkeypatch, capsys)
    assert code == 0, err
    new_run = (published / "outputs" / "2025Q2").resolve()
    assert new_run != run and (new_run / "assessments.csv").read_bytes() == good
    events = [json.loads(x) for x in (new_run / "run.log.jsonl").read_text().splitlines()]
    assert sum(e.get("event") == "cache_bad" for e in events) == 3
    for f in files[:4]:  # rewritten, each under its own key
        assert json.loads(f.read_text())["key"] == f.stem


def test_entries_are_written_with_their_key_and_checksum(published):
    from helpers.cache import json_checksum as _cache_checksum

    for f in _cache_files(published)[:20]:
        e = json.loads(f.read_text())
        assert e["key"] == f.stem and e["sha256"] == _cache_checksum(e["data"])


def test_a_full_disk_is_exit_3_in_one_line_and_publishes_nothing(published, monkeypatch, capsys):
    import errno

    import helpers.run.quarter as rq

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(published / "outputs" / ".staging"))

    monkeypatch.setattr(rq, "_copy_inputs", full)
    before = snapshot(published / "outputs")
    code, out, err = cli(["run", *ONE, "--quiet", "--force"], published, monkeypatch, capsys)
    assert code == 3 and "磁盘已满" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    after = snapshot(published / "outputs")
    # nothing published, no staging left (the lock file records the last holder; the cache may
    # have gained entries)
    assert published_part(after) == published_part(before)


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_is_exit_3_with_the_traceback_in_a_file_or_with_debug(debug, published, monkeypatch, capsys):
    import helpers.run.quarter as rq

    def bug(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(rq, "_provenance", bug)
    args = (["--debug"] if debug else []) + ["run", *ONE, "--quiet", "--force"]
    monkeypatch.setitem(__import__("helpers.cli", fromlist=["_state"])._state, "debug", False)
    code, out, err = cli(args, published, monkeypatch, capsys)
    assert code == 3 and "内部错误（ZeroDivisionError: a bug）" in err
    if debug:
        assert "Traceback" in err
    else:
        assert "Traceback" not in err
        details = Path(err.split("；详细信息：")[1].split()[0])
        assert "ZeroDivisionError" in details.read_text()
        details.unlink()


def test_a_stale_lock_file_is_harmless_and_a_live_lock_refuses_without_advice_to_delete(published, monkeypatch,
                                                                                       capsys):
    lock = published / "outputs" / ".2025Q2.lock"
    lock.write_text("pid 999999, started long ago\n")  # left by a killed run: nobody holds it
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys; sys.path.insert(0, {str(Path(__file__).parents[1] / 'src')!r})
from helpers.run.lock import QuarterLock
l = QuarterLock({str(lock)!r}, '2025Q2').acquire(); print('held', flush=True); sys.stdin.read()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        code, out, err = cli(["run", *ONE, "--quiet"], published, monkeypatch, capsys)
        assert code == 2 and "正在进行" in err and f"pid {holder.pid}" in err
        assert "remove" not in err.lower() and "delete" not in err.lower()
    finally:
        holder.communicate("")
    # the holder is gone: the file is still there and a run goes ahead
    assert lock.exists()
    code, out, err = cli(["run", *ONE, "--quiet"], published, monkeypatch, capsys)
    assert code == 0, err


def test_what_a_killed_run_left_in_staging_is_swept_by_the_next(published, monkeypatch, capsys):
    left = published / "outputs" / ".staging" / "2025Q2" / "20261201T000000Z-dead00"
    (left / "reports").mkdir(parents=True)
    code, _, err = cli(["run", *ONE, "--quiet"], published, monkeypatch, capsys)
    assert code == 0, err
    assert not left.exists()


def test_reused_reports_are_copies_not_one_file_across_runs(published, monkeypatch, capsys):
    old = (published / "outputs" / "2025Q2").resolve()
    # a file no report reads: past the no-change fast path, to the run that reuses reports
    (published / "params" / "notes.txt").write_text("reuse test", encoding="utf-8")
    code, out, err = cli(["run", *ONE, "--quiet"], published, monkeypatch, capsys)
    assert code == 0 and "1 unchanged" in out, out + err
    new = (published / "outputs" / "2025Q2").resolve()
    assert new != old
    for rel in ("reports/enforcement/330106.report.html", "notebooks/enforcement/330106.ipynb", "assessments.xlsx"):
        a, b = old / rel, new / rel
        assert a.read_bytes() == b.read_bytes()
        assert os.stat(a).st_ino != os.stat(b).st_ino and os.stat(b).st_nlink == 1
    assert not list((new / "charts").rglob("*.svg")) and os.stat(new / "charts.zip").st_nlink == 1  # one copy, no links
    import zipfile

    with zipfile.ZipFile(old / "charts.zip") as a, zipfile.ZipFile(new / "charts.zip") as b:
        assert set(a.namelist()) <= set(b.namelist())  # the quarter's zip never shrinks
        assert all(a.read(n) == b.read(n) for n in a.namelist())  # the same chart, the same bytes
    # a published report emptied and an audit page edited are not republished: recomputed, exit 0
    (new / "reports/enforcement/330106.report.html").write_bytes(b"")
    (new / "reports/enforcement/330106.audit.html").write_text("TAMPERED", encoding="utf-8")
    code, out, err = cli(["run", *ONE, "--quiet"], published, monkeypatch, capsys)
    assert code == 0 and "1 unchanged" not in out, out + err
    third = (published / "outputs" / "2025Q2").resolve()
    assert (third / "reports/enforcement/330106.report.html").stat().st_size > 1000
    assert "TAMPERED" not in (third / "reports/enforcement/330106.audit.html").read_text(encoding="utf-8")


def test_a_published_quarter_names_no_machine_path(published):
    # `grep -r <checkout path>` over a published subset quarter finds nothing: manifest, log,
    # provenance lines, audit pages and executed notebooks are project-relative (issue 20)
    run = (published / "outputs" / "2025Q2").resolve()
    roots = {str(published).encode(), str(published.resolve()).encode()}
    hits = [p.relative_to(run).as_posix() for p in run.rglob("*")
            if p.is_file() and any(r in p.read_bytes() for r in roots)]
    assert hits == []
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert "params/settings.yaml" in m["inputs_sha256"]


def test_duplicate_geographies_run_once(published, monkeypatch, capsys):
    code, out, err = cli(["run", "--quarter", "2025Q2", "--sections", "enforcement,enforcement", "--geos",
                          "330106,330106", "--quiet"], published, monkeypatch, capsys)
    assert code == 0 and "1/1 reports ok" in out, out + err


def test_two_data_files_with_the_same_name_are_both_kept_and_reproducible(published, tmp_path, monkeypatch, capsys):
    df = demo(published)
    part = (df["indicator_id"] == "admin_cases")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _write(df[~part], tmp_path / "a" / "data.csv")
    _write(df[part], tmp_path / "b" / "data.csv")
    code, out, err = cli(["run", *ONE, "--quiet", "--data", tmp_path / "a" / "data.csv", "--data",
                          tmp_path / "b" / "data.csv"], published, monkeypatch, capsys)
    assert code == 0, err
    run = (published / "outputs" / "2025Q2").resolve()
    m = json.loads((run / "manifest.json").read_text())
    assert m["data_copy"] == ["data/1-data.csv", "data/2-data.csv"]
    assert (run / "data" / "1-data.csv").read_bytes() == (tmp_path / "a" / "data.csv").read_bytes()
    assert (run / "data" / "2-data.csv").read_bytes() == (tmp_path / "b" / "data.csv").read_bytes()
    # reproducible: the copies match the manifest and load to the very data the reports read
    # (the recomputation itself: test_reproduce_recomputes_and_says_which_input_and_table_differ)
    from helpers.data.contract import load_data
    from helpers.files import people_csv
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan
    from helpers.run.reproduce import changed_inputs

    assert changed_inputs(run, m) == []
    plan = load_plan(run / "params" / "hangzhou_ipz_2023_2025.yaml")
    ds = load_data([run / c for c in m["data_copy"]], plan, load_geographies(run / "params" / "geographies.yaml"))
    # cut as the run cut it: nothing after its quarter or published after its date (run/publication.py)
    from datetime import datetime

    from helpers.plan.periods import Quarter
    from helpers.run.publication import known_at_run
    from helpers.settings import load_settings

    ds, _ = known_at_run(ds, plan, load_settings(run / "params" / "settings.yaml"), Quarter.parse(m["quarter"]),
                         now=datetime.fromisoformat(m["started"]))
    assert people_csv(ds.frame) == (run / "validated_data.csv").read_bytes()


@pytest.mark.parametrize("edit", ["note", "value"])
def test_reproduce_names_an_input_that_changed(edit, published, tmp_path):
    from helpers.run.reproduce import changed_inputs

    run = tmp_path / "run"
    _copy_run(published, run)
    for rel in json.loads((run / "manifest.json").read_text())["data_copy"]:
        copy = run / rel
        df = pd.read_csv(copy, dtype=str, keep_default_na=False)
        rows = df.index[(df["indicator_id"] == "admin_cases") & (df["geography_code"] == "330106")
                        & (df["period"] == "2024Q1")]
        if len(rows):
            row = rows[0]
            break
    m = json.loads((run / "manifest.json").read_text())
    assert changed_inputs(run, m) == []
    df.loc[row, edit] = "edited by hand" if edit == "note" else str(int(df.loc[row, "value"]) + 50)
    df.to_csv(copy, index=False, quoting=csv.QUOTE_ALL)
    changed = changed_inputs(run, m)
    assert len(changed) == 1 and changed[0].startswith(f"{copy.relative_to(run)}: sha256 ")
    (run / "params" / "settings.yaml").write_text("# edited\n" + (run / "params" / "settings.yaml").read_text())
    assert [c.split(":")[0] for c in changed_inputs(run, m)] == [str(copy.relative_to(run)), "params/settings.yaml"]


@pytest.mark.e2e
def test_reproduce_recomputes_and_says_which_input_and_table_differ(published, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    _copy_run(published, run)
    m = json.loads((run / "manifest.json").read_text())
    copy = next(run / rel for rel in m["data_copy"] if "admin_cases,330106,2024Q1" in (run / rel).read_text()
                or '"admin_cases","330106","2024Q1"' in (run / rel).read_text())
    df = pd.read_csv(copy, dtype=str, keep_default_na=False)
    row = df.index[(df["indicator_id"] == "admin_cases") & (df["geography_code"] == "330106")
                   & (df["period"] == "2024Q1")][0]
    df.loc[row, "value"] = str(int(df.loc[row, "value"]) + 50)
    df.to_csv(copy, index=False, quoting=csv.QUOTE_ALL)
    code, out, err = cli(["reproduce", run], published, monkeypatch, capsys)
    assert code == 1, out + err
    assert f"INPUT CHANGED since the run: {copy.relative_to(run)}" in out
    assert "DIFFERENT: assessments.csv" in out and "DIFFERENT: validated_data.csv" in out


# --------------------------------------------------------------------------- signals (subprocesses)

def _start(project: Path, args, tmpdir: Path):
    env = dict(os.environ, IPEVAL_HOME=str(project), PYTHONUNBUFFERED="1", TMPDIR=str(tmpdir))
    return subprocess.Popen([sys.executable, "-m", "helpers.cli", *map(str, args)], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(pred, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.e2e
def _report_running(pid: int) -> bool:
    """Whether a report is executing under the run ``pid``: a child of its fork server (a shell or a kernel)."""
    import psutil

    try:
        procs = psutil.Process(pid).children(recursive=True)
        servers = {q.pid for q in procs if "helpers.run.forkserver" in " ".join(q.cmdline())}
        return any(q.ppid() in servers for q in procs)
    except psutil.Error:
        return False


@pytest.mark.parametrize("stage", ["assessment", "notebooks"])
def test_sigterm_publishes_nothing_caches_nothing_bad_and_leaves_no_files(stage, published, tmp_path):
    import shutil

    cache = published / "outputs" / ".cache" / "assess"
    shutil.rmtree(cache, ignore_errors=True)  # uncached series: the signal lands in the model fits
    before = snapshot(published / "outputs")
    import tempfile

    # a short private TMPDIR (a Unix socket path has at most 107 bytes), to see what is left in it
    tmpdir = Path(tempfile.mkdtemp(prefix="irel-", dir="/tmp"))
    if stage == "assessment":
        p = _start(published, ["run", *ONE, "--quiet", "--force", "-j", "1"], tmpdir)
        assert _wait_for(lambda: cache.is_dir() or any((published / "outputs" / ".staging" / "2025Q2").glob("*")))
        time.sleep(1.0)
    else:
        # the report's notebook made to wait at its end, so the signal lands while it runs (a shell runs
        # the one report in a tenth of a second); put back after the run
        import nbformat

        notebook = published / "notebooks" / "enforcement.ipynb"
        original = notebook.read_bytes()
        nb = nbformat.reads(original.decode("utf-8"), as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell("import time\ntime.sleep(120)"))
        notebook.write_text(nbformat.writes(nb), encoding="utf-8")
        p = _start(published, ["run", *ONE, "--quiet", "--force"], tmpdir)
    try:
        if stage != "assessment":
            assert _wait_for(lambda: _report_running(p.pid), timeout=300), p.stderr.read()
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=120)
    finally:
        if stage != "assessment":
            notebook.write_bytes(original)
    assert p.returncode == 128 + signal.SIGTERM, err
    assert "收到信号 15，运行已中断；未发布任何内容" in err and "Traceback" not in err
    after = snapshot(published / "outputs")
    assert published_part(after) == published_part(before)
    assert not any((published / "outputs" / ".staging" / "2025Q2").iterdir())
    for f in cache.glob("*.json") if cache.is_dir() else []:
        assert "RunInterrupted" not in f.read_text()
    assert _wait_for(lambda: not list(tmpdir.iterdir()), timeout=10), list(tmpdir.iterdir())
    tmpdir.rmdir()


def test_run_interrupted_is_not_an_exception():
    from helpers.exceptions import RunInterrupted

    assert not issubclass(RunInterrupted, Exception)
    try:
        try:
            raise RunInterrupted(signal.SIGTERM)
        except Exception:  # noqa: BLE001 - what forecast.py does around each member
            pytest.fail("an except Exception swallowed the signal")
    except RunInterrupted as exc:
        assert exc.signum == signal.SIGTERM


def test_a_documents_failure_is_in_the_manifest_and_the_index(published, monkeypatch, capsys):
    """The record is written last, after the Word/PDF step, so a failure there is in both (issue 18)."""
    import helpers.pages.document

    def no_fonts(*a, **k):
        raise OSError("no CJK font for the PDF")

    monkeypatch.setattr(helpers.pages.document, "write_documents", no_fonts)
    # the run's workers forked, as under `ipeval run` (run/pool.py), so they have the stand-in: a thread
    # another test left in this process would have it spawned
    monkeypatch.setattr("helpers.run.pool.start_method", lambda: "fork")
    code, out, err = cli(["run", *ONE, "--quiet", "--documents"], published, monkeypatch, capsys)
    assert code == 1, err  # the run is published, with one failed step
    run = published / "outputs" / "2025Q2"
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["documents"] == {"status": "failed", "geographies": "330106",
                                     "error": "OSError: no CJK font for the PDF", "error_type": "OSError"}
    assert [j["status"] for j in manifest["jobs"] if j["section"] == "documents"] == ["failed"]
    index = (run / "index.html").read_text(encoding="utf-8")
    assert "Word/PDF (330106)" in index and "OSError: no CJK font for the PDF" in index
