"""Load and validate district data (the data contract, ``docs/data_contract.md``).

The contract is a long table, CSV or Excel (.xlsx), one row per indicator, geography and period:

====================  ==========================================================================
column                meaning
====================  ==========================================================================
``indicator_id``      an id from the plan registry
``geography_code``    330100 (Hangzhou) or a district/county code from ``params/geographies.yaml``
``period``            a quarter (``2024Q3``) or, for annual indicators, a year (``2024``)
``value``             the figure; for ratio indicators it may be left empty
``numerator``         ratio indicators only: the numerator
``denominator``       ratio indicators only: the denominator
``source``            where the figure comes from
``note``              anything the reader should know (revisions, estimates)
====================  ==========================================================================

Validation uses pandera (lazy, so every failure is reported at once); each failure names the
file, the row as a spreadsheet shows it, the column and the rule. :func:`load_data` raises
:class:`DataValidationError` carrying the full table; nothing downstream runs on invalid data.

This module reads files and types the rows; the schema is :mod:`helpers.data.contract_schema`,
the checking and the wording of its problems :mod:`helpers.data.validation` (their names are
re-exported here).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.data.contract_schema import (  # noqa: F401 - re-exported: helpers.data.contract.build_schema, ...
    DISPLAY_COLUMNS,
    FAILURE_COLUMNS,
    MAX_LISTED,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    SUM_TOLERANCE,
    _blank,
    _num,
    build_schema,
)
from helpers.data.validation import (  # noqa: F401 - re-exported: helpers.data.contract.validate_frame, ...
    BUILTIN_RULES,
    CHUNK_ROWS,
    DATAFRAME_RULES,
    RULES,
    _failures_from_pandera,
    _rule_counts,
    _validate_in_chunks,
    validate_frame,
)
from helpers.exceptions import DataValidationError, format_failures  # noqa: F401 - re-exported
from helpers.files import sha256_file
from helpers.i18n import et
from helpers.plan.geography import Geographies
from helpers.data.readers import EXCEL_SUFFIXES, read_table  # noqa: F401 - EXCEL_SUFFIXES re-exported
from helpers.plan.registry import Plan


@dataclass(frozen=True)
class Dataset:
    """Validated data: the rows as a typed frame, plus where they came from."""

    frame: pd.DataFrame
    paths: tuple[Path, ...]
    sha256: str


# --------------------------------------------------------------------------- reading

def _read_one(path: Path) -> pd.DataFrame:
    """Read a CSV or Excel file as strings: contract sheets or the district template, CSV in UTF-8,
    UTF-8-BOM, GBK or GB18030 (:func:`helpers.data.readers.read_table`, the one reader of data files)."""
    return read_table(path, REQUIRED_COLUMNS)


def _one_failure(path, row, column, rule, value, message) -> str:
    """A message for problems found before row-level validation (not a table)."""
    return f"{path}: {message} [rule: {rule}]"


# --------------------------------------------------------------------------- typed data

def _typed(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    df = pd.DataFrame({
        "indicator_id": frame["indicator_id"].astype(str).str.strip(),
        "geography_code": frame["geography_code"].astype(str).str.strip(),
        "period": frame["period"].astype(str).str.strip().str.replace(r"\.0$", "", regex=True),
        "value": _num(frame["value"]),
        "numerator": _num(frame["numerator"]),
        "denominator": _num(frame["denominator"]),
        "source": frame["source"].astype(str),
        "note": frame["note"].astype(str),
    })
    year = df["period"].str.slice(0, 4).astype(int)
    q = df["period"].str.extract(r"Q([1-4])$")[0].fillna("4").astype(int)
    df["year"], df["quarter"] = year, q
    df["qindex"] = year * 4 + q - 1
    scale = df["indicator_id"].map({i.id: i.scale for i in plan.indicators})
    computed = df["numerator"] / df["denominator"] * scale
    df["value"] = df["value"].where(df["value"].notna(), computed)
    return df.sort_values(["indicator_id", "geography_code", "qindex"]).reset_index(drop=True)


def load_data(paths, plan: Plan, geos: Geographies) -> Dataset:
    """Read and validate one or more data files.

    Parameters
    ----------
    paths : path or list of paths
        CSV or .xlsx files following the data contract.
    plan, geos
        The registry and geographies the data are checked against.

    Returns
    -------
    Dataset

    Raises
    ------
    DataValidationError
        With ``.failures``: every problem, each with file, row, column and rule.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = tuple(Path(p) for p in paths)
    frames, failures, counts, stopped = [], [], [], []
    for p in paths:
        raw = _read_one(p)
        f = validate_frame(raw, plan, geos)
        failures.append(f)
        counts.append(f.attrs.get("counts") or f["rule"].value_counts().to_dict())
        if "stopped_at" in f.attrs:
            stopped.append(et("data_stopped_at", file=p.name, row=f.attrs["stopped_at"]))
        frames.append(raw)
    failures = pd.concat(failures, ignore_index=True)
    raw_all = pd.concat(frames, ignore_index=True)
    if failures.empty and len(paths) > 1:
        dup = raw_all.duplicated(["indicator_id", "geography_code", "period"], keep=False)
        if dup.any():
            failures = raw_all.loc[dup, ["_file", "_row", "indicator_id"]].rename(
                columns={"_file": "file", "_row": "row", "indicator_id": "value"})
            failures = failures.assign(column="indicator_id", rule="duplicate_across_files",
                                       message="this indicator, geography and period is also in another file")
            failures = failures[FAILURE_COLUMNS]
    if not failures.empty:
        n_files = failures["file"].nunique()
        total = sum(sum(c.values()) for c in counts)
        if total > len(failures) or len(failures) > MAX_LISTED:
            by_rule: dict = {}
            for c in counts:
                for k, v in c.items():
                    by_rule[k] = by_rule.get(k, 0) + v
            total = max(total, len(failures))
            listed = failures.head(MAX_LISTED).reset_index(drop=True)
            summary = ", ".join(f"{k}: {v}" for k, v in sorted(by_rule.items(), key=lambda kv: -kv[1]))
            where = et("data_checking_stopped", max=MAX_LISTED, at=", ".join(stopped)) if stopped else ""
            raise DataValidationError(et("data_problems_stopped" if stopped else "data_problems_many", total=total,
                                         n_files=n_files, where=where, listed=len(listed), summary=summary), listed)
        raise DataValidationError(et("data_problems", n=len(failures), n_files=n_files),
                                  failures.reset_index(drop=True))
    digest = hashlib.sha256("".join(sha256_file(p) for p in paths).encode()).hexdigest()
    return Dataset(_typed(raw_all, plan), paths, digest)
