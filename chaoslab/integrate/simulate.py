"""``cl.simulate``: batched trajectories of any system, on numba or torch."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..systems import as_system
from ..systems.system import System
from ..validation import (as_float_array, check_choice, check_dt, check_float, check_int,
                          check_memory, check_steps)

__all__ = ["simulate", "SimulationResult", "DivergenceWarning", "SimulationDiverged",
           "StepBudgetWarning", "StepBudgetExhausted", "prepare_batch", "transient_steps",
           "METHODS"]

METHODS = ("rk4", "euler", "dopri5")
BACKENDS = ("numba", "torch")


class DivergenceWarning(RuntimeWarning):
    """Some trajectories of a batch left the bound or became non-finite."""


class SimulationDiverged(RuntimeError):
    """Raised with ``on_diverge="raise"``; ``.result`` holds everything computed."""

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


class StepBudgetWarning(RuntimeWarning):
    """Some trajectories of an adaptive (dopri5) run used up their step budget."""


class StepBudgetExhausted(RuntimeError):
    """An adaptive (dopri5) run needed more than ``max_steps`` steps within one output
    interval; raised with ``on_diverge="raise"``. ``.result`` holds everything computed.

    Not a divergence: the state was finite and within the bound when the run stopped.
    """

    def __init__(self, message, result):
        super().__init__(message)
        self.result = result


@dataclass
class SimulationResult:
    """What :func:`simulate` returns with ``full_output=True``.

    Attributes
    ----------
    x : ndarray or torch.Tensor
        ``(n_steps, dim)`` for one trajectory, else ``(batch, n_steps, dim)``.
    t : ndarray
        The sample times, ``(n_steps,)``.
    diverged : dict
        Row -> integration step (counted from the start of the transient, in steps of
        ``dt``) at which the row was found beyond the bound or non-finite. Its samples from
        then on are NaN; the other rows are unaffected.
    n_evaluations : ndarray or None
        Steps taken per row by the adaptive integrator.
    exhausted : dict
        Row -> time at which the row ran out of the adaptive integrator's step budget
        (``max_steps`` per output interval). Its samples from then on are NaN. These rows
        are not in ``diverged``.
    """

    x: object
    t: np.ndarray
    diverged: dict = field(default_factory=dict)
    n_evaluations: np.ndarray | None = None
    exhausted: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.diverged and not self.exhausted


def _store_dtype(store_dtype, backend):
    """The numpy dtype of the stored samples (see ``store_dtype`` in :func:`simulate`)."""
    if store_dtype is None:
        return np.float64
    allowed = ("float64", "float32")
    try:
        name = np.dtype(store_dtype).name
    except TypeError:
        name = None
    if name not in allowed or isinstance(store_dtype, (bool, int, float)):
        raise ValueError(f"store_dtype must be one of None, {', '.join(map(repr, allowed))} "
                         f"(or np.float64, np.float32), got {store_dtype!r}")
    if backend != "numba":
        raise ValueError(f"store_dtype={store_dtype!r} is for the numba backend; the "
                         f"{backend} backend stores what it computes: use dtype=")
    return np.dtype(name).type


def transient_steps(transient, dt: float) -> int:
    """A transient given as a span of time, as a whole number of steps of ``dt``."""
    span = check_float(transient, "transient", nonnegative=True)
    return int(round(check_steps(span / dt, f"transient={span:g} at dt={dt:g}",
                                 exact=False)))


def prepare_batch(system: System, x0=None, params=None):
    """Per-trajectory states ``(dim, B)`` and parameters ``(n_params, B)``.

    ``x0`` is ``(dim,)`` or ``(B, dim)``; ``params`` is None (the system's values), a
    dict ``name -> value or (B,) values`` (unnamed parameters keep their value), or an
    array ``(n_params,)`` / ``(B, n_params)`` in the order of ``system.params``.
    Returns ``(X, Pm, batched)``.
    """
    D, M = system.dim, len(system.params)
    x = np.array(system.x0 if x0 is None else as_float_array(x0, f"{system.name}: x0"))
    if x.ndim not in (1, 2) or x.shape[-1] != D:
        raise ValueError(f"{system.name}: x0 must have shape ({D},) or (batch, {D}), "
                         f"got {x.shape}")
    if not np.all(np.isfinite(x)):
        rows = np.unique(np.nonzero(~np.isfinite(x.reshape(-1, D)))[0]).tolist()
        raise ValueError(f"{system.name}: x0 has non-finite values (rows {rows[:10]})")
    batched = x.ndim == 2
    xb = x.reshape(-1, D)

    if params is None:
        pb = system.param_vector[None, :]
    elif isinstance(params, dict):
        cols = []
        for k in params:
            if k not in system.params:
                raise ValueError(f"params: {system.name} has no parameter {k!r} "
                                 f"(parameters: {', '.join(system.params) or 'none'})")
        n = 1
        for name in system.params:
            v = np.atleast_1d(as_float_array(params.get(name, system.values[name]),
                                             f"{system.name}: params[{name!r}]"))
            if v.ndim != 1:
                raise ValueError(f"{system.name}: parameter {name} must be a number or a "
                                 f"1-D array, got shape {v.shape}")
            if v.size > 1:
                if n > 1 and v.size != n:
                    raise ValueError(f"{system.name}: parameter arrays have different "
                                     f"lengths ({n} and {v.size})")
                n = v.size
            cols.append(v)
        pb = np.stack([np.broadcast_to(c, (n,)) for c in cols], axis=1) if cols \
            else np.zeros((n, 0))
        batched = batched or n > 1
    else:
        pb = np.array(as_float_array(params, f"{system.name}: params (a dict or an array)"))
        if pb.ndim not in (1, 2) or pb.shape[-1] != M:
            raise ValueError(f"{system.name}: params must have shape ({M},) or (batch, {M}) "
                             f"in the order {list(system.params)}, got {pb.shape}")
        batched = batched or pb.ndim == 2
        pb = pb.reshape(-1, M)
    if not np.all(np.isfinite(pb)):
        bad = [name for j, name in enumerate(system.params) if not np.all(np.isfinite(pb[:, j]))]
        raise ValueError(f"{system.name}: params: parameter(s) {', '.join(bad)} must be finite "
                         "numbers")

    B = max(xb.shape[0], pb.shape[0])
    for arr, what in ((xb, "x0"), (pb, "params")):
        if arr.shape[0] not in (1, B):
            raise ValueError(f"{system.name}: {what} has {arr.shape[0]} rows but the batch "
                             f"has {B}: give one row or {B}")
    X = np.array(np.broadcast_to(xb, (B, D)).T, order="C")
    Pm = np.array(np.broadcast_to(pb, (B, M)).T, order="C")
    return X, Pm, batched


def simulate(system, n_steps, dt=None, x0=None, transient=0, backend="numba", method="rk4",
             *, params=None, t0=0.0, substeps=1, rtol=1e-9, atol=1e-12, max_steps=10_000,
             bound=1e8, on_diverge="warn", full_output=False, dtype=None, device=None,
             ramp=None, every=1, store_dtype=None):
    """Integrate a flow (or iterate a map) from one or many initial conditions.

    Parameters
    ----------
    system : System or str
        A catalog name or a :class:`~chaoslab.systems.System`.
    n_steps : int
        Number of samples returned, the initial state (after the transient) included.
    dt : float, optional
        Time between samples (default: the system's ``dt``; always 1 for maps).
    x0 : array, optional
        ``(dim,)`` for one trajectory or ``(batch, dim)``; default the system's ``x0``.
    transient : float
        Time integrated and discarded before the first sample, in the system's time
        units (iterations for maps); rounded to whole steps of ``dt``. Earlier releases
        counted it in steps of ``dt``: ``transient=2000`` at ``dt=0.01`` is now
        ``transient=20.0``.
    backend : {"numba", "torch"}
        numba: compiled, multi-threaded over the batch, float64 (stored as float64 or,
        with ``store_dtype``, float32), returns numpy.
        torch: ``dtype`` (float64, float32, bfloat16) and ``device`` (CUDA when present by
        default), returns a torch tensor.
    method : {"rk4", "euler", "dopri5"}
        Fixed-step classical Runge-Kutta (``substeps`` steps per sample), explicit Euler,
        or adaptive Dormand-Prince 5(4) (Dormand and Prince 1980) with tolerances ``rtol``,
        ``atol`` and the output on the requested grid. Ignored for maps.
    params : dict or array, optional
        Parameter values; arrays give one trajectory per parameter vector (a sweep), see
        :func:`prepare_batch`.
    t0 : float
        Initial time (for non-autonomous flows).
    substeps : int
        Fixed-step methods: integration steps per step ``dt`` (the step is
        ``dt / substeps``).
    rtol, atol : float
        dopri5: relative and absolute tolerance of the local error estimate.
    max_steps : int
        dopri5: the step budget, the most steps (accepted and rejected) the integrator may
        take within one output interval ``dt``; the transient, integrated as one span, gets
        ``max_steps`` for each of its steps of ``dt``. A row that runs out stops (NaN
        from then on) and is reported apart from divergence: "step budget exhausted at
        t = ..." in a :class:`StepBudgetWarning`, or :class:`StepBudgetExhausted` with
        ``on_diverge="raise"``. A stiff system or a very tight tolerance needs a larger
        budget, looser tolerances or a smaller ``dt``.
    bound : float
        A row whose state exceeds this in absolute value, or is not finite, has diverged.
    on_diverge : {"warn", "raise", "ignore"}
        Diverged rows are stopped (NaN from then on) and reported with a
        :class:`DivergenceWarning` naming the rows and steps; ``"raise"`` raises
        :class:`SimulationDiverged` carrying the full result; the other rows always finish.
        Rows out of step budget are handled alike with :class:`StepBudgetWarning` and
        :class:`StepBudgetExhausted`.
    full_output : bool
        Return a :class:`SimulationResult` (trajectory, times, diverged rows).
    every : int
        Store every ``every``-th sample: the samples are ``every * dt`` apart in time
        (``every`` iterations for maps), and the run takes ``every * substeps`` steps of
        ``dt / substeps`` between them, so they are, to the last bit, the samples
        ``0, every, 2 * every, ...`` of the same run with ``every=1`` (passing
        ``dt=every * dt, substeps=every * substeps`` instead gives the same steps only up
        to the rounding of ``dt / substeps``, and maps accept no ``dt`` or ``substeps``).
        ``n_steps`` counts the samples returned; ``transient`` stays in units of ``dt``.
        For the fixed-step methods (numba and torch) and delay systems; dopri5 samples
        its own output grid: give it the wider ``dt``.
    store_dtype : {None, "float64", "float32"}
        numba backend: the dtype of the returned samples. The states are always advanced
        in float64; ``"float32"`` only rounds each stored sample (half the memory of a
        large ensemble, relative error below 6e-8, values beyond 3.4e38 become inf).
        ``None`` is float64. The torch backend computes in ``dtype`` and takes no
        ``store_dtype``.

    ramp : dict, optional
        ``{parameter: (start, stop)}``: the parameter moves linearly from ``start`` at the
        first returned sample to ``stop`` at the last (held at ``start`` during the
        transient), for a slow passage through a bifurcation. The parameter becomes a
        state variable with a constant rate, so the compiled kernel integrates it exactly.

    Returns
    -------
    ndarray or torch.Tensor
        ``(n_steps, dim)`` for a single ``x0`` and parameter set, else
        ``(batch, n_steps, dim)``.
    """
    system = as_system(system)
    if ramp is not None:
        return _simulate_ramp(system, n_steps, dt, x0, transient, ramp,
                              dict(backend=backend, method=method, params=params, t0=t0,
                                   substeps=substeps, rtol=rtol, atol=atol,
                                   max_steps=max_steps, bound=bound, on_diverge=on_diverge,
                                   full_output=full_output, dtype=dtype, device=device,
                                   every=every, store_dtype=store_dtype))
    n_steps = check_int(n_steps, "n_steps", 1)
    substeps = check_int(substeps, "substeps", 1)
    every = check_int(every, "every", 1)
    store = _store_dtype(store_dtype, backend)
    check_choice(backend, "backend", BACKENDS)
    check_choice(on_diverge, "on_diverge", ("warn", "raise", "ignore"))
    if every > 1 and method == "dopri5" and not system.is_map and not system.is_delay:
        raise ValueError(f"every={every} is for the fixed-step methods ('rk4', 'euler'); "
                         "dopri5 samples its own output grid: pass dt as the time between "
                         "samples instead")
    if system.is_map:
        if dt not in (None, 1, 1.0):
            raise ValueError(f"{system.name} is a map: its step is 1, got dt={dt!r}")
        dt, method, substeps = 1.0, "map", 1
    else:
        check_choice(method, "method", METHODS)
        dt = system.dt if dt is None else check_dt(dt)
        if isinstance(transient, (int, np.integer)) and not isinstance(transient, bool) \
                and transient > 0:
            warnings.warn(f"transient={transient} is read as {transient} time units = "
                          f"{transient / dt:.0f} steps of dt={dt:g}; before chaoslab 0.2 it "
                          "counted steps. Pass a float to silence this.", FutureWarning,
                          stacklevel=2)
    transient = transient_steps(transient, dt)
    t0 = check_float(t0, "t0")
    bound = check_float(bound, "bound", positive=True)
    rtol = check_float(rtol, "rtol", positive=True)
    atol = check_float(atol, "atol", positive=True)
    max_steps = check_int(max_steps, "max_steps", 1)
    X, Pm, batched = prepare_batch(system, x0, params)
    B = X.shape[1]
    check_steps((float(transient) + float(n_steps) * every) * substeps,
                f"simulate(n_steps={n_steps}, transient={transient} steps, "
                f"substeps={substeps}, every={every})")
    nbytes = float(np.dtype(store).itemsize) * B * n_steps * system.dim
    if nbytes > 2.0 ** 26:  # below 64 MiB the check (it reads /proc) costs more than it saves
        check_memory(nbytes, f"simulate(n_steps={n_steps}) of {B} trajectory(ies) of "
                             f"dimension {system.dim}")

    if system.is_delay:
        if backend != "numba" or method != "rk4":
            raise ValueError(f"{system.name} is a delay system: it runs on the numba backend "
                             "with method='rk4' (the method of steps)")
        x, bad_steps, nsteps = _simulate_delay(system, X, Pm, n_steps, dt, transient, t0,
                                               substeps, bound, every)
        spent = None
    elif backend == "torch":
        from .torch_backend import simulate_torch
        x, bad_steps, nsteps, spent = simulate_torch(
            system, X, Pm, (n_steps - 1) * every + 1, dt, transient, method, t0=t0, substeps=substeps,
            bound=bound, rtol=rtol, atol=atol, dtype=dtype, device=device,
            max_steps=max_steps)
        if every > 1:  # the torch backend stores every step: keep every every-th one
            x = x[:, ::every].contiguous()
    else:
        if dtype not in (None, "float64", np.float64) or device not in (None, "cpu"):
            raise ValueError("the numba backend runs in float64 on the CPU; use "
                             "backend='torch' for other dtypes or devices")
        x, bad_steps, nsteps, spent = _simulate_numba(system, X, Pm, n_steps, dt, transient,
                                                      method, t0, substeps, bound, rtol, atol,
                                                      max_steps, every, store)
    times = t0 + (transient + every * np.arange(n_steps)) * dt
    # rows are found with numpy: a Python loop over a 100,000-row batch costs milliseconds
    rows = np.flatnonzero(np.isfinite(spent)) if spent is not None else np.zeros(0, int)
    exhausted = {int(r): float(spent[r]) for r in rows}
    diverged = {int(r): int(bad_steps[r]) for r in np.flatnonzero(bad_steps >= 0)
                if int(r) not in exhausted}
    if not batched:
        x = x[0]
    result = SimulationResult(x=x, t=times, diverged=diverged, n_evaluations=nsteps,
                              exhausted=exhausted)
    if exhausted and on_diverge != "ignore":
        rows = sorted(exhausted)
        shown = ", ".join(f"row {r} at t = {exhausted[r]:.6g}" for r in rows[:8])
        more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
        first = min(exhausted.values())
        msg = (f"{system.name}: step budget exhausted at t = {first:.6g}: {len(rows)} of "
               f"{X.shape[1]} trajectories needed more than max_steps={max_steps} dopri5 "
               f"steps within one output interval of dt={dt:g} ({shown}{more}). Their "
               "samples from then on are NaN. Raise max_steps, loosen rtol/atol "
               f"(now {rtol:g}/{atol:g}) or use a smaller dt; this is not a divergence.")
        if on_diverge == "raise":
            raise StepBudgetExhausted(msg, result)
        warnings.warn(msg, StepBudgetWarning, stacklevel=2)
    if diverged and on_diverge != "ignore":
        rows = sorted(diverged)
        shown = ", ".join(f"row {r} at step {diverged[r]}" for r in rows[:8])
        more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
        msg = (f"{system.name}: {len(rows)} of {X.shape[1]} trajectories diverged "
               f"(|x| > {bound:g} or not finite): {shown}{more}. Their samples from then on "
               "are NaN; the other rows are complete.")
        if on_diverge == "raise":
            raise SimulationDiverged(msg, result)
        warnings.warn(msg, DivergenceWarning, stacklevel=2)
    return result if full_output else x


def _simulate_delay(system, X, Pm, n_steps, dt, transient, t0, substeps, bound, every=1):
    """Delay systems: constant history x0 before t0, then RK4 by the method of steps;
    a sample every ``every * substeps`` steps of ``dt / substeps``."""
    from . import numba_backend as nb

    h = dt / substeps
    bad_steps = np.full(X.shape[1], -1, dtype=np.int64)
    hist, g0, XI = None, 0, X
    if transient:
        _, X, bad, hist = nb.run_delay(system, X, Pm, t0, h, 2, transient * substeps, bound)
        bad_steps[bad >= 0] = transient
        g0 = transient * substeps
    out, _, bad, _ = nb.run_delay(system, X, Pm, t0, h, n_steps, substeps * every, bound,
                                  XI=XI, history=hist, g0=g0)
    new = (bad >= 0) & (bad_steps < 0)
    bad_steps[new] = transient + every * bad[new]
    return out, bad_steps, None


def _simulate_numba(system, X, Pm, n_steps, dt, transient, method, t0, substeps, bound,
                    rtol, atol, max_steps, every=1, store=np.float64):
    from . import numba_backend as nb

    B = X.shape[1]
    bad_steps = np.full(B, -1, dtype=np.int64)
    nsteps = None
    t_start = t0
    if method == "dopri5":
        spent = np.full(B, np.nan)
        if transient:
            # one span of `transient` output intervals: a budget for each of them
            _, X, bad, _, spent = nb.run_dopri5(system, X, Pm, t0, transient * dt, 2, rtol,
                                                atol, max_steps * transient, bound)
            bad_steps[bad >= 0] = transient
            t_start = t0 + transient * dt
        out, _, bad, nsteps, spent2 = nb.run_dopri5(system, X, Pm, t_start, dt, n_steps,
                                                    rtol, atol, max_steps, bound)
        if store != np.float64:
            out = out.astype(store)
        new = (bad >= 0) & (bad_steps < 0)
        bad_steps[new] = transient + bad[new]
        spent = np.where(np.isnan(spent), spent2, spent)
        return out, bad_steps, nsteps, spent
    h = dt / substeps
    if transient:
        _, X, bad = nb.run_fixed(system, method, X, Pm, t0, h, 2, transient * substeps, bound)
        bad_steps[bad >= 0] = transient
        t_start = t0 + transient * dt
    out, _, bad = nb.run_fixed(system, method, X, Pm, t_start, h, n_steps, substeps * every,
                               bound, out_dtype=store)
    new = (bad >= 0) & (bad_steps < 0)
    bad_steps[new] = transient + every * bad[new]
    if transient and np.any(bad_steps >= 0):
        out[bad_steps == transient] = np.nan
    return out, bad_steps, nsteps, None


def _simulate_ramp(system, n_steps, dt, x0, transient, ramp, kw):
    """:func:`simulate` with one parameter ramped linearly (see ``ramp``): the parameter
    is appended to the state with a constant rate (a map adds a constant increment)."""
    from ..systems import define

    if not isinstance(ramp, dict) or len(ramp) != 1:
        raise ValueError(f"ramp must be one {{parameter: (start, stop)}}, got {ramp!r}")
    (name, ends), = ramp.items()
    if name not in system.params:
        raise ValueError(f"ramp: {name!r} is not a parameter of {system.name}; allowed: "
                         f"{list(system.params)}")
    try:
        a, b = (check_float(v, f"ramp[{name!r}]") for v in ends)
    except TypeError:
        raise ValueError(f"ramp[{name!r}] must be (start, stop), got {ends!r}") from None
    if system.template is not None or system.delayed:
        raise ValueError(f"ramp is not available for {system.name}: sized and delay systems "
                         "cannot take a parameter into their state")
    params = kw.pop("params")
    if params is not None and not isinstance(params, dict):
        raise ValueError("ramp works with params given as a dict (one parameter set), got "
                         f"{type(params).__name__}")
    n_steps = check_int(n_steps, "n_steps", 2)
    h = 1.0 if system.is_map else (system.dt if dt is None else check_dt(dt))
    values = {**system.values, **(params or {}), name: a}
    # the transient at the ramp's start value, with the original system
    full = kw["full_output"]
    start = simulate(system, 1, dt=dt, x0=x0, transient=transient, **{**kw, "params": values,
                                                                       "full_output": False})
    start = np.asarray(start, dtype=float)[..., -1, :]
    every = check_int(kw.get("every", 1), "every", 1)  # samples every * h apart
    rate = (b - a) / (((n_steps - 1) * every) * (1.0 if system.is_map else h))
    rname = "ramp_rate"
    while rname in system.params or rname in system.variables:
        rname += "_"
    others = {k: v for k, v in values.items() if k != name}
    eq = f"{name} + {rname}" if system.is_map else rname
    aug = define(f"{system.name} with {name} ramped", list(system.variables) + [name],
                 list(system.equations) + [eq], params={**others, rname: rate},
                 x0=list(system.x0) + [a], dt=system.dt, kind=system.kind,
                 **({"aux": dict(system.aux)} if system.aux else {}))
    xs = np.concatenate([start, np.full(start.shape[:-1] + (1,), a)], axis=-1)
    t_start = kw.pop("t0") + transient_steps(transient, h) * h
    r = simulate(aug, n_steps, dt=dt, x0=xs, transient=0.0, t0=t_start,
                 **{**kw, "full_output": True})
    x = r.x[..., :system.dim]
    if not full:
        return x
    r.x = x
    return r
