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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from helpers.exceptions import DataValidationError, format_failures  # noqa: F401 - re-exported
from helpers.files import sha256_file
from helpers.plan.geography import Geographies
from helpers.data.readers import EXCEL_SUFFIXES, read_table  # noqa: F401 - EXCEL_SUFFIXES re-exported
from helpers.plan.periods import QUARTER_RE, YEAR_RE, latest_complete_quarter
from helpers.plan.registry import Plan

REQUIRED_COLUMNS = ("indicator_id", "geography_code", "period", "value", "numerator", "denominator", "source", "note")
NUMERIC_COLUMNS = ("value", "numerator", "denominator")
# Columns the Excel template adds for people; accepted and ignored on load.
DISPLAY_COLUMNS = ("indicator_name", "geography_name", "unit", "指标名称", "地区", "单位")
FAILURE_COLUMNS = ["file", "row", "column", "rule", "value", "message"]
#: Problems listed one by one; beyond, only their counts by rule (a file of millions of bad rows
#: must not take minutes and gigabytes to describe).
MAX_LISTED = 1000


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


# --------------------------------------------------------------------------- the schema

def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.astype(str).str.replace(",", "", regex=False).str.strip().replace("", np.nan),
                         errors="coerce")


def _blank(s: pd.Series) -> pd.Series:
    return s.astype(str).str.strip().eq("")


#: How far the districts of a summed count may exceed the city figure before it is an error:
#: 0.1%, the rounding of 13 parts reported in whole units or one decimal.
SUM_TOLERANCE = 0.001


def build_schema(plan: Plan, geos: Geographies) -> pa.DataFrameSchema:
    """The pandera schema of the data contract for this plan and these geographies.

    Row-level rules that involve several columns (a rate within its unit's range, numerator above
    denominator, a city-only indicator reported for a district) are dataframe checks named after
    the rule; :func:`validate_frame` maps them back to the column a user should fix.
    """
    ind = {i.id: i for i in plan.indicators}
    city_only = {i.id for i in plan.indicators if i.city_only}
    annual = {i.id for i in plan.indicators if i.frequency == "annual"}
    ratio = {i.id for i in plan.indicators if i.uses_ratio}
    share = {i.id for i in plan.indicators if i.numerator_le_denominator}
    # "not applicable" ratios (registry: zero_denominator) may be 0/0: nothing to count there
    zero_ok = {i.id for i in plan.indicators if i.allows_zero_over_zero}
    lower = {i.id: i.bounds[0] for i in plan.indicators}
    upper = {i.id: i.bounds[1] for i in plan.indicators}
    scale = {i.id: i.scale for i in plan.indicators}
    city_code = geos.city.code
    summed = {i.id for i in plan.indicators if i.aggregation == "sum"}
    district_codes = [g.code for g in geos.districts]

    def numeric_or_blank(s: pd.Series) -> pd.Series:
        return _blank(s) | _num(s).notna()

    def finite(s: pd.Series) -> pd.Series:
        # "inf", "-inf" and 1e309 parse as numbers; an infinite denominator would become a value of 0
        v = _num(s)
        return v.isna() | np.isfinite(v)

    first, last = plan.data_from, latest_complete_quarter()

    def period_in_range(s: pd.Series) -> pd.Series:
        p = s.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
        m = p.str.extract(r"^(\d{4})(?:Q([1-4]))?$")
        ok = m[0].notna()
        year = pd.to_numeric(m[0], errors="coerce")
        q = pd.to_numeric(m[1], errors="coerce").fillna(4)
        idx = year * 4 + q - 1
        return ~ok | ((idx >= first.index) & (idx <= last.index))

    def value_present(df):
        needs_value = ~df["indicator_id"].isin(ratio)
        return ~needs_value | ~_blank(df["value"])

    def parts_present(df):
        is_ratio = df["indicator_id"].isin(ratio)
        return ~is_ratio | (~_blank(df["numerator"]) & ~_blank(df["denominator"])) | ~_blank(df["value"])

    def not_negative(col):
        return lambda df: ~(_num(df[col]) < 0)

    def denominator_positive(df):
        n, d = _num(df["numerator"]), _num(df["denominator"])
        not_applicable = df["indicator_id"].isin(zero_ok) & (d == 0) & (n == 0)
        return ~(df["indicator_id"].isin(ratio) & d.notna() & (d <= 0) & ~not_applicable)

    def numerator_le_denominator(df):
        n, d = _num(df["numerator"]), _num(df["denominator"])
        return ~(df["indicator_id"].isin(share) & (d > 0) & (n > d))

    def within_bounds(df):
        v = _num(df["value"])
        n, d = _num(df["numerator"]), _num(df["denominator"])
        k = df["indicator_id"].map(scale).astype(float)
        v = v.where(v.notna(), n / d.where(d > 0) * k)
        lo = pd.to_numeric(df["indicator_id"].map(lower), errors="coerce")
        hi = pd.to_numeric(df["indicator_id"].map(upper), errors="coerce")
        return ~((v < lo) | (v > hi))

    def geography_allowed(df):
        return ~(df["indicator_id"].isin(city_only) & (df["geography_code"].astype(str) != city_code))

    def period_matches_frequency(df):
        p = df["period"].astype(str).str.strip()
        is_annual = df["indicator_id"].isin(annual)
        is_year = p.str.match(YEAR_RE.pattern)
        is_quarter = p.str.match(QUARTER_RE.pattern)
        return ~((is_annual & is_quarter) | (~is_annual & df["indicator_id"].isin(ind) & is_year))

    def districts_not_above_city(df):
        # the city row of a summed count fails when its districts add up to more: a district
        # counted twice, or a city figure too low. The city may exceed the sum (municipal bodies'
        # own work belongs to no district); the tolerance absorbs rounding of the parts.
        ids = df["indicator_id"].astype(str).str.strip()
        geo = df["geography_code"].astype(str).str.strip()
        per = df["period"].astype(str).str.strip()
        v = _num(df["value"])
        parts = ids.isin(summed) & geo.isin(district_codes) & v.notna()
        totals = v[parts].groupby([ids[parts], per[parts]]).sum()
        district_total = pd.Series(totals.reindex(pd.MultiIndex.from_arrays([ids, per])).to_numpy(), index=df.index)
        city = ids.isin(summed) & (geo == city_code) & v.notna()
        return ~(city & (district_total > v * (1 + SUM_TOLERANCE) + 1e-9))

    str_col = dict(dtype=str, nullable=True, coerce=True)
    return pa.DataFrameSchema(
        columns={
            "indicator_id": pa.Column(str, pa.Check.isin(sorted(ind), name="known_indicator"), coerce=True),
            "geography_code": pa.Column(str, pa.Check.isin(geos.codes, name="known_geography"), coerce=True),
            "period": pa.Column(str, [pa.Check.str_matches(r"^\d{4}(Q[1-4])?$", name="period_format"),
                                      pa.Check(period_in_range, name="period_in_range")], coerce=True),
            "value": pa.Column(checks=[pa.Check(numeric_or_blank, name="numeric"),
                                       pa.Check(finite, name="finite_number")], **str_col),
            "numerator": pa.Column(checks=[pa.Check(numeric_or_blank, name="numeric"),
                                           pa.Check(finite, name="finite_number")], **str_col),
            "denominator": pa.Column(checks=[pa.Check(numeric_or_blank, name="numeric"),
                                             pa.Check(finite, name="finite_number")], **str_col),
            "source": pa.Column(**str_col),
            "note": pa.Column(**str_col),
        },
        checks=[
            pa.Check(value_present, name="value_required"),
            pa.Check(parts_present, name="numerator_and_denominator_required"),
            pa.Check(not_negative("value"), name="value_not_negative"),
            pa.Check(not_negative("numerator"), name="numerator_not_negative"),
            pa.Check(denominator_positive, name="denominator_positive"),
            pa.Check(numerator_le_denominator, name="numerator_not_above_denominator"),
            pa.Check(within_bounds, name="value_within_unit_range"),
            pa.Check(geography_allowed, name="city_only_indicator"),
            pa.Check(period_matches_frequency, name="period_matches_frequency"),
            pa.Check(districts_not_above_city, name="districts_not_above_city"),
        ],
        unique=["indicator_id", "geography_code", "period"],
        report_duplicates="all",
        strict=False,
        name="ipeval data contract",
    )


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
            stopped.append(f"{p.name} row {f.attrs['stopped_at']}")
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
            where = f"checking stopped after {MAX_LISTED} at {', '.join(stopped)}; " if stopped else ""
            raise DataValidationError(
                f"{'more than ' if stopped else ''}{total} problem(s) in {n_files} file(s); nothing was run; "
                f"{where}the first {len(listed)} are listed; by rule: {summary}", listed)
        raise DataValidationError(
            f"{len(failures)} problem(s) in {n_files} file(s); nothing was run", failures.reset_index(drop=True))
    digest = hashlib.sha256("".join(sha256_file(p) for p in paths).encode()).hexdigest()
    return Dataset(_typed(raw_all, plan), paths, digest)
