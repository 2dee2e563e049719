"""Local growth rates and expansion entropy: how fast small perturbations grow, point by
point and over a whole region of the state space.

- :func:`local_growth_rates`: for points on the attractor, the finite-time growth rate
  ``ln(|D f^T(x) v|) / T`` of unit perturbations ``v`` in random directions, from the
  exact tangent dynamics. Their spread shows where on the attractor predictability is lost
  fast and where slowly; for long times they tend to the largest Lyapunov exponent.
- :func:`expansion_entropy`: Hunt and Ott (2015), "Defining chaos", Chaos 25, 097618.
  Over a restraining region ``S``, ``E_T`` is the average over starts in ``S`` of the
  product of the singular values of ``D f^T(x)`` that exceed 1, counting only starts whose
  orbit stays in ``S`` up to ``T``; ``H_0 = lim ln(E_T) / T``, estimated as the slope of
  ``ln E_T`` against ``T``. It is positive exactly when the dynamics in ``S`` is chaotic; for
  the logistic map at ``r = 4`` on ``[0, 1]`` it is ``ln 2``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_finite_array, check_float, check_int

__all__ = ["local_growth_rates", "expansion_entropy", "ExpansionEntropyResult"]


def _tangent(system, X, T, V, params):
    """``D f^T(x) V`` for a batch ``X`` (n, dim) and columns ``V`` (dim, k); a map's ``T``
    is a whole number of iterates. Returns ``(n, dim, k)`` and the end points."""
    if system.is_map:
        p = system.param_vector if params is None else system.with_params(**params).param_vector
        M = np.broadcast_to(V, (X.shape[0],) + V.shape).copy()
        x = X.copy()
        with np.errstate(all="ignore"):
            for _ in range(int(round(T))):
                M = system.jacobian(x, params=p) @ M
                x = system.rhs(x, params=p)
        return M, x
    from .lyapunov import tangent_map

    s = system if params is None else system.with_params(**params)
    phi, xf, bad = tangent_map(s, X, T, columns=V)
    phi = np.array(phi, dtype=float)
    phi[np.asarray(bad) >= 0] = np.nan
    return phi, np.asarray(xf)


def local_growth_rates(system, points, T, *, n_directions: int = 20, params=None,
                       seed=0) -> np.ndarray:
    """Growth rates ``ln|D f^T(x) v| / T`` at each of ``points`` ``(n, dim)`` for
    ``n_directions`` random unit vectors ``v`` (drawn once with ``seed``, shared by all
    points). ``T`` is in time units (whole iterates for a map). Returns ``(n,
    n_directions)``; NaN where the orbit diverged."""
    system = as_system(system)
    X = check_finite_array(points, "points")
    if X.ndim == 1:
        X = X[None, :]
    if X.ndim != 2 or X.shape[1] != system.dim:
        raise ValueError(f"points must be (n, {system.dim}), got shape {X.shape}")
    T = check_float(T, "T", positive=True)
    if system.is_map and abs(T - round(T)) > 1e-9:
        raise ValueError(f"T must be a whole number of iterates for a map, got {T}")
    k = check_int(n_directions, "n_directions", 1, 10_000)
    V = np.random.default_rng(seed).normal(size=(system.dim, k))
    V /= np.linalg.norm(V, axis=0, keepdims=True)
    M, _ = _tangent(system, X, T, V, params)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.linalg.norm(M, axis=1)) / T


@dataclass(frozen=True)
class ExpansionEntropyResult:
    """``H0``: the slope of ``ln E_T`` against ``T`` over ``fit``; ``T`` and ``log_E``:
    the curve; ``fraction_inside``: the share of starts still in the region at each
    ``T``."""

    H0: float
    T: np.ndarray
    log_E: np.ndarray
    fraction_inside: np.ndarray


def expansion_entropy(system, box, T, *, n_points: int = 20_000, n_T: int = 10,
                      params=None, seed=0, fit=(0.3, 1.0)) -> ExpansionEntropyResult:
    """Expansion entropy ``H_0`` of Hunt and Ott (2015) over the restraining region
    ``box`` (``dim`` rows of ``(low, high)``).

    ``n_points`` uniform random starts in ``box`` are followed for ``T`` (time units;
    iterates of a map), checked ``n_T`` times along the way: a start that has left the box
    at a check counts as 0 from then on. ``H_0`` is the least-squares slope of ``ln E_T``
    against ``T`` over the fraction ``fit`` of the checks (the start is left out: at short
    times the slope has not settled).
    """
    system = as_system(system)
    b = check_finite_array(box, "box")
    if b.shape != (system.dim, 2) or np.any(b[:, 1] <= b[:, 0]):
        raise ValueError(f"box must be {system.dim} rows of (low, high) with low < high, "
                         f"got {np.asarray(box).tolist()!r}")
    T = check_float(T, "T", positive=True)
    n_points = check_int(n_points, "n_points", 10, 10_000_000)
    n_T = check_int(n_T, "n_T", 3, 10_000)
    if system.is_map:
        steps = np.unique(np.round(np.linspace(0, T, n_T + 1)).astype(int))[1:]
        if steps.size < 3:
            raise ValueError(f"T={T} iterates are too few for {n_T} checks")
    else:
        steps = np.linspace(0, T, n_T + 1)[1:]
    rng = np.random.default_rng(seed)
    x = b[:, 0] + (b[:, 1] - b[:, 0]) * rng.random((n_points, system.dim))
    M = np.broadcast_to(np.eye(system.dim), (n_points, system.dim, system.dim)).copy()
    inside = np.ones(n_points, dtype=bool)
    log_E, frac = [], []
    prev = 0.0
    for t in steps:
        live = np.nonzero(inside)[0]
        if live.size == 0:
            log_E.append(-np.inf)
            frac.append(0.0)
            continue
        J, xe = _tangent(system, x[live], t - prev, np.eye(system.dim), params)
        prev = t
        with np.errstate(all="ignore"):
            M[live] = J @ M[live]
        x[live] = xe
        ok = np.all(np.isfinite(xe), axis=1) & np.all((xe >= b[:, 0]) & (xe <= b[:, 1]),
                                                        axis=1)
        ok &= np.all(np.isfinite(M[live]), axis=(1, 2))
        inside[live[~ok]] = False
        live = np.nonzero(inside)[0]
        sv = np.linalg.svd(M[live], compute_uv=False) if live.size else np.ones((0, 1))
        G = np.prod(np.where(sv > 1, sv, 1.0), axis=1)
        log_E.append(float(np.log(G.sum() / n_points)) if live.size else -np.inf)
        frac.append(live.size / n_points)
    Ts = np.asarray(steps, dtype=float)
    log_E = np.array(log_E)
    lo, hi = fit
    m = (Ts >= lo * T) & (Ts <= hi * T) & np.isfinite(log_E)
    H0 = float(np.polyfit(Ts[m], log_E[m], 1)[0]) if m.sum() >= 2 else float("nan")
    return ExpansionEntropyResult(H0=H0, T=Ts, log_E=log_E, fraction_inside=np.array(frac))
