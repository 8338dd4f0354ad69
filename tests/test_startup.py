"""What ``ipeval run`` costs before it does anything: the imports of its start (issue 19)."""

from __future__ import annotations

import subprocess
import sys

import pytest

_PROBE = """
import sys
import helpers.run.quarter  # the run's start: nbclient, nbformat, jsonschema
print("built" if "rfc3987_syntax.syntax_helpers" in sys.modules else "deferred")
import jsonschema
check = jsonschema.Draft7Validator.FORMAT_CHECKER
print(check.conforms("http://例え.jp/a?b=1#c", "iri"), check.conforms("no scheme", "iri"),
      check.conforms("../a b", "iri-reference"), check.conforms("a/b?c", "iri-reference"))
print("built" if "rfc3987_syntax.syntax_helpers" in sys.modules else "deferred")
"""


def test_the_iri_parsers_are_built_on_first_use_and_answer_as_before():
    """``rfc3987_syntax`` (0.8 s of parsers) is not imported by the run's start; the first IRI checked imports
    it, and jsonschema's answers are those of the real module."""
    pytest.importorskip("rfc3987_syntax")
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "deferred"
    assert out[1] == "True False False True"
    assert out[2] == "built"
