"""Validate a frame against the data contract, and say every problem as a user can fix it.

:func:`validate_frame` checks a raw (string) frame with the schema of
:mod:`helpers.data.contract_schema` and returns one row per problem: file, row as a spreadsheet
shows it, column, rule, value and message. :data:`RULES` says which column a user should look at
and what each rule means; a large file is checked in blocks and stops after :data:`MAX_LISTED`
problems, with counts by rule for the rest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandera.errors import SchemaErrors

from helpers.data.contract_schema import (
    DISPLAY_COLUMNS,
    FAILURE_COLUMNS,
    MAX_LISTED,
    REQUIRED_COLUMNS,
    build_schema,
)
from helpers.plan.geography import Geographies
from helpers.plan.registry import Plan


# Which column a user should look at, and what the rule means, for each named check.
RULES = {
    "column_in_dataframe": (None, "the column is missing: the contract needs " + ", ".join(REQUIRED_COLUMNS)),
    "known_indicator": ("indicator_id", "not an indicator id of the plan registry"),
    "known_geography": ("geography_code", "not a geography code of the plan (the geographies file named in the settings)"),
    "period_format": ("period", "a period is a quarter such as 2024Q3 or a year such as 2024"),
    "numeric": (None, "not a number"),
    "finite_number": (None, "an infinite number (inf, 1e309): write the figure itself"),
    "period_in_range": ("period", "outside the periods data may describe: from the plan's first data year "
                                  "(registry plan.data_from) to the last ended quarter"),
    "percent_format": (None, "the cell is formatted as a percentage (shows 45%, holds 0.45): type 45 "
                             "in a cell formatted as a number"),
    "value_required": ("value", "this indicator needs a value"),
    "numerator_and_denominator_required": ("numerator", "a ratio indicator needs a numerator and a denominator (or a value)"),
    "value_not_negative": ("value", "counts and amounts cannot be negative"),
    "numerator_not_negative": ("numerator", "a numerator cannot be negative"),
    "denominator_positive": ("denominator", "a denominator must be above zero (0/0 only where the registry "
                                            "marks the indicator not applicable)"),
    "numerator_not_above_denominator": ("numerator", "the numerator is larger than the denominator of a share"),
    "districts_not_above_city": ("value", "the districts of this indicator and period add up to more than this city "
                                          "figure (a district counted twice, or the city figure too low)"),
    "value_within_unit_range": ("value", "outside the range its unit allows (e.g. a percentage above 100)"),
    "city_only_indicator": ("geography_code", "this indicator is reported for the city (330100) only"),
    "period_matches_frequency": ("period", "annual indicators take a year (2024), quarterly ones a quarter (2024Q3)"),
    "field_uniqueness": (None, "duplicate row: the same indicator, geography and period appear more than once"),
    "multiple_fields_uniqueness": (None, "duplicate row: the same indicator, geography and period appear more than once"),
    "unknown_column": (None, "a column the data contract does not have"),
}


DATAFRAME_RULES = {
    "value_required", "numerator_and_denominator_required", "value_not_negative", "numerator_not_negative",
    "denominator_positive", "numerator_not_above_denominator", "value_within_unit_range", "city_only_indicator",
    "period_matches_frequency", "districts_not_above_city",
}
BUILTIN_RULES = {
    ("isin", "indicator_id"): "known_indicator",
    ("isin", "geography_code"): "known_geography",
    ("str_matches", "period"): "period_format",
}


def _rule_counts(fc: pd.DataFrame) -> dict:
    """Problems by rule over every failure case pandera found (vectorised: there may be millions)."""
    check = fc["check"].astype(str)
    rule = check.str.split("(").str[0]
    rule = rule.where(~check.str.contains("column_in_dataframe"), "column_in_dataframe")
    column = fc["column"].astype(str)
    for (fn, col), name in BUILTIN_RULES.items():
        rule = rule.mask((rule == fn) & (column == col), name)
    home = rule.map(lambda r: RULES[r][0] if r in DATAFRAME_RULES else None)
    keep = home.isna() | (home == column)
    seen = pd.DataFrame({"rule": rule[keep], "column": column[keep], "index": fc["index"][keep].astype(str)})
    return seen.drop_duplicates()["rule"].value_counts().to_dict()


def _failures_from_pandera(err: SchemaErrors, frame: pd.DataFrame, limit: int = MAX_LISTED) -> pd.DataFrame:
    rows = []
    fc = err.failure_cases
    counts = _rule_counts(fc) if len(fc) > limit else None
    for rec in fc.to_dict("records") if counts is None else fc.head(limit * 4).to_dict("records"):
        check = str(rec.get("check") or "")
        # pandera names built-in checks like "isin(...)"/"str_matches(...)" unless named; ours are named.
        rule = check.split("(")[0]
        if rule in ("column_in_schema", "column_in_dataframe") or "column_in_dataframe" in check:
            rule = "column_in_dataframe"
        column = rec.get("column")
        if rule in DATAFRAME_RULES and column != RULES[rule][0]:
            continue  # a dataframe check is reported once per column: keep the column a user should fix
        # pandera labels its built-in checks by function (isin, str_matches), not by our names
        rule = BUILTIN_RULES.get((rule, column), rule)
        default_col, meaning = RULES.get(rule, (None, check))
        idx = rec.get("index")
        has_row = idx is not None and not (isinstance(idx, float) and np.isnan(idx)) and idx in frame.index
        if rule == "column_in_dataframe":
            column = rec.get("failure_case")
            value = ""
        else:
            value = rec.get("failure_case")
            if column in (None, "", frame.attrs.get("schema_name")) or (isinstance(column, float)):
                column = default_col or ""
            if has_row and column in frame.columns:
                value = frame.at[idx, column]
        rows.append({
            "file": frame.at[idx, "_file"] if has_row else frame.attrs.get("file", ""),
            "row": frame.at[idx, "_row"] if has_row else "",
            "column": column or "",
            "rule": rule,
            "value": "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value),
            "message": meaning,
        })
    out = pd.DataFrame(rows, columns=FAILURE_COLUMNS).drop_duplicates().reset_index(drop=True)
    if counts is not None:
        out = out.head(limit)
        out.attrs["counts"] = counts
    return out


#: A large file is checked this many rows at a time, and checking stops once more than
#: :data:`MAX_LISTED` problems were found: describing millions of problems took minutes and
#: gigabytes, and nobody reads past the first thousand.
CHUNK_ROWS = 20_000


def _validate_in_chunks(schema, frame: pd.DataFrame, header_failures: list) -> pd.DataFrame | None:
    """Check ``frame`` block by block; the failures with counts by rule if more than
    :data:`MAX_LISTED` were found (checking stopped), else None (the whole frame is then checked
    at once, for the rules that compare rows, such as duplicates and districts against the city)."""
    listed = [pd.DataFrame(header_failures, columns=FAILURE_COLUMNS)]
    counts: dict = {}
    for f in header_failures:
        counts[f["rule"]] = counts.get(f["rule"], 0) + 1
    n = 0
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start:start + CHUNK_ROWS]
        try:
            schema.validate(part[list(REQUIRED_COLUMNS)].copy(), lazy=True)
        except SchemaErrors as err:
            f = _failures_from_pandera(err, part)
            for k, v in (f.attrs.get("counts") or f["rule"].value_counts().to_dict()).items():
                counts[k] = counts.get(k, 0) + v
            listed.append(f)
            n += len(f)
        if sum(counts.values()) > MAX_LISTED:
            out = pd.concat(listed, ignore_index=True).head(MAX_LISTED)
            out.attrs["counts"] = counts
            out.attrs["stopped_at"] = str(part["_row"].iloc[-1])
            return out
    return None


def validate_frame(frame: pd.DataFrame, plan: Plan, geos: Geographies) -> pd.DataFrame:
    """Validate a raw (string) frame; return the failures (empty when the data are valid).

    Returns
    -------
    pandas.DataFrame
        Columns ``file, row, column, rule, value, message``; one row per problem.
    """
    schema = build_schema(plan, geos)
    failures = []
    unknown = [c for c in frame.columns if not c.startswith("_") and c not in REQUIRED_COLUMNS and c not in DISPLAY_COLUMNS]
    for c in unknown:
        failures.append({"file": frame["_file"].iloc[0], "row": 1, "column": c, "rule": "unknown_column",
                         "value": c, "message": RULES["unknown_column"][1]})
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    for c in missing:
        failures.append({"file": frame["_file"].iloc[0], "row": 1, "column": c, "rule": "column_in_dataframe",
                         "value": "", "message": RULES["column_in_dataframe"][1]})
    if missing:
        # Row checks need every column; report the header problems alone rather than noise.
        return pd.DataFrame(failures, columns=FAILURE_COLUMNS)
    rows = dict(zip(frame["_row"], frame.index))
    for row, col in frame.attrs.get("percent_cells", []):
        idx = rows.get(row)
        failures.append({"file": frame["_file"].iloc[0], "row": row, "column": col, "rule": "percent_format",
                         "value": "" if idx is None else str(frame.at[idx, col]),
                         "message": RULES["percent_format"][1]})
    if len(frame) > CHUNK_ROWS:
        stopped = _validate_in_chunks(schema, frame, failures)
        if stopped is not None:
            return stopped
    try:
        schema.validate(frame[list(REQUIRED_COLUMNS)].copy(), lazy=True)
    except SchemaErrors as err:
        pandera_failures = _failures_from_pandera(err, frame)
        out = pd.concat([pd.DataFrame(failures, columns=FAILURE_COLUMNS), pandera_failures], ignore_index=True)
        if "counts" in pandera_failures.attrs:
            counts = dict(pandera_failures.attrs["counts"])
            for f in failures:
                counts[f["rule"]] = counts.get(f["rule"], 0) + 1
            out.attrs["counts"] = counts
        return out
    return pd.DataFrame(failures, columns=FAILURE_COLUMNS)
