"""Times as the observation store writes them (UTC, to the second), and ``--as-of`` read and checked.

``2026-12-02T00:47:15Z`` sorts as it reads, so the store compares times as text: the view as known
at a time is every vintage received at or before it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd

from helpers.exceptions import ConfigError, InvalidPeriodError
from helpers.i18n import et


def utc_now() -> str:
    """Now, UTC, to the second, as the store writes times (``2026-12-02T00:47:15Z``)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_as_of(text: str | datetime | None) -> str | None:
    """``2025-07-25`` (the end of that day, UTC) or an ISO time -> the store's time format."""
    if text is None or text == "":
        return None
    if isinstance(text, datetime):
        t = text
    else:
        s = str(text).strip()
        try:
            t = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(et("asof_not_a_date", text=repr(s))) from None
        if len(s) == 10:  # a date alone: everything received that day
            t = t.replace(hour=23, minute=59, second=59)
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    utc: datetime | None
    try:
        utc = t.astimezone(timezone.utc)
    except OverflowError:  # 0001-01-01T00:00+14:00 has no UTC time
        utc = None
    if utc is None or utc.year < 1970:
        # before the store's first possible vintage (the seed counts from 1970); and strftime
        # writes year 999 as '999', which sorts after every real time: it would return every row
        raise InvalidPeriodError(et("asof_before_1970", text=str(text)))
    return f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z"


def check_as_of(as_of: str | None, vintages: pd.DataFrame) -> None:
    """Refuse an as-of time outside the data's range: in the future (a quarter not yet over would
    look known), or before the first file was received (exit 2, before anything is read)."""
    if as_of is None:
        return
    if as_of > utc_now():
        raise InvalidPeriodError(et("asof_future", as_of=as_of, now=utc_now()))
    if len(vintages) and as_of < str(vintages["received_at"].min()):
        raise InvalidPeriodError(et("asof_before_first", as_of=as_of, first=vintages["received_at"].min()))
