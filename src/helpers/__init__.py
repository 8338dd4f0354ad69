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
