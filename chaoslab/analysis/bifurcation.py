"""Attractors followed across a parameter, and period doublings located exactly.

:func:`continuation` finds the attractors at each value of a parameter from one fixed set
of random starts (:func:`~chaoslab.analysis.basins.find_attractors`) and matches them with
those at the previous value (the assignment of least total distance between centroids),
so an attractor keeps its id while it exists and coexisting attractors show side by side
with their basin fractions: a bifurcation picture that includes multistability.

:func:`period_doublings` follows a map's stable periodic orbit by Newton's method on the
exact Jacobian of its iterate and locates, by bisection, where its multiplier passes
through -1; the orbit of twice the period born there is followed in turn. The ratios of
successive intervals converge to Feigenbaum's constant 4.6692...
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..progress import as_reporter
from ..systems import as_system
from ..validation import check_float, check_int
from .basins import find_attractors, random_starts

__all__ = ["continuation", "ContinuationResult", "period_doublings", "DoublingResult"]


@dataclass(frozen=True)
class ContinuationResult:
    """``values`` of the parameter; for each, ``fractions[i]`` ``{id: share}`` and
    ``attractors[i]`` ``{id: points}``, with ids matched across values (``-1``:
    diverged starts)."""

    parameter: str
    values: np.ndarray
    fractions: list
    attractors: list
    #: the names of the attractors' columns (the system's variables)
    variables: tuple = None

    @property
    def ids(self) -> list:
        """Every attractor id that occurs, in order."""
        return sorted({k for f in self.fractions for k in f if k >= 0})

    def orbit_points(self, variable=0, max_points: int = 200):
        """The orbit diagram of the continuation, coexisting attractors included:
        ``(p, x, id)``, three flat arrays with, for every value and every attractor found
        there, up to ``max_points`` of the attractor's samples of ``variable`` (an index
        or a name) and the attractor's id. For a map the samples are its iterates (the
        classic orbit diagram); for a flow they are states on the attractor sampled in
        time (its extent in ``variable``, not only the maxima of the peak-to-peak
        diagram of :func:`~chaoslab.analysis.orbit_diagram`). Unlike
        :func:`~chaoslab.analysis.orbit_diagram`, which follows one start (or one branch),
        every attractor the starts reach shows, each with its own id.
        """
        max_points = check_int(max_points, "max_points", 1, 1_000_000)
        dim = next((pts.shape[1] for att in self.attractors for pts in att.values()), None)
        if isinstance(variable, str):
            if self.variables is None or variable not in self.variables:
                raise ValueError(f"variable: {variable!r} is not one of "
                                 f"{list(self.variables or [])}")
            j = self.variables.index(variable)
        else:
            j = check_int(variable, "variable", 0, max(0, (dim or 1) - 1))
        ps, xs, ks = [], [], []
        for v, att in zip(self.values, self.attractors):
            for k, pts in sorted(att.items()):
                col = pts[:, j]
                if len(col) > max_points:
                    col = col[np.linspace(0, len(col) - 1, max_points).astype(int)]
                ps.append(np.full(len(col), v))
                xs.append(col)
                ks.append(np.full(len(col), k, dtype=int))
        if not ps:
            return np.empty(0), np.empty(0), np.empty(0, dtype=int)
        return np.concatenate(ps), np.concatenate(xs), np.concatenate(ks)

    def fraction_table(self) -> np.ndarray:
        """``(len(values), len(ids))``: each attractor's basin fraction (0 where absent)."""
        ids = self.ids
        return np.array([[f.get(k, 0.0) for k in ids] for f in self.fractions])


def continuation(system, parameter: str, values, *, n_starts: int = 200, box=None, seed=0,
                 match_distance=float("inf"), progress=None, cancel=None,
                 **kwargs) -> ContinuationResult:
    """Attractors and their basin fractions across ``values`` of ``parameter``.

    The same ``n_starts`` random starts in ``box`` (``dim`` rows of ``(low, high)``;
    default :func:`~chaoslab.analysis.basins.default_box` at the first value) are used at
    every value. The attractors at one value are paired with those at the previous value
    by the assignment of least total distance between centroids; a pair further apart
    than ``match_distance`` (default: no limit) is not matched. Matched attractors keep
    their id, the others get new ids.
    Other keywords go to :func:`~chaoslab.analysis.basins.find_attractors`.
    """
    from scipy.optimize import linear_sum_assignment

    system = as_system(system)
    if parameter not in system.params:
        raise ValueError(f"parameter: {parameter!r} is not a parameter of {system.name}; "
                         f"allowed: {list(system.params)}")
    vals = np.asarray(values, dtype=float).ravel()
    if vals.size < 1 or not np.all(np.isfinite(vals)):
        raise ValueError(f"values must be finite numbers, got {values!r}")
    n_starts = check_int(n_starts, "n_starts", 1, 1_000_000)
    match_distance = check_float(match_distance, "match_distance", positive=True,
                                 allow_inf=True)
    starts = random_starts(system, n_starts, box, seed, params={parameter: float(vals[0])})
    reporter = as_reporter(progress, cancel)
    fractions, attractors = [], []
    previous = {}  # id -> centroid
    next_id = 0
    for i, v in enumerate(vals):
        res = find_attractors(system.with_params(**{parameter: float(v)}), starts,
                              progress=reporter.scaled(i / vals.size, (i + 1) / vals.size),
                              **kwargs)
        new = {k: p.mean(axis=0) for k, p in res.attractors.items()}
        mapping = {}
        if previous and new:
            old_ids, new_ids = list(previous), list(new)
            cost = np.array([[np.linalg.norm(previous[a] - new[b]) for b in new_ids]
                             for a in old_ids])
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] <= match_distance:
                    mapping[new_ids[c]] = old_ids[r]
        for k in sorted(new):
            if k not in mapping:
                mapping[k] = next_id
                next_id += 1
        next_id = max(next_id, max(mapping.values(), default=-1) + 1)
        fractions.append({(mapping[k] if k >= 0 else -1): f for k, f in res.fractions.items()})
        attractors.append({mapping[k]: p for k, p in res.attractors.items()})
        previous = {mapping[k]: c for k, c in new.items()}
    return ContinuationResult(parameter=parameter, values=vals, fractions=fractions,
                              attractors=attractors, variables=tuple(system.variables))


# -------------------------------------------------------------- period doublings
@dataclass(frozen=True)
class DoublingResult:
    """``values[k]``: where the period-``periods[k]`` orbit loses stability to the orbit
    of twice its period; ``ratios``: ``(r_k - r_{k-1}) / (r_{k+1} - r_k)``, which tend to
    Feigenbaum's 4.6692."""

    parameter: str
    values: np.ndarray
    periods: np.ndarray

    @property
    def ratios(self) -> np.ndarray:
        d = np.diff(self.values)
        return d[:-1] / d[1:]


def _orbit(system, pname, r, x, p, tol=1e-13, max_iter=50):
    """Newton for a period-``p`` point near ``x`` at parameter value ``r``: the point
    and the multiplier that decides a doubling (the real eigenvalue of least value, or
    NaN when Newton fails)."""
    s = system.with_params(**{pname: r})
    pv = s.param_vector
    eye = np.eye(s.dim)
    z = np.array(x, dtype=float)
    for _ in range(max_iter):
        y, J = z, eye.copy()
        for _ in range(p):
            J = s.jacobian(y, params=pv) @ J
            y = s.rhs(y, params=pv)
        try:
            step = np.linalg.solve(J - eye, y - z)
        except np.linalg.LinAlgError:
            return z, np.nan
        z = z - step
        if not np.all(np.isfinite(z)):
            return z, np.nan
        if np.max(np.abs(step)) <= tol * (1 + np.max(np.abs(z))):
            break
    else:
        return z, np.nan
    y, J = z, eye.copy()
    for _ in range(p):
        J = s.jacobian(y, params=pv) @ J
        y = s.rhs(y, params=pv)
    mu = np.linalg.eigvals(J)
    real = mu[np.abs(mu.imag) < 1e-9].real
    return z, (float(real.min()) if real.size else np.nan)


def _settle(system, pname, r, x, p, n=20000):
    """Iterate at ``r`` from ``x`` so a stable orbit attracts it, then polish."""
    from ..integrate import simulate

    s = system.with_params(**{pname: r})
    z = simulate(s, 1, x0=np.array(x, dtype=float), transient=n * s.dt, on_diverge="ignore")
    return np.asarray(z, dtype=float).reshape(-1)


def period_doublings(system, parameter: str, start: float, stop: float, n: int = 4, *,
                     period: int = 1, x0=None, n_scan: int = 200) -> DoublingResult:
    """The first ``n`` period doublings of a map's stable orbit as ``parameter`` rises
    from ``start`` (where a stable orbit of ``period`` exists) towards ``stop``.

    The orbit is followed by Newton's method from step to step; the first doubling is
    bracketed on a scan of ``n_scan`` steps and each later one in a window scaled by the
    previous interval, then located by bisection to machine precision.
    """
    system = as_system(system)
    if not system.is_map:
        raise ValueError(f"period_doublings follows orbits of maps; {system.name} is a flow")
    if parameter not in system.params:
        raise ValueError(f"parameter: {parameter!r} is not a parameter of {system.name}; "
                         f"allowed: {list(system.params)}")
    start = check_float(start, "start")
    stop = check_float(stop, "stop")
    if stop <= start:
        raise ValueError(f"stop must exceed start, got start={start}, stop={stop}")
    n = check_int(n, "n", 1, 12)
    p = check_int(period, "period", 1, 4096)
    n_scan = check_int(n_scan, "n_scan", 2, 100_000)
    x = _settle(system, parameter, start, system.x0 if x0 is None else x0, p)
    x, mu = _orbit(system, parameter, start, x, p)
    if not (np.isfinite(mu) and mu > -1):
        raise ValueError(f"no stable period-{p} orbit of {system.name} was found at "
                         f"{parameter}={start}")
    found, periods = [], []
    lo, step = start, (stop - start) / n_scan
    for _ in range(n):
        # bracket: step forward, following the orbit, until the multiplier passes -1
        r, xr = lo, x
        hi = None
        while r < stop:
            r2 = min(r + step, stop)
            x2, mu2 = _orbit(system, parameter, r2, xr, p)
            if not np.isfinite(mu2):
                break
            if mu2 < -1:
                hi = r2
                break
            r, xr = r2, x2
        if hi is None:
            break
        lo_b, x_lo = r, xr
        for _ in range(60):
            mid = 0.5 * (lo_b + hi)
            if mid in (lo_b, hi):
                break
            xm, mum = _orbit(system, parameter, mid, x_lo, p)
            if np.isfinite(mum) and mum > -1:
                lo_b, x_lo = mid, xm
            else:
                hi = mid
        r_k = 0.5 * (lo_b + hi)
        found.append(r_k)
        periods.append(p)
        # the orbit of twice the period, just past the doubling
        gap = (r_k - found[-2]) if len(found) > 1 else (r_k - start)
        nxt = r_k + gap / 10
        if nxt >= stop:
            break
        x = _settle(system, parameter, nxt, x_lo, 2 * p)
        p *= 2
        x, mu = _orbit(system, parameter, nxt, x, p)
        if not (np.isfinite(mu) and mu > -1):
            break
        lo, step = nxt, gap / 40
    return DoublingResult(parameter=parameter, values=np.array(found),
                          periods=np.array(periods))
