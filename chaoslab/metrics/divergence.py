"""Forecast divergence: how fast each learner drifts from the true trajectory."""
from __future__ import annotations

from collections.abc import Mapping
import math
import time
from dataclasses import dataclass, field

import numpy as np

from .forecast import error_curve, valid_prediction_steps
from .statistics import power_spectrum_distance, state_space_divergence


@dataclass
class LearnerDivergence:
    """One learner's results in a :class:`ForecastDivergence`.

    ``curves`` holds the normalised error (see :func:`chaoslab.metrics.error_curve`) of
    every forecast, one row per start; ``median``, ``q_low`` and ``q_high`` are its
    pointwise median and quantiles; ``vpt`` the valid prediction time of each start in
    Lyapunov times.
    """

    name: str
    learner: object
    curves: np.ndarray
    median: np.ndarray
    q_low: np.ndarray
    q_high: np.ndarray
    vpt: np.ndarray
    fit_seconds: float
    forecast_seconds: float
    d_stsp: float = math.nan
    d_h: float = math.nan
    lyapunov: float = math.nan
    precision: np.ndarray | None = None
    example: np.ndarray | None = None    # the forecast from the first start (n_steps, dim)

    @property
    def vpt_median(self):
        return float(np.median(self.vpt))


@dataclass
class ForecastDivergence:
    """Result of :func:`forecast_divergence`; ``t`` is time since the last observed state
    in Lyapunov times, the common x axis of every curve."""

    system: str
    dt: float
    lyapunov_exponent: float
    threshold: float
    t: np.ndarray
    starts: np.ndarray
    truth: np.ndarray | None = None      # true continuation of the first start
    results: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.results[name]

    def summary(self):
        """One dict per learner: median VPT, its quartiles, timings and statistics."""
        rows = []
        for name, r in self.results.items():
            rows.append({"learner": name, "vpt_median": r.vpt_median,
                         "vpt_q25": float(np.quantile(r.vpt, 0.25)),
                         "vpt_q75": float(np.quantile(r.vpt, 0.75)),
                         "fit_seconds": r.fit_seconds, "forecast_seconds": r.forecast_seconds,
                         "d_stsp": r.d_stsp, "d_h": r.d_h, "lyapunov": r.lyapunov,
                         "lyapunov_error": abs(r.lyapunov - self.lyapunov_exponent)
                         / self.lyapunov_exponent})
        return rows

    def table(self):
        """The summary as aligned text."""
        head = (f"{self.system}: lambda_max = {self.lyapunov_exponent:.4g} per unit time, "
                f"dt = {self.dt:g}, {len(self.starts)} starts, threshold {self.threshold}")
        rows = self.summary()
        w = max([len("learner")] + [len(r["learner"]) for r in rows])
        lines = [head, f"{'learner':<{w}} {'VPT (Lyap. times) [q25, q75]':>29} {'fit s':>8} "
                 f"{'forecast s':>10} {'D_stsp':>8} {'D_H':>6} {'lambda':>8}"]
        for r in rows:
            vpt = f"{r['vpt_median']:.2f} [{r['vpt_q25']:.2f}, {r['vpt_q75']:.2f}]"
            lines.append(f"{r['learner']:<{w}} {vpt:>29} {r['fit_seconds']:>8.2f} "
                         f"{r['forecast_seconds']:>10.3f} {r['d_stsp']:>8.3f} {r['d_h']:>6.3f} "
                         f"{r['lyapunov']:>8.3f}")
        return "\n".join(lines)


def _as_learner(item):
    from .. import learners

    if isinstance(item, learners.Learner):
        return item.name, item
    if isinstance(item, str):
        return item, learners.make(item)
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], dict):
        return str(item[0]), learners.make(item[0], **item[1])
    raise TypeError(f"a learner must be a name, (name, hyperparameters) or a Learner; "
                    f"got {item!r}")


def system_exponent(system, dt=None):
    """The largest Lyapunov exponent of ``system``: its recorded reference when the
    parameters are the catalog defaults, otherwise computed with
    :func:`chaoslab.lyapunov_spectrum`."""
    ref = getattr(system, "reference", None) or {}
    lam = ref.get("max_lyapunov")
    try:
        from .. import systems
        base = systems.get(system.name)
        same = base.values == system.values
    except Exception:
        same = False
    if lam is not None and same:
        return float(lam)
    from ..analysis import lyapunov_spectrum
    return float(lyapunov_spectrum(system, dt=dt, n_exponents=1)[0])


def default_dt(system, lyapunov_exponent=None):
    """The sampling interval forecasts are measured at: at least 100 samples per Lyapunov
    time and at least 100 per characteristic period (the catalog's ``period``, the
    granularity of Gilpin's forecasting benchmark), ``min(1 / (100 lambda), period / 100)``
    rounded down to one significant digit, never finer than the system's own step; maps: 1.

    Lorenz gets 0.01, the forecasting literature's choice. The period bound matters for
    weakly chaotic flows such as Rossler (lambda 0.07, period 5.9): at 100 samples per
    Lyapunov time (dt 0.1) its z spike grows by a factor of about 1.8 between two samples,
    beyond what NG-RC's quadratic step map can follow; the rule gives 0.05."""
    if system.is_map:
        return 1.0
    lam = lyapunov_exponent if lyapunov_exponent is not None else system_exponent(system)
    bounds = []
    if lam > 0 and math.isfinite(lam):
        bounds.append(1.0 / (100.0 * lam))
    period = getattr(system, "period", None)
    if period is not None and period > 0 and math.isfinite(period):
        bounds.append(float(period) / 100.0)
    if not bounds:
        return float(system.dt)
    raw = min(bounds)
    mag = 10.0 ** math.floor(math.log10(raw))
    return max(float(system.dt), math.floor(raw / mag) * mag)      # one digit, rounded down


def forecast_divergence(system, learners, *, n_train=10_000, dt=None, n_starts=20,
                        horizon=15.0, context=200, lyapunov_exponent=None, threshold=0.4,
                        quantiles=(0.25, 0.75), statistics=True, n_free=5000,
                        lyapunov=False, precision=False, x0=None, seed=0, progress=None,
                        cancel=None):
    """Train learners on a system and measure how fast their forecasts diverge.

    A trajectory of ``system`` is simulated (after a transient of 2,000 samples): its
    first ``n_train`` samples train every learner that is not fitted yet; from the
    held-out rest, ``n_starts`` start points spaced two Lyapunov times apart each give
    ``context`` observed rows and the true continuation. Every learner forecasts from
    every start (one batched call); the normalised error curves (see
    :func:`chaoslab.metrics.error_curve`, scaled by the training data's standard
    deviations) give the median and quantile curves and the valid prediction time of each
    start (first crossing of ``threshold``), in Lyapunov times.

    With ``statistics=True`` each learner also free-runs ``n_free`` samples from the first
    start, compared with the truth by :func:`state_space_divergence` and
    :func:`power_spectrum_distance`; ``lyapunov=True`` adds the learned model's largest
    exponent; ``precision=True`` adds, for torch learners, the divergence between its
    float32 and bfloat16 rollouts from the same start.

    Parameters
    ----------
    system : str or System
    learners : list of names, (name, hyperparameters) pairs or Learner objects
        Fitted learners are used as they are. A dict ``{label: learner}`` (values as in
        the list) labels the results, e.g. two settings of one learner.
    dt : float, optional
        Sampling interval; by default :func:`default_dt` (at least 100 samples per
        Lyapunov time and per characteristic period; Lorenz 0.01).
    horizon : float
        Forecast length in Lyapunov times.
    lyapunov_exponent : float, optional
        The system's largest exponent; by default its recorded reference value (computed
        when the parameters differ from the catalog's).
    progress : callable(fraction, message), optional
    cancel : threading.Event or callable, optional

    Returns
    -------
    ForecastDivergence
    """
    from .. import systems
    from ..integrate import simulate
    from ..learners.base import FitCancelled, _Reporter

    report = _Reporter(progress, cancel)
    s = systems.get(system) if isinstance(system, str) else system
    lam = (float(lyapunov_exponent) if lyapunov_exponent is not None
           else system_exponent(s, None if dt is None else float(dt)))
    dt = float(dt) if dt is not None else default_dt(s, lam)
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if not math.isfinite(lam) or lam <= 0:
        raise ValueError(f"{s.name} has largest Lyapunov exponent {lam:.3g} (not chaotic "
                         "here): forecast times in Lyapunov times are undefined; pass "
                         "lyapunov_exponent= to use another time scale")
    if isinstance(learners, Mapping):
        items = [(str(label), _as_learner(spec)[1]) for label, spec in learners.items()]
    else:
        items = [_as_learner(item) for item in learners]
    if not items:
        raise ValueError("no learners given")
    labels = [label for label, _ in items]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ValueError(f"learner {twice[0]!r} is given twice; to compare two settings of "
                         "one learner, pass a dict {label: (name, hyperparameters)}")
    n_h = max(1, int(round(horizon / (lam * dt))))
    gap = max(1, int(round(2.0 / (lam * dt))))
    context = int(max([context] + [lrn.context_length for _, lrn in items]))
    n_test = context + n_h + (int(n_starts) - 1) * gap
    n_test = max(n_test, context + int(n_free) if statistics else 0)
    report(0.0, "simulating")
    # sample every dt, integrating with the system's own step (or finer)
    sub = 1 if s.is_map else max(1, math.ceil(dt / s.dt - 1e-9))
    X = simulate(s, int(n_train) + n_test, dt=dt, x0=x0, transient=2000, substeps=sub,
                 on_diverge="raise")
    train, test = X[:int(n_train)], X[int(n_train):]
    scale = train.std(axis=0)
    starts = np.arange(int(n_starts)) * gap
    ctx = np.stack([test[i:i + context] for i in starts])
    truth = np.stack([test[i + context:i + context + n_h] for i in starts])
    out = ForecastDivergence(s.name, dt, lam, float(threshold), np.arange(1, n_h + 1) * dt * lam,
                             starts, truth=truth[0])
    names_seen = {}
    for k, (name, lrn) in enumerate(items):
        if name in names_seen:
            names_seen[name] += 1
            name = f"{name} ({names_seen[name]})"
        else:
            names_seen[name] = 1
        frac0, frac1 = k / len(items), (k + 1) / len(items)
        report(frac0, f"training {name}")
        t0 = time.perf_counter()
        if not lrn.is_fitted:
            lrn.fit(train, dt,
                    progress=lambda f, m, a=frac0, b=frac1, n=name: report(a + 0.7 * (b - a) * f,
                                                                            f"{n}: {m}"),
                    cancel=cancel)
        fit_s = time.perf_counter() - t0
        report(frac0 + 0.7 * (frac1 - frac0), f"forecasting with {name}")
        t0 = time.perf_counter()
        pred = lrn.forecast(ctx, n_h)
        fc_s = time.perf_counter() - t0
        curves = error_curve(truth, pred, scale)
        vpt = valid_prediction_steps(curves, threshold) * dt * lam
        finite = np.where(np.isfinite(curves), curves, np.inf)
        r = LearnerDivergence(name, lrn, curves, np.median(finite, axis=0),
                              np.quantile(finite, quantiles[0], axis=0),
                              np.quantile(finite, quantiles[1], axis=0), vpt, fit_s, fc_s,
                              example=pred[0])
        if statistics:
            if report._cancelled():
                raise FitCancelled("cancelled")
            free = lrn.forecast(test[:context], int(n_free))
            true_free = test[context:context + int(n_free)]
            r.d_stsp = state_space_divergence(true_free, free)
            r.d_h = power_spectrum_distance(true_free, free)
        if lyapunov:
            try:
                r.lyapunov = float(lrn.lyapunov_exponent(test[:context]))
            except NotImplementedError:
                pass
        if precision and getattr(lrn, "uses_torch", False):
            from ..learners.torch_base import precision_divergence
            r.precision = precision_divergence(lrn, test[:context], n_h)
        out.results[name] = r
    report(1.0, "done")
    return out
