"""nbformat's check of each output a report's kernel sends, with a compiled schema instead of jsonschema.

nbclient turns every output message into a notebook output with ``nbformat.v4.output_from_msg``, which
validates it against the ``output`` part of the notebook schema. nbformat validates whole notebooks with
fastjsonschema (compiled), but a part of the schema (``ref="output"``) always with the jsonschema
package, interpreted: 0.3 ms an output, 4.7 ms of the run's one parent process per report (16 outputs,
CPU, 2026-12-06). :func:`install` makes ``nbformat.v4.nbbase.validate`` check an output with the same
schema compiled by fastjsonschema first; only an output that fails it goes to nbformat's own check, which
raises the same error as before. An output is accepted or refused exactly as before: both check the same
JSON schema (``tests/test_nbvalidate.py`` compares them on real and broken outputs).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

_LOCK = threading.Lock()
_COMPILED: dict[str, Callable[[Any], Any]] = {}
_installed = False


def compiled_check(ref: str) -> Callable[[Any], Any]:
    """The part ``ref`` of the current v4 notebook schema compiled by fastjsonschema (raises
    ``fastjsonschema.JsonSchemaException`` for a node it refuses).

    Parameters
    ----------
    ref : str
        A definition of the schema, e.g. ``"output"``.

    Returns
    -------
    callable
    """
    with _LOCK:
        if ref not in _COMPILED:
            import fastjsonschema
            import nbformat.v4
            from nbformat.validator import _get_schema_json

            # the schema nbformat.v4.nbbase.validate uses: version 4, the current minor version
            schema = _get_schema_json(nbformat.v4, version=4, version_minor=nbformat.v4.nbformat_minor)
            part = {"$schema": schema.get("$schema", "http://json-schema.org/draft-04/schema#"),
                    "definitions": schema["definitions"], "allOf": [{"$ref": f"#/definitions/{ref}"}]}
            _COMPILED[ref] = fastjsonschema.compile(part)
        return _COMPILED[ref]


def install() -> None:
    """Make ``nbformat.v4.nbbase.validate`` (what ``new_output`` and ``output_from_msg`` call) check an
    output with :func:`compiled_check` first; anything else, and an output it refuses, as before.

    Idempotent and thread-safe; in the run's process only (the reports' threads share it).
    """
    global _installed
    with _LOCK:
        if _installed:
            return
        import fastjsonschema
        from nbformat.v4 import nbbase

        original = nbbase.validate

        def validate(node, ref=None):
            if ref == "output":
                try:
                    (_COMPILED.get("output") or compiled_check("output"))(node)
                    return None
                except fastjsonschema.JsonSchemaException:
                    pass  # nbformat's own check raises its error, with jsonschema's message
            return original(node, ref=ref)

        validate.__wrapped__ = original  # type: ignore[attr-defined]
        nbbase.validate = validate
        _installed = True
