"""FTLE: where does stuff go? The finite-time Lyapunov exponent field, and particles."""
from __future__ import annotations

import warnings

import numpy as np
import panel as pn
import param
from bokeh.events import Tap
from bokeh.models import ColumnDataSource

from ..analysis.ensemble import trajectory_box
from ..analysis.ftle import default_grid, ftle_field
from ..integrate import simulate
from ..plots import columns_csv, ftle_figure, ftle_image_columns
from .busy import DynamicSelect, JobStatus, LazyView
from .export import csv_button, slug
from .jobs import locked
from .text import fmt, time_unit
from .warm import before_work

__all__ = ["FTLEView"]

#: Grid rows per chunk: progress and cancel between chunks.
N_CHUNKS = 8
N_SEEDS = 9


class FTLEView(LazyView):
    """The FTLE field of a transport flow on its domain, or of a 2-D slice of a flow."""

    T = param.Number(default=None, allow_None=True, bounds=(0, None),
                     inclusive_bounds=(False, True), label="Integration time |T|")
    direction = param.Selector(default="forward", objects=["forward", "backward"],
                               label="Direction")
    resolution = param.Selector(default=160, objects=[60, 120, 160, 240, 400, 600],
                                label="Grid points (long side)")
    t0 = param.Number(default=0.0, label="Start time t0")
    axis_x = param.String(default=None, allow_None=True, label="Horizontal")
    axis_y = param.String(default=None, allow_None=True, label="Vertical")
    plane = param.Dict(default={}, doc="values of the variables the slice fixes")

    def __init__(self, **params):
        super().__init__(**params)
        self.image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []},
                                      name="ftle-image")
        self.seeds = ColumnDataSource({"xs": [], "ys": [], "x0": [], "y0": []},
                                      name="ftle-seeds")
        self.figure = ftle_figure(self.image, self.seeds)
        self.figure.on_event(Tap, self._on_tap)
        self.field = None  # (F, x, y) of the last result
        self.status = JobStatus(self.jobs, "ftle")
        self._note = pn.pane.Markdown("", sizing_mode="stretch_width", name="ftle-note")
        self._unsupported = pn.pane.Alert("", alert_type="info", visible=False)
        w = pn.widgets
        self._T = w.FloatInput.from_param(self.param.T, width=120, step=0.5)
        self._t0 = w.FloatInput.from_param(self.param.t0, width=110)
        self._ax_sel = DynamicSelect(self, "axis_x", width=110)
        self._ay_sel = DynamicSelect(self, "axis_y", width=110)
        self._ax, self._ay = self._ax_sel.widget, self._ay_sel.widget
        self._plane_box = pn.Row()
        self._controls = pn.Column(
            pn.Row(self._T, w.RadioButtonGroup.from_param(self.param.direction,
                                                          margin=(25, 5)),
                   w.Select.from_param(self.param.resolution, width=150), self._t0,
                   w.Button(name="Compute", button_type="primary", width=100,
                            margin=(25, 5), on_click=locked(lambda e: self.refresh()))),
            pn.Row(self._ax, self._ay, self._plane_box))
        self._layout = pn.Column(
            pn.pane.Markdown(
                "#### Where does stuff go?\nThe finite-time Lyapunov exponent (FTLE) at a "
                "point is how fast a tiny blob released there is stretched over the time "
                "|T|, per unit time. Ridges of the forward field repel (they separate "
                "regions that go different ways); ridges of the backward field attract. "
                "**Click the field** to release particles there."),
            self._unsupported, self._controls, self.status, pn.pane.Bokeh(self.figure),
            pn.Row(csv_button(self._csv, lambda: f"{slug(self.state.system_name)}_ftle.csv",
                              "Field (CSV)"),
                   pn.pane.HTML("<small>PNG: the figure's save tool</small>",
                                margin=(8, 5))),
            self._note, sizing_mode="stretch_width", name="FTLE")
        self._on_system()

    def __panel__(self):
        return self._layout

    # -------------------------------------------------------------- settings
    @property
    def supported(self) -> bool:
        s = self.state.current()
        return not s.is_map and not s.is_delay and s.dim >= 2

    def _on_system(self):
        s = self.state.current()
        ok = self.supported
        self._unsupported.visible = not ok
        self._controls.visible = ok
        if not ok:
            why = ("a map (its stretching is measured by the Lyapunov tab)" if s.is_map else
                   "a delay system (its state is a whole history)" if s.is_delay else
                   "one-dimensional")
            self._unsupported.object = (f"FTLE fields are computed for flows of two or more "
                                        f"variables; {s.name} is {why}.")
            return
        v = list(s.variables)
        self._settling = True
        try:
            self._ax_sel.reset(v, v[0])
            self._ay_sel.reset(v, v[1])
            self.param.update(axis_x=v[0], axis_y=v[1], T=self._default_T(), t0=0.0)
        finally:
            self._settling = False
        self._t0.visible = s.nonautonomous
        self._ax.visible = self._ay.visible = s.dim > 2
        self._build_plane()

    def _default_T(self):
        s = self.state.current()
        if s.transport:
            return float(1.5 * s.period)
        return float(2.0 * s.period)

    def _box(self):
        """The window of the slice: the extent of the current path (the attractor)."""
        return trajectory_box(self.state.path_x, pad=0.1)

    @param.depends("axis_x", "axis_y", watch=True)
    def _build_plane(self):
        s = self.state.current()
        if not self.supported or s.dim <= 2:
            self._plane_widgets = []
            self._plane_box[:] = []
            return
        box = self._box()
        v = list(s.variables)
        widgets = []
        plane = {}
        for k, name in enumerate(v):
            if name in (self.axis_x, self.axis_y):
                continue
            lo, hi = box[k]
            mid = float(self.state.path_x[-1, k]) if len(self.state.path_x) else 0.0
            mid = float(np.clip(mid, lo, hi)) if np.isfinite(mid) else 0.5 * (lo + hi)
            plane[name] = mid
            sl = pn.widgets.FloatSlider(name=f"{name} (fixed)", start=float(lo), end=float(hi),
                                        value=mid, step=(hi - lo) / 100, width=170)
            sl.param.watch(self._on_plane, "value_throttled")
            widgets.append(sl)
        self._plane_widgets = widgets
        settling, self._settling = self._settling, True
        try:
            self.plane = plane
        finally:
            self._settling = settling
        self._plane_box[:] = widgets[:6]

    def _on_plane(self, event):
        if event.obj not in getattr(self, "_plane_widgets", ()):
            return  # a slider of a previous slice (another system or other axes)
        plane = dict(self.plane)
        plane[event.obj.name.split(" ")[0]] = event.new
        self.plane = plane

    @param.depends("T", "direction", "resolution", "t0", "plane", "axis_x", "axis_y",
                   watch=True)
    def _on_settings(self):
        self.maybe_refresh()

    def key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), st.step, self.T,
                self.direction, self.resolution, self.t0, self.axis_x, self.axis_y,
                tuple(sorted(self.plane.items())))

    def _grid(self, s):
        n = int(self.resolution)
        if s.transport and s.domain and s.dim == 2:
            return default_grid(s, n)
        box = self._box()
        i, j = s.variables.index(self.axis_x), s.variables.index(self.axis_y)
        (x0, x1), (y0, y1) = box[i], box[j]
        ratio = (y1 - y0) / (x1 - x0)
        nx, ny = (n, max(2, int(round(n * ratio)))) if ratio <= 1 else \
            (max(2, int(round(n / ratio))), n)
        return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)

    # ---------------------------------------------------------------- compute
    def compute(self):
        if not self.supported:
            return
        if self.axis_x == self.axis_y:
            self.status.fail("pick two different variables for the axes")
            return
        st = self.state
        s = st.current()
        x, y = self._grid(s)
        T = float(self.T or self._default_T())
        T = T if self.direction == "forward" else -T
        plane = dict(self.plane) if s.dim > 2 else None
        axes = (self.axis_x, self.axis_y) if s.dim > 2 else None
        t0, dt = float(self.t0), st.step
        self.status.start(f"Integrating {len(x) * len(y):,} trajectories for T = {fmt(T)} ...")

        def work(job):
            before_work(s, job)
            rows = []
            edges = np.linspace(0, len(x), N_CHUNKS + 1).astype(int)
            for a, b in zip(edges[:-1], edges[1:]):
                job.check()
                if b <= a:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows.append(ftle_field(s, x[a:b], y, T, t0=t0, plane=plane, axes=axes,
                                           dt=dt))
                job.progress(b / len(x), f"FTLE: {b} of {len(x)} grid columns")
            return np.concatenate(rows, axis=0), x, y, T

        self.jobs.submit("ftle", work, self._show, on_error=self.status.fail,
                         on_progress=self.status.progress)

    def _show(self, out):
        F, x, y, T = out
        self.field = (F, x, y)
        self.image.data = ftle_image_columns(F, x, y)
        self.seeds.data = {"xs": [], "ys": [], "x0": [], "y0": []}
        s = self.state.current()
        self.figure.xaxis.axis_label = self.axis_x if s.dim > 2 else s.variables[0]
        self.figure.yaxis.axis_label = self.axis_y if s.dim > 2 else s.variables[1]
        kind = "forward (repelling ridges)" if T > 0 else "backward (attracting ridges)"
        where = ("on its domain" if s.transport else
                 "in the plane " + ", ".join(f"{k} = {fmt(v)}" for k, v in self.plane.items())
                 if self.plane else "in its phase plane")
        self.figure.title.text = f"{s.name}: {kind} FTLE, T = {fmt(abs(T))}"
        finite = F[np.isfinite(F)]
        hi = fmt(float(finite.max())) if len(finite) else "n/a"
        self.status.finish(f"{F.shape[0]} x {F.shape[1]} grid {where}.")
        self._note.object = (f"Largest FTLE on the grid: **{hi} per unit time**: a blob "
                             f"released there grows like e^(FTLE x {fmt(abs(T))}) over "
                             f"|T| = {fmt(abs(T))} {time_unit(False)}.")

    # ------------------------------------------------------------------ seeds
    def _on_tap(self, event):
        self.seed(event.x, event.y)

    def seed(self, px, py):
        """Release a few particles around ``(px, py)`` for |T| and draw their paths."""
        if not self.supported or px is None or py is None:
            return
        st = self.state
        s = st.current()
        i = s.variables.index(self.axis_x if s.dim > 2 else s.variables[0])
        j = s.variables.index(self.axis_y if s.dim > 2 else s.variables[1])
        base = np.array([self.plane.get(v, 0.0) for v in s.variables], dtype=float)
        base[i], base[j] = px, py
        if self.field is not None:
            _, gx, gy = self.field
            r = 0.01 * max(gx[-1] - gx[0], gy[-1] - gy[0])
        else:
            r = 0.01
        ang = np.linspace(0, 2 * np.pi, N_SEEDS - 1, endpoint=False)
        starts = np.repeat(base[None, :], N_SEEDS, axis=0)
        starts[1:, i] += r * np.cos(ang)
        starts[1:, j] += r * np.sin(ang)
        T = abs(float(self.T or self._default_T()))
        n = int(max(2, round(T / st.step))) + 1
        dt, t0 = st.step, float(self.t0)

        def work(job):  # off the UI thread: it may compile a kernel
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return simulate(s, n, dt=dt, x0=starts, t0=t0, on_diverge="ignore")

        def done(xs):
            self.seeds.data = {"xs": list(xs[:, :, i]), "ys": list(xs[:, :, j]),
                               "x0": starts[:, i], "y0": starts[:, j]}

        return self.jobs.submit("ftle-seeds", work, done, on_error=self.status.fail,
                                pool="light")

    # ---------------------------------------------------------------- export
    def _csv(self):
        if self.field is None:
            return columns_csv({"x": [], "y": [], "ftle": []})
        F, x, y = self.field
        X, Y = np.meshgrid(x, y, indexing="ij")
        s = self.state.current()
        nx = self.axis_x if s.dim > 2 else s.variables[0]
        ny = self.axis_y if s.dim > 2 else s.variables[1]
        return columns_csv({nx: X.ravel(), ny: Y.ravel(), "ftle_per_unit_time": F.ravel()})
