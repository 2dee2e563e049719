"""Attractor projections and time series.

The figures are built once and relabelled when the system changes, so a view can swap
systems by replacing data, never models.

The attractor figure draws three columns ``x, y, z`` of a source through a
:class:`Projection`: either the plane ``(x, y)`` or an orthographic view of ``(x, y, z)``
from an azimuth and an elevation. BokehJS computes the projection in the browser, so
turning the view sends two numbers to the page, not the trajectory, and streamed points
are projected as they arrive.
"""
from __future__ import annotations

from bokeh.core.properties import Bool, Float, expr, value
from bokeh.model import DataModel
from bokeh.models import (ColumnDataSource, CustomJSExpr, Legend, LegendItem,
                          LinearColorMapper)
from bokeh.plotting import figure

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
MAX_SERIES = len(PALETTE)
TOOLS = "pan,wheel_zoom,box_zoom,reset,save"

__all__ = ["Projection", "THREE_D", "view_options", "view_axes", "projection_columns",
           "attractor_figure", "label_attractor", "timeseries_figure",
           "label_timeseries", "MAX_SERIES", "PALETTE", "TOOLS", "trajectory_columns"]


class Projection(DataModel):
    """How the attractor figure maps ``(x, y, z)`` to the screen (degrees)."""

    azimuth = Float(default=-60.0, help="rotation about the z axis, degrees")
    elevation = Float(default=20.0, help="height of the eye above the x-y plane, degrees")
    three_d = Bool(default=True, help="orthographic 3-D view; else the plane (x, y)")


# u = x cos a - y sin a;  v = z cos e + (x sin a + y cos a) sin e  (right-handed: at
# a = 0, e = 0 one looks along +y at the x-z plane; at e = 90 down onto the x-y plane)
_PROJECT = """
const x = this.get_column("x"), y = this.get_column("y"), z = this.get_column("z");
const n = x == null ? 0 : x.length;
const out = new Float64Array(n);
const shift = {shift};
if (!view.three_d) {{
  const c = {axis} == 0 ? x : y;
  for (let i = 0; i < n; i++) out[i] = c[Math.min(i + shift, n - 1)];
  return out;
}}
const a = view.azimuth * Math.PI / 180, e = view.elevation * Math.PI / 180;
const ca = Math.cos(a), sa = Math.sin(a), ce = Math.cos(e), se = Math.sin(e);
for (let k = 0; k < n; k++) {{
  const i = Math.min(k + shift, n - 1);
  out[k] = {axis} == 0 ? x[i] * ca - y[i] * sa : z[i] * ce + (x[i] * sa + y[i] * ca) * se;
}}
return out;
"""

# a fading trail: opacity rises with the index (the newest point is the last)
_FADE = """
const n = this.get_length() || 0;
const out = new Float64Array(n);
for (let i = 0; i < n; i++) out[i] = Math.pow((i + 1) / n, 1.5) * {top};
return out;
"""

# only the newest point is drawn (the head of the trail)
_HEAD = """
const n = this.get_length() || 0;
const out = new Float64Array(n);
if (n) out[n - 1] = {size};
return out;
"""


def _projected(projection, axis, shift=0):
    return CustomJSExpr(args=dict(view=projection),
                        code=_PROJECT.format(axis=axis, shift=shift))


def trajectory_columns():
    """Empty columns of the sources the attractor figure reads."""
    return {"t": [], "x": [], "y": [], "z": []}


THREE_D = "3-D (rotatable)"


def view_options(variables) -> list:
    """The views of a system with these variables: the rotatable 3-D view (three or more
    variables), the planes of pairs among the first four, or a 1-D map's delay plot."""
    v = list(variables)
    if len(v) == 1:
        return [f"{v[0]}(n) vs {v[0]}(n+1)"]
    first = v[:4]
    pairs = [f"{a}-{b}" for i, a in enumerate(first) for b in first[i + 1:]]
    return ([THREE_D] if len(v) >= 3 else []) + pairs


def view_axes(view: str, variables) -> tuple:
    """Indices of the variables in columns ``x, y, z`` for a view of
    :func:`view_options`, and the axis labels (empty in 3-D)."""
    v = list(variables)
    if view == THREE_D:
        return (0, 1, 2), ("", "")
    if len(v) == 1:
        return (0, 0, 0), (f"{v[0]}(n)", f"{v[0]}(n+1)")
    a, b = view.split("-", 1)
    return (v.index(a), v.index(b), v.index(b)), (a, b)


def projection_columns(t, x, cols, prev=None) -> dict:
    """Source columns ``t, x, y, z`` from samples ``x (n, dim)`` and the indices ``cols``
    of :func:`view_axes`. A 1-D map pairs each sample with the next (its delay plot);
    ``prev`` is the sample before ``x`` when streaming."""
    import numpy as np

    t = np.asarray(t)
    x = np.asarray(x)
    if x.shape[1] == 1:
        seq = x[:, 0] if prev is None else np.concatenate([[prev], x[:, 0]])
        return {"t": t[1:] if prev is None else t, "x": seq[:-1], "y": seq[1:],
                "z": seq[1:]}
    a, b, c = cols
    return {"t": t, "x": x[:, a], "y": x[:, b], "z": x[:, c]}


def attractor_figure(path: ColumnDataSource, trail: ColumnDataSource,
                     cloud: ColumnDataSource, projection: Projection, *, height=440,
                     width=520, trail_color="#d62728", n_members=32):
    """The attractor: the whole path, the fading trail of the live run, and a cloud.

    ``path`` and ``trail`` hold ``x, y, z`` (and ``t``); ``cloud`` holds ``x, y, z`` and
    ``member`` (an integer colouring each member of an ensemble). The path is drawn as a
    line (flows) or points (maps); :func:`label_attractor` picks one.
    """
    p = figure(height=height, width=width, tools=TOOLS, output_backend="canvas",
               name="attractor", match_aspect=True)
    u, v = _projected(projection, 0), _projected(projection, 1)
    u1, v1 = _projected(projection, 0, 1), _projected(projection, 1, 1)
    # a hidden renderer reads an empty source: BokehJS re-indexes every renderer's data
    # on each change, and the path is long (see label_attractor)
    empty = ColumnDataSource(trajectory_columns())
    swap = {}
    swap[path] = [p.line(expr(u), expr(v), source=path, line_width=1, alpha=0.55,
                         color=PALETTE[0], name="line"),
                  p.scatter(expr(u), expr(v), source=empty, size=2, alpha=0.5,
                            color=PALETTE[0], name="points", visible=False)]
    fade = CustomJSExpr(code=_FADE.format(top=1.0))
    swap[trail] = [p.segment(expr(u), expr(v), expr(u1), expr(v1), source=trail,
                             line_width=2.5, line_color=trail_color, line_alpha=expr(fade),
                             name="trail"),
                   p.scatter(expr(u), expr(v), source=empty, size=5, color=trail_color,
                             alpha=expr(CustomJSExpr(code=_FADE.format(top=0.9))),
                             name="trail-points", visible=False)]
    for real, renderers in swap.items():
        for r in renderers:
            r.tags = [real, empty]
    p.scatter(expr(u), expr(v), source=trail, color=trail_color, line_color="white",
              size=expr(CustomJSExpr(code=_HEAD.format(size=10))), name="head")
    mapper = LinearColorMapper(palette="Turbo256", low=0, high=max(1, n_members - 1))
    p.scatter(expr(u), expr(v), source=cloud, size=6, line_color="black", line_width=0.5,
              fill_color={"field": "member", "transform": mapper}, name="cloud")
    p.toolbar.logo = None
    return p


def label_attractor(p, title: str, xlabel: str, ylabel: str, points: bool,
                    three_d: bool):
    """Title and axis labels; points (maps) or a line (flows); axes hidden in 3-D."""
    p.title.text = title
    p.xaxis.axis_label = xlabel
    p.yaxis.axis_label = ylabel
    shown = {"line": not points, "points": points, "trail": not points,
             "trail-points": points}
    for name, on in shown.items():
        r = p.select_one({"name": name})
        real, empty = r.tags
        r.visible = on
        r.data_source = real if on else empty
    for ax in (*p.xaxis, *p.yaxis):
        ax.major_label_text_alpha = 0.0 if three_d else 1.0
        ax.major_tick_line_alpha = 0.0 if three_d else 1.0
        ax.minor_tick_line_alpha = 0.0 if three_d else 1.0
    p.grid.visible = not three_d
    p.match_aspect = three_d


def timeseries_figure(source: ColumnDataSource, *, height=230, width=900):
    """Up to six series against time; ``source`` holds ``t`` and ``y0 ..`` (only the
    series shown: :func:`label_timeseries` points the others at an empty source)."""
    p = figure(height=height, width=width, x_axis_label="t", tools=TOOLS,
               name="timeseries")
    empty = ColumnDataSource({"t": [], **{f"y{i}": [] for i in range(MAX_SERIES)}})
    items = []
    for i in range(MAX_SERIES):
        r = p.line("t", f"y{i}", source=source, color=PALETTE[i], line_width=1,
                   name=f"series{i}")
        r.tags = [source, empty]
        items.append(LegendItem(label=value(f"series {i}"), renderers=[r]))
    legend = Legend(items=items, location="top_left", click_policy="hide")
    p.add_layout(legend, "right")
    p.toolbar.logo = None
    return p


def label_timeseries(p, names, xlabel="t"):
    """Show one series per name (at most six) with the names in the legend."""
    legend = p.legend[0]
    for i, item in enumerate(legend.items):
        on = i < len(names)
        r = item.renderers[0]
        r.visible = on
        r.data_source = r.tags[0] if on else r.tags[1]
        item.visible = on
        if on:
            item.label = value(names[i])
    p.xaxis.axis_label = xlabel
