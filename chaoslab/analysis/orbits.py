"""Orbit (bifurcation) diagrams, Poincare sections, correlation dimension, power spectra."""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..integrate.simulate import DivergenceWarning, simulate
from ..validation import (as_float_array, check_choice, check_dt, check_float, check_int,
                          check_memory, check_steps, reject_unknown, renamed_keyword)
from ..systems import as_system

__all__ = ["orbit_diagram", "poincare_section", "section_crossings", "local_maxima",
           "correlation_dimension", "correlation_sum", "power_spectrum"]


def _variable_index(system, variable):
    if isinstance(variable, str):
        if variable not in system.variables:
            raise ValueError(f"variable: {system.name} has no variable {variable!r} "
                             f"(variables: {', '.join(system.variables)})")
        return system.variables.index(variable)
    i = check_int(variable, "variable", 0)
    if i >= system.dim:
        raise ValueError(f"variable index {i} out of range for {system.name} (dim {system.dim})")
    return i


def _params_dict(system, params) -> dict:
    """``params`` as a dict of overrides (None is none); anything else is refused."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of parameter values of {system.name}, got "
                         f"{type(params).__name__} {params!r:.60}")
    return params


def local_maxima(series):
    """Values of the strict local maxima of a 1-D series, refined by a parabola through
    each maximum and its two neighbours."""
    s = np.asarray(series, dtype=float)
    if len(s) < 3:
        return np.empty(0)
    a, b, c = s[:-2], s[1:-1], s[2:]
    idx = np.nonzero((b > a) & (b >= c))[0]
    a, b, c = a[idx], b[idx], c[idx]
    den = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(den != 0, 0.5 * (a - c) / den, 0.0)
    return b - 0.25 * (a - c) * shift


def orbit_diagram(system, parameter, values, *, transient=None, T=None, variable=0,
                  continuation=False, x0=None, dt=None, params=None, **deprecated):
    """The asymptotic states of a system as one parameter varies.

    Maps: the iterates of ``variable`` over the last ``T`` iterations, after
    ``transient`` iterations. Flows: the local maxima of ``variable`` over the last ``T``
    time units after a ``transient`` (the classic peak-to-peak orbit diagram of a flow).

    All parameter values run as one batch, each from ``x0``; with ``continuation=True``
    each value instead starts from the previous value's final state (follows one branch
    through a hysteresis loop, as a slow sweep would). Where attractors coexist,
    :func:`~chaoslab.analysis.continuation` finds them all from many starts and its
    :meth:`~chaoslab.analysis.ContinuationResult.orbit_points` is the orbit diagram with
    each attractor in its own colour (the app's Beyond Lyapunov tab draws it).

    Parameters
    ----------
    system : System or str
    parameter : str
        The parameter that varies.
    values : array
        Its values.
    transient : float, optional
        Time run and discarded first (iterations for maps). Default: 100 characteristic
        periods for flows, 1,000 iterations for maps.
    T : float, optional
        Time kept after the transient (iterations for maps). Default: 100 periods for
        flows, 200 iterations for maps.
    variable : int or str
        The variable shown.
    x0, dt, params :
        As in :func:`chaoslab.simulate`.

    The keywords ``n_transient`` and ``n_keep`` (counts of steps) of earlier releases
    still work, with a :class:`DeprecationWarning`.

    Returns
    -------
    values : ndarray ``(n,)``
    points : ndarray ``(n, m)``
        The kept states (maps) or maxima (flows), NaN-padded; rows whose trajectory
        diverged are all NaN (with a :class:`~chaoslab.DivergenceWarning`).
    """
    system = as_system(system)
    h = 1.0 if system.is_map else (system.dt if dt is None else check_dt(dt))
    transient = renamed_keyword(deprecated, "n_transient", "transient", transient,
                                func="orbit_diagram", convert=lambda n: n * h)
    T = renamed_keyword(deprecated, "n_keep", "T", T, func="orbit_diagram",
                        convert=lambda n: n * h)
    reject_unknown(deprecated, "orbit_diagram")
    if not isinstance(parameter, str) or parameter not in system.params:
        raise ValueError(f"parameter: {system.name} has no parameter {parameter!r} "
                         f"(parameters: {', '.join(system.params) or 'none'})")
    values = as_float_array(values, "values", finite=True, min_size=1).ravel()
    iv = _variable_index(system, variable)
    params = _params_dict(system, params)
    continuation = check_choice(continuation, "continuation", (False, True))
    if system.is_map:
        transient = 1000.0 if transient is None else transient
        T = 200.0 if T is None else T
    else:
        transient = 100.0 * system.period if transient is None else transient
        T = 100.0 * system.period if T is None else T
    transient = check_float(transient, "transient", nonnegative=True)
    T = check_float(T, "T", positive=True)
    n_keep = max(1 if system.is_map else 3, round(check_steps(T / h, f"T={T:g} at dt={h:g}",
                                                              exact=False)))
    check_memory(8.0 * len(values) * n_keep * system.dim,
                 f"orbit_diagram: {len(values)} values x T={T:g} ({n_keep} samples)")
    base = dict(system.values)
    base.update(params)

    def run(vals, start, transient):
        p = dict(base)
        p[parameter] = vals
        return simulate(system, n_keep, dt=dt, x0=start, transient=transient,
                        params=p, on_diverge="ignore", full_output=True)

    start = system.x0 if x0 is None else as_float_array(x0, "x0", ndim=(1, 2), finite=True)
    shapes = [(system.dim,)] if continuation else [(system.dim,), (len(values), system.dim)]
    if start.shape not in shapes:
        raise ValueError(f"x0 must have shape {' or '.join(map(str, shapes))} for "
                         f"{system.name}, got {start.shape}")
    if continuation:
        traj, dead = [], []
        for v in values:
            r = run(np.array([v]), start[None, :], transient)
            traj.append(r.x[0])
            ok = not r.diverged
            dead.append(not ok)
            if ok:
                start = r.x[0, -1]
        X = np.stack(traj)
        dead = np.array(dead)
    else:
        r = run(values, np.broadcast_to(start, (len(values), system.dim)), transient)
        X = r.x
        dead = np.zeros(len(values), bool)
        dead[list(r.diverged)] = True
    if dead.any():
        warnings.warn(f"{system.name}: {int(dead.sum())} of {len(values)} parameter values "
                      "diverged; their rows are NaN", DivergenceWarning, stacklevel=2)
    if system.is_map:
        pts = X[:, :, iv].copy()
        pts[dead] = np.nan
        return values, pts
    rows = [local_maxima(X[k, :, iv]) if not dead[k] else np.empty(0)
            for k in range(len(values))]
    m = max([len(r) for r in rows] + [1])
    pts = np.full((len(values), m), np.nan)
    for k, row in enumerate(rows):
        pts[k, :len(row)] = row
    return values, pts


def section_crossings(system, x, t, variable, value, direction=1, params=None):
    """Points where a sampled trajectory crosses ``x[variable] = value``.

    Each crossing is located by cubic Hermite interpolation between the two bracketing
    samples, using the vector field there as the derivative (fourth-order accurate with an
    RK4 trajectory), then refined by bisection on the cubic.
    """
    system = as_system(system)
    iv = _variable_index(system, variable)
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    s = x[:, iv] - value
    if direction > 0:
        idx = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    elif direction < 0:
        idx = np.nonzero((s[:-1] > 0) & (s[1:] <= 0))[0]
    else:
        idx = np.nonzero(np.sign(s[:-1]) * np.sign(s[1:]) < 0)[0]
    if not len(idx):
        return np.empty((0, system.dim)), np.empty(0)
    x0, x1 = x[idx], x[idx + 1]
    t0, t1 = t[idx], t[idx + 1]
    h = (t1 - t0)[:, None]
    f0 = system.rhs(x0, t=t0, params=params)
    f1 = system.rhs(x1, t=t1, params=params)

    def hermite(u):
        u = u[:, None]
        h00 = 2 * u ** 3 - 3 * u ** 2 + 1
        h10 = u ** 3 - 2 * u ** 2 + u
        h01 = -2 * u ** 3 + 3 * u ** 2
        h11 = u ** 3 - u ** 2
        return h00 * x0 + h10 * h * f0 + h01 * x1 + h11 * h * f1

    lo = np.zeros(len(idx))
    hi = np.ones(len(idx))
    s_lo = s[idx]
    for _ in range(50):
        mid = 0.5 * (lo + hi)
        sm = hermite(mid)[:, iv] - value
        left = np.sign(sm) == np.sign(s_lo)
        lo = np.where(left, mid, lo)
        hi = np.where(left, hi, mid)
        s_lo = np.where(left, sm, s_lo)
    u = 0.5 * (lo + hi)
    return hermite(u), t0 + u * (t1 - t0)


def poincare_section(system, variable, value, *, direction=1, n_steps=None, dt=None,
                     transient=None, x0=None, params=None):
    """Crossings of the hyperplane ``variable = value`` by a trajectory of a flow.

    The trajectory has ``n_steps`` samples every ``dt`` (default 500 characteristic
    periods' worth) after a ``transient`` (time, default 20 periods). Returns
    ``(points, times)``: ``points`` is ``(n, dim)`` (the fixed coordinate equals ``value``
    up to rounding). ``direction`` +1 keeps upward crossings, -1 downward, 0 both.
    """
    system = as_system(system)
    if system.is_map:
        raise ValueError(f"system must be a flow: a Poincare section is taken of a flow; "
                         f"{system.name} is a map, its own section")
    value = check_float(value, "value")
    _variable_index(system, variable)
    direction = check_choice(direction, "direction", (1, -1, 0))
    params = None if params is None else _params_dict(system, params)
    h = system.dt if dt is None else check_dt(dt)
    per = max(1, int(round(system.period / h)))
    n_steps = 500 * per if n_steps is None else check_int(n_steps, "n_steps", 2)
    transient = (20.0 * system.period if transient is None
                 else check_float(transient, "transient", nonnegative=True))
    p = None if params is None else \
        {**system.values, **{k: check_float(v, f"params[{k!r}]") for k, v in params.items()}}
    if x0 is not None:
        x0 = as_float_array(x0, "x0", ndim=1)
    r = simulate(system, n_steps, dt=h, x0=x0, transient=transient, params=p,
                 full_output=True, on_diverge="warn")
    x, t = r.x, r.t
    if r.diverged:
        good = np.all(np.isfinite(x), axis=1)
        x, t = x[good], t[good]
    pv = None if params is None else [p[k] for k in system.params]
    return section_crossings(system, x, t, variable, value, direction, params=pv)


def correlation_sum(points, radii, *, max_points=4000, seed=0):
    """The Grassberger-Procaccia correlation sum C(r): the fraction of pairs of points
    closer than r (a random subset of ``max_points`` points is used)."""
    from scipy.spatial import cKDTree

    pts = as_float_array(points, "points", ndim=(1, 2))
    if pts.ndim == 1:
        pts = pts[:, None]
    max_points = check_int(max_points, "max_points", 10)
    seed = check_int(seed, "seed", 0)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    if len(pts) > max_points:
        pts = pts[np.random.default_rng(seed).choice(len(pts), max_points, replace=False)]
    n = len(pts)
    if n < 10:
        raise ValueError(f"points: the correlation sum needs at least 10 finite points, got "
                         f"{n}")
    tree = cKDTree(pts)
    radii = as_float_array(radii, "radii", ndim=(0, 1), finite=True)
    counts = tree.count_neighbors(tree, radii) - n  # pairs (i, j), i != j, both orders
    return counts / (n * (n - 1))


def correlation_dimension(points, radii=None, *, fit=(0.02, 0.3), max_points=4000, seed=0,
                          return_curve=False):
    """The correlation dimension D2 by Grassberger and Procaccia (1983).

    ``C(r) ~ r^D2`` for small ``r``; D2 is the least-squares slope of ``log C`` against
    ``log r`` over radii between ``fit[0]`` and ``fit[1]`` times the attractor's diameter
    (its largest coordinate range). Points should be samples of an attractor, e.g. a long
    trajectory after the transient, sampled sparsely enough that neighbours in time are
    not neighbours in space.

    Grassberger, P. and Procaccia, I. (1983). Characterization of strange attractors.
    Physical Review Letters 50, 346-349.
    """
    pts = as_float_array(points, "points", ndim=(1, 2))
    if pts.ndim == 1:
        pts = pts[:, None]
    finite = pts[np.all(np.isfinite(pts), axis=1)]
    if len(finite) < 10:
        raise ValueError(f"points: the correlation dimension needs at least 10 finite "
                         f"points, got {len(finite)}")
    if radii is None:
        fit = as_float_array(fit, "fit", ndim=1, finite=True)
        if fit.shape != (2,) or not 0 < fit[0] < fit[1]:
            raise ValueError(f"fit must be two fractions 0 < low < high of the attractor's "
                             f"diameter, got {fit.tolist()}")
        diam = float(np.max(np.max(finite, axis=0) - np.min(finite, axis=0)))
        if not diam > 0:
            raise ValueError("points: all points coincide; the attractor has no extent")
        radii = diam * np.logspace(math.log10(fit[0]), math.log10(fit[1]), 16)
    else:
        radii = as_float_array(radii, "radii", ndim=1, finite=True)
        if len(radii) < 2 or np.any(radii <= 0):
            raise ValueError(f"radii must be at least two positive radii, got "
                             f"{radii.tolist()[:8]}")
    c = correlation_sum(finite, radii, max_points=max_points, seed=seed)
    ok = c > 0
    if np.count_nonzero(ok) < 2 or len(np.unique(radii[ok])) < 2:
        raise ValueError(f"radii: fewer than two radii hold pairs of points (radii "
                         f"{radii.tolist()[:8]}...); choose larger radii or more points")
    slope, _ = np.polyfit(np.log(radii[ok]), np.log(c[ok]), 1)
    if return_curve:
        return float(slope), np.asarray(radii), c
    return float(slope)


def power_spectrum(x, dt=1.0, *, nperseg=None):
    """Power spectral density by Welch's method (Hann windows, half overlap).

    Returns ``(frequencies, psd)``; for a ``(n, dim)`` array, ``psd`` is ``(f, dim)``.
    Frequencies are in cycles per unit time.
    """
    from scipy.signal import welch

    x = as_float_array(x, "x", ndim=(1, 2), finite=True)
    dt = check_dt(dt)
    n = x.shape[0]
    if n < 8:
        raise ValueError(f"x must hold at least 8 samples along its first axis, got shape "
                         f"{x.shape}")
    nperseg = min(n, 1024) if nperseg is None else check_int(nperseg, "nperseg", 8)
    f, p = welch(x, fs=1.0 / dt, nperseg=nperseg, axis=0)
    return f, p
