"""The generalized alignment index (GALI) of Skokos, Bountis and Antonopoulos (2007).

``k`` deviation vectors are carried along an orbit by the tangent dynamics and
normalised to unit length every ``interval`` (each on its own, never orthogonalised).
GALI_k is the volume of the parallelepiped they span: the product of the singular values
of the ``dim x k`` matrix of unit vectors. On a chaotic orbit the vectors align with the
most unstable directions and GALI_k falls exponentially, GALI_2 like
``exp(-(lambda_1 - lambda_2) t)``; on a regular orbit of a Hamiltonian system with ``N``
degrees of freedom GALI_k for ``k <= N`` stays bounded away from 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_float, check_int

__all__ = ["gali", "GaliResult"]


@dataclass(frozen=True)
class GaliResult:
    """``t`` (time, or iterate of a map) and ``gali`` at each normalisation; ``k``."""

    t: np.ndarray
    gali: np.ndarray
    k: int

    def decay_rate(self, low: float = 1e-10, high: float = 1e-2) -> float:
        """The exponential decay rate: minus the least-squares slope of ``log GALI``
        against time, over the stretch where ``low < GALI < high`` (NaN when fewer than
        three points lie there)."""
        g = self.gali
        m = (g > low) & (g < high)
        if m.sum() < 3:
            return float("nan")
        return float(-np.polyfit(self.t[m], np.log(g[m]), 1)[0])


def _volume(V):
    V = V / np.linalg.norm(V, axis=0, keepdims=True)
    return V, float(np.prod(np.linalg.svd(V, compute_uv=False)))


def gali(system, k: int = 2, T=None, *, interval=None, x0=None, params=None, dt=None,
         seed=0, floor: float = 1e-14) -> GaliResult:
    """GALI_k along the orbit from ``x0`` (default the system's start) for ``T`` time
    units (iterates of a map; default 100 time units or 1000 iterates).

    The vectors start as a random orthonormal set (``seed``) and are normalised every
    ``interval`` (default ten integration steps, or one iterate). The run stops early once
    GALI_k falls below ``floor`` (round-off keeps it from going much further).
    """
    system = as_system(system)
    if system.is_delay:
        raise ValueError(f"gali: {system.name} is a delay system (no finite tangent space)")
    k = check_int(k, "k", 2, system.dim)
    if params:
        system = system.with_params(**params)
    h = system.dt if dt is None else check_float(dt, "dt", positive=True)
    if T is None:
        T = 1000 * h if system.is_map else 100.0
    T = check_float(T, "T", positive=True)
    floor = check_float(floor, "floor", positive=True)
    if system.is_map:
        interval = h if interval is None else check_float(interval, "interval", positive=True)
        every = max(1, int(round(interval / h)))
    else:
        interval = 10 * h if interval is None else check_float(interval, "interval",
                                                                  positive=True)
    n = max(1, int(np.ceil(T / interval)))
    if n > 10**7:
        raise ValueError(f"gali: T={T} in steps of interval={interval} is {n} "
                         "normalisations; at most 1e7 are allowed")
    x = np.array(system.x0 if x0 is None else x0, dtype=float).reshape(system.dim)
    rng = np.random.default_rng(seed)
    V, _ = _volume(np.linalg.qr(rng.normal(size=(system.dim, k)))[0])
    t, out = [], []
    if system.is_map:
        p = system.param_vector
        for i in range(n):
            for _ in range(every):
                V = system.jacobian(x, params=p) @ V
                x = system.rhs(x, params=p)
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(V))):
                break
            V, g = _volume(V)
            t.append((i + 1) * every * h)
            out.append(g)
            if g < floor:
                break
    else:
        from .lyapunov import tangent_map

        for i in range(n):
            phi, xf, bad = tangent_map(system, x[None, :], interval, dt=h, columns=V,
                                       t0=i * interval)
            if np.any(np.asarray(bad) >= 0) or not np.all(np.isfinite(phi)):
                break
            x = xf[0]
            V, g = _volume(phi[0])
            t.append((i + 1) * interval)
            out.append(g)
            if g < floor:
                break
    if not out:
        raise ValueError(f"gali: the orbit of {system.name} diverged in the first interval")
    return GaliResult(t=np.array(t), gali=np.array(out), k=k)
