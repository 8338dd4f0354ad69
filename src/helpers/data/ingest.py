"""District returns as they arrive: read one file, check it, and say what is wrong cell by cell.

A return is a CSV (UTF-8, UTF-8 with BOM, GBK or GB18030) or an Excel workbook: either the
contract's long table on a sheet, or the template of :mod:`helpers.data.template` (Chinese headers
on row 1, the contract's codes on row 2, rows from 3). Rows of a template with no figure at all
are skipped: a blank cell for an earlier period means "no change".

Problems are reported in the user's language with the cell as Excel shows it (``行政保护!E7``),
and written beside the file as CSV and XLSX for the district (:func:`write_report`).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pandas as pd

from helpers.data.contract import FAILURE_COLUMNS, REQUIRED_COLUMNS, validate_frame
from helpers.data.readers import _letter, read_table
from helpers.exceptions import DataValidationError
from helpers.i18n import COLUMN_NAMES, REPORT_HEADERS, RULE_MESSAGES, et

#: the text encodings a CSV may come in, tried in this order (GB18030 is a superset of GBK)
REPORT_COLUMNS = ["file", "cell", "sheet", "row", "column", "rule", "value", "message"]


def read_return(path: str | Path) -> pd.DataFrame:
    """Read one district return as text (:func:`helpers.data.readers.read_table` with the contract's columns)."""
    return read_table(path, REQUIRED_COLUMNS)


def cell_of(row: str, column: str, letters: dict) -> str:
    """The cell as Excel shows it: ``行政保护!E7`` (a workbook) or ``E7`` (a CSV)."""
    row = str(row)
    sheet, _, n = row.rpartition("!")
    letter = letters.get(sheet, {}).get(column, "")
    if not n or not letter:
        return ""  # not known (a whole-file problem, or no letters recorded): the row alone is reported
    return f"{sheet}!{letter}{n}" if sheet else f"{letter}{n}"


def failure_report(failures: pd.DataFrame, letters: dict | None, lang: str = "zh") -> pd.DataFrame:
    """The contract's failures with the cell named and the rule explained in ``lang``.

    Returns
    -------
    pandas.DataFrame
        Columns ``file, cell, sheet, row, column, rule, value, message`` (codes as headers; see
        :func:`write_report` for the translated headers).
    """
    letters = letters or {}
    rows = []
    for rec in failures.fillna("").to_dict("records"):
        sheet, _, n = str(rec["row"]).rpartition("!")
        col = rec["column"]
        # the contract's own messages are English; other languages come from helpers.i18n
        msg = rec["message"] if lang == "en" else RULE_MESSAGES.get(lang, {}).get(rec["rule"], rec["message"])
        rows.append({"file": rec["file"], "cell": cell_of(rec["row"], col, letters), "sheet": sheet, "row": n,
                     "column": COLUMN_NAMES.get(lang, {}).get(col, col) if col else "", "rule": rec["rule"],
                     "value": rec["value"], "message": msg})
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def error_report(exc: DataValidationError, path: Path, letters: dict | None, lang: str) -> pd.DataFrame:
    """Every problem of a refused file as a report table (one row even for a whole-file problem)."""
    if exc.failures is not None and len(exc.failures):
        return failure_report(exc.failures, letters, lang)
    rule = str(exc.args[0]).rsplit("[rule: ", 1)[-1].rstrip("]") if "[rule: " in str(exc.args[0]) else "file"
    msg = RULE_MESSAGES.get(lang, {}).get(rule) if lang != "en" else None
    return pd.DataFrame([{"file": path.name, "cell": "", "sheet": "", "row": "", "column": "", "rule": rule,
                          "value": "", "message": msg or str(exc.args[0])}], columns=REPORT_COLUMNS)


def format_report(report: pd.DataFrame, lang: str = "zh", width: int | None = None) -> str:
    """The report as wrapped text for a terminal: every message whole, never cut."""
    width = width or max(60, min(shutil.get_terminal_size((100, 20)).columns, 120))
    h = REPORT_HEADERS[lang]
    out = []
    for rec in report.fillna("").to_dict("records"):
        row = f"{rec['sheet']}!{rec['row']}" if rec["sheet"] else rec["row"]
        where = rec["cell"] or (f"{h['row']} {row}" if row else "")
        head = f"{rec['file']} {where}".strip()
        if rec["column"]:
            head += f" ({h['column']}: {rec['column']})"
        if rec["value"] != "":
            v = str(rec["value"])
            # a NUL, a tab or a space at either end is invisible as text: shown as Python writes it
            shown = repr(v) if v != v.strip() or any(ord(c) < 32 for c in v) else v
            head += f" {h['value']}: {shown}"
        out.append(textwrap.fill(head, width, subsequent_indent="    "))
        out.append(textwrap.fill(f"{rec['message']} [{h['rule']}: {rec['rule']}]", width,
                                 initial_indent="    ", subsequent_indent="    "))
    return "\n".join(out)


def write_report(report: pd.DataFrame, folder: Path, stem: str, lang: str = "zh") -> list[Path]:
    """Write the report as ``<stem>.errors.csv`` (UTF-8 with BOM, for Excel) and ``.errors.xlsx``.

    The headers are in ``lang``; the rows are those of :func:`format_report`, so the district
    gets the same table the terminal showed.
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    from helpers.files import atomic_write_bytes, people_csv, people_xlsx_sheet, refuse_links

    folder = Path(folder)
    shown = report.rename(columns=REPORT_HEADERS[lang])
    csv, xlsx = folder / f"{stem}.errors.csv", folder / f"{stem}.errors.xlsx"
    for p in (csv, xlsx):  # a planted link would make the report overwrite a file anywhere
        refuse_links(p, "the error report")
    folder.mkdir(parents=True, exist_ok=True)
    # the file's own cells (a formula in a note) are shown as text, never run (OWASP)
    atomic_write_bytes(csv, people_csv(shown, encoding="utf-8-sig"))
    wb = Workbook()
    ws = wb.active
    ws.title = "errors" if lang == "en" else "错误"
    people_xlsx_sheet(ws, shown)
    for j, w in enumerate([22, 18, 12, 6, 14, 30, 14, 70], start=1):
        ws.column_dimensions[_letter(j)].width = w
    for row in ws.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(xlsx, buf.getvalue())
    return [csv, xlsx]


def check_return(path: str | Path, plan, geos) -> pd.DataFrame:
    """Read and validate one return on its own; return the raw frame.

    Raises
    ------
    DataValidationError
        With ``.failures`` (contract columns) and ``.letters`` (the cell lookup) when invalid.
    """
    raw = read_return(path)
    if raw.empty:
        return raw
    failures = validate_frame(raw, plan, geos)
    extra = intake_failures(raw, plan)
    if len(extra):
        failures = pd.concat([failures, extra], ignore_index=True) if len(failures) else extra
    if len(failures):
        exc = DataValidationError(et("file_problems", n=len(failures), file=Path(path).name),
                                  failures[FAILURE_COLUMNS].reset_index(drop=True))
        exc.letters = raw.attrs.get("letters", {})
        raise exc
    return raw


#: A figure above this many times the plan's target (or above :data:`ABSOLUTE_CEILING`) is not a
#: figure a district can have: ``deployment_meetings=1e308`` was published as on track, p = 0.991.
PLAUSIBLE_TARGET_MULTIPLE = 1000.0
ABSOLUTE_CEILING = 1e12
#: ``value`` given with its numerator and denominator must agree with them to this relative
#: tolerance (0.5%: the rounding of a percentage to one decimal place at 10%)
RATIO_TOLERANCE = 0.005


def plausible_upper(ind) -> float:
    """The largest figure intake accepts for an indicator: the registry's upper bound when it has
    one, else :data:`PLAUSIBLE_TARGET_MULTIPLE` times its target (at least 1), never above
    :data:`ABSOLUTE_CEILING`."""
    hi = ind.bounds[1] if ind.bounds and ind.bounds[1] is not None else None
    if hi is None:
        target = getattr(getattr(ind, "target", None), "value", None)
        try:
            hi = PLAUSIBLE_TARGET_MULTIPLE * max(abs(float(target)), 1.0) if target is not None else ABSOLUTE_CEILING
        except (TypeError, ValueError):
            hi = ABSOLUTE_CEILING
    return min(float(hi), ABSOLUTE_CEILING)


def intake_failures(raw: pd.DataFrame, plan) -> pd.DataFrame:
    """What intake refuses beyond the data contract: a value beyond :func:`plausible_upper` (a
    numerator or denominator beyond :data:`ABSOLUTE_CEILING`), and a
    ``value`` that disagrees with its own numerator and denominator (``value=90, numerator=1,
    denominator=4``: which one is the figure?). Rows as :data:`FAILURE_COLUMNS`."""
    from helpers.data.contract import _num

    rows = [(raw["_file"].iloc[0], r, c, "formula_without_value", "",
             "a formula saved without its calculated value (read as empty, it would mean 'no change'): open the "
             "file in Excel or WPS, let it calculate, save, and send it again")
            for r, c in raw.attrs.get("formula_cells", [])]
    inds = raw["indicator_id"].astype(str).str.strip().map(plan.by_id.get)
    v, n, d = (_num(raw[c]) for c in ("value", "numerator", "denominator"))
    for i in _worth_a_look(inds, v, n, d):
        ind = inds.iloc[i]
        if ind is None:
            continue  # the contract reports an unknown indicator
        for col, x, hi in (("value", v.iloc[i], plausible_upper(ind)), ("numerator", n.iloc[i], ABSOLUTE_CEILING),
                           ("denominator", d.iloc[i], ABSOLUTE_CEILING)):
            if pd.notna(x) and abs(x) > hi and abs(x) != float("inf"):
                rows.append((raw["_file"].iloc[i], raw["_row"].iloc[i], col, "implausible_value", raw[col].iloc[i],
                             f"{x:g} is beyond what {ind.id} can plausibly be (at most {hi:g}: the registry's bound, "
                             f"else {PLAUSIBLE_TARGET_MULTIPLE:g} x its target)"))
        if pd.notna(v.iloc[i]) and pd.notna(n.iloc[i]) and pd.notna(d.iloc[i]) and d.iloc[i] > 0:
            want = n.iloc[i] / d.iloc[i] * float(getattr(ind, "scale", 1) or 1)
            if abs(v.iloc[i] - want) > RATIO_TOLERANCE * max(abs(want), abs(v.iloc[i]), 1e-9) + 0.05:
                rows.append((raw["_file"].iloc[i], raw["_row"].iloc[i], "value", "value_matches_ratio",
                             raw["value"].iloc[i], f"value {v.iloc[i]:g} disagrees with numerator / denominator "
                             f"({n.iloc[i]:g} / {d.iloc[i]:g} = {want:g}): give the value or the two parts, or "
                             f"make them agree"))
    return pd.DataFrame(rows, columns=FAILURE_COLUMNS)


def _worth_a_look(inds: pd.Series, v: pd.Series, n: pd.Series, d: pd.Series) -> list[int]:
    """The positions of the rows :func:`intake_failures` may refuse, found for all rows at once: a superset
    (a figure above its bound, or a value more than 0.05 from its numerator / denominator: every refused
    disagreement is by more than that), each then checked one by one as before. Checking the demo's 5,375
    rows one by one took 0.25 s of seeding a fresh clone's store."""
    import numpy as np

    def as_float(s: pd.Series) -> np.ndarray:
        return s.astype(float).to_numpy()

    fv, fn, fd = as_float(v), as_float(n), as_float(d)
    known = inds.notna().to_numpy()
    upper = np.array([plausible_upper(i) if i is not None else np.inf for i in inds])
    scale = np.array([float(getattr(i, "scale", 1) or 1) if i is not None else 1.0 for i in inds])
    with np.errstate(divide="ignore", invalid="ignore"):
        far = (np.abs(fv) > upper) | (np.abs(fn) > ABSOLUTE_CEILING) | (np.abs(fd) > ABSOLUTE_CEILING)
        off = np.abs(fv - fn / fd * scale) > 0.05
    return np.flatnonzero(known & (far | off)).tolist()
