"""Published forecasting settings by name: sampling, lengths, starts, VPT and metrics.

A :class:`Protocol` holds everything that decides the numbers a forecast-divergence
experiment reports, apart from the learners: how the data are sampled, how long the
transient, the training data, each start's context and each forecast are, how many starts
there are and how far apart, which valid prediction time (VPT) definition and threshold
score a forecast, and which window errors are added (NRMSE over a window, sMAPE over the
whole forecast or up to fixed horizons). ``forecast_divergence(..., protocol="gilpin2023")``
runs an experiment in a paper's setting, so its numbers can be set beside the paper's.

Lengths are :class:`Span` objects with a unit: ``"time"`` (the system's time units),
``"lyapunov"`` (Lyapunov times ``1 / lambda_1``), ``"period"`` (the catalog's
characteristic period) or ``"samples"``. A length a paper fixes in samples at a given
sampling is written here as the time it spans, so that changing the sampling (``dt=``)
keeps the span of time the paper used; chaoslab's own default protocol counts samples,
because its keywords (``n_train=``, ``context=``) always have.

>>> from chaoslab.experiments import get_protocol                  # doctest: +SKIP
>>> get_protocol("gauthier2021").settings("Lorenz").n_train         # doctest: +SKIP
400

The named settings (:func:`protocols` lists them; each one's ``source`` field names the
files its numbers were read from, ``notes`` what chaoslab does differently):

``"chaoslab"``
    chaoslab's default, not from a paper: :func:`~chaoslab.experiments.default_dt`
    sampling (at least 100 samples per Lyapunov time and per period; Lorenz 0.01), a
    transient of 2,000 samples, 10,000 training samples, 20 starts two Lyapunov times
    apart, 200 context rows, forecasts of 15 Lyapunov times, VPT at normalised error 0.4.
``"gilpin2023"``
    Gilpin, Phys. Rev. Research 5, 043252 (2023), the dysts long-horizon benchmark: 100
    samples per characteristic period, 10 periods of training data, no transient, a
    lookback of one period, one forecast of 50 periods, VPT at cumulative sMAPE 30, and
    the sMAPE of the whole forecast. Read from williamgilpin/dysts (commit 6983ca8,
    ``benchmarks/compute_benchmarks_multivariate.py``,
    ``benchmarks/find_hyperparameters_multivariate.py``, ``dysts/base.py``) and
    williamgilpin/dysts_data (``dysts_data/datasets.py``,
    ``benchmark_results/scripts/utils.py``).
``"gauthier2021"``
    Gauthier, Bollt, Griffith & Barbosa, Nat. Commun. 12, 5564 (2021), next generation
    reservoir computing on Lorenz: ``dt = 0.025``, 5 time units of warm-up, 10 of
    training, forecasts of 120, ten trials 10 time units apart, NRMSE over one Lyapunov
    time divided by the pooled variance. Read from quantinfo/ng-rc-paper-code
    (``LorenzConstLinQuadraticNVARtimedelay-RK23.py``,
    ``LorenzConstLinQuadraticNVARtimedelayNRMSE-RK23.py``) and its MATLAB port
    ipacchi/ng-rc-paper-code (``matlab/run_lorenz_experiment.m``).
``"short_data"``
    chaoslab's own short-training-set setting (not from a paper): 30 samples per
    Lyapunov time, 10 Lyapunov times of training data (300 samples), NRMSE over one
    Lyapunov time and sMAPE up to 1, 4 and 10 Lyapunov times.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, fields, replace

from ..metrics.forecast import VPT_METHODS
from ..validation import check_choice, check_float, check_int

__all__ = ["Protocol", "Span", "Sampling", "ProtocolSettings", "protocols", "get_protocol",
           "as_protocol", "PROTOCOLS", "DEFAULT_PROTOCOL"]

#: Units a :class:`Span` may be given in.
SPAN_UNITS = ("time", "lyapunov", "period", "samples")
_UNIT_WORDS = {"time": "time units", "lyapunov": "Lyapunov times", "period": "periods",
               "samples": "samples"}
#: How the total variance of the NRMSE is taken (see :class:`Protocol`).
NRMSE_VARIANCES = ("sum", "pooled")


@dataclass(frozen=True)
class Span:
    """A length with its unit: ``Span(10, "lyapunov")`` is ten Lyapunov times.

    ``unit`` is ``"time"`` (the system's time units), ``"lyapunov"`` (Lyapunov times,
    ``value / lambda_1`` time units), ``"period"`` (``value`` characteristic periods, the
    catalog's ``period``) or ``"samples"`` (``value`` steps of the sampling ``dt``).
    """

    value: float
    unit: str = "time"

    def __post_init__(self):
        check_choice(self.unit, "unit", SPAN_UNITS)
        v = check_float(self.value, "value", nonnegative=True)
        if self.unit == "samples":
            v = float(check_int(v, "value", minimum=0))
        object.__setattr__(self, "value", v)

    def time(self, *, dt, lyapunov_exponent, period=None) -> float:
        """The span in the system's time units."""
        if self.unit == "time":
            return self.value
        if self.unit == "samples":
            return self.value * dt
        if self.unit == "lyapunov":
            return self.value / lyapunov_exponent
        return self.value * _period(period)

    def samples(self, *, dt, lyapunov_exponent, period=None) -> int:
        """The span as a whole number of samples of ``dt`` (rounded to the nearest)."""
        if self.unit == "samples":
            return int(self.value)
        if self.unit == "lyapunov":
            n = self.value / (lyapunov_exponent * dt)
        elif self.unit == "period":
            n = self.value * _period(period) / dt
        else:
            n = self.value / dt
        return int(round(n))

    def __str__(self):
        return f"{self.value:g} {_UNIT_WORDS[self.unit]}"


def _period(period):
    if period is None or not (period > 0 and math.isfinite(period)):
        raise ValueError(f"this span is counted in characteristic periods, but the system's "
                         f"period is {period!r}")
    return float(period)


def as_span(value, name, default_unit="time") -> Span:
    """``value`` as a :class:`Span`: a Span, a ``(value, unit)`` pair, or a number in
    ``default_unit``."""
    if isinstance(value, Span):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return Span(*value)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return Span(value, default_unit)
        except ValueError as err:
            raise ValueError(f"{name}: {err}") from None
    raise ValueError(f"{name} must be a Span, a (value, unit) pair with unit one of "
                     f"{', '.join(map(repr, SPAN_UNITS))}, or a number of "
                     f"{_UNIT_WORDS[default_unit]}; got {value!r}")


#: How a :class:`Sampling` is counted.
SAMPLING_KINDS = ("default", "dt", "lyapunov", "period")


@dataclass(frozen=True)
class Sampling:
    """How the data are sampled: ``Sampling("default")`` (chaoslab's
    :func:`~chaoslab.experiments.default_dt`), ``Sampling("dt", 0.025)`` (a fixed step),
    ``Sampling("lyapunov", 30)`` (30 samples per Lyapunov time, ``dt = 1 / (30 lambda_1)``)
    or ``Sampling("period", 100)`` (100 samples per characteristic period, dysts'
    "granularity", ``dt = period / 100``). Maps are always sampled every iteration."""

    per: str = "default"
    value: float | None = None

    def __post_init__(self):
        check_choice(self.per, "per", SAMPLING_KINDS)
        if self.per == "default":
            if self.value is not None:
                raise ValueError("Sampling('default') takes no value")
        else:
            object.__setattr__(self, "value", check_float(self.value, "value", positive=True))

    def dt(self, system, lyapunov_exponent) -> float:
        """The sampling step for ``system`` with largest exponent ``lyapunov_exponent``."""
        if system.is_map:
            return 1.0
        if self.per == "default":
            from .divergence import default_dt
            return default_dt(system, lyapunov_exponent)
        if self.per == "dt":
            return self.value
        if self.per == "lyapunov":
            return 1.0 / (self.value * lyapunov_exponent)
        return _period(getattr(system, "period", None)) / self.value

    def __str__(self):
        if self.per == "default":
            return "chaoslab's default_dt (>= 100 samples per Lyapunov time and per period)"
        if self.per == "dt":
            return f"dt = {self.value:g}"
        unit = "Lyapunov time" if self.per == "lyapunov" else "period"
        return f"{self.value:g} samples per {unit}"


@dataclass(frozen=True)
class Protocol:
    """The setting of a forecast-divergence experiment (see the module notes).

    Parameters
    ----------
    name : str
    sampling : Sampling
        How the data are sampled.
    transient : Span
        Simulated and discarded before the training data (a number: time units).
    train : Span
        Training data, the first part of the kept trajectory (a number: time units).
    context : Span
        Rows each start observes before its forecast, the lookback (a number: time
        units); raised to the longest context a learner needs.
    horizon : Span
        Length of each forecast (a number: Lyapunov times).
    n_starts : int
        Forecasts per learner, from starts in the held-out data after the training data.
    spacing : Span
        Distance between consecutive starts (a number: time units).
    vpt_method : {"nrmse", "smape", "cumulative_smape"}
        The VPT definition (:func:`chaoslab.metrics.valid_prediction_time`).
    vpt_threshold : float, optional
        Its threshold (default the method's: 0.4 for ``"nrmse"``, 30 for the sMAPE ones).
    nrmse_window : float, optional
        Add ``nrmse``: :func:`chaoslab.metrics.nrmse` over the first ``nrmse_window``
        Lyapunov times of each forecast (``round(nrmse_window / (lambda_1 dt))`` rows),
        normalised by the total variance of the simulated data (training and held-out
        parts). None: not computed.
    nrmse_variance : {"sum", "pooled"}
        The total variance: ``"sum"``, the sum over variables of each one's variance;
        ``"pooled"``, the variance of all values of all variables taken together (what
        ``np.var(y[0:d, :])`` computes in Gauthier et al.'s code: it adds the spread of
        the variables' means).
    nrmse_from_last_observed : bool
        The window starts at the last observed state (error 0 there) and holds the first
        ``rows - 1`` forecast rows, as in Gauthier et al.'s code; else it holds the first
        ``rows`` forecast rows.
    smape : bool
        Add ``smape``: the sMAPE of each whole forecast (:func:`chaoslab.metrics.smape`).
    smape_at : tuple of float
        Add ``smape@h``: sMAPE up to each horizon ``h`` in Lyapunov times
        (:func:`chaoslab.metrics.smape_at`).
    citation, source, notes : str
        The paper, where its settings were read (repository and files), and what differs.
    """

    name: str
    sampling: Sampling = field(default_factory=Sampling)
    transient: Span = Span(2000, "samples")
    train: Span = Span(10_000, "samples")
    context: Span = Span(200, "samples")
    horizon: Span = Span(15.0, "lyapunov")
    n_starts: int = 20
    spacing: Span = Span(2.0, "lyapunov")
    vpt_method: str = "nrmse"
    vpt_threshold: float | None = None
    nrmse_window: float | None = None
    nrmse_variance: str = "sum"
    nrmse_from_last_observed: bool = False
    smape: bool = False
    smape_at: tuple = ()
    citation: str = ""
    source: str = ""
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.sampling, Sampling):
            raise ValueError(f"sampling must be a Sampling, got {self.sampling!r}")
        for f, unit in (("transient", "time"), ("train", "time"), ("context", "time"),
                        ("horizon", "lyapunov"), ("spacing", "time")):
            object.__setattr__(self, f, as_span(getattr(self, f), f, unit))
        for f in ("train", "context", "horizon", "spacing"):
            if getattr(self, f).value <= 0:
                raise ValueError(f"{f} must be positive, got {getattr(self, f)}")
        object.__setattr__(self, "n_starts", check_int(self.n_starts, "n_starts", 1))
        check_choice(self.vpt_method, "vpt_method", tuple(VPT_METHODS))
        if self.vpt_threshold is not None:
            object.__setattr__(self, "vpt_threshold",
                               check_float(self.vpt_threshold, "vpt_threshold", positive=True))
        if self.nrmse_window is not None:
            object.__setattr__(self, "nrmse_window",
                               check_float(self.nrmse_window, "nrmse_window", positive=True))
        check_choice(self.nrmse_variance, "nrmse_variance", NRMSE_VARIANCES)
        hs = tuple(check_float(h, "smape_at", positive=True) for h in self.smape_at)
        object.__setattr__(self, "smape_at", hs)

    @property
    def threshold(self) -> float:
        """The VPT threshold (the method's default when ``vpt_threshold`` is None)."""
        return VPT_METHODS[self.vpt_method] if self.vpt_threshold is None \
            else self.vpt_threshold

    @property
    def metrics(self) -> tuple:
        """Names of the metrics a run reports besides the VPT: ``nrmse``, ``smape``,
        ``smape@h``."""
        out = ["nrmse"] if self.nrmse_window is not None else []
        if self.smape:
            out.append("smape")
        out += [f"smape@{h:g}" for h in self.smape_at]
        return tuple(out)

    def replace(self, **changes) -> "Protocol":
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    def settings(self, system, **overrides) -> "ProtocolSettings":
        """The protocol's numbers for ``system``: see :func:`resolve`."""
        return resolve(self, system, **overrides)

    def describe(self) -> str:
        """The setting in words, one line per item."""
        lines = [f"{self.name}: {self.citation or '(no citation)'}",
                 f"  sampling: {self.sampling}",
                 f"  transient {self.transient}, training {self.train}, context "
                 f"{self.context}, forecast {self.horizon}",
                 f"  {self.n_starts} starts, {self.spacing} apart",
                 f"  VPT: {self.vpt_method} > {self.threshold:g}"]
        if self.metrics:
            lines.append(f"  metrics: {', '.join(self.metrics)}")
        if self.source:
            lines.append(f"  source: {self.source}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ProtocolSettings:
    """A protocol's numbers for one system, from :func:`resolve`: what a run uses.

    ``dt`` and ``transient`` are in time units, ``horizon`` in Lyapunov times; ``n_train``,
    ``context``, ``n_steps`` (forecast length), ``gap`` (between starts) and
    ``nrmse_rows`` are sample counts; ``overrides`` holds the explicit keyword arguments
    that replaced the protocol's values.
    """

    protocol: Protocol
    system: str
    lyapunov_exponent: float
    dt: float
    transient: float
    n_train: int
    context: int
    n_steps: int
    n_starts: int
    gap: int
    vpt_method: str
    threshold: float
    nrmse_rows: int | None = None
    smape_at: tuple = ()
    overrides: dict = field(default_factory=dict, hash=False)

    @property
    def horizon(self) -> float:
        """The forecast length in Lyapunov times (``n_steps dt lambda_1``)."""
        return self.n_steps * self.dt * self.lyapunov_exponent

    @property
    def metrics(self) -> tuple:
        out = ["nrmse"] if self.nrmse_rows is not None else []
        if self.protocol.smape:
            out.append("smape")
        out += [f"smape@{h:g}" for h in self.smape_at]
        return tuple(out)

    def as_dict(self) -> dict:
        """Plain values (the protocol by name), e.g. to store beside results."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "protocol"}
        d["protocol"] = self.protocol.name
        d["horizon"] = self.horizon
        d["overrides"] = dict(self.overrides)
        return d


def resolve(protocol, system, *, lyapunov_exponent=None, dt=None, n_train=None,
            transient=None, context=None, horizon=None, n_starts=None, threshold=None,
            vpt_method=None, min_context=0) -> ProtocolSettings:
    """The numbers of ``protocol`` for ``system``; explicit values override the protocol.

    Precedence: an argument given here (not None) wins over the protocol's value; the
    rest come from the protocol. ``dt`` is a step in time units; ``n_train`` and
    ``context`` are sample counts, ``transient`` a time, ``horizon`` Lyapunov times (the
    words of :func:`~chaoslab.experiments.forecast_divergence`). Lengths the protocol
    gives in time, Lyapunov times or periods are converted at the sampling in use, so an
    explicit ``dt`` keeps their span of time. Giving ``vpt_method`` without ``threshold``
    uses that method's default threshold unless it is the protocol's own method.

    ``lyapunov_exponent`` defaults to
    :func:`chaoslab.analysis.largest_lyapunov_exponent` (computed with the explicit
    ``dt`` as step when one is given and no recorded value applies).

    Raises
    ------
    ValueError
        For a system that is not chaotic (no positive exponent), a bad value, or a metric
        window longer than the forecast.
    """
    from ..analysis.exponent import largest_lyapunov_exponent
    from ..systems import as_system

    p = as_protocol(protocol)
    s = as_system(system)
    given = {k: v for k, v in dict(dt=dt, n_train=n_train, transient=transient,
                                   context=context, horizon=horizon, n_starts=n_starts,
                                   threshold=threshold, vpt_method=vpt_method).items()
             if v is not None}
    # validate the explicit values first, with the names the caller used
    if "n_train" in given:
        given["n_train"] = check_int(n_train, "n_train", 1)
    if "n_starts" in given:
        given["n_starts"] = check_int(n_starts, "n_starts", 1)
    if "context" in given:
        given["context"] = check_int(context, "context", 1)
    if "horizon" in given:
        given["horizon"] = check_float(horizon, "horizon", positive=True)
    if "transient" in given:
        given["transient"] = check_float(transient, "transient", nonnegative=True)
    if "threshold" in given:
        given["threshold"] = check_float(threshold, "threshold", positive=True)
    if "vpt_method" in given:
        check_choice(vpt_method, "vpt_method", tuple(VPT_METHODS))
    if "dt" in given:
        given["dt"] = check_float(dt, "dt", positive=True)

    lam = (check_float(lyapunov_exponent, "lyapunov_exponent")
           if lyapunov_exponent is not None
           else largest_lyapunov_exponent(s, given.get("dt")))
    if not math.isfinite(lam) or lam <= 0:
        raise ValueError(f"{s.name} has largest Lyapunov exponent {lam:.3g} (not chaotic "
                         "here): forecast times in Lyapunov times are undefined; pass "
                         "lyapunov_exponent= to use another time scale")
    step = given["dt"] if "dt" in given else p.sampling.dt(s, lam)
    if not math.isfinite(step) or step <= 0:
        raise ValueError(f"dt must be positive, got {step}")
    period = getattr(s, "period", None)
    kw = dict(dt=step, lyapunov_exponent=lam, period=period)

    def spans(name, span):
        try:
            return span.samples(**kw)
        except ValueError as err:
            raise ValueError(f"protocol {p.name!r}, {name}: {err} ({s.name})") from None

    n_tr = given.get("n_train", spans("train", p.train))
    if n_tr < 1:
        raise ValueError(f"protocol {p.name!r}: training data of {p.train} is less than one "
                         f"sample at dt = {step:g}")
    ctx = given.get("context", spans("context", p.context))
    ctx = max(1, ctx, int(min_context))
    if "horizon" in given:
        n_h = max(1, int(round(given["horizon"] / (lam * step))))
    else:
        n_h = max(1, spans("horizon", p.horizon))
    gap = max(1, spans("spacing", p.spacing))
    if "transient" in given:
        tr = given["transient"]
    else:
        try:
            tr = p.transient.time(**kw)
        except ValueError as err:
            raise ValueError(f"protocol {p.name!r}, transient: {err} ({s.name})") from None
    method = given.get("vpt_method", p.vpt_method)
    if "threshold" in given:
        thr = given["threshold"]
    elif method == p.vpt_method:
        thr = p.threshold
    else:
        thr = VPT_METHODS[method]

    rows = None
    if p.nrmse_window is not None:
        rows = max(1, int(round(p.nrmse_window / (lam * step))))
        room = n_h + 1 if p.nrmse_from_last_observed else n_h
        if rows > room:
            raise ValueError(f"protocol {p.name!r}: its NRMSE window of {p.nrmse_window:g} "
                             f"Lyapunov times ({rows} rows) is longer than the forecast "
                             f"({n_h} rows); raise horizon=")
    for h in p.smape_at:
        k = int(math.floor(h / (lam * step) * (1 + 1e-9)))
        if k < 1 or k > n_h:
            raise ValueError(f"protocol {p.name!r}: sMAPE at {h:g} Lyapunov times needs "
                             f"{k} rows; the forecast has {n_h}")
    overrides = {k: v for k, v in dict(dt=dt, n_train=n_train, transient=transient,
                                       context=context, horizon=horizon, n_starts=n_starts,
                                       threshold=threshold, vpt_method=vpt_method).items()
                 if v is not None}
    return ProtocolSettings(p, s.name, lam, step, float(tr), int(n_tr), int(ctx), int(n_h),
                            int(given.get("n_starts", p.n_starts)), int(gap), method,
                            float(thr), rows, p.smape_at, overrides)


# -- the named protocols ---------------------------------------------------------------

CHAOSLAB = Protocol(
    name="chaoslab",
    citation="chaoslab's default setting (not from a paper)",
    source="chaoslab/experiments/divergence.py (the defaults of forecast_divergence before "
           "protocols existed)",
    notes="Lengths in samples, as forecast_divergence's n_train= and context= count them: "
          "at the default sampling 2,000 samples are 20 time units for Lorenz (dt 0.01).")

GILPIN2023 = Protocol(
    name="gilpin2023",
    sampling=Sampling("period", 100),
    transient=Span(0.0, "time"),
    train=Span(10, "period"),
    context=Span(1, "period"),
    horizon=Span(50, "period"),
    n_starts=1,
    vpt_method="cumulative_smape",
    vpt_threshold=30.0,
    smape=True,
    citation="Gilpin, W. (2023). Model scale versus domain knowledge in statistical "
             "forecasting of chaotic systems. Phys. Rev. Research 5, 043252.",
    source="williamgilpin/dysts at 6983ca8 (Feb. 2023; the benchmarks left dysts in "
           "2453337): benchmarks/compute_benchmarks_multivariate.py (LONG = True: "
           "test_multivariate__pts_per_period_100__periods_60, split_point = "
           "int(1/6 * len): 10 periods train, 50 periods forecast), "
           "benchmarks/find_hyperparameters_multivariate.py (lookbacks up to "
           "pts_per_period = 100), dysts/base.py make_trajectory (resample to "
           "pts_per_period along linspace(0, period * n / pts_per_period, n), no transient); "
           "williamgilpin/dysts_data: dysts_data/datasets.py (granularity 'fine' = 100 "
           "points per period), benchmark_results/scripts/utils.py vpt_smape (first index "
           "where the sMAPE of the forecast so far exceeds 30)",
    notes="Multivariate, 100 samples per characteristic period (dysts' 'granularity'; "
          "dysts spaces n samples over n / 100 periods, a step larger by n / (n - 1)); "
          "the first 10 periods (1,000 samples) train, the forecast runs 50 periods "
          "(5,000 samples); VPT: the sMAPE of the forecast so far first exceeds 30; sMAPE "
          "over the whole forecast. One forecast per system, as the benchmark makes; the "
          "paper's forecast starts right after the training data, chaoslab's from the "
          "held-out data after it, observing one period (the longest lookback of the "
          "paper's hyperparameter grid). The trajectory starts at the catalog's initial "
          "condition (dysts' own for shared systems) with no transient, as make_trajectory "
          "does. Starts beyond the first (n_starts=) are two Lyapunov times apart "
          "(chaoslab's choice).")

GAUTHIER2021 = Protocol(
    name="gauthier2021",
    sampling=Sampling("dt", 0.025),
    transient=Span(5.0, "time"),
    train=Span(10.0, "time"),
    context=Span(0.05, "time"),
    horizon=Span(120.0, "time"),
    n_starts=10,
    spacing=Span(10.0, "time"),
    nrmse_window=1.0,
    nrmse_variance="pooled",
    nrmse_from_last_observed=True,
    citation="Gauthier, D. J., Bollt, E., Griffith, A. and Barbosa, W. A. S. (2021). Next "
             "generation reservoir computing. Nat. Commun. 12, 5564.",
    source="quantinfo/ng-rc-paper-code: LorenzConstLinQuadraticNVARtimedelay-RK23.py "
           "(dt = 0.025, warmup = 5, traintime = 10, testtime = 120, lyaptime = 1.104, "
           "total_var = np.var(lorenz_soln.y[0:d, :]), test NRMSE over lyaptime_pts = "
           "round(lyaptime / dt) rows from x[:, warmtrain_pts - 1]), "
           "LorenzConstLinQuadraticNVARtimedelayNRMSE-RK23.py (10 trials, warm-ups "
           "5, 15, ..., 95: training windows 10 time units apart); MATLAB port "
           "ipacchi/ng-rc-paper-code matlab/run_lorenz_experiment.m (same lengths)",
    notes="Lorenz sampled at dt 0.025 (a fixed step, applied as-is to other systems); 5 "
          "time units of warm-up (200 samples), 10 of training (400 samples); the NG-RC "
          "starts from the state and one delay (k = 2: 2 samples, 0.05 time units); "
          "forecasts of 120 time units; NRMSE over one Lyapunov time (44 rows at lambda "
          "0.906: the window starts at the last observed state) divided by the pooled "
          "variance np.var of all three variables together (the MATLAB port sums the three "
          "variances instead: nrmse_variance='sum'). The authors retrain on each of 10 "
          "windows 10 time units apart and test right after it; chaoslab trains once and "
          "tests from 10 starts 10 time units apart in the held-out data. The paper "
          "reports no VPT; the VPT here is chaoslab's default (normalised error 0.4). "
          "The authors integrate with scipy's RK23 at default tolerances; chaoslab with "
          "RK4 at the system's step.")

SHORT_DATA = Protocol(
    name="short_data",
    sampling=Sampling("lyapunov", 30),
    transient=Span(20.0, "lyapunov"),
    train=Span(10.0, "lyapunov"),
    context=Span(1.0, "lyapunov"),
    horizon=Span(15.0, "lyapunov"),
    n_starts=20,
    spacing=Span(2.0, "lyapunov"),
    nrmse_window=1.0,
    smape_at=(1.0, 4.0, 10.0),
    citation="chaoslab's own short-training-set setting (not from a paper)",
    source="chaoslab/experiments/protocols.py",
    notes="Ten Lyapunov times of training data at 30 samples per Lyapunov time (300 "
          "samples), a context of one Lyapunov time, 20 starts two Lyapunov times apart, "
          "forecasts of 15 Lyapunov times; VPT at normalised error 0.4; NRMSE over the "
          "first Lyapunov time (total variance: the sum of the variables' variances) and "
          "sMAPE up to 1, 4 and 10 Lyapunov times.")

#: The named protocols.
PROTOCOLS = {p.name: p for p in (CHAOSLAB, GILPIN2023, GAUTHIER2021, SHORT_DATA)}
#: The protocol ``forecast_divergence`` runs when none is named.
DEFAULT_PROTOCOL = "chaoslab"


def protocols() -> list:
    """Names of the named protocols, for ``forecast_divergence(..., protocol=name)``."""
    return list(PROTOCOLS)


def get_protocol(name) -> Protocol:
    """The named :class:`Protocol`; an unknown name is a ValueError listing the known."""
    if isinstance(name, str):
        key = name.strip().lower()
        if key in PROTOCOLS:
            return PROTOCOLS[key]
    raise ValueError(f"unknown protocol {name!r}; known protocols: "
                     f"{', '.join(PROTOCOLS)} (or pass a Protocol)")


def as_protocol(protocol) -> Protocol:
    """A Protocol from a Protocol, a name, or None (the default, ``"chaoslab"``)."""
    if protocol is None:
        return PROTOCOLS[DEFAULT_PROTOCOL]
    if isinstance(protocol, Protocol):
        return protocol
    return get_protocol(protocol)
