"""A finished ``ipeval run`` leaves at once (cli_common.leave): what Python runs at exit, not its teardown."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from helpers.cli_common import leave


def test_in_process_it_is_an_ordinary_exit():
    with pytest.raises(typer.Exit) as exc:
        leave(3)
    assert exc.value.exit_code == 3


def test_in_the_console_script_the_exit_functions_run_and_buffered_output_is_written(tmp_path):
    code = f"""
import atexit, logging, sys
from helpers.cli_common import _state, leave
handler = logging.FileHandler({str(tmp_path / 'run.log')!r})
logging.getLogger("x").addHandler(handler)
logging.getLogger("x").warning("logged last")
atexit.register(lambda: open({str(tmp_path / 'atexit.txt')!r}, "w").write("ran"))
sys.stdout.write("summary line")  # no newline: still in the buffer
_state["console"] = True
leave(3)
print("never")
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 3 and r.stdout == "summary line"
    assert (tmp_path / "atexit.txt").read_text() == "ran"
    assert (tmp_path / "run.log").read_text().strip() == "logged last"


def test_only_the_console_script_leaves_at_once(monkeypatch, capsys):
    """The tests run ``main`` in their own process (conftest ``ipeval_here``): a finished run there must
    not end the test process; the ``ipeval`` script's entry point is ``console``, which does leave."""
    import tomllib
    from pathlib import Path

    from helpers import cli
    from helpers.cli_common import _state

    monkeypatch.setattr(sys, "argv", ["ipeval", "--help"])
    with pytest.raises(SystemExit):
        cli.main()
    assert _state["console"] is False
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["ipeval"] == "helpers.cli:console"
