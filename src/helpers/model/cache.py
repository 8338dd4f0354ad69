"""Caching of assessments by the content of their inputs (:func:`helpers.model.assess.assess_all`)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np


def json_default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    raise TypeError(type(o))


_CODE_HASH = None


def code_hash() -> str:
    """SHA-256 over this package's source: a change to any helper invalidates cached results."""
    global _CODE_HASH
    if _CODE_HASH is None:
        h = hashlib.sha256()
        package = Path(__file__).resolve().parents[1]
        for p in sorted(package.rglob("*.py")):
            h.update(p.relative_to(package).as_posix().encode())
            h.update(p.read_bytes())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


def cache_key(rows, ind, geo, geos, as_of, settings, thresholds) -> str:
    """The key of one assessment: the indicator's rows known at ``as_of`` that it reads, and everything else it depends on."""
    # the indicator's first reported period (anyone's) starts the periods a missing return is looked for in
    first = int(rows["qindex"].min()) if "qindex" in rows and len(rows) else -1
    if not (geo.is_city and ind.aggregation in ("sum", "ratio_of_sums", "per_capita")):
        rows = rows[rows["geography_code"] == geo.code]
    h = hashlib.sha256()
    h.update(str(first).encode())
    h.update(rows["row_hash"].to_numpy().tobytes())  # one hash per row (code, period, value, numerator, denominator)
    h.update(repr((ind, geo, str(as_of), settings, thresholds, code_hash())).encode())
    return h.hexdigest()
