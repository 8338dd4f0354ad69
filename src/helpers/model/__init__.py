"""The judgement: statsmodels ensembles simulating future paths (``forecast``), the verdict of
every target and geography (``assess``), and the rolling-origin check of both (``backtest``).
Reads the plan and the data; draws nothing and runs no notebook."""
