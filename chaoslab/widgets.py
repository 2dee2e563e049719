"""An ipywidgets explorer for notebook users who live in ipywidgets.

>>> import chaoslab as cl
>>> ex = cl.widgets.explore("Lorenz")   # displays: controls and a Bokeh figure
>>> ex.sliders["rho"].value = 20        # the figure follows

The explorer shares the app's domain state (:class:`chaoslab.app.state.LabState`) and
figure builders (:mod:`chaoslab.plots`); it needs ipywidgets and ``jupyter_bokeh`` (the
``app`` extra), not panel. Offline notebooks: BokehJS comes with ``jupyter_bokeh``'s
JupyterLab extension, so nothing is fetched from a CDN.
"""
from __future__ import annotations

import ipywidgets as W
from bokeh.layouts import column
from bokeh.models import ColumnDataSource

from . import systems
from .app.state import LabState
from .plots import (MAX_SERIES, THREE_D, Projection, attractor_figure, label_attractor,
                    label_timeseries, projection_columns, timeseries_figure,
                    trajectory_columns, view_axes, view_options)

__all__ = ["explore", "Explorer"]

KINDS = ["all", "flow", "map", "transport"]


class Explorer(W.VBox):
    """Pick a system, move its parameters, turn the 3-D view; the figure follows.

    Attributes
    ----------
    state : LabState
        The domain state (system, parameter values, the computed path).
    sliders : dict
        Parameter name -> ``ipywidgets.FloatSlider`` (``IntSlider`` for a size).
    figure, ts_figure : bokeh figures;  path, ts : their ColumnDataSources.
    """

    def __init__(self, system="Lorenz", n_steps=20_000, **kwargs):
        self.state = LabState(system_name=systems.get(system).name, n_steps=n_steps)
        self.projection = Projection()
        self.path = ColumnDataSource(trajectory_columns(), name="attractor-path")
        self.trail = ColumnDataSource(trajectory_columns(), name="attractor-trail")
        self.cloud = ColumnDataSource({**trajectory_columns(), "member": []})
        self.ts = ColumnDataSource({"t": [], **{f"y{i}": [] for i in range(MAX_SERIES)}})
        self.figure = attractor_figure(self.path, self.trail, self.cloud, self.projection,
                                       height=420, width=520)
        self.ts_figure = timeseries_figure(self.ts, height=200, width=700)
        self._cols = (0, 1, 2)
        self._view = THREE_D

        lay = W.Layout(width="330px")
        self.search = W.Text(placeholder="search names and descriptions", layout=lay)
        self.kind = W.ToggleButtons(options=KINDS, value="all",
                                    style={"button_width": "75px"})
        self.system = W.Dropdown(options=self._options(), value=self.state.system_name,
                                 description="System", layout=lay)
        self.view = W.Dropdown(description="View", layout=lay)
        self.azimuth = W.FloatSlider(value=-60, min=-180, max=180, step=1,
                                     description="Azimuth", layout=lay)
        self.elevation = W.FloatSlider(value=20, min=-90, max=90, step=1,
                                       description="Elevation", layout=lay)
        self.equations = W.HTMLMath()
        self.message = W.HTML()
        self.sliders: dict = {}
        self._slider_box = W.VBox()
        self.search.observe(lambda c: self._refilter(), "value")
        self.kind.observe(lambda c: self._refilter(), "value")
        self.system.observe(self._on_system, "value")
        self.view.observe(self._on_view, "value")
        self.azimuth.observe(self._on_turn, "value")
        self.elevation.observe(self._on_turn, "value")
        self.state.param.watch(lambda e: self._on_revision(), "revision")
        self.state.param.watch(lambda e: self._show_message(), "error")

        from jupyter_bokeh import BokehModel

        self.plot = BokehModel(column(self.figure, self.ts_figure))
        controls = W.VBox([self.system, self.search, self.kind, self._slider_box,
                           self.equations, self.view, self.azimuth, self.elevation,
                           self.message], layout=W.Layout(width="350px"))
        self._seen = None
        self._on_revision()
        super().__init__([W.HBox([controls, self.plot])], **kwargs)

    # ------------------------------------------------------------ controls
    def _options(self):
        k = self.kind.value if hasattr(self, "kind") else "all"
        q = self.search.value.strip() if hasattr(self, "search") else ""
        names = systems.names(kind=None if k in ("all", "transport") else k,
                              transport=True if k == "transport" else None)
        if q:
            hits = set(systems.search(q))
            names = [n for n in names if n in hits]
        if self.state.system_name not in names:
            names = [self.state.system_name] + names
        return names

    def _refilter(self):
        self.system.options = self._options()
        self.system.value = self.state.system_name

    def _on_system(self, change):
        if change["new"] and change["new"] != self.state.system_name:
            self.state.system_name = change["new"]

    def _build_sliders(self):
        s = self.state.current()
        sliders = {}
        style = {"description_width": "70px"}
        lay = W.Layout(width="330px")
        if s.size is not None:
            z = s.size
            sliders[z.name] = W.IntSlider(value=s.size.value, min=z.min, max=min(z.max, 64),
                                          description=z.name, continuous_update=False,
                                          style=style, layout=lay)
        for name, p in s.params.items():
            span = p.max - p.min
            sliders[name] = W.FloatSlider(value=self.state.values[name], min=p.min,
                                          max=p.max, step=span / 200 if span > 0 else 0.01,
                                          description=name, continuous_update=False,
                                          readout_format=".4g", style=style, layout=lay)
        for name, w in sliders.items():
            w.observe(self._on_slider, "value")
        self.sliders = sliders
        self._slider_box.children = list(sliders.values())
        lines = [f"&{line}" for line in s.latex[:12]]
        self.equations.value = ("$$\\begin{aligned}" + " \\\\ ".join(lines)
                                + "\\end{aligned}$$")

    def _on_slider(self, change):
        name = change["owner"].description
        values = dict(self.state.values)
        values[name] = change["new"]
        self.state.values = values

    def _on_view(self, change):
        if change["new"]:
            self._view = change["new"]
            self._apply_view()
            self.redraw()

    def _on_turn(self, change=None):
        self.projection.update(azimuth=self.azimuth.value, elevation=self.elevation.value)

    def _show_message(self):
        msg = self.state.error
        self.message.value = (f"<div style='color:#a94442'>{msg}</div>" if msg else "")

    # --------------------------------------------------------------- drawing
    def _apply_view(self):
        s = self.state.current()
        self._cols, (xl, yl) = view_axes(self._view, s.variables)
        three_d = self._view == THREE_D
        self.projection.three_d = three_d
        self.azimuth.layout.display = self.elevation.layout.display = \
            None if three_d else "none"
        label_attractor(self.figure, s.name, xl, yl, points=s.is_map, three_d=three_d)
        label_timeseries(self.ts_figure, list(s.variables[:MAX_SERIES]),
                         "n" if s.is_map else "t")

    def _on_revision(self):
        s = self.state.current()
        key = (self.state.system_name, s.dim)
        if key != self._seen:
            self._seen = key
            self._build_sliders()
            opts = view_options(s.variables)
            self._view = self._view if self._view in opts else opts[0]
            self.view.unobserve(self._on_view, "value")
            self.view.options = opts
            self.view.value = self._view
            self.view.observe(self._on_view, "value")
            if self.system.value != self.state.system_name:
                self._refilter()
            self._apply_view()
        self.redraw()

    def redraw(self):
        t, x = self.state.path_t, self.state.path_x
        self.path.data = projection_columns(t, x, self._cols)
        n = min(len(t), 5000)
        x_ts = x[-n:]
        empty = x_ts[:, 0] * 0
        self.ts.data = {"t": t[-n:], **{f"y{i}": (x_ts[:, i] if i < x.shape[1] else empty)
                                        for i in range(MAX_SERIES)}}


def explore(system="Lorenz", n_steps=20_000) -> Explorer:
    """An ipywidgets explorer of ``system``: controls and a live Bokeh figure.

    Returns the :class:`Explorer` (an ``ipywidgets.VBox``); as the last line of a cell it
    displays itself.
    """
    return Explorer(system, n_steps=n_steps)
