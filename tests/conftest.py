"""Shared fixtures: the project's own registry, geographies and demo data, and a scratch project
(a copy of params/, notebooks/ and the demo data with its own outputs/) for runs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

#: Fixtures that run the pipeline (an ``ipeval run`` or papermill): a test using one, directly or through
#: another fixture, is end-to-end, so ``pytest -m "not e2e"`` stays a fast suite without anyone remembering
#: to mark it. ``run_dir`` is tests/test_documents.py's published 2025Q4 run; ``documents`` is
#: tests/test_document_check.py's Word and PDF reports of every geography for two quarters (about 30 s).
PIPELINE_FIXTURES = frozenset({"published_run", "published", "run_dir", "workflow", "nb_project", "documents"})

#: The one published run that tests only read (tests/test_run.py, tests/test_html.py): 2025Q2, two sections
#: (a total target and a rate) for the city and a district, with 400 simulated paths.
PUBLISHED_RUN = ("--quarter", "2025Q2", "--sections", "enforcement,judicial", "--geos", "330100,330106")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def settings():
    from helpers.settings import load_settings

    return load_settings(ROOT / "params" / "settings.yaml")


@pytest.fixture(scope="session")
def plan(settings):
    from helpers.plan.registry import load_plan

    return load_plan(settings.plan_path)


@pytest.fixture(scope="session")
def geos(settings):
    from helpers.plan.geography import load_geographies

    return load_geographies(settings.geographies_path)


@pytest.fixture(scope="session")
def demo_frame(settings, plan, geos):
    from helpers.data.contract import load_data

    return load_data(settings.data_path, plan, geos).frame


@pytest.fixture(scope="session")
def published_run(tmp_path_factory):
    """``(project, completed process)``: one run of :data:`PUBLISHED_RUN`, made once per session and shared by
    every test that only reads a published run (the slow part of those tests)."""
    proj = make_project(tmp_path_factory.mktemp("published") / "proj")
    r = ipeval("run", *PUBLISHED_RUN, "--quiet", cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    return proj, r


@pytest.fixture
def store(tmp_path, settings, plan, geos):
    """A fresh observation store seeded from the demo data, in a scratch folder (tests/test_trust.py has its own,
    inside a scratch project)."""
    from helpers.data.store import ObservationStore

    st = ObservationStore(tmp_path / "store.sqlite", tmp_path / "received")
    st.ensure_seed(settings.data_path, plan, geos)
    return st


@pytest.fixture
def project(tmp_path) -> Path:
    """A scratch copy of the project (params, notebooks, demo data); outputs go under it."""
    return make_project(tmp_path / "proj")


def make_project(dst: Path) -> Path:
    """Copy params, notebooks and the demo data to ``dst``, with 400 simulated paths (a fast suite)."""
    for sub in ("params", "notebooks"):
        shutil.copytree(ROOT / sub, dst / sub)
    (dst / "data" / "demo").mkdir(parents=True)
    shutil.copy2(ROOT / "data" / "demo" / "demo_data.csv", dst / "data" / "demo" / "demo_data.csv")
    shutil.copytree(ROOT / "data" / "reference", dst / "data" / "reference")  # published figures, marked on pages
    (dst / "docs").mkdir()
    shutil.copy2(ROOT / "docs" / "methodology.md", dst / "docs" / "methodology.md")  # the methods note links it
    s = yaml.safe_load((dst / "params" / "settings.yaml").read_text(encoding="utf-8"))
    s["forecast"]["n_paths"] = 400  # fewer paths keep the suite fast; the method is the same
    (dst / "params" / "settings.yaml").write_text(yaml.safe_dump(s, allow_unicode=True), encoding="utf-8")
    return dst


def ipeval_here(args, cwd: Path, monkeypatch, capsys) -> tuple[int, str, str]:
    """``ipeval ARGS`` in this process, through the console entry point: ``(exit code, stdout, stderr)``.

    For commands refused before anything runs: the same code path as :func:`ipeval` without a new
    interpreter importing pandas (about 2 s each on this project's machine)."""
    from helpers.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setenv("IPEVAL_HOME", str(cwd))
    monkeypatch.setattr(sys, "argv", ["ipeval", *map(str, args)])
    with pytest.raises(SystemExit) as e:
        main()
    out = capsys.readouterr()
    code = e.value.code if isinstance(e.value.code, int) else (0 if e.value.code is None else 1)
    return code, out.out, out.err


def ipeval(*args, cwd: Path, timeout=900, env_extra=None):
    """Run the ipeval CLI in a subprocess (as cron would), returning the CompletedProcess."""
    import subprocess

    if args and args[0] == "run" and "--documents" not in args and "--no-documents" not in args:
        # the Word/PDF step is tested by tests/test_documents.py (and one run below); elsewhere it
        # would only add its minutes to every end-to-end run
        args = (*args, "--no-documents")
    env = dict(os.environ, IPEVAL_HOME=str(cwd), PYTHONUNBUFFERED="1")
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def _error_language_back_to_chinese():
    """A test that ran ``ipeval --lang en`` in this process leaves error messages in English: reset after each."""
    yield
    from helpers.i18n import use_error_language

    use_error_language(lang="zh")
