"""A run's charts drawn while the run goes on (pages/chartpool.py), and the reports that wait for theirs."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from helpers.pages import chartpool, charts
from helpers.pages.chartpool import ChartDrawing, wait_for_files


class Spec:
    """What ChartDrawing reads of a chart specification."""

    def __init__(self, indicator_id, geography_code, h=None):
        self.indicator_id, self.geography_code = indicator_id, geography_code
        self.labels = {"title": f"{indicator_id} · {geography_code}"}
        self._h = h or f"{indicator_id}-{geography_code}"

    def digest(self):
        return self._h


@pytest.fixture
def drawn(monkeypatch):
    """A stand-in for the drawing: writes the cache's files, records the order, waits for ``gate`` when set."""
    seen, gates = [], {}

    def render(job):
        spec, svg, jpg = job
        if spec.indicator_id in gates:
            gates[spec.indicator_id].wait(5)
        if spec.indicator_id == "broken":
            raise ValueError("no data to draw")
        seen.append((spec.indicator_id, spec.geography_code))
        Path(svg).write_text(f"<svg>{spec.digest()}</svg>", encoding="utf-8")
        if jpg:
            Path(jpg).write_bytes(b"jpg")
        charts.record_cached(svg, jpg)
        return ""

    monkeypatch.setattr(charts, "_render_one", render)
    monkeypatch.setattr(chartpool, "_FONT", ["stand-in"])  # no font to load
    return seen, gates


def test_drawn_in_the_order_given_and_the_index_written_before_any_chart(tmp_path, drawn):
    seen, gates = drawn
    gates["b"] = threading.Event()
    specs = [Spec("a", "330100"), Spec("b", "330100"), Spec("a", "330106")]
    with ThreadPoolExecutor(1) as pool:
        drawing = ChartDrawing(tmp_path / "run", specs, tmp_path / "cache", documents=False).start(pool)
        index = json.loads((tmp_path / "run" / "charts" / "charts.json").read_text(encoding="utf-8"))
        assert index["b"]["330100"] == {"sha256": "b-330100", "title": "b · 330100"}  # from the specification
        assert drawing.files == {"charts/a/330100.svg", "charts/b/330100.svg", "charts/a/330106.svg"}
        gates["b"].set()
        stats = drawing.finish()
    assert seen == [("a", "330100"), ("b", "330100"), ("a", "330106")]
    assert stats["drawn"] == 3 and stats["reused"] == 0
    assert (tmp_path / "run" / "charts" / "a" / "330106.svg").read_text(encoding="utf-8") == "<svg>a-330106</svg>"


def test_a_chart_that_fails_to_draw_fails_the_reports_waiting_and_the_step(tmp_path, drawn, monkeypatch):
    monkeypatch.setattr(chartpool, "CHUNK", 1)
    specs = [Spec("fine", "330100"), Spec("broken", "330100")]
    with ThreadPoolExecutor(1) as pool:
        drawing = ChartDrawing(tmp_path / "run", specs, tmp_path / "cache", documents=False).start(pool)
        with pytest.raises(ValueError, match="no data to draw"):
            drawing.wait_for_all()
        assert (tmp_path / "run" / "charts" / "fine" / "330100.svg").is_file()
        with pytest.raises(ValueError, match="no data to draw"):
            drawing.finish()


def test_cached_charts_are_copied_at_once_and_one_drawing_serves_every_chart_with_its_hash(tmp_path, drawn):
    seen, _ = drawn
    cache = tmp_path / "cache"
    ChartDrawing(tmp_path / "run1", [Spec("a", "330100")], cache, documents=False).start().finish()
    # the same picture at two geographies (same hash), and one the cache has
    specs = [Spec("a", "330100"), Spec("b", "330102", h="same"), Spec("b", "330105", h="same")]
    with ThreadPoolExecutor(1) as pool:
        drawing = ChartDrawing(tmp_path / "run2", specs, cache, documents=False).start(pool)
        assert [job[0].geography_code for job in drawing.todo] == ["330102"]
        assert (tmp_path / "run2" / "charts" / "a" / "330100.svg").is_file()  # copied before the pool draws
        stats = drawing.finish()
    assert stats == {**stats, "charts": 3, "drawn": 1, "reused": 2}
    assert seen == [("a", "330100"), ("b", "330102")]
    for code in ("330102", "330105"):
        assert (tmp_path / "run2" / "charts" / "b" / f"{code}.svg").read_text(encoding="utf-8") == "<svg>same</svg>"


def test_without_a_pool_every_chart_is_drawn_before_start_returns(tmp_path, drawn):
    seen, _ = drawn
    drawing = ChartDrawing(tmp_path / "run", [Spec("a", "330100"), Spec("b", "330100")], tmp_path / "cache",
                           documents=True, printed={("b", "330100")}).start()
    assert len(seen) == 2 and (tmp_path / "run" / "charts" / "b" / "330100.svg").is_file()
    assert drawing.prints() == [str(tmp_path / "cache" / "b-330100.sha256")]
    assert (tmp_path / "cache" / "b-330100.jpg").is_file() and not (tmp_path / "cache" / "a-330100.jpg").exists()


def test_the_side_process_waits_for_the_files_and_gives_up_after_its_timeout(tmp_path):
    (tmp_path / "charts").mkdir()
    threading.Timer(0.1, lambda: (tmp_path / "charts" / "a.svg").write_text("x", encoding="utf-8")).start()
    wait_for_files(tmp_path, ["charts/a.svg"], timeout=5)
    with pytest.raises(TimeoutError, match="charts/b.svg"):
        wait_for_files(tmp_path, ["charts/b.svg"], timeout=0.1)


def test_every_report_starts_once_the_charts_are_drawn_and_a_chart_error_stops_the_run(tmp_path, monkeypatch):
    from helpers.run import execute
    from helpers.run.jobs import Job

    events = []

    def run_job(job, stopping=None):
        events.append(("run", job.geography))
        return {"section": job.section, "geography_code": job.geography, "status": "ok", "duration": 0.0}

    def ready():
        events.append(("ready", None))
        if broken:
            raise ValueError("no data to draw")

    monkeypatch.setattr(execute, "run_job", run_job)
    jobs = [Job(section="judicial", geography=code, quarter="2025Q2", lang="zh", notebook="nb.ipynb",
                output_dir=str(tmp_path)) for code in ("330100", "330106")]
    broken = False
    out = execute.execute_jobs(jobs, 1, "local", None, True, ready=ready)
    assert [r["geography_code"] for r in out] == ["330100", "330106"]
    assert events == [("ready", None), ("run", "330100"), ("ready", None), ("run", "330106")]
    broken, events[:] = True, []
    with pytest.raises(ValueError, match="no data to draw"):
        execute.execute_jobs(jobs, 1, "local", None, True, ready=ready)
    assert not [e for e in events if e[0] == "run"]


def test_wait_for_all_returns_once_every_chart_is_drawn(tmp_path, drawn, monkeypatch):
    seen, gates = drawn
    monkeypatch.setattr(chartpool, "CHUNK", 1)
    gates["late"] = threading.Event()
    with ThreadPoolExecutor(2) as pool:
        drawing = ChartDrawing(tmp_path / "run", [Spec("early", "330100"), Spec("late", "330106")], tmp_path / "cache",
                               documents=False).start(pool)
        waiter = threading.Thread(target=drawing.wait_for_all)
        waiter.start()
        waiter.join(0.2)
        assert waiter.is_alive()  # "late" is not drawn yet
        gates["late"].set()
        waiter.join(5)
        assert not waiter.is_alive() and (tmp_path / "run" / "charts" / "late" / "330106.svg").is_file()
        assert (tmp_path / "run" / "charts" / "early" / "330100.svg").is_file()


def test_charts_are_drawn_while_the_rest_are_still_specified(tmp_path, drawn, monkeypatch):
    """A generator of specifications: the first chunk goes to the pool before the last specification is made."""
    monkeypatch.setattr(chartpool, "CHUNK", 1)
    seen, _ = drawn
    given = []

    class Pool(ThreadPoolExecutor):
        def submit(self, fn, *args, **kwargs):
            given.append(len(made))
            return super().submit(fn, *args, **kwargs)

    made = []

    def specs():
        for code in ("330100", "330102", "330105"):
            made.append(code)
            yield Spec("a", code)

    with Pool(1) as pool:
        drawing = ChartDrawing(tmp_path / "run", specs(), tmp_path / "cache", documents=False).start(pool)
        drawing.finish()
    assert given == [1, 2, 3] and len(seen) == 3


def test_the_same_picture_drawn_by_an_earlier_task_is_copied_before_the_reports_start(tmp_path, drawn, monkeypatch):
    monkeypatch.setattr(chartpool, "CHUNK", 1)
    specs = [Spec("a", "330102", h="same"), Spec("b", "330100"), Spec("a", "330105", h="same")]
    with ThreadPoolExecutor(1) as pool:
        drawing = ChartDrawing(tmp_path / "run", specs, tmp_path / "cache", documents=True,
                               printed={("b", "330100")}).start(pool)
        assert len(drawing.todo) == 2 and drawing.prints() == [str(tmp_path / "cache" / "b-330100.sha256")]
        drawing.wait_for_all()
        assert (tmp_path / "run" / "charts" / "a" / "330105.svg").read_text(encoding="utf-8") == "<svg>same</svg>"
        assert drawing.finish()["drawn"] == 2
    wait_for_files(tmp_path, drawing.prints(), timeout=1)  # the documents' wait: the print picture's record
