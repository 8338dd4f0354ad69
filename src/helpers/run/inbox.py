"""The inbox of unattended runs: files dropped in ``data/inbox/`` are ingested before a scheduled run.

Each file is ingested on its own (:func:`helpers.data.store.ingest_files`), oldest first. A stored
file moves to ``data/inbox/ingested/``; a refused one to ``data/inbox/rejected/`` with its error
report beside it (``<file>.errors.csv`` and ``.errors.xlsx``), and the run goes on with the rest.
Nothing is deleted: a name already taken in either folder gets the time as a prefix.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from helpers.data.store import ObservationStore, ingest_files, utc_now

log = logging.getLogger("ipeval.inbox")
ACCEPTED = (".csv", ".xlsx", ".xlsm")


def _move(src: Path, folder: Path) -> Path:
    from helpers.files import refuse_links

    refuse_links(folder, "the inbox")  # a link there would move districts' files anywhere
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    if dst.exists():
        dst = folder / f"{utc_now().replace(':', '')}-{src.name}"
    shutil.move(str(src), dst)
    return dst


def take_inbox(settings, lang: str | None = None) -> list[dict]:
    """Ingest every file waiting in the inbox; return one log event per file.

    Returns
    -------
    list of dict
        ``event`` (``inbox_ingested`` or ``inbox_rejected``), ``file``, where it went, and the
        vintage and counts (ingested) or the number of problems and the report (rejected).
    """
    from helpers.plan.geography import load_geographies
    from helpers.plan.registry import load_plan

    from helpers.files import refuse_links

    inbox = settings.resolve(settings.store.inbox)
    for sub in ("ingested", "rejected"):
        refuse_links(inbox / sub, "the inbox")  # before anything is ingested or moved
    files = sorted((p for p in inbox.glob("*") if p.is_file() and p.suffix.lower() in ACCEPTED
                    and not p.name.startswith((".", "~$"))), key=lambda p: (p.stat().st_mtime, p.name))
    if not files:
        return []
    lang = lang or settings.language
    plan, geos = load_plan(settings.plan_path), load_geographies(settings.geographies_path)
    rejected = inbox / "rejected"
    events = []
    outcomes = ingest_files(ObservationStore.of(settings), files, plan, geos, lang, report_dir=rejected,
                            seed=settings.data_path)
    for o in outcomes:
        if o.ok:
            dst = _move(o.path, inbox / "ingested")
            r = o.result
            assert r is not None  # an ingested file carries its result (Outcome.ok)
            ev: dict[str, object] = {"event": "inbox_ingested", "file": o.path.name, "moved_to": str(dst), "vintage": r.vintage_id,
                  "duplicate_of": r.duplicate_of, "new": r.new, "revised": r.revised,
                  "message": f"inbox: ingested {o.path.name}"}
        else:
            dst = _move(o.path, rejected)
            assert o.report is not None and o.report_files is not None  # a refused file carries its report
            ev = {"event": "inbox_rejected", "file": o.path.name, "moved_to": str(dst), "problems": len(o.report),
                  "report": [str(p) for p in o.report_files], "message": f"inbox: rejected {o.path.name}"}
        log.warning(ev["message"]) if not o.ok else log.info(ev["message"])
        events.append(ev)
    return events
