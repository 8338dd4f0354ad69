"""helpers: evaluate Hangzhou's IP Protection Demonstration Zone plan (2023-2025) from district data.

Notebooks under ``notebooks/`` are thin; everything they compute lives here, one job per module:

``registry``   the plan's targets and indicators (``params/plans/*.yaml``)
``geography``  Hangzhou and its 13 districts/counties (``params/geographies.yaml``)
``periods``    quarters and years
``data``       loading and validating district data (pandera)
``demo``       the seeded demonstration dataset
``forecast``   statsmodels ensembles that simulate future paths
``assess``     per indicator and geography: progress, probability, status
``plots``      seaborn charts (with a CJK font)
``report``     HTML export (nbconvert), index dashboard, tables
``runner``     the quarterly executor
``schedule``   the built-in APScheduler schedule
``cli``        the ``ipeval`` command
"""

__version__ = "0.1.0"
