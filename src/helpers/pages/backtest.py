"""The backtest on the page: the reliability figure and what the methodology notebook shows.

``notebooks/methodology.ipynb`` calls :func:`load_or_run` and the ``show_*`` functions; the numbers
come from :mod:`helpers.model.backtest`. HTML helpers are the report pages' own
(:mod:`helpers.pages.sections`).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.model.backtest import (
    ENSEMBLE,
    N_BINS,
    SUMMARY_COLUMNS,
    RULES,
    SMALL_ORIGINS,
    as_list,
    load_inputs,
    reliability_table,
    run_backtest,
)
from helpers.pages.sections import _display_html, _e

LABELS = {
    "zh": {
        "title": "可靠性图：预测概率与实际达标频率", "x": "预测达标概率（分箱均值）", "y": "实际达标频率",
        "diagonal": "完全可靠", "ensemble": "集成模型", "rules": "规则法（官方口径）",
        "header": "方法与回测：概率是否可信", "demo_banner": "演示数据：回测使用生成的演示数据（非真实统计），仅用于展示方法。",
        "source_dir": "回测结果读取自", "source_run": "本次运行的小规模回测",
        "method": "方法", "n": "预测数", "brier": "Brier 分数", "reliability": "可靠性 REL", "resolution": "分辨力 RES",
        "uncertainty": "不确定性 UNC", "rel_within_bin": "其中箱内项", "brier_skill": "技巧分数 BSS",
        "mean_forecast": "平均预测概率", "base_rate": "实际达标率", "n_intervals": "区间数",
        "coverage80": "80% 区间覆盖率", "coverage95": "95% 区间覆盖率",
        "summary_title": "各方法回测汇总", "forecasts_title": "逐项预测（参与评分的案例）",
        "indicator": "指标", "geography": "地区", "origin": "预测起点", "outcome": "是否达标", "realised": "实际值",
        "excluded": "未参与评分的案例（起点时数据已确定结果等）", "settings": "设置",
        "summary_note": "Brier 分数 = 可靠性 − 分辨力 + 不确定性（越低越好）；覆盖率应接近 80% 与 95%。",
    },
    "en": {
        "title": "Reliability: forecast probability against observed frequency", "x": "Forecast probability (bin mean)",
        "y": "Observed frequency of meeting the target", "diagonal": "perfectly reliable", "ensemble": "ensemble",
        "rules": "rules (official-style)",
        "header": "Methodology and backtest: can the probabilities be trusted?",
        "demo_banner": "DEMONSTRATION DATA: the backtest uses generated data (not real statistics), "
                       "to show the method.",
        "source_dir": "Backtest results read from", "source_run": "A small backtest run here",
        "method": "Method", "n": "Forecasts", "brier": "Brier score", "reliability": "Reliability REL",
        "resolution": "Resolution RES", "uncertainty": "Uncertainty UNC", "rel_within_bin": "of which within-bin",
        "brier_skill": "Skill BSS", "mean_forecast": "Mean forecast", "base_rate": "Base rate",
        "n_intervals": "Intervals", "coverage80": "80% coverage", "coverage95": "95% coverage",
        "summary_title": "Backtest summary by method", "forecasts_title": "Forecasts scored, case by case",
        "indicator": "Indicator", "geography": "Geography", "origin": "Origin", "outcome": "Met",
        "realised": "Realised", "excluded": "Cases not scored (settled by the data at the origin, etc.)",
        "settings": "Settings",
        "summary_note": "Brier score = reliability - resolution + uncertainty (lower is better); coverage should be "
                        "close to 80% and 95%.",
    },
}


def _label(lang: str, key: str) -> str:
    return LABELS.get(lang, LABELS["zh"]).get(key, key)


def reliability_figure(per_forecast: pd.DataFrame, lang: str = "zh", n_bins: int = N_BINS):
    """Observed frequency against mean forecast per probability bin, one line per method, with
    the diagonal; marker area grows with the number of forecasts in the bin.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from helpers.pages.plots import use_cjk_font

    use_cjk_font()
    import matplotlib.pyplot as plt
    import seaborn as sns

    scored = per_forecast[per_forecast["scored"].astype(bool)] if len(per_forecast) else per_forecast
    methods = list(dict.fromkeys(scored["method"])) if len(scored) else []
    fig, ax = plt.subplots(figsize=(8.4, 5.2), dpi=90)
    ax.plot([0, 1], [0, 1], ls=":", color="#555", lw=1, label=_label(lang, "diagonal"))
    palette = sns.color_palette("tab10", max(len(methods), 1))
    for colour, method in zip(palette, methods):
        d = scored[scored["method"] == method]
        d = d[d["probability"].notna() & d["outcome"].notna()]
        tab = reliability_table(d["probability"], d["outcome"], n_bins)
        if tab.empty:
            continue
        bold = method == ENSEMBLE
        name = _label(lang, method) if method in (ENSEMBLE, RULES) else method
        ax.plot(tab["mean_forecast"], tab["observed_freq"], color="black" if bold else colour,
                lw=2.4 if bold else 1.2, ls="--" if method == RULES else "-", alpha=1 if bold else 0.8,
                label=f"{name} (n={int(tab['n'].sum())})", zorder=3 if bold else 2)
        # marker area: 10 to 160 points^2 with the bin's share of the method's forecasts
        area = 10 + 150 * tab["n"] / tab["n"].sum()
        ax.scatter(tab["mean_forecast"], tab["observed_freq"], s=area, color="black" if bold else colour,
                   alpha=0.6, zorder=3 if bold else 2)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(_label(lang, "x"))
    ax.set_ylabel(_label(lang, "y"))
    ax.set_title(_label(lang, "title"), fontsize=11)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.tight_layout()
    return fig


@dataclass
class BacktestResult:
    """What the methodology notebook shows: the two tables, where they came from, the labels."""

    per_forecast: pd.DataFrame
    summary: pd.DataFrame
    source: str
    lang: str
    demo: bool
    settings: dict
    names: dict


def _read_dir(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.read_csv(folder / "backtest_summary.csv")
    per = pd.read_csv(folder / "backtest_forecasts.csv", dtype={"geography_code": str, "origin": str, "due": str},
                      keep_default_na=True)
    per["scored"] = per["scored"].astype(str).str.lower().isin(["true", "1"])
    for c in ("method", "sdg_category", "decided_by", "models_used", "models_dropped", "excluded"):
        per[c] = per[c].fillna("")
    return per, summary


def load_or_run(settings_path: str = "", backtest_dir: str = "", lang: str = "zh", geography: str = "",
                quarter: str = "", data_path: str = "", registry_path: str = "") -> BacktestResult:
    """The notebook's entry: read a backtest folder, or run a small backtest.

    Parameters
    ----------
    settings_path, data_path, registry_path : str
        Overrides of the settings file, the data file(s) and the plan registry ("" = defaults).
    backtest_dir : str
        A folder written by :func:`backtest_command`; "" runs a small backtest here (the city, origin
        2024Q4, 200 paths, about 15 s on two cores) unless ``geography`` or ``quarter`` widen it.
    lang : {"zh", "en"}
    geography : str
        Comma-separated codes for the backtest run here (default: the city).
    quarter : str
        Origins for the backtest run here (:func:`parse_origins`; default ``2024Q4``).
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    s, plan, geos, frame, fs, th, paths = load_inputs(settings_path, data_path, registry_path)
    if backtest_dir:
        folder = Path(backtest_dir)
        if not (folder / "backtest_summary.csv").is_file():
            raise FileNotFoundError(f"{folder} holds no backtest_summary.csv; run `ipeval backtest` first")
        per, summary = _read_dir(folder)
        source = f"{_label(lang, 'source_dir')} {folder}"
        n_paths = None
    else:
        codes = as_list(geography) or [geos.city.code]
        for c in codes:
            geos.get(c)
        n_paths, origins = 200, quarter or SMALL_ORIGINS
        workers = min(2, int(s.executor.workers or os.cpu_count() or 1))
        per, summary = run_backtest(frame, plan, geos, fs, origins=origins, geographies=codes, n_paths=n_paths,
                                    thresholds=th, workers=workers)
        source = f"{_label(lang, 'source_run')}: {', '.join(codes)}; origins {origins}; " \
                 f"{n_paths} paths; data {', '.join(p.name for p in paths)}"
    demo = bool(frame["source"].astype(str).str.startswith("DEMO").any())
    settings = dict(seed=fs.seed, min_points=fs.min_points, seasonal_min_points=fs.seasonal_min_points,
                    members=", ".join(fs.members), n_paths=n_paths or "see backtest_forecasts.csv",
                    on_track=th.on_track, at_risk=th.at_risk, bins=N_BINS)
    names = {i.id: i.name(lang) for i in plan.indicators}
    names.update({g.code: g.name(lang) for g in geos.all})
    return BacktestResult(per, summary, source, lang, demo, settings, names)


def _fmt(x, pct: bool = False) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return _e(x)
    if not np.isfinite(x):
        return "—"
    return f"{x * 100:.0f}%" if pct else (f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}")


def show_header(result: BacktestResult) -> None:
    """Title, demo banner, where the numbers come from and the settings in force."""
    L = result.lang
    parts = []
    if result.demo:
        parts.append('<div class="ipeval-demo-banner" style="background:#fff3cd;border:2px solid #d39e00;'
                     f'padding:8px 12px;font-weight:bold;color:#7a5200">{_e(_label(L, "demo_banner"))}</div>')
    parts.append(f"<h1>{_e(_label(L, 'header'))}</h1><p>{_e(result.source)}</p>")
    parts.append(f"<p><b>{_e(_label(L, 'settings'))}</b>: "
                 + "; ".join(f"{_e(k)} = {_e(v)}" for k, v in result.settings.items()) + "</p>")
    _display_html("\n".join(parts))


def show_summary(result: BacktestResult) -> None:
    """The per-method summary table (Brier score, decomposition, coverage)."""
    L = result.lang
    cols = SUMMARY_COLUMNS
    out = [f"<h2>{_e(_label(L, 'summary_title'))}</h2>", '<table class="ipeval-backtest"><thead><tr>']
    out += [f"<th>{_e(_label(L, c))}</th>" for c in cols] + ["</tr></thead><tbody>"]
    for _, r in result.summary.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c == "method":
                cells.append(_e(_label(L, v) if v in (ENSEMBLE, RULES) else v))
            elif c in ("n", "n_intervals"):
                cells.append(_e(int(v)) if pd.notna(v) else "—")
            elif c in ("coverage80", "coverage95", "mean_forecast", "base_rate"):
                cells.append(_fmt(v, pct=True))
            else:
                cells.append(_e(f"{float(v):.3f}") if pd.notna(v) else "—")
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append(f"</tbody></table><p><small>{_e(_label(L, 'summary_note'))}</small></p>")
    _display_html("\n".join(out))


def show_reliability(result: BacktestResult) -> None:
    """The reliability plot, embedded as a PNG."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    fig = reliability_figure(result.per_forecast, result.lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    display(Image(data=buf.getvalue(), format="png"))


def show_forecasts(result: BacktestResult) -> None:
    """Every scored case: each method's probability next to the outcome; then the cases not scored."""
    L = result.lang
    per = result.per_forecast
    scored = per[per["scored"]]
    out = [f"<h2>{_e(_label(L, 'forecasts_title'))}</h2>"]
    if len(scored):
        keys = ["indicator_id", "geography_code", "origin"]
        wide = scored.pivot_table(index=keys, columns="method", values="probability", aggfunc="first", sort=False)
        methods = list(dict.fromkeys(scored["method"]))
        wide = wide.reindex(columns=methods)
        facts = scored.groupby(keys, sort=False)[["outcome", "realised"]].first()
        head = [_label(L, "indicator"), _label(L, "geography"), _label(L, "origin")]
        head += [_label(L, m) if m in (ENSEMBLE, RULES) else m for m in methods]
        head += [_label(L, "outcome"), _label(L, "realised")]
        out.append('<table class="ipeval-backtest"><thead><tr>' + "".join(f"<th>{_e(h)}</th>" for h in head)
                   + "</tr></thead><tbody>")
        for (ind_id, code, origin), r in wide.iterrows():
            f = facts.loc[(ind_id, code, origin)]
            cells = [_e(result.names.get(ind_id, ind_id)), _e(result.names.get(code, code)), _e(origin)]
            cells += [_fmt(r[m], pct=True) for m in methods]
            cells += [_e("✓" if f["outcome"] == 1 else "✗"), _fmt(f["realised"])]
            out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        out.append("</tbody></table>")
    rest = per[~per["scored"]].drop_duplicates(["indicator_id", "geography_code", "origin"])
    if len(rest):
        out.append(f"<h3>{_e(_label(L, 'excluded'))}</h3><ul>")
        for _, r in rest.iterrows():
            out.append(f"<li>{_e(result.names.get(r['indicator_id'], r['indicator_id']))} · "
                       f"{_e(result.names.get(r['geography_code'], r['geography_code']))} · {_e(r['origin'])}: "
                       f"{_e(r['excluded'])}</li>")
        out.append("</ul>")
    _display_html("\n".join(out))
