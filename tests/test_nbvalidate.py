"""The compiled check of each output nbclient adds (helpers.run.nbvalidate): it accepts and refuses what
nbformat's own check does, and a refused output raises nbformat's error as before."""

from __future__ import annotations

import copy

import fastjsonschema
import nbformat
import pytest
from nbformat.v4 import nbbase

from helpers.run import nbvalidate

SVG = '<svg xmlns="http://www.w3.org/2000/svg"><title>图</title></svg>'

#: what a report's kernel sends: display data (HTML tables, inline SVG charts with ipeval metadata), stream
#: text, an execute result, an error
GOOD = [
    nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr></table>",
                                                 "text/plain": "<IPython.core.display.HTML object>"}),
    nbformat.v4.new_output("display_data", data={"image/svg+xml": SVG, "text/plain": "charts/a/330100.svg"},
                           metadata={"image/svg+xml": {"alt": "图"}, "ipeval": {"chart": "charts/a/330100.svg"}}),
    nbformat.v4.new_output("stream", name="stderr", text="警告\n"),
    nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=4),
    nbformat.v4.new_output("error", ename="KeyError", evalue="'x'", traceback=["Traceback", "KeyError: 'x'"]),
]


def _broken() -> list:
    bad = []
    for out in GOOD:
        for change in ("type", "extra", "missing"):
            o = copy.deepcopy(dict(out))
            if change == "type":
                o["output_type"] = "picture"
            elif change == "extra":
                o["surprise"] = 1
            else:
                o.pop(next(k for k in o if k != "output_type"))
            bad.append(o)
    bad.append({**copy.deepcopy(dict(GOOD[2])), "name": 3})  # a stream name that is not text
    bad.append({**copy.deepcopy(dict(GOOD[3])), "execution_count": "4"})
    return bad


CELLS = [nbformat.v4.new_code_cell("x = 1", id="a1"), nbformat.v4.new_markdown_cell("# 标题", id="b2")]


def _broken_cells() -> list:
    bad = []
    for cell in CELLS:
        for change in ("extra", "missing", "source"):
            c = copy.deepcopy(dict(cell))
            if change == "extra":
                c["surprise"] = 1
            elif change == "missing":
                c.pop("metadata")
            else:
                c["source"] = 3
            bad.append(c)
    return bad


def _accepted(check, node, ref) -> bool:
    try:
        check(node, ref)
        return True
    except (nbformat.ValidationError, fastjsonschema.JsonSchemaException):
        return False


def _jsonschema(node, ref):
    nbformat.validate(node, ref=ref, version=4)


def _compiled(node, ref):
    nbvalidate.compiled_check(ref)(node)


#: each node with the refs nbformat checks it against: its own type (what new_output and new_code_cell
#: pass) and the whole "output" or cell definition
CASES = ([(o, ref) for o in GOOD + _broken() for ref in (str(o.get("output_type")), "output")
          if ref in ("display_data", "stream", "execute_result", "error", "output")]
         + [(c, ref) for c in CELLS + _broken_cells() for ref in ("code_cell", "markdown_cell", "cell")])


@pytest.mark.parametrize(("node", "ref"), CASES)
def test_the_compiled_check_agrees_with_nbformats(node, ref):
    assert _accepted(_compiled, node, ref) == _accepted(_jsonschema, node, ref)


def test_every_good_node_passes_and_every_broken_one_fails():
    assert all(_accepted(_jsonschema, o, o["output_type"]) for o in GOOD)
    assert all(_accepted(_jsonschema, c, c["cell_type"] + "_cell") for c in CELLS)
    assert not any(_accepted(_jsonschema, o, "output") for o in _broken())
    assert not any(_accepted(_jsonschema, c, "cell") for c in _broken_cells())
    assert nbvalidate.compiled_check("no_such_part") is None


def test_installed_the_outputs_nbclient_makes_skip_jsonschema_and_a_broken_one_raises_nbformats_error(monkeypatch):
    nbvalidate.install()
    nbvalidate.install()  # twice: still one wrapper
    assert nbbase.validate.__wrapped__.__module__ == "nbformat.v4.nbbase"
    interpreted = []  # nbformat's own (jsonschema) check, which nbbase.validate calls as nbformat.validate
    real = nbformat.validate
    monkeypatch.setattr(nbformat, "validate", lambda *a, **k: interpreted.append(k.get("ref")) or real(*a, **k))
    messages = [("display_data", {"data": {"text/html": "<b>1</b>"}, "metadata": {}}),
                ("stream", {"name": "stdout", "text": "1\n"}),
                ("execute_result", {"data": {"text/plain": "3"}, "metadata": {}, "execution_count": 2}),
                ("error", {"ename": "KeyError", "evalue": "'x'", "traceback": ["KeyError"]})]
    for kind, content in messages:
        out = nbformat.v4.output_from_msg({"header": {"msg_type": kind}, "msg_type": kind, "content": content})
        assert out["output_type"] == kind
    nbformat.v4.new_code_cell("x = 1")
    assert interpreted == []
    with pytest.raises(nbformat.ValidationError, match="picture"):
        nbbase.validate({"output_type": "picture"}, "output")
    assert interpreted == ["output"]
