"""Sweep results in the Learners tab: load a sweep's table (CSV) and see its figures.

A sweep runs elsewhere (``chaoslab sweep`` or :func:`chaoslab.experiments.sweep`, on a
laptop or a cluster); its store is read with :func:`~chaoslab.experiments.read_store`
and written as one CSV (``read_store(store).to_csv("results.csv", index=False)``). Here a
user uploads that file: it is validated as data by
:func:`~chaoslab.experiments.read_results_csv` (size, columns, numbers) off the page's
thread, and drawn with :mod:`chaoslab.plots.sweep`: the metric against each system's
largest Lyapunov exponent, the learners ranked, and the systems x learners heat map.
Names from the file reach the page as literal text only.
"""
from __future__ import annotations

import panel as pn

from ..experiments.sweeps import MAX_TABLE_BYTES, read_results_csv
from ..plots.sweep import METRIC_LABELS, heatmap_figure, ranking_figure, vpt_exponent_figure
from .busy import JobStatus
from .jobs import JobRunner
from .text import plain

__all__ = ["SweepResults"]

#: Metrics offered when the table has them (higher is better for the first four).
METRICS = ("vpt", "vpt_nrmse", "vpt_smape", "vpt_cumulative_smape", "d_stsp", "d_h",
           "smape", "lyapunov_error", "fit_seconds")
_HIGHER_IS_BETTER = {"vpt", "vpt_nrmse", "vpt_smape", "vpt_cumulative_smape"}
_PREFIX = "sweep-"     # Bokeh model names are unique in a document


class SweepResults(pn.viewable.Viewer):
    """An upload button for a sweep's CSV, a metric picker and the sweep's three figures."""

    def __init__(self, jobs: JobRunner):
        super().__init__()
        self.jobs = jobs
        self.table = None
        w = pn.widgets
        self.upload = w.FileInput(accept=".csv", multiple=False, name="sweep-upload",
                                  margin=(10, 5))
        self.upload.param.watch(self._uploaded, "value")
        self.metric = w.Select(name="Metric", options=["vpt"], value="vpt", width=260)
        self.metric.param.watch(lambda e: self._draw(), "value")
        self.status = JobStatus(jobs, "sweep-table")
        self.summary = pn.pane.Markdown("", sizing_mode="stretch_width",
                                        name="sweep-summary")
        self.figures = pn.Column(sizing_mode="stretch_width", name="sweep-figures")
        self._layout = pn.Column(
            pn.pane.Markdown(
                "A sweep's results table as CSV, written by `read_store(store).to_csv("
                "\"results.csv\", index=False)` after `chaoslab sweep` (at most "
                f"{MAX_TABLE_BYTES // 1_000_000} MB)."),
            pn.Row(self.upload, self.metric), self.status, self.summary, self.figures,
            sizing_mode="stretch_width", name="sweep-results")

    def __panel__(self):
        return self._layout

    def _uploaded(self, event):
        data = event.new
        if not data:
            return
        self.status.start("Reading the table ...")
        self.jobs.submit("sweep-table", lambda job: read_results_csv(data), self.show,
                         on_error=self.status.fail, pool="light")

    def show(self, table):
        """Draw ``table`` (a validated results table)."""
        self.table = table
        present = [m for m in METRICS if m in table.columns]
        self.metric.param.update(options=present, value=present[0])
        self._draw()

    def _draw(self):
        table = self.table
        if table is None:
            return
        metric = self.metric.value
        ok = table[table["status"] == "ok"] if "status" in table.columns else table
        if not len(ok):
            self.figures[:] = []
            self.summary.object = ""
            self.status.finish(f"The table has {len(table)} rows and none with status ok: "
                               "nothing to draw.")
            return
        figs = [vpt_exponent_figure(table, metric),
                ranking_figure(table, metric, higher_is_better=metric in _HIGHER_IS_BETTER),
                heatmap_figure(table, metric)]
        for f in figs:
            f.name = _PREFIX + f.name
            for r in f.renderers:
                if r.name:
                    r.name = _PREFIX + r.name
        # (a Bokeh pane names its figure after itself)
        panes = [pn.pane.Bokeh(f, name=f.name, sizing_mode="stretch_width") for f in figs]
        self.figures[:] = [pn.Row(*panes[:2], sizing_mode="stretch_width"), panes[2]]
        ranked = figs[1].y_range.factors
        best = ranked[-1] if ranked else ""
        n_err = int((table["status"] != "ok").sum()) if "status" in table.columns else 0
        self.summary.object = (
            f"{len(table)} tasks ({n_err} failed) on {ok['system'].nunique()} systems and "
            f"{ok['learner'].nunique()} learners. First by median "
            f"{plain(METRIC_LABELS.get(metric, metric))}: **{plain(best)}**.")
        self.status.finish("")
