"""Domain state of the app: which system, its parameters, how to integrate, the live run.

Knows nothing of widgets or plots: views watch its parameters and read its arrays. All
numbers come from chaoslab's API (``simulate``); this module only decides what to ask for.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import param

from .. import systems
from ..analysis.exponent import at_reference_parameters, largest_lyapunov_exponent
from ..integrate import simulate
from ..systems.system import System
from .warm import is_warm

__all__ = ["LabState", "METHODS", "BACKENDS"]

METHODS = ["rk4", "euler", "dopri5"]
BACKENDS = ["numba", "torch"]


def _numpy(x):
    """A trajectory as a float64 numpy array (the torch backend returns tensors)."""
    if isinstance(x, np.ndarray):
        return x
    return x.detach().cpu().double().numpy()


class LabState(param.Parameterized):
    """The sidebar's state; every view reads it.

    Changing the system restarts from its initial condition; changing a parameter or an
    integration setting restarts the run from the current point ("at once"), recomputing
    the last ``n_steps`` samples the views show (``revision`` counts these restarts).
    While ``running``, :meth:`advance` extends the run by a chunk (``chunk`` fires).
    """

    system_name = param.Selector(default="Lorenz", objects=systems.names(), label="System")
    values = param.Dict(default={}, doc="parameter values of the system (and its size)")
    dt = param.Number(default=None, allow_None=True, bounds=(0, None),
                      inclusive_bounds=(False, True),
                      doc="time between samples; None: the system's own dt")
    method = param.Selector(default="rk4", objects=METHODS, doc="integration method")
    backend = param.Selector(default="numba", objects=BACKENDS, doc="numba or torch")
    n_steps = param.Integer(default=20_000, bounds=(100, 500_000),
                            doc="samples the views show (the path's length)")
    speed = param.Integer(default=2, bounds=(1, 40),
                          doc="live run speed: multiples of the base steps per frame")
    running = param.Boolean(default=False, doc="the live run is playing")
    error = param.String(default="", doc="the last problem to show the user")
    revision = param.Integer(default=0, doc="bumped whenever the path is recomputed")
    chunk = param.Event(doc="fires after advance(): last_chunk holds the new samples")
    preparing = param.Boolean(default=False, doc="the current system's kernels are being "
                              "compiled off the UI thread; the path follows when ready")

    def __init__(self, **kw):
        #: ``defer(system, method, backend, done, failed)`` or None. When set (a served
        #: session), a restart whose kernels are not yet compiled (see
        #: :mod:`chaoslab.app.warm`) asks ``defer`` to prepare them off the UI thread and
        #: to call ``done()`` (or ``failed(message)``) on the UI thread; the restart
        #: happens then. Without it everything runs at once, on the calling thread.
        self.defer = None
        self._pending_start = None
        self._custom: dict = {}
        self._current = None
        self._quiet = False
        self.path_t = np.empty(0)
        self.path_x = np.empty((0, 1))
        self.t = 0.0
        self.x = None
        self.last_chunk = (np.empty(0), np.empty((0, 1)))
        self.diverged = False
        super().__init__(**kw)
        if not self.values:
            with self._batch():
                self.values = self.default_values(self.system)
        self.restart(from_start=True)

    # ----------------------------------------------------------------- systems
    @property
    def system(self) -> System:
        """The selected system at its default values (catalog or user-defined)."""
        name = self.system_name
        if name in self._custom:
            return self._custom[name]
        return systems.get(name)

    @property
    def is_custom(self) -> bool:
        return self.system_name in self._custom

    @property
    def custom_systems(self) -> dict:
        return dict(self._custom)

    def add_system(self, system: System, select: bool = True):
        """Register a user-defined system (from ``cl.systems.define``) and show it."""
        if system.name in systems.names():
            raise ValueError(f"{system.name!r} is a catalog system: pick another name")
        self._custom[system.name] = system
        objs = list(self.param.system_name.objects)
        if system.name not in objs:
            self.param.system_name.objects = objs + [system.name]
        if select:
            if self.system_name == system.name:  # redefined: rebuild with the new equations
                self.configure(system=system.name, values=self.default_values(system))
            else:
                self.system_name = system.name

    @staticmethod
    def default_values(s: System) -> dict:
        """The parameter values of ``s`` as it was defined (and its size, for a system
        whose dimension is a parameter): what the sidebar shows after choosing it."""
        vals = dict(s.values)
        if s.size is not None:
            vals[s.size.name] = s.size.value
        return vals

    def current(self) -> System:
        """The system with the current parameter values.

        Cached per (system, values): the copy keeps its derived tapes and kernels, so the
        live run does not derive them again on every frame.
        """
        base = self.system
        key = (id(base), tuple(sorted(self.values.items())))
        if self._current is None or self._current[0] != key:
            if base.size is None:
                # derive the tapes on the shared default object once: with_params copies
                # them, so a slider move does not parse and differentiate again
                base.structure_key
            self._current = (key, base.with_params(**self.values))
        return self._current[1]

    @property
    def step(self) -> float:
        """The time between samples in use (1 for maps)."""
        s = self.system
        if s.is_map:
            return 1.0
        return float(self.dt) if self.dt else float(s.dt)

    @property
    def at_defaults(self) -> bool:
        return self.values == self.default_values(self.system)

    def reference(self, key: str):
        """A recorded reference invariant (``"x0"``, ``"max_lyapunov"``...) when it applies:
        at the default parameters only (see
        :func:`chaoslab.analysis.at_reference_parameters`)."""
        s = self.current()
        if not at_reference_parameters(s):
            return None
        return s.reference.get(key)

    @property
    def lyapunov_exponent(self):
        """The recorded largest Lyapunov exponent when it applies to the current
        parameters, else ``None`` (:func:`chaoslab.analysis.largest_lyapunov_exponent`
        with ``compute=False``: the app computes it off the UI thread when needed)."""
        try:
            return largest_lyapunov_exponent(self.current(), compute=False)
        except Exception:  # a system that cannot be built shows no reference
            return None

    @property
    def frame_steps(self) -> int:
        """Samples added per animation frame: a characteristic period about every two
        seconds at speed 1 (25 frames a second), times ``speed``."""
        s = self.system
        if s.is_map:
            return max(1, self.speed)
        base = max(1, round(s.period / self.step / 50))
        return int(base * self.speed)

    @property
    def can_run_live(self) -> bool:
        """Delay systems carry a whole history as their state: shown, not played live."""
        return not self.system.is_delay

    # ---------------------------------------------------------------- changes
    @contextmanager
    def _batch(self):
        old, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = old

    @param.depends("system_name", watch=True)
    def _on_system(self):
        if self._quiet:
            return
        with self._batch():
            self.values = self.default_values(self.system)
            self.dt = None
        self.restart(from_start=True)

    @param.depends("values", "dt", "method", "backend", watch=True)
    def _on_settings(self):
        if self._quiet:
            return
        self.restart(from_start=False)

    def configure(self, system=None, values=None, **settings):
        """Set the system, some parameter values and settings at once, then restart once.

        ``values`` may name only some parameters; the rest keep their defaults (a new
        system) or current values. Unknown names raise ``ValueError``.
        """
        with self._batch():
            new_system = system is not None and system != self.system_name
            if system is not None:
                if system not in self.param.system_name.objects:
                    system = systems.get(system).name  # resolves aliases, clear error
                self.system_name = system
            base = self.default_values(self.system) if new_system else dict(self.values)
            if values:
                s = self.system
                allowed = set(s.params) | ({s.size.name} if s.size else set())
                unknown = [k for k in values if k not in allowed]
                if unknown:
                    raise ValueError(f"{s.name} has no parameter {', '.join(unknown)} "
                                     f"(parameters: {', '.join(sorted(allowed)) or 'none'})")
                base.update(values)
            self.values = base
            if new_system and "dt" not in settings:
                self.dt = None
            self.param.update(**settings)
        self.restart(from_start=new_system)

    # ----------------------------------------------------------------- the run
    def _start_point(self, s: System):
        ref = self.reference("x0")
        if ref is not None and len(ref) == s.dim:
            return np.asarray(ref, dtype=float), 0
        per = 1 if s.is_map else max(1, round(s.period / self.step))
        return np.asarray(s.x0, dtype=float), min(10 * per, 5_000) * (1.0 if s.is_map
                                                                       else self.step)

    def _simulate(self, s, n, x0, transient=0, t0=0.0):
        kw = dict(x0=x0, transient=transient, backend=self.backend, params=None,
                  on_diverge="ignore", full_output=True)
        if not s.is_map:
            kw.update(dt=self.step, method=self.method, t0=t0)
        elif t0:
            kw.update(t0=t0)
        return simulate(s, n, **kw)

    def restart(self, from_start: bool = False):
        """Recompute the path: from the initial condition, or from the current point."""
        try:
            s = self.current()
            if self.defer is not None and not is_warm(s, self.method, self.backend):
                self._defer(s, from_start)
                return
            if self._pending_start is not None:  # a preparation was overtaken
                from_start = from_start or self._pending_start
                self._pending_start = None
                self.preparing = False
            cont = (not from_start and self.x is not None and len(self.x) == s.dim
                    and np.all(np.isfinite(self.x)) and not s.is_delay)
            if cont:
                x0, transient, t0 = self.x, 0, self.t
            else:
                x0, transient = self._start_point(s)
                t0 = 0.0
            r = self._simulate(s, self.n_steps, x0, transient, t0)
        except Exception as exc:  # shown inline; the old picture stays
            self.error = _message(exc)
            self.running = False
            return
        self._set_path(r.t, _numpy(r.x), r.diverged)
        self.revision += 1

    def _defer(self, s, from_start):
        """Compile ``s``'s kernels off the UI thread, then restart (see ``defer``)."""
        self._pending_start = bool(from_start or self._pending_start)
        self.running = False
        self.preparing = True

        def done():
            if self._pending_start is None:
                return
            again = self._pending_start
            self._pending_start = None
            self.preparing = False
            self.restart(from_start=again)

        def failed(message):
            self._pending_start = None
            self.preparing = False
            self.error = message

        self.defer(s, self.method, self.backend, done, failed)

    def reset(self):
        """Back to the initial condition with an empty trail (the run draws it anew)."""
        if self.preparing:
            return
        s = self.current()
        x0, _ = self._start_point(s)
        x0 = np.asarray(x0, dtype=float)
        self._set_path(np.array([0.0]), x0[None, :], {})
        self.revision += 1

    def _set_path(self, t, x, diverged):
        self.path_t, self.path_x = t, x
        self.diverged = bool(diverged)
        if diverged:
            step = min(diverged.values())
            self.error = (f"The trajectory left every bound (|x| > 1e8 or not finite) at step "
                          f"{step}: with these parameters the system blows up. Move a slider "
                          "back, or press reset.")
            finite = np.all(np.isfinite(x), axis=1)
            idx = np.nonzero(finite)[0]
            last = idx[-1] if len(idx) else 0
            self.t, self.x = float(t[last]), np.array(x[last])
            self.running = False
        else:
            self.error = ""
            self.t, self.x = float(t[-1]), np.array(x[-1])

    def advance(self, n_steps: int | None = None):
        """Extend the run by ``n_steps`` samples (default: one frame); fires ``chunk``."""
        if self.x is None or self.diverged:
            self.running = False
            return
        if self.preparing:  # the path of the new system is not there yet
            return
        n = self.frame_steps if n_steps is None else int(n_steps)
        s = self.current()
        try:
            r = self._simulate(s, n + 1, self.x, 0, self.t)
        except Exception as exc:
            self.error = _message(exc)
            self.running = False
            return
        t, x = r.t[1:], _numpy(r.x)[1:]
        if r.diverged:
            good = np.all(np.isfinite(x), axis=1)
            t, x = t[good], x[good]
            self.diverged = True
            self.running = False
            self.error = ("The trajectory left every bound during the live run: with these "
                          "parameters the system blows up. Press reset.")
        if len(t):
            self.t, self.x = float(t[-1]), np.array(x[-1])
        self.last_chunk = (t, x)
        self.param.trigger("chunk")


def _message(exc: Exception) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if isinstance(exc, ImportError):
        return f"A package is missing: {text}"
    return text or type(exc).__name__


def finite_or_none(v):
    return v if v is not None and math.isfinite(v) else None
