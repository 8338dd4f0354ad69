"""District data: the data contract and loading (``contract``, pandera), the seeded
demonstration dataset (``demo``), the Excel return a district fills in (``template``), one
indicator's series for a geography (``series``) and the data-quality flags (``quality``).
Reads the plan; knows nothing of models, pages or runs."""
