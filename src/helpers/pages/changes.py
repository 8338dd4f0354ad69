"""What moved since the previous published run, as the index and the reports show it.

Reads the rows of ``changes.csv`` (:mod:`helpers.run.changes`) and turns them into display rows:
the probability before and now, the status before and now, the main cause and what lies behind
it (new periods, revised values with old and new figure and file, or what in the method changed).
"""

from __future__ import annotations

import html

import pandas as pd

from helpers.i18n import CHANGE_CAUSES, STATUS_NAMES, t


def _pct(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "—"
    return "—" if x != x else f"{x * 100:.0f}%"


def _signed(x) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if x != x else f"{x * 100:+.0f}"


def change_rows(changes: pd.DataFrame | None, plan, geos, lang: str = "zh", limit: int | None = 12,
                geography: str | None = None, indicators=None, moved_only: bool = True) -> list[dict]:
    """The largest moves first, as dicts of display strings.

    Parameters
    ----------
    geography, indicators : optional
        Keep one geography's rows, or those of these indicator ids.
    moved_only : bool
        Only rows whose probability or status changed.
    """
    if changes is None or changes.empty:
        return []
    from helpers.files import restore_frame

    changes = restore_frame(changes.copy())  # written for people by helpers.files.people_csv
    d = changes.copy()
    if geography is not None:
        d = d[d["geography_code"].astype(str) == str(geography)]
    if indicators is not None:
        d = d[d["indicator_id"].isin(list(indicators))]
    change = pd.to_numeric(d["change"], errors="coerce")
    if moved_only:
        d = d[(change.abs() > 0.005) | (d["previous_status"] != d["status"])]
    d = d.loc[pd.to_numeric(d["change"], errors="coerce").abs().fillna(0).sort_values(ascending=False,
                                                                                     kind="stable").index]
    if limit:
        d = d.head(limit)
    names = STATUS_NAMES[lang]
    out = []
    for r in d.to_dict("records"):
        ind = plan.by_id.get(r["indicator_id"])
        cause = r.get("cause") or ""
        detail = {"new_periods": r.get("new_periods", ""), "revisions": r.get("revisions", ""),
                  "method": r.get("method_changes", "")}.get(cause, "")
        # the main cause with its part, then any other part that moved (the parts add up to the change)
        others = [f"{CHANGE_CAUSES[lang][c]} {_signed(r.get(f'from_{c}'))}" for c in ("new_periods", "revisions", "method")
                  if c != cause and _signed(r.get(f"from_{c}")) not in ("", "+0", "-0")]
        parts = (_signed(r.get(f"from_{cause}")) if cause else "") + (f" ({'; '.join(others)})" if others else "")
        out.append(dict(indicator=ind.name(lang) if ind else r["indicator_id"],
                        geography=geos.get(str(r["geography_code"])).name(lang),
                        before=_pct(r["previous_probability"]), now=_pct(r["probability"]),
                        change=_signed(r["change"]),
                        status_before=names.get(r["previous_status"], r["previous_status"]),
                        status_now=names.get(r["status"], r["status"]),
                        cause=CHANGE_CAUSES[lang].get(cause, "—"), parts=parts, detail=detail,
                        previous_quarter=r["previous_quarter"]))
    return out


def completion_changes(rows: list[dict], limit: int | None = None) -> list[dict]:
    """The final assessment's changes: rows whose status changed (a probability moving alone is no
    change of completion), the largest first as :func:`change_rows` orders them."""
    out = [r for r in rows if r["status_before"] != r["status_now"]]
    return out[:limit] if limit else out


def index_changes(changes: pd.DataFrame | None, plan, geos, lang: str, final: bool, limit: int = 15) -> list[dict]:
    """The index's what-changed rows: the largest moves, or at the final assessment the completion changes."""
    rows = change_rows(changes, plan, geos, lang, limit=None if final else limit)
    return completion_changes(rows, limit) if final else rows


def changes_html(rows: list[dict], lang: str = "zh", title: bool = True, final: bool = False) -> str:
    """An escaped HTML table of :func:`change_rows` (used by the reports; the index has its template).

    ``final``: the final assessment speaks of completion, so the table drops the probabilities
    (give it :func:`completion_changes`)."""
    from helpers.pages.stage import period_label

    e = html.escape
    keys = ("indicator", "geography", "status", "change_cause_final") if final else (
        "indicator", "geography", "probability", "status", "change_cause")
    head = [t(lang, k) for k in keys]
    out = [f"<h2>{e(t(lang, 'changes_title'))}</h2>"] if title else []
    if not rows:
        out.append(f"<p>{e(t(lang, 'changes_none_final' if final else 'changes_none'))}</p>")
        return "\n".join(out)
    note = t(lang, "changes_note_final" if final else "changes_note",
             quarter=period_label(rows[0]["previous_quarter"], lang))
    out.append(f"<p><small>{e(note)}</small></p>")
    out.append('<table class="ipeval-changes"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head)
               + "</tr></thead><tbody>")
    for r in rows:
        cells = [e(r["indicator"]), e(r["geography"])]
        if not final:
            cells.append(f"{e(r['before'])} → {e(r['now'])} ({e(r['change'])})")
        cells.append(f"{e(r['status_before'])} → {e(r['status_now'])}")
        cells.append(f"<b>{e(r['cause'])}</b>{'' if final else ' ' + e(r['parts'])}<br><small>{e(r['detail'])}</small>")
        out.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)
