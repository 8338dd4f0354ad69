"""A run's charts drawn while the run goes on: :class:`ChartDrawing`.

The chart step used to draw every chart before anything else of the run went on. On the demo's
2025Q2 (2 cores, 2026-12-06) that left one core idle for the 1.4 s in which the run then wrote its
changes, copies and 112 report inputs and started the kernel fork server, and the reports after it
kept the two cores only about 1.75 busy (a report waits on its kernel's start and end). Drawn in
worker processes while the run goes on, the charts fill both: the run writes the report inputs
meanwhile (they name the charts the specifications will give, not the files drawn), and each
report waits only for its own charts (:meth:`ChartDrawing.wait_for`), drawn in the reports' order.

A chart is drawn by a worker into the cache (:func:`helpers.pages.charts._render_one`, each file
renamed into place) and then copied into the run folder by the same worker, so a chart's file in
the run folder is complete once its task is done; a chart the cache already holds is copied at
:meth:`ChartDrawing.start`. ``charts.json`` (hash and title of every chart) is written at the start:
both come from the specifications, not from the drawing.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import Executor, Future
from concurrent.futures import wait as wait_futures
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

#: charts a worker draws per task: small enough that the first report's charts come early and the
#: two workers end together, large enough that passing tasks costs nothing (about 84 tasks a quarter)
CHUNK = 4


class ChartDrawing:
    """Every chart of ``specs``: taken from the cache or drawn, into ``run_dir``.

    Parameters
    ----------
    run_dir : path
        The run folder: charts go to ``charts/<indicator_id>/<geography_code>.svg``, their index
        (hash and title per chart) to ``charts/charts.json``; the print JPEGs stay in the cache.
    specs : list of ChartSpec
        From :func:`helpers.pages.charts.run_specs`, in the order the run needs them (its reports').
    cache_dir : path
        Charts by hash, shared by runs (``outputs/.cache/charts``).
    documents : bool
        Also the print JPEG (the Word/PDF documents' picture) of the charts in ``printed``.
    force : bool
        Draw every chart again (``--force``), whatever the cache holds.
    printed : set of (indicator_id, geography_code), optional
        With ``documents``, the charts the documents show; None: every chart.
    """

    def __init__(self, run_dir, specs: list[ChartSpec], cache_dir, *, documents: bool = True, force: bool = False,
                 printed: set | None = None):
        self.run_dir, self.cache = Path(run_dir), Path(cache_dir)
        self._t0 = time.monotonic()
        keyed = [(s, s.digest()) for s in specs]
        self.index: dict[str, dict] = {}
        dests: dict[str, list[str]] = {}
        for s, h in keyed:
            dests.setdefault(h, []).append(str(chart_path(self.run_dir, s.indicator_id, s.geography_code)))
            self.index.setdefault(s.indicator_id, {})[s.geography_code] = {"sha256": h, "title": s.labels["title"]}
        self.todo: list[tuple] = []  # (spec, svg in the cache, jpg or None, [files in the run])
        self._cached: list[tuple[str, list[str]]] = []
        seen: set[str] = set()
        for s, h in keyed:
            if h in seen:
                continue
            seen.add(h)
            jpg = documents and (printed is None or (s.indicator_id, s.geography_code) in printed)
            exts = (PAGE_FORMAT, PRINT_FORMAT) if jpg else (PAGE_FORMAT,)
            if force or not _cached_ok(self.cache, h, exts):
                self.todo.append((s, str(self.cache / f"{h}.svg"), str(self.cache / f"{h}.jpg") if jpg else None, dests[h]))
            else:
                self._cached.append((h, dests[h]))
        self.count = len(keyed)
        self.stamp = ""  # what the run records once every chart is drawn (run/stages.py finish_charts)
        self._pending: dict[str, Future] = {}
        self._done_at = self._t0

    @property
    def files(self) -> set[str]:
        """Every chart file the run will hold, as paths relative to the run folder."""
        return {chart_path(Path(), ind, code).as_posix() for ind, by_geo in self.index.items() for code in by_geo}

    def start(self, pool: Executor | None = None) -> "ChartDrawing":
        """Copy the cached charts and write ``charts.json``; then draw the rest: in ``pool`` (returns at
        once, in the specifications' order), or here and now without one."""
        self.cache.mkdir(parents=True, exist_ok=True)
        for h, files in self._cached:
            for f in files:
                _link_or_copy(self.cache / f"{h}.{PAGE_FORMAT}", Path(f))
        (self.run_dir / CHARTS_DIR).mkdir(parents=True, exist_ok=True)
        (self.run_dir / CHARTS_DIR / INDEX_FILE).write_text(
            json.dumps(self.index, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
        if not self.todo:
            return self
        load_font()  # before the pool's processes fork, at its first task: they inherit it
        if pool is None:
            draw_charts(self.todo)
            return self
        for k in range(0, len(self.todo), CHUNK):
            chunk = self.todo[k:k + CHUNK]
            fut = pool.submit(draw_charts, chunk)
            fut.add_done_callback(self._drawn)
            for job in chunk:
                for f in job[3]:
                    self._pending[Path(f).relative_to(self.run_dir).as_posix()] = fut
        return self

    def _drawn(self, fut: Future) -> None:
        self._done_at = time.monotonic()  # the step's seconds end with its last chart, not when it is asked

    def pending(self) -> list[str]:
        """The chart files (relative to the run folder) still being drawn."""
        return sorted(f for f, fut in self._pending.items() if not fut.done())

    def wait_for(self, files) -> None:
        """Return once the charts ``files`` (paths relative to the run folder) are in the run folder;
        a worker's error is raised here. Files not drawn by this run return at once."""
        futures = {self._pending[f] for f in files if f in self._pending}
        for fut in futures:
            fut.result()

    def wait_for_all(self, files=()) -> None:
        """Return once every chart is drawn (``files`` ignored: :meth:`wait_for`'s signature); a worker's
        error is raised here."""
        for fut in set(self._pending.values()):
            fut.result()

    def finish(self) -> dict:
        """Wait for every chart; ``charts`` (how many), ``drawn``, ``reused`` and ``seconds``."""
        wait_futures(set(self._pending.values()))
        for fut in set(self._pending.values()):
            fut.result()
        end = self._done_at if self._pending else time.monotonic()
        return {"charts": self.count, "drawn": len(self.todo), "reused": self.count - len(self.todo),
                "seconds": round(end - self._t0, 2)}


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
    if workers > 1 and len(drawing.todo) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

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
            _copy_into(Path(svg), Path(f))


def _copy_into(src: Path, dst: Path) -> None:
    """``src`` copied to ``dst`` under a temporary name, then renamed: a file in the run folder is
    whole once it exists (the side process waits for the files, :func:`wait_for_files`)."""
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")
    _link_or_copy(src, tmp)
    os.replace(tmp, dst)


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
