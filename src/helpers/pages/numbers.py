"""Every number the reports derive, and the one way they are printed.

One formatter (:func:`fmt_number`) for the HTML pages, the Word/PDF documents and the workbook
(:func:`excel_format`), with the decimals set by the unit (counts whole, % one decimal, ...), so
"67" never stands beside "67.3" and 15.96 and 11.65 round the same way (half up, on the decimal
written, not on the binary float: 11.65 -> "11.7" at one decimal, where ``f"{11.65:.1f}"`` gives
"11.6").

The derived numbers are pure functions with known-answer tests (tests/test_numbers.py): the pace
a target needs against the pace observed, in the same years; the gap of a missed target; growth
on a published base; ranks with ties shared; differences of rates in percentage points.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

# Units counted in whole things: printed without decimals.
WHOLE_UNITS = frozenset({"件", "人", "人次", "户", "家", "次", "项", "份", "单", "名", "个", "天", "日",
                         "cases", "people", "person-times", "households", "firms", "times", "items",
                         "copies", "orders", "persons", "days"})
# Units printed with more than one decimal (the published figures carry two).
UNIT_DECIMALS = {"%": 1, "件/万人": 2, "亿元": 2, "万元": 0, "分": 1, "件/百户": 1, "个百分点": 1}
# the registry's English units, printed as their Chinese units are (an English report showed "27,089.0 patents")
WHOLE_UNITS |= {"patents", "standards", "registrations", "applications", "deals", "enterprises", "events",
                "meetings", "organisations", "reports"}
UNIT_DECIMALS.update({"100 million yuan": 2, "10,000 yuan": 0, "patents per 10,000 residents": 2,
                      "trademarks per 100 enterprises": 1, "points": 1, "percentage points": 1})
DEFAULT_DECIMALS = 1


def _finite(x) -> float | None:
    """``x`` as a finite float, else None (None, NaN, '', text that is not a number)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def decimals_for(unit: str | None) -> int:
    """How many decimals a value in ``unit`` is printed with (0 for counts, 1 for %, ...)."""
    u = (unit or "").strip()
    if u in UNIT_DECIMALS:
        return UNIT_DECIMALS[u]
    if u in WHOLE_UNITS:
        return 0
    return DEFAULT_DECIMALS


def round_half_up(x: float, digits: int) -> float:
    """``x`` rounded half up at ``digits`` decimals, on its shortest decimal representation."""
    q = Decimal(1).scaleb(-digits)
    return float(Decimal(repr(float(x))).quantize(q, rounding=ROUND_HALF_UP))


def fmt_number(x, unit: str | None = None, digits: int | None = None, missing: str = "—") -> str:
    """A number as every report prints it: thousands separated, decimals by unit, half up.

    Parameters
    ----------
    x : number or None
        NaN, None and non-numbers print as ``missing``.
    unit : str, optional
        The indicator's unit (``件``, ``%``, ``亿元`` ...); sets the decimals (:func:`decimals_for`).
    digits : int, optional
        Decimals, overriding the unit's.

    Examples
    --------
    >>> fmt_number(1147, "人次"), fmt_number(11.65, "%"), fmt_number(67, "%"), fmt_number(None)
    ('1,147', '11.7', '67.0', '—')
    """
    v = _finite(x)
    if v is None:
        return missing
    d = decimals_for(unit) if digits is None else digits
    r = round_half_up(v, d)
    if r == 0:
        r = 0.0  # no "-0.0"
    return f"{r:,.{d}f}"


def excel_format(unit: str | None = None, digits: int | None = None) -> str:
    """The workbook number format matching :func:`fmt_number` (``#,##0`` never shows "80.")."""
    d = decimals_for(unit) if digits is None else digits
    return "#,##0" if d == 0 else "#,##0." + "0" * d


def fmt_pct(share, digits: int = 0, missing: str = "—") -> str:
    """A share (0..1) as a percentage without the sign: 0.553 -> '55' (digits=0)."""
    v = _finite(share)
    return missing if v is None else fmt_number(v * 100, digits=digits)


def pct_point_diff(a, b) -> float:
    """``a - b`` for two rates in %, in percentage points (个百分点); NaN if either is missing."""
    va, vb = _finite(a), _finite(b)
    return math.nan if va is None or vb is None else va - vb


def fmt_pct_points(a, b, lang: str = "zh") -> str:
    """The difference of two rates in % as text: '3.8个百分点' (never '3.8%')."""
    d = pct_point_diff(a, b)
    if not math.isfinite(d):
        return "—"
    return f"{fmt_number(abs(d), digits=1)}{'个百分点' if lang == 'zh' else ' percentage points'}"


# --------------------------------------------------------------------------- paces

def period_time(period: str) -> float:
    """A period as a decimal year at its middle: '2022' -> 2022.5, '2025Q4' -> 2025.875.

    Values of one series are placed the same way, so a pace between two of them, and the pace
    from one of them to a target dated in the same kind of period, count the same years.
    """
    p = str(period).strip()
    if "Q" in p:
        year, q = p.split("Q")
        return int(year) + (int(q) - 0.5) / 4
    return int(p[:4]) + 0.5


def due_time(due_year: int, due_quarter: int, annual: bool) -> float:
    """The time of a target's due period in the series' own convention.

    An annual series is judged on the due year's value (its middle, ``year + 0.5``); a quarterly
    one on the due quarter's.
    """
    return due_year + 0.5 if annual else due_year + (due_quarter - 0.5) / 4


def required_pace(value_from, time_from: float, target, time_due: float) -> float:
    """The yearly change needed to go from ``value_from`` (at ``time_from``) to ``target`` by ``time_due``.

    NaN when no time is left or a value is missing.

    Examples
    --------
    Base 2022 (annual, 2022.5) to a 2025 target (2025.5): three years, as the observed pace counts.

    >>> required_pace(10_000, 2022.5, 14_554, 2025.5)
    1518.0
    """
    v0, tgt = _finite(value_from), _finite(target)
    if v0 is None or tgt is None or not time_due > time_from:
        return math.nan
    return (tgt - v0) / (time_due - time_from)


def observed_pace(value_from, time_from: float, value_now, time_now: float) -> float:
    """The yearly change observed from ``value_from`` (at ``time_from``) to ``value_now`` (at ``time_now``)."""
    v0, v1 = _finite(value_from), _finite(value_now)
    if v0 is None or v1 is None or not time_now > time_from:
        return math.nan
    return (v1 - v0) / (time_now - time_from)


# --------------------------------------------------------------------------- gaps, growth, ranks

def shortfall(value, target, direction: str = "at_least") -> float:
    """How far ``value`` falls short of ``target`` (0 when it meets it; NaN when missing)."""
    v, tgt = _finite(value), _finite(target)
    if v is None or tgt is None:
        return math.nan
    return max(tgt - v, 0.0) if direction == "at_least" else max(v - tgt, 0.0)


def missed_gap(values_by_year: dict, target, direction: str = "at_least") -> float:
    """The gap of a missed every-year target: the largest shortfall of any year (never 0 for a miss).

    ``values_by_year`` maps a year to the judged measure of that year (the year's total or rate);
    the last year may meet the target while an earlier one did not, and the gap shown is then the
    earlier year's, not the last year's 0.
    """
    gaps = [shortfall(v, target, direction) for v in values_by_year.values()]
    gaps = [g for g in gaps if math.isfinite(g)]
    return max(gaps) if gaps else math.nan


def growth(value_now, value_before, published_base=None) -> float:
    """The growth of ``value_now`` over the year before, on the published base where one exists.

    A publication's growth rate is computed on its own base (e.g. the previous year's figure as
    published then), which may differ from the series' value; using it keeps the report's growth
    equal to the one the publication quotes.

    Examples
    --------
    >>> round(growth(155.3, 110.2, published_base=100.0), 3)
    0.553
    """
    base = _finite(published_base)
    if base is None:
        base = _finite(value_before)
    v = _finite(value_now)
    if v is None or base is None or base == 0:
        return math.nan
    return v / base - 1


def shared_ranks(values, higher_is_better: bool = True) -> list:
    """Competition ranks (1, 1, 3, ...) of ``values``: equal values share the better rank.

    Missing values get None. 13 districts all at 100% all rank 1.

    Examples
    --------
    >>> shared_ranks([100, 100, 90, None])
    [1, 1, 3, None]
    """
    vals = [_finite(v) for v in values]
    present = [v for v in vals if v is not None]
    out: list[int | None] = []
    for v in vals:
        if v is None:
            out.append(None)
        elif higher_is_better:
            out.append(1 + sum(w > v for w in present))
        else:
            out.append(1 + sum(w < v for w in present))
    return out


def yearly_rates(rows, scale: float = 100.0) -> dict:
    """``{year: sum(numerator) / sum(denominator) x scale}`` from quarterly (or yearly) rows.

    A rate target is judged on the year's rate; a year's change of the rate is the change of
    these, never of one quarter's rate. ``rows`` is an iterable of (period, numerator, denominator).
    """
    num: dict = {}
    den: dict = {}
    for period, n, d in rows:
        n, d = _finite(n), _finite(d)
        if n is None or d is None:
            continue
        y = int(str(period)[:4])
        num[y] = num.get(y, 0.0) + n
        den[y] = den.get(y, 0.0) + d
    return {y: num[y] / den[y] * scale for y in sorted(num) if den[y]}
