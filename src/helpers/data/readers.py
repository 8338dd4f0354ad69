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


def read_csv_text(path: Path, **kwargs) -> pd.DataFrame:
    """A CSV read as strings, decoded with the first of :data:`CSV_ENCODINGS` that fits."""
    last = None
    for enc in CSV_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, **kwargs)
        except UnicodeDecodeError as exc:
            last = exc
    raise refusal(path, "encoding", f"{path.name} is neither UTF-8 nor GBK/GB18030 text "
                                    f"(byte {last.start}): save it again as CSV UTF-8 or as .xlsx")


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


def percent_cells(path: Path, sheets: list[str]) -> dict[str, list[tuple[int, str]]]:
    """Per sheet, the (spreadsheet row, column name) of number cells formatted as a percentage."""
    from openpyxl import load_workbook

    out: dict[str, list[tuple[int, str]]] = {}
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        for name in sheets:
            ws = wb[name]
            rows = ws.iter_rows()
            header = next(rows, None)
            if header is None:
                continue
            cols = {n: str(c.value).strip() for n, c in enumerate(header) if str(c.value).strip() in NUMBER_COLUMNS}
            found = []
            for r, row in enumerate(rows, start=2):
                for n, col in cols.items():
                    if n < len(row):
                        c = row[n]
                        if isinstance(c.value, (int, float)) and "%" in str(getattr(c, "number_format", "") or ""):
                            found.append((r, col))
            if found:
                out[name] = found
    finally:
        wb.close()
    return out


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Excel data file as strings, with ``_file`` and ``_row`` (the row a spreadsheet shows).

    Parameters
    ----------
    path : path
        A ``.csv`` (UTF-8 or GBK/GB18030) or ``.xlsx``/``.xlsm`` file.

    Returns
    -------
    pandas.DataFrame
        Every cell as a string; ``_row`` is ``"<sheet>!<n>"`` for workbooks. ``attrs["percent_cells"]``
        lists ``(_row, column)`` of cells formatted as a percentage.

    Raises
    ------
    DataValidationError
        The file is missing, empty, a folder, of another type, or cannot be decoded or opened;
        the message names the file and the rule.
    """
    path = Path(path)
    if not path.exists():
        raise DataValidationError(f"data file {path} does not exist")
    if path.is_dir():
        raise DataValidationError(f"{path} is a folder; give a CSV or .xlsx file")
    if path.stat().st_size == 0:
        raise refusal(path, "not_empty", "the file is empty")
    suffix = path.suffix.lower()
    percent: list[tuple[str, str]] = []
    try:
        if suffix == ".csv":
            frames = [("", read_csv_text(path))]
        elif suffix in EXCEL_SUFFIXES + LEGACY_EXCEL_SUFFIXES:
            check_workbook(path)
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl")
            # The template has a read-me sheet; data sheets are those with an indicator_id column.
            frames = [(name, df) for name, df in sheets.items() if "indicator_id" in df.columns]
            if not frames:
                frames = list(sheets.items())[:1]
            for name, cells in percent_cells(path, [n for n, _ in frames]).items():
                percent += [(f"{name}!{r}", c) for r, c in cells]
            frames = [(f"{name}!", df) for name, df in frames]
        else:
            raise refusal(path, "file_type", f"{path.name} is not a CSV or Excel (.xlsx) file")
    except DataValidationError:
        raise
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError, KeyError, zipfile.BadZipFile) as exc:
        kind = "CSV" if suffix == ".csv" else "Excel"
        raise refusal(path, "file_type", f"{path.name} cannot be read as {kind}: {exc}") from None
    out = []
    for prefix, df in frames:
        df = df.copy()
        df.columns = [str(c).strip() for c in df.columns]
        df["_file"] = path.name
        df["_row"] = [f"{prefix}{i + 2}" for i in range(len(df))]  # +2: header is row 1
        out.append(df)
    frame = pd.concat(out, ignore_index=True)
    if frame.empty:
        raise refusal(path, "not_empty", "the file has no data rows")
    frame.attrs["percent_cells"] = percent
    return frame
