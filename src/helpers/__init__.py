"""helpers: evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025) from district data.

Notebooks under ``notebooks/`` are thin; everything they compute lives here, in sub-packages by
stage. Imports run one way, from the command line down to the plan (``docs/architecture.md``):

``cli``          the ``ipeval`` command
``run/``         one quarter end to end: inputs, incremental jobs, kernels, provenance, publish, schedule
``pages/``       what a reader sees: notebook parts, charts, HTML and the index
``model/``       forecasts, target kinds, assessments, backtests
``data/``        district data: the contract (pandera), demo data, templates, series, quality
``plan/``        the plan registry, the geographies, quarters and years
``settings``, ``exceptions``, ``i18n``, ``files``, ``cache``   leaves every stage may use
"""

__version__ = "0.1.0"


def _defer_rfc3987_syntax() -> None:
    """Build ``rfc3987_syntax``'s parsers when an IRI is first checked, not when ``jsonschema`` is imported.

    ``jsonschema`` (under ``nbformat``, so under every run) imports ``rfc3987_syntax`` if it is installed
    (``jsonschema[format-nongpl]``, pulled in by ``jupyter-events``), and that module builds some 40 Earley
    parsers at import: 0.79 s of CPU measured on this machine, more than half of
    ``import helpers.run.quarter`` (1.40 s, 0.50 s without it). Nothing in a run checks an ``iri`` format
    (the notebook schema is draft 4, which has none), so a stand-in takes its place: the first call of
    ``is_valid_syntax``, or any other name of the module, imports the real one and answers the same.
    """
    import sys
    from importlib.util import find_spec

    if "rfc3987_syntax" in sys.modules or "jsonschema" in sys.modules or find_spec("rfc3987_syntax") is None:
        return
    import types

    stub = types.ModuleType("rfc3987_syntax", "Stand-in: the real module is imported on first use (helpers/__init__.py).")

    def _real():
        if sys.modules.get("rfc3987_syntax") is stub:
            del sys.modules["rfc3987_syntax"]
        import rfc3987_syntax

        return rfc3987_syntax

    def is_valid_syntax(term, value):
        return _real().is_valid_syntax(term, value)

    def __getattr__(name):  # PEP 562; not for the import system's probes (``__path__``, ``__file__``)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(_real(), name)

    stub.is_valid_syntax = is_valid_syntax  # type: ignore[attr-defined]
    stub.__getattr__ = __getattr__  # type: ignore[method-assign]
    sys.modules["rfc3987_syntax"] = stub


_defer_rfc3987_syntax()
