"""Does a model's long-run behaviour look like the attractor: occupation densities, power
spectra, exponents and dimensions."""
import math

import numpy as np


def _traj(x, name):
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"{name} must be (n_samples, dim), got shape {a.shape}")
    return a


def state_space_divergence(x_true, x_gen, bins=30, *, margin=0.1, smoothing=1e-6):
    """State-space divergence ``D_stsp``: Kullback-Leibler divergence between binned
    occupation densities of the true and the generated trajectory.

    Each variable's range over ``x_true`` (widened by ``margin`` of the range on each side)
    is cut into ``bins`` equal bins. ``p_k`` and ``q_k`` are the fractions of the true and the
    generated samples in bin ``k`` (generated samples outside the box count in a single
    overflow bin, which the true density leaves empty); both get ``smoothing`` added to each
    bin and are renormalised, and ``D_stsp = sum_k p_k log(p_k / q_k)`` in nats. This is the
    binned version used for low-dimensional systems by Koppe et al. (PLoS Comput. Biol.
    2019) and Hess et al. (ICML 2023). 0 means identical occupation; a generated trajectory
    that blew up (non-finite) gets ``inf``.

    For more than three variables the bins grow as ``bins**dim``; only the first three
    variables are used then (say so when you report it).
    """
    xt = _traj(x_true, "x_true")
    xg = _traj(x_gen, "x_gen")
    if xt.shape[1] != xg.shape[1]:
        raise ValueError("x_true and x_gen have different dimensions")
    if not np.all(np.isfinite(xg)):
        return math.inf
    xt, xg = xt[:, :3], xg[:, :3]
    lo, hi = xt.min(axis=0), xt.max(axis=0)
    pad = margin * (hi - lo) + 1e-12
    edges = [np.linspace(a - p, b + p, int(bins) + 1) for a, b, p in zip(lo, hi, pad)]

    def density(x):
        inside = np.all([(x[:, i] >= e[0]) & (x[:, i] <= e[-1]) for i, e in
                         enumerate(edges)], axis=0)
        h, _ = np.histogramdd(x[inside], bins=edges)
        h = np.append(h.ravel(), (~inside).sum())
        return h / len(x)

    p = density(xt) + smoothing
    q = density(xg) + smoothing
    p /= p.sum()
    q /= q.sum()
    return float(np.sum(p * np.log(p / q)))


def power_spectrum_distance(x_true, x_gen, *, smoothing=20.0, nfft=None):
    """Power-spectrum Hellinger distance ``D_H`` between two trajectories.

    For each variable: the power spectra ``|FFT|^2`` of the standardised (with the true
    trajectory's mean and std) signals, smoothed with a Gaussian kernel of ``smoothing``
    frequency bins and normalised to sum 1, are compared by the Hellinger distance
    ``H = sqrt(1 - sum_f sqrt(p_f q_f))`` (between 0, identical, and 1, disjoint); ``D_H``
    is the mean over variables (Mikhaeil et al., NeurIPS 2022; Hess et al., ICML 2023).
    Both trajectories are cut to the same length. A blown-up trajectory gets 1.
    """
    from scipy.ndimage import gaussian_filter1d

    xt = _traj(x_true, "x_true")
    xg = _traj(x_gen, "x_gen")
    if xt.shape[1] != xg.shape[1]:
        raise ValueError("x_true and x_gen have different dimensions")
    if not np.all(np.isfinite(xg)):
        return 1.0
    n = min(len(xt), len(xg))
    n = n if nfft is None else min(n, int(nfft))
    mu, sd = xt.mean(axis=0), xt.std(axis=0) + 1e-12
    out = []
    for i in range(xt.shape[1]):
        ps = []
        for x in (xt, xg):
            s = (x[-n:, i] - mu[i]) / sd[i]
            f = np.abs(np.fft.rfft(s - s.mean())) ** 2
            if smoothing:
                f = gaussian_filter1d(f, float(smoothing))
            tot = f.sum()
            ps.append(f / tot if tot > 0 else np.full_like(f, 1.0 / len(f)))
        bc = np.sum(np.sqrt(ps[0] * ps[1]))
        out.append(math.sqrt(max(0.0, 1.0 - bc)))
    return float(np.mean(out))


def learned_lyapunov_exponent(learner, context, **kw):
    """Largest Lyapunov exponent of a fitted learner's closed-loop dynamics, per unit time
    (see :meth:`chaoslab.learners.Learner.lyapunov_exponent`)."""
    return float(learner.lyapunov_exponent(context, **kw))
