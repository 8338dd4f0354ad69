"""What ``ipeval run`` costs before it does anything: the imports of its start, the seeding of a fresh clone's
store (issue 19)."""

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


def test_intake_finds_the_refused_cells_among_thousands(root, plan):
    """The intake checks look at every row (found all at once, then checked one by one): in the demo's 5,375
    rows, exactly the three cells made wrong are refused, a value just inside the ratio's tolerance is not."""
    from helpers.data.ingest import intake_failures, read_return

    raw = read_return(root / "data" / "demo" / "demo_data.csv")
    assert intake_failures(raw, plan).empty
    ratio = next(i for i in plan.indicators if i.uses_ratio and i.scale == 100)
    at = raw.index[raw["indicator_id"] == ratio.id]
    parts = raw.index[(raw["value"] == "") & (raw["numerator"] != "")][-1]  # a rate given by its parts only
    bad = raw.copy()
    # 1/2 is 50%: refused beyond 0.005 x 50 + 0.05 = 0.30 away
    bad.loc[at[0], ["value", "numerator", "denominator"]] = ["50.35", "1", "2"]
    bad.loc[at[1], ["value", "numerator", "denominator"]] = ["50.25", "1", "2"]  # inside
    bad.loc[4000, "value"] = "1e308"
    bad.loc[parts, ["numerator", "denominator"]] = ["5e13", "6e13"]
    found = intake_failures(bad, plan)
    assert sorted(zip(found["row"], found["column"], found["rule"])) == sorted([
        (raw.loc[at[0], "_row"], "value", "value_matches_ratio"), (raw.loc[4000, "_row"], "value", "implausible_value"),
        (raw.loc[parts, "_row"], "numerator", "implausible_value"),
        (raw.loc[parts, "_row"], "denominator", "implausible_value")])
