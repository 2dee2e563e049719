"""Ridge regression shared by the linear-readout learners (linear AR, ESN, NG-RC, EDMD)."""
import numpy as np
import scipy.linalg

__all__ = ["ridge"]


def ridge(features, targets, alpha):
    """Solve ``min ||F W - Y||^2 + alpha ||W||^2`` for ``W`` (features x targets).

    Uses the normal equations with a Cholesky factorisation (features are few compared
    with samples); falls back to least squares when the system is singular.

    BLAS runs on one thread here. These products are small (an ESN's Gram matrix has a
    few hundred rows and columns), and OpenBLAS's threads busy-wait for each other: when
    any other work holds a core (a live simulation in the app, numba's thread pool,
    another process), the factorisation on two threads is many times slower than on one.
    The ESN fit times measured this way are in the README's benchmark section
    (``benchmarks/results/esn_fit_times.json``).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:                     # without it, BLAS keeps its own setting
        return _ridge(features, targets, alpha)
    with threadpool_limits(1, user_api="blas"):
        return _ridge(features, targets, alpha)


def _ridge(features, targets, alpha):
    F = np.asarray(features, dtype=np.float64)
    Y = np.asarray(targets, dtype=np.float64)
    if F.flags.c_contiguous and F.shape[0] > F.shape[1]:
        # F^T F through the symmetric rank-k update: half the work of a general product
        G = scipy.linalg.blas.dsyrk(1.0, F.T, trans=0, lower=0)
        G = np.triu(G) + np.triu(G, 1).T
    else:
        G = F.T @ F
    G[np.diag_indices_from(G)] += alpha
    rhs = F.T @ Y
    try:
        return scipy.linalg.solve(G, rhs, assume_a="pos", check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(G, rhs, rcond=None)[0]
