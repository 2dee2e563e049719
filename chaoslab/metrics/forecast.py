"""Pointwise forecast errors and the valid prediction time."""
import math

import numpy as np


def _pair(y_true, y_pred):
    yt = np.asarray(y_true, dtype=np.float64)
    yp = np.asarray(y_pred, dtype=np.float64)
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {yt.shape} vs {yp.shape}")
    if yt.ndim < 2:
        raise ValueError(f"expected (n_steps, dim) or (batch, n_steps, dim), got {yt.shape}")
    return yt, yp


def error_curve(y_true, y_pred, scale=None):
    """Normalised error ``e(t)`` of a forecast.

    ``e(t) = sqrt( (1/d) sum_i ((y_hat_i(t) - y_i(t)) / sigma_i)^2 )``: the root mean square
    over the ``d`` variables of the error in units of each variable's standard deviation
    ``sigma_i`` on the attractor (so ``e`` near 1.4 means "as far apart as two random
    points of the attractor"). A forecast that blew up has ``e = inf`` from then on.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    scale : array (dim,), optional
        ``sigma_i``; by default the standard deviation of ``y_true`` over all its rows,
        which is only meaningful for long ``y_true``: pass the attractor's.

    Returns
    -------
    array (n_steps,) or (batch, n_steps)
    """
    yt, yp = _pair(y_true, y_pred)
    if scale is None:
        scale = yt.reshape(-1, yt.shape[-1]).std(axis=0)
    scale = np.asarray(scale, dtype=np.float64)
    if np.any(~np.isfinite(scale)) or np.any(scale <= 0):
        raise ValueError("scale must be positive and finite for every variable")
    with np.errstate(all="ignore"):
        e = np.sqrt(np.mean(((yp - yt) / scale) ** 2, axis=-1))
    e[~np.isfinite(e)] = np.inf
    return e


def smape_curve(y_true, y_pred):
    """Pointwise symmetric mean absolute percentage error, in percent (0 to 200):
    ``sMAPE(t) = (200/d) sum_i |y_hat_i - y_i| / (|y_hat_i| + |y_i|)``, as in Gilpin (2023)."""
    yt, yp = _pair(y_true, y_pred)
    with np.errstate(all="ignore"):
        den = np.abs(yp) + np.abs(yt)
        r = np.where(den > 0, np.abs(yp - yt) / den, 0.0)
    r[~np.isfinite(r)] = 1.0
    return 200.0 * r.mean(axis=-1)


def smape(y_true, y_pred):
    """sMAPE averaged over the whole forecast (percent): the mean of :func:`smape_curve`."""
    return float(np.mean(smape_curve(y_true, y_pred)))


def valid_prediction_steps(curve, threshold):
    """Number of leading samples of an error curve at or below ``threshold`` (the index of
    the first crossing; the full length if it never crosses). Works on (…, n_steps)."""
    c = np.asarray(curve, dtype=np.float64)
    over = ~(c <= threshold)
    first = np.argmax(over, axis=-1)
    return np.where(over.any(axis=-1), first, c.shape[-1])


def valid_prediction_time(y_true, y_pred, dt, lyapunov_exponent=None, *, threshold=None,
                          scale=None, method="nrmse"):
    """Valid prediction time (VPT): how long a forecast stays close to the truth.

    ``method="nrmse"`` (default): the first time the normalised error :func:`error_curve`
    exceeds ``threshold`` (default 0.4; Pathak et al., PRL 120, 024102, 2018 use this
    threshold with a similar normalisation). ``method="smape"``: the first time the
    pointwise sMAPE exceeds ``threshold`` (default 30), the definition of Gilpin (NeurIPS
    2021; 2023). Row ``k`` of the forecast is taken to be ``(k + 1) dt`` after the last
    observed state, so a forecast that fails at its first row has VPT 0.

    Parameters
    ----------
    y_true, y_pred : array (n_steps, dim) or (batch, n_steps, dim)
    dt : float
        Sampling interval of the rows.
    lyapunov_exponent : float, optional
        The system's largest exponent ``lambda`` (per unit time). When given, the VPT is
        returned in Lyapunov times ``lambda t`` (a Lyapunov time ``1/lambda`` is how long an
        error takes to grow e-fold); otherwise in the system's time units.
    threshold : float, optional
    scale : array (dim,), optional
        Attractor standard deviations for ``"nrmse"`` (see :func:`error_curve`).

    Returns
    -------
    float, or array (batch,)
        A forecast that never crosses gets the full horizon (a lower bound).
    """
    dt = float(dt)
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if method == "nrmse":
        curve = error_curve(y_true, y_pred, scale)
        threshold = 0.4 if threshold is None else float(threshold)
    elif method == "smape":
        curve = smape_curve(y_true, y_pred)
        threshold = 30.0 if threshold is None else float(threshold)
    else:
        raise ValueError(f"method must be 'nrmse' or 'smape', got {method!r}")
    t = valid_prediction_steps(curve, threshold) * dt
    if lyapunov_exponent is not None:
        lam = float(lyapunov_exponent)
        if not math.isfinite(lam) or lam <= 0:
            raise ValueError(f"lyapunov_exponent must be positive to count Lyapunov times, "
                             f"got {lyapunov_exponent}")
        t = t * lam
    return float(t) if np.ndim(t) == 0 else t
