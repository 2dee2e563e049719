"""Attractor projections and time series.

The figures are built once and relabelled when the system changes, so a view can swap
systems by replacing data, never models.
"""
from __future__ import annotations

from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, Legend, LegendItem
from bokeh.plotting import figure

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf")
MAX_SERIES = len(PALETTE)


def attractor_figure(source: ColumnDataSource, *, height=440, width=540):
    """A 2-D projection of the trajectory in ``source`` (columns ``a`` and ``b``).

    Holds a line renderer (flows) and a point renderer (maps); :func:`label_attractor`
    picks one and sets the labels.
    """
    p = figure(height=height, width=width, tools="pan,wheel_zoom,box_zoom,reset,save",
               output_backend="canvas", name="attractor")
    p.line("a", "b", source=source, line_width=1, alpha=0.8, color=PALETTE[0], name="line")
    p.scatter("a", "b", source=source, size=2, alpha=0.6, color=PALETTE[0], name="points",
              visible=False)
    return p


def label_attractor(p, title: str, xlabel: str, ylabel: str, points: bool):
    p.title.text = title
    p.xaxis.axis_label = xlabel
    p.yaxis.axis_label = ylabel
    p.select_one({"name": "line"}).visible = not points
    p.select_one({"name": "points"}).visible = points


def timeseries_figure(source: ColumnDataSource, *, height=230, width=900):
    """Up to six series against time; ``source`` holds ``t`` and ``y0 .. y5``."""
    p = figure(height=height, width=width, x_axis_label="t",
               tools="pan,wheel_zoom,box_zoom,reset,save", name="timeseries")
    items = []
    for i in range(MAX_SERIES):
        r = p.line("t", f"y{i}", source=source, color=PALETTE[i], line_width=1,
                   name=f"series{i}")
        items.append(LegendItem(label=value(f"series {i}"), renderers=[r]))
    legend = Legend(items=items, location="top_left", click_policy="hide")
    p.add_layout(legend)
    return p


def label_timeseries(p, names, xlabel="t"):
    """Show one series per name (at most six) with the names in the legend."""
    legend = p.legend[0]
    for i, item in enumerate(legend.items):
        on = i < len(names)
        item.renderers[0].visible = on
        item.visible = on
        if on:
            item.label = value(names[i])
    p.xaxis.axis_label = xlabel
