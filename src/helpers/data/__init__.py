"""District data: the data contract and loading (``contract``; its pandera schema
``contract_schema`` and the checking ``validation``), the observation store with vintages
(``store``: ``observation_store``, ``store_schema``, ``store_status``, ``asof``), the seeded
demonstration dataset (``demo``), the Excel return a district fills in (``template``), one
indicator's series for a geography (``series``) and the data-quality flags (``quality``).
Reads the plan; knows nothing of models, pages or runs."""
