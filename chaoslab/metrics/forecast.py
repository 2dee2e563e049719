"""Pointwise forecast errors, the valid prediction time in its published definitions,
window errors (NRMSE, sMAPE at fixed horizons).

Conventions shared by every function here:

* ``y_true`` and ``y_pred`` are ``(n_steps, dim)`` or ``(batch, n_steps, dim)``; row ``k``
  of a forecast is ``(k + 1) dt`` after the last observed state.
* The truth must be finite: a NaN or inf in ``y_true`` raises a ``ValueError`` naming
  ``y_true`` (a broken reference cannot certify a forecast).
* A forecast has *failed* from its first row holding a NaN or inf on: that row and every
  later row count as failed in every metric, even where a later row is finite again
  (``error_curve`` is ``inf`` there, ``smape_curve`` 200, the valid prediction time stops
  there, a window error that includes it is ``inf`` or reaches its maximum). Each
  trajectory of a batch fails on its own.
"""
import math

import numpy as np

from ..validation import (as_float_array, check_choice, check_dt, check_finite_array,
                          check_float)

#: The valid-prediction-time definitions of :func:`valid_prediction_time` and their
#: default thresholds.
VPT_METHODS = {"nrmse": 0.4, "smape": 30.0, "cumulative_smape": 30.0}


def _pair(y_true, y_pred):
    yt = check_finite_array(y_true, "y_true")
    yp = as_float_array(y_pred, "y_pred")
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {yt.shape} vs {yp.shape}")
    if yt.ndim not in (2, 3):
        raise ValueError(f"y_true and y_pred must be (n_steps, dim) or (batch, n_steps, dim), "
                         f"got shape {yt.shape}")
    if yt.shape[-2] < 1 or yt.shape[-1] < 1:
        raise ValueError(f"y_true is empty: shape {yt.shape}")
    return yt, yp


def failed_steps(y_pred):
    """Which rows of a forecast count as failed: from the first row holding a NaN or inf
    on, every row (even one that is finite again).

    Parameters
    ----------
    y_pred : array (n_steps, dim) or (batch, n_steps, dim)

    Returns
    -------
    bool array (n_steps,) or (batch, n_steps)
    """
    yp = as_float_array(y_pred, "y_pred")
    if yp.ndim < 2:
        raise ValueError(f"y_pred must be (n_steps, dim) or (batch, n_steps, dim), got shape "
                         f"{yp.shape}")
    bad = ~np.all(np.isfinite(yp), axis=-1)
    return np.logical_or.accumulate(bad, axis=-1)


def error_curve(y_true, y_pred, scale=None):
    """Normalised error ``e(t)`` of a forecast, in attractor standard deviations.

    ``e(t) = sqrt( (1/d) sum_i ((y_hat_i(t) - y_i(t)) / sigma_i)^2 )``: the root mean square
    over the ``d`` variables of the error in units of each variable's standard deviation
    ``sigma_i`` (the NRMSE(t) of Vlachas et al., Neural Networks 126, 191, 2020); ``e`` near
    1.4 means "as far apart as two random points of the attractor". From a forecast's
    first non-finite row on, ``e = inf`` (see the module notes).

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    scale : array (dim,), optional
        ``sigma_i``; by default the standard deviation of ``y_true`` over all its rows (of
        every trajectory), which is only meaningful for long ``y_true``: pass the
        attractor's.

    Returns
    -------
    array (n_steps,) or (batch, n_steps)
    """
    yt, yp = _pair(y_true, y_pred)
    if scale is None:
        scale = yt.reshape(-1, yt.shape[-1]).std(axis=0)
    scale = as_float_array(scale, "scale")
    if scale.shape not in ((), (yt.shape[-1],)) or np.any(~np.isfinite(scale)) \
            or np.any(scale <= 0):
        raise ValueError(f"scale must be positive and finite for every variable "
                         f"({yt.shape[-1]} values), got {scale}")
    with np.errstate(all="ignore"):
        e = np.sqrt(np.mean(((yp - yt) / scale) ** 2, axis=-1))
    e[failed_steps(yp) | ~np.isfinite(e)] = np.inf
    return e


def smape_curve(y_true, y_pred, *, cumulative=False):
    """Pointwise symmetric mean absolute percentage error, in percent (0 to 200).

    ``sMAPE(t) = (200/d) sum_i |y_hat_i(t) - y_i(t)| / (|y_hat_i(t)| + |y_i(t)|)``, a term
    with ``y_hat_i = y_i = 0`` counting 0 (Gilpin, NeurIPS 2021 Datasets and Benchmarks;
    dysts adds ``1e-10`` to the denominator instead, which changes values only where
    ``|y_hat_i| + |y_i|`` is comparable to ``1e-10``). From a forecast's first non-finite
    row on, ``sMAPE = 200``, its maximum.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    cumulative : bool
        Return the running mean ``(1/(t+1)) sum_{s<=t} sMAPE(s)`` instead: the sMAPE of the
        forecast's first ``t + 1`` rows, what ``dysts.metrics.smape(y[:t+1], y_hat[:t+1])``
        computes on the 0-200 scale (its ``scaled=False``).

    Returns
    -------
    array (n_steps,) or (batch, n_steps)
    """
    yt, yp = _pair(y_true, y_pred)
    with np.errstate(all="ignore"):
        den = np.abs(yp) + np.abs(yt)
        r = np.where(den > 0, np.abs(yp - yt) / np.where(den > 0, den, 1.0), 0.0)
    s = 200.0 * r.mean(axis=-1)
    s[failed_steps(yp)] = 200.0
    if cumulative:
        s = np.cumsum(s, axis=-1) / np.arange(1, s.shape[-1] + 1)
    return s


def smape(y_true, y_pred):
    """sMAPE of a whole forecast in percent (0 to 200): the mean of :func:`smape_curve`
    over the rows, ``(200/(n d)) sum_t sum_i |y_hat_i - y_i| / (|y_hat_i| + |y_i|)``, as
    ``dysts.metrics.smape`` on the 0-200 scale. Failed rows count 200.

    Returns
    -------
    float, or array (batch,) for a batch
    """
    s = smape_curve(y_true, y_pred).mean(axis=-1)
    return float(s) if np.ndim(s) == 0 else s


def nrmse(y_true, y_pred, *, total_variance=None):
    """Normalised root-mean-square error of a forecast window, normalised by the total
    variance (Gauthier, Bollt, Griffith & Barbosa, Nat. Commun. 12, 5564, 2021).

    ``NRMSE = sqrt( (1/(n d)) sum_t sum_i (y_hat_i(t) - y_i(t))^2 / V )`` over the ``n``
    rows and ``d`` variables given, with ``V = sum_i Var(y_i)`` the total variance of the
    truth: the definition of the NG-RC paper's code, which evaluates it over one Lyapunov
    time of forecast (pass ``y[:n]`` with ``n = round(1 / (lyapunov_exponent dt))``) with
    ``V`` from the whole simulated trajectory (pass it as ``total_variance``). Note the
    mean over variables inside the root: a forecast off by one standard deviation in every
    variable has ``NRMSE = 1/sqrt(d)``. ``inf`` if the window holds a failed row.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    total_variance : float, optional
        ``V``, in squared units of the data, e.g. ``X.var(axis=0).sum()`` of a long
        trajectory; by default the total variance of ``y_true`` over all its rows (of
        every trajectory), which for a short window is smaller than the attractor's.

    Returns
    -------
    float, or array (batch,) for a batch
    """
    yt, yp = _pair(y_true, y_pred)
    if total_variance is None:
        total_variance = float(yt.reshape(-1, yt.shape[-1]).var(axis=0).sum())
        if total_variance <= 0:
            raise ValueError("y_true is constant: its total variance is 0; pass "
                             "total_variance=")
    else:
        total_variance = check_float(total_variance, "total_variance", positive=True)
    with np.errstate(all="ignore"):
        out = np.sqrt(np.mean((yp - yt) ** 2, axis=(-2, -1)) / total_variance)
    out = np.where(failed_steps(yp).any(axis=-1) | ~np.isfinite(out), np.inf, out)
    return float(out) if np.ndim(out) == 0 else out


def _rows_within(horizon, dt, lyapunov_exponent):
    """Rows ``k`` with ``(k + 1) dt <= horizon / lyapunov_exponent`` (to rounding)."""
    return int(math.floor(horizon / (lyapunov_exponent * dt) * (1 + 1e-9)))


def smape_at(y_true, y_pred, dt, lyapunov_exponent, horizons=(1, 4, 10)):
    """sMAPE accumulated up to fixed forecast horizons in Lyapunov times.

    For each horizon ``h``: the rows within ``h`` Lyapunov times of the last observed
    state, ``n_h = floor(h / (lyapunov_exponent dt))`` rows (row ``k`` at time
    ``(k + 1) dt``), and their sMAPE ``(1/n_h) sum_{k < n_h} sMAPE(k)`` on the 0-200
    scale (:func:`smape_curve`; the same as ``dysts.metrics.smape(y[:n_h], y_hat[:n_h],
    scaled=False)`` up to its ``1e-10``). Failed rows count 200.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    dt : float
        Sampling interval of the rows, in time units.
    lyapunov_exponent : float
        The system's largest exponent, per unit time.
    horizons : sequence of float
        Horizons in Lyapunov times; each must cover at least one row and at most the
        forecast's ``n_steps``.

    Returns
    -------
    array (len(horizons),) or (batch, len(horizons))
    """
    dt = check_dt(dt)
    lam = check_float(lyapunov_exponent, "lyapunov_exponent", positive=True)
    hs = np.atleast_1d(as_float_array(horizons, "horizons"))
    if hs.ndim != 1 or hs.size == 0 or not np.all(np.isfinite(hs)) or np.any(hs <= 0):
        raise ValueError(f"horizons must be positive numbers (Lyapunov times), got "
                         f"{horizons!r}")
    run = smape_curve(y_true, y_pred, cumulative=True)
    n = run.shape[-1]
    out = []
    for h in hs:
        k = _rows_within(h, dt, lam)
        if k < 1:
            raise ValueError(f"horizons: {h:g} Lyapunov times is shorter than one row "
                             f"(dt * lyapunov_exponent = {dt * lam:g})")
        if k > n:
            raise ValueError(f"horizons: {h:g} Lyapunov times needs {k} rows, the "
                             f"forecast has {n}")
        out.append(run[..., k - 1])
    return np.stack(out, axis=-1)


def _first_failure(curve, threshold, cumulative=False, failed=None):
    """Index of the first step over ``threshold`` (of the running mean if
    ``cumulative``) or in ``failed``; the length if none."""
    c = as_float_array(curve, "y_true (an error curve)")
    if c.ndim < 1 or c.shape[-1] < 1:
        raise ValueError(f"y_true (an error curve) must have at least one step, got shape "
                         f"{c.shape}")
    if cumulative:
        c = np.cumsum(c, axis=-1) / np.arange(1, c.shape[-1] + 1)
    over = ~(c <= threshold)           # NaN and inf count as over
    if failed is not None:
        over |= failed
    first = np.argmax(over, axis=-1)
    return np.where(over.any(axis=-1), first, c.shape[-1])


def valid_prediction_steps(y_true, y_pred=None, *, method="nrmse", threshold=None,
                           scale=None):
    """Number of leading rows of a forecast that are valid: the index of its first
    invalid row (``n_steps`` if none is). The low-level form of
    :func:`valid_prediction_time`, with the same ``method`` and ``threshold``.

    ``valid_prediction_steps(curve, threshold)``, with an error curve (e.g. from
    :func:`error_curve`) and a number, counts the leading steps at or below
    ``threshold`` (NaN and inf count as over); this older form works on ``(…, n_steps)``.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    method : {"nrmse", "smape", "cumulative_smape"}
        See :func:`valid_prediction_time`.
    threshold : float, optional
        Default 0.4 for ``"nrmse"``, 30 for the sMAPE methods.
    scale : array (dim,), optional
        Attractor standard deviations for ``"nrmse"`` (see :func:`error_curve`).

    Returns
    -------
    int, or int array (batch,)
    """
    if y_pred is None or np.ndim(y_pred) == 0:          # (curve, threshold)
        thr = threshold if y_pred is None else y_pred
        if thr is None:
            raise TypeError("valid_prediction_steps(curve, threshold) needs a threshold")
        steps = _first_failure(y_true, check_float(thr, "threshold", allow_inf=True))
        return int(steps) if np.ndim(steps) == 0 else steps
    check_choice(method, "method", tuple(VPT_METHODS))
    thr = VPT_METHODS[method] if threshold is None else check_float(threshold, "threshold")
    if method == "nrmse":
        steps = _first_failure(error_curve(y_true, y_pred, scale), thr)
    else:
        curve = smape_curve(y_true, y_pred)
        steps = _first_failure(curve, thr, cumulative=method == "cumulative_smape",
                               failed=failed_steps(y_pred))
    return int(steps) if np.ndim(steps) == 0 else steps


def valid_prediction_time(y_true, y_pred, dt, lyapunov_exponent=None, *, threshold=None,
                          scale=None, method="nrmse"):
    """Valid prediction time (VPT): how long a forecast stays close to the truth.

    The VPT is ``n dt``, ``n`` the number of leading rows that are valid (row ``k`` is
    ``(k + 1) dt`` after the last observed state, so a forecast whose first row is invalid
    has VPT 0 and one whose row 3 is the first invalid has VPT ``3 dt``). Three published
    definitions of "valid":

    ``method="nrmse"`` (default)
        the normalised error :func:`error_curve` ``e(t)`` (each variable in units of its
        attractor standard deviation) is at most ``threshold`` (default 0.4). This is the
        NRMSE(t) and the VPT of Vlachas et al. (Neural Networks 126, 191, 2020), who use
        0.5, with the threshold 0.4 of Pathak et al. (PRL 120, 024102, 2018), who
        normalise instead by the root-mean-square norm of the true state.
    ``method="smape"``
        the pointwise sMAPE :func:`smape_curve` is at most ``threshold`` (default 30, in
        percent on the 0-200 scale): "the first time the sMAPE exceeds 30" of Gilpin
        (NeurIPS 2021; Phys. Rev. Research 5, 043252, 2023) read pointwise.
    ``method="cumulative_smape"``
        the sMAPE of the forecast so far, the running mean ``(1/(t+1)) sum_{s<=t}
        sMAPE(s)`` (``smape_curve(..., cumulative=True)``), is at most ``threshold``
        (default 30): the definition the dysts benchmark code computes (``vpt_smape`` in
        williamgilpin/dysts_data ``benchmark_results/scripts/utils.py``: the first index
        where ``dysts.metrics.smape(y[:t+1], y_hat[:t+1])`` exceeds 30).

    In every method a forecast is invalid from its first non-finite row on (the running
    mean of ``"cumulative_smape"`` alone would let a NaN late in a good forecast pass).

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    dt : float
        Sampling interval of the rows, in time units.
    lyapunov_exponent : float, optional
        The system's largest exponent ``lambda`` (per unit time). When given, the VPT is
        returned in Lyapunov times ``lambda t`` (a Lyapunov time ``1/lambda`` is how long an
        error takes to grow e-fold); otherwise in the system's time units.
    threshold : float, optional
    scale : array (dim,), optional
        Attractor standard deviations for ``"nrmse"`` (see :func:`error_curve`).
    method : {"nrmse", "smape", "cumulative_smape"}

    Returns
    -------
    float, or array (batch,)
        A forecast that stays valid gets the full horizon (a lower bound).
    """
    dt = check_dt(dt)
    if lyapunov_exponent is not None:
        lam = check_float(lyapunov_exponent, "lyapunov_exponent")
        if lam <= 0:
            raise ValueError(f"lyapunov_exponent must be positive to count Lyapunov times, "
                             f"got {lyapunov_exponent}")
    t = valid_prediction_steps(y_true, y_pred, method=method, threshold=threshold,
                               scale=scale) * dt
    if lyapunov_exponent is not None:
        t = t * lam
    return float(t) if np.ndim(t) == 0 else t
