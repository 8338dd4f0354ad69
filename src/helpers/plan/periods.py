"""Quarters and years, the two kinds of period the data contract allows.

A period is written ``2024Q3`` (a quarter) or ``2024`` (a calendar year). Internally a quarter is
a :class:`Quarter`; a year is its fourth quarter for ordering ("the value for 2024 is known once
2024Q4 has ended").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from helpers.exceptions import InvalidPeriodError
from helpers.i18n import et

QUARTER_RE = re.compile(r"^(?P<year>\d{4})Q(?P<q>[1-4])$")
YEAR_RE = re.compile(r"^(?P<year>\d{4})$")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, e.g. ``Quarter(2025, 2)`` for 2025Q2."""

    year: int
    q: int

    def __post_init__(self):
        if not (1 <= self.q <= 4) or not (MIN_YEAR <= self.year <= MAX_YEAR):
            raise InvalidPeriodError(et("quarter_invalid", q=f"{self.year}Q{self.q}", lo=MIN_YEAR, hi=MAX_YEAR))

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """Parse ``'2024Q3'``; raise :class:`InvalidPeriodError` with the expected form otherwise."""
        m = QUARTER_RE.match(str(text).strip())
        if not m:
            raise InvalidPeriodError(et("quarter_format", text=repr(text)))
        return cls(int(m["year"]), int(m["q"]))

    @classmethod
    def from_index(cls, index: int) -> "Quarter":
        """Inverse of :attr:`index`."""
        return cls(index // 4, index % 4 + 1)

    @classmethod
    def containing(cls, day: date) -> "Quarter":
        """The quarter that ``day`` falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def index(self) -> int:
        """A running number: consecutive quarters differ by one."""
        return self.year * 4 + self.q - 1

    def __add__(self, n: int) -> "Quarter":
        return Quarter.from_index(self.index + int(n))

    def __sub__(self, other):
        if isinstance(other, Quarter):
            return self.index - other.index
        return Quarter.from_index(self.index - int(other))

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def end_date(self) -> date:
        """The last day of the quarter."""
        month = self.q * 3
        day = 31 if month in (3, 12) else 30
        return date(self.year, month, day)


def quarter_range(first: Quarter, last: Quarter) -> list[Quarter]:
    """Every quarter from ``first`` to ``last`` inclusive."""
    return [Quarter.from_index(i) for i in range(first.index, last.index + 1)]


def parse_period(text) -> tuple[str, int, int]:
    """Parse a data period.

    Returns
    -------
    (kind, year, quarter)
        ``('quarter', 2024, 3)`` for ``2024Q3``; ``('year', 2024, 4)`` for ``2024`` (a year is
        ordered as its fourth quarter).
    """
    s = str(text).strip()
    if s.endswith(".0"):  # Excel turns a year typed as 2024 into the float 2024.0
        s = s[:-2]
    m = QUARTER_RE.match(s)
    if m:
        return "quarter", int(m["year"]), int(m["q"])
    m = YEAR_RE.match(s)
    if m and MIN_YEAR <= int(m["year"]) <= MAX_YEAR:
        return "year", int(m["year"]), 4
    raise InvalidPeriodError(et("period_format", text=repr(text)))


def latest_complete_quarter(today: date | None = None) -> Quarter:
    """The last quarter that has ended by ``today`` (default: today)."""
    return Quarter.containing(today or date.today()) - 1
