"""Ensembles of nearby trajectories: how fast neighbours separate (the butterfly effect).

A small cloud of initial conditions around one state is integrated together; the distance
of each member from the unperturbed reference trajectory grows like ``d0 e^(lambda_1 t)``
(``lambda_1`` the largest Lyapunov exponent) until it reaches the size of the attractor
and saturates. :func:`ensemble_spread` computes the cloud and the separations;
:meth:`EnsembleSpread.growth_rate` fits the exponential phase, an estimate of
``lambda_1`` that needs no tangent dynamics (the "direct method" of measuring
divergence, Wolf et al. 1985, section 2). :func:`trajectory_box` gives the extent of a
trajectory, for choosing plot windows and FTLE slices.

References
----------
Lorenz, E. N. (1963). Deterministic nonperiodic flow. J. Atmos. Sci. 20, 130-141.
Wolf, A., Swift, J. B., Swinney, H. L. and Vastano, J. A. (1985). Determining Lyapunov
exponents from a time series. Physica D 16, 285-317.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..integrate.simulate import simulate
from ..validation import check_dt, check_float, check_int, reject_unknown, renamed_keyword
from ..systems import as_system
from .exponent import largest_lyapunov_exponent

__all__ = ["ensemble_spread", "EnsembleSpread", "trajectory_box"]


@dataclass
class EnsembleSpread:
    """What :func:`ensemble_spread` returns.

    Attributes
    ----------
    t : ndarray
        ``(n,)`` time since the release (iterations for maps).
    x : ndarray
        ``(members, n, dim)``: row 0 is the unperturbed reference trajectory.
    separation : ndarray
        ``(members - 1, n)`` Euclidean distance of each perturbed member from the
        reference, in the units of the state (NaN once a member diverged).
    d0 : float
        The initial distance of every perturbed member.
    diverged : dict
        Member -> step, for members that left the bound.
    size : float
        The diagonal of the reference trajectory's bounding box: the scale at which the
        separation must saturate on a bounded attractor.
    """

    t: np.ndarray
    x: np.ndarray
    separation: np.ndarray
    d0: float
    diverged: dict
    size: float = math.nan

    @cached_property
    def mean_log_separation(self) -> np.ndarray:
        """``(n,)`` mean over members of ``log(separation)``: its slope is the growth rate."""
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log(self.separation)
        logs[~np.isfinite(logs)] = np.nan
        out = np.full(logs.shape[1], np.nan)
        ok = np.any(np.isfinite(logs), axis=0)
        out[ok] = np.nanmean(logs[:, ok], axis=0)
        return out

    @cached_property
    def typical_separation(self) -> np.ndarray:
        """``(n,)`` geometric mean separation ``exp(mean log separation)``."""
        return np.exp(self.mean_log_separation)

    def exponential(self, lyapunov_exponent: float) -> np.ndarray:
        """``d0 e^(lambda_1 t)``: the growth a largest Lyapunov exponent ``lambda_1`` (per
        unit time) predicts, for comparison."""
        lam = check_float(lyapunov_exponent, "lyapunov_exponent")
        with np.errstate(over="ignore"):
            return self.d0 * np.exp(lam * self.t)

    def saturation(self) -> float:
        """The separation at which growth stops: the median typical separation over the
        last quarter of the run (about the attractor's size when the run is long enough)."""
        s = self.typical_separation
        tail = s[3 * len(s) // 4:]
        tail = tail[np.isfinite(tail)]
        return float(np.median(tail)) if len(tail) else math.nan

    @property
    def saturated(self) -> bool:
        """Whether the separation levelled off at a tenth or more of the trajectory's size
        (the cloud has spread over the attractor); False while it still grows."""
        sat = self.saturation()
        if not math.isfinite(sat):
            return False
        return not (math.isfinite(self.size) and sat < 0.1 * self.size)

    def growth_rate(self, *, start_factor=10.0, stop_fraction=0.01) -> float:
        """The exponential growth rate of the separation (per unit time / per iteration).

        A least-squares line through ``mean log separation`` against ``t`` over the
        exponential phase: from when the typical separation first exceeds
        ``start_factor * d0`` (the perturbations have turned into the most unstable
        direction) until it first exceeds ``stop_fraction`` of the saturation level (to
        the end of the run if it has not :attr:`saturated`). NaN if that phase holds
        fewer than 5 samples (no growth, or too short a run).
        """
        logs = self.mean_log_separation
        sat = self.saturation()
        if not math.isfinite(sat) or sat <= self.d0 * start_factor:
            return math.nan
        lo = math.log(self.d0 * start_factor)
        hi = (math.log(max(sat * stop_fraction, self.d0 * start_factor * math.e))
              if self.saturated else math.inf)
        above_lo = np.nonzero(logs > lo)[0]
        if not len(above_lo):
            return math.nan
        i0 = int(above_lo[0])
        above_hi = np.nonzero(logs[i0:] > hi)[0]
        i1 = i0 + int(above_hi[0]) if len(above_hi) else len(logs)
        seg = slice(i0, i1)
        t, y = self.t[seg], logs[seg]
        ok = np.isfinite(y)
        if ok.sum() < 5:
            return math.nan
        slope, _ = np.polyfit(t[ok], y[ok], 1)
        return float(slope)


def ensemble_spread(system, n_steps=None, n_members=24, radius=None, *, x0=None, dt=None,
                    params=None, T=None, lyapunov_exponent=None, seed=0, backend="numba",
                    method="rk4", t0=0.0, bound=1e8, **deprecated):
    """A cloud of nearby initial conditions, integrated together, and how it spreads.

    Parameters
    ----------
    system : System or str
    n_steps : int, optional
        Samples per member (the release included). Default: ``horizon / dt``, at most
        20,000.
    n_members : int
        Members including the unperturbed reference (at least 2).
    radius : float, optional
        Initial distance of each perturbed member from ``x0`` (state units). Default
        ``1e-6 * max(1, max|x0|)``. Directions are random unit vectors (``seed``).
    x0 : array, optional
        Where the cloud is released (default the system's ``x0``).
    T : float, optional
        Length of the run in time units (iterations for maps), used when ``n_steps`` is
        not given. Default: 20 Lyapunov times ``20 / lyapunov_exponent`` when it is given
        and above 1e-3, or the catalog's reference exponent applies (default parameters),
        else 30 characteristic periods.
    lyapunov_exponent : float, optional
        The largest Lyapunov exponent, if known, to size the default ``T``.
    dt, params, backend, method, t0, bound :
        As in :func:`chaoslab.simulate`.

    Returns
    -------
    EnsembleSpread
        Times, member trajectories and their separations from the reference.
    """
    system = as_system(system)
    T = renamed_keyword(deprecated, "horizon", "T", T, func="ensemble_spread")
    lyapunov_exponent = renamed_keyword(deprecated, "exponent", "lyapunov_exponent",
                                        lyapunov_exponent, func="ensemble_spread")
    reject_unknown(deprecated, "ensemble_spread")
    n_members = check_int(n_members, "n_members", 2)
    h = 1.0 if system.is_map else (system.dt if dt is None else check_float(dt, "dt",
                                                                            positive=True))
    start = np.array(system.x0 if x0 is None else x0, dtype=float)
    if start.shape != (system.dim,):
        raise ValueError(f"{system.name}: x0 must have shape ({system.dim},), got "
                         f"{start.shape}")
    if not np.all(np.isfinite(start)):
        raise ValueError(f"{system.name}: x0 must be finite")
    if radius is None:
        radius = 1e-6 * max(1.0, float(np.max(np.abs(start))))
    radius = check_float(radius, "radius", positive=True)
    if n_steps is None:
        if T is None:
            lam = lyapunov_exponent
            if lam is None and params is None:
                lam = largest_lyapunov_exponent(system, compute=False)
            if lam is not None and np.isfinite(lam) and lam > 1e-3:
                T = 20.0 / lam
            else:
                T = 30.0 * system.period
        T = check_float(T, "T", positive=True)
        n_steps = int(min(20_000, max(10, round(T / h) + 1)))
    n_steps = check_int(n_steps, "n_steps", 2)
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_members - 1, system.dim))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    starts = np.vstack([start, start + radius * u])
    r = simulate(system, n_steps, dt=None if system.is_map else h, x0=starts, params=params,
                 backend=backend, method=method, t0=t0, bound=bound, on_diverge="ignore",
                 full_output=True)
    x = r.x
    if not isinstance(x, np.ndarray):  # a torch tensor
        x = x.detach().cpu().double().numpy()
    sep = np.linalg.norm(x[1:] - x[:1], axis=2)
    ref = x[0][np.all(np.isfinite(x[0]), axis=1)]
    size = float(np.linalg.norm(ref.max(axis=0) - ref.min(axis=0))) if len(ref) else math.nan
    return EnsembleSpread(t=r.t - r.t[0], x=x, separation=sep, d0=radius,
                          diverged=dict(r.diverged), size=size)


def trajectory_box(x, pad=0.05):
    """The extent of a trajectory per variable, padded: ``(dim, 2)`` of ``(low, high)``.

    Non-finite samples are ignored; a variable with no extent gets ``+-0.5`` around its
    value (``+-0.5`` around 0 if it has no finite sample).
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    out = np.empty((x.shape[-1], 2))
    flat = x.reshape(-1, x.shape[-1])
    for k in range(flat.shape[1]):
        col = flat[:, k]
        col = col[np.isfinite(col)]
        if not len(col):
            out[k] = (-0.5, 0.5)
            continue
        lo, hi = float(col.min()), float(col.max())
        span = hi - lo
        if span <= 0:
            out[k] = (lo - 0.5, hi + 0.5)
        else:
            out[k] = (lo - pad * span, hi + pad * span)
    return out
