"""Trust what is stored and what is published (issue 20): the adversarial cases, each reproduced
on a small fixture, in milliseconds to seconds (no notebook runs here)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.store import ObservationStore, parse_as_of, read_view
from helpers.exceptions import EnvironmentFailure, InvalidPeriodError, IpevalError, UnsafePathError

DISTRICT = "330106"
REV = "indicator_id,geography_code,period,value,numerator,denominator,source,note\nadmin_cases,330106,2024Q4,150,,,src,\n"


@pytest.fixture
def proj(project):
    from helpers.settings import load_settings

    return load_settings(project / "params" / "settings.yaml")


@pytest.fixture
def store(proj, plan, geos):
    st = ObservationStore.of(proj)
    st.ensure_seed(proj.data_path, plan, geos)
    return st


def _value(view, ind="admin_cases", geo=DISTRICT, period="2024Q4") -> str:
    hit = view[(view["indicator_id"] == ind) & (view["geography_code"] == geo) & (view["period"] == period)]
    return hit.iloc[0]["value"]


def _rev(tmp_path, text=REV, name="rev.csv") -> Path:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


# ------------------------------------------------------------------ 1. the store is the system of record

@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_lost_store_is_rebuilt_from_received_never_reseeded_from_demo(how, store, proj, plan, geos, tmp_path,
                                                                        caplog):
    store.ingest(_rev(tmp_path), plan, geos)
    if how == "emptied":
        store.path.write_bytes(b"")
    else:
        store.path.unlink()
    _files, state, view, _rec = read_view(proj, plan, geos)
    assert _value(view) == "150"
    assert len(state["vintages"]) == 2 and "重建" in state["notes"][0]
    assert "重建" in caplog.text


def test_a_fresh_clone_is_seeded_and_says_so(proj, plan, geos, caplog):
    st = ObservationStore.of(proj)
    note = st.ensure_seed(proj.data_path, plan, geos)
    assert "新建观测数据库" in note and "新建观测数据库" in caplog.text and len(st.vintages()) == 1


def test_an_edited_cached_view_is_never_read(store, proj, plan, geos):
    files, state, _v, _r = read_view(proj, plan, geos)
    text = files[0].read_text(encoding="utf-8")
    files[0].write_text(text.replace("\nadmin_cases,330106,2024Q4,", "\nadmin_cases,330106,2024Q4,999", 1),
                        encoding="utf-8")
    files2, state2, _v, _r = read_view(proj, plan, geos)
    assert files2 == files and files[0].read_text(encoding="utf-8") == text
    assert state2["view_sha256"] == state["view_sha256"]


def test_hash_view_and_export_are_one_snapshot(store, plan, geos, tmp_path, monkeypatch):
    # an ingest committing between the reads of the hash and of the view filed the new view under
    # the old hash; now the vintages and the view are read in one transaction and hashed from the
    # very bytes written: an ingest forced in between the two reads is wholly out of both
    real = ObservationStore._read_view.__func__
    other = ObservationStore(store.path, store.received_dir)
    fired = []

    def read_view_after_an_ingest(cls, con, as_of):
        if not fired:
            fired.append(1)
            with pytest.raises(EnvironmentFailure, match="被其他程序.*占用"):
                other.ingest(_rev(tmp_path), plan, geos)  # blocked by the reader's snapshot
        return real(cls, con, as_of)

    monkeypatch.setattr("helpers.data.observation_store.LOCK_WAIT_SECONDS", 0.2)
    monkeypatch.setattr(ObservationStore, "_read_view", classmethod(read_view_after_an_ingest))
    state, vint, view, data = store.snapshot()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == state["view_sha256"]
    assert len(vint) == len(state["vintages"]) == 1 and _value(view) != "150"
    assert not list(store.received_dir.glob("*rev.csv*"))  # the refused ingest left no copy


def test_as_of_is_exact_and_bounded(store, plan, geos, tmp_path):
    store.ingest(_rev(tmp_path), plan, geos, received_at="2026-01-10T08:00:00Z")
    assert _value(store.view(parse_as_of("2026-01-10T07:59:59Z"))) != "150"
    assert _value(store.view(parse_as_of("2026-01-10T16:00:00+08:00"))) == "150"
    for bad in ("0999-12-31", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00"):
        with pytest.raises(InvalidPeriodError):
            parse_as_of(bad)


def test_as_of_outside_the_data_is_exit_2(store, proj, plan, geos):
    with pytest.raises(InvalidPeriodError, match="是将来的时间") as err:
        read_view(proj, plan, geos, "2099-01-01")
    assert err.value.exit_code == 2


# ------------------------------------------------------------------ 2. ingest all or nothing, file included

def test_a_locked_store_waits_then_says_so_and_keeps_no_copy(store, plan, geos, tmp_path, monkeypatch):
    monkeypatch.setattr("helpers.data.observation_store.LOCK_WAIT_SECONDS", 0.3)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(EnvironmentFailure, match="被其他程序.*占用") as err:
            store.ingest(_rev(tmp_path), plan, geos)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert err.value.exit_code == 3 and "bug" not in str(err.value)
    assert [p.name for p in store.received_dir.iterdir()] == [store.received_files()[0].name]
    # and a rebuild never stores the value the user was told was refused
    store.rebuild(plan, geos)
    assert _value(store.view()) != "150"


def test_a_failed_commit_leaves_no_received_copy(store, plan, geos, tmp_path, monkeypatch):
    import errno

    real_fsync = __import__("os").fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("helpers.data.observation_store.os.fsync", full)
    with pytest.raises(OSError):
        store.ingest(_rev(tmp_path), plan, geos)
    monkeypatch.setattr("helpers.data.observation_store.os.fsync", real_fsync)
    assert len(store.received_files()) == 1 and not list(store.received_dir.glob(".*"))
    assert len(store.vintages()) == 1


def test_a_killed_ingest_pending_copy_is_finished_or_dropped(store, plan, geos, tmp_path):
    res = store.ingest(_rev(tmp_path), plan, geos)
    kept = store.received_files()[-1]
    kept.rename(kept.with_name(f".{kept.name}.pending"))  # killed after the commit, before the rename
    (store.received_dir / ".0009-20260101T000000Z-abcdefabcdef-x.csv.pending").write_text(REV)  # before it
    store.recover()
    assert kept.is_file() and not list(store.received_dir.glob(".*.pending")) and res.vintage_id == 2


def test_a_garbage_store_is_an_environment_failure_not_a_bug(store):
    store.path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(EnvironmentFailure, match="已损坏.*ingest --rebuild"):
        store.vintages()


def test_a_stray_file_in_received_is_left_alone_and_vintages_keep_numbers(store, plan, geos, tmp_path):
    store.ingest(_rev(tmp_path), plan, geos)
    store.ingest(_rev(tmp_path, REV.replace("150", "151"), "rev2.csv"), plan, geos)
    (store.received_dir / "notes.txt").write_text("mine")
    store.received_files()[1].unlink()  # vintage 2's copy lost
    store.rebuild(plan, geos)
    assert list(store.vintages()["vintage_id"]) == [1, 3] and _value(store.view()) == "151"


def test_a_note_change_is_counted(store, plan, geos, tmp_path):
    store.ingest(_rev(tmp_path), plan, geos)
    r = store.ingest(_rev(tmp_path, REV.replace("src,", "src,a note"), "rev2.csv"), plan, geos)
    assert (r.new, r.revised, r.unchanged) == (0, 1, 0)


# ------------------------------------------------------------------ 3. only ended quarters, everywhere

def test_backfill_refuses_a_range_past_the_last_ended_quarter_up_front():
    from datetime import date

    from helpers.run.backfill import parse_range

    assert [str(q) for q in parse_range("2025Q3:2025Q4", today=date(2026, 1, 2))] == ["2025Q3", "2025Q4"]
    with pytest.raises(InvalidPeriodError, match="2099Q1 尚未结束") as err:
        parse_range("2025Q1:2099Q1")
    assert err.value.exit_code == 2


def test_a_future_quarter_cannot_be_validated_with_a_future_as_of(store, proj):
    from helpers.run.quarter import load_run_inputs

    with pytest.raises(InvalidPeriodError):
        load_run_inputs(proj, "2029Q2", sections=["enforcement"], geographies=[DISTRICT], as_of="2030-01-01")
    with pytest.raises(InvalidPeriodError, match="尚未结束"):
        load_run_inputs(proj, "2099Q2", sections=["enforcement"], geographies=[DISTRICT])


# ------------------------------------------------------------------ 4./5. verified reuse; a subset never shrinks

def _fake_run(folder: Path, jobs: dict, docs=()) -> Path:
    """A published run with one report per (section, geography) and its sealed manifest."""
    import json

    from helpers.files import seal_manifest

    rows = []
    for (sec, geo), text in jobs.items():
        files = {"notebook": f"notebooks/{sec}/{geo}.ipynb", "report": f"reports/{sec}/{geo}.report.html",
                 "audit": f"reports/{sec}/{geo}.audit.html"}
        for rel in files.values():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(f"{text} {rel}", encoding="utf-8")
        rows.append({"section": sec, "geography_code": geo, "status": "ok", "input_hash": "h", **files})
    for name in docs:
        (folder / "documents").mkdir(parents=True, exist_ok=True)
        (folder / "documents" / name).write_bytes(b"docx " + name.encode())
    (folder / "manifest.json").write_text(json.dumps({"run_id": folder.name, "jobs": rows}), encoding="utf-8")
    seal_manifest(folder)
    return folder


@pytest.mark.parametrize("damage", ["empty", "tampered", "unrecorded"])
def test_a_reused_report_is_a_verified_copy_or_is_recomputed(damage, tmp_path):
    import json

    from helpers.run.incremental import previous_jobs, reuse_job_files

    prev = _fake_run(tmp_path / "runA", {("enforcement", DISTRICT): "ok"})
    old = previous_jobs(prev)[("enforcement", DISTRICT)]
    staging = tmp_path / "staging"
    assert reuse_job_files(prev, staging, old)
    assert (staging / old["report"]).read_bytes() == (prev / old["report"]).read_bytes()
    assert (staging / old["report"]).stat().st_ino != (prev / old["report"]).stat().st_ino
    staging2 = tmp_path / "staging2"
    if damage == "empty":
        (prev / old["report"]).write_bytes(b"")
    elif damage == "tampered":
        (prev / old["audit"]).write_text("TAMPERED", encoding="utf-8")
    else:  # a manifest from before checksums were recorded
        m = json.loads((prev / "manifest.json").read_text())
        m.pop("files_sha256")
        (prev / "manifest.json").write_text(json.dumps(m))
    assert not reuse_job_files(prev, staging2, old)
    assert not (staging2 / old["report"]).exists()  # nothing half-copied either


def test_a_subset_run_carries_the_rest_from_the_last_published_run(tmp_path):
    from helpers.run.incremental import carry_documents, carry_forward

    prev = _fake_run(tmp_path / "runA", {("enforcement", DISTRICT): "a", ("enforcement", "330102"): "b",
                                        ("overview", "330100"): "c"},
                     docs=["330102_上城区_中期评估报告.docx", "330106_西湖区_中期评估报告.docx"])
    (prev / "reports/overview/330100.report.html").write_text("TAMPERED")
    staging = tmp_path / "staging"
    ran = [{"section": "enforcement", "geography_code": DISTRICT, "status": "ok", "report": "r"}]
    carried = carry_forward(prev, staging, [("enforcement", DISTRICT)], ran)
    assert [(c["section"], c["geography_code"], c["from_run"]) for c in carried] == [("enforcement", "330102", "runA")]
    assert (staging / "reports/enforcement/330102.report.html").read_text().startswith("b ")
    assert not (staging / "reports/overview/330100.report.html").exists()  # failed the check: not republished
    assert carry_documents(prev, staging, {DISTRICT}) == ["documents/330102_上城区_中期评估报告.docx"]


def test_a_cached_chart_is_verified_copied_and_redrawn_on_force(tmp_path, monkeypatch):
    from helpers.pages import chartpool, charts

    drawn = []

    def fake_render(job):
        spec, svg, jpg = job
        drawn.append(spec)
        Path(svg).write_bytes(b"svg")
        if jpg:
            Path(jpg).write_bytes(b"jpg")
        charts.record_cached(svg, jpg)
        return ""

    class Spec:
        indicator_id, geography_code, labels = "admin_cases", DISTRICT, {"title": "t"}

        def digest(self):
            return "abc"

    monkeypatch.setattr(charts, "_render_one", fake_render)
    monkeypatch.setattr("helpers.pages.plots.use_cjk_font", lambda: None)
    cache = tmp_path / "cache"
    chartpool.render_charts(tmp_path / "run1", [Spec()], cache, workers=1, documents=False)
    out = charts.chart_path(tmp_path / "run1", "admin_cases", DISTRICT)
    assert out.stat().st_nlink == 1 and len(drawn) == 1
    chartpool.render_charts(tmp_path / "run2", [Spec()], cache, workers=1, documents=False)
    assert len(drawn) == 1  # reused, verified
    out.write_bytes(b"")  # emptying a published copy leaves the cache as it was (a copy, not a link)
    assert (cache / "abc.svg").read_bytes() == b"svg"
    (cache / "abc.svg").write_bytes(b"")  # an emptied cache file is drawn again
    chartpool.render_charts(tmp_path / "run3", [Spec()], cache, workers=1, documents=False)
    assert len(drawn) == 2 and charts.chart_path(tmp_path / "run3", "admin_cases", DISTRICT).read_bytes() == b"svg"
    chartpool.render_charts(tmp_path / "run5", [Spec()], cache, workers=1, documents=True)  # the print form is missing
    assert len(drawn) == 3 and (cache / "abc.jpg").read_bytes() == b"jpg"
    chartpool.render_charts(tmp_path / "run4", [Spec()], cache, workers=1, force=True)
    assert len(drawn) == 4


# ------------------------------------------------------------------ 7./8. one writer for people; no links followed

def test_the_error_report_neutralises_formulas_in_csv_and_xlsx_without_an_apostrophe(tmp_path):
    from openpyxl import load_workbook

    from helpers.data.ingest import REPORT_COLUMNS, write_report

    rep = pd.DataFrame([{"file": "=2+3 西湖区 revision.csv", "cell": "E7", "sheet": "", "row": "7", "column": "value",
                         "rule": "numeric", "value": "=HYPERLINK(\"http://x\",\"y\")", "message": "m"}],
                       columns=REPORT_COLUMNS)
    csv, xlsx = write_report(rep, tmp_path, "x.csv", "zh")
    text = csv.read_text(encoding="utf-8-sig")
    assert "'=2+3 西湖区" in text and ",=" not in text and not text.startswith("=")
    cells = [c for row in load_workbook(xlsx).active.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(c.data_type == "f" for c in cells)
    shown = [c for c in cells if c.value.startswith("=")]
    assert len(shown) == 2 and all(c.quotePrefix for c in shown)


@pytest.mark.parametrize("planted", ["rejected_file", "rejected_dir"])
def test_the_rejected_folder_never_follows_a_link(planted, tmp_path):
    from helpers.data.ingest import REPORT_COLUMNS, write_report

    victim = tmp_path / "outside"
    victim.mkdir()
    (victim / "x.csv.errors.csv").write_text("precious")
    rejected = tmp_path / "inbox" / "rejected"
    rejected.parent.mkdir()
    if planted == "rejected_dir":
        rejected.symlink_to(victim)
    else:
        rejected.mkdir()
        (rejected / "x.csv.errors.csv").symlink_to(victim / "x.csv.errors.csv")
    rep = pd.DataFrame([dict.fromkeys(REPORT_COLUMNS, "")])
    with pytest.raises(UnsafePathError) as err:
        write_report(rep, rejected, "x.csv")
    assert err.value.exit_code == 2 and (victim / "x.csv.errors.csv").read_text() == "precious"


def test_received_export_and_store_cache_never_follow_a_link(store, proj, plan, geos, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (tmp_path / "link.csv").symlink_to(outside / "v")
    with pytest.raises(UnsafePathError):
        store.export(tmp_path / "link.csv")
    assert not (outside / "v").exists()
    # the temporary file is a fresh unique name (mkstemp, O_EXCL): a planted X.tmp is never written
    (tmp_path / "x.csv.tmp").symlink_to(outside / "w")
    store.export(tmp_path / "x.csv")
    assert not (outside / "w").exists() and (tmp_path / "x.csv").is_file()
    with pytest.raises(InvalidPeriodError):
        store.export(tmp_path / "y.csv", "2099-01-01T00:00:00Z")
    import shutil

    shutil.rmtree(store.received_dir)
    store.received_dir.symlink_to(outside)
    with pytest.raises(UnsafePathError):
        store.ingest(_rev(tmp_path), plan, geos)
    assert not list(outside.iterdir())


def test_the_staging_folder_is_never_emptied_through_a_link(store, proj, tmp_path):
    from helpers.run.quarter import run_quarter

    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    staging = proj.outputs_path / ".staging"
    staging.mkdir(parents=True)
    (staging / "2025Q1").symlink_to(victim)
    with pytest.raises(UnsafePathError):
        run_quarter(proj, "2025Q1", sections=["enforcement"], geographies=[DISTRICT], documents=False)
    assert (victim / "keep.txt").read_text() == "precious"


# ------------------------------------------------------------------ 6. exact intake

def _refused(path, plan, geos) -> set:
    from helpers.data.ingest import check_return
    from helpers.exceptions import DataValidationError

    with pytest.raises(DataValidationError) as err:
        check_return(path, plan, geos)
    f = err.value.failures
    return set(f["rule"]) if f is not None and len(f) else {str(err.value).rsplit("[rule: ", 1)[-1].rstrip("]")}


def test_a_utf8_csv_with_one_gbk_line_is_refused_at_that_line(tmp_path, plan, geos):
    head = REV.splitlines()[0]
    f = tmp_path / "mixed.csv"
    f.write_bytes((head + "\nadmin_cases,330106,2024Q4,150,,,杭州市统计局,\n").encode("utf-8")
                  + "admin_cases,330106,2024Q3,150,,,杭州市统计局,\n".encode("gbk"))
    from helpers.data.ingest import check_return

    with pytest.raises(IpevalError, match="line 2 is UTF-8 but line 3") as err:
        check_return(f, plan, geos)
    assert err.value.exit_code == 2 and "mixed_encoding" in str(err.value)
    g = tmp_path / "gbk.csv"  # a file wholly GBK still reads
    g.write_bytes((head + "\nadmin_cases,330106,2024Q4,150,,,杭州市统计局,\n").encode("gbk"))

    assert check_return(g, plan, geos)["source"].iloc[0] == "杭州市统计局"


def test_value_against_its_parts_and_implausible_figures_are_refused(tmp_path, plan, geos):
    ratio = next(i for i in plan.indicators if i.uses_ratio and not i.city_only)
    count = plan.by_id["deployment_meetings"]
    geo = DISTRICT if not count.city_only else "330100"
    f = _rev(tmp_path, REV.splitlines()[0] + f"\n{ratio.id},{DISTRICT},2024Q4,90,1,4,src,\n"
             f"{count.id},{geo},2024Q4,1e308,,,src,\n")
    assert {"value_matches_ratio", "implausible_value"} <= _refused(f, plan, geos)


def _workbook(tmp_path, name, build) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for j, c in enumerate(REV.splitlines()[0].split(","), start=1):
        ws.cell(1, j, c)
    build(wb, ws)
    p = tmp_path / name
    wb.save(p)
    return p


def test_a_hidden_sheet_with_contract_columns_is_refused(tmp_path, plan, geos):
    def build(wb, ws):
        for j, v in enumerate(REV.splitlines()[1].split(","), start=1):
            ws.cell(2, j, v)
        h = wb.create_sheet("hidden")
        for j, c in enumerate(REV.splitlines()[0].split(","), start=1):
            h.cell(1, j, c)
        for j, v in enumerate(["admin_cases", DISTRICT, "2023Q1", 1, None, None, "src", None], start=1):
            h.cell(2, j, v)
        h.sheet_state = "hidden"

    assert _refused(_workbook(tmp_path, "h.xlsx", build), plan, geos) == {"hidden_sheet"}


def test_a_formula_cell_without_a_cached_value_is_refused_not_dropped(tmp_path, plan, geos):
    def build(wb, ws):
        for j, v in enumerate(["admin_cases", DISTRICT, "2024Q4", "=100+50", None, None, "src", None], start=1):
            ws.cell(2, j, v)

    from helpers.data.ingest import check_return
    from helpers.exceptions import DataValidationError

    with pytest.raises(DataValidationError) as err:
        check_return(_workbook(tmp_path, "f.xlsx", build), plan, geos)
    f = err.value.failures
    hit = f[f["rule"] == "formula_without_value"]
    assert len(hit) == 1 and (hit["row"].iloc[0], hit["column"].iloc[0]) == ("Sheet!2", "value")


def test_a_sheet_declaring_a_huge_size_is_refused_before_loading(tmp_path, plan, geos):
    import resource

    def build(wb, ws):
        ws["XFD1048576"] = 1

    p = _workbook(tmp_path, "bomb.xlsx", build)
    assert p.stat().st_size < 30_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert _refused(p, plan, geos) == {"sheet_too_large"}
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB: no gigabytes


def test_a_changed_locked_cell_of_the_template_is_refused(tmp_path, plan, geos):
    from openpyxl import load_workbook

    from helpers.data.ingest import check_return
    from helpers.data.template import write_template

    t = write_template(tmp_path / "t.xlsx", plan, geos, DISTRICT, "2025Q2")
    wb = load_workbook(t)
    ws = wb.worksheets[1]
    col = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    last = max(r for r in range(3, ws.max_row + 1) if ws.cell(r, col["period"]).value == "2025Q2")
    ws.cell(last, col["value"], 5)
    good = tmp_path / "good.xlsx"
    wb.save(good)
    assert len(check_return(good, plan, geos)) == 1
    for r in range(3, ws.max_row + 1):  # the district unprotects and retypes its code
        if ws.cell(r, col["geography_code"]).value:
            ws.cell(r, col["geography_code"], "330108")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    assert _refused(bad, plan, geos) == {"template_key"}
    with pytest.raises(IpevalError, match="330108"):
        check_return(bad, plan, geos)


# ------------------------------------------------------------------ 11. truthful publishing

def test_sigterm_during_the_link_swap_is_taken_after_it_and_said(tmp_path, monkeypatch):
    import os
    import signal

    from helpers.exceptions import RunInterrupted
    from helpers.run import publish as pub

    out = tmp_path / "outputs"
    staging = out / ".staging" / "2025Q1" / "r1"
    staging.mkdir(parents=True)
    (staging / "index.html").write_text("new")
    (out / ".2025Q1.old.link").symlink_to("nowhere")  # a stray link from a killed run
    real = os.replace
    sent = []

    def replace_then_signal(a, b):
        if not sent:
            sent.append(1)
            os.kill(os.getpid(), signal.SIGTERM)  # arrives between the two renames
        return real(a, b)

    def on_signal(signum, frame):
        raise RunInterrupted(signum)

    old = signal.signal(signal.SIGTERM, on_signal)
    monkeypatch.setattr(pub.os, "replace", replace_then_signal)
    try:
        with pytest.raises(pub.InterruptedAfterPublish, match="运行结果发布（.*）之后收到信号"):
            pub.publish(out, "2025Q1", staging, "r1")
    finally:
        signal.signal(signal.SIGTERM, old)
    assert (out / "2025Q1" / "index.html").read_text() == "new"
    assert not (out / ".2025Q1.old.link").is_symlink()


@pytest.mark.parametrize("damage", ["garbage", "no_table", "table_edited"])
def test_a_damaged_previous_run_is_absent_with_a_warning_never_a_blocker(damage, tmp_path, caplog):
    from helpers.run.changes import previous_run
    from helpers.run.publish import published_dir

    out = tmp_path / "outputs"
    run = out / "runs" / "2025Q1" / "r0"
    run.mkdir(parents=True)
    (run / "assessments.csv").write_text("a,b\n1,2\n")
    _fake_run(run, {})
    (out / "2025Q1").symlink_to(Path("runs") / "2025Q1" / "r0")
    assert published_dir(out, "2025Q1") == run.resolve()
    if damage == "garbage":
        (run / "manifest.json").write_text("{not json")
    elif damage == "no_table":
        (run / "assessments.csv").unlink()
    else:
        (run / "assessments.csv").write_text("a,b\n1,3\n")
    import logging

    logging.getLogger("ipeval.run").addHandler(caplog.handler)
    try:
        assert published_dir(out, "2025Q1") is None and "damaged" in caplog.text
    finally:
        logging.getLogger("ipeval.run").removeHandler(caplog.handler)
    from helpers.plan.periods import Quarter

    assert previous_run(out, Quarter(2025, 2)) is None


# ------------------------------------------------------------------ 12. reproduce hashes first, names every change

def test_reproduce_names_an_edited_manifest_and_an_unreadable_copy_before_parsing(project, tmp_path):
    import hashlib
    import json
    import shutil

    from helpers.files import seal_manifest
    from helpers.run.reproduce import reproduce_run

    run = tmp_path / "run"
    shutil.copytree(project / "params", run / "params")
    (run / "data").mkdir()
    (run / "data" / "1-data.csv").write_text(REV, encoding="utf-8")
    (run / "assessments.csv").write_text("a\n1\n")
    copies = {p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
              for p in [run / "data" / "1-data.csv", run / "params" / "settings.yaml"]}
    (run / "manifest.json").write_text(json.dumps({"run_id": "r", "quarter": "2025Q1", "data_copy": ["data/1-data.csv"],
                                                   "copies_sha256": copies, "jobs": []}))
    seal_manifest(run)
    (run / "data" / "1-data.csv").write_text("not,the,contract\n1,2,3\n", encoding="utf-8")
    m = json.loads((run / "manifest.json").read_text())
    m["quarter"] = "2025Q2"  # an edited manifest
    (run / "manifest.json").write_text(json.dumps(m))
    (run / "assessments.csv").write_text("a\n2\n")
    same, text = reproduce_run(run)
    assert not same
    lines = text.splitlines()
    assert lines[0].startswith("INPUT CHANGED since the run: manifest.json")
    assert any(line.startswith("INPUT CHANGED since the run: data/1-data.csv") for line in lines)
    assert any(line.startswith("PUBLISHED FILE CHANGED since the run: assessments.csv") for line in lines)
    assert lines[-1].startswith("NOT RECOMPUTED")


def test_a_damaged_workbook_deep_inside_is_exit_2_not_a_bug(tmp_path, plan, geos):
    import zipfile

    from helpers.data.ingest import check_return
    from helpers.data.template import write_template

    t = write_template(tmp_path / "t.xlsx", plan, geos, DISTRICT, "2025Q2")
    with zipfile.ZipFile(t) as z:
        infos = [(i, z.read(i.filename)) for i in z.infolist()]
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in infos:
            z.writestr(info.filename, data[: len(data) // 2] if info.filename.startswith("xl/worksheets/sheet2") else data)
    with pytest.raises(IpevalError) as err:
        check_return(bad, plan, geos)
    assert err.value.exit_code == 2


def test_a_long_name_ingests_and_a_missing_file_writes_no_report(store, plan, geos, tmp_path):
    from helpers.data.store import ingest_files

    long = _rev(tmp_path, name="西" * 77 + ".csv")  # 235 bytes
    assert len(long.name.encode()) == 235
    res = store.ingest(long, plan, geos)
    assert res.vintage_id == 2 and len(store.received_files()) == 2
    out = ingest_files(store, [tmp_path / "nonexistent.csv"], plan, geos)
    assert not out[0].ok and out[0].report_files == [] and not list(tmp_path.glob("nonexistent*"))


# ------------------------------------------------------------------ 9. no machine paths

def test_scrub_makes_a_run_project_relative(tmp_path):
    import json

    from helpers.run.provenance import scrub_machine_paths

    root = tmp_path / "项目 root"
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"inputs": {str(root / "params/settings.yaml"): "x"},
                                                   "root": str(root), "other": str(root) + "2/x"}))
    (run / "m2.json").write_text(json.dumps({"p": str(root / "data/a.csv")}, ensure_ascii=True))
    (run / "chart.png").write_bytes(str(root).encode())  # binary files are left alone
    assert scrub_machine_paths(run, [root]) == 2
    m = json.loads((run / "manifest.json").read_text())
    assert m["inputs"] == {"params/settings.yaml": "x"} and m["root"] == "." and m["other"] == str(root) + "2/x"
    assert json.loads((run / "m2.json").read_text()) == {"p": "data/a.csv"}


# ------------------------------------------------------------------ 10. scheduler lines quoted

def test_cron_and_systemd_lines_hold_a_percent_and_a_quote_and_refuse_a_newline(tmp_path, monkeypatch):
    import re
    import shlex

    from conftest import make_project
    from helpers.exceptions import ConfigError
    from helpers.run.schedule import print_cron, print_systemd
    from helpers.settings import load_settings

    root = make_project(tmp_path / "评估 100% it's $HOME")
    s = load_settings(root / "params" / "settings.yaml")
    cron = print_cron(s).splitlines()
    line = next(x for x in cron if x.startswith("0 6 25"))
    assert len(cron) == 3 and not re.search(r"(?<!\\)%", line)  # cron makes a bare % a newline
    argv = shlex.split(line[len("0 6 25 1,4,7,10 * "):].replace("\\%", "%"))
    assert argv[:3] == ["cd", str(root), "&&"] and argv[-2] == str(root / "outputs" / "cron.log")
    unit = print_systemd(s)
    wd = next(x for x in unit.splitlines() if x.startswith("WorkingDirectory="))
    assert wd == "WorkingDirectory=" + str(root).replace("%", "%%")
    exec_start = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    assert "$$HOME" in exec_start or "$" not in exec_start
    bad = make_project(tmp_path / "line\nExecStartPre=rm -rf x")
    with pytest.raises(ConfigError, match="换行"):
        print_cron(load_settings(bad / "params" / "settings.yaml"))


def test_a_cron_that_never_fires_is_refused(proj):
    from helpers.exceptions import ConfigError
    from helpers.run.schedule import check_fires

    check_fires(proj)  # the default fires
    never = type("Settings", (), {"schedule": proj.schedule.model_copy(update={"cron": "0 6 31 2 *"}),
                                  "path": proj.path})()
    with pytest.raises(ConfigError, match="永远不会触发"):
        check_fires(never)


# ------------------------------------------------------------------ 13. smaller items

def test_a_row_with_extra_fields_is_refused_at_its_line_and_invisible_characters_are_shown(tmp_path, plan, geos):
    from helpers.data.ingest import check_return, format_report, REPORT_COLUMNS

    f = _rev(tmp_path, REV + "admin_cases,330106,2024Q3,150,,,src,a note, with a comma\n")
    with pytest.raises(IpevalError, match="line 3 has 9 fields"):
        check_return(f, plan, geos)
    rep = pd.DataFrame([dict(zip(REPORT_COLUMNS, ["f.csv", "D2", "", "2", "value", "numeric", "15\x000 ", "m"]))])
    assert "'15\\x000 '" in format_report(rep, "en")


def test_backfill_reads_a_just_ended_quarter_as_known_now(proj):
    from datetime import datetime, timezone

    from helpers.plan.periods import Quarter, latest_complete_quarter
    from helpers.run.backfill import as_of_for

    assert as_of_for(proj, latest_complete_quarter()) <= datetime.now(timezone.utc)
    assert as_of_for(proj, Quarter(2025, 2)).strftime("%Y-%m-%d") == "2025-07-25"


def test_a_template_figure_left_as_an_uncalculated_formula_is_refused_not_no_change(tmp_path, plan, geos):
    from openpyxl import load_workbook

    from helpers.data.template import write_template

    t = write_template(tmp_path / "t.xlsx", plan, geos, DISTRICT, "2025Q2")
    wb = load_workbook(t)
    ws = wb.worksheets[1]
    col = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
    ws.cell(3, col["value"], "=100+50")  # typed as a formula; openpyxl saves no cached value
    wb.save(tmp_path / "f.xlsx")
    assert "formula_without_value" in _refused(tmp_path / "f.xlsx", plan, geos)


def test_scrub_leaves_the_verbatim_input_copies_alone(tmp_path):
    from helpers.run.provenance import scrub_machine_paths

    root = tmp_path / "proj"
    run = tmp_path / "run"
    (run / "params").mkdir(parents=True)
    (run / "params" / "settings.yaml").write_text(f"data: {root}/data/x.csv\n")
    assert scrub_machine_paths(run, [root]) == 0
