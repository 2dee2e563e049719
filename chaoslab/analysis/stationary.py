"""Fixed points and periodic orbits by Newton's method on the exact Jacobian.

Newton's method is run from many starts at once (a batch through the system's compiled
expression tapes), converged points are deduplicated, and each is returned with the
eigenvalues of its Jacobian and its stability: a flow's fixed point is stable when every
eigenvalue has a negative real part, a map's when every eigenvalue lies inside the unit
circle. A period-``p`` orbit of a map is a fixed point of its ``p``-th iterate; its
eigenvalues are those of the product of the Jacobians along the orbit (its multipliers).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_finite_array, check_float, check_int

__all__ = ["FixedPoint", "PeriodicOrbit", "FlowOrbit", "fixed_points", "periodic_orbits"]


@dataclass(frozen=True)
class FixedPoint:
    """A fixed point ``x`` with its Jacobian's ``eigenvalues``, whether it is stable, and
    its ``kind``: ``"stable"``, ``"unstable"`` or ``"saddle"`` (eigenvalues on both sides
    of the imaginary axis for a flow, of the unit circle for a map)."""

    x: np.ndarray
    eigenvalues: np.ndarray
    stable: bool
    kind: str


@dataclass(frozen=True)
class PeriodicOrbit:
    """A period-``period`` orbit of a map: its ``points`` ``(period, dim)`` in order, the
    ``multipliers`` (eigenvalues of the Jacobian of the ``period``-th iterate) and
    whether it is stable."""

    points: np.ndarray
    multipliers: np.ndarray
    stable: bool

    @property
    def period(self) -> int:
        return len(self.points)


@dataclass(frozen=True)
class FlowOrbit:
    """A periodic orbit of a flow: ``x0`` on the section, its ``period`` in time,
    ``crossings`` (its points on the section, in order), ``multipliers`` (the Floquet
    multipliers: eigenvalues of the monodromy matrix; one of them is 1, along the flow)
    and whether it is stable (every other multiplier inside the unit circle)."""

    x0: np.ndarray
    period: float
    crossings: np.ndarray
    multipliers: np.ndarray
    stable: bool

    def points(self, system, n: int = 500) -> np.ndarray:
        """``n`` points along one period (for drawing)."""
        from ..integrate import simulate

        s = as_system(system)
        return np.asarray(simulate(s, n, dt=self.period / (n - 1),
                                   substeps=max(1, int(np.ceil(self.period / (n - 1) / s.dt))),
                                   x0=self.x0))


def _kind(ev, is_map):
    size = np.abs(ev) if is_map else ev.real
    edge = 1.0 if is_map else 0.0
    if np.all(size < edge):
        return "stable"
    if np.all(size > edge):
        return "unstable"
    return "saddle"


def _starts(system, box, n_starts, rng, params):
    d = system.dim
    if box is None:
        from ..integrate import simulate

        x = simulate(system, 2000, params=params, on_diverge="ignore")
        x = x[np.all(np.isfinite(x), axis=1)]
        if len(x) == 0:
            lo, hi = np.full(d, -1.0), np.full(d, 1.0)
        else:
            lo, hi = x.min(axis=0), x.max(axis=0)
            pad = 0.5 * np.maximum(hi - lo, 1.0)
            lo, hi = lo - pad, hi + pad
    else:
        b = check_finite_array(box, "box")
        if b.shape != (d, 2) or np.any(b[:, 1] < b[:, 0]):
            raise ValueError(f"box must be {d} rows of (low, high) with low <= high, "
                             f"got {np.asarray(box).tolist()!r}")
        lo, hi = b[:, 0], b[:, 1]
    return lo + (hi - lo) * rng.random((n_starts, d))


def _iterate(system, x, p, params):
    """The ``p``-th iterate of a map and its Jacobian, for a batch ``x`` (n, dim)."""
    J = np.broadcast_to(np.eye(system.dim), x.shape + (system.dim,)).copy()
    for _ in range(p):
        J = system.jacobian(x, params=params) @ J
        x = system.rhs(x, params=params)
    return x, J


def _newton(F, x, tol, max_iter):
    """Damped Newton on a batch; returns the points and a mask of those converged."""
    ok = np.zeros(len(x), dtype=bool)
    for _ in range(max_iter):
        with np.errstate(all="ignore"):
            f, J = F(x)
            live = np.all(np.isfinite(f), axis=1) & np.all(np.isfinite(J), axis=(1, 2))
            step = np.zeros_like(x)
            if np.any(live):
                try:
                    step[live] = np.linalg.solve(J[live], f[live][..., None])[..., 0]
                except np.linalg.LinAlgError:
                    # solve one by one, skipping singular Jacobians
                    for i in np.nonzero(live)[0]:
                        try:
                            step[i] = np.linalg.solve(J[i], f[i])
                        except np.linalg.LinAlgError:
                            live[i] = False
            x = np.where(live[:, None], x - step, np.nan)
            ok = live & (np.max(np.abs(step), axis=1) <= tol * (1.0 + np.max(np.abs(x), axis=1)))
        if ok.all():
            break
    with np.errstate(all="ignore"):
        f, _ = F(x)
        ok &= np.all(np.isfinite(x), axis=1) & (np.max(np.abs(f), axis=1) <= np.sqrt(tol))
    return x, ok


def _dedupe(points, tol):
    keep = []
    for x in points:
        if not any(np.max(np.abs(x - y)) <= tol * (1.0 + np.max(np.abs(y))) for y in keep):
            keep.append(x)
    return keep


def fixed_points(system, *, params=None, box=None, n_starts: int = 200, seed=0,
                 tol: float = 1e-10, max_iter: int = 60) -> list:
    """The fixed points of a flow (``f(x) = 0``) or a map (``g(x) = x``).

    Newton's method on the exact Jacobian from ``n_starts`` random starts in ``box``
    (``dim`` rows of ``(low, high)``; default the box around a short trajectory, padded
    by half its size). Returns a list of :class:`FixedPoint`, sorted by their first
    coordinate. A point that no start reaches is not found: widen ``box`` or raise
    ``n_starts`` for systems with many fixed points.
    """
    system = as_system(system)
    if system.is_delay:
        raise ValueError(f"fixed_points: {system.name} is a delay system; its fixed points "
                         "are not those of an ordinary vector field")
    n_starts = check_int(n_starts, "n_starts", 1, 10**6)
    tol = check_float(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", 1, 10**4)
    p = system.param_vector if params is None else system.with_params(**params).param_vector
    rng = np.random.default_rng(seed)
    x = _starts(system, box, n_starts, rng, params)
    eye = np.eye(system.dim)

    if system.is_map:
        def F(z):
            return system.rhs(z, params=p) - z, system.jacobian(z, params=p) - eye
    else:
        def F(z):
            return system.rhs(z, params=p), system.jacobian(z, params=p)

    x, ok = _newton(F, x, tol, max_iter)
    pts = _dedupe(x[ok], 1e3 * tol)
    out = []
    for z in sorted(pts, key=lambda v: tuple(v)):
        ev = np.linalg.eigvals(system.jacobian(z, params=p))
        ev = ev[np.lexsort((ev.imag, ev.real))]
        stable = bool(np.all(np.abs(ev) < 1)) if system.is_map else bool(np.all(ev.real < 0))
        out.append(FixedPoint(x=z, eigenvalues=ev, stable=stable,
                              kind=_kind(ev, system.is_map)))
    return out


def periodic_orbits(system, period: int, *, params=None, box=None, n_starts: int = 500,
                    seed=0, tol: float = 1e-10, max_iter: int = 60, section=None,
                    direction: int = 1, search_time=None) -> list:
    """The orbits of a map of least period ``period``, or of a flow that cross a Poincare
    section ``period`` times.

    For a flow, ``section`` is ``{variable: value}`` and ``direction`` the sign of the
    crossings counted; the orbits are found by shooting (see :func:`_flow_orbits`) and
    returned as :class:`FlowOrbit`.

    Newton's method on ``g^p(x) - x`` with the exact Jacobian of the ``p``-th iterate
    (the chain of Jacobians along the orbit) from ``n_starts`` random starts in ``box``.
    Points of one orbit are merged, fixed points of a divisor of ``period`` are dropped.
    Returns a list of :class:`PeriodicOrbit`, each starting at its point of smallest first
    coordinate.
    """
    system = as_system(system)
    period = check_int(period, "period", 1, 10_000)
    if not system.is_map:
        if section is None:
            raise ValueError(f"periodic_orbits: {system.name} is a flow; give a Poincare "
                             "section, e.g. section={'z': 27.0}")
        return _flow_orbits(system, period, section, direction, params=params, tol=tol,
                            max_iter=max_iter, search_time=search_time, n_starts=n_starts)
    n_starts = check_int(n_starts, "n_starts", 1, 10**6)
    tol = check_float(tol, "tol", positive=True)
    max_iter = check_int(max_iter, "max_iter", 1, 10**4)
    pv = system.param_vector if params is None else system.with_params(**params).param_vector
    rng = np.random.default_rng(seed)
    x = _starts(system, box, n_starts, rng, params)
    eye = np.eye(system.dim)

    def F(z):
        y, J = _iterate(system, z, period, pv)
        return y - z, J - eye

    x, ok = _newton(F, x, tol, max_iter)
    found = []
    scale = 1e3 * tol
    for z in x[ok]:
        orbit = [z]
        for _ in range(period - 1):
            orbit.append(system.rhs(orbit[-1], params=pv))
        orbit = np.array(orbit)
        # least period: no earlier return
        if any(np.max(np.abs(orbit[k] - z)) <= scale * (1 + np.max(np.abs(z)))
               for k in range(1, period)):
            continue
        if any(np.min(np.max(np.abs(o.points - z), axis=1)) <= scale * (1 + np.max(np.abs(z)))
               for o in found):
            continue
        first = int(np.lexsort(orbit.T[::-1])[0])
        orbit = np.roll(orbit, -first, axis=0)
        _, J = _iterate(system, orbit[:1], period, pv)
        mu = np.linalg.eigvals(J[0])
        mu = mu[np.lexsort((mu.imag, mu.real))]
        found.append(PeriodicOrbit(points=orbit, multipliers=mu,
                                   stable=bool(np.all(np.abs(mu) < 1))))
    return sorted(found, key=lambda o: tuple(o.points[0]))


def _flow_orbits(system, p, section, direction, *, params, tol, max_iter, search_time,
                 n_starts):
    """Shooting: Newton on ``(x0, T)`` with ``phi_T(x0) = x0`` and ``x0`` on the section.

    Starts come from close returns of a long trajectory to the section: pairs of
    crossings ``p`` apart that lie closest together, with the time between them as the
    first guess of the period. The Jacobian of the shooting equations holds the monodromy
    matrix (from the exact tangent dynamics) and the vector field at the end point.
    """
    from ..integrate import simulate
    from .lyapunov import tangent_map
    from .orbits import section_crossings

    if not isinstance(section, dict) or len(section) != 1:
        raise ValueError(f"section must be one {{variable: value}}, got {section!r}")
    (var, value), = section.items()
    if var not in system.variables:
        raise ValueError(f"section: {var!r} is not a variable of {system.name}; allowed: "
                         f"{list(system.variables)}")
    value = check_float(value, f"section[{var!r}]")
    if direction not in (1, -1):
        raise ValueError(f"direction must be 1 or -1, got {direction!r}")
    s = system if params is None else system.with_params(**params)
    iv = s.variables.index(var)
    T_search = 500.0 if search_time is None else check_float(search_time, "search_time",
                                                             positive=True)
    n = int(np.ceil(T_search / s.dt))
    if n > 20_000_000:
        raise ValueError(f"search_time={T_search} is {n} steps; at most 2e7 are allowed")
    x = np.asarray(simulate(s, n, transient=50.0, on_diverge="ignore"))
    t = np.arange(n) * s.dt
    pts, tc = section_crossings(s, x, t, var, value, direction)
    if len(pts) <= p:
        raise ValueError(f"the trajectory of {s.name} crossed {var} = {value} only "
                         f"{len(pts)} times in {T_search} time units; choose another "
                         "section or a longer search_time")
    gap = np.max(np.abs(pts[p:] - pts[:-p]), axis=1)
    order = np.argsort(gap)[:max(1, min(n_starts, len(gap)))]
    scale = float(np.max(np.ptp(pts, axis=0))) or 1.0
    eye = np.eye(s.dim)
    found = []
    for k in order:
        z, T = pts[k].copy(), float(tc[k + p] - tc[k])
        ok = False
        for _ in range(max_iter):
            phi, xf, bad = tangent_map(s, z[None, :], T)
            if np.any(np.asarray(bad) >= 0):
                break
            M, end = phi[0], xf[0]
            F = np.append(end - z, z[iv] - value)
            A = np.zeros((s.dim + 1, s.dim + 1))
            A[:s.dim, :s.dim] = M - eye
            A[:s.dim, s.dim] = s.rhs(end)
            A[s.dim, iv] = 1.0
            try:
                step = np.linalg.solve(A, F)
            except np.linalg.LinAlgError:
                break
            z = z - step[:s.dim]
            T = T - step[s.dim]
            if not (np.all(np.isfinite(z)) and np.isfinite(T)) or T <= 0:
                break
            if np.max(np.abs(step)) <= tol * (1 + scale):
                ok = True
                break
        if not ok:
            continue
        # the orbit's own crossings: exactly p of them, or it is a shorter orbit
        m = max(200, int(np.ceil(T / s.dt)))
        orb = np.asarray(simulate(s, m + 1, dt=T / m, x0=z))
        own, _ = section_crossings(s, orb, np.linspace(0, T, m + 1), var, value, direction)
        near_start = np.max(np.abs(own - z), axis=1) < 1e-6 * (1 + scale) if len(own) else []
        n_cross = len(own) - int(np.sum(near_start)) + 1
        if n_cross != p:
            continue
        if any(np.min(np.max(np.abs(o.crossings - z), axis=1)) < 1e-6 * (1 + scale)
               for o in found):
            continue
        cross = np.vstack([z[None, :], own[~np.asarray(near_start, dtype=bool)]]) \
            if len(own) else z[None, :]
        phi, _, _ = tangent_map(s, z[None, :], T)
        mu = np.linalg.eigvals(phi[0])
        mu = mu[np.argsort(-np.abs(mu))]
        others = np.delete(mu, np.argmin(np.abs(mu - 1.0)))
        found.append(FlowOrbit(x0=z, period=T, crossings=cross, multipliers=mu,
                               stable=bool(np.all(np.abs(others) < 1))))
    return sorted(found, key=lambda o: o.period)
