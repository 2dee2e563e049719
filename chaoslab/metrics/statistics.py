"""Does a model's long-run behaviour look like the attractor: occupation densities and
power spectra (the D_stsp and D_H of the dynamical-systems-reconstruction literature),
learned exponents.

D_stsp and D_H follow the authors' Julia code (DurstewitzLab/GTF-shPLRNN and
DurstewitzLab/ALRNN-DSR, ``src/measures/stsp_measure.jl`` and ``src/measures/pse.jl``;
Hess et al., ICML 2023; Brenner et al., NeurIPS 2024), so values can be compared with their
tables. The truth must be finite (a ``ValueError`` naming ``x_true`` otherwise); a
generated trajectory holding a NaN or inf gets the worst value (``inf`` for D_stsp, 1 for
D_H).
"""
import math

import numpy as np

from ..validation import (as_float_array, check_choice, check_finite_array, check_float,
                          check_int)

#: D_stsp methods of :func:`state_space_divergence`.
STSP_METHODS = ("binned", "gmm")


def _truth(x, name="x_true"):
    a = check_finite_array(x, name, ndim=2)
    if a.shape[0] < 2 or a.shape[1] < 1:
        raise ValueError(f"{name} must be (n_samples, dim) with n_samples >= 2, got shape "
                         f"{a.shape}")
    return a


def _generated(x, dim, name="x_gen"):
    a = as_float_array(x, name)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{name} must be (n_samples, dim), got shape {a.shape}")
    if a.shape[1] != dim:
        raise ValueError(f"x_true and {name} have different dimensions: {dim} vs "
                         f"{a.shape[1]}")
    return a


def bin_edges(x_true, bins=30):
    """The bin edges of the binned D_stsp: for each variable ``bins`` equal bins from
    ``min - 0.1 sigma`` to ``max + 0.1 sigma`` of ``x_true`` (``sigma`` its standard
    deviation, ``n - 1`` in the denominator), the authors' ``"default"`` binning.

    Returns
    -------
    list of arrays (bins + 1,), one per variable
    """
    xt = _truth(x_true)
    bins = check_int(bins, "bins", minimum=1)
    sd = xt.std(axis=0, ddof=1)
    if np.any(sd <= 0):
        raise ValueError(f"x_true is constant in variable(s) "
                         f"{np.flatnonzero(sd <= 0).tolist()}: its occupation density has "
                         "no extent to bin")
    lo, hi = xt.min(axis=0) - 0.1 * sd, xt.max(axis=0) + 0.1 * sd
    return [np.linspace(a, b, bins + 1) for a, b in zip(lo, hi)]


def _bin_counts(x, edges):
    """Occupied bins of ``x`` and their counts; points outside the box are dropped. Bins
    are closed on the left, ``[e_j, e_{j+1})``. A bin is named by its flat index when
    ``bins**dim`` fits in int64 (and ``dim <= 32``), else by its row of per-variable indices."""
    nb, dim = len(edges[0]) - 1, len(edges)
    idx = np.stack([np.searchsorted(e, x[:, i], side="right") - 1
                    for i, e in enumerate(edges)], axis=1)
    idx = idx[np.all((idx >= 0) & (idx < nb), axis=1)]
    if nb ** dim < 2 ** 62 and dim <= 32:
        return np.unique(np.ravel_multi_index(idx.T, (nb,) * dim), return_counts=True)
    if len(idx) == 0:
        return np.empty((0, dim), dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.unique(idx, axis=0, return_counts=True)


def _binned_kl(xt, xg, bins, alpha):
    edges = bin_edges(xt, bins)
    kt, ct = _bin_counts(xt, edges)
    kg, cg = _bin_counts(xg, edges)
    n_t, n_g = float(ct.sum()), float(cg.sum())
    if n_g == 0:                     # no generated point in the box
        return math.inf
    keys, inv = np.unique(np.concatenate([kt, kg]), axis=0 if kt.ndim == 2 else None,
                          return_inverse=True)
    inv = np.ravel(inv)
    ht = np.bincount(inv[:len(kt)], weights=ct, minlength=len(keys))
    hg = np.bincount(inv[len(kt):], weights=cg, minlength=len(keys))
    n_bins = float(bins) ** xt.shape[1]
    zt, zg = n_t + alpha * n_bins, n_g + alpha * n_bins
    p, q = (ht + alpha) / zt, (hg + alpha) / zg
    kl = float(np.sum(p * np.log(p / q)))
    # every bin that neither trajectory visits holds p0 = alpha/zt, q0 = alpha/zg
    p0, q0 = alpha / zt, alpha / zg
    kl += (n_bins - len(keys)) * p0 * math.log(p0 / q0)
    return kl


def _gmm_log_density(samples, centres, sigma):
    """``log( (1/T) sum_t exp(-|s - c_t|^2 / (2 sigma^2)) / sigma^N )`` for each sample
    (the ``(2 pi)^(N/2)`` is left out, as in the authors' code: it cancels in the KL)."""
    n, dim = centres.shape
    cc = np.einsum("ij,ij->i", centres, centres)
    out = np.empty(len(samples))
    step = max(1, int(2_000_000 // max(n, 1)))
    for a in range(0, len(samples), step):
        s = samples[a:a + step]
        e = s @ centres.T
        e *= 2.0
        e -= cc[None, :]
        e -= np.einsum("ij,ij->i", s, s)[:, None]      # -|s - c|^2
        np.minimum(e, 0.0, out=e)
        e *= 0.5 / sigma ** 2
        top = e.max(axis=1)
        e -= top[:, None]
        np.exp(e, out=e)
        out[a:a + step] = top + np.log(e.sum(axis=1))
    return out - math.log(n) - dim * math.log(sigma)


def _gmm_kl(xt, xg, scaling, n_samples, max_points, seed):
    scaling = check_float(scaling, "scaling", positive=True)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    max_points = check_int(max_points, "max_points", minimum=1)
    T = min(len(xt), max_points)
    Xt, Xg = xt[:T], xg[:T]
    sigma = math.sqrt(scaling)
    rng = np.random.default_rng(seed)
    t = rng.integers(0, T, size=n_samples)
    samples = Xt[t] + sigma * rng.standard_normal((n_samples, xt.shape[1]))
    return float(np.mean(_gmm_log_density(samples, Xt, sigma)
                         - _gmm_log_density(samples, Xg, sigma)))


def state_space_divergence(x_true, x_gen, bins=30, *, method="binned", alpha=1e-5,
                           scaling=1.0, n_samples=1000, max_points=10_000, seed=0):
    """State-space divergence ``D_stsp``: the Kullback-Leibler divergence
    ``KL(p_true || p_gen)``, in nats, between where the true and the generated trajectory
    spend their time (Koppe et al., PLoS Comput. Biol. 2019; Mikhaeil et al., NeurIPS
    2022; Hess et al., ICML 2023). 0 means the same occupation.

    ``method="binned"`` (default; the authors' ``state_space_divergence(X, X_gen,
    n_bins)``, ``state_space_distance`` in ALRNN-DSR)
        Each variable's range over ``x_true``, from ``min - 0.1 sigma`` to
        ``max + 0.1 sigma`` (``sigma`` its standard deviation), is cut into ``bins``
        equal bins (:func:`bin_edges`); ``h_k`` and ``g_k`` count the true and the
        generated samples in bin ``k`` of the ``B = bins**dim`` bins (generated samples
        outside the box are left out, as in the authors' code: a generated trajectory
        that spends part of its time far away is judged only by the rest). With Laplace
        smoothing ``p_k = (h_k + alpha) / (sum h + alpha B)``,
        ``q_k = (g_k + alpha) / (sum g + alpha B)``, ``alpha = 1e-5``, and
        ``D_stsp = sum_k p_k ln(p_k / q_k)`` over all ``B`` bins (computed from the
        occupied ones, so any ``dim`` works; the authors switch to the GMM form for
        ``dim >= 6`` (GTF) or ``dim >= 11`` (AL-RNN) because their histograms are
        dense). No generated sample in the box gives ``inf`` (the authors' code returns
        NaN). The Python tutorial of ALRNN-DSR (``state_space_divergence_binning``)
        differs: its bins span the exact min to max and it drops the lowest bin of each
        variable; chaoslab follows the Julia code the papers' tables come from (which
        counts in UInt16, wrapping past 65,535 samples in one bin; chaoslab's counts do
        not wrap).
    ``method="gmm"`` (the authors' ``state_space_divergence(X, X_gen, sigma2)``)
        Each trajectory, cut to its first ``T = min(len(x_true), max_points)`` points
        (the first, not a sub-sample), defines a Gaussian mixture with one isotropic
        component of variance ``scaling`` (``sigma^2``, in squared data units; the
        authors' default 1.0) on each point. ``n_samples`` points ``s_j`` are drawn from
        the true mixture (``numpy.random.default_rng(seed)``: first the ``n_samples``
        component indices, uniform on ``0..T-1``, then an ``(n_samples, dim)`` array of
        standard normals times ``sigma``), and ``D_stsp = (1/n) sum_j [ln p(s_j) -
        ln q(s_j)]``, the Monte-Carlo estimate of Hershey & Olsen (ICASSP 2007). chaoslab
        evaluates the log densities with log-sum-exp in float64; the authors' code
        evaluates the densities in float32 and drops samples where either underflows to
        0, which makes a far-off generated trajectory look better than it is.

    Parameters
    ----------
    x_true, x_gen : array (n_samples, dim)
        True and generated (free-running) trajectories; their lengths may differ.
    bins : int
        Bins per variable (binned; the authors' ``D_stsp_bins = 30``).
    method : {"binned", "gmm"}
    alpha : float
        Laplace smoothing constant (binned).
    scaling, n_samples, max_points, seed
        Component variance, Monte-Carlo samples, points used and the random seed (gmm).

    Returns
    -------
    float
        ``inf`` if ``x_gen`` holds a NaN or inf.
    """
    check_choice(method, "method", STSP_METHODS)
    xt = _truth(x_true)
    xg = _generated(x_gen, xt.shape[1])
    if not np.all(np.isfinite(xg)):
        return math.inf
    if method == "binned":
        bins = check_int(bins, "bins", minimum=1)
        alpha = check_float(alpha, "alpha", positive=True)
        return _binned_kl(xt, xg, bins, alpha)
    return _gmm_kl(xt, xg, scaling, n_samples, max_points, seed)


def normalized_power_spectrum(x, smoothing=20.0):
    """Normalised, smoothed power spectrum of each variable, as compared by
    :func:`power_spectrum_distance`.

    Each column is z-scored (its own mean and standard deviation), its power spectrum
    ``|rfft|^2`` (all ``n // 2 + 1`` frequencies, the zero one included) smoothed with a
    Gaussian kernel of standard deviation ``smoothing`` frequency bins (radius
    ``4 smoothing``, reflecting at the ends: ``scipy.ndimage.gaussian_filter1d``, which the
    authors' Julia ``smooth_dims!`` reproduces), negative rounding residues set to 0, and
    normalised to sum 1. A constant column (standard deviation below ``1e-10`` of its
    magnitude: a fixed point up to rounding) has no spectrum: NaN.

    Parameters
    ----------
    x : array (n_samples, dim) or (n_samples,)
    smoothing : float
        Standard deviation of the smoothing kernel, in frequency bins (0: none; below 0.05
        the kernel is the identity to double precision and is skipped); at most 1e6.

    Returns
    -------
    array (n_samples // 2 + 1, dim)
    """
    from scipy.ndimage import gaussian_filter1d

    a = as_float_array(x, "x")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"x must be (n_samples, dim) with n_samples >= 2, got shape "
                         f"{a.shape}")
    smoothing = check_float(smoothing, "smoothing", nonnegative=True)
    if smoothing > 1e6:  # the kernel's size would exceed what scipy can allocate
        raise ValueError(f"smoothing must be at most 1e6 frequency bins, got {smoothing:g}")
    if smoothing < 0.05:  # the kernel is the identity to double precision
        smoothing = 0.0
    sd = a.std(axis=0, ddof=1)
    flat = _constant(a)
    with np.errstate(all="ignore"):
        z = (a - a.mean(axis=0)) / sd
    ps = np.abs(np.fft.rfft(z, axis=0)) ** 2
    if smoothing > 0:
        ps = gaussian_filter1d(ps, smoothing, axis=0, mode="reflect", truncate=4.0)
        ps = np.maximum(ps, 0.0)
    with np.errstate(all="ignore"):
        ps = ps / ps.sum(axis=0)
    ps[:, flat] = np.nan
    return ps


def _constant(a):
    """Columns whose standard deviation is below ``1e-10`` of their magnitude: constant
    up to rounding (a fixed point), whose z-scored spectrum would be rounding noise."""
    sd = a.std(axis=0)
    return ~(sd > 1e-10 * np.max(np.abs(a), axis=0))


def power_spectrum_distance(x_true, x_gen, *, smoothing=20.0):
    """Power-spectrum Hellinger distance ``D_H`` between two trajectories (Mikhaeil et
    al., NeurIPS 2022; Hess et al., ICML 2023; the authors' ``power_spectrum_error``).

    For each variable, the normalised and smoothed power spectra ``p`` and ``q`` of the
    true and the generated series (:func:`normalized_power_spectrum`: each series z-scored
    on its own, Gaussian smoothing with ``smoothing = 20`` frequency bins) are compared by
    the Hellinger distance ``H = sqrt( (1/2) sum_f (sqrt(p_f) - sqrt(q_f))^2 )``, between
    0 (identical) and 1 (disjoint); ``D_H`` is the mean of ``H`` over variables. Shifting
    or scaling a series leaves it unchanged.

    Parameters
    ----------
    x_true, x_gen : array (n_samples, dim)
        Of the same length (the spectra must share their frequencies).
    smoothing : float
        Standard deviation of the smoothing kernel, in frequency bins (0: none).

    Returns
    -------
    float
        1 if ``x_gen`` holds a NaN or inf; a generated variable that is constant gets
        ``H = 1`` (no power where the truth has it).
    """
    xt = _truth(x_true)
    xg = _generated(x_gen, xt.shape[1])
    if xg.shape[0] != xt.shape[0]:
        raise ValueError(f"x_true and x_gen must have the same length for D_H (their "
                         f"spectra must share frequencies), got {xt.shape[0]} and "
                         f"{xg.shape[0]}")
    if np.any(_constant(xt)):
        raise ValueError(f"x_true is constant in variable(s) "
                         f"{np.flatnonzero(_constant(xt)).tolist()}: it has no power "
                         "spectrum to compare with")
    if not np.all(np.isfinite(xg)):
        return 1.0
    p = normalized_power_spectrum(xt, smoothing)
    q = normalized_power_spectrum(xg, smoothing)
    h = np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2, axis=0))
    h = np.where(np.isfinite(h), np.minimum(h, 1.0), 1.0)
    return float(np.mean(h))


def learned_lyapunov_exponent(learner, context, **kw):
    """Largest Lyapunov exponent of a fitted learner's closed-loop dynamics, per unit time
    (see :meth:`chaoslab.learners.Learner.lyapunov_exponent`)."""
    return float(learner.lyapunov_exponent(context, **kw))
