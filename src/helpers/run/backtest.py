"""The ``ipeval backtest`` command: score the demo data's forecasts, write the files, and render the
methodology notebook on them through the same job runner as every report
(:func:`helpers.run.jobs.run_job`: its timeouts, retries and kernels)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from helpers.exceptions import RunFailedError
from helpers.i18n import et
from helpers.model.backtest import DEFAULT_GEOGRAPHIES, DEFAULT_ORIGINS, as_list, load_inputs, run_backtest
from helpers.pages.backtest import reliability_figure


def backtest_command(settings_path: str | Path | None = None, output_dir: str | Path | None = None,
                     geographies: str | Iterable[str] | None = None, origins: str | None = None,
                     members: str | Iterable[str] | None = None,
                     n_paths: int = 500, workers: int | None = None, data_path: str | None = None) -> Path:
    """Run a rolling-origin backtest and write ``backtest_summary.csv``, ``backtest_forecasts.csv``
    and ``backtest_reliability.png``.

    Parameters
    ----------
    settings_path : path, optional
        Default: ``params/settings.yaml`` of the project.
    output_dir : path, optional
        Default: ``<outputs>/backtest``. Created if missing; the three files are overwritten.
    geographies : str or sequence of str, optional
        Comma-separated or a list of codes; ``"all"``: every geography. Default (``None``):
        :data:`DEFAULT_GEOGRAPHIES`, the city, 330106 and 330127 (fast).
    origins : str, optional
        ``FIRST:LAST[:STEP]`` or a comma list (:func:`parse_origins`); ``"all"``: every quarter with
        enough data (the full backtest). Default (``None``): :data:`DEFAULT_ORIGINS`,
        ``2023Q4:2025Q3:2`` (every other quarter).
    members : str or sequence of str, optional
        Methods to score (default: ensemble, each configured member, rules).
    n_paths : int
        Simulated paths per forecast (default 500; the reports use ``forecast.n_paths``).
    workers : int, optional
        Processes (default: ``executor.workers`` of the settings, else the number of CPUs).
    data_path : str, optional
        Data file(s), comma-separated (default: the settings' data file).

    Returns
    -------
    pathlib.Path
        The folder written. Prints nothing.
    """
    s, plan, geos, frame, fs, th, _ = load_inputs(settings_path, data_path)
    geo_codes: list[str] | None = as_list(geographies) or list(DEFAULT_GEOGRAPHIES)
    if geo_codes == ["all"]:
        geo_codes = None
    origins = DEFAULT_ORIGINS if origins is None else origins
    for c in geo_codes or []:
        geos.get(c)  # refuses unknown codes before anything runs
    workers = int(workers or s.executor.workers or os.cpu_count() or 1)
    per, summary = run_backtest(frame, plan, geos, fs, origins=origins, members=as_list(members),
                                geographies=geo_codes, n_paths=n_paths, thresholds=th, workers=workers)
    out = Path(output_dir) if output_dir else s.outputs_path / "backtest"
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "backtest_summary.csv", index=False, float_format="%.6g")
    per.to_csv(out / "backtest_forecasts.csv", index=False, float_format="%.6g")
    import matplotlib.pyplot as plt

    fig = reliability_figure(per, s.language)
    fig.savefig(out / "backtest_reliability.png", dpi=110)
    plt.close(fig)
    return out


def render_methodology(backtest_dir, settings_path=None, lang: str = "zh") -> list:
    """Execute ``notebooks/methodology.ipynb`` on a backtest folder and export its two HTML variants.

    The notebook runs as a job of :func:`helpers.run.jobs.run_job` (the executor settings' timeouts,
    retries and kernel choice), then its three files are moved into ``backtest_dir``.

    Returns
    -------
    list of Path
        ``methodology.ipynb``, ``methodology.report.html`` and ``methodology.audit.html`` in ``backtest_dir``.

    Raises
    ------
    RunFailedError
        The notebook failed (the error of the cell that raised).
    """
    from helpers.files import sha256_file
    from helpers.run.jobs import Job, run_job
    from helpers.settings import load_settings

    s = load_settings(settings_path)
    folder = Path(backtest_dir).resolve()
    work = folder / ".methodology"
    shutil.rmtree(work, ignore_errors=True)
    ex = s.executor
    job = Job(section="methodology", geography="methodology", quarter="", lang=lang,
               notebook=str(s.root / "notebooks" / "methodology.ipynb"), output_dir=str(work),
               parameters={"settings_path": str(s.path), "backtest_dir": str(folder), "lang": lang},
               start_timeout=ex.start_timeout, execution_timeout=ex.execution_timeout, retries=ex.retries,
               fork_kernels=ex.fork_kernels, engine=ex.engine, title="Methodology and backtest",
               provenance={"backtest_dir": str(folder), "settings sha256": sha256_file(s.path),
                           "plan sha256": sha256_file(s.plan_path), "lang": lang})
    result = run_job(job)
    if result["status"] != "ok":
        raise RunFailedError(et("methodology_failed", error=result["error"]))
    out = []
    for key, name in (("notebook", "methodology.ipynb"), ("report", "methodology.report.html"),
                      ("audit", "methodology.audit.html")):
        target = folder / name
        os.replace(work / result[key], target)
        out.append(target)
    shutil.rmtree(work, ignore_errors=True)
    return out
