"""Orbit (bifurcation) diagrams."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, Span
from bokeh.plotting import figure

from .attractor import TOOLS

__all__ = ["orbit_figure", "orbit_columns"]


def orbit_columns(values, points):
    """Columns ``p, v`` for :func:`orbit_figure`: one row per kept state, from
    :func:`chaoslab.orbit_diagram`'s ``values (n,)`` and NaN-padded ``points (n, m)``."""
    values = np.asarray(values, dtype=float)
    points = np.asarray(points, dtype=float)
    p = np.repeat(values, points.shape[1])
    v = points.ravel()
    keep = np.isfinite(v)
    return {"p": p[keep], "v": v[keep]}


def orbit_figure(source: ColumnDataSource, *, height=480, width=900):
    """The asymptotic states (``v``) against the parameter (``p``), as faint dots."""
    f = figure(height=height, width=width, tools=TOOLS, name="orbit",
               title="Orbit diagram", output_backend="webgl")
    f.scatter("p", "v", source=source, size=1.5, color="#1f4e79", alpha=0.35,
              name="states")
    f.add_layout(Span(location=0, dimension="height", line_color="#d62728",
                      line_dash="dotted", line_width=1.5, name="current"))
    f.toolbar.logo = None
    return f
