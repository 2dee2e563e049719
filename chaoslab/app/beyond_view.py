"""Beyond Lyapunov: fixed points on the attractor, basins, a cobweb, early warnings and the
density of a map's attractor. Each picture is one call of :mod:`chaoslab.analysis` run as
a job, drawn with :mod:`chaoslab.plots`; nothing is computed here."""
from __future__ import annotations

import warnings

import numpy as np
import panel as pn
import param
from bokeh.events import Tap
from bokeh.models import ColumnDataSource

from .. import analysis
from .. import plots
from ..integrate import simulate
from .busy import DynamicSelect, JobStatus, LazyView, sweep_parameter
from .jobs import locked
from .text import fmt, plain
from .warm import before_work

__all__ = ["BeyondView", "MODES"]

#: The pictures, with the systems each applies to.
MODES = ("Fixed points", "Basins", "Continuation", "Cobweb", "Early warning", "Density")
#: Grid of the basins picture (points per side) and starts of a density image.
BASIN_GRID = (20, 200)
DENSITY_POINTS = (10_000, 2_000_000)
#: Parameter values of a continuation, and its random starts (flows, maps).
CONTINUATION_VALUES = 25
CONTINUATION_STARTS = (100, 200)


def _applies(mode, s):
    if mode == "Cobweb":
        return (s.is_map and s.dim == 1, "A cobweb draws one-dimensional maps.")
    if mode == "Density":
        return (s.is_map and s.dim >= 2, "A density image draws maps of two or more "
                                          "variables.")
    if mode == "Early warning":
        return (bool(s.params), "This system has no parameter to ramp.")
    if mode == "Continuation":
        return (bool(s.params) and not s.is_delay,
                "Continuation needs a parameter and a state of numbers (not a delay "
                "system).")
    if mode in ("Fixed points", "Basins"):
        return (not s.is_delay, "Delay systems have a function as their state.")
    return (True, "")


class BeyondView(LazyView):
    """One tab, five pictures chosen by ``mode``."""

    mode = param.Selector(objects=list(MODES), default="Fixed points", label="Picture")
    grid = param.Integer(default=80, bounds=BASIN_GRID, label="grid")
    parameter = param.String(default=None, allow_None=True, label="Ramp")
    ramp_to = param.Number(default=1.0, label="to")
    noise = param.Number(default=0.01, bounds=(0.0, 10.0), label="noise")
    points = param.Integer(default=500_000, bounds=DENSITY_POINTS, label="points")

    def __init__(self, **params):
        super().__init__(**params)
        self.status = JobStatus(self.jobs, "beyond")
        w = pn.widgets
        self._mode = w.RadioButtonGroup.from_param(self.param.mode, button_type="light")
        self._grid = w.IntInput.from_param(self.param.grid, width=90)
        self._param_sel = DynamicSelect(self, "parameter", width=120)
        self._to = w.FloatInput.from_param(self.param.ramp_to, width=100)
        self._noise = w.FloatInput.from_param(self.param.noise, width=90)
        self._points = w.IntInput.from_param(self.param.points, width=120, step=100_000)
        self._compute = w.Button(name="Compute", button_type="primary", width=100,
                                 margin=(20, 5), on_click=locked(lambda e: self.refresh()))
        self._settings = pn.Row(self._grid, self._param_sel.widget, self._to, self._noise,
                                self._points, self._compute)
        self._note = pn.pane.Markdown("", sizing_mode="stretch_width", name="beyond-note")
        self._unsupported = pn.pane.Alert("", alert_type="info", visible=False)
        self._figure = pn.pane.Bokeh(None, name="beyond-figure")
        self._trajectory = ColumnDataSource({"x": [], "y": []}, name="basin-trajectory")
        self._basin_axes = None
        self._layout = pn.Column(
            pn.pane.Markdown(
                "#### Beyond Lyapunov exponents\n*Fixed points* on the attractor (green "
                "stable, red unstable); *Basins*: where each start ends up (click a point "
                "to see its path); *Continuation*: the attractors followed across a "
                "parameter, with the share of starts each one attracts; *Cobweb* of a 1-D map; *Early warning*: ramp a "
                "parameter towards a bifurcation and watch variance and autocorrelation "
                "climb; *Density*: a map's attractor from many iterates."),
            self._mode, self._unsupported, self._settings, self.status, self._figure,
            self._note, sizing_mode="stretch_width", name="Beyond Lyapunov")
        self._on_system()
        self._show_settings()

    def __panel__(self):
        return self._layout

    # ---------------------------------------------------------------- settings
    def _on_system(self):
        s = self.state.current()
        self._settling = True
        try:
            first = sweep_parameter(s)
            self._param_sel.reset(list(s.params), first)
            p = s.params.get(first) if first else None
            self.param.update(parameter=first,
                              **({} if p is None else {"ramp_to": p.max}))
        finally:
            self._settling = False
        self._show_settings()

    @param.depends("mode", watch=True)
    def _on_mode(self):
        self._show_settings()
        self.maybe_refresh()

    @param.depends("grid", "parameter", "ramp_to", "noise", "points", watch=True)
    def _on_settings(self):
        self.maybe_refresh()

    def _show_settings(self):
        m = self.mode
        self._grid.visible = m == "Basins"
        for wdg in (self._param_sel.widget, self._to):
            wdg.visible = m in ("Early warning", "Continuation")
        self._noise.visible = m == "Early warning"
        self._param_sel.widget.name = "Parameter" if m == "Continuation" else "Ramp"
        self._points.visible = m == "Density"
        ok, why = _applies(m, self.state.current())
        self._unsupported.visible = not ok
        self._unsupported.object = plain(f"{self.state.current().name}: {why}") if not ok \
            else ""
        self._settings.visible = ok

    def key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), self.mode, self.grid,
                self.parameter, self.ramp_to, self.noise, self.points)

    # ----------------------------------------------------------------- compute
    def compute(self):
        s = self.state.current()
        ok, _ = _applies(self.mode, s)
        if not ok:
            return
        mode = self.mode
        run = {"Fixed points": self._fixed_points, "Basins": self._basins,
               "Continuation": self._continuation, "Cobweb": self._cobweb,
               "Early warning": self._early_warning,
               "Density": self._density}[mode]
        self.status.start(f"{mode} of {plain(s.name)} ...")
        work, show = run(s)

        def job_fn(job):
            before_work(s, job)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return work(job)

        self.jobs.submit("beyond", job_fn, show, on_error=self.status.fail,
                         on_progress=self.status.progress)

    def _fixed_points(self, s):
        def work(job):
            fps = analysis.fixed_points(s)
            job.check()
            x = np.asarray(simulate(s, 4000 if not s.is_map else 5000,
                                    transient=50.0 if not s.is_map else 500.0,
                                    on_diverge="ignore"))
            return fps, x

        def show(out):
            fps, x = out
            i, j = (0, 1) if s.dim > 1 else (0, 0)
            ok = np.all(np.isfinite(x), axis=1)
            cols = plots.fixed_points_columns([f.x for f in fps], [f.stable for f in fps],
                                              i, j) if fps else \
                {"x": [], "y": [], "colour": [], "label": []}
            self._figure.object = plots.fixed_points_figure(
                x[ok, i], x[ok, j], cols, x_label=s.variables[i], y_label=s.variables[j],
                title=f"{s.name}: fixed points")
            lines = [f"({', '.join(fmt(v) for v in f.x)}): {f.kind}" for f in fps]
            self._note.object = plain("; ".join(lines)) if lines else \
                "No fixed point was found from 200 starts around the attractor."
            self.status.finish(f"{len(fps)} fixed point(s).")

        return work, show

    def _basins(self, s):
        n = int(self.grid)
        clocks = analysis.clock_variables(s)
        free = [v for v in s.variables if v not in clocks]
        vx, vy = (free + free)[:2]
        lo, hi = analysis.default_box(s)
        ix, iy = s.variables.index(vx), s.variables.index(vy)
        gx = np.linspace(lo[ix], hi[ix], n)
        gy = np.linspace(lo[iy], hi[iy], n)

        def work(job):
            return analysis.basins_of_attraction(
                s, {vx: gx, vy: gy}, progress=lambda f, m: job.progress(f, m),
                cancel=lambda: job.cancelled)

        def show(res):
            atts = {k: p[:, [ix, iy]] for k, p in res.attractors.items()}
            fig = plots.basins_figure(res.basins, gx, gy, attractors=atts, x_label=vx,
                                      y_label=vy, title=f"{s.name}: basins of attraction")
            self._trajectory.data = {"x": [], "y": []}
            fig.line("x", "y", source=self._trajectory, color="white", line_width=2,
                     name="clicked")
            fig.on_event(Tap, self._on_tap)
            self._basin_axes = (s, ix, iy)
            self._figure.object = fig
            parts = [f"attractor {k}: {100 * v:.1f}%" if k >= 0 else
                     f"diverged: {100 * v:.1f}%" for k, v in sorted(res.fractions.items())]
            self._note.object = plain("; ".join(parts))
            self.status.finish(f"{len(res.attractors)} attractor(s) on a {n} x {n} grid. "
                               "Click a point to see where it goes.")

        return work, show

    def _on_tap(self, event):
        if self._basin_axes is None:
            return
        s, ix, iy = self._basin_axes
        x0 = np.array(s.x0, dtype=float)
        x0[ix], x0[iy] = float(event.x), float(event.y)

        def work(job):
            return np.asarray(simulate(s, 3000 if not s.is_map else 300, x0=x0,
                                       on_diverge="ignore"))

        def show(x):
            ok = np.all(np.isfinite(x), axis=1)
            self._trajectory.data = {"x": x[ok, ix], "y": x[ok, iy]}

        self.jobs.submit("basin-click", work, show, on_error=self.status.fail)

    def _continuation(self, s):
        name = self.parameter
        a = float(self.state.values.get(name, s.values.get(name)))
        b = float(self.ramp_to)
        values = np.linspace(a, b, CONTINUATION_VALUES)
        n = CONTINUATION_STARTS[1 if s.is_map else 0]

        def work(job):
            return analysis.continuation(s, name, values, n_starts=n,
                                         progress=lambda f, m="": job.progress(f, m),
                                         cancel=lambda: job.cancelled)

        def show(res):
            from bokeh.layouts import column

            table = res.fraction_table()
            var = s.variables[0]
            orbits = plots.continuation_orbit_figure(
                *res.orbit_points(0), parameter=name, variable=var,
                title=f"{s.name}: the attractors' {var} across {name}")
            shares = plots.continuation_figure(
                res.values, table, res.ids, parameter=name,
                title="Share of the starts on each attractor", height=260)
            shares.x_range = orbits.x_range
            self._figure.object = column(orbits, shares, sizing_mode="stretch_width")
            counts = [int(np.count_nonzero(row > 0)) for row in table]
            lost = [float(f.get(-1, 0.0)) for f in res.fractions]
            note = (f"{name} from {fmt(a)} to {fmt(b)} in {len(values)} steps, the same "
                    f"{n} random starts at each: {len(res.ids)} attractor(s) in all, at most "
                    f"{max(counts, default=0)} side by side.")
            if max(lost, default=0.0) > 0:
                note += (f" Up to {100 * max(lost):.0f}% of the starts diverge (the white "
                         "band).")
            self._note.object = plain(note)
            self.status.finish("Each colour is one attractor, kept while it exists; its "
                               "height is the share of starts that end on it.")

        return work, show

    def _cobweb(self, s):
        def work(job):
            return analysis.cobweb(s, n=80)

        def show(c):
            self._figure.object = plots.cobweb_figure(
                c.curve_x, c.curve_y, c.path_x, c.path_y, title=f"{s.name}: cobweb")
            self._note.object = plain(f"last iterates: {', '.join(fmt(v) for v in c.orbit[-4:])}")
            self.status.finish("80 iterates from the system's start.")

        return work, show

    def _early_warning(self, s):
        name = self.parameter
        a = float(self.state.values.get(name, s.values.get(name)))
        b = float(self.ramp_to)
        noise = float(self.noise)
        T = 3000.0 if s.is_map else 300.0

        def work(job):
            t, x, _ = analysis.ramp_run(s, name, (a, b), T, noise=noise, transient=100.0,
                                        dt=None if s.is_map else max(s.dt, 0.05))
            job.check()
            ok = np.all(np.isfinite(x), axis=1)
            stop = t[~ok][0] if not ok.all() else None
            return t, x[:, 0], analysis.early_warning(x[ok, 0], t[ok], bandwidth=0.05), stop

        def show(out):
            t, x, ew, stop = out
            self._figure.object = plots.early_warning_figure(ew.t, x[:len(ew.t)], ew.trend,
                                                             ew.indicators, ew.tau)
            note = (f"{name} ramped from {fmt(a)} to {fmt(b)} with noise {fmt(noise)}. "
                    f"Kendall tau: variance {ew.tau['variance']:+.2f}, lag-1 "
                    f"autocorrelation {ew.tau['ac1']:+.2f}.")
            if stop is not None:
                note += f" The run diverged at t = {fmt(stop)}; the indicators stop there."
            self._note.object = plain(note)
            self.status.finish("Rising variance and autocorrelation (towards +1, or -1 "
                               "before a period doubling) warn of the transition.")

        return work, show

    def _density(self, s):
        n = int(self.points)

        def work(job):
            return analysis.map_density(s, n, resolution=(500, 500))

        def show(d):
            self._figure.object = plots.density_figure(d.counts, d.x_range, d.y_range,
                                                       title=f"{s.name}: {n:,} iterates")
            self.status.finish(f"{d.n_points:,} iterates binned into 500 x 500 pixels.")

        return work, show
