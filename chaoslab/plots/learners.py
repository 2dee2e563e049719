"""Figures of the learners tab: forecast divergence, valid prediction times, forecast vs
truth, learned exponents, precision sensitivity.

Builders take a :class:`bokeh.models.ColumnDataSource` (or plain arrays) and return
figures; the view replaces the sources' data when a new result arrives. Learners are
drawn in a fixed colour order so a learner keeps its colour across figures.
"""
from __future__ import annotations

from bokeh.models import ColumnDataSource, HoverTool, Span
from bokeh.plotting import figure

from .attractor import TOOLS

# ten distinct colours (Tableau 10), one per learner
COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1",
          "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728")

__all__ = ["COLORS", "divergence_figure", "divergence_columns", "vpt_figure", "vpt_columns",
           "overlay_figure", "exponent_figure", "precision_figure"]


def show_slots(fig, prefix, names, extra=()):
    """Label and show the first ``len(names)`` per-learner renderers of a figure built with
    placeholder slots (renderers named ``prefix0, prefix1, ...``); hide the rest."""
    items = fig.legend[0].items if fig.legend else []
    for i, item in enumerate(items):
        on = i < len(names)
        if on:
            item.label = {"value": names[i]}
        item.visible = on
        for pre in (prefix,) + tuple(extra):
            r = fig.select_one({"name": f"{pre}{i}"})
            if r is not None:
                r.visible = on


def divergence_columns(t, curves, slots=None):
    """Columns for :func:`divergence_figure`: ``t`` and, per learner ``name`` ->
    ``(median, q_low, q_high)``, the arrays ``name``, ``name_lo``, ``name_hi``.
    Non-finite values (a lost forecast) are clipped to 1e3 so the log axis stays drawable."""
    import numpy as np

    data = {"t": np.asarray(t, dtype=float)}
    for i, (name, (med, lo, hi)) in enumerate(curves.items()):
        for key, arr in ((f"m{i}", med), (f"lo{i}", lo), (f"hi{i}", hi)):
            a = np.asarray(arr, dtype=float)
            data[key] = np.clip(np.where(np.isfinite(a), a, 1e3), 1e-8, 1e3)
    for i in range(len(curves), slots or 0):          # unused slots: empty (NaN) columns
        for key in (f"m{i}", f"lo{i}", f"hi{i}"):
            data[key] = np.full(len(data["t"]), np.nan)
    return data


def divergence_figure(source: ColumnDataSource, names, threshold=0.4, vpts=None,
                      height=340):
    """Median normalised error against time in Lyapunov times (log scale), an
    interquartile band per learner, the VPT threshold, and a marker at each learner's
    median VPT."""
    p = figure(height=height, sizing_mode="stretch_width", y_axis_type="log", tools=TOOLS,
               x_axis_label="time since the last observation (Lyapunov times)",
               y_axis_label="normalised error e(t)", title="Forecast divergence",
               name="divergence")
    for i, name in enumerate(names):
        c = COLORS[i % len(COLORS)]
        p.varea(x="t", y1=f"lo{i}", y2=f"hi{i}", source=source, fill_color=c, fill_alpha=0.15,
                name=f"band{i}")
        p.line(x="t", y=f"m{i}", source=source, line_color=c, line_width=2, legend_label=name,
               name=f"median{i}")
        # one VPT marker per learner; hidden while its learner has no VPT
        has = vpts is not None and name in vpts
        p.add_layout(Span(location=float(vpts[name]) if has else 0.0, dimension="height",
                          line_color=c, line_dash="dashed", line_width=1.5, visible=has,
                          name=f"vpt{i}"))
    p.add_layout(Span(location=threshold, dimension="width", line_color="black",
                      line_dash="dotted"))
    if names:
        p.legend.location = "bottom_right"
        p.legend.click_policy = "hide"
    return p


def vpt_columns(names, vpt_median, q25, q75):
    return {"learner": list(names), "vpt": list(map(float, vpt_median)),
            "q25": list(map(float, q25)), "q75": list(map(float, q75)),
            "color": [COLORS[i % len(COLORS)] for i in range(len(names))]}


def vpt_figure(source: ColumnDataSource, names, height=300):
    """Median valid prediction time of each learner (bars) with its interquartile range."""
    from bokeh.models import Whisker

    p = figure(height=height, sizing_mode="stretch_width", x_range=list(names), tools=TOOLS,
               y_axis_label="valid prediction time (Lyapunov times)",
               title="Valid prediction time (median over starts)", name="vpt")
    p.vbar(x="learner", top="vpt", width=0.7, source=source, fill_color="color",
           line_color=None)
    p.add_layout(Whisker(base="learner", lower="q25", upper="q75", source=source))
    p.add_tools(HoverTool(tooltips=[("learner", "@learner"), ("VPT", "@vpt{0.00}"),
                                    ("quartiles", "@q25{0.00} to @q75{0.00}")]))
    p.xaxis.major_label_orientation = 0.6
    p.y_range.start = 0
    return p


def overlay_figure(source: ColumnDataSource, names, variable="x", height=300):
    """The true continuation (black) and each learner's forecast of one variable from the
    same start; columns ``t``, ``truth`` and ``f0, f1, ...``."""
    p = figure(height=height, sizing_mode="stretch_width", tools=TOOLS,
               x_axis_label="time since the last observation (Lyapunov times)",
               y_axis_label=variable, title="Forecast vs truth (first start)",
               name="overlay")
    p.line(x="t", y="truth", source=source, line_color="black", line_width=2.5,
           legend_label="truth")
    for i, name in enumerate(names):
        p.line(x="t", y=f"f{i}", source=source, line_color=COLORS[i % len(COLORS)],
               line_width=1.5, legend_label=name, name=f"forecast{i}")
    p.legend.click_policy = "hide"
    p.legend.location = "top_left"
    return p


def exponent_figure(names, learned, true_value, height=280):
    """Largest Lyapunov exponent of each trained model against the system's (line)."""
    import numpy as np

    vals = [float(v) if np.isfinite(v) else 0.0 for v in learned]
    src = ColumnDataSource({"learner": list(names), "lam": vals,
                            "color": [COLORS[i % len(COLORS)] for i in range(len(names))]})
    p = figure(height=height, sizing_mode="stretch_width", x_range=list(names), tools=TOOLS,
               y_axis_label="largest exponent (per unit time)",
               title="Learned vs true largest Lyapunov exponent", name="exponents")
    p.vbar(x="learner", top="lam", width=0.7, source=src, fill_color="color", line_color=None)
    p.add_layout(Span(location=float(true_value), dimension="width", line_color="black",
                      line_dash="dashed", line_width=2))
    p.xaxis.major_label_orientation = 0.6
    return p


def precision_figure(t, curves, height=280):
    """Distance between a learner's float32 and bfloat16 rollouts from the same start."""
    import numpy as np

    p = figure(height=height, sizing_mode="stretch_width", y_axis_type="log", tools=TOOLS,
               x_axis_label="time (Lyapunov times)",
               y_axis_label="bfloat16 vs float32 distance",
               title="Precision sensitivity (torch learners)", name="precision")
    for i, (name, c) in enumerate(curves.items()):
        if c is None:
            continue
        a = np.asarray(c, dtype=float)
        a = np.clip(np.where(np.isfinite(a), a, 1e3), 1e-10, 1e3)
        p.line(x=np.asarray(t[:len(a)]), y=a, line_color=COLORS[i % len(COLORS)],
               line_width=2, legend_label=name)
    if p.legend:
        p.legend.location = "bottom_right"
    return p
