"""The time scale of training data, and the learners' lengths that follow it.

A length a learner counts in samples (the ESN's washout, NG-RC's delay spacing, a
network's warm-up and training unroll, a Transformer's window, ...) means a different
span of time at another sampling step ``dt``. A length left at ``"auto"`` (the default
of every such hyperparameter) is therefore chosen in ``fit`` by one rule:

1. **The time scale** ``tau`` of the training data (the fitted attribute
   ``time_scale_``, in the system's time units) is their *autocorrelation time*: the
   first lag at which the autocorrelation of the standardised state,
   ``C(s) = <u(t) . u(t + s)> / <|u|^2>`` (each variable shifted to mean 0 and scaled
   to standard deviation 1 over all the training data, products summed over the
   variables and averaged over all pairs of samples ``s`` apart in every trajectory),
   falls below ``1/e``, interpolated linearly between samples (:func:`time_scale`).
2. **A length** is ``max(minimum, round(multiple * tau / dt))`` samples
   (:func:`auto_samples`), with a multiple and a minimum for each length
   (:data:`RULES`, documented with each learner).

**Why this time scale.** It is what a length in samples has to follow: how many samples
the data take to change appreciably, i.e. how finely the motion is resolved. It is cheap
(one FFT) and robust: on Lorenz it is 0.18 to 0.20 time units over records of 20 to 500
time units sampled at ``dt`` 0.001 to 0.1 (0.186 and 0.199 on the 10,000 training
samples of ``forecast_divergence`` at ``dt`` 0.01 and 0.037); on Rossler 0.91 at ``dt``
0.05 and 0.1. The alternatives are worse here: the first zero of the autocorrelation (the
usual delay of a delay embedding) is far off and ill-defined for a variable that switches
lobes, as Lorenz's ``x`` and ``y`` do; the first minimum of the mutual information
(Fraser and Swinney 1986) needs binning and is noisy on short records; the Lyapunov time
cannot be measured reliably from a short training record, and on slowly diverging flows
(Rossler: 14 time units) it is far longer than the motion's own scale.

**The multiples** were chosen so that on Lorenz at ``dt = 0.01`` (``tau`` = 0.186, 18.6
samples) each learner gets the length that was its fixed default before, so results there
barely change (the ESN's washout is 102 rows instead of 100, forecasts identical); at
``dt = 0.037`` (30 samples per Lyapunov time) the same spans of time take 3.7 times fewer
samples.

**The minimums** tell two kinds of length apart. A *span of the data's motion* (a delay
spacing, a motif, a Transformer's window, a training unroll or shooting segment, the
ESN's training washout) has minimum 1: at 30 samples per Lyapunov time of Lorenz the
shorter lengths forecast about as well as the old ones or better. A *count of the model's own steps or terms* does not shrink
with coarser sampling: a recurrent network's warm-up synchronises its hidden state in a
number of steps, as a reservoir forgets its start in a number of steps, and GTF trains a
PLRNN to stay on the attractor over ``seq_len`` free-running steps. Shortened by the rule
they lost skill at ``dt = 0.037``, so their minimum is the
previous default: the rule only lengthens them, at finer sampling. So does the order of
the linear autoregression, its number of lagged terms. The measured effects are in the
README ("Lengths in time", under Benchmarks). NG-RC's number of delays ``k`` is a count
too and is not a length at all: it stays 3, its span follows ``skip``. The ESN's context
is its reservoir's memory, which depends on the reservoir alone
(:class:`~chaoslab.learners.reservoir.ESN`).

An integer given for a length is a count of samples and is used as given; the lengths
used are fitted attributes named after the hyperparameter (``washout_``, ``skip_``,
``warmup_``, ...). Before ``fit`` an ``"auto"`` length is not known yet: a learner's
:attr:`~chaoslab.learners.Learner.context_length` then counts it at its minimum (a lower
bound; read it again after ``fit``).
"""
from __future__ import annotations

import math

import numpy as np

from ..validation import check_int

__all__ = ["AUTO", "RULES", "MULTIPLES", "ACF_LEVEL", "time_scale", "auto_samples",
           "resolve_length", "is_auto"]

#: the value of a length hyperparameter that selects the time-scale rule
AUTO = "auto"

#: level of the autocorrelation that defines the time scale (``1/e``)
ACF_LEVEL = math.exp(-1.0)

#: ``(learner, length) -> (multiple of the time scale, smallest "auto" value)``. On
#: Lorenz at dt 0.01 (``tau / dt`` = 18.3 to 18.9 samples, by the length of the record)
#: each gives the fixed default of the previous release, in brackets. The smallest value
#: is 1 for a span of the data's motion; for a count of the *model's* steps it is the
#: previous default (see the module docstring); ``None``: the ESN's reservoir memory.
RULES = {
    ("esn", "washout"): (5.5, None),          # [100] training rows discarded
    ("ngrc", "skip"): (1.0 / 6.0, 1),         # [3]   spacing of the delayed states
    ("linear_ar", "order"): (0.2, 4),         # [4]   past states regressed on
    ("parrot", "motif_length"): (0.5, 1),     # [10]  the motif spans (D - 1) * skip rows
    ("lstm", "warmup"): (0.55, 10),           # [10]  rows that synchronise the LSTM state
    ("lstm", "unroll"): (0.55, 1),            # [10]  closed-loop training steps
    ("mamba", "warmup"): (0.55, 10),          # [10]  rows that synchronise the SSM state
    ("mamba", "unroll"): (0.55, 1),           # [10]
    ("transformer", "window"): (0.43, 1),     # [8]   past states attended to
    ("transformer", "unroll"): (0.22, 1),     # [4]   closed-loop training steps
    ("plrnn", "seq_len"): (8.0, 150),         # [150] GTF training sequence
    ("alrnn", "seq_len"): (8.0, 150),         # [150]
    ("neural_ode", "unroll"): (0.55, 1),      # [10]  multiple-shooting segment
}

#: ``(learner, length) -> multiple`` of :data:`RULES`
MULTIPLES = {k: v[0] for k, v in RULES.items()}


def is_auto(value) -> bool:
    """Whether a length hyperparameter selects the time-scale rule."""
    return isinstance(value, str) and value == AUTO


def time_scale(parts, dt) -> float:
    """Autocorrelation time of trajectories ``parts`` sampled every ``dt``, in time units.

    The first lag at which ``C(s) = <u(t) . u(t + s)> / <|u|^2>`` falls below
    ``1/e`` (:data:`ACF_LEVEL`), interpolated linearly between the two samples around the
    crossing; ``u`` is the state with each variable standardised over all of ``parts``
    (a constant variable is left out), the averages run over every pair of samples ``s``
    apart within each trajectory. See the module docstring for why.

    Parameters
    ----------
    parts : list of arrays (n_i, dim)
        Finite trajectories (as :func:`chaoslab.learners.base.as_trajectories` returns).
    dt : float

    Returns
    -------
    float
        Below ``dt`` when the data decorrelate within one sample (a map, or very coarse
        sampling); when ``C`` stays above ``1/e`` over the lags the data hold (half the
        longest trajectory), that largest lag times ``dt``, the best lower bound there is.
        ``dt`` when every variable is constant or no trajectory has two samples.
    """
    allx = np.concatenate(parts, axis=0)
    mean = allx.mean(axis=0)
    sd = allx.std(axis=0)
    keep = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
    longest = max(len(p) for p in parts)
    max_lag = longest // 2
    if not keep.any() or max_lag < 1:
        return float(dt)
    num = np.zeros(max_lag + 1)
    count = np.zeros(max_lag + 1)
    for p in parts:
        n = len(p)
        if n < 2:
            continue
        u = (p[:, keep] - mean[keep]) / sd[keep]
        lags = min(max_lag, n - 1)
        nfft = 1 << int(math.ceil(math.log2(2 * n)))
        spec = np.fft.rfft(u, nfft, axis=0)
        acov = np.fft.irfft((spec * spec.conj()).real, nfft, axis=0)[:lags + 1].sum(axis=1)
        num[:lags + 1] += acov
        count[:lags + 1] += n - np.arange(lags + 1)
    valid = count > 0
    acf = np.where(valid, num / np.where(valid, count, 1.0), np.nan)
    acf = acf / acf[0]
    below = np.flatnonzero(valid & (acf < ACF_LEVEL))
    if len(below) == 0:
        return float(np.flatnonzero(valid)[-1] * dt)
    k = int(below[0])
    a, b = acf[k - 1], acf[k]
    frac = (a - ACF_LEVEL) / (a - b) if a > b else 1.0
    return float((k - 1 + frac) * dt)


def auto_samples(multiple, tau, dt, minimum=1) -> int:
    """``max(minimum, round(multiple * tau / dt))``: the rule's length in samples (halves
    round up)."""
    return max(int(minimum), int(math.floor(float(multiple) * float(tau) / float(dt) + 0.5)))


def resolve_length(value, name, *, multiple, tau, dt, minimum=1) -> int:
    """The length in samples for a hyperparameter ``name`` set to ``value``: an integer
    (at least ``minimum``) is used as given, ``"auto"`` follows :func:`auto_samples`.

    Raises
    ------
    ValueError
        Naming the hyperparameter, the value and what is allowed.
    """
    if is_auto(value):
        if tau is None or not math.isfinite(tau):
            raise ValueError(f"{name}='auto' needs the time scale of the training data: "
                             "fit the learner first")
        return auto_samples(multiple, tau, dt, minimum)
    if isinstance(value, str):
        raise ValueError(f"{name} must be an integer (a number of samples) or 'auto' (chosen "
                         f"from the data's time scale), got {value!r}")
    return check_int(value, name, minimum=minimum)
