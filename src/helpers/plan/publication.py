"""Publication lag: when the figure of each indicator and period can be known.

The registry's ``publication:`` block gives each indicator's ``published_lag_months`` (default by
frequency). A period's figure is available on the 15th of the month that many months after the
period's last month (the 15th is when districts' returns are due): 2025Q4's quarterly return on
2026-01-15, a 2025 GDP share (lag 12) on 2026-12-15. See ``docs/registry.md``, *Publication lag*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from helpers.exceptions import RegistryError
from helpers.i18n import et
from helpers.settings import read_yaml_file

AVAILABLE_DAY = 15
DEFAULTS = {"quarterly": 1, "annual": 3}


@dataclass(frozen=True)
class Lags:
    """Months from the end of a period to its figure, per indicator (``default`` by frequency)."""

    default: dict = field(default_factory=lambda: dict(DEFAULTS))
    months: dict = field(default_factory=dict)
    basis: dict = field(default_factory=dict)

    def lag(self, ind) -> int:
        """The lag of an indicator (an :class:`~helpers.plan.registry.Indicator`), in months."""
        return int(self.months.get(ind.id, self.default.get(ind.frequency, 1)))

    def available_on(self, ind, period: str) -> date:
        """The day the figure of ``ind`` for ``period`` (``2025Q4`` or ``2025``) is available."""
        text = str(period)
        year = int(text[:4])
        last_month = 3 * int(text[-1]) if "Q" in text else 12
        m = last_month + self.lag(ind)
        return date(year + (m - 1) // 12, (m - 1) % 12 + 1, AVAILABLE_DAY)


def load_lags(plan) -> Lags:
    """The ``publication:`` block of the plan's registry file (defaults when absent).

    Raises
    ------
    RegistryError
        A lag that is not a whole number of months from 0 to 36, or an unknown indicator.
    """
    return _load(str(Path(plan.path).resolve()), tuple(sorted(plan.by_id)))


@lru_cache(maxsize=8)
def _load(path: str, ids: tuple) -> Lags:
    doc, _ = read_yaml_file(Path(path), RegistryError, "plan registry")
    block = (doc or {}).get("publication") or {}
    default = {**DEFAULTS, **(block.get("default_lag_months") or {})}
    months, basis = {}, {}
    for ind_id, entry in (block.get("indicators") or {}).items():
        where = f"{path}: publication.indicators.{ind_id}"
        if ind_id not in ids:
            raise RegistryError(et("publication_not_indicator", where=where))
        n = (entry or {}).get("published_lag_months")
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 36:
            raise RegistryError(et("publication_lag", where=where, n=repr(n)))
        months[ind_id], basis[ind_id] = n, str((entry or {}).get("basis", ""))
    for k, n in default.items():
        if k not in DEFAULTS or not isinstance(n, int) or not 0 <= n <= 36:
            raise RegistryError(et("publication_default_lag", path=path, key=k, n=repr(n)))
    return Lags(default, months, basis)
