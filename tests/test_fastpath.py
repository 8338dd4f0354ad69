"""The no-change fast path: one hash of the inputs, and "unchanged" only for the run it was recorded for."""

import json
import os
from datetime import date
from pathlib import Path

import pytest

from helpers.files import seal_manifest
from helpers.run import fastpath

OPTS = dict(quarter="2025Q2", sections=None, geos=None, lang=None, data=[], as_of=None, documents=True)


@pytest.fixture()
def project(tmp_path, monkeypatch):
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "settings.yaml").write_text("plan: params/plan.yaml\ngeographies: params/geos.yaml\n"
                                                        "data: data/seed.csv\n", encoding="utf-8")
    (tmp_path / "params" / "plan.yaml").write_text("id: x\n", encoding="utf-8")
    (tmp_path / "params" / "geos.yaml").write_text("[]\n", encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "overview.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "seed.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "data" / "store.sqlite").write_bytes(b"store-v1")
    (tmp_path / "outputs").mkdir()
    monkeypatch.setenv("IPEVAL_HOME", str(tmp_path))
    return tmp_path


def publish(project: Path, quarter="2025Q2", run_id="r1", fp="pre", status="ok") -> Path:
    """A published run as helpers.run.publish leaves it: runs/<q>/<id> and the pointer outputs/<q>."""
    run = project / "outputs" / "runs" / quarter / run_id
    run.mkdir(parents=True)
    (run / "index.html").write_text("<html></html>", encoding="utf-8")
    (run / "manifest.json").write_text(json.dumps({"run_id": run_id, "input_fingerprint": fp,
                                                   "jobs": [{"status": status}]}), encoding="utf-8")
    seal_manifest(run)  # every file's checksum, as a run records them before publishing
    link = project / "outputs" / quarter
    if link.is_symlink():
        link.unlink()
    os.symlink(run, link)
    return run


def test_fingerprint_changes_with_every_input(project):
    base, paths = fastpath.fingerprint(OPTS)
    assert paths["store"] == project / "data" / "store.sqlite"
    assert fastpath.fingerprint(OPTS)[0] == base  # stable
    changes = [
        lambda: (project / "params" / "plan.yaml").write_text("id: y\n", encoding="utf-8"),
        lambda: (project / "notebooks" / "overview.ipynb").write_text('{"x": 1}', encoding="utf-8"),
        lambda: (project / "data" / "store.sqlite").write_bytes(b"store-v2"),
        lambda: (project / "data" / "store.sqlite-wal").write_bytes(b"wal"),
        lambda: (project / "data" / "seed.csv").write_text("a,b\n1,3\n", encoding="utf-8"),
        lambda: (project / "data" / "reference").mkdir(),
    ]
    seen = {base}
    for change in changes:
        change()
        fp = fastpath.fingerprint(OPTS)[0]
        assert fp not in seen
        seen.add(fp)
    for key, value in [("as_of", "2025-07-25"), ("sections", "enforcement"), ("geos", "330106"), ("lang", "en"),
                       ("documents", False), ("quarter", "2025Q1"), ("data", ["x.csv"])]:
        assert fastpath.fingerprint({**OPTS, key: value})[0] not in seen, key


def test_latest_follows_the_calendar(project):
    latest = {**OPTS, "quarter": "latest"}
    assert fastpath.last_ended_quarter(date(2025, 8, 1)) == "2025Q2"
    assert fastpath.last_ended_quarter(date(2026, 2, 1)) == "2025Q4"
    a = fastpath.fingerprint(latest, today=date(2025, 8, 1))[0]
    assert a == fastpath.fingerprint(latest, today=date(2025, 9, 30))[0]
    assert a != fastpath.fingerprint(latest, today=date(2025, 10, 1))[0]


def test_unchanged_only_for_the_recorded_published_run(project):
    fp, paths = fastpath.fingerprint(OPTS)
    assert fastpath.unchanged(fp, paths) is None  # nothing recorded
    publish(project, fp="pre")
    fastpath.record(fp, paths, "2025Q2", "r1", "pre")
    assert fastpath.unchanged(fp, paths) == project / "outputs" / "2025Q2"
    assert fastpath.unchanged("other", paths) is None
    publish(project, run_id="r2", fp="pre")  # another run published since: not the recorded one
    assert fastpath.unchanged(fp, paths) is None


@pytest.mark.parametrize("damage", ["emptied", "manifest_edited"])
def test_a_published_file_changed_since_its_run_is_never_unchanged(project, damage):
    fp, paths = fastpath.fingerprint(OPTS)
    run = publish(project, fp="pre")
    fastpath.record(fp, paths, "2025Q2", "r1", "pre")
    assert fastpath.unchanged(fp, paths) is not None
    if damage == "emptied":
        (run / "index.html").write_bytes(b"")  # the full run recomputes what was damaged
    else:
        m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        (run / "manifest.json").write_text(json.dumps({**m, "jobs": [{"status": "ok", "x": 1}]}), encoding="utf-8")
    assert fastpath.unchanged(fp, paths) is None


def test_a_run_with_a_failed_report_is_never_unchanged(project):
    fp, paths = fastpath.fingerprint(OPTS)
    publish(project, fp="pre", status="failed")
    fastpath.record(fp, paths, "2025Q2", "r1", "pre")
    assert fastpath.unchanged(fp, paths) is None


def test_begin_and_finish(project):
    fast = fastpath.FastPath(OPTS)
    assert fast.published is None and fast.fingerprint
    publish(project, fp=fast.fingerprint)
    assert fast.finish("2025Q2", "r1", ok=True)
    again = fastpath.FastPath(OPTS)
    assert again.published == project / "outputs" / "2025Q2"
    assert fastpath.FastPath(OPTS, force=True).published is None  # --force: always the full run
    (project / "data" / "inbox").mkdir()
    (project / "data" / "inbox" / "late.xlsx").write_bytes(b"x")
    with_inbox = fastpath.FastPath(OPTS, inbox=True)
    assert with_inbox.published is None  # files to ingest
    (project / "data" / "store.sqlite").write_bytes(b"the inbox's files ingested")
    assert not with_inbox.finish("2025Q2", "r1", ok=True)  # the next run records, with the store as it is then
    (project / "data" / "store.sqlite").write_bytes(b"store-v1")
    assert fastpath.FastPath(OPTS, inbox=False).published is not None


def test_finish_records_nothing_after_a_change_during_the_run(project):
    fast = fastpath.FastPath(OPTS)
    publish(project, fp=fast.fingerprint)
    (project / "params" / "plan.yaml").write_text("id: edited while running\n", encoding="utf-8")
    assert not fast.finish("2025Q2", "r1", ok=True)
    assert not fastpath.FastPath(OPTS).finish("2025Q2", "r1", ok=False)  # a failed report


def test_finish_accepts_the_runs_own_seeding_of_the_store(project):
    (project / "data" / "store.sqlite").unlink()
    fast = fastpath.FastPath(OPTS)
    (project / "data" / "store.sqlite").write_bytes(b"seeded by the run")
    publish(project, fp=fast.fingerprint)
    assert fast.finish("2025Q2", "r1", ok=True)
    assert fastpath.FastPath(OPTS).published is not None


def test_a_run_in_progress_or_a_killed_runs_leftovers_go_the_full_way(project):
    import fcntl

    fp, paths = fastpath.fingerprint(OPTS)
    publish(project, fp="pre")
    fastpath.record(fp, paths, "2025Q2", "r1", "pre")
    lock = project / "outputs" / ".2025Q2.lock"
    lock.write_text("pid 1\n")  # a lock file nobody holds is harmless
    assert fastpath.unchanged(fp, paths) is not None
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        assert fastpath.unchanged(fp, paths) is None
    finally:
        os.close(fd)
    assert fastpath.unchanged(fp, paths) is not None
    (project / "outputs" / ".staging" / "2025Q2" / "20261201T000000Z-dead00").mkdir(parents=True)
    assert fastpath.unchanged(fp, paths) is None
