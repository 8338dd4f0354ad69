"""What a reader sees: the parts of a section report the notebooks call (``sections``), charts
(``plots``), and HTML export, the index dashboard and the workbook (``report``, Jinja templates in
``templates/``). Reads assessments; computes no forecast of its own in a run."""
