"""A run's charts drawn while the run goes on: :class:`ChartDrawing`.

The chart step used to draw every chart before anything else of the run went on. On the demo's
2025Q2 (2 cores, 2026-12-06) that left one core idle while the run made the charts' specifications
(about 1 s) and again while it then wrote its changes, copies and 112 report inputs and started the
kernel fork server (1.4 s). Now the run's worker processes draw each chart as soon as it is specified,
and the run writes the report inputs meanwhile (they name the charts the specifications will give,
not the files drawn); the reports start once every chart is drawn (:meth:`ChartDrawing.wait_for_all`).
Letting each report wait only for its own charts, drawn in the reports' order, was measured too: the
HTML part took as long (24.3 s against 24.5 s, two runs each) for 1.2 s more CPU (the charts and the
kernels competing for the cores), and the documents, which wait for the charts they print, then
started late and ended 6.6 s after the last report (a loaded machine).

A chart is drawn by a worker into the cache (:func:`helpers.pages.charts._render_one`, each file
renamed into place) and then copied into the run folder by the same worker, so a chart's file in
the run folder is complete once its task is done; a chart the cache already holds is copied at
:meth:`ChartDrawing.start`. ``charts.json`` (hash and title of every chart) is written at the start:
both come from the specifications, not from the drawing.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Executor, Future
from pathlib import Path

from helpers.pages.charts import (
    CHARTS_DIR,
    INDEX_FILE,
    PAGE_FORMAT,
    PRINT_FORMAT,
    ChartSpec,
    _cached_ok,
    _link_or_copy,
    chart_path,
)
from helpers.pages import charts as _charts

#: charts a worker draws per task: small enough that drawing starts while the rest are specified and the
#: two workers end together, large enough that passing tasks costs nothing (about 84 tasks a quarter)
CHUNK = 4


class ChartDrawing:
    """Every chart of ``specs``: taken from the cache or drawn, into ``run_dir``.

    Parameters
    ----------
    run_dir : path
        The run folder: charts go to ``charts/<indicator_id>/<geography_code>.svg``, their index
        (hash and title per chart) to ``charts/charts.json``; the print JPEGs stay in the cache.
    specs : iterable of ChartSpec
        From :func:`helpers.pages.charts.run_specs` (or :func:`~helpers.pages.charts.iter_specs`, read
        as they are made: the first charts are drawn while the rest are specified).
    cache_dir : path
        Charts by hash, shared by runs (``outputs/.cache/charts``).
    documents : bool
        Also the print JPEG (the Word/PDF documents' picture) of the charts in ``printed``.
    force : bool
        Draw every chart again (``--force``), whatever the cache holds.
    printed : set of (indicator_id, geography_code), optional
        With ``documents``, the charts the documents show; None: every chart.
    """

    def __init__(self, run_dir, specs, cache_dir, *, documents: bool = True, force: bool = False,
                 printed: set | None = None):
        self.run_dir, self.cache = Path(run_dir), Path(cache_dir)
        self._specs = specs
        self._documents, self._force, self._printed = documents, force, printed
        self._t0 = time.monotonic()
        self.index: dict[str, dict] = {}
        self.todo: list[tuple] = []  # (spec, svg in the cache, jpg or None, [files in the run]), as drawn
        self.count = 0
        self.stamp = ""  # what the run records once every chart is drawn (run/stages.py finish_charts)
        self._futures: list[Future] = []  # the tasks given to the pool
        self._late: list[tuple[str, str]] = []  # (hash, file of the run): a picture an earlier task draws
        self._done_at, self._done_wall = self._t0, time.time()

    @property
    def files(self) -> set[str]:
        """Every chart file the run will hold, as paths relative to the run folder (once started)."""
        return {chart_path(Path(), ind, code).as_posix() for ind, by_geo in self.index.items() for code in by_geo}

    def start(self, pool: Executor | None = None) -> "ChartDrawing":
        """Read the specifications: copy each chart the cache holds, give the others to ``pool``
        :data:`CHUNK` at a time as they come (drawn here and now without one); then write ``charts.json``."""
        self.cache.mkdir(parents=True, exist_ok=True)
        by_hash: dict[str, tuple | None] = {}  # the hashes of this run so far -> their job (or None: cached)
        batch: list[tuple] = []
        for s in self._specs:
            self.count += 1
            h = s.digest()
            dest = str(chart_path(self.run_dir, s.indicator_id, s.geography_code))
            self.index.setdefault(s.indicator_id, {})[s.geography_code] = {"sha256": h, "title": s.labels["title"]}
            if h in by_hash:  # the same picture again (say, two geographies without data)
                job = by_hash[h]
                if job is None:
                    _link_or_copy(self.cache / f"{h}.{PAGE_FORMAT}", Path(dest))
                elif any(j is job for j in batch):  # not yet given to a worker: it copies it too
                    job[3].append(dest)
                else:  # drawn by a task already given: copied once it is drawn (wait_for_all)
                    self._late.append((h, dest))
                continue
            jpg = self._documents and (self._printed is None or (s.indicator_id, s.geography_code) in self._printed)
            exts = (PAGE_FORMAT, PRINT_FORMAT) if jpg else (PAGE_FORMAT,)
            if not self._force and _cached_ok(self.cache, h, exts):
                by_hash[h] = None
                _link_or_copy(self.cache / f"{h}.{PAGE_FORMAT}", Path(dest))
                continue
            job = (s, str(self.cache / f"{h}.svg"), str(self.cache / f"{h}.jpg") if jpg else None, [dest])
            by_hash[h] = job
            self.todo.append(job)
            batch.append(job)
            if pool is not None and len(batch) == CHUNK:
                self._submit(pool, batch)
                batch = []
        if batch:
            if pool is not None:
                self._submit(pool, batch)
            else:
                load_font()
                draw_charts(batch)  # without a pool, every chart is in the one batch
        (self.run_dir / CHARTS_DIR).mkdir(parents=True, exist_ok=True)
        (self.run_dir / CHARTS_DIR / INDEX_FILE).write_text(
            json.dumps(self.index, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        return self

    def _submit(self, pool: Executor, batch: list[tuple]) -> None:
        load_font()  # before the pool's processes fork, at its first task: they inherit it
        fut = pool.submit(draw_charts, batch)
        fut.add_done_callback(self._drawn)
        self._futures.append(fut)

    def _drawn(self, fut: Future) -> None:
        # the step's seconds end with its last chart, not when it is asked (after the reports)
        self._done_at, self._done_wall = time.monotonic(), time.time()

    def prints(self) -> list[str]:
        """The print pictures being drawn, as the cache's record of each (``<hash>.sha256``, written
        after its JPEG and SVG): what the documents wait for (:func:`wait_for_files`)."""
        return [str(Path(job[1]).with_suffix(".sha256")) for job in self.todo if job[2]]

    def wait_for_all(self) -> None:
        """Return once every chart is drawn and in the run folder (what a report waits for before it
        starts); a worker's error is raised here."""
        for fut in self._futures:
            fut.result()
        while self._late:
            h, dest = self._late.pop()
            _link_or_copy(self.cache / f"{h}.{PAGE_FORMAT}", Path(dest))

    def finish(self) -> dict:
        """Wait for every chart; ``charts`` (how many), ``drawn``, ``reused`` and ``seconds``."""
        self.wait_for_all()
        from datetime import datetime, timezone

        end, wall = (self._done_at, self._done_wall) if self._futures else (time.monotonic(), time.time())
        return {"charts": self.count, "drawn": len(self.todo), "reused": self.count - len(self.todo),
                "seconds": round(end - self._t0, 2),
                "drawn_at": datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="milliseconds")}


def render_charts(run_dir: str | Path, specs: list[ChartSpec], cache_dir: str | Path, workers: int = 2,
                  documents: bool = True, force: bool = False, printed: set | None = None) -> dict:
    """Draw (or take from the cache) every chart of ``specs`` into ``run_dir``.

    Parameters
    ----------
    run_dir : path
        The run folder: charts go to ``charts/<indicator_id>/<geography_code>.svg``, their index
        (hash and title per chart) to ``charts/charts.json``; the print JPEGs stay in the cache
        (:func:`helpers.pages.chartfiles.print_pictures`).
    specs : list of ChartSpec
        From :func:`run_specs`.
    cache_dir : path
        Charts by hash, shared by runs (``outputs/.cache/charts``).
    workers : int
        Processes drawing at once. They are forked after Matplotlib and the font are loaded, so
        a worker starts drawing at once.
    documents : bool
        Also the print JPEG (the Word/PDF documents' picture); a run without documents draws the
        pages' SVG only (measured: the 200 dpi raster is about 60% of a chart's drawing time).
    force : bool
        Draw every chart again (``--force``), whatever the cache holds.
    printed : set of (indicator_id, geography_code), optional
        With ``documents``, the charts the documents show (a geography's judged targets:
        :func:`helpers.pages.document.charted_indicators`); only these get the print JPEG. None:
        every chart. Measured on the demo's 2025Q4: 84 of 336 charts, and the 200 dpi JPEG is about
        55 of a chart's 100 CPU-ms; a chart the documents want and the cache lacks is drawn by them.

    Returns
    -------
    dict
        ``charts`` (how many), ``drawn``, ``reused`` and ``seconds``.
    """
    drawing = ChartDrawing(run_dir, specs, cache_dir, documents=documents, force=force, printed=printed)
    if workers > 1 and len(specs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # its processes fork at the first chart to draw: none when the cache holds them all
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            return drawing.start(pool).finish()
    return drawing.start().finish()


def draw_charts(jobs: list[tuple]) -> None:
    """In a worker (or the run's process): draw each job's chart into the cache, then copy it to
    its files in the run folder."""
    load_font()  # a spawned worker's first task; forked ones have it
    for spec, svg, jpg, files in jobs:
        _charts._render_one((spec, svg, jpg))  # looked up here: a test draws with a stand-in
        for f in files:
            _link_or_copy(Path(svg), Path(f))


_FONT: list[str] = []  # the CJK font's family once this process loaded it


def load_font() -> None:
    """The CJK font and the charts' style (:func:`helpers.pages.plots.use_cjk_font`), once per process."""
    if not _FONT:
        from helpers.pages.plots import use_cjk_font

        _FONT.append(use_cjk_font())


def wait_for_files(run_dir, files, timeout: float = 600.0, every: float = 0.02) -> None:
    """Return once every file of ``files`` (relative to ``run_dir``) exists: the side process's wait for
    the charts the documents print, drawn by the other worker. Raises TimeoutError after ``timeout`` s."""
    run = Path(run_dir)
    left = [f for f in files if not (run / f).is_file()]
    deadline = time.monotonic() + timeout
    while left:
        if time.monotonic() > deadline:
            raise TimeoutError(f"charts not drawn after {timeout:.0f} s: {', '.join(left[:3])}")
        time.sleep(every)
        left = [f for f in left if not (run / f).is_file()]
