"""Figures for the analysis toolbox: cobweb, basins, continuation, early warnings,
recurrence plots and map densities. Arrays in, Bokeh figures out; no numerics here."""
from __future__ import annotations

import numpy as np
from bokeh.models import LinearColorMapper, LogColorMapper
from bokeh.palettes import Category10_10, Greys256, Viridis256
from bokeh.plotting import figure

from .attractor import TOOLS

__all__ = ["cobweb_figure", "basins_figure", "continuation_figure",
           "continuation_orbit_figure", "early_warning_figure",
           "recurrence_figure", "density_figure", "fixed_points_columns",
           "fixed_points_figure"]

#: colours of attractors 0, 1, 2, ...; diverged starts (-1) are light grey
BASIN_COLOURS = list(Category10_10)
DIVERGED = "#dddddd"


def _finish(f):
    f.toolbar.logo = None
    return f


def cobweb_figure(curve_x, curve_y, path_x, path_y, *, height=420, width=420,
                  title="Cobweb"):
    """The graph of a 1-D map, the diagonal, and the cobweb path of an orbit (from
    :func:`chaoslab.analysis.cobweb`)."""
    f = figure(height=height, width=width, tools=TOOLS, title=title, name="cobweb",
               x_axis_label="x_n", y_axis_label="x_{n+1}")
    lo = float(np.nanmin(curve_x))
    hi = float(np.nanmax(curve_x))
    f.line([lo, hi], [lo, hi], color="#888888", line_dash="dashed", name="cobweb-diagonal")
    f.line(curve_x, curve_y, color="#1f4e79", line_width=2, name="cobweb-map")
    f.line(path_x, path_y, color="#d62728", line_width=1.2, alpha=0.8, name="cobweb-orbit")
    f.scatter(path_x[:1], path_y[:1], size=7, color="#d62728", name="cobweb-start")
    return _finish(f)


def basins_figure(basins, x, y, *, attractors=None, height=480, width=520,
                  x_label="x", y_label="y", title="Basins of attraction"):
    """A 2-D array of attractor labels ``basins[i, j]`` at ``(x[i], y[j])`` as an image,
    one colour per attractor (grey: diverged), with the attractors' points
    (``{label: (n, 2) array}`` in the same two variables) drawn on top."""
    B = np.asarray(basins)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = max(int(B.max()) + 1, 1)
    palette = [DIVERGED] + [BASIN_COLOURS[k % len(BASIN_COLOURS)] for k in range(n)]
    mapper = LinearColorMapper(palette=palette, low=-1.5, high=n - 0.5)
    f = figure(height=height, width=width, tools=TOOLS + ",tap", title=title, name="basins",
               x_range=(x[0], x[-1]), y_range=(y[0], y[-1]), x_axis_label=x_label,
               y_axis_label=y_label)
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1)
    dy = (y[-1] - y[0]) / max(len(y) - 1, 1)
    f.image(image=[B.T.astype(float)], x=x[0] - dx / 2, y=y[0] - dy / 2,
            dw=x[-1] - x[0] + dx, dh=y[-1] - y[0] + dy, color_mapper=mapper,
            name="basins-image")
    for k, pts in (attractors or {}).items():
        pts = np.asarray(pts, dtype=float)
        f.scatter(pts[:, 0], pts[:, 1], size=2, color="black", alpha=0.6,
                  name=f"basins-attractor-{k}")
    return _finish(f)


def continuation_figure(values, fraction_table, ids, *, parameter="p", height=360,
                        width=720, title="Basin fractions across the parameter"):
    """Stacked basin fractions of each attractor id against the parameter (from
    :class:`chaoslab.analysis.ContinuationResult`'s ``values``, ``fraction_table()``,
    ``ids``)."""
    v = np.asarray(values, dtype=float)
    T = np.asarray(fraction_table, dtype=float).reshape(len(v), -1)
    f = figure(height=height, width=width, tools=TOOLS, title=title, name="continuation",
               x_axis_label=parameter, y_axis_label="basin fraction", y_range=(0, 1))
    base = np.zeros(len(v))
    for j, k in enumerate(ids):
        top = base + T[:, j]
        f.varea(x=v, y1=base, y2=top, fill_color=BASIN_COLOURS[k % len(BASIN_COLOURS)],
                fill_alpha=0.8, legend_label=f"attractor {k}", name=f"continuation-{k}")
        base = top
    f.legend.location = "top_left"
    return _finish(f)


def continuation_orbit_figure(p, x, ids, *, parameter="p", variable="x", height=360,
                              width=720, title="Attractors across the parameter"):
    """The orbit diagram of a continuation: the points ``(p, x)`` of each attractor,
    coloured by its id (from :meth:`chaoslab.analysis.ContinuationResult.orbit_points`),
    so coexisting attractors show side by side in the colours of the fractions figure."""
    p, x, ids = (np.asarray(a) for a in (p, x, ids))
    f = figure(height=height, width=width, tools=TOOLS, title=title,
               name="continuation-orbits", x_axis_label=parameter, y_axis_label=variable)
    for k in np.unique(ids):
        m = ids == k
        f.scatter(p[m], x[m], size=2, alpha=0.5, color=BASIN_COLOURS[int(k) % len(BASIN_COLOURS)],
                  legend_label=f"attractor {int(k)}", name=f"continuation-orbit-{int(k)}")
    if f.legend:
        f.legend.location = "top_left"
        f.legend.click_policy = "hide"
    return _finish(f)


def early_warning_figure(t, x, trend, indicators, tau=None, *, height=220, width=760,
                         names=("variance", "ac1")):
    """The series with its trend, and each indicator in ``names`` below it (one figure
    with a shared time axis per panel), titled with Kendall's tau when given."""
    from bokeh.layouts import column

    t = np.asarray(t, dtype=float)
    top = figure(height=height, width=width, tools=TOOLS, title="Series and trend",
                 name="ew-series")
    top.line(t, x, color="#1f4e79", alpha=0.6, name="ew-x")
    top.line(t, trend, color="#d62728", line_width=2, name="ew-trend")
    panels = [_finish(top)]
    for name in names:
        tt = "" if tau is None else f" (Kendall tau {tau.get(name, float('nan')):+.2f})"
        g = figure(height=height, width=width, tools=TOOLS, x_range=top.x_range,
                   title=f"{name}{tt}", name=f"ew-{name}")
        g.line(t, indicators[name], color="#2ca02c", line_width=2, name=f"ew-{name}-line")
        panels.append(_finish(g))
    return column(*panels)


def recurrence_figure(rows, cols, n, *, height=480, width=480, title="Recurrence plot"):
    """The recurrent pairs ``(rows[k], cols[k])`` of an ``n``-point series as dots
    (from a sparse recurrence matrix's ``nonzero()``)."""
    f = figure(height=height, width=width, tools=TOOLS, title=title, name="recurrence",
               x_range=(0, n), y_range=(0, n), x_axis_label="i", y_axis_label="j",
               output_backend="webgl")
    f.scatter(np.asarray(cols), np.asarray(rows), size=1, color="black", alpha=0.5,
              name="recurrence-pairs")
    return _finish(f)


def density_figure(counts, x_range, y_range, *, height=560, width=560, log=True,
                   title="Attractor density", dark=True):
    """Visits per pixel ``counts (ny, nx)`` over ``x_range`` x ``y_range`` as an image
    (logarithmic colour by default; from :func:`chaoslab.analysis.map_density`)."""
    C = np.asarray(counts, dtype=float)
    C = np.where(C > 0, C, np.nan)
    palette = Greys256 if dark else Viridis256[::-1]
    hi = float(np.nanmax(C)) if np.isfinite(C).any() else 1.0
    mapper = (LogColorMapper(palette=palette, low=1, high=max(hi, 2), nan_color="black"
                             if dark else "white") if log else
              LinearColorMapper(palette=palette, low=0, high=hi,
                                nan_color="black" if dark else "white"))
    f = figure(height=height, width=width, tools=TOOLS, title=title, name="density",
               x_range=x_range, y_range=y_range, match_aspect=True)
    f.image(image=[C], x=x_range[0], y=y_range[0], dw=x_range[1] - x_range[0],
            dh=y_range[1] - y_range[0], color_mapper=mapper, name="density-image")
    f.grid.visible = False
    if dark:
        f.background_fill_color = "black"
    return _finish(f)


def fixed_points_figure(x, y, columns, *, x_label="x", y_label="y", height=460, width=620,
                        title="Fixed points"):
    """An attractor's projection ``(x, y)`` in grey with fixed points on top (``columns``
    from :func:`fixed_points_columns`: green stable, red unstable)."""
    f = figure(height=height, width=width, tools=TOOLS, title=title, name="fixed-points",
               x_axis_label=x_label, y_axis_label=y_label, output_backend="webgl")
    f.scatter(np.asarray(x), np.asarray(y), size=1.5, color="#999999", alpha=0.5,
              name="fixed-points-attractor")
    from bokeh.models import ColumnDataSource

    f.scatter("x", "y", source=ColumnDataSource(dict(columns)), size=12, color="colour",
              line_color="black", name="fixed-point-markers")
    return _finish(f)


def fixed_points_columns(points, stable, i=0, j=1) -> dict:
    """Columns for drawing fixed points on an attractor's projection ``(i, j)``: ``x``,
    ``y``, ``colour`` (green stable, red unstable) and ``label``."""
    P = np.asarray(points, dtype=float).reshape(len(stable), -1)
    st = np.asarray(stable, dtype=bool)
    return {"x": P[:, i], "y": P[:, j],
            "colour": np.where(st, "#2ca02c", "#d62728").tolist(),
            "label": np.where(st, "stable", "unstable").tolist()}

