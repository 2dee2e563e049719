"""Lyapunov: how chaotic is it? The spectrum, its convergence, and a parameter sweep."""
from __future__ import annotations

import warnings

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource

from ..analysis.lyapunov import kaplan_yorke_dimension, lyapunov_spectrum
from ..plots import (MAX_CURVES, columns_csv, convergence_figure, spectrum_figure,
                     sweep_figure)
from .busy import DynamicSelect, JobStatus, LazyView, sweep_parameter
from .export import csv_button, slug
from .jobs import locked
from .text import fmt, kaplan_yorke_sentence, lyapunov_sentence, rate_unit, time_unit
from .warm import before_work

__all__ = ["LyapunovView"]

#: Parameter values computed per chunk of a sweep (progress and cancel between chunks).
SWEEP_CHUNK = 8


class LyapunovView(LazyView):
    """The Lyapunov spectrum with its running estimates, and exponents against a parameter."""

    periods = param.Integer(default=500, bounds=(20, 20_000),
                            label="Run length (characteristic periods; maps: x100 iterations)")
    sweep_parameter = param.String(default=None, allow_None=True, label="Sweep parameter")
    sweep_start = param.Number(default=0.0, label="from")
    sweep_stop = param.Number(default=1.0, label="to")
    sweep_points = param.Integer(default=40, bounds=(5, 400), label="values")
    sweep_exponents = param.Integer(default=1, bounds=(1, MAX_CURVES), label="exponents")
    sweep_periods = param.Integer(default=100, bounds=(10, 5_000),
                                  label="Run per value (periods; maps: x100 iterations)")

    def __init__(self, **params):
        super().__init__(**params)
        self.spectrum = ColumnDataSource({"i": [], "value": [], "label": []},
                                         name="lyapunov-spectrum")
        self.history = ColumnDataSource({"t": [], **{f"l{i}": [] for i in range(MAX_CURVES)}},
                                        name="lyapunov-history")
        self.sweep = ColumnDataSource({"p": [], **{f"l{i}": [] for i in range(MAX_CURVES)}},
                                      name="lyapunov-sweep")
        self.spectrum_fig = spectrum_figure(self.spectrum)
        self.convergence_fig = convergence_figure(self.history)
        self.sweep_fig = sweep_figure(self.sweep)
        self.result = None
        self.status = JobStatus(self.jobs, "lyapunov-spectrum")
        self.sweep_status = JobStatus(self.jobs, "lyapunov-sweep")
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width",
                                         name="lyapunov-summary")
        self._sweep_done_key = None
        w = pn.widgets
        self._sweep_sel = DynamicSelect(self, "sweep_parameter", width=140)
        self._controls = pn.Row(
            w.IntSlider.from_param(self.param.periods, width=300),
            w.Button(name="Compute", button_type="primary", width=100, margin=(20, 5),
                     on_click=locked(lambda e: self.refresh())))
        self._sweep_controls = pn.Row(
            self._sweep_sel.widget,
            w.FloatInput.from_param(self.param.sweep_start, width=90),
            w.FloatInput.from_param(self.param.sweep_stop, width=90),
            w.IntInput.from_param(self.param.sweep_points, width=80),
            w.IntInput.from_param(self.param.sweep_exponents, width=80),
            w.IntInput.from_param(self.param.sweep_periods, width=150),
            w.Button(name="Sweep", button_type="primary", width=80, margin=(20, 5),
                     on_click=locked(lambda e: self.refresh_sweep())))
        fname = self._fname
        self._layout = pn.Column(
            pn.pane.Markdown("#### How chaotic is it?\nThe Lyapunov exponents are the average "
                             "rates at which nearby states separate (positive) or approach "
                             "(negative) along independent directions; a positive largest "
                             "exponent is the signature of chaos."),
            self._controls, self.status,
            pn.Row(pn.pane.Bokeh(self.spectrum_fig), pn.pane.Bokeh(self.convergence_fig)),
            pn.Row(csv_button(self._spectrum_csv, lambda: fname("lyapunov_spectrum"),
                              "Spectrum (CSV)"),
                   csv_button(self._history_csv, lambda: fname("lyapunov_history"),
                              "Running estimates (CSV)")),
            self._summary,
            pn.pane.Markdown("#### Exponents against a parameter\nWhere λ₁ crosses zero the "
                             "motion turns chaotic; dips to zero inside chaos are periodic "
                             "windows."),
            self._sweep_controls, self.sweep_status, pn.pane.Bokeh(self.sweep_fig),
            csv_button(self._sweep_csv, lambda: fname("lyapunov_sweep"), "Sweep (CSV)"),
            sizing_mode="stretch_width", name="Lyapunov")
        self._on_system()

    def __panel__(self):
        return self._layout

    def _fname(self, what):
        return f"{slug(self.state.system_name)}_{what}.csv"

    # -------------------------------------------------------------- settings
    def _on_system(self):
        s = self.state.current()
        names = list(s.params)
        self._settling = True
        try:
            first = sweep_parameter(s)
            self._sweep_sel.reset(names, first)
            p = s.params.get(first)
            self.param.update(sweep_parameter=first, sweep_exponents=1,
                              **({} if p is None else dict(sweep_start=p.min,
                                                           sweep_stop=p.max)))
        finally:
            self._settling = False
        unit = rate_unit(s.is_map)
        self.spectrum_fig.yaxis.axis_label = f"lambda_i ({unit})"
        self.convergence_fig.xaxis.axis_label = (
            f"integration time of each parallel piece ({time_unit(s.is_map)})")
        self.convergence_fig.yaxis.axis_label = f"running estimate ({unit})"
        self.sweep_fig.xaxis.axis_label = self.sweep_parameter or "parameter"
        self.sweep_fig.yaxis.axis_label = f"lambda_i ({unit})"

    @param.depends("sweep_parameter", watch=True)
    def _on_sweep_parameter(self):
        p = self.state.current().params.get(self.sweep_parameter)
        if p is not None and not self._settling:
            self.param.update(sweep_start=p.min, sweep_stop=p.max)
        self.sweep_fig.xaxis.axis_label = self.sweep_parameter or "parameter"

    def key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), st.step, st.backend,
                self.periods)

    def sweep_key(self):
        return (self.key(), self.sweep_parameter, self.sweep_start, self.sweep_stop,
                self.sweep_points, self.sweep_exponents, self.sweep_periods)

    def maybe_refresh(self):
        super().maybe_refresh()
        if self._settling:
            return
        if self.active and self.sweep_key() != self._sweep_done_key:
            self.refresh_sweep()

    # -------------------------------------------------------------- spectrum
    def _T(self, periods):
        s = self.state.current()
        return periods * 100 if s.is_map else periods * s.period

    def compute(self):
        st = self.state
        s = st.current()
        T = self._T(self.periods)
        dt = None if s.is_map else st.step
        backend = st.backend if not s.is_delay else "numba"
        delay = s.is_delay
        self.status.start(f"Computing the spectrum over {fmt(T)} {time_unit(s.is_map)} ...")

        def work(job):
            before_work(s, job)
            if delay:
                lam = lyapunov_spectrum(s, 1, T=T, dt=dt)
                return lam, None
            return None, lyapunov_spectrum(s, T=T, dt=dt, backend=backend,
                                           return_history=True)

        self.jobs.submit("lyapunov-spectrum", work, self._show_spectrum,
                         on_error=self.status.fail, on_progress=self.status.progress)

    def _show_spectrum(self, out):
        lam_delay, r = out
        s = self.state.current()
        if r is None:
            exps = np.atleast_1d(lam_delay)
            self.history.data = {"t": [], **{f"l{i}": [] for i in range(MAX_CURVES)}}
        else:
            exps = np.atleast_1d(r.exponents)
            t = r.times
            hist = r.history
            self.history.data = {"t": t, **{
                f"l{i}": (hist[:, i] if i < hist.shape[1] else np.full(len(t), np.nan))
                for i in range(MAX_CURVES)}}
        self.result = (exps, r)
        self.spectrum.data = {"i": np.arange(1, len(exps) + 1), "value": exps,
                              "label": [fmt(v) for v in exps]}
        for i, item in enumerate(self.convergence_fig.legend[0].items):
            on = r is not None and i < len(exps)
            item.visible = on
            self.convergence_fig.select_one({"name": f"running{i}"}).visible = on
        unit = rate_unit(s.is_map)
        T = self._T(self.periods)
        lines = [lyapunov_sentence(float(exps[0]), s.is_map, "this run", 2.0 / T)]
        if r is not None and len(exps) == s.dim:
            lines.append(kaplan_yorke_sentence(kaplan_yorke_dimension(exps)))
            lines.append(f"Sum of the exponents **{fmt(float(np.sum(exps)))}** {unit}: the "
                         "average rate at which phase-space volume grows (negative: the "
                         "motion settles onto an attractor of zero volume).")
        elif r is None:
            lines.append("This is a delay system (its state is a whole history): only the "
                         "largest exponent is computed, without running estimates.")
        ref = self.state.lyapunov_exponent
        if ref is not None:
            lines.append(f"The catalog's reference value is λ₁ = {fmt(ref)} {unit}, from a "
                         "much longer run.")
        self._summary.object = "\n\n".join(x for x in lines if x)
        self.status.finish(f"Spectrum from a run of {fmt(self._T(self.periods))} "
                           f"{time_unit(s.is_map)}.")

    # ----------------------------------------------------------------- sweep
    def refresh_sweep(self):
        if self.state.preparing:  # the restart that follows brings the sweep up to date
            self._sweep_done_key = None
            return
        self._sweep_done_key = self.sweep_key()
        st = self.state
        s = st.current()
        name = self.sweep_parameter
        if name is None:
            self.sweep_status.finish(f"{s.name} has no parameters to sweep.")
            return
        lo, hi = float(self.sweep_start), float(self.sweep_stop)
        values = np.linspace(lo, hi, self.sweep_points)
        k = min(self.sweep_exponents, s.dim) if not s.is_delay else 1
        T = self._T(self.sweep_periods)
        dt = None if s.is_map else st.step
        backend = st.backend if not s.is_delay else "numba"
        self.sweep_status.start(f"Sweeping {name} over {len(values)} values ...")

        def work(job):
            before_work(s, job)
            out = []
            for a in range(0, len(values), SWEEP_CHUNK):
                job.check()
                chunk = values[a:a + SWEEP_CHUNK]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    lam = lyapunov_spectrum(s, k, T=T, dt=dt, params={name: chunk},
                                            backend=backend)
                out.append(np.atleast_2d(lam).reshape(len(chunk), k))
                job.progress((a + len(chunk)) / len(values),
                             f"Sweeping {name}: {a + len(chunk)} of {len(values)} values")
            return values, np.concatenate(out, axis=0)

        self.jobs.submit("lyapunov-sweep", work, self._show_sweep,
                         on_error=self.sweep_status.fail,
                         on_progress=self.sweep_status.progress)

    def _show_sweep(self, out):
        values, lam = out
        k = lam.shape[1]
        self.sweep.data = {"p": values, **{
            f"l{i}": (lam[:, i] if i < k else np.full(len(values), np.nan))
            for i in range(MAX_CURVES)}}
        for i, item in enumerate(self.sweep_fig.legend[0].items):
            item.visible = i < k
        for r in self.sweep_fig.renderers:
            if r.name and r.name.startswith("sweep"):
                r.visible = int(r.name[5:]) < k
        cur = self.state.values.get(self.sweep_parameter)
        span = self.sweep_fig.select_one({"name": "current"})
        if cur is not None:
            span.location = float(cur)
        s = self.state.current()
        self.sweep_status.finish(
            f"λ against {self.sweep_parameter} ({len(values)} values, "
            f"{fmt(self._T(self.sweep_periods))} {time_unit(s.is_map)} each; dotted line: "
            "the current value).")

    # ---------------------------------------------------------------- export
    def _spectrum_csv(self):
        d = self.spectrum.data
        return columns_csv({"i": d["i"], f"lambda ({rate_unit(self.state.current().is_map)})":
                            d["value"]})

    def _history_csv(self):
        d = self.history.data
        k = len(self.spectrum.data["i"])
        return columns_csv({"t": d["t"], **{f"lambda_{i + 1}": d[f"l{i}"]
                                            for i in range(min(k, MAX_CURVES))}})

    def _sweep_csv(self):
        d = self.sweep.data
        k = self.sweep_exponents
        return columns_csv({self.sweep_parameter or "p": d["p"],
                            **{f"lambda_{i + 1}": d[f"l{i}"] for i in range(k)}})
