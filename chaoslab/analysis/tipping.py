"""Early-warning signals of a critical transition: critical slowing down in a series.

As a parameter approaches a bifurcation where a stable state loses stability, the state's
recovery from small perturbations slows: in a noisy series the fluctuations about the
trend grow (variance) and become more correlated from one sample to the next (lag-1
autocorrelation); skewness can change as the potential becomes asymmetric (Scheffer et al.
2009, "Early-warning signals for critical transitions", Nature 461, 53-59; Dakos et al.
2012, "Methods for detecting early warnings of critical transitions in time series
illustrated using simulated ecological data", PLoS ONE 7, e41010).

The series is detrended (a Gaussian kernel smoother or a straight line), the indicators are
computed over a rolling window of the residuals, and the strength of each trend is
Kendall's tau between the indicator and time. Window and bandwidth are fractions of the
series' length, so the same settings hold at any sampling rate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems import as_system
from ..validation import check_choice, check_finite_array, check_float, check_int

__all__ = ["early_warning", "EarlyWarningResult", "rolling_indicators", "ramp_run"]


@dataclass(frozen=True)
class EarlyWarningResult:
    """``t``: sample times; ``trend`` and ``residuals`` of the series; ``indicators``:
    ``{name: array}`` (NaN until the first full window, each value computed over the
    window that ends at that sample); ``tau``: ``{name: Kendall's tau}`` against time."""

    t: np.ndarray
    trend: np.ndarray
    residuals: np.ndarray
    indicators: dict
    tau: dict
    window: int


def _windows(c, w):
    """Sums over every window of ``w`` consecutive terms from a cumulative sum ``c``
    (with a leading 0)."""
    return c[w:] - c[:-w]


def rolling_indicators(r, w: int) -> dict:
    """Variance (ddof 1), lag-1 autocorrelation, skewness (adjusted Fisher-Pearson, as
    pandas' ``rolling().skew()``) and standard deviation of ``r`` over windows of ``w``
    samples; each array has ``len(r)`` entries, NaN before the first full window."""
    r = np.asarray(r, dtype=float)
    n = r.size
    if not 3 <= w <= n:
        raise ValueError(f"the rolling window must hold 3 to {n} samples, got {w}")
    mu0 = r.mean()
    x = r - mu0  # centre once for round-off

    def cs(a):
        return np.concatenate([[0.0], np.cumsum(a)])

    s1, s2, s3 = (_windows(cs(x ** k), w) for k in (1, 2, 3))
    m = s1 / w
    var = (s2 - w * m * m) / (w - 1)
    m2 = s2 / w - m * m  # biased central moments
    m3 = s3 / w - 3 * m * (s2 / w) + 2 * m ** 3
    with np.errstate(invalid="ignore", divide="ignore"):
        g1 = m3 / m2 ** 1.5
        skew = np.sqrt(w * (w - 1)) / (w - 2) * g1
    # lag-1 autocorrelation: Pearson correlation of the w-1 pairs (x_i, x_{i+1})
    a, b = x[:-1], x[1:]
    k = w - 1
    sa, sb = _windows(cs(a), k), _windows(cs(b), k)
    saa, sbb = _windows(cs(a * a), k), _windows(cs(b * b), k)
    sab = _windows(cs(a * b), k)
    cov = sab - sa * sb / k
    va = saa - sa * sa / k
    vb = sbb - sb * sb / k
    with np.errstate(invalid="ignore", divide="ignore"):
        ac1 = cov / np.sqrt(va * vb)
    pad = np.full(w - 1, np.nan)
    var = np.maximum(var, 0.0)
    return {"variance": np.concatenate([pad, var]),
            "std": np.concatenate([pad, np.sqrt(var)]),
            "ac1": np.concatenate([pad, ac1]),
            "skewness": np.concatenate([pad, skew])}


def early_warning(x, t=None, *, window: float = 0.5, detrend="gaussian",
                  bandwidth: float = 0.2, stop=None) -> EarlyWarningResult:
    """Early-warning indicators of a scalar series ``x`` (sampled at times ``t``, default
    0, 1, 2, ...).

    ``detrend``: ``"gaussian"`` (subtract a Gaussian kernel smoothing whose standard
    deviation is ``bandwidth`` times the series' length), ``"linear"`` or ``None``.
    ``window``: the rolling window, a fraction of the length. ``stop``: use only the
    samples before this time (e.g. the transition, when one has happened). Kendall's tau
    of each indicator against time measures its trend: near +1 for a steady rise, near 0
    for none.
    """
    from scipy.ndimage import gaussian_filter1d
    from scipy.stats import kendalltau

    x = check_finite_array(x, "x", ndim=1)
    if t is None:
        t = np.arange(x.size, dtype=float)
    else:
        t = check_finite_array(t, "t", ndim=1)
        if t.size != x.size:
            raise ValueError(f"t has {t.size} samples but x has {x.size}")
        if np.any(np.diff(t) <= 0):
            raise ValueError("t must increase strictly")
    if stop is not None:
        stop = check_float(stop, "stop")
        keep = t < stop
        x, t = x[keep], t[keep]
    if x.size < 20:
        raise ValueError(f"x: early-warning indicators need at least 20 samples, got {x.size}")
    window = check_float(window, "window", positive=True)
    if window > 1:
        raise ValueError(f"window is a fraction of the series' length in (0, 1], got {window}")
    detrend = check_choice(detrend, "detrend", ("gaussian", "linear", None))
    if detrend == "gaussian":
        bandwidth = check_float(bandwidth, "bandwidth", positive=True)
        trend = gaussian_filter1d(x, bandwidth * x.size, mode="reflect")
    elif detrend == "linear":
        trend = np.polyval(np.polyfit(t, x, 1), t)
    else:
        trend = np.zeros_like(x)
    res = x - trend
    w = max(3, int(round(window * x.size)))
    ind = rolling_indicators(res, w)
    tau = {}
    for name, v in ind.items():
        ok = np.isfinite(v)
        tau[name] = float(kendalltau(t[ok], v[ok])[0]) if ok.sum() > 2 else float("nan")
    return EarlyWarningResult(t=t, trend=trend, residuals=res, indicators=ind, tau=tau,
                              window=w)


def ramp_run(system, parameter: str, values: tuple, T, *, noise: float = 0.0, dt=None,
             x0=None, seed=0, transient=None):
    """A run in which ``parameter`` moves linearly from ``values[0]`` to ``values[1]``
    over ``T`` time units (iterates of a map), with additive noise.

    A map is iterated as ``x_{n+1} = g(x_n; p_n) + noise * xi_n``; a flow is integrated
    (RK4 at the system's step) over each sample interval ``dt`` (default the system's
    ``dt``) with the parameter at the interval's middle, then kicked by ``noise *
    sqrt(dt) * xi`` (additive white noise of intensity ``noise``, applied once per
    sample). ``xi`` are independent standard normal vectors drawn with ``seed``. The run
    starts from ``x0`` (default the system's) after ``transient`` time units at
    ``values[0]`` without noise (default 0). Returns ``(t, x, p)``: times, states
    ``(n, dim)`` and the parameter at each sample.
    """
    system = as_system(system)
    if parameter not in system.params:
        raise ValueError(f"parameter: {parameter!r} is not a parameter of {system.name}; "
                         f"allowed: {list(system.params)}")
    try:
        a, b = (check_float(v, "values") for v in values)
    except TypeError:
        raise ValueError(f"values must be a pair (start, stop), got {values!r}") from None
    T = check_float(T, "T", positive=True)
    noise = check_float(noise, "noise", nonnegative=True)
    h = 1.0 if system.is_map else (system.dt if dt is None else check_float(dt, "dt",
                                                                             positive=True))
    n = int(round(T / h))
    n = check_int(n, "T / dt", 2, 10_000_000)
    rng = np.random.default_rng(seed)
    from ..integrate import simulate

    z = np.array(system.x0 if x0 is None else x0, dtype=float).reshape(system.dim)
    if transient:
        z = np.asarray(simulate(system.with_params(**{parameter: a}), 1, x0=z,
                                transient=transient)).reshape(system.dim)
    p = a + (b - a) * np.arange(n) / max(n - 1, 1)
    out = np.empty((n, system.dim))
    out[0] = z
    kicks = rng.normal(size=(n, system.dim))
    if system.is_map:
        pv = np.broadcast_to(system.param_vector, (n, len(system.params))).copy()
        pv[:, system.params.index(parameter) if hasattr(system.params, "index")
           else list(system.params).index(parameter)] = p
        for i in range(1, n):
            z = system.rhs(z, params=pv[i - 1]) + noise * kicks[i]
            if not np.all(np.isfinite(z)):
                out[i:] = np.nan
                break
            out[i] = z
    else:
        sub = max(1, int(round(h / system.dt)))
        for i in range(1, n):
            mid = 0.5 * (p[i - 1] + p[i])
            z = np.asarray(simulate(system, 2, dt=h, substeps=sub, x0=z, t0=(i - 1) * h,
                                    params={parameter: mid}, on_diverge="ignore"))[-1]
            z = z + noise * np.sqrt(h) * kicks[i]
            if not np.all(np.isfinite(z)):
                out[i:] = np.nan
                break
            out[i] = z
    return np.arange(n) * h, out, p
