"""Explore: the live attractor (2-D or rotatable 3-D), the butterfly effect, time series."""
from __future__ import annotations

import math

import numpy as np
import panel as pn
import param
from bokeh.models import ColumnDataSource

from ..analysis.ensemble import ensemble_spread
from ..analysis.exponent import largest_lyapunov_exponent
from ..plots import (MAX_SERIES, THREE_D, Projection, attractor_figure, columns_csv,
                     label_attractor, label_timeseries, projection_columns, separation_figure,
                     source_csv, timeseries_figure, trajectory_columns, view_axes, view_options)
from .export import csv_button, slug
from .busy import DynamicSelect, system_key
from .jobs import JobRunner, ui_dispatcher
from .state import LabState
from .text import fmt, html, lyapunov_sentence, rate_unit, time_unit
from .warm import before_work

__all__ = ["ExploreView"]

#: Members of the butterfly ensemble and how many of their separation curves are drawn.
N_MEMBERS = 32
N_CURVES = 12
CURVE_POINTS = 400
#: Milliseconds between a restart's attractor and its time series and butterfly.
REST_DELAY_MS = 150
#: The live run adds to the long path and the time series every this many frames.
PATH_EVERY = 4


def _f32(cols: dict) -> dict:
    return {k: np.asarray(v, dtype=np.float32) for k, v in cols.items()}


class ExploreView(pn.viewable.Viewer):
    """What does it look like: the attractor, how nearby starts drift apart, the signals."""

    state = param.ClassSelector(class_=LabState)
    jobs = param.ClassSelector(class_=JobRunner)
    view = param.String(default=THREE_D, label="View")
    azimuth = param.Number(default=-60.0, bounds=(-180, 180), label="Azimuth (degrees)")
    elevation = param.Number(default=20.0, bounds=(-90, 90), label="Elevation (degrees)")
    release = param.Number(default=0.6, bounds=(0, 1),
                           label="Time since release (fraction of the run)")

    def __init__(self, **params):
        super().__init__(**params)
        if self.jobs is None:
            self.jobs = JobRunner()
        self.projection = Projection(azimuth=self.azimuth, elevation=self.elevation)
        self.path = ColumnDataSource(trajectory_columns(), name="attractor-path")
        self.trail = ColumnDataSource(trajectory_columns(), name="attractor-trail")
        self.cloud = ColumnDataSource({**trajectory_columns(), "member": []},
                                      name="butterfly-cloud")
        self.ts = ColumnDataSource({"t": [], **{f"y{i}": [] for i in range(MAX_SERIES)}},
                                   name="timeseries-data")
        self.members = ColumnDataSource({"xs": [], "ys": []}, name="butterfly-members")
        self.summary = ColumnDataSource({"t": [], "typical": [], "predicted": []},
                                        name="butterfly-summary")
        self.figure = attractor_figure(self.path, self.trail, self.cloud, self.projection,
                                       n_members=N_MEMBERS)
        self.separation = separation_figure(self.members, self.summary)
        self.ts_figure = timeseries_figure(self.ts)
        self._cursor = self.separation.select_one({"name": "cursor"})
        self.ensemble = None
        self.exponent = None
        self.exponent_source = ""
        self._cols = (0, 1, 2)
        self._prev = None  # last sample of a 1-D map (its delay plot pairs x(n), x(n+1))
        self._k = 0        # the ensemble sample the cloud shows
        self._lam_cache = {}  # (system, values, step) -> estimated largest exponent
        self._lam_T = {}      # ... and the length of the run that estimated it
        self._released_without_exponent = False
        self._dispatch = ui_dispatcher()
        # the time series and the butterfly follow a restart a little later: the page
        # paints the attractor first, and quick slider moves compute them once
        self._later = ui_dispatcher(delay_ms=REST_DELAY_MS)
        self._pending = []    # live samples not yet in the path (see stream)
        self.history = (np.empty(0), np.empty((0, 1)))  # (t, x) of the path, full state
        self._frames = 0

        self._relabeling = False
        self._view_sel = DynamicSelect(self, "view", width=170)
        self._view_select = self._view_sel.widget
        self._az = pn.widgets.FloatSlider.from_param(self.param.azimuth, step=1, width=170)
        self._el = pn.widgets.FloatSlider.from_param(self.param.elevation, step=1, width=170)
        self._release = pn.widgets.FloatSlider.from_param(self.param.release, step=0.01,
                                                          width=300)
        self._info = pn.pane.HTML("", sizing_mode="stretch_width", name="explore-info",
                                  margin=(0, 10), styles={"font-size": "14px"})
        self._butterfly_note = pn.pane.HTML("", width=440, margin=(0, 10),
                                            styles={"font-size": "13px"})
        self._csv_path = csv_button(self._path_csv, lambda: self._fname("attractor"),
                                    "Attractor data (CSV)")
        self._csv_ts = csv_button(self._ts_csv, lambda: self._fname("timeseries"),
                                  "Time series (CSV)")
        self._csv_sep = csv_button(self._sep_csv, lambda: self._fname("separation"),
                                   "Separations (CSV)")
        self._layout = self._build_layout()

        self.state.param.watch(self._on_revision, "revision")
        self.state.param.watch(lambda e: self.stream(), "chunk")
        self.state.param.watch(lambda e: self.flush(), "running")
        self._seen_system = system_key(self.state)
        self.history = (self.state.path_t, self.state.path_x)
        self._relabel()

    # ------------------------------------------------------------------ layout
    def _build_layout(self):
        attractor = pn.Column(
            pn.pane.Bokeh(self.figure),
            pn.Row(self._view_select, self._az, self._el),
            pn.Row(self._csv_path, pn.pane.HTML("<small>PNG: the figure's save tool</small>",
                                                margin=(8, 5))))
        butterfly = pn.Column(pn.pane.Bokeh(self.separation), self._release,
                              self._butterfly_note, self._csv_sep)
        return pn.Column(pn.Row(attractor, butterfly), self._info,
                         pn.pane.Bokeh(self.ts_figure), self._csv_ts,
                         sizing_mode="stretch_width", name="Explore")

    def __panel__(self):
        return self._layout

    def _fname(self, what):
        return f"{slug(self.state.system_name)}_{what}.csv"

    # -------------------------------------------------------------- projection
    def _on_revision(self, event=None):
        """A restart: relabel first when the system (or its size) changed."""
        self.history = (self.state.path_t, self.state.path_x)
        self._pending = []
        key = system_key(self.state)
        if key != self._seen_system:
            self._seen_system = key
            self._relabel()  # redraws
        else:
            self.redraw()

    def _relabel(self):
        s = self.state.current()
        opts = view_options(s.variables)
        new = self.view if self.view in opts else opts[0]
        self._relabeling = True
        try:
            self._view_sel.reset(opts, new)
            self.view = new
        finally:
            self._relabeling = False
        self._apply_view()

    @param.depends("view", watch=True)
    def _on_view(self):
        if not self._relabeling:
            self._apply_view()

    def _apply_view(self):
        s = self.state.current()
        v = s.variables
        three_d = self.view == THREE_D
        self._cols, (xl, yl) = view_axes(self.view, v)
        if three_d:
            title = (f"{s.name}: ({v[0]}, {v[1]}, {v[2]}) seen from azimuth "
                     f"{self.azimuth:.0f} deg, elevation {self.elevation:.0f} deg")
        elif s.dim == 1:
            title = f"{s.name}: delay plot"
        else:
            title = f"{s.name}: {xl} against {yl}"
        self.projection.three_d = three_d
        label_attractor(self.figure, title, xl, yl, points=s.is_map, three_d=three_d)
        self._az.visible = self._el.visible = three_d
        t_label = "n (iterations)" if s.is_map else "t (time units)"
        label_timeseries(self.ts_figure, list(v[:MAX_SERIES]), t_label)
        self.separation.xaxis.axis_label = f"time since release ({time_unit(s.is_map)})"
        self.separation.yaxis.axis_label = "separation (state units, log scale)"
        self.redraw()

    @param.depends("azimuth", "elevation", watch=True)
    def _turn(self):
        self.projection.update(azimuth=self.azimuth, elevation=self.elevation)
        if self.view == THREE_D:
            v = self.state.current().variables
            self.figure.title.text = (f"{self.state.current().name}: ({v[0]}, {v[1]}, {v[2]}) "
                                      f"seen from azimuth {self.azimuth:.0f} deg, elevation "
                                      f"{self.elevation:.0f} deg")

    def _columns(self, t, x, prev=None):
        """Source columns for samples ``x (n, dim)``: the three shown variables, in single
        precision (what the screen needs; half the bytes to send). Times and the full
        state stay on the server, in :attr:`history` (the CSV export)."""
        cols = projection_columns(t, x, self._cols, prev)
        cols.pop("t")
        return _f32(cols)

    # ---------------------------------------------------------------- drawing
    @property
    def trail_length(self) -> int:
        s = self.state.current()
        if s.is_map:
            return 60
        return int(min(600, max(40, 1.5 * s.period / self.state.step)))

    @property
    def ts_length(self) -> int:
        s = self.state.current()
        if s.is_map:
            return 300
        return int(min(5000, max(500, 40 * s.period / self.state.step)))

    def redraw(self):
        """Replace every source from the state's path (a restart or a new view)."""
        with pn.io.hold():
            self._redraw()

    def _redraw(self):
        """Every source from :attr:`history`: the restart's path and the live run since."""
        st = self.state
        t, x = self._full_history()
        self.history, self._pending = (t, x), []
        if x.ndim != 2 or x.shape[1] != st.current().dim:
            return
        cols = self._columns(t, x)
        self.path.data = cols
        n = self.trail_length
        self.trail.data = {k: v[-n:] for k, v in cols.items()}
        self._prev = x[-1, 0] if x.shape[1] == 1 and len(x) else None
        # the attractor goes out first; the time series and the butterfly follow in a
        # later message (a served page redraws the attractor without waiting for them)
        rev = st.revision
        self._later(lambda: self._redraw_rest(rev))

    def _redraw_rest(self, revision):
        if revision != self.state.revision or self.state.preparing:
            return  # a newer restart is on its way
        with pn.io.hold():
            m = self.ts_length
            t, x = self.history
            self.ts.data = self._ts_columns(t[-m:], x[-m:])
            self.release_ensemble()

    def _ts_columns(self, t, x):
        k = min(MAX_SERIES, x.shape[1])
        return {"t": np.asarray(t, dtype=float),
                **_f32({f"y{i}": x[:, i] for i in range(k)})}

    def stream(self):
        """Append the state's newest samples (the live run) with rollover.

        The trail, its head and the ensemble cloud move every frame; the long path and
        the time series take the frames' samples in batches of :data:`PATH_EVERY` frames
        (the browser re-indexes a source's every point on each change, and the trail
        covers the samples still pending).
        """
        t, x = self.state.last_chunk
        if not len(t):
            return
        cols = self._columns(t, x, prev=self._prev)
        if self.state.current().dim == 1:
            self._prev = x[-1, 0]
        # a frame's few samples go as plain lists: inline in the message, where each
        # numpy column would be a binary buffer of its own (two more socket writes)
        self.trail.stream({k: v.tolist() for k, v in cols.items()},
                          rollover=self.trail_length)
        self._pending.append((t, x, cols))
        self._frames += 1
        self._advance_cloud(len(t))
        if self._frames % PATH_EVERY == 0 or not self.state.running:
            self.flush()

    def flush(self):
        """Stream the pending samples into the path and the time series."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        t = np.concatenate([p[0] for p in pending])
        x = np.concatenate([p[1] for p in pending])
        n = self.state.n_steps
        ht, hx = self.history
        self.history = (np.concatenate([ht, t])[-n:], np.concatenate([hx, x])[-n:])
        cols = {k: np.concatenate([p[2][k] for p in pending]).tolist()
                for k in pending[0][2]}
        self.path.stream(cols, rollover=self.state.n_steps)
        self.ts.stream({k: v.tolist() for k, v in self._ts_columns(t, x).items()},
                       rollover=self.ts_length)
        if self.ensemble is not None:
            self._cursor.location = float(self.ensemble.t[min(self._k,
                                                              len(self.ensemble.t) - 1)])

    # --------------------------------------------------------------- butterfly
    def release_ensemble(self):
        """A new cloud of nearby starts at the current point, and its separations."""
        st = self.state
        if st.x is None or not np.all(np.isfinite(st.x)) or st.preparing:
            return
        s = st.current()
        lam = st.lyapunov_exponent
        if lam is not None:
            self.exponent, self.exponent_source = lam, "catalog reference"
        elif self._key() in self._lam_cache:
            self.exponent, self.exponent_source = self._lam_cache[self._key()], "estimated"
        else:
            self.exponent, self.exponent_source = None, ""
            self._estimate_exponent()
        try:
            e = ensemble_spread(s, n_members=N_MEMBERS, x0=st.x,
                                lyapunov_exponent=self.exponent,
                                dt=None if s.is_map else st.step, t0=st.t,
                                method=st.method if not s.is_map else "rk4", n_steps=None)
        except Exception as exc:  # e.g. a delay system's history, shown not raised
            self.ensemble = None
            self._butterfly_note.object = html(f"The ensemble could not run: {exc}")
            return
        self.ensemble = e
        self._released_without_exponent = self.exponent is None
        n = len(e.t)
        step = max(1, n // CURVE_POINTS)
        t_small = e.t[::step]
        self.members.data = {"xs": [t_small] * min(N_CURVES, len(e.separation)),
                             "ys": [row[::step] for row in e.separation[:N_CURVES]]}
        self._update_summary()
        self._k = int(self.release * (n - 1))
        self._show_cloud()
        self._describe()

    def _key(self):
        st = self.state
        return (st.system_name, tuple(sorted(st.values.items())), st.step)

    def _estimate_exponent(self):
        """The largest exponent for non-default parameters, off the UI thread."""
        st = self.state
        s = st.current()
        key = self._key()
        T = 20_000 if s.is_map else 300 * s.period

        def work(job):
            before_work(s, job)
            return largest_lyapunov_exponent(s, None if s.is_map else st.step, T=T)

        def done(lam):
            self._lam_cache[key] = float(lam)
            self._lam_T[key] = T
            if key != self._key():
                return
            self.exponent, self.exponent_source = float(lam), "estimated"
            if self._released_without_exponent:
                self.release_ensemble()  # now with a horizon of 20 Lyapunov times
            else:
                self._update_summary()
                self._describe()

        self.jobs.submit("butterfly-exponent", work, done,
                         on_error=lambda msg: None)

    def _update_summary(self):
        e = self.ensemble
        if e is None:
            return
        n = len(e.t)
        step = max(1, n // CURVE_POINTS)
        typical = e.typical_separation[::step]
        if self.exponent is not None and math.isfinite(self.exponent):
            sat = e.saturation()
            cap = 10 * sat if math.isfinite(sat) else None
            pred = e.exponential(self.exponent)[::step]
            if cap is not None:
                pred = np.where(pred > cap, np.nan, pred)
        else:
            pred = np.full(len(typical), np.nan)
        self.summary.data = {"t": e.t[::step], "typical": typical, "predicted": pred}

    @param.depends("release", watch=True)
    def _scrub(self):
        if self.ensemble is not None:
            self._k = int(self.release * (len(self.ensemble.t) - 1))
            self._show_cloud()
            self._describe()

    def _advance_cloud(self, steps):
        e = self.ensemble
        if e is None:
            return
        self._k += steps
        if self._k >= len(e.t):
            self.release_ensemble()
            self._k = 0
        self._show_cloud()

    def _show_cloud(self):
        e = self.ensemble
        if e is None:
            return
        k = min(self._k, len(e.t) - 1)
        pts = e.x[:, k, :]
        if self.state.current().dim == 1:
            nxt = e.x[:, min(k + 1, len(e.t) - 1), 0]
            cols = {"x": pts[:, 0], "y": nxt, "z": nxt}
        else:
            a, b, c = self._cols
            cols = {"x": pts[:, a], "y": pts[:, b], "z": pts[:, c]}
        n = len(pts)
        self.cloud.data = {**{c: v.tolist() for c, v in cols.items()},
                           "t": [float(e.t[k])] * n, "member": list(range(n))}
        if not self.state.running:
            self._cursor.location = float(e.t[k])

    def _describe(self):
        st = self.state
        s = st.system
        e = self.ensemble
        lam = self.exponent
        src = self.exponent_source
        T = self._lam_T.get(self._key()) if src == "estimated" else None
        band = 2.0 / T if T else 1e-3
        info = html(lyapunov_sentence(lam, s.is_map, src, band) if lam is not None else
                    "**λ₁**: estimating the largest Lyapunov exponent for these parameters ...")
        if self._info.object != info:
            self._info.object = info
        if e is None:
            return
        rate = e.growth_rate()
        d0 = fmt(e.d0)
        unit = time_unit(s.is_map)
        note = (f"{N_MEMBERS} starts within **{d0}** of the current point, followed for "
                f"**{fmt(e.t[-1])} {unit}**. The dots on the attractor show them "
                f"{fmt(e.t[min(self._k, len(e.t) - 1)])} {unit} after release.")
        if math.isfinite(rate) and rate <= 0:
            rate = math.nan  # shrinking or flat: no exponential growth to report
        if math.isfinite(rate) and e.saturated:
            note += (f" Their separation grew at **{fmt(rate)} {rate_unit(s.is_map)}** "
                     f"before it saturated at the attractor's size (~{fmt(e.saturation())}).")
        elif math.isfinite(rate):
            note += (f" Their separation grew at **{fmt(rate)} {rate_unit(s.is_map)}** and "
                     "was still growing when the run ended.")
        else:
            note += " Their separation did not grow exponentially over this run."
        self._butterfly_note.object = html(note)

    # ------------------------------------------------------------------ export
    def _full_history(self):
        """(t, x) of the path with the live samples not yet streamed to the page."""
        t, x = self.history
        if self._pending:
            n = self.state.n_steps
            t = np.concatenate([t] + [p[0] for p in self._pending])[-n:]
            x = np.concatenate([x] + [p[1] for p in self._pending])[-n:]
        return t, x

    def _path_csv(self):
        """The path's samples: time and every variable, full precision (the live run's
        newest samples included)."""
        t, x = self._full_history()
        v = self.state.current().variables
        return columns_csv({"t": t, **{name: x[:, i] for i, name in enumerate(v)}})

    def _ts_csv(self):
        v = self.state.current().variables[:MAX_SERIES]
        return columns_csv({"t": self.ts.data["t"],
                            **{name: self.ts.data[f"y{i}"] for i, name in enumerate(v)}})

    def _sep_csv(self):
        e = self.ensemble
        if e is None:
            return source_csv(self.summary)
        cols = {"t": e.t, "typical": e.typical_separation}
        if self.exponent is not None:
            cols["predicted_exp_lambda_t"] = e.exponential(self.exponent)
        for i, row in enumerate(e.separation):
            cols[f"member{i + 1}"] = row
        return columns_csv(cols)

    # ------------------------------------------------------------ shared links
    def url_view(self) -> dict:
        """The view's settings for a shared link (only those that differ from defaults)."""
        out = {}
        opts = view_options(self.state.current().variables)
        if self.view != opts[0]:
            out["view"] = self.view
        if self.view == THREE_D:
            if self.azimuth != self.param.azimuth.default:
                out["az"] = format(self.azimuth, "g")
            if self.elevation != self.param.elevation.default:
                out["el"] = format(self.elevation, "g")
        return out

    def apply_url_view(self, view: dict):
        """Restore ``view``, ``az`` and ``el`` from a shared link (bad values are ignored)."""
        if view.get("view") in view_options(self.state.current().variables):
            self.view = view["view"]
        for key, name in (("az", "azimuth"), ("el", "elevation")):
            try:
                v = float(view[key])
            except (KeyError, ValueError):
                continue
            lo, hi = self.param[name].bounds
            setattr(self, name, min(max(v, lo), hi))
