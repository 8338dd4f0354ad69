"""Caching of assessments by the content of their inputs (:func:`helpers.model.assess.assess_all`).

The key and the store are :mod:`helpers.cache`'s, as for every reuse of the package."""

from __future__ import annotations

from helpers.cache import Key, code_version


def code_hash() -> str:
    """SHA-256 over this package's source: a change to any helper invalidates cached results
    (:func:`helpers.cache.code_version`)."""
    return code_version()


def cache_key(rows, ind, geo, geos, as_of, settings, thresholds) -> str:
    """The key of one assessment: the indicator's rows known at ``as_of`` that it reads, and everything else it depends on."""
    # the indicator's first reported period (anyone's) starts the periods a missing return is looked for in
    first = int(rows["qindex"].min()) if "qindex" in rows and len(rows) else -1
    if not (geo.is_city and ind.aggregation in ("sum", "ratio_of_sums", "per_capita")):
        rows = rows[rows["geography_code"] == geo.code]
    # one hash per row (code, period, value, numerator, denominator); the indicator, geography and
    # settings as their repr: frozen dataclasses, every field in order, so their content
    return (Key("assessment").text("first", first).blob("rows", rows["row_hash"].to_numpy().tobytes())
            .text("inputs", repr((ind, geo, str(as_of), settings, thresholds))).code().hexdigest())
