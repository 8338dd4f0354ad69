"""The plan as data: its targets and indicators (``registry``, typed in ``entries``), Hangzhou and its 13
districts/counties (``geography``), and the quarters and years everything is dated by
(``periods``). Depends on nothing else in ``helpers`` but the leaves (settings, exceptions, i18n)."""
