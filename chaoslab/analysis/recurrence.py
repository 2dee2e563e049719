"""Recurrence plots and recurrence quantification analysis (RQA).

Two states ``x_i`` and ``x_j`` of a series recur when ``|x_i - x_j| <= eps``. The
recurrence matrix ``R_ij`` holds 1 where they do; its diagonal lines are stretches where
the series follows an earlier stretch of itself (determinism), its vertical lines stretches
where it stays near one state (laminarity). The measures follow Marwan et al. (2007),
"Recurrence plots for the analysis of complex systems", Physics Reports 438, 237-329:

- recurrence rate ``RR``: the fraction of pairs (outside the Theiler window) that recur;
- determinism ``DET``: the fraction of recurrent points on diagonal lines at least
  ``l_min`` long; ``L`` their mean length, ``L_max`` the longest, ``ENTR`` the Shannon
  entropy of their length distribution;
- laminarity ``LAM``: the same fraction for vertical lines at least ``v_min`` long;
  ``TT`` (trapping time) their mean length, ``V_max`` the longest.

Pairs with ``|i - j| < theiler`` are left out (``theiler=1`` leaves out the main
diagonal only). :func:`rqa` never stores the matrix: its numba kernels walk the diagonals
and columns in blocks, so 20,000 points take seconds and a few MB.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..validation import check_choice, check_finite_array, check_float, check_int

__all__ = ["rqa", "RQAResult", "recurrence_plot", "recurrence_threshold", "delay_embed"]

_KERNELS = None


def _kernels():
    """Compile the line-counting kernels on first use (numba is imported lazily)."""
    global _KERNELS
    if _KERNELS is not None:
        return _KERNELS
    import numba as nb

    @nb.njit(inline="always")
    def close(X, i, j, eps, maxnorm):
        s = 0.0
        for k in range(X.shape[1]):
            d = X[i, k] - X[j, k]
            if maxnorm:
                d = abs(d)
                if d > s:
                    s = d
            else:
                s += d * d
        return s <= eps

    @nb.njit(parallel=True, cache=True)
    def diagonal_lines(X, eps, maxnorm, theiler, n_chunks):
        """Histogram of diagonal line lengths in the upper triangle (offsets >= theiler)."""
        N = X.shape[0]
        hist = np.zeros((n_chunks, N + 1), dtype=np.int64)
        first = max(theiler, 1)
        for c in nb.prange(n_chunks):
            for k in range(first + c, N, n_chunks):
                run = 0
                for i in range(N - k):
                    if close(X, i, i + k, eps, maxnorm):
                        run += 1
                    elif run:
                        hist[c, run] += 1
                        run = 0
                if run:
                    hist[c, run] += 1
        return hist.sum(axis=0)

    @nb.njit(parallel=True, cache=True)
    def vertical_lines(X, eps, maxnorm, theiler, n_chunks):
        """Histogram of vertical line lengths over all columns (the Theiler band breaks
        a line, as a non-recurrence does)."""
        N = X.shape[0]
        hist = np.zeros((n_chunks, N + 1), dtype=np.int64)
        for c in nb.prange(n_chunks):
            for j in range(c, N, n_chunks):
                run = 0
                for i in range(N):
                    if abs(i - j) >= theiler and close(X, i, j, eps, maxnorm):
                        run += 1
                    elif run:
                        hist[c, run] += 1
                        run = 0
                if run:
                    hist[c, run] += 1
        return hist.sum(axis=0)

    _KERNELS = (diagonal_lines, vertical_lines)
    return _KERNELS


def delay_embed(x, dim: int, delay: int) -> np.ndarray:
    """A scalar series as ``dim``-dimensional delay vectors ``(x_i, x_{i+delay}, ...)``."""
    x = check_finite_array(x, "x", ndim=1)
    dim = check_int(dim, "dim", 1)
    delay = check_int(delay, "delay", 1)
    n = x.size - (dim - 1) * delay
    if n < 2:
        raise ValueError(f"delay_embed: a series of {x.size} samples is too short for "
                         f"dim={dim}, delay={delay}")
    return np.stack([x[i * delay:i * delay + n] for i in range(dim)], axis=1)


def _points(x, embedding):
    X = np.asarray(x, dtype=float) if not isinstance(x, np.ndarray) else x
    if embedding is not None:
        dim, delay = embedding
        return delay_embed(X, dim, delay)
    X = check_finite_array(X, "x")
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError(f"x must be a series (n,) or (n, dim), got shape {X.shape}")
    if X.shape[0] < 10:
        raise ValueError(f"x: recurrence analysis needs at least 10 points, got {X.shape[0]}")
    return np.ascontiguousarray(X)


def _dist(a, b, metric):
    d = a - b
    return np.max(np.abs(d), axis=-1) if metric == "max" else np.sqrt((d * d).sum(axis=-1))


def recurrence_threshold(x, recurrence_rate: float = 0.05, *, metric="euclidean",
                         embedding=None, theiler: int = 1, n_pairs: int = 200_000, seed=0):
    """The ``eps`` at which about ``recurrence_rate`` of the pairs recur (the quantile of
    the distances of ``n_pairs`` random pairs outside the Theiler window)."""
    X = _points(x, embedding)
    rate = check_float(recurrence_rate, "recurrence_rate", positive=True)
    if rate >= 1:
        raise ValueError(f"recurrence_rate must be in (0, 1), got {recurrence_rate!r}")
    metric = check_choice(metric, "metric", ("euclidean", "max"))
    theiler = check_int(theiler, "theiler", 0, X.shape[0] - 2)
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    i = rng.integers(0, n, n_pairs)
    j = rng.integers(0, n, n_pairs)
    keep = np.abs(i - j) >= max(theiler, 1)
    return float(np.quantile(_dist(X[i[keep]], X[j[keep]], metric), rate))


def recurrence_plot(x, eps=None, *, recurrence_rate: float = 0.05, metric="euclidean",
                    embedding=None, theiler: int = 0):
    """The recurrence matrix as a symmetric ``scipy.sparse.csr_matrix`` of booleans.

    ``eps`` is the threshold; by default the one giving ``recurrence_rate``. Pairs with
    ``|i - j| < theiler`` are left out (0 keeps the main diagonal).
    """
    from scipy import sparse
    from scipy.spatial import cKDTree

    X = _points(x, embedding)
    metric = check_choice(metric, "metric", ("euclidean", "max"))
    theiler = check_int(theiler, "theiler", 0, X.shape[0] - 1)
    if eps is None:
        eps = recurrence_threshold(X, recurrence_rate, metric=metric, theiler=theiler)
    eps = check_float(eps, "eps", nonnegative=True)
    n = X.shape[0]
    pairs = cKDTree(X).query_pairs(eps, p=np.inf if metric == "max" else 2.0,
                                   output_type="ndarray")
    if pairs.size:
        pairs = pairs[np.abs(pairs[:, 0] - pairs[:, 1]) >= theiler]
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    if theiler == 0:
        rows = np.concatenate([rows, np.arange(n)])
        cols = np.concatenate([cols, np.arange(n)])
    data = np.ones(rows.size, dtype=bool)
    return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))


@dataclass(frozen=True)
class RQAResult:
    """Recurrence quantification measures (see :mod:`chaoslab.analysis.recurrence`)."""

    recurrence_rate: float
    determinism: float
    mean_diagonal: float
    max_diagonal: int
    entropy: float
    laminarity: float
    trapping_time: float
    max_vertical: int
    eps: float
    diagonal_histogram: np.ndarray
    vertical_histogram: np.ndarray

    def as_dict(self) -> dict:
        """The scalar measures as a plain dict."""
        d = asdict(self)
        d.pop("diagonal_histogram")
        d.pop("vertical_histogram")
        return d


def _line_stats(hist, lmin):
    lengths = np.arange(hist.size)
    total = float((lengths * hist).sum())
    long = hist[lmin:]
    ll = lengths[lmin:]
    on_lines = float((ll * long).sum())
    n_lines = float(long.sum())
    frac = on_lines / total if total > 0 else 0.0
    mean = on_lines / n_lines if n_lines > 0 else 0.0
    nz = np.nonzero(hist)[0]
    longest = int(nz[-1]) if nz.size else 0
    if n_lines > 0:
        p = long[long > 0] / n_lines
        entropy = float(-(p * np.log(p)).sum())
    else:
        entropy = 0.0
    return frac, mean, longest, entropy, total


def rqa(x, eps=None, *, recurrence_rate: float = 0.05, metric="euclidean", embedding=None,
        theiler: int = 1, l_min: int = 2, v_min: int = 2) -> RQAResult:
    """Recurrence quantification of a series ``(n,)`` or ``(n, dim)``.

    ``eps`` is the recurrence threshold (default: the one giving ``recurrence_rate`` of
    recurrent pairs); ``metric`` is ``"euclidean"`` or ``"max"``; ``embedding=(dim,
    delay)`` delay-embeds a scalar series first; pairs with ``|i - j| < theiler`` are
    left out; lines shorter than ``l_min`` (diagonal) or ``v_min`` (vertical) do not count
    as lines. Returns an :class:`RQAResult` with the line-length histograms.
    """
    X = _points(x, embedding)
    n = X.shape[0]
    metric = check_choice(metric, "metric", ("euclidean", "max"))
    theiler = check_int(theiler, "theiler", 0, n - 2)
    l_min = check_int(l_min, "l_min", 1)
    v_min = check_int(v_min, "v_min", 1)
    if eps is None:
        eps = recurrence_threshold(X, recurrence_rate, metric=metric, theiler=theiler)
    eps = check_float(eps, "eps", nonnegative=True)
    maxnorm = metric == "max"
    e = eps if maxnorm else eps * eps
    diagonal_lines, vertical_lines = _kernels()
    import numba

    chunks = max(1, 8 * numba.get_num_threads())
    dh = diagonal_lines(X, e, maxnorm, theiler, chunks)
    # the upper triangle's lines mirror into the lower one; the main diagonal (kept only
    # with theiler=0) is one line of length n
    dh = 2 * dh
    if theiler == 0:
        dh[n] += 1
    vh = vertical_lines(X, e, maxnorm, theiler, chunks)
    det, L, Lmax, entr, n_rec = _line_stats(dh, l_min)
    lam, TT, Vmax, _, _ = _line_stats(vh, v_min)
    w = theiler
    n_pairs = n * n if w == 0 else n * n - n - 2 * ((w - 1) * n - w * (w - 1) // 2)
    return RQAResult(recurrence_rate=n_rec / n_pairs, determinism=det, mean_diagonal=L,
                     max_diagonal=Lmax, entropy=entr, laminarity=lam, trapping_time=TT,
                     max_vertical=Vmax, eps=float(eps), diagonal_histogram=dh,
                     vertical_histogram=vh)
