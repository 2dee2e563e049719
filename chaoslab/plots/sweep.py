"""Figures of a sweep's results table (:func:`chaoslab.experiments.read_store`).

Each builder takes the table (a pandas DataFrame, or a dict of equal-length arrays with
the same columns) and returns a Bokeh figure:

- :func:`vpt_exponent_figure`: valid prediction time against the system's largest
  Lyapunov exponent, one colour per learner (the headline scatter of Gilpin, Phys. Rev.
  Research 5, 043252, 2023);
- :func:`ranking_figure`: learners ranked by their median over systems, with the
  interquartile range and every system's value;
- :func:`heatmap_figure`: systems x learners, coloured by a metric.

Only rows with ``status == "ok"`` are drawn; a system's value is the median over its
seeds. Learners keep the colour order of :data:`chaoslab.plots.learners.COLORS`.
"""
from __future__ import annotations

from bokeh.models import (ColorBar, ColumnDataSource, HoverTool, LinearColorMapper,
                          Whisker)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from .attractor import TOOLS
from .learners import COLORS

__all__ = ["vpt_exponent_figure", "ranking_figure", "heatmap_figure", "per_system",
           "METRIC_LABELS"]

#: Axis labels of the table's metric columns.
METRIC_LABELS = {
    "vpt": "valid prediction time (Lyapunov times)",
    "vpt_nrmse": "VPT, normalised error 0.4 (Lyapunov times)",
    "vpt_smape": "VPT, sMAPE 30 (Lyapunov times)",
    "vpt_cumulative_smape": "VPT, cumulative sMAPE 30 (Lyapunov times)",
    "smape": "sMAPE of the whole forecast",
    "d_stsp": "state-space divergence D_stsp",
    "d_h": "power-spectrum distance D_H",
    "lyapunov_error": "relative error of the learned exponent",
    "fit_seconds": "fit time (s)",
}


def _label(metric):
    if metric in METRIC_LABELS:
        return METRIC_LABELS[metric]
    if metric.startswith("smape@"):
        return f"sMAPE up to {metric[6:]} Lyapunov times"
    return metric


def _table(table):
    import pandas as pd

    df = table if isinstance(table, pd.DataFrame) else pd.DataFrame(dict(table))
    if "status" in df.columns:
        df = df[df["status"] == "ok"]
    return df


def _learner_order(df):
    return list(dict.fromkeys(df["learner"]))      # first appearance


def per_system(table, metric="vpt"):
    """``(system, learner)`` rows with the metric's median over seeds and the system's
    ``lyapunov_exponent``; non-finite values are dropped first. Only ``status == "ok"``
    rows count."""
    import numpy as np

    df = _table(table)
    if metric not in df.columns:
        raise ValueError(f"metric must be a column of the table, got {metric!r}; columns: "
                         f"{', '.join(map(str, df.columns))}")
    df = df[np.isfinite(df[metric].astype(float))]
    keys = ["system", "learner"]
    out = df.groupby(keys, sort=False).agg(value=(metric, "median"),
                                           lyapunov_exponent=("lyapunov_exponent", "first"),
                                           n_seeds=(metric, "size")).reset_index()
    return out


def vpt_exponent_figure(table, metric="vpt", log_x=True, height=380):
    """The metric (default the VPT in Lyapunov times) of every (system, learner) against
    the system's largest Lyapunov exponent (per unit time), one colour per learner;
    hovering names the system."""
    df = per_system(table, metric)
    p = figure(height=height, sizing_mode="stretch_width", tools=TOOLS,
               x_axis_type="log" if log_x else "linear",
               x_axis_label="largest Lyapunov exponent lambda_1 (per unit time)",
               y_axis_label=_label(metric),
               title=f"{_label(metric).split(' (')[0]} against lambda_1",
               name="vpt_exponent")
    for i, learner in enumerate(_learner_order(df)):
        sub = df[df["learner"] == learner]
        if log_x:
            sub = sub[sub["lyapunov_exponent"] > 0]
        src = ColumnDataSource({"lam": sub["lyapunov_exponent"].astype(float).to_numpy(),
                                "value": sub["value"].astype(float).to_numpy(),
                                "system": sub["system"].astype(str).to_numpy(),
                                "seeds": sub["n_seeds"].to_numpy()})
        p.scatter(x="lam", y="value", source=src, size=8, alpha=0.8,
                  color=COLORS[i % len(COLORS)], legend_label=str(learner),
                  name=f"learner{i}")
    p.add_tools(HoverTool(tooltips=[("system", "@system"), ("lambda_1", "@lam{0.000}"),
                                    (metric, "@value{0.00}"), ("seeds", "@seeds")]))
    if p.legend:
        p.legend.click_policy = "hide"
        p.legend.location = "top_right"
    return p


def ranking_figure(table, metric="vpt", higher_is_better=True, height=None):
    """Learners ranked by the median over systems of the metric (best on top): a dot at
    the median, a bar over the interquartile range, and one small mark per system."""
    import numpy as np

    df = per_system(table, metric)
    stats = []
    for learner in _learner_order(df):
        v = df.loc[df["learner"] == learner, "value"].astype(float).to_numpy()
        stats.append((learner, float(np.median(v)), float(np.quantile(v, 0.25)),
                      float(np.quantile(v, 0.75)), v))
    stats.sort(key=lambda s: s[1], reverse=higher_is_better)     # best first
    names = [s[0] for s in stats]
    colour = {name: COLORS[i % len(COLORS)] for i, name in enumerate(_learner_order(df))}
    p = figure(height=height or max(200, 60 + 40 * len(names)), sizing_mode="stretch_width",
               y_range=list(reversed(names)), tools=TOOLS, x_axis_label=_label(metric),
               title=f"Learners ranked by median {metric} over systems", name="ranking")
    summary = ColumnDataSource({"learner": names, "median": [s[1] for s in stats],
                                "q25": [s[2] for s in stats], "q75": [s[3] for s in stats],
                                "color": [colour[n] for n in names],
                                "n": [len(s[4]) for s in stats]})
    each = {"learner": [], "value": [], "system": []}
    for learner, *_, v in stats:
        sub = df[df["learner"] == learner]
        each["learner"] += [learner] * len(sub)
        each["value"] += sub["value"].astype(float).tolist()
        each["system"] += sub["system"].astype(str).tolist()
    p.scatter(x="value", y="learner", source=ColumnDataSource(each), size=5, alpha=0.35,
              color="gray", name="systems")
    p.add_layout(Whisker(base="learner", lower="q25", upper="q75", source=summary,
                         dimension="width", line_width=2))
    dots = p.scatter(x="median", y="learner", source=summary, size=12, color="color",
                     name="medians")
    p.add_tools(HoverTool(renderers=[dots], tooltips=[
        ("learner", "@learner"), ("median", "@median{0.00}"),
        ("quartiles", "@q25{0.00} to @q75{0.00}"), ("systems", "@n")]))
    return p


def heatmap_figure(table, metric="vpt", order_by_exponent=True, height=None):
    """Systems (rows; by increasing largest exponent) x learners (columns), each cell
    coloured by the metric's median over seeds; missing or failed cells are grey."""
    df = per_system(table, metric)
    learners = _learner_order(df)
    if order_by_exponent:
        systems = list(df.drop_duplicates("system").sort_values("lyapunov_exponent")["system"])
    else:
        systems = list(dict.fromkeys(df["system"]))
    values = df["value"].astype(float)
    low, high = (float(values.min()), float(values.max())) if len(values) else (0.0, 1.0)
    mapper = LinearColorMapper(palette=Viridis256, low=low, high=high if high > low else low + 1,
                               nan_color="lightgray")
    src = ColumnDataSource({"system": df["system"].astype(str).tolist(),
                            "learner": df["learner"].astype(str).tolist(),
                            "value": values.tolist(),
                            "lam": df["lyapunov_exponent"].astype(float).tolist()})
    p = figure(height=height or max(250, 80 + 22 * len(systems)), sizing_mode="stretch_width",
               x_range=learners, y_range=systems, tools=TOOLS,
               title=f"{_label(metric)}: systems x learners", name="heatmap",
               x_axis_location="above")
    p.rect(x="learner", y="system", width=1, height=1, source=src,
           fill_color={"field": "value", "transform": mapper}, line_color="white")
    p.add_layout(ColorBar(color_mapper=mapper, title=metric), "right")
    p.add_tools(HoverTool(tooltips=[("system", "@system"), ("learner", "@learner"),
                                    (metric, "@value{0.00}"), ("lambda_1", "@lam{0.000}")]))
    p.xaxis.major_label_orientation = 0.6
    p.grid.visible = False
    return p
