"""The 0-1 test for chaos (Gottwald and Melbourne), median over frequencies.

For a scalar observable ``phi(j)`` sampled at ``j = 1 .. N`` and a frequency ``c``, the
translation variables ``p_c(n) = sum_{j<=n} phi(j) cos(j c)`` and ``q_c(n) = sum_{j<=n}
phi(j) sin(j c)`` stay bounded for regular motion and behave like a Brownian motion for
chaotic motion. The growth rate of their mean square displacement, corrected for its
oscillatory term, is measured by the correlation ``K_c`` between the displacement and the
lag ``n``; the test returns the median of ``K_c`` over frequencies drawn from
``(pi/5, 4 pi/5)`` (the "modified" test of Gottwald and Melbourne 2009, which avoids the
resonances near 0 and pi). ``K`` is near 1 for chaos and near 0 for regular motion.

The test assumes the series is not oversampled: successive samples of a flow should be a
sizeable fraction of its mean period apart. Given a flow, :func:`chaos_test_01` samples it
every quarter of its dominant period (from its power spectrum) unless told otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_choice, check_finite_array, check_float, check_int

__all__ = ["chaos_test_01", "Chaos01Result"]


@dataclass(frozen=True)
class Chaos01Result:
    """``K``: the median over frequencies (near 1: chaos, near 0: regular motion);
    ``K_c``: each frequency's correlation; ``c``: the frequencies; ``sample_time``: the
    time between samples of a flow (``None`` for a map or a given series)."""

    K: float
    K_c: np.ndarray
    c: np.ndarray
    sample_time: float | None = None

    def __float__(self) -> float:
        return float(self.K)


def _displacement(phi, c, n_cut):
    """Mean square displacement ``M_c(n)`` for ``n = 1 .. n_cut`` and every ``c``
    (rows), with the sum over ``j`` computed as an FFT correlation."""
    N = phi.size
    j = np.arange(1, N + 1)
    # p + i q as one complex series per frequency
    z = np.cumsum(phi[None, :] * np.exp(1j * np.outer(c, j)), axis=1)
    L = N - n_cut  # every lag averages over the same L starting points
    n = np.arange(1, n_cut + 1)
    sq = np.abs(z) ** 2
    csum = np.concatenate([np.zeros((len(c), 1)), np.cumsum(sq, axis=1)], axis=1)
    # sum_{j<L} |z(j+n)|^2 and sum_{j<L} |z(j)|^2
    head = csum[:, L][:, None]
    shifted = csum[:, n + L] - csum[:, n]
    # sum_{j<L} Re(z(j+n) conj(z(j))) by FFT cross-correlation
    size = 1 << int(np.ceil(np.log2(N + L)))
    A = np.fft.fft(z, size, axis=1)
    B = np.fft.fft(z[:, :L], size, axis=1)
    cross = np.fft.ifft(A * np.conj(B), axis=1)[:, n].real
    return (shifted + head - 2.0 * cross) / L


def _k_from_series(phi, c, n_cut, noise, rng):
    M = _displacement(phi, c, n_cut)
    n = np.arange(1, n_cut + 1)
    mean = phi.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        V = mean ** 2 * (1.0 - np.cos(np.outer(c, n))) / (1.0 - np.cos(c))[:, None]
    D = M - V
    if noise > 0:
        # a small independent term keeps K near 0 for exactly periodic series, where
        # D is a pure oscillation and its correlation with n is not defined well
        D = D + noise * rng.uniform(-0.5, 0.5, size=D.shape)
    nc = n - n.mean()
    Dc = D - D.mean(axis=1, keepdims=True)
    den = np.sqrt((nc ** 2).sum() * (Dc ** 2).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        K_c = np.where(den > 0, (Dc @ nc) / den, 0.0)
    return K_c


def _dominant_period(x, h):
    f = np.fft.rfftfreq(x.size, h)
    P = np.abs(np.fft.rfft(x - x.mean())) ** 2
    P[0] = 0.0
    k = int(np.argmax(P))
    return None if k == 0 else 1.0 / f[k]


def chaos_test_01(data, *, n_samples: int = 5000, sample_time=None, observable=0,
                  n_c: int = 100, n_cut=None, noise: float = 0.5, seed=0, params=None,
                  transient=None) -> Chaos01Result:
    """The 0-1 test for chaos: ``K`` near 1 for chaotic motion, near 0 for regular.

    ``data`` is a 1-D series (used as it is) or a system (a catalog name, a typed
    :class:`~chaoslab.systems.System`). A system is simulated from its default start with
    ``params`` after ``transient`` (time units; default 100, or 1000 iterates of a map) and
    ``observable`` (a variable's index or name) is recorded ``n_samples`` times: every
    iterate of a map, every ``sample_time`` time units for a flow (default a quarter of
    the dominant period of the observable, so the series is not oversampled).

    ``n_c`` frequencies are drawn in ``(pi/5, 4 pi/5)`` with ``seed``; ``n_cut`` lags
    (default ``N // 10``) enter each correlation; ``noise`` is the amplitude, relative to
    the observable's standard deviation, of the small uniform term added to the corrected
    displacement (Gottwald and Melbourne's regularisation; 0 turns it off).
    """
    n_c = check_int(n_c, "n_c", 1)
    noise = check_float(noise, "noise", nonnegative=True)
    rng = np.random.default_rng(seed)
    h_sample = None
    if isinstance(data, str) or hasattr(data, "exprs"):
        system = as_system(data)
        if params:
            system = system.with_params(**params)
        n_samples = check_int(n_samples, "n_samples", 100)
        if isinstance(observable, str):
            observable = check_choice(observable, "observable", system.variables)
            observable = list(system.variables).index(observable)
        observable = check_int(observable, "observable", 0, system.dim - 1)
        from ..integrate import simulate

        if transient is None:
            transient = 1000 * system.dt if system.is_map else 100.0
        if system.is_map:
            x = simulate(system, n_samples, transient=transient)[:, observable]
        else:
            h = system.dt
            if sample_time is None:
                pilot = simulate(system, 8192, transient=transient)[:, observable]
                period = _dominant_period(pilot, h)
                sample_time = h if period is None else max(h, period / 4.0)
            sample_time = check_float(sample_time, "sample_time", positive=True)
            every = max(1, int(round(sample_time / h)))
            h_sample = every * h
            x = simulate(system, n_samples * every, transient=transient)[every - 1::every,
                                                                         observable]
    else:
        x = check_finite_array(data, "data", ndim=1)
        if x.size < 100:
            raise ValueError(f"data: the 0-1 test needs at least 100 samples, got {x.size}")
    x = np.asarray(x, dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("data: the series holds NaN or inf (the simulation diverged)")
    N = x.size
    n_cut = N // 10 if n_cut is None else check_int(n_cut, "n_cut", 2, N // 2)
    c = rng.uniform(np.pi / 5, 4 * np.pi / 5, n_c)
    scale = float(np.std(x))
    K_c = _k_from_series(x, c, n_cut, noise * scale, rng)
    return Chaos01Result(K=float(np.median(K_c)), K_c=K_c, c=c, sample_time=h_sample)
