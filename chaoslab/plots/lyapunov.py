"""Lyapunov spectra: the exponents, their running estimates, and a parameter sweep."""
from __future__ import annotations

from bokeh.models import ColumnDataSource, LabelSet, Span
from bokeh.plotting import figure

from .attractor import PALETTE, TOOLS

__all__ = ["spectrum_figure", "convergence_figure", "sweep_figure", "MAX_CURVES"]

#: Running estimates and sweep curves drawn at most (the largest exponents).
MAX_CURVES = len(PALETTE)


def spectrum_figure(source: ColumnDataSource, *, height=300, width=380):
    """Bars of the exponents; ``source`` holds ``i`` (1, 2, ...), ``value``, ``label``."""
    p = figure(height=height, width=width, tools=TOOLS, name="spectrum",
               title="Lyapunov spectrum", x_axis_label="exponent index i",
               y_axis_label="lambda_i (per unit time)")
    p.vbar(x="i", top="value", width=0.7, source=source, color=PALETTE[0], alpha=0.8,
           name="bars")
    p.add_layout(LabelSet(x="i", y="value", text="label", source=source, text_align="center",
                          y_offset=4, text_font_size="11px"))
    p.add_layout(Span(location=0, dimension="width", line_color="black", line_width=1))
    p.xaxis.ticker.desired_num_ticks = 10
    p.toolbar.logo = None
    return p


def convergence_figure(source: ColumnDataSource, *, height=300, width=520):
    """Running estimates against integration time; ``source`` holds ``t`` and
    ``l0 .. l5``."""
    p = figure(height=height, width=width, tools=TOOLS, name="convergence",
               title="Running estimates (they settle as the average lengthens)",
               x_axis_label="integration time", y_axis_label="estimate")
    for i in range(MAX_CURVES):
        p.line("t", f"l{i}", source=source, color=PALETTE[i], line_width=1.5,
               name=f"running{i}", legend_label=f"lambda_{i + 1}")
    p.legend.location = "top_right"
    p.legend.click_policy = "hide"
    p.legend.label_text_font_size = "11px"
    p.toolbar.logo = None
    return p


def sweep_figure(source: ColumnDataSource, *, height=300, width=900):
    """Exponents against one parameter; ``source`` holds ``p`` and ``l0 .. l5``."""
    f = figure(height=height, width=width, tools=TOOLS, name="sweep",
               title="Exponents against a parameter", y_axis_label="lambda_i")
    for i in range(MAX_CURVES):
        f.line("p", f"l{i}", source=source, color=PALETTE[i], line_width=1.5,
               name=f"sweep{i}", legend_label=f"lambda_{i + 1}")
        f.scatter("p", f"l{i}", source=source, color=PALETTE[i], size=3)
    f.add_layout(Span(location=0, dimension="width", line_color="black", line_width=1))
    f.add_layout(Span(location=0, dimension="height", line_color="#555555",
                      line_dash="dotted", name="current"))
    f.legend.location = "bottom_left"
    f.legend.click_policy = "hide"
    f.legend.label_text_font_size = "11px"
    f.toolbar.logo = None
    return f
