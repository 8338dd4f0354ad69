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
