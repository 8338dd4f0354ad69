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


def _jsonschema_accepts(node) -> bool:
    try:
        nbformat.validate(node, ref="output", version=4)
        return True
    except nbformat.ValidationError:
        return False


def _compiled_accepts(node) -> bool:
    try:
        nbvalidate.compiled_check("output")(node)
        return True
    except fastjsonschema.JsonSchemaException:
        return False


@pytest.mark.parametrize("node", GOOD + _broken())
def test_the_compiled_check_agrees_with_nbformats(node):
    assert _compiled_accepts(node) == _jsonschema_accepts(node)


def test_every_good_output_passes_and_every_broken_one_fails():
    assert all(_jsonschema_accepts(o) for o in GOOD)
    assert not any(_jsonschema_accepts(o) for o in _broken())


def test_installed_outputs_are_made_as_before_and_a_broken_one_raises_nbformats_error():
    nbvalidate.install()
    nbvalidate.install()  # twice: still one wrapper
    assert nbbase.validate.__wrapped__.__module__ == "nbformat.v4.nbbase"
    msg = {"header": {"msg_type": "display_data"}, "msg_type": "display_data",
           "content": {"data": {"text/html": "<b>1</b>"}, "metadata": {}}}
    assert nbformat.v4.output_from_msg(msg) == {"output_type": "display_data", "data": {"text/html": "<b>1</b>"},
                                                "metadata": {}}
    with pytest.raises(nbformat.ValidationError, match="picture"):
        nbbase.validate({"output_type": "picture"}, "output")
    nbbase.validate({"cell_type": "markdown", "source": "", "metadata": {}, "id": "a"}, "markdown_cell")
