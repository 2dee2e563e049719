"""Orbit diagram: when does it become chaotic? The asymptotic states against a parameter."""
from __future__ import annotations

import warnings

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource

from ..analysis.orbits import orbit_diagram
from ..plots import orbit_columns, orbit_figure, source_csv
from .busy import DynamicSelect, JobStatus, LazyView, sweep_parameter
from .export import csv_button, slug
from .jobs import locked
from .text import fmt
from .warm import before_work

__all__ = ["OrbitView"]

#: Parameter values per chunk (progress and cancel between chunks).
N_CHUNKS = 10


class OrbitView(LazyView):
    """Maps: the last iterates after a transient; flows: the local maxima of a variable."""

    parameter = param.String(default=None, allow_None=True, label="Parameter")
    start = param.Number(default=0.0, label="from")
    stop = param.Number(default=1.0, label="to")
    points = param.Integer(default=300, bounds=(2, 4000), label="values")
    variable = param.String(default=None, allow_None=True, label="Variable")

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource({"p": [], "v": []}, name="orbit-data")
        self.figure = orbit_figure(self.source)
        self.status = JobStatus(self.jobs, "orbit")
        w = pn.widgets
        self._param_sel = DynamicSelect(self, "parameter", width=140)
        self._param = self._param_sel.widget
        self._start = w.FloatInput.from_param(self.param.start, width=100)
        self._stop = w.FloatInput.from_param(self.param.stop, width=100)
        self._var_sel = DynamicSelect(self, "variable", width=110)
        self._var = self._var_sel.widget
        self._controls = pn.Row(
            self._param, self._start, self._stop,
            w.IntInput.from_param(self.param.points, width=90), self._var,
            w.Button(name="Compute", button_type="primary", width=100, margin=(20, 5),
                     on_click=locked(lambda e: self.refresh())))
        self._note = pn.pane.Markdown("", sizing_mode="stretch_width")
        self._unsupported = pn.pane.Alert("", alert_type="info", visible=False)
        self._layout = pn.Column(
            pn.pane.Markdown(
                "#### When does it become chaotic?\nFor each parameter value the system "
                "runs past its transient; the dots are the states it keeps visiting (maps: "
                "every iterate; flows: the peaks of the chosen variable). One dot means a "
                "fixed point, two a period-2 cycle, a smear chaos."),
            self._unsupported, self._controls, self.status, pn.pane.Bokeh(self.figure),
            pn.Row(csv_button(self._csv, lambda: f"{slug(self.state.system_name)}_orbit.csv",
                              "Orbit diagram (CSV)"),
                   pn.pane.HTML("<small>PNG: the figure's save tool</small>",
                                margin=(8, 5))),
            self._note, sizing_mode="stretch_width", name="Orbit diagram")
        self._on_system()

    def __panel__(self):
        return self._layout

    def _on_system(self):
        s = self.state.current()
        names = list(s.params)
        self._unsupported.visible = not names
        self._controls.visible = bool(names)
        self._unsupported.object = f"{s.name} has no parameters to vary."
        self._settling = True
        try:
            first = sweep_parameter(s)
            self._param_sel.reset(names, first)
            self._var_sel.reset(list(s.variables), s.variables[0])
            p = s.params.get(first)
            self.param.update(variable=s.variables[0], points=600 if s.is_map else 200,
                              parameter=first, **({} if p is None else
                                                  dict(start=p.min, stop=p.max)))
        finally:
            self._settling = False

    @param.depends("parameter", watch=True)
    def _on_parameter(self):
        p = self.state.current().params.get(self.parameter)
        if p is not None and not self._settling:
            self.param.update(start=p.min, stop=p.max)

    @param.depends("parameter", "start", "stop", "points", "variable", watch=True)
    def _on_settings(self):
        self.maybe_refresh()

    def key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), st.step, self.parameter,
                self.start, self.stop, self.points, self.variable)

    def compute(self):
        st = self.state
        s = st.current()
        if self.parameter is None:
            return
        values = np.linspace(float(self.start), float(self.stop), int(self.points))
        name, var = self.parameter, self.variable
        dt = None if s.is_map else st.step
        base = {k: v for k, v in st.values.items() if k in s.params}
        self.status.start(f"Running {len(values)} values of {name} ...")

        def work(job):
            before_work(s, job)
            ps, vs = [], []
            chunks = np.array_split(values, min(N_CHUNKS, len(values)))
            for i, chunk in enumerate(chunks):
                job.check()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    vals, pts = orbit_diagram(s, name, chunk, variable=var, dt=dt,
                                              params=base)
                cols = orbit_columns(vals, pts)
                ps.append(cols["p"])
                vs.append(cols["v"])
                job.progress((i + 1) / len(chunks),
                             f"Orbit diagram: up to {name} = {fmt(chunk[-1])}")
            return np.concatenate(ps), np.concatenate(vs)

        self.jobs.submit("orbit", work, self._show, on_error=self.status.fail,
                         on_progress=self.status.progress)

    def _show(self, out):
        p, v = out
        self.source.data = {"p": p, "v": v}
        s = self.state.current()
        self.figure.xaxis.axis_label = self.parameter
        what = "iterates" if s.is_map else "local maxima"
        self.figure.yaxis.axis_label = f"{self.variable} ({what})"
        self.figure.title.text = f"{s.name}: orbit diagram in {self.parameter}"
        cur = self.state.values.get(self.parameter)
        if cur is not None:
            self.figure.select_one({"name": "current"}).location = float(cur)
        self.status.finish(f"{len(p):,} states at {self.points} values of {self.parameter}"
                           " (red dotted line: the current value).")

    def _csv(self):
        return source_csv(self.source)
