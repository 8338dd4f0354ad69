"""What changed since the previous published run, and why (``changes.csv``, ``revisions.csv``).

For every target and geography the move in probability from the previous run is split into
three parts by re-assessing two counterfactuals (``docs/data_store.md``):

==========================  ===================================================================
P0                          the previous run's probability (its ``assessments.csv``)
P1                          the previous run's data and quarter, today's method, registry and
                            settings (equal to P0 when none of those changed)
P2                          today's data up to the previous quarter: the revised values in
                            (equal to P1 when nothing was revised)
P3                          this run
==========================  ===================================================================

``from_method = P1 - P0``, ``from_revisions = P2 - P1``, ``from_new_periods = P3 - P2``; they add
up to the whole move. The previous run is the one published for this quarter (a re-run) or else
for the nearest earlier quarter; without one, there is nothing to compare and no file is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.plan.periods import Quarter

CHANGE_COLUMNS = ["indicator_id", "geography_code", "previous_quarter", "previous_run", "previous_probability",
                  "probability", "change", "previous_status", "status", "from_method", "from_revisions",
                  "from_new_periods", "cause", "new_periods", "revisions", "method_changes"]
REVISION_COLUMNS = ["indicator_id", "geography_code", "period", "old", "new", "file", "kind"]
CAUSES = ("method", "revisions", "new_periods")


def method_fingerprint(plan, geos, settings) -> dict:
    """The hashes of what, besides the data, decides an assessment: registry, geographies,
    the settings that shape a forecast or a status, and the package's code."""
    import hashlib

    from helpers.model.assess import code_hash

    method = json.dumps({"forecast": settings.block("forecast"), "status": settings.block("status")},
                        sort_keys=True, default=str)
    return {"registry": plan.sha256, "geographies": geos.sha256,
            "settings": hashlib.sha256(method.encode()).hexdigest(), "code": code_hash()}


def previous_run(out_root: Path, q: Quarter, search_back: int = 8) -> Path | None:
    """The run to compare with: this quarter's published run, else the nearest earlier one."""
    for k in range(search_back + 1):
        d = Path(out_root) / str(q - k)
        if (d / "manifest.json").is_file() and (d / "assessments.csv").is_file():
            from helpers.run.publish import sound_run

            if sound_run(d.resolve()):  # a damaged run is skipped (compared with an older one), never a stop
                return d.resolve()
    return None


def _figures(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index(["indicator_id", "geography_code", "period"])[["value", "qindex"]]


def revisions(prev: pd.DataFrame, cur: pd.DataFrame, q0: Quarter, q: Quarter, files: dict) -> pd.DataFrame:
    """Rows that differ between the previous run's data and this run's: revised or late values up
    to the previous quarter, and new periods after it (up to this quarter).

    Parameters
    ----------
    prev, cur : DataFrame
        Typed frames (:func:`helpers.data.contract.load_data`).
    files : dict
        (indicator, geography, period) -> the file the current value came from.
    """
    a, b = _figures(prev), _figures(cur[cur["qindex"] <= q.index])
    both = a.join(b, how="outer", lsuffix="_old", rsuffix="_new")
    qi = both["qindex_new"].fillna(both["qindex_old"])
    old, new = both["value_old"], both["value_new"]
    equal = (old.notna() & new.notna() & np.isclose(old.fillna(0), new.fillna(0), rtol=1e-12, atol=1e-12)) \
        | (old.isna() & new.isna())
    differs = ~equal
    kind = np.where(qi > q0.index, "new_period", np.where(old.isna(), "late", "revised"))
    out = both.assign(kind=kind)[differs & (qi <= q.index)]
    out = out.reset_index()
    out = pd.DataFrame({"indicator_id": out["indicator_id"], "geography_code": out["geography_code"],
                        "period": out["period"], "old": out["value_old"], "new": out["value_new"],
                        "file": [files.get(k, "") for k in zip(out["indicator_id"], out["geography_code"],
                                                                out["period"])],
                        "kind": out["kind"]}, columns=REVISION_COLUMNS)
    return out.sort_values(["indicator_id", "geography_code", "period"]).reset_index(drop=True)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "—"
    return f"{x:.6g}"


class _Details:
    """The new periods and the revised values behind each (indicator, geography) (:meth:`of`).

    ``rev`` is split once by indicator and by (indicator, geography), not filtered whole for each of a
    quarter's 322 targets (``compute_changes`` 1.04 s on the demo's 2025Q2 with a previous run, most of it
    these filters, 2026-12-06); each part keeps the rows in ``rev``'s order, as the filter did."""

    def __init__(self, rev: pd.DataFrame, city: str, summed: set):
        self.city, self.summed, self.empty = city, summed, rev.iloc[:0]
        self.by_indicator = dict(tuple(rev.groupby("indicator_id", sort=False))) if len(rev) else {}
        self.by_pair = dict(tuple(rev.groupby(["indicator_id", "geography_code"], sort=False))) if len(rev) else {}

    def of(self, ind: str, geo: str) -> tuple[str, str]:
        """Its own rows, and for a city figure made from the districts, theirs too."""
        if geo == self.city and ind in self.summed:
            mine = self.by_indicator.get(ind, self.empty)
        else:
            mine = self.by_pair.get((ind, geo), self.empty)
        return _detail(mine)


def _detail(mine: pd.DataFrame) -> tuple[str, str]:
    """The new periods and the revised values of ``mine`` (revision rows of one target)."""
    if not len(mine):
        return "", ""
    newp = sorted(set(mine.loc[mine["kind"] == "new_period", "period"]))
    old = mine[mine["kind"] != "new_period"]
    items = [f"{r.geography_code} {r.period}: {_fmt(r.old)} -> {_fmt(r.new)} ({r.file})" for r in old.itertuples()]
    return ", ".join(newp), "; ".join(items)


def compute_changes(inp, table: pd.DataFrame, prev_dir: Path, files: dict, cache_dir: Path | None = None,
                    workers: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The change table and the revisions list of this run against ``prev_dir``.

    Parameters
    ----------
    inp : helpers.run.quarter.RunInputs
    table : DataFrame
        This run's assessments (P3).
    files : dict
        (indicator, geography, period) -> file of the current value (for the revisions list).
    """
    from helpers.data.contract import load_data
    from helpers.model.assess import assess_all

    m = json.loads((prev_dir / "manifest.json").read_text(encoding="utf-8"))
    q0 = Quarter.parse(m["quarter"])
    p0 = pd.read_csv(prev_dir / "assessments.csv", dtype={"geography_code": str, "latest_period": str, "settled_on": str})
    prev = load_data([prev_dir / p for p in m["data_copy"]], inp.plan, inp.geos).frame
    fp = method_fingerprint(inp.plan, inp.geos, inp.settings)
    changed = sorted(k for k, v in fp.items() if (m.get("method") or {}).get(k) != v)
    key = ["indicator_id", "geography_code"]

    def assess(frame, quarter):
        t, _ = assess_all(frame, inp.plan, inp.geos, quarter, inp.forecast, inp.thresholds, cache_dir=cache_dir,
                          workers=workers)
        return t.set_index(key)

    P0 = p0.set_index(key)
    P1 = assess(prev, q0) if changed else P0
    rev = revisions(prev, inp.dataset.frame, q0, inp.quarter, files)
    revised = rev[rev["kind"] != "new_period"]
    P2 = assess(inp.dataset.frame, q0) if len(revised) else P1
    P3 = table.set_index(key)
    targets = {i.id for i in inp.plan.targets}
    summed = {i.id for i in inp.plan.indicators if i.aggregation in ("sum", "ratio_of_sums", "per_capita")}
    city = inp.geos.city.code
    details = _Details(rev, city, summed)
    rows = []
    for (ind, geo), r in P3.iterrows():
        if ind not in targets:
            continue
        p = [x.loc[(ind, geo), "probability"] if (ind, geo) in x.index else np.nan for x in (P0, P1, P2)]
        p3 = r["probability"]
        parts = dict(zip(CAUSES, (p[1] - p[0], p[2] - p[1], p3 - p[2])))
        moved = {k: v for k, v in parts.items() if pd.notna(v) and abs(v) > 1e-9}
        prev_status = P0.loc[(ind, geo), "status"] if (ind, geo) in P0.index else ""
        if moved:
            cause = max(moved, key=lambda k: abs(moved[k]))
        elif prev_status != r["status"]:
            # the probability did not move but the status did: which step changed the status
            st = [x.loc[(ind, geo), "status"] if (ind, geo) in x.index else "" for x in (P0, P1, P2)] + [r["status"]]
            cause = next((c for c, a, b in zip(CAUSES, st, st[1:]) if a != b), "")
        else:
            cause = ""
        newp, revs = details.of(ind, geo)
        rows.append({"indicator_id": ind, "geography_code": geo, "previous_quarter": str(q0),
                     "previous_run": m.get("run_id", ""), "previous_probability": p[0], "probability": p3,
                     "change": p3 - p[0], "previous_status": prev_status, "status": r["status"],
                     "from_method": parts["method"], "from_revisions": parts["revisions"],
                     "from_new_periods": parts["new_periods"], "cause": cause, "new_periods": newp,
                     "revisions": revs, "method_changes": ", ".join(changed)})
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    order = out["change"].abs().fillna(-1).sort_values(ascending=False, kind="stable").index
    return out.loc[order].reset_index(drop=True), rev


def write_changes(inp, table: pd.DataFrame, staging: Path, out_root: Path, files: dict,
                  workers: int = 1) -> Path | None:
    """Write ``changes.csv`` and ``revisions.csv`` into the run folder (None: no previous run)."""
    prev_dir = previous_run(out_root, inp.quarter)
    if prev_dir is None:
        return None
    changes, rev = compute_changes(inp, table, prev_dir, files, cache_dir=out_root / ".cache" / "assess",
                                   workers=workers)
    from helpers.files import atomic_write_bytes, people_csv

    # tables for people (linked from the index): formula-looking text (a file named "=2+3 ...")
    # neutralised; helpers.pages.changes reads them back through restore_frame
    atomic_write_bytes(staging / "changes.csv", people_csv(changes, float_format="%.6g"))
    atomic_write_bytes(staging / "revisions.csv", people_csv(rev, float_format="%.6g"))
    return staging / "changes.csv"
