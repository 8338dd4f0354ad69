"""A chart's print picture, the JPEG the Word/PDF documents embed (:func:`save_jpeg`).

Apart from :mod:`helpers.pages.charts` (which sets its resolution and quality: ``CHART_DPI``,
``JPEG_QUALITY``) to keep that module short."""

from __future__ import annotations

import io


def save_jpeg(fig, path: str, dpi: int, quality: int) -> None:
    """``fig`` as a JPEG on white at ``dpi`` and ``quality``: the bytes
    ``fig.savefig(path, format="jpg", dpi=dpi, facecolor="white", pil_kwargs={"quality": quality})`` writes.

    Matplotlib pastes the RGBA raster onto a white image through its alpha channel. A chart's raster
    is opaque (a white figure background), so the paste changes no pixel: dropping the alpha gives
    the same RGB and the same JPEG, and costs 1 ms instead of 6 (cProfile, 120 charts of 2025Q2's
    demo); a raster with any transparent pixel still goes through the paste.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str
        The file to write.
    dpi : int
        Pixels per inch of the raster (and in the file's header).
    quality : int
        The JPEG quality (Pillow's scale).
    """
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    if not isinstance(fig.canvas, FigureCanvasAgg):  # its raster is read from the canvas below
        FigureCanvasAgg(fig)
    buf = io.BytesIO()
    with matplotlib.rc_context({"savefig.facecolor": "white", "savefig.transparent": False}):  # as print_jpg
        fig.savefig(buf, format="rgba", dpi=dpi, facecolor="white")
    r = fig.canvas.renderer  # the raster just drawn: its size in pixels
    size = (int(r.width), int(r.height))
    image = Image.frombuffer("RGBA", size, np.frombuffer(buf.getbuffer(), np.uint8), "raw", "RGBA", 0, 1)
    if image.getchannel("A").getextrema() == (255, 255):
        rgb = image.convert("RGB")
    else:
        rgb = Image.new("RGB", size, (255, 255, 255))
        rgb.paste(image, image)
    rgb.save(path, format="jpeg", quality=quality, dpi=(dpi, dpi))
