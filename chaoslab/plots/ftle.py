"""FTLE fields: an image with a colour bar, and trajectories seeded by a click."""
from __future__ import annotations

from bokeh.models import ColorBar, ColumnDataSource, EqHistColorMapper
from bokeh.plotting import figure

from .attractor import TOOLS

__all__ = ["ftle_figure", "ftle_image_columns"]


def ftle_image_columns(field, x, y):
    """Columns for :func:`ftle_figure` from ``field`` of shape ``(len(x), len(y))``
    (chaoslab's layout) on evenly spaced grid coordinates ``x``, ``y``."""
    import numpy as np

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    # Bokeh images are rows of y; pixel centres sit on the grid points
    return {"image": [np.ascontiguousarray(np.asarray(field, dtype=float).T)],
            "x": [x[0] - dx / 2], "y": [y[0] - dy / 2],
            "dw": [x[-1] - x[0] + dx], "dh": [y[-1] - y[0] + dy]}


def ftle_figure(image: ColumnDataSource, seeds: ColumnDataSource, *, height=440,
                width=760):
    """The field in ``image`` (columns ``image, x, y, dw, dh``) with a colour bar, and
    seeded trajectories in ``seeds`` (``xs, ys``) drawn over it."""
    p = figure(height=height, width=width, tools=TOOLS + ",tap", name="ftle",
               match_aspect=True, title="FTLE field (click to release particles)")
    # histogram-equalised colours (computed by BokehJS): the walls of a flow's box or a
    # few diverging points do not wash out the ridges
    mapper = EqHistColorMapper(palette="Magma256", nan_color="#cccccc")
    p.image("image", x="x", y="y", dw="dw", dh="dh", source=image, color_mapper=mapper,
            name="field")
    p.multi_line("xs", "ys", source=seeds, line_color="#00e5ff", line_width=1.5,
                 line_alpha=0.9, name="seeds")
    p.scatter("x0", "y0", source=seeds, color="#00e5ff", size=6, name="seed-starts")
    bar = ColorBar(color_mapper=mapper, title="FTLE (per unit time)", width=12,
                   name="colorbar")
    p.add_layout(bar, "right")
    p.grid.visible = False
    p.toolbar.logo = None
    return p
