"""Forecast divergence: how fast each learner drifts from the true trajectory.

:func:`forecast_divergence` is the convenient call; it composes three public steps that a
sweep or a protocol can run separately (e.g. one :func:`prepare` shared by many
:func:`evaluate` calls on workers):

>>> data = prepare("Lorenz", n_train=5000, n_starts=8)           # doctest: +SKIP
>>> results = [evaluate(name, name, data) for name in ("ngrc", "esn")]  # doctest: +SKIP
>>> res = collect(data, results)                                  # doctest: +SKIP

Every step runs in a :class:`~chaoslab.experiments.protocols.Protocol`, the setting of a
published paper by name (``protocol="gilpin2023"``) or chaoslab's default
(``"chaoslab"``): it sets the sampling, the lengths, the starts, the VPT definition and
the extra metrics; explicit keyword arguments override it.
"""
from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..analysis.exponent import largest_lyapunov_exponent
from ..integrate import DivergenceWarning
from ..metrics.forecast import error_curve, nrmse, smape, smape_at, valid_prediction_steps
from ..metrics.statistics import power_spectrum_distance, state_space_divergence
from ..progress import Reporter, as_reporter
from ..validation import check_choice, check_int, reject_unknown, renamed_keyword
from .protocols import Protocol, ProtocolSettings, as_protocol, resolve

__all__ = ["forecast_divergence", "prepare", "evaluate", "collect", "DivergenceData",
           "ForecastDivergence", "LearnerDivergence", "default_dt"]


@dataclass
class LearnerDivergence:
    """One learner's results in a :class:`ForecastDivergence`.

    ``curves`` holds the normalised error (see :func:`chaoslab.metrics.error_curve`) of
    every forecast, one row per start; ``median``, ``q_low`` and ``q_high`` are its
    pointwise median and quantiles; ``vpt`` the valid prediction time of each start in
    Lyapunov times, in the protocol's definition; ``metrics`` the protocol's further
    metrics, one value per start (``{"nrmse": ..., "smape@1": ...}``).
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
    lyapunov_exponent: float = math.nan  # of the learned model (``learned_exponent=True``)
    precision: np.ndarray | None = None
    example: np.ndarray | None = None    # the forecast from the first start (n_steps, dim)
    metrics: dict = field(default_factory=dict)   # protocol metric -> (n_starts,) values

    @property
    def vpt_median(self):
        return float(np.median(self.vpt))

    @property
    def lyapunov(self):
        """Deprecated name of :attr:`lyapunov_exponent`."""
        warnings.warn("LearnerDivergence.lyapunov is deprecated; use .lyapunov_exponent",
                      DeprecationWarning, stacklevel=2)
        return self.lyapunov_exponent


@dataclass
class ForecastDivergence:
    """Result of :func:`forecast_divergence`; ``t`` is time since the last observed state
    in Lyapunov times, the common x axis of every curve. ``protocol`` is the
    :class:`~chaoslab.experiments.protocols.Protocol` that ran, ``settings`` its numbers
    for this system with any explicit overrides (``settings.overrides``); the VPTs are in
    its definition ``vpt_method`` with ``threshold``."""

    system: str
    dt: float
    lyapunov_exponent: float
    threshold: float
    t: np.ndarray
    starts: np.ndarray
    truth: np.ndarray | None = None      # true continuation of the first start
    results: dict = field(default_factory=dict)
    vpt_method: str = "nrmse"
    protocol: Protocol | None = None
    settings: ProtocolSettings | None = None

    def __getitem__(self, name):
        return self.results[name]

    @property
    def protocol_name(self) -> str:
        return self.protocol.name if self.protocol is not None else ""

    def summary(self):
        """One dict per learner: median VPT (in the protocol's definition) and its
        quartiles, the median over starts of each of the protocol's metrics (``nrmse``,
        ``smape``, ``smape@1``, ...), timings and statistics."""
        rows = []
        for name, r in self.results.items():
            row = {"learner": name, "vpt_median": r.vpt_median,
                   "vpt_q25": float(np.quantile(r.vpt, 0.25)),
                   "vpt_q75": float(np.quantile(r.vpt, 0.75))}
            for key, values in r.metrics.items():
                row[key] = float(np.median(values))
            row.update({"fit_seconds": r.fit_seconds, "forecast_seconds": r.forecast_seconds,
                        "d_stsp": r.d_stsp, "d_h": r.d_h,
                        "lyapunov_exponent": r.lyapunov_exponent,
                        "lyapunov_error": abs(r.lyapunov_exponent - self.lyapunov_exponent)
                        / self.lyapunov_exponent})
            rows.append(row)
        return rows

    def table(self):
        """The summary as aligned text."""
        head = (f"{self.system}: lambda_max = {self.lyapunov_exponent:.4g} per unit time, "
                f"dt = {self.dt:g}, {len(self.starts)} starts, VPT: {self.vpt_method} > "
                f"{self.threshold:g}")
        if self.protocol is not None:
            head += f", protocol {self.protocol.name}"
            if self.settings is not None and self.settings.overrides:
                head += " (" + ", ".join(f"{k}={v!r}" for k, v in
                                         self.settings.overrides.items()) + ")"
        rows = self.summary()
        extra = list(self.results[next(iter(self.results))].metrics) if self.results else []
        w = max([len("learner")] + [len(r["learner"]) for r in rows])
        lines = [head, f"{'learner':<{w}} {'VPT (Lyap. times) [q25, q75]':>29} "
                 + "".join(f"{k:>9} " for k in extra)
                 + f"{'fit s':>8} {'forecast s':>10} {'D_stsp':>8} {'D_H':>6} {'lambda':>8}"]
        for r in rows:
            vpt = f"{r['vpt_median']:.2f} [{r['vpt_q25']:.2f}, {r['vpt_q75']:.2f}]"
            lines.append(f"{r['learner']:<{w}} {vpt:>29} "
                         + "".join(f"{r[k]:>9.4g} " for k in extra)
                         + f"{r['fit_seconds']:>8.2f} "
                         f"{r['forecast_seconds']:>10.3f} {r['d_stsp']:>8.3f} {r['d_h']:>6.3f} "
                         f"{r['lyapunov_exponent']:>8.3f}")
        return "\n".join(lines)


@dataclass
class DivergenceData:
    """The data of one forecast-divergence experiment, from :func:`prepare`.

    ``train`` ``(n_train, dim)`` trains the learners; ``test`` is the held-out rest of the
    same trajectory. Start ``k`` observes ``contexts[k]`` ``(context, dim)``, the rows
    ``test[starts[k]:starts[k] + context]``, and its true continuation is ``truths[k]``
    ``(n_steps, dim)``. Errors are scaled by ``scale``, the training data's standard
    deviation per variable; ``t`` is each forecast step's time in Lyapunov times;
    ``n_free`` true samples after the first context are kept for free-run statistics (0:
    none). A VPT is the first crossing of ``threshold`` in the definition ``vpt_method``;
    ``settings`` holds the protocol's numbers (and metrics) for this system, and
    ``total_variance`` the total variance of the simulated data the protocol's NRMSE
    divides by.
    """

    system: object
    dt: float
    lyapunov_exponent: float
    threshold: float
    train: np.ndarray
    test: np.ndarray
    scale: np.ndarray
    starts: np.ndarray
    contexts: np.ndarray
    truths: np.ndarray
    n_free: int = 0
    vpt_method: str = "nrmse"
    settings: ProtocolSettings | None = None
    total_variance: float = math.nan

    @property
    def context(self) -> int:
        """Rows each start observes."""
        return int(self.contexts.shape[1])

    @property
    def n_steps(self) -> int:
        """Forecast length in samples."""
        return int(self.truths.shape[1])

    @property
    def t(self) -> np.ndarray:
        """Time since the last observed state, in Lyapunov times, of each forecast step."""
        return np.arange(1, self.n_steps + 1) * self.dt * self.lyapunov_exponent


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


def _as_learners(learners):
    """``[(label, Learner)]`` from a list or a ``{label: spec}`` dict; labels unique."""
    from .. import learners as _learners_module

    if isinstance(learners, (str, _learners_module.Learner)):  # one learner
        learners = [learners]
    if isinstance(learners, Mapping):
        items = [(str(label), _as_learner(spec)[1]) for label, spec in learners.items()]
    elif isinstance(learners, (list, tuple)):
        items = [_as_learner(item) for item in learners]
    else:
        raise TypeError(f"learners must be a list of learner names, (name, hyperparameters) "
                        f"pairs or Learner objects, or a dict of them, got "
                        f"{type(learners).__name__} {learners!r:.60}")
    if not items:
        raise ValueError("learners: no learners given")
    labels = [label for label, _ in items]
    twice = sorted({x for x in labels if labels.count(x) > 1})
    if twice:
        raise ValueError(f"learner {twice[0]!r} is given twice; to compare two settings of "
                         "one learner, pass a dict {label: (name, hyperparameters)}")
    return items


def _cancelled_error():
    from ..learners import FitCancelled

    return FitCancelled


def default_dt(system, lyapunov_exponent=None):
    """The sampling interval forecasts are measured at: at least 100 samples per Lyapunov
    time and at least 100 per characteristic period (the catalog's ``period``, the
    granularity of Gilpin's forecasting benchmark), ``min(1 / (100 lambda), period / 100)``
    rounded down to one significant digit, never finer than the system's own step; maps: 1.

    Lorenz gets 0.01, the forecasting literature's choice. The period bound matters for
    weakly chaotic flows such as Rossler (lambda 0.07, period 5.9): at 100 samples per
    Lyapunov time (dt 0.1) its z spike grows by a factor of about 1.8 between two samples,
    beyond what NG-RC's quadratic step map can follow; the rule gives 0.05.

    ``lyapunov_exponent`` defaults to :func:`chaoslab.analysis.largest_lyapunov_exponent`
    (the recorded value at the catalog's parameters, else computed)."""
    if system.is_map:
        return 1.0
    lam = (lyapunov_exponent if lyapunov_exponent is not None
           else largest_lyapunov_exponent(system))
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


def prepare(system, *, protocol=None, n_train=None, dt=None, n_starts=None, horizon=None,
            context=None, transient=None, lyapunov_exponent=None, threshold=None,
            vpt_method=None, n_free=5000, x0=None, min_context=0, progress=None,
            cancel=None) -> DivergenceData:
    """Simulate the data of a forecast-divergence experiment (step 1 of
    :func:`forecast_divergence`).

    One trajectory of ``system`` sampled every ``dt`` (after a transient, integrated with
    the system's own step or finer): its first ``n_train`` samples are the training data;
    from the held-out rest, ``n_starts`` start points a fixed spacing apart each give
    ``context`` observed rows and the true continuation over ``horizon`` Lyapunov times;
    ``n_free`` further true samples after the first context are kept for free-run
    statistics (0: none). The ``protocol`` (default ``"chaoslab"``: 2,000 samples of
    transient, 10,000 training samples, 20 starts two Lyapunov times apart, 200 context
    rows, 15 Lyapunov times) sets every value not given; ``min_context`` raises the
    context to at least that many rows.

    Parameters are as in :func:`forecast_divergence`.

    Returns
    -------
    DivergenceData
    """
    from .. import systems
    from ..integrate import simulate

    report = as_reporter(progress, cancel, error=_cancelled_error())
    s = systems.as_system(system)
    n_free = check_int(n_free, "n_free", 0)
    st = resolve(protocol, s, lyapunov_exponent=lyapunov_exponent, dt=dt, n_train=n_train,
                 transient=transient, context=context, horizon=horizon, n_starts=n_starts,
                 threshold=threshold, vpt_method=vpt_method, min_context=min_context)
    dt, lam, context = st.dt, st.lyapunov_exponent, st.context
    n_train, n_h, gap = st.n_train, st.n_steps, st.gap
    n_test = context + n_h + (st.n_starts - 1) * gap
    n_test = max(n_test, context + n_free)
    report(0.0, "simulating")
    # sample every dt, integrating with the system's own step (or finer)
    sub = 1 if s.is_map else max(1, math.ceil(dt / s.dt - 1e-9))
    X = simulate(s, n_train + n_test, dt=dt, x0=x0, transient=st.transient, substeps=sub,
                 on_diverge="raise")
    train, test = X[:n_train], X[n_train:]
    starts = np.arange(st.n_starts) * gap
    ctx = np.stack([test[i:i + context] for i in starts])
    truth = np.stack([test[i + context:i + context + n_h] for i in starts])
    var = (float(X.var()) if st.protocol.nrmse_variance == "pooled"
           else float(X.var(axis=0).sum()))
    return DivergenceData(s, dt, lam, st.threshold, train, test, train.std(axis=0), starts,
                          ctx, truth, n_free, vpt_method=st.vpt_method, settings=st,
                          total_variance=var)


def protocol_metrics(data: DivergenceData, pred) -> dict:
    """The protocol's metrics of forecasts ``pred`` ``(n_starts, n_steps, dim)`` made from
    ``data``'s starts, one value per start: ``nrmse`` (over the protocol's window, divided
    by ``data.total_variance``), ``smape`` (the whole forecast) and ``smape@h``."""
    st = data.settings
    if st is None:
        return {}
    p, out = st.protocol, {}
    if st.nrmse_rows is not None:
        n = st.nrmse_rows
        if p.nrmse_from_last_observed:       # row 0: the last observed state, error 0
            last = data.contexts[:, -1:]
            yt = np.concatenate([last, data.truths[:, :n - 1]], axis=1)
            yp = np.concatenate([last, pred[:, :n - 1]], axis=1)
        else:
            yt, yp = data.truths[:, :n], pred[:, :n]
        out["nrmse"] = np.atleast_1d(nrmse(yt, yp, total_variance=data.total_variance))
    if p.smape:
        out["smape"] = np.atleast_1d(smape(data.truths, pred))
    if st.smape_at:
        vals = smape_at(data.truths, pred, data.dt, data.lyapunov_exponent, st.smape_at)
        for j, h in enumerate(st.smape_at):
            out[f"smape@{h:g}"] = vals[:, j]
    return out


def evaluate(learner, label, data: DivergenceData, *, quantiles=(0.25, 0.75),
             statistics=True, learned_exponent=False, precision=False, progress=None,
             cancel=None, **deprecated) -> LearnerDivergence:
    """One learner on prepared data (step 2 of :func:`forecast_divergence`).

    The learner is fitted on ``data.train`` unless it is fitted already, then forecasts
    ``data.n_steps`` samples from every start in one batched call; the normalised error
    curves (:func:`chaoslab.metrics.error_curve`, scaled by ``data.scale``) give the
    median and ``quantiles`` curves; each start's valid prediction time, in Lyapunov
    times, is the first crossing of ``data.threshold`` by the normalised error
    (``data.vpt_method == "nrmse"``) or by the sMAPE (``"smape"``, ``"cumulative_smape"``:
    :func:`chaoslab.metrics.valid_prediction_steps`); :func:`protocol_metrics` adds the
    protocol's metrics.

    With ``statistics`` the learner also free-runs ``data.n_free`` samples from the first
    start, compared with the truth by :func:`~chaoslab.metrics.state_space_divergence`
    and :func:`~chaoslab.metrics.power_spectrum_distance`; ``learned_exponent`` adds the
    learned model's largest Lyapunov exponent; ``precision`` adds, for torch learners, the divergence
    between its float32 and bfloat16 rollouts from the same start.

    Parameters
    ----------
    learner : str, (name, hyperparameters) or Learner
    label : str or None
        The result's name (default the learner's).
    data : DivergenceData
        From :func:`prepare`.
    progress : callable(fraction, message) or chaoslab.progress.Reporter, optional
    cancel : threading.Event or callable, optional

    Returns
    -------
    LearnerDivergence
    """
    learned_exponent = renamed_keyword(deprecated, "lyapunov", "learned_exponent",
                                       learned_exponent, False, func="evaluate")
    reject_unknown(deprecated, "evaluate")
    name, lrn = _as_learner(learner)
    name = name if label is None else str(label)
    if lrn.context_length > data.context:
        raise ValueError(f"{name} needs {lrn.context_length} context rows; the data have "
                         f"{data.context}: prepare(..., context={lrn.context_length})")
    if statistics and data.n_free < 1:
        raise ValueError("statistics=True needs a free-run truth: prepare(..., n_free=...) "
                         "with n_free > 0")
    report = as_reporter(progress, cancel, error=_cancelled_error())
    dt, lam = data.dt, data.lyapunov_exponent
    report(0.0, f"training {name}")
    t0 = time.perf_counter()
    if not lrn.is_fitted:
        fit_report = report.scaled(0.0, 0.7)
        lrn.fit(data.train, dt, progress=lambda f, m: fit_report(f, f"{name}: {m}"),
                cancel=lambda: report.cancelled)
    fit_s = time.perf_counter() - t0
    report(0.7, f"forecasting with {name}")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # a forecast that blows up is what the VPT measures, not news
        warnings.simplefilter("ignore", DivergenceWarning)
        pred = lrn.forecast(data.contexts, data.n_steps)
    fc_s = time.perf_counter() - t0
    curves = error_curve(data.truths, pred, data.scale)
    if data.vpt_method == "nrmse":
        steps = valid_prediction_steps(curves, data.threshold)
    else:
        steps = valid_prediction_steps(data.truths, pred, method=data.vpt_method,
                                       threshold=data.threshold)
    vpt = np.atleast_1d(steps) * dt * lam
    finite = np.where(np.isfinite(curves), curves, np.inf)
    r = LearnerDivergence(name, lrn, curves, np.median(finite, axis=0),
                          np.quantile(finite, quantiles[0], axis=0),
                          np.quantile(finite, quantiles[1], axis=0), vpt, fit_s, fc_s,
                          example=pred[0], metrics=protocol_metrics(data, pred))
    context, test = data.context, data.test
    if statistics:
        report.check()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DivergenceWarning)
            free = lrn.forecast(test[:context], data.n_free)
        true_free = test[context:context + data.n_free]
        r.d_stsp = state_space_divergence(true_free, free)
        r.d_h = power_spectrum_distance(true_free, free)
    if learned_exponent:
        try:
            r.lyapunov_exponent = float(lrn.lyapunov_exponent(test[:context]))
        except NotImplementedError:
            pass
    if precision and getattr(lrn, "uses_torch", False):
        from ..learners.torch_base import precision_divergence
        r.precision = precision_divergence(lrn, test[:context], data.n_steps)
    return r


def collect(data: DivergenceData, results) -> ForecastDivergence:
    """The results of :func:`evaluate` on ``data`` as one :class:`ForecastDivergence`
    (step 3 of :func:`forecast_divergence`); a repeated name gets `` (2)``, `` (3)``..."""
    s = data.system
    out = ForecastDivergence(getattr(s, "name", str(s)), data.dt, data.lyapunov_exponent,
                             data.threshold, data.t, data.starts, truth=data.truths[0],
                             vpt_method=data.vpt_method,
                             protocol=None if data.settings is None else data.settings.protocol,
                             settings=data.settings)
    seen = {}
    for r in results:
        name = r.name
        if name in seen:
            seen[name] += 1
            r.name = name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.results[name] = r
    return out


def forecast_divergence(system, learners, *, protocol=None, n_train=None, dt=None,
                        n_starts=None, horizon=None, context=None, transient=None,
                        lyapunov_exponent=None, threshold=None, vpt_method=None,
                        quantiles=(0.25, 0.75), statistics=True, n_free=5000,
                        learned_exponent=False, precision=False, x0=None, seed=0,
                        progress=None, cancel=None, **deprecated):
    """Train learners on a system and measure how fast their forecasts diverge.

    A trajectory of ``system`` is simulated (after a transient): its first ``n_train``
    samples train every learner that is not fitted yet; from the held-out rest,
    ``n_starts`` start points a fixed spacing apart each give ``context`` observed rows
    and the true continuation. Every learner forecasts from every start (one batched
    call); the normalised error curves (see :func:`chaoslab.metrics.error_curve`, scaled
    by the training data's standard deviations) give the median and quantile curves, and
    each start gets its valid prediction time, in Lyapunov times, in the protocol's
    definition (default: the first crossing of ``threshold`` 0.4 by the normalised error).

    The ``protocol`` sets the defaults: ``"chaoslab"`` (when None; chaoslab's own
    setting: :func:`default_dt` sampling, a transient of 2,000 samples, 10,000 training
    samples, 20 starts two Lyapunov times apart, 200 context rows, 15 Lyapunov times),
    ``"gilpin2023"``, ``"gauthier2021"``, ``"short_data"`` (see
    :func:`chaoslab.experiments.protocols` and :mod:`chaoslab.experiments.protocols`) or
    a :class:`~chaoslab.experiments.protocols.Protocol`. **Precedence**: a keyword given
    here (not None) overrides the protocol's value; every other value comes from the
    protocol. Lengths a protocol gives in time, Lyapunov times or periods keep their span
    of time under an explicit ``dt``. The protocol's metrics (``nrmse``, ``smape``,
    ``smape@h``) are added to every learner's ``metrics`` and to :meth:`summary`.

    With ``statistics=True`` each learner also free-runs ``n_free`` samples from the first
    start, compared with the truth by :func:`~chaoslab.metrics.state_space_divergence` and
    :func:`~chaoslab.metrics.power_spectrum_distance`; ``learned_exponent=True`` adds the
    learned model's largest Lyapunov exponent; ``precision=True`` adds, for torch learners, the divergence
    between its float32 and bfloat16 rollouts from the same start.

    This is :func:`prepare`, :func:`evaluate` for each learner, then :func:`collect`.

    Parameters
    ----------
    system : str or System
    learners : list of names, (name, hyperparameters) pairs or Learner objects
        Fitted learners are used as they are. A dict ``{label: learner}`` (values as in
        the list) labels the results, e.g. two settings of one learner.
    protocol : str or Protocol, optional
        The setting (default ``"chaoslab"``); an unknown name is a ValueError listing the
        known ones.
    n_train : int, optional
        Training samples (default: the protocol's).
    dt : float, optional
        Sampling interval (default: the protocol's; ``"chaoslab"``: :func:`default_dt`,
        at least 100 samples per Lyapunov time and per characteristic period; Lorenz 0.01).
    n_starts : int, optional
        Forecasts per learner.
    horizon : float, optional
        Forecast length in Lyapunov times.
    context : int, optional
        Rows each start observes (raised to the longest context a learner needs).
    transient : float, optional
        Time simulated and discarded before the training data, in time units.
    lyapunov_exponent : float, optional
        The system's largest exponent; by default
        :func:`chaoslab.analysis.largest_lyapunov_exponent` (the recorded reference value
        at the catalog's parameters, computed otherwise).
    threshold : float, optional
        The VPT threshold (default: the protocol's).
    vpt_method : {"nrmse", "smape", "cumulative_smape"}, optional
        The VPT definition (default: the protocol's); see
        :func:`chaoslab.metrics.valid_prediction_time`.
    seed : int
        Unused; kept for compatibility (the learners' own ``seed`` hyperparameters set
        their randomness, the data are deterministic).
    progress : callable(fraction, message), optional
    cancel : threading.Event or callable, optional

    Returns
    -------
    ForecastDivergence
        Its ``protocol`` and ``settings`` record what ran.
    """
    learned_exponent = renamed_keyword(deprecated, "lyapunov", "learned_exponent",
                                       learned_exponent, False, func="forecast_divergence")
    reject_unknown(deprecated, "forecast_divergence")
    as_protocol(protocol)            # an unknown name fails before any work
    report = Reporter(progress, cancel, error=_cancelled_error())
    items = _as_learners(learners)
    n_free = check_int(n_free, "n_free", 0)
    statistics = check_choice(statistics, "statistics", (False, True))
    if context is not None:
        context = check_int(context, "context", 1)
    need = max(lrn.context_length for _, lrn in items)
    data = prepare(system, protocol=protocol, n_train=n_train, dt=dt, n_starts=n_starts,
                   horizon=horizon, context=context, transient=transient,
                   lyapunov_exponent=lyapunov_exponent, threshold=threshold,
                   vpt_method=vpt_method, n_free=n_free if statistics else 0, x0=x0,
                   min_context=need, progress=report)
    results = []
    for k, (name, lrn) in enumerate(items):
        part = report.scaled(k / len(items), (k + 1) / len(items))
        results.append(evaluate(lrn, name, data, quantiles=quantiles, statistics=statistics,
                                learned_exponent=learned_exponent, precision=precision,
                                progress=part))
    report(1.0, "done")
    return collect(data, results)
