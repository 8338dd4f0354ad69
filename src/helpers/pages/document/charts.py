"""The charts a document shows: one picture per (indicator, geography).

:func:`chart_images` is the one place the documents get their pictures from. A run whose charts
stage has drawn ``<run>/charts/<indicator>/<geography>.png`` is used; otherwise the chart is drawn
here with :mod:`helpers.pages.plots` at 200 dpi into ``<run>/documents/charts/`` (once: a later
document of the same run reuses it).

The documents embed JPEG (quality 92) rather than PNG: a PDF can carry a JPEG as it is, while a
PNG with transparency must be decoded and re-compressed, which costs about 75 ms a chart and made
picture embedding the slowest part of writing a PDF. At 200 dpi the difference is not visible in
print.
"""

from __future__ import annotations

from pathlib import Path



DPI = 200
JPEG_QUALITY = 92


def run_charts(run_dir: Path) -> dict:
    """``{(indicator_id, geography_code): jpg}`` of the print pictures the run's charts stage drew
    (kept in the charts cache; ``.png`` in the run folder of runs made before)."""
    root = Path(run_dir) / "charts"
    if not root.is_dir():
        return {}
    from helpers.pages.chartfiles import print_pictures

    out = {(p.parent.name, p.stem): p for p in root.glob("*/*.png")}
    out.update(print_pictures(run_dir))  # the chart step's print JPEGs, in the charts cache
    return out


def chart_images(tables, geo, indicators, lang: str, out_dir: Path, existing: dict | None = None) -> dict:
    """The PNG of every indicator in ``indicators`` for ``geo``.

    Parameters
    ----------
    tables : RunTables
        The run's data, assessments and bands.
    geo : Geography
    indicators : list of Indicator
    lang : {'zh', 'en'}
        The language of the titles and legends (charts drawn here only).
    out_dir : Path
        Where charts drawn or converted here go (``<out_dir>/<lang>/<indicator>/<geo>.jpg``).
    existing : dict, optional
        ``{(indicator_id, geography_code): png}`` already drawn (:func:`run_charts`).

    Returns
    -------
    dict
        ``{(indicator_id, geography_code): Path}`` of JPEG files; indicators without a row for
        ``geo`` are left out.
    """
    existing = existing or {}
    rows = tables.table[tables.table["geography_code"] == geo.code].set_index("indicator_id")
    out = {}
    for ind in indicators:
        key = (ind.id, geo.code)
        if ind.id not in rows.index:
            continue
        if key in existing and Path(existing[key]).suffix == ".jpg":
            out[key] = Path(existing[key])  # the chart step's print JPEG as it is: no second copy
            continue
        path = Path(out_dir) / lang / ind.id / f"{geo.code}.jpg"
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            if key in existing:
                _to_jpeg(Path(existing[key]), path)
            else:
                _draw(tables, ind, geo, rows.loc[ind.id].to_dict(), lang, path)
        out[key] = path
    return out


def _to_jpeg(png: Path, dest: Path) -> None:
    from PIL import Image

    with Image.open(png) as im:
        rgb = Image.new("RGB", im.size, "white")
        rgb.paste(im, mask=im.getchannel("A") if im.mode == "RGBA" else None)
        rgb.save(dest, "JPEG", quality=JPEG_QUALITY)


def _draw(tables, ind, geo, row: dict, lang: str, path: Path) -> None:
    """One chart as the section reports draw it (:mod:`helpers.pages.charts`, the same spec and
    drawing code), saved at :data:`DPI`; for a run whose chart step did not draw it."""
    import matplotlib.pyplot as plt

    from helpers.data.reference import published_figures
    from helpers.pages.charts import chart_spec, draw

    spec = chart_spec(tables.frame, tables.plan, ind, geo, tables.geos, tables.quarter, row, tables.bands, lang,
                      published_figures(tables.settings.root))
    fig = draw(spec)
    fig.savefig(path, dpi=DPI, bbox_inches="tight", facecolor="white", pil_kwargs={"quality": JPEG_QUALITY})
    plt.close(fig)
