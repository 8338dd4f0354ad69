"""Reading the tables districts send: CSV in any encoding Chinese Excel writes, and .xlsx workbooks.

:func:`read_table` is the one reader of a data file; the data contract (:mod:`helpers.data.contract`)
and the intake of district returns both call it, so a file reads the same everywhere:

* CSV is decoded as UTF-8 (with or without the byte-order mark Excel adds), else as GB18030, the
  superset of GBK that Chinese Excel and WPS write by default ("CSV (逗号分隔)");
* a workbook must be an .xlsx/.xlsm (a zip holding ``xl/workbook.xml``): a legacy .xls, a
  password-protected workbook (an OLE file with an ``EncryptedPackage``) or a zip of something
  else is refused with what to do, never a library's exception;
* a number cell formatted as a percentage (shows 45%, holds 0.45) is recorded in
  ``frame.attrs["percent_cells"]`` so the contract can refuse it by name (``percent_format``):
  the contract wants 45 for 45%, and 0.45 would pass every range check unnoticed.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from helpers.exceptions import DataValidationError
from helpers.i18n import et

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
LEGACY_EXCEL_SUFFIXES = (".xls",)
#: Tried in order; GB18030 decodes every GBK and GB2312 file.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Columns whose cells are checked for a percentage number format.
NUMBER_COLUMNS = ("value", "numerator", "denominator")


def refusal(path: Path, rule: str, message: str) -> DataValidationError:
    """The error for a file that cannot be read at all, naming the file and the rule."""
    return DataValidationError(f"{path}: {message} [rule: {rule}]")


def decode_csv(path: Path) -> str:
    """The text of a CSV in one encoding: UTF-8 (BOM or not) or GB18030, never a mix.

    A file that is UTF-8 except for one line saved from another program as GBK is refused at
    that line: decoded whole as GB18030 its UTF-8 lines become mojibake (杭州市统计局 -> 鏉...)
    and would be stored as such.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = data.split(b"\n")
    utf8_line = bad_line = None
    for n, line in enumerate(lines, start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8-sig" if n == 1 else "utf-8")
            utf8_line = utf8_line or n
        except UnicodeDecodeError:
            bad_line = bad_line or n
        if utf8_line and bad_line:
            raise refusal(path, "mixed_encoding", f"{path.name} mixes encodings: line {utf8_line} is UTF-8 but line "
                                            f"{bad_line} is not; save the whole file again as CSV UTF-8")
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        n = data[:exc.start].count(b"\n") + 1
        raise refusal(path, "encoding", f"{path.name} is neither UTF-8 nor GBK/GB18030 text (line {n}, byte "
                                        f"{exc.start}): save it again as CSV UTF-8 or as .xlsx") from None


def read_csv_text(path: Path, **kwargs) -> pd.DataFrame:
    """A CSV read as strings, decoded as one encoding (:func:`decode_csv`)."""
    import csv
    import io

    text = decode_csv(path)
    # a row with more fields than the header: pandas would make the first ones an index and blame
    # every later column for its neighbour's value
    rows = csv.reader(io.StringIO(text))
    width = len(next(rows, []))
    for n, row in enumerate(rows, start=2):
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise refusal(path, "extra_fields", f"{path.name} line {n} has {len(row)} fields, the header has {width}: "
                                                f"a comma inside a cell needs the cell in double quotes")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=False, **kwargs)


def check_workbook(path: Path) -> None:
    """Refuse, with what to do, a file named like a workbook that openpyxl cannot open."""
    with open(path, "rb") as fh:
        head = fh.read(8)
        if head == OLE_MAGIC:
            rest = fh.read(1 << 20)
    if head == OLE_MAGIC:
        if "EncryptedPackage".encode("utf-16-le") in rest:
            raise refusal(path, "encrypted_workbook", f"{path.name} is protected by a password: "
                                                      "remove the password in Excel (File > Info) and save again")
        raise refusal(path, "legacy_xls", f"{path.name} is a legacy Excel 97-2003 workbook (.xls): "
                                          "open it in Excel or WPS and save as .xlsx")
    if path.suffix.lower() in LEGACY_EXCEL_SUFFIXES:
        raise refusal(path, "legacy_xls", f"{path.name}: .xls files are not read; save it as .xlsx")
    if not zipfile.is_zipfile(path):
        raise refusal(path, "not_a_workbook", f"{path.name} is not an Excel workbook (an .xlsx is a zip file; "
                                              "this one is not): save it from Excel as .xlsx")
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise refusal(path, "not_a_workbook", f"{path.name} is a damaged zip file ({exc})") from None
    if "xl/workbook.xml" not in names:
        raise refusal(path, "not_a_workbook", f"{path.name} is a zip archive but not an Excel workbook "
                                              "(no xl/workbook.xml)")


TEMPLATE_CODE_ROW = 2  # the district template's second row holds the contract's column codes
#: The largest sheet read: a return has a few thousand rows and the contract's 8 columns (the
#: template 11). Checked from the sheet's declared size before any cell is loaded: a 23 KB file
#: declaring one cell at XFD1048576 made the reader build 17 billion empty cells.
MAX_SHEET_ROWS = 200_000
MAX_SHEET_COLUMNS = 64
#: Columns the template shows for people (names, units, the stored value); not part of the contract.
TEMPLATE_ONLY = {"indicator_name", "unit", "stored_value"}


def _letter(n: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _text(v) -> str:
    """A cell as text; whole floats without ``.0`` (Excel stores every number as a float)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return str(v).strip()


def _csv(path: Path) -> pd.DataFrame:
    df = read_csv_text(path)
    df.columns = [str(c).strip() for c in df.columns]
    df = df.assign(_sheet="", _line=range(2, len(df) + 2))  # +2: the header is row 1
    df.attrs["letters"] = {"": {c: _letter(j + 1) for j, c in enumerate(df.columns) if not c.startswith("_")}}
    df.attrs["percent_cells"] = []
    return df


def _is_percent(cell) -> bool:
    return isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool) \
        and "%" in str(getattr(cell, "number_format", "") or "")


def _xlsx(path: Path) -> pd.DataFrame:
    """Every sheet with the contract's codes in row 1 (a plain table) or row 2 (the district template)."""
    from openpyxl import load_workbook

    check_workbook(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        raise refusal(path, "not_a_workbook", f"{path.name} cannot be read as Excel: {exc}") from None
    frames, letters, percent, locked, formula_cells = [], {}, [], [], []
    formulas = _formulas_without_values(path)
    try:
        for ws in wb.worksheets:
            cells = _bounded_rows(path, ws)
            rows = [[_text(c.value) for c in r] for r in cells]
            header_at = next((i for i, r in enumerate(rows[:TEMPLATE_CODE_ROW]) if "indicator_id" in r), None)
            if header_at is None:
                continue  # the 说明 sheet, or anything else without the contract's codes
            if getattr(ws, "sheet_state", "visible") != "visible":
                raise refusal(path, "hidden_sheet", f"{path.name}: sheet {ws.title!r} holds the contract's columns "
                                                    f"but is hidden: unhide it (and check it) or delete it")
            header = rows[header_at]
            cols = {c: j for j, c in enumerate(header) if c}
            uncalculated = [(f"{ws.title}!{r}", header[j - 1]) for r, j in formulas.get(ws.title, [])
                            if r > header_at + 1 and j - 1 < len(header) and header[j - 1]]
            formula_cells += uncalculated
            body = [r + [""] * (len(header) - len(r)) for r in rows[header_at + 1:]]
            df = pd.DataFrame({c: [r[j] for r in body] for c, j in cols.items()}, dtype=str)
            first_line = header_at + 2
            df["_sheet"] = ws.title
            df["_line"] = range(first_line, first_line + len(df))
            for k, r in enumerate(cells[header_at + 1:]):
                percent += [(f"{ws.title}!{first_line + k}", c) for c in NUMBER_COLUMNS
                            if c in cols and cols[c] < len(r) and _is_percent(r[cols[c]])]
            if header_at == TEMPLATE_CODE_ROW - 1:
                keys = [cols.get(c) for c in ("indicator_id", "geography_code", "period")]
                locked += [(ws.title, first_line + k, *(r[j] if j is not None else "" for j in keys))
                           for k, r in enumerate(body) if any(r[j] for j in keys if j is not None)]
                # a template: a row without any figure is a period left as it was
                figures = [c for c in NUMBER_COLUMNS if c in df.columns]
                # (a row whose figure is an uncalculated formula is kept: refused, not "no change")
                keep = df["_line"].isin({int(r.rpartition("!")[2]) for r, _c in uncalculated})
                df = df[keep | df[figures].apply(lambda s: s.str.strip() != "").any(axis=1)] if figures else df.iloc[:0]
            # rows left entirely empty at the bottom of a sheet
            keep = df["_line"].isin({int(r.rpartition("!")[2]) for r, _c in uncalculated})
            df = df[keep | df.drop(columns=["_sheet", "_line"]).apply(lambda s: s.str.strip() != "").any(axis=1)]
            letters[ws.title] = {c: _letter(j + 1) for c, j in cols.items()}
            frames.append(df)
        _check_template_key(path, wb, locked)
    finally:
        wb.close()
    if not frames:
        raise refusal(path, "column_in_dataframe", f"{path.name}: no sheet has the contract's column indicator_id")
    df = pd.concat(frames, ignore_index=True)
    df.attrs["letters"] = letters
    df.attrs["percent_cells"] = percent
    df.attrs["formula_cells"] = formula_cells
    return df


def _check_template_key(path: Path, wb, locked: list) -> None:
    """Refuse a template whose locked cells (indicator, geography, period of each row) are not
    those it was issued with (:data:`helpers.data.template_key.KEY_PROPERTY`). A workbook without the
    key (a plain table, or a template from before keys) is read as it is."""
    import json

    from helpers.data.template_key import KEY_PROPERTY, TEMPLATE_VERSION, locked_digest

    try:
        raw = next((p.value for p in wb.custom_doc_props if p.name == KEY_PROPERTY), None)
    except Exception:  # noqa: BLE001 - a damaged docProps/custom.xml: no key
        raw = None
    if raw is None:
        return
    try:
        key = json.loads(raw)
        want, geo, version = key["locked_sha256"], str(key["geography"]), int(key["version"])
    except (ValueError, KeyError, TypeError):
        raise refusal(path, "template_key", f"{path.name}: the template's key is damaged: download a new "
                                            f"template (ipeval template)") from None
    if version != TEMPLATE_VERSION or locked_digest(locked) != want:
        moved = next((f"{s}!{n} (geography_code {g!r}, issued for {geo})" for s, n, _i, g, _p in locked if g != geo),
                     None)
        raise refusal(path, "template_key", f"{path.name}: a locked cell of the template was changed"
                      + (f": {moved}" if moved else " (indicator, geography or period)")
                      + f"; the template was issued for {geo}, {key.get('quarter')}: fill a new template")


def _bounded_rows(path: Path, ws) -> list:
    """The sheet's rows, its size checked before loading (:data:`MAX_SHEET_ROWS`, columns)."""
    too_big = refusal(path, "sheet_too_large",
                      f"{path.name}: sheet {ws.title!r} is larger than a return can be (more than {MAX_SHEET_ROWS} "
                      f"rows or {MAX_SHEET_COLUMNS} columns, declared {ws.max_row} x {ws.max_column}): delete the "
                      f"unused rows and columns (Ctrl+End shows the last used cell) and save again")
    if (ws.max_row or 0) > MAX_SHEET_ROWS or (ws.max_column or 0) > MAX_SHEET_COLUMNS:
        raise too_big
    out = []
    for r in ws.iter_rows(max_col=min(ws.max_column or MAX_SHEET_COLUMNS, MAX_SHEET_COLUMNS)):
        out.append(list(r))
        if len(out) > MAX_SHEET_ROWS:  # a sheet without a declared size
            raise too_big
    return out


def _formulas_without_values(path: Path) -> dict:
    """``{sheet title: [(row, column number)]}`` of formula cells stored without a calculated value.

    Read with ``data_only`` such a cell is empty, which a template reads as "no change": the
    figure the district typed as ``=A1+B1`` was silently dropped. Only workbooks holding formulas
    at all (an ``<f>`` element in a sheet) are read a second time.
    """
    import re
    import zipfile as zf

    with zf.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml")]
        if not any(re.search(rb"<(\w+:)?f[ >/]", z.read(n)) for n in sheets):
            return {}
    from openpyxl import load_workbook

    out: dict[str, list[tuple[int, int]]] = {}
    f_wb = load_workbook(path, read_only=True, data_only=False)
    v_wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for fws, vws in zip(f_wb.worksheets, v_wb.worksheets):
            if (fws.max_row or 0) > MAX_SHEET_ROWS or (fws.max_column or 0) > MAX_SHEET_COLUMNS:
                continue  # refused by its size when read
            for frow, vrow in zip(fws.iter_rows(max_col=MAX_SHEET_COLUMNS), vws.iter_rows(max_col=MAX_SHEET_COLUMNS)):
                for fc, vc in zip(frow, vrow):
                    if isinstance(fc.value, str) and fc.value.startswith("=") and vc.value in (None, ""):
                        out.setdefault(fws.title, []).append((fc.row, fc.column))
    finally:
        f_wb.close()
        v_wb.close()
    return out


def read_table(path: str | Path, required_columns=None) -> pd.DataFrame:
    """Read a CSV or Excel data file as strings, keeping where each row sits in the file.

    Parameters
    ----------
    path : path
        A ``.csv`` (UTF-8, UTF-8-BOM or GBK/GB18030) or ``.xlsx``/``.xlsm`` file: the contract's
        columns in row 1, or the district template (names in row 1, codes in row 2).
    required_columns : sequence of str, optional
        The contract's columns, put first; the template's columns for people are dropped.

    Returns
    -------
    pandas.DataFrame
        Every cell as a string, plus ``_file``, ``_row`` (``"<sheet>!<n>"`` for workbooks, ``"<n>"``
        for CSV: the row a spreadsheet shows), ``_sheet`` and ``_line``. ``attrs["letters"]`` maps
        each sheet's columns to Excel's letters; ``attrs["percent_cells"]`` lists ``(_row, column)``
        of number cells formatted as a percentage, ``attrs["formula_cells"]`` those holding a formula
        saved without a calculated value (refused by :func:`helpers.data.ingest.intake_failures`).

    Raises
    ------
    DataValidationError
        The file is missing, empty, a folder, of another type, or cannot be decoded or opened;
        the message names the file and the rule.
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(et("data_file_missing", path=path))
    if path.is_dir():
        raise DataValidationError(et("data_file_folder", path=path))
    if path.stat().st_size == 0:
        raise refusal(path, "not_empty", "the file is empty")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = _csv(path)
        elif suffix in EXCEL_SUFFIXES + LEGACY_EXCEL_SUFFIXES:
            df = _xlsx(path)
        else:
            raise refusal(path, "file_type", f"{path.name} is not a CSV or Excel (.xlsx) file")
    except DataValidationError:
        raise
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
        kind = "CSV" if suffix == ".csv" else "Excel"
        raise refusal(path, "file_type", f"{path.name} cannot be read as {kind}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged workbook fails deep in zlib/XML (zlib.error, EOFError):
        # the file's fault, exit 2 naming it, never "this is a bug"
        raise refusal(path, "file_type", f"{path.name} is damaged and cannot be read ({type(exc).__name__}: "
                                         f"{str(exc)[:120]}): save it again from Excel") from None
    attrs = dict(df.attrs)
    if required_columns is not None:
        keep = [c for c in df.columns if c in required_columns or c.startswith("_")]
        df = df[keep + [c for c in df.columns if c not in keep and c not in TEMPLATE_ONLY]]
    df = df.copy().reset_index(drop=True)
    df["_file"] = path.name
    df["_row"] = [f"{s}!{n}" if s else str(n) for s, n in zip(df["_sheet"], df["_line"])]
    if df.empty:
        raise refusal(path, "not_empty", "the file has no data rows")
    df.attrs.update(attrs)
    return df
