"""The task statuses a run reports: the store's task view at the run's quarter, into the run folder.

Written as ``task_status.csv`` beside ``assessments.csv`` so the documents (and a report written
later from the published run) read exactly what the run saw (``docs/data_store.md``, *Task returns*).
"""

from __future__ import annotations

from pathlib import Path

from helpers.files import people_csv

FILE = "task_status.csv"


def write_task_status(inp, staging: Path) -> Path:
    """Write the latest status of every task per geography, reported for the run's quarter or before
    and received by the run's ``--as-of``; the demo task returns are ingested first when the data are demo."""
    from helpers.data.demo_tasks import ensure_demo_tasks
    from helpers.data.store import ObservationStore
    from helpers.data.tasks import task_view

    s = inp.settings
    store = ObservationStore.of(s)
    ensure_demo_tasks(store, s.data_path.parent / "tasks", inp.plan, inp.geos)  # a --data run skipped the store
    as_of = (inp.store_state or {}).get("as_of")
    view = task_view(store, as_of=as_of, quarter=str(inp.quarter))
    out = Path(staging) / FILE
    out.write_bytes(people_csv(view))
    return out


def ensure_demo_task_returns(settings, plan, geos) -> int:
    """Store the demo task returns beside the settings' data file (``tasks/DEMO_tasks_*.xlsx``) if they
    are not stored yet, received at the seed's time; real data have no such folder (returns 0)."""
    from helpers.data.demo_tasks import ensure_demo_tasks
    from helpers.data.store import ObservationStore

    store = ObservationStore.of(settings)
    if settings.data_path.is_file():
        store.ensure_seed(settings.data_path, plan, geos)  # the seed stays the first vintage
    return ensure_demo_tasks(store, settings.data_path.parent / "tasks", plan, geos)


def copy_judgement(inp, staging: Path) -> Path | None:
    """Copy the team's judgement file (settings ``report.judgement``) into the run's ``params/``, so the
    run records what the team wrote (its SHA-256 goes into the manifest with the other copies)."""
    import shutil

    src = inp.settings.resolve(inp.settings.file.report.judgement)
    if not src.is_file():
        return None
    dst = Path(staging) / "params" / "judgement.yaml"
    dst.parent.mkdir(exist_ok=True)
    shutil.copy2(src, dst)
    return dst
