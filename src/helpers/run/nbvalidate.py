"""nbformat's check of each output a report's kernel sends, with a compiled schema instead of jsonschema.

nbclient turns every output message into a notebook output with ``nbformat.v4.output_from_msg``, which
validates it against its part of the notebook schema (``ref="display_data"``, ``"stream"``, ...), and
papermill's cells are made with ``new_code_cell`` (``ref="code_cell"``). nbformat validates whole notebooks
with fastjsonschema (compiled), but a part of the schema always with the jsonschema package, interpreted:
0.3 ms an output, 4.7 ms of the run's one parent process per report (16 outputs, CPU, 2026-12-06).
:func:`install` makes ``nbformat.v4.nbbase.validate`` check a node against the same part of the same schema
compiled by fastjsonschema first; only a node that fails it goes to nbformat's own check, which raises the
same error as before. A node is accepted or refused exactly as before: both check the same JSON schema
(``tests/test_nbvalidate.py`` compares them on good and broken outputs and cells).
"""

from __future__ import annotations

import threading
from typing import Any, Callable

_LOCK = threading.Lock()
_COMPILED: dict[str, Callable[[Any], Any] | None] = {}
_installed = False


def compiled_check(ref: str) -> Callable[[Any], Any] | None:
    """The part ``ref`` of the current v4 notebook schema compiled by fastjsonschema (raises
    ``fastjsonschema.JsonSchemaException`` for a node it refuses); None if the schema has no such part.

    Parameters
    ----------
    ref : str
        A definition of the schema, e.g. ``"display_data"`` or ``"code_cell"``.

    Returns
    -------
    callable or None
    """
    if ref in _COMPILED:
        return _COMPILED[ref]
    with _LOCK:
        if ref not in _COMPILED:
            import fastjsonschema
            import nbformat.v4
            from nbformat.validator import _get_schema_json

            # the schema nbformat.v4.nbbase.validate uses: version 4, the current minor version
            schema = _get_schema_json(nbformat.v4, version=4, version_minor=nbformat.v4.nbformat_minor)
            part = {"$schema": schema.get("$schema", "http://json-schema.org/draft-04/schema#"),
                    "definitions": schema["definitions"], "allOf": [{"$ref": f"#/definitions/{ref}"}]}
            try:
                _COMPILED[ref] = fastjsonschema.compile(part) if ref in schema["definitions"] else None
            except fastjsonschema.JsonSchemaDefinitionException:  # a schema it cannot compile: nbformat's check
                _COMPILED[ref] = None
        return _COMPILED[ref]


def install() -> None:
    """Make ``nbformat.v4.nbbase.validate`` (what ``new_output``, ``output_from_msg`` and ``new_code_cell``
    call) check a part of a notebook with :func:`compiled_check` first; a whole notebook (no ``ref``), and
    a node the compiled check refuses, as before.

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
            check = compiled_check(ref) if ref else None
            if check is not None:
                try:
                    check(node)
                    return None
                except fastjsonschema.JsonSchemaException:
                    pass  # nbformat's own check raises its error, with jsonschema's message
            return original(node, ref=ref)

        validate.__wrapped__ = original  # type: ignore[attr-defined]
        nbbase.validate = validate
        _installed = True
