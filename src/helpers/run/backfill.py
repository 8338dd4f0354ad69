"""Backfill a range of quarters and draw how each target's probability evolved (``ipeval backfill``).

Each quarter is a normal run (:func:`helpers.run.quarter.run_quarter`), so it uses only the data of
periods ended by that quarter. The timeline page (``outputs/timeline.html``) reads each published
quarter's ``assessments.csv``: per target, the city's probability quarter by quarter, and the
outcome once the due date is inside the range.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pandas as pd

from helpers.exceptions import InvalidPeriodError
from helpers.i18n import et
from helpers.plan.periods import Quarter, quarter_range


def parse_range(text: str, today=None) -> list[Quarter]:
    """``2024Q1:2025Q4`` -> every quarter from the first to the last.

    The whole range is checked before any quarter runs: a range reaching past the last quarter
    that has ended (by ``today``, default now) is refused, so a backfill never publishes a quarter
    that is not over (it published 2026Q4...2028Q1 as "final" before).
    """
    from helpers.plan.periods import latest_complete_quarter

    if ":" not in text:
        raise InvalidPeriodError(et("range_format", text=repr(text)))
    a, b = (Quarter.parse(x) for x in text.split(":", 1))
    if b < a:
        raise InvalidPeriodError(et("range_reversed", text=repr(text)))
    last = latest_complete_quarter(today)
    if b > last:
        raise InvalidPeriodError(et("range_not_ended", text=repr(text), q=b, last=last))
    return quarter_range(a, b)


def collect(out_root: Path, quarters: list[Quarter], geography: str) -> pd.DataFrame:
    """The published assessments of ``geography`` for each quarter (missing quarters are skipped)."""
    frames = []
    for q in quarters:
        f = out_root / str(q) / "assessments.csv"
        if f.is_file():
            d = pd.read_csv(f, dtype={"geography_code": str})
            frames.append(d[d["geography_code"] == geography].assign(as_of=str(q)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def render_timeline(out_root: Path, quarters: list[Quarter], plan, geos, lang: str = "zh",
                    geography: str | None = None) -> Path:
    """Write ``outputs/timeline.html``: a small chart per target of the probability by as-of quarter."""
    import matplotlib.pyplot as plt
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from helpers.i18n import STATUS_NAMES
    from helpers.pages.plots import STATUS_COLOURS, use_cjk_font
    from helpers.pages.report import TEMPLATES

    use_cjk_font()
    code = geography or geos.city.code
    data = collect(out_root, quarters, code)
    items = []
    for ind in plan.targets:
        d = data[data["indicator_id"] == ind.id] if len(data) else data
        if d.empty:
            continue
        x = list(range(len(d)))
        fig, ax = plt.subplots(figsize=(5, 2.2), dpi=80)
        ax.plot(x, d["probability"] * 100, marker="o", color="#08519c")
        for xi, st in zip(x, d["status"]):
            ax.scatter([xi], [105], color=STATUS_COLOURS.get(st, "#999"), s=30)
        ax.set_xticks(x, d["as_of"], rotation=45, fontsize=7)
        ax.set_ylim(-5, 110)
        ax.set_ylabel("%")
        ax.set_title(ind.name(lang), fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        final = d.iloc[-1]
        outcome = STATUS_NAMES[lang].get(final["status"], final["status"]) if final["as_of"] >= str(ind.target.due) else ""
        items.append(dict(name=ind.name(lang), png=base64.b64encode(buf.getvalue()).decode(), outcome=outcome,
                          due=str(ind.target.due)))
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("timeline.html.j2").render(
        items=items, plan=plan, lang=lang, geography=geos.get(code).name(lang),
        first=str(quarters[0]), last=str(quarters[-1]))
    out = out_root / "timeline.html"
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def as_of_for(settings, q: Quarter):
    """The time a backfilled quarter is read as known at: its scheduled run, or now if that is
    still ahead (a quarter just ended whose scheduled run has not come yet)."""
    from datetime import datetime, timezone

    from helpers.run.schedule import scheduled_run_time

    return min(scheduled_run_time(settings, q), datetime.now(timezone.utc))
