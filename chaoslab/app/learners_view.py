"""Learners: can a machine learn it? Train forecasters and watch them drift from the truth."""
from __future__ import annotations

import io

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource

from .. import learners as learner_registry
from ..experiments import forecast_divergence
from ..plots.learners import (divergence_columns, divergence_figure, exponent_figure,
                              overlay_figure, precision_figure, show_slots, vpt_columns,
                              vpt_figure)
from .busy import JobStatus, LazyView
from .jobs import locked
from .export import csv_button, slug
from .sweep_view import SweepResults
from .text import fmt

__all__ = ["LearnersView"]

DEFAULT_LEARNERS = ["ngrc", "esn", "sindy", "edmd"]


class LearnersView(LazyView):
    """Train learners on the current system, then compare their forecasts in Lyapunov
    times: divergence curves, valid prediction times, a forecast against the truth,
    learned exponents and precision sensitivity. Training runs only on request."""

    chosen = param.ListSelector(default=list(DEFAULT_LEARNERS),
                                objects=learner_registry.names(), label="Learners")
    n_train = param.Integer(default=10_000, bounds=(1_000, 100_000),
                            label="Training samples")
    n_starts = param.Integer(default=20, bounds=(2, 200), label="Forecast starts")
    horizon = param.Number(default=15.0, bounds=(1.0, 50.0),
                           label="Horizon (Lyapunov times)")

    def __init__(self, **params):
        super().__init__(**params)
        self.result = None
        self.status = JobStatus(self.jobs, "learners")
        self.div_source = ColumnDataSource({"t": []}, name="learners-divergence")
        self.vpt_source = ColumnDataSource(vpt_columns([], [], [], []), name="learners-vpt")
        self.overlay_source = ColumnDataSource({"t": [], "truth": []}, name="learners-overlay")
        # one slot per learner of the registry: figures are built once, results relabel them
        self._slots = len(learner_registry.names())
        placeholders = [f"learner {i + 1}" for i in range(self._slots)]
        self.div_source.data = divergence_columns([], {}, self._slots)
        self.overlay_source.data = {"t": [], "truth": [],
                                    **{f"f{i}": [] for i in range(self._slots)}}
        self.div_fig = divergence_figure(self.div_source, placeholders)
        self.overlay_fig = overlay_figure(self.overlay_source, placeholders)
        show_slots(self.div_fig, "median", [], extra=("band", "vpt"))
        show_slots(self.overlay_fig, "forecast", [])
        self._div_pane = pn.pane.Bokeh(self.div_fig)
        self._vpt_pane = pn.pane.Bokeh(vpt_figure(self.vpt_source, []))
        self._overlay_pane = pn.pane.Bokeh(self.overlay_fig)
        # figures whose glyphs depend on the result live in holders and are swapped whole
        # (re-assigning a Bokeh pane's object in a served session is fragile)
        self._exp_pane = pn.Column(pn.pane.Bokeh(exponent_figure([], [], 0.0)),
                                   sizing_mode="stretch_width")
        self._prec_pane = pn.Column(pn.pane.Bokeh(precision_figure([], {})),
                                    sizing_mode="stretch_width", visible=False)
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width",
                                         name="learners-summary")
        w = pn.widgets
        self._picker = w.MultiChoice.from_param(self.param.chosen, width=380,
                                                name="Learners")
        self._train_button = w.Button(name="Train and compare", button_type="primary",
                                      width=170, margin=(20, 5), css_classes=["learners-train"])
        self._train_button.on_click(locked(lambda e: self.refresh()))
        help_text = "\n".join(f"- **{n}**: {learner_registry.describe(n)}"
                              for n in learner_registry.names())
        fname = lambda: f"{slug(self.state.system_name)}_learners.csv"  # noqa: E731
        self.sweeps = SweepResults(self.jobs)
        self._layout = pn.Column(
            pn.pane.Markdown(
                "#### Can a machine learn it?\nEach learner is trained on a simulated "
                "trajectory, then forecasts from many held-out starts. A chaotic system "
                "amplifies every error by e per Lyapunov time, so even a perfect-looking "
                "model drifts away: the **valid prediction time** (VPT) is how long its "
                "error stays below 0.4 attractor standard deviations, in Lyapunov times."),
            # wraps on narrow screens instead of pushing the button out of view
            pn.FlexBox(self._picker,
                       w.IntInput.from_param(self.param.n_train, width=130),
                       w.IntInput.from_param(self.param.n_starts, width=110),
                       w.FloatInput.from_param(self.param.horizon, width=150),
                       self._train_button, flex_wrap="wrap", align_items="flex-start",
                       sizing_mode="stretch_width"),
            self.status,
            pn.Row(self._div_pane, self._vpt_pane, sizing_mode="stretch_width"),
            pn.Row(self._overlay_pane, self._exp_pane, sizing_mode="stretch_width"),
            self._prec_pane,
            self._summary,
            csv_button(self._csv, fname, "Results (CSV)"),
            pn.Accordion(("The learners", pn.pane.Markdown(help_text)),
                         ("Sweep results: load a sweep's table", self.sweeps), active=[]),
            sizing_mode="stretch_width", name="Learners")

    def __panel__(self):
        return self._layout

    # training is heavy: it runs when asked, never on a tab switch or a slider move
    def key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), tuple(self.chosen),
                self.n_train, self.n_starts, self.horizon)

    def maybe_refresh(self):
        if self.result is not None and self.key() != self._done_key:
            self.status.text.object = ("The results below are for other settings; press "
                                       "*Train and compare* to retrain.")

    def compute(self):
        s = self.state.current()
        chosen = list(self.chosen)
        if not chosen:
            self.status.fail("choose at least one learner")
            return
        n_train, n_starts, horizon = self.n_train, self.n_starts, self.horizon
        self.status.start(f"Training {len(chosen)} learners on {s.name} ...")

        def work(job):
            return forecast_divergence(s, chosen, n_train=n_train, n_starts=n_starts,
                                       horizon=horizon, learned_exponent=True, precision=True,
                                       progress=job.progress, cancel=lambda: job.cancelled)

        self.jobs.submit("learners", work, self._show, on_error=self.status.fail,
                         on_progress=self.status.progress)

    def wait(self, timeout=600.0):
        self.jobs.wait(timeout)

    def _show(self, res):
        self.result = res
        names = list(res.results)
        r = [res[n] for n in names]
        self.div_source.data = divergence_columns(
            res.t, {n: (x.median, x.q_low, x.q_high) for n, x in zip(names, r)}, self._slots)
        show_slots(self.div_fig, "median", names, extra=("band", "vpt"))
        for i, x in enumerate(r):
            self.div_fig.select_one({"name": f"vpt{i}"}).location = x.vpt_median
        rows = res.summary()
        self.vpt_source.data = vpt_columns(names, [row["vpt_median"] for row in rows],
                                           [row["vpt_q25"] for row in rows],
                                           [row["vpt_q75"] for row in rows])
        self._vpt_pane.object.x_range.factors = names
        var = self.state.current().variables[0]
        data = {"t": res.t, "truth": res.truth[:, 0]}
        for i in range(self._slots):
            data[f"f{i}"] = (np.clip(r[i].example[:, 0], -1e6, 1e6) if i < len(r)
                             else np.full(len(res.t), np.nan))
        self.overlay_source.data = data
        self.overlay_fig.yaxis.axis_label = var
        show_slots(self.overlay_fig, "forecast", names)
        self._exp_pane[:] = [pn.pane.Bokeh(exponent_figure(
            names, [x.lyapunov_exponent for x in r], res.lyapunov_exponent))]
        self._prec_pane[:] = [pn.pane.Bokeh(precision_figure(
            res.t, {n: x.precision for n, x in zip(names, r)}))]
        self._prec_pane.visible = any(x.precision is not None for x in r)
        lines = ["| learner | VPT (Lyapunov times) | fit (s) | D_stsp | D_H | "
                 "learned λ₁ |", "|---|---|---|---|---|---|"]
        for row in rows:
            lines.append(f"| {row['learner']} | {fmt(row['vpt_median'])} | "
                         f"{fmt(row['fit_seconds'])} | {fmt(row['d_stsp'])} | "
                         f"{fmt(row['d_h'])} | {fmt(row['lyapunov_exponent'])} |")
        lines.append(f"\nTrue λ₁ = {fmt(res.lyapunov_exponent)} per unit time; one Lyapunov "
                     f"time is {fmt(1 / res.lyapunov_exponent)} time units, "
                     f"{fmt(1 / (res.lyapunov_exponent * res.dt))} samples at dt = "
                     f"{fmt(res.dt)}. D_stsp compares where the free-running model spends "
                     "its time with the attractor (0: the same); D_H compares power "
                     "spectra (0: the same, 1: disjoint).")
        self._summary.object = "\n".join(lines)
        best = max(r, key=lambda x: x.vpt_median)
        self.status.finish(f"Done: {best.name} tracks the truth longest, "
                           f"{fmt(best.vpt_median)} Lyapunov times (median).")

    def _csv(self):
        if self.result is None:
            return "learner\n"
        buf = io.StringIO()
        rows = self.result.summary()
        keys = list(rows[0])
        buf.write(",".join(keys) + "\n")
        for row in rows:
            buf.write(",".join(str(row[k]) for k in keys) + "\n")
        return buf.getvalue()
