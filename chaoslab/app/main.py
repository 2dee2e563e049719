"""The chaoslab app: a sidebar of controls and the views."""
from __future__ import annotations

import panel as pn
import param
from bokeh.models import ColumnDataSource

from .. import systems
from ..plots import (MAX_SERIES, attractor_figure, label_attractor, label_timeseries,
                     timeseries_figure)
from .state import LabState


class ExploreView(pn.viewable.Viewer):
    """The attractor projection and the time series of the current system."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        self.source = ColumnDataSource(data={"a": [], "b": []})
        self.ts_source = ColumnDataSource(data={"t": [], **{f"y{i}": [] for i in
                                                           range(MAX_SERIES)}})
        self.figure = attractor_figure(self.source)
        self.ts_figure = timeseries_figure(self.ts_source)
        self._pane = pn.Column(pn.pane.Bokeh(self.figure), pn.pane.Bokeh(self.ts_figure),
                               sizing_mode="stretch_width")
        self._relabel()
        self.state.param.watch(lambda e: self._relabel(), "system_name")
        self.state.param.watch(lambda e: self._update(), "values")

    def _relabel(self):
        s = self.state.system
        v = s.variables
        a, b = (0, 2) if s.dim >= 3 else (0, 1 if s.dim > 1 else 0)
        self._axes = (a, b)
        if s.dim == 1:
            xl, yl = f"{v[0]}(n)", f"{v[0]}(n+1)"
        else:
            xl, yl = v[a], v[b]
        label_attractor(self.figure, s.name, xl, yl, points=s.is_map)
        label_timeseries(self.ts_figure, list(v[:MAX_SERIES]), "n" if s.is_map else "t")
        self._update()

    def _update(self):
        t, x = self.state.trajectory()
        a, b = self._axes
        if x.shape[1] == 1:
            self.source.data = {"a": x[:-1, 0], "b": x[1:, 0]}
        else:
            self.source.data = {"a": x[:, a], "b": x[:, b]}
        n = min(len(t), 5000)
        empty = x[:n, 0] * 0
        self.ts_source.data = {"t": t[:n], **{f"y{i}": (x[:n, i] if i < x.shape[1] else empty)
                                              for i in range(MAX_SERIES)}}

    def __panel__(self):
        return self._pane


class ChaosLab(pn.viewable.Viewer):
    """The whole app: ``ChaosLab()`` in a notebook, or served by ``chaoslab serve``."""

    def __init__(self, system: str = "Lorenz", **params):
        self.state = LabState(system_name=systems.get(system).name)
        super().__init__(**params)
        self.explore = ExploreView(state=self.state)
        self._picker = pn.widgets.Select.from_param(self.state.param.system_name,
                                                    name="System")
        self._sliders = pn.Column()
        self._equations = pn.pane.LaTeX("", styles={"font-size": "15px"})
        self._error = pn.pane.Alert("", alert_type="warning", visible=False)
        self._build_controls()
        self.state.param.watch(lambda e: self._build_controls(), "system_name")
        self.state.param.watch(self._show_error, "error")

    def _build_controls(self):
        s = self.state.system
        sliders = []
        for name, p in s.params.items():
            step = (p.max - p.min) / 200 if p.max > p.min else 0.01
            w = pn.widgets.FloatSlider(name=name, start=p.min, end=p.max, step=step,
                                       value=self.state.values.get(name, p.default))
            w.param.watch(self._on_slider, "value_throttled")
            sliders.append(w)
        self._sliders[:] = sliders
        lhs = "\\begin{aligned}" + " \\\\ ".join(
            line.replace(" = ", " &= ", 1) for line in s.latex) + "\\end{aligned}"
        self._equations.object = f"$${lhs}$$"

    def _on_slider(self, event):
        values = dict(self.state.values)
        values[event.obj.name] = event.new
        self.state.values = values

    def _show_error(self, event):
        self._error.object = event.new
        self._error.visible = bool(event.new)

    def __panel__(self):
        sidebar = pn.Column(self._picker, self._sliders, self._equations, self._error,
                            width=320)
        return pn.Row(sidebar, self.explore, sizing_mode="stretch_width")

    def template(self):
        """The app in a page template, as served."""
        tpl = pn.template.BootstrapTemplate(title="chaoslab", sidebar=[
            self._picker, self._sliders, self._equations, self._error],
            main=[self.explore], header_background="#1f4e79")
        return tpl
