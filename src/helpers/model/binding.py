"""Which geography is held to which target (the city to every target, a district to some), which
indicators a geography is assessed on, and whether a run is the plan's final assessment."""

from __future__ import annotations

from helpers.plan.geography import Geography
from helpers.plan.periods import Quarter
from helpers.plan.registry import Indicator, Plan


def assessment_stage(plan: Plan, as_of: Quarter) -> str:
    """``final`` (终期评估) for a run at or after the last due date of the plan's targets, else ``midterm``."""
    dues = [i.target.due for i in plan.targets]  # type: ignore[union-attr]  # plan.targets have a target
    return "final" if dues and as_of >= max(dues) else "midterm"


def binds_geography(ind: Indicator, geo: Geography, hold_districts: bool = False) -> bool:
    """Whether ``geo`` is held to ``ind``'s target (else its row is a reference figure).

    The city is held to every target. A district is held to a target that binds each district
    (``binds: each_district``); to a city-wide standard (``binds: city``, a rate or per-capita
    value) only when the setting ``status.hold_districts`` says so; never to a count the plan sets
    for the city as a whole (``binds: sum_of_districts``): nobody set that number for a district.
    """
    t = ind.target
    if t is None or geo.is_city or t.binds == "each_district":
        return True
    return t.binds == "city" and hold_districts and ind.aggregation in ("ratio_of_sums", "per_capita")


def judged_on_city(ind: Indicator, geo: Geography, hold_districts: bool = False) -> bool:
    """Whether a district's row of ``ind`` is a reference figure toward a city target."""
    return ind.target is not None and not binds_geography(ind, geo, hold_districts)


def applicable(ind: Indicator, geo: Geography) -> bool:
    """Whether an indicator is assessed for a geography (city-only indicators: the city alone)."""
    return geo.is_city or not ind.city_only
