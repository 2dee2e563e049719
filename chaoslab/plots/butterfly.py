"""The butterfly effect: separations of an ensemble from its reference, on a log scale."""
from __future__ import annotations

from bokeh.models import ColumnDataSource, Legend, LegendItem, Span
from bokeh.plotting import figure

from .attractor import TOOLS

__all__ = ["separation_figure"]


def separation_figure(members: ColumnDataSource, summary: ColumnDataSource, *,
                      height=300, width=440):
    """Separation against time on a log axis.

    ``members`` holds ``xs, ys`` (one faint line per ensemble member); ``summary`` holds
    ``t``, ``typical`` (the geometric mean separation) and ``predicted`` (``d0 e^(lambda t)``).
    The figure's ``cursor`` span marks the time the cloud on the attractor shows.
    """
    p = figure(height=height, width=width, y_axis_type="log", tools=TOOLS,
               x_axis_label="time since release", y_axis_label="separation",
               name="separation", title="Butterfly effect: nearby starts drift apart")
    r_members = p.multi_line("xs", "ys", source=members, line_color="#9467bd",
                             line_alpha=0.25, line_width=1, name="members")
    r_typ = p.line("t", "typical", source=summary, line_color="#1f4e79", line_width=2.5,
                   name="typical")
    r_pred = p.line("t", "predicted", source=summary, line_color="#d62728", line_width=2,
                    line_dash="dashed", name="predicted")
    legend = Legend(items=[LegendItem(label="each member", renderers=[r_members]),
                           LegendItem(label="typical (geometric mean)", renderers=[r_typ]),
                           LegendItem(label="e^(lambda_1 t) from the start",
                                      renderers=[r_pred])],
                    location="top_left", background_fill_alpha=0.7,
                    label_text_font_size="11px")
    p.add_layout(legend)
    cursor = Span(location=0, dimension="height", line_color="#555555", line_dash="dotted",
                  line_width=1.5, name="cursor")
    p.add_layout(cursor)
    p.toolbar.logo = None
    return p
