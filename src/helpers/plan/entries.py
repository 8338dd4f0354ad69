"""The plan as typed objects: :class:`Plan`, its :class:`Section` s, :class:`Indicator` s and their :class:`Target` s.

Frozen dataclasses, built only by :func:`helpers.plan.registry.load_plan` from a checked registry
file (``docs/registry.md``); every name here is also importable from :mod:`helpers.plan.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpers.exceptions import RegistryError, UnknownSectionError
from helpers.i18n import et
from helpers.plan.periods import InvalidPeriodError, Quarter

OVERVIEW = "overview"  # the report page over every section; not a section of the plan


@dataclass(frozen=True)
class Target:
    """What the plan asks of an indicator.

    ``kind`` is one of

    * ``level``: the indicator's value at ``due`` meets ``value``;
    * ``rate``: a ratio (numerator/denominator x scale) over the calendar year of ``due`` meets ``value``;
    * ``flow_per_year``: the yearly total meets ``value`` in every year of ``period``
      (``every_year``) or in the year of ``due`` only;
    * ``cumulative``: the total over ``period`` meets ``value`` by ``due`` (once reached, it stays);
    * ``milestone``: the value reaches ``value`` at any time up to ``due`` (once reached, it stays).

    ``every_year`` on a ``level`` target means 达到并保持: the level in every year of ``period``.

    ``binds`` says whom the target binds: ``city`` (the city's figure; 全市...), ``each_district``
    (every government on its own figure), ``sum_of_districts`` (a count the districts add up to,
    set for the city as a whole). A district's row of a target it is not bound by is shown for
    reference, without a verdict.
    """

    kind: str
    direction: str
    value: float
    start: Quarter
    due: Quarter
    every_year: bool = False
    binds: str = "city"
    baseline: Quarter | None = None  # start of the zone period: the official-style layer's baseline

    def met(self, x):
        """Whether a value (or a numpy array of values) meets the target.

        Within floating-point rounding of the target (1e-9 relative): a ratio of sums that is
        exactly 100% computes as 99.99999999999999 and must still meet "100%".
        """
        tol = 1e-9 * max(1.0, abs(self.value))
        return x >= self.value - tol if self.direction == "at_least" else x <= self.value + tol

    @property
    def symbol(self) -> str:
        return "≥" if self.direction == "at_least" else "≤"


@dataclass(frozen=True)
class Indicator:
    """One measured quantity of the plan, with or without a target."""

    id: str
    section: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    measure: str
    flow: bool
    frequency: str
    applies_to: str
    aggregation: str
    scale: float
    bounds: tuple
    target: Target | None
    clause_ref: str
    clause_text: str
    interpretation: str = ""  # the English text (interpretation_en), kept under its old name
    interpretation_zh: str = ""
    numerator_zh: str = ""
    numerator_en: str = ""
    denominator_zh: str = ""
    denominator_en: str = ""
    zero_denominator: str = "invalid"
    confirmed: bool = True  # false: proposed by `ipeval plan draft`, not yet checked by a person

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def unit(self, lang: str = "zh") -> str:
        return self.unit_zh if lang == "zh" else self.unit_en

    def interpretation_text(self, lang: str = "zh") -> str:
        """How we read the plan's wording, in ``lang``."""
        return self.interpretation_zh if lang == "zh" else self.interpretation

    @property
    def uses_ratio(self) -> bool:
        """Rows carry a numerator and a denominator (value = numerator / denominator x scale)."""
        return self.measure == "ratio"

    @property
    def allows_zero_over_zero(self) -> bool:
        """A ratio whose rows may be ``0/0``: "not applicable" (no value), e.g. no GI products."""
        return self.uses_ratio and self.zero_denominator == "not_applicable"

    @property
    def city_only(self) -> bool:
        return self.applies_to == "city"

    @property
    def numerator_le_denominator(self) -> bool:
        """For shares (upper bound = scale) a numerator can never exceed its denominator."""
        return self.uses_ratio and self.bounds[1] is not None and self.bounds[1] <= self.scale


@dataclass(frozen=True)
class Section:
    id: str
    name_zh: str
    name_en: str
    order: int
    description_zh: str = ""
    description_en: str = ""
    notebook: str = ""  # the notebook under notebooks/ that renders it (default: its id)

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class Plan:
    """A plan: its metadata, sections and indicators, as read from one registry file."""

    id: str
    title_zh: str
    title_en: str
    meta: dict
    sections: tuple[Section, ...]
    indicators: tuple[Indicator, ...]
    path: Path
    sha256: str
    zone_start: Quarter
    zone_end: Quarter
    by_id: dict = field(default_factory=dict, compare=False, repr=False)

    def indicator(self, indicator_id: str) -> Indicator:
        try:
            return self.by_id[indicator_id]
        except KeyError:
            raise RegistryError(et("unknown_indicator", id=repr(indicator_id))) from None

    def section(self, section_id: str) -> Section:
        for s in self.sections:
            if s.id == section_id:
                return s
        valid = ", ".join(s.id for s in self.sections)
        raise UnknownSectionError(et("unknown_section", section=repr(section_id), valid=valid))

    def indicators_in(self, section_id: str) -> list[Indicator]:
        self.section(section_id)
        return [i for i in self.indicators if i.section == section_id]

    @property
    def targets(self) -> list[Indicator]:
        return [i for i in self.indicators if i.target is not None]

    @property
    def data_from(self) -> Quarter:
        """The first period data may describe: ``plan.data_from`` (a year) in the registry, by
        default five years before the zone period, which covers every baseline a target compares with."""
        year = self.meta.get("data_from")
        if year is None:
            return Quarter(self.zone_start.year - 5, 1)
        try:
            return Quarter(int(year), 1)
        except (TypeError, ValueError, InvalidPeriodError):
            raise RegistryError(et("plan_data_from", path=self.path, year=repr(year))) from None

    def title(self, lang: str = "zh") -> str:
        return self.title_zh if lang == "zh" else self.title_en

    @property
    def pages(self) -> list[str]:
        """The report pages of a geography: every section, then the overview."""
        return [s.id for s in self.sections] + [OVERVIEW]

    def page_indicators(self, page: str) -> list[Indicator]:
        """The indicators a report page shows: a section's own, or all of them on the overview."""
        return list(self.indicators) if page == OVERVIEW else self.indicators_in(page)

    def notebook_of(self, page: str) -> str:
        """The notebook (a name under ``notebooks/``) that renders a page: the section's ``notebook``,
        else its id; another plan's sections reuse the generic parts of an existing one."""
        return page if page == OVERVIEW else (self.section(page).notebook or page)

    def page_name(self, page: str, lang: str = "zh") -> str:
        """A page's title: the section's name, or the overview's label from :mod:`helpers.i18n`."""
        from helpers.i18n import t

        return t(lang, "overview") if page == OVERVIEW else self.section(page).name(lang)
