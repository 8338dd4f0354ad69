"""Publishing a run all or nothing: staging folder, atomic switch of ``outputs/<quarter>``.

The switch is two renames (the run folder into ``runs/``, then a new link over ``outputs/<q>``);
SIGTERM and Ctrl-C are held across them, so a run is never half published and never says
"nothing was published" when it was: a signal arriving then is taken after the switch and said as
such (:class:`InterruptedAfterPublish`). A previous run whose manifest or tables are damaged is
treated as absent (a warning, a full recompute), never as a reason to stop.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from pathlib import Path

from helpers.exceptions import RunInterrupted
from helpers.i18n import et
from helpers.plan.periods import Quarter

log = logging.getLogger("ipeval.run")
_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class InterruptedAfterPublish(RunInterrupted):
    """A signal arrived while the run was being switched in: the run *was* published."""

    def __init__(self, signum: int, where: Path):
        super().__init__(signum)
        self.args = (et("interrupted_after_publish", signum=signum, where=where),)


def sound_run(run_dir: Path | None) -> bool:
    """Whether a published run can be read: its manifest parses as an ipeval manifest, and its
    ``assessments.csv`` exists and (when the manifest recorded it) has the recorded checksum."""
    if run_dir is None:
        return False
    try:
        m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        if not isinstance(m, dict) or "run_id" not in m or not isinstance(m.get("jobs", []), list):
            return False
        table = run_dir / "assessments.csv"
        if not table.is_file():
            return False
        want = (m.get("files_sha256") or {}).get("assessments.csv") if isinstance(m.get("files_sha256"), dict) else None
        if want:
            from helpers.files import sha256_file

            return sha256_file(table) == want
        return True
    except (OSError, ValueError):
        return False


def published_dir(out_root: Path, q: Quarter | str) -> Path | None:
    """The folder the pointer ``outputs/<quarter>`` names, if a run was published and is sound
    (:func:`sound_run`); a damaged one is said in the log and treated as absent."""
    link = out_root / str(q)
    if not link.exists():
        return None
    run = link.resolve()
    if not sound_run(run):
        log.warning(f"the published run of {q} ({run.name}) is damaged (manifest or assessments.csv): "
                    f"treated as absent, every report is computed again",
                    extra={"event": "previous_run_damaged", "quarter": str(q)})
        return None
    return run


def publish(out_root: Path, q: Quarter, staging: Path, run_id: str) -> Path:
    """Move the finished run into ``runs/<quarter>/<run-id>`` and swap the pointer atomically."""
    final = out_root / "runs" / str(q) / run_id
    final.parent.mkdir(parents=True, exist_ok=True)
    for stray in out_root.glob(f".{q}.*.link"):  # what a run killed between its two renames left
        if stray.is_symlink():
            stray.unlink()
    # a signal during the switch is held until it is over (a handler that notes it: masking the
    # main thread alone is not enough, the kernel hands a process signal to any thread not masking it)
    pending: list[int] = []
    held = {}
    if threading.current_thread() is threading.main_thread():
        held = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in _SIGNALS}
    done = False
    try:
        os.replace(staging, final)
        link = out_root / str(q)
        tmp = out_root / f".{q}.{run_id}.link"
        os.symlink(Path("runs") / str(q) / run_id, tmp)
        if link.exists() and not link.is_symlink():
            # an outputs/<quarter> folder from elsewhere: keep it beside the runs, never delete it
            os.replace(link, out_root / "runs" / str(q) / f"previous-{run_id}")
        os.replace(tmp, link)  # rename(2) over the old link: readers see the old run or the new, never half
        done = True
    finally:
        for s, h in held.items():
            signal.signal(s, h)
        if pending:  # taken now, and said truthfully
            if done:
                raise InterruptedAfterPublish(pending[0], out_root / str(q))
            h = held.get(signal.Signals(pending[0]))  # held is keyed by Signals, pending has the handler's int
            if callable(h):
                h(pending[0], None)  # the run's own handler (RunInterrupted: nothing was published)
            raise RunInterrupted(pending[0])
    return final
