"""Lyapunov spectra by Benettin's method on the exact tangent dynamics.

References
----------
Benettin, G., Galgani, L., Giorgilli, A. and Strelcyn, J.-M. (1980). Lyapunov
characteristic exponents for smooth dynamical systems and for Hamiltonian systems; a method
for computing all of them. Meccanica 15, 9-30.
Kaplan, J. L. and Yorke, J. A. (1979). Chaotic behavior of multidimensional difference
equations. Lecture Notes in Mathematics 730, 204-227.
"""
from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..integrate.simulate import DivergenceWarning, prepare_batch
from ..validation import (check_choice, check_dt, check_float, check_int, check_memory,
                          check_steps)
from ..systems import as_system
from ..systems.system import System

__all__ = ["lyapunov_spectrum", "LyapunovResult", "kaplan_yorke_dimension",
           "tangent_map", "lyapunov_run_length"]


@dataclass
class LyapunovResult:
    """What :func:`lyapunov_spectrum` returns with ``return_history=True``.

    Attributes
    ----------
    exponents : ndarray
        ``(k,)`` or ``(batch, k)``, largest first, per unit time (per iteration for maps).
    times : ndarray
        ``(n_hist,)`` times of the running estimates (after the transient).
    history : ndarray
        ``(n_hist, k)`` or ``(batch, n_hist, k)``: the running estimates, for a
        convergence plot.
    diverged : dict
        Row -> step for rows whose trajectory left the bound; their exponents are NaN.
    """

    exponents: np.ndarray
    times: np.ndarray
    history: np.ndarray
    diverged: dict


def lyapunov_run_length(system: System, T=None, dt=None, transient=None) -> tuple:
    """The step and run lengths :func:`lyapunov_spectrum` uses: ``(dt, n_steps, n_transient)``.

    Flows: ``T`` and ``transient`` are times (defaults: the catalog's ``lyapunov_T`` or
    10,000 characteristic periods, at most 3 million steps; 20 periods), rounded to whole
    steps of ``dt``. Maps: iterations (defaults 10^6 and 1,000), ``dt`` is 1.
    """
    if system.is_map:
        dt = 1.0
        n = 1_000_000 if T is None else check_int(T, "T (iterations)", 1)
        tr = 1_000 if transient is None else check_int(transient, "transient", 0)
        check_steps(n, f"T={n} iterations")
        check_steps(tr, f"transient={tr} iterations")
        return dt, n, tr
    dt = system.dt if dt is None else check_dt(dt)
    if T is None:  # 10,000 periods, at most 3 million steps, unless the entry says less
        T = system.lyapunov_T or min(10_000.0 * system.period, 3e6 * dt)
    T = check_float(T, "T", positive=True)
    transient = (20.0 * system.period if transient is None
                 else check_float(transient, "transient", nonnegative=True))
    n = max(1, round(check_steps(T / dt, f"T={T:g} at dt={dt:g}", exact=False)))
    tr = round(check_steps(transient / dt, f"transient={transient:g} at dt={dt:g}",
                           exact=False))
    return dt, n, tr


def _run_lyap(system, X, Pm, Q, t0, h, n_steps, renorm, hist_every, n_hist, bound):
    from ..integrate import numba_backend as nb

    mod = nb.kernels(system)
    D, B = X.shape
    K = Q.shape[2]
    logsum = np.zeros((B, K))
    hist = np.full((B, max(n_hist, 1), K), np.nan)
    bad = np.full(B, -1, dtype=np.int64)

    def work(a, b):
        Xs = np.array(X[:, a:b], order="C")
        mod.lyap(Xs, np.array(Pm[:, a:b], order="C"), Q[a:b], float(t0), float(h),
                 int(n_steps), int(renorm), logsum[a:b], hist[a:b], int(hist_every),
                 float(bound), bad[a:b])
        X[:, a:b] = Xs

    nb.parallel_rows(work, B)  # one trajectory at a time: split the batch by rows
    return logsum, hist, bad, X


#: Maps run with their trajectories across SIMD lanes (``maplyap_K`` kernels) when the
#: kernel module has one for the number of exponents; ``False`` forces the
#: one-trajectory-at-a-time kernel (kept for comparisons).
MAP_LANES = True
_LANES = 256  # trajectories per block of the map kernels: a block stays in the L1 cache


def _shared_chunks(fn, B, block, per_thread=8):
    """Run ``fn(a, b)`` over ``[0, B)`` cut into about ``per_thread`` chunks per thread
    (whole blocks of ``block`` rows where chunks are that large); each thread takes the
    next chunk when it is done, so one slowed by other work on the machine holds nobody
    up."""
    from ..integrate import numba_backend as nb

    n_thr = nb.n_threads()
    size = -(-B // (per_thread * n_thr))
    if size > block:
        size = -(-size // block) * block
    chunks = [(c, min(c + size, B)) for c in range(0, B, size)]
    taken = itertools.count()

    def take(_a, _b):
        i = next(taken)  # atomic under the GIL
        while i < len(chunks):
            fn(*chunks[i])
            i = next(taken)

    nb.parallel_rows(take, min(n_thr, len(chunks)))


def _map_kernel(mod, k):
    return getattr(mod, f"maplyap_{k}", None) if MAP_LANES else None


def _run_map_lanes(fn, X, Pm, QL, t0, h, n_steps, renorm, hist_every, n_hist, bound):
    """Benettin's method for a map, ``_LANES`` trajectories per SIMD block.

    ``QL`` is ``(k*dim, B)`` (row ``c*dim + i``: component ``i`` of tangent vector ``c``)
    and is advanced in place, as ``X`` is. The kernel keeps each running product of
    stretching factors as a mantissa and a count of ``2^512``; the logarithm is taken
    here, once. Returns ``(logsum (B, k), hist (B, n_hist, k), bad, X)`` like
    :func:`_run_lyap`.
    """
    from ..integrate.numba_codegen import LOG_2_512

    D, B = X.shape
    K = QL.shape[0] // D
    mant = np.ones((K, B))
    ex = np.zeros((K, B))
    H = max(n_hist, 1)
    hist = np.full((H, K, B), np.nan)
    bad = np.full(B, -1, dtype=np.int64)

    def work(a, b):
        for c in range(a, b, _LANES):
            d = min(c + _LANES, b)
            Xs = np.array(X[:, c:d], order="C")
            Qs = np.array(QL[:, c:d], order="C")
            ms = np.ones((K, d - c))
            es = np.zeros((K, d - c))
            hs = np.full((H, K, d - c), np.nan)
            bs = np.full(d - c, -1, dtype=np.int64)
            fn(Xs, np.array(Pm[:, c:d], order="C"), Qs, float(t0), float(h), int(n_steps),
               int(renorm), ms, es, hs, int(hist_every), float(bound), bs)
            X[:, c:d] = Xs
            QL[:, c:d] = Qs
            mant[:, c:d] = ms
            ex[:, c:d] = es
            hist[:, :, c:d] = hs
            bad[c:d] = bs

    _shared_chunks(work, B, _LANES)
    with np.errstate(divide="ignore", invalid="ignore"):
        logsum = (np.log(mant) + ex * LOG_2_512).T
    return logsum, hist.transpose(2, 0, 1), bad, X


def lyapunov_spectrum(system, n_exponents=None, *, T=None, dt=None, transient=None, x0=None,
                      params=None, t0=0.0, renorm=None, return_history=False, n_history=200,
                      backend="numba", bound=1e8, seed=0, device=None):
    """The Lyapunov spectrum of a flow or a map, by Benettin's QR method.

    The state and ``k`` tangent vectors are integrated together on the exact Jacobian
    (RK4 for flows, the map itself for maps); every ``renorm`` steps the tangent vectors
    are re-orthonormalised (modified Gram-Schmidt) and the logarithms of the stretching
    factors accumulated. Exponents are averages of those logarithms over the run.

    Parameters
    ----------
    system : System or str
    n_exponents : int, optional
        How many exponents (the largest ``k``); default all ``dim``.
    T : float, optional
        Integration time after the transient (flows; default the catalog's
        ``lyapunov_T`` or 10,000 characteristic periods, at most 3 million steps; the
        README's benchmarks give the accuracy this buys), or the number of iterations
        (maps; default 10^6). For a single system the run is split over the cores: each
        core follows its own nearby start for ``T / cores`` and the logarithms are pooled,
        which is the same time average.
    dt : float, optional
        RK4 step (default the system's ``dt``).
    transient : float, optional
        Time (flows; default 20 periods) or iterations (maps; default 1,000) run first
        and discarded, also used to align the tangent vectors.
    x0, params :
        As in :func:`chaoslab.simulate`; a batch of initial conditions or of parameter
        sets (an exponent-versus-parameter curve is one call).
    renorm : int, optional
        Steps between re-orthonormalisations (default: 1 for maps, 10 for flows).
    return_history : bool
        Also return the running estimates (a :class:`LyapunovResult`).
    backend : {"numba", "torch"}
        numba: compiled, float64, threads over the CPU's cores. torch: the same method
        on tensors, batched over the trajectories (worth it for large batches, on a GPU).
    bound : float
        Rows whose state leaves ``|x| < bound`` (or becomes non-finite) are reported with a
        :class:`~chaoslab.DivergenceWarning` and given NaN exponents; the others finish.
    device : None, "cpu", "cuda" or "cuda:k"
        torch backend: where the tensors live (None: CUDA when present, else the CPU).

    Returns
    -------
    ndarray
        ``(k,)`` exponents, largest first, per unit time (per iteration for maps); or
        ``(batch, k)`` for a batch.

    Notes
    -----
    On the numba backend a map's trajectories run side by side in SIMD lanes (up to four
    exponents; more use the one-trajectory-at-a-time kernel). The same Gram-Schmidt steps
    are taken, but the stretching factors are multiplied into a running product kept in
    range by exact power-of-two rescaling, and its logarithm is taken once at the end
    instead of once per iteration: the exponents agree with a sum of logarithms to
    rounding (about 1e-13 relative after 10^4 iterations).
    """
    system = as_system(system)
    seed = check_int(seed, "seed", 0)
    return_history = check_choice(return_history, "return_history", (False, True))
    backend = check_choice(backend, "backend", ("numba", "torch"))
    t0 = check_float(t0, "t0")
    bound = check_float(bound, "bound", positive=True)
    if system.is_delay:
        if n_exponents not in (None, 1) or return_history or backend != "numba":
            raise ValueError(f"{system.name} is a delay system (infinite-dimensional): "
                             "chaoslab computes its largest exponent only "
                             "(n_exponents=1, numba backend, no history)")
        return _delay_largest(system, T=T, dt=dt, transient=transient, x0=x0,
                              params=params, t0=t0, bound=bound, seed=seed)
    D = system.dim
    k = D if n_exponents is None else check_int(n_exponents, "n_exponents", 1)
    if k > D:
        raise ValueError(f"n_exponents must be <= {D}: {system.name} has {D} exponents, "
                         f"got {k}")
    h, n_steps, n_tr = lyapunov_run_length(system, T, dt, transient)
    renorm = (1 if system.is_map else 10) if renorm is None else check_int(renorm, "renorm", 1)
    if n_steps < renorm:
        unit = "iterations" if system.is_map else "time units"
        raise ValueError(f"T must cover at least one re-orthonormalisation (renorm * dt = "
                         f"{renorm * h:g} {unit}), got T={T!r}: {n_steps} step(s) of "
                         f"dt={h:g}")
    bound = check_float(bound, "bound", positive=True)
    X, Pm, batched = prepare_batch(system, x0, params)
    rng = np.random.default_rng(seed)
    split = 1
    if not batched and backend == "numba":
        from ..integrate.numba_backend import n_threads
        split = max(1, min(n_threads(), n_steps // max(1, 50 * renorm)))
        if split > 1:
            scale = np.maximum(np.abs(X[:, 0]), 1.0)
            X = X[:, 0:1] + 1e-6 * scale[:, None] * rng.normal(size=(D, split))
            Pm = np.repeat(Pm, split, axis=1)
            n_steps = -(-n_steps // split)
    B = X.shape[1]
    Q0, _ = np.linalg.qr(rng.normal(size=(D, k)))
    Q = np.array(np.broadcast_to(Q0, (B, D, k)), order="C")
    n_history = check_int(n_history, "n_history", 1)
    check_memory(8.0 * B * k * (min(n_history, n_steps) if return_history else 1),
                 f"lyapunov_spectrum: {B} trajectories x n_history={n_history}")
    n_hist = min(n_history, n_steps) if return_history else 0
    hist_every = max(1, n_steps // n_hist) if n_hist else 0

    if backend == "torch":
        from .lyapunov_torch import lyapunov_torch
        logsum, hist, bad = lyapunov_torch(system, X, Pm, Q, t0, h, n_tr, n_steps, renorm,
                                           hist_every, n_hist, bound, device=device)
    elif device not in (None, "cpu"):
        raise ValueError(f"device={device!r} needs backend='torch'; the numba backend runs "
                         "on the CPU (device=None or 'cpu')")
    elif backend == "numba":
        from ..integrate import numba_backend as nb

        bad = np.full(B, -1, dtype=np.int64)
        lanes = _map_kernel(nb.kernels(system), k) if system.is_map else None
        if lanes is not None:  # maps: trajectories across SIMD lanes
            QL = np.ascontiguousarray(Q.transpose(2, 1, 0).reshape(k * D, B))

            def run(X, t_start, n, hist_every, n_hist):
                return _run_map_lanes(lanes, X, Pm, QL, t_start, h, n, renorm, hist_every,
                                      n_hist, bound)
        else:
            def run(X, t_start, n, hist_every, n_hist):
                return _run_lyap(system, X, Pm, Q, t_start, h, n, renorm, hist_every,
                                 n_hist, bound)
        if n_tr:
            _, _, bad_tr, X = run(X, t0, n_tr, 0, 0)
            bad = np.where(bad_tr >= 0, bad_tr, bad)

        logsum, hist, bad_run, X = run(X, t0 + n_tr * h, n_steps, hist_every, n_hist)
        bad = np.where((bad < 0) & (bad_run >= 0), n_tr + bad_run, bad)
    else:
        raise ValueError(f"backend must be 'numba' or 'torch', got {backend!r}")

    # whole renormalisation intervals only: the tail after the last QR is not counted
    n_counted = (n_steps // renorm) * renorm
    if split > 1:  # pool the pieces of one run
        dead = bad >= 0
        logsum = logsum.sum(axis=0, keepdims=True) / split
        hist = np.nanmean(hist, axis=0, keepdims=True) if n_hist else hist[:1]
        bad = np.array([bad[dead].min() if dead.any() else -1])
        B = 1
    exps = logsum / (n_counted * h)
    diverged = {int(r): int(s) for r, s in enumerate(bad) if s >= 0}
    if diverged:
        exps[list(diverged)] = np.nan
        rows = sorted(diverged)
        warnings.warn(f"{system.name}: {len(rows)} of {B} rows diverged (rows {rows[:10]}"
                      f"{' ...' if len(rows) > 10 else ''}); their exponents are NaN",
                      DivergenceWarning, stacklevel=2)
    if not batched:
        exps = exps[0]
    if not return_history:
        return exps
    steps = hist_every * np.arange(1, n_hist + 1)
    counted = (steps // renorm) * renorm
    with np.errstate(invalid="ignore", divide="ignore"):
        running = hist[:, :n_hist] / (np.maximum(counted, 1)[None, :, None] * h)
    times = steps * h
    if diverged:
        running[list(diverged)] = np.nan
    if not batched:
        running = running[0]
    return LyapunovResult(exps, times, running, diverged)


def _delay_largest(system, *, T, dt, transient, x0, params, t0, bound, seed, d0=1e-8):
    """Largest exponent of a delay system by twin trajectories (Benettin et al. 1976).

    The state of a delay system is the current value together with its history over one
    delay: here the state and the ring buffer of past states on the step grid. A
    perturbed twin runs beside each trajectory; once per delay time the difference of the
    two discretised states (Euclidean norm, history weighted by the step) is measured and
    scaled back to ``d0``, and the logarithms of the growth are averaged.
    """
    from ..integrate import numba_backend as nb

    h, n_steps, n_tr = lyapunov_run_length(system, T, dt, transient)
    X, Pm, batched = prepare_batch(system, x0, params)
    B = X.shape[1]
    rng = np.random.default_rng(seed)
    X2 = np.concatenate([X, X + d0 * rng.normal(size=X.shape)], axis=1)
    P2 = np.concatenate([Pm, Pm], axis=1)
    tau = float(np.max(Pm[list(system.params).index(system.tau)]))
    window = max(1, int(round(tau / h)))
    hist, g = None, 0
    if n_tr:
        _, X2, _, hist = nb.run_delay(system, X2, P2, t0, h, 2, n_tr, bound, XI=X2)
        g = n_tr
    XI = X2.copy()
    logsum = np.zeros(B)
    bad = np.full(B, -1, dtype=np.int64)
    n_win = max(1, n_steps // window)
    for w in range(n_win):
        _, X2, b, hist = nb.run_delay(system, X2, P2, t0, h, 2, window, bound, XI=XI,
                                      history=hist, g0=g)
        g += window
        HX, HF = hist
        dx = X2[:, B:] - X2[:, :B]
        dh = HX[B:] - HX[:B]
        df = HF[B:] - HF[:B]
        d = np.sqrt(np.sum(dx ** 2, axis=0) + h * np.sum(dh ** 2, axis=(1, 2)))
        dead = (b[:B] >= 0) | (b[B:] >= 0) | ~np.isfinite(d) | (d == 0)
        bad[dead & (bad < 0)] = n_tr + g
        d = np.where(dead, d0, d)
        logsum += np.log(d / d0)
        scale = d0 / d
        X2[:, B:] = X2[:, :B] + dx * scale
        HX[B:] = HX[:B] + dh * scale[:, None, None]
        HF[B:] = HF[:B] + df * scale[:, None, None]
    lam = (logsum / (n_win * window * h))[:, None]
    if np.any(bad >= 0):
        lam[bad >= 0] = np.nan
        warnings.warn(f"{system.name}: {int(np.sum(bad >= 0))} of {B} rows diverged; their "
                      "exponents are NaN", DivergenceWarning, stacklevel=3)
    return lam if batched else lam[0]


def kaplan_yorke_dimension(exponents) -> float:
    """The Kaplan-Yorke (Lyapunov) dimension ``j + sum_{i<=j} l_i / |l_{j+1}|``.

    ``j`` is the largest index for which the sum of the ``j`` largest exponents is
    non-negative. Works on the last axis of a batch too.
    """
    lam = np.sort(np.asarray(exponents, dtype=float), axis=-1)[..., ::-1]
    if lam.ndim > 1:
        return np.array([kaplan_yorke_dimension(row) for row in lam.reshape(-1, lam.shape[-1])]
                        ).reshape(lam.shape[:-1])
    if np.any(np.isnan(lam)):
        return math.nan
    c = np.cumsum(lam)
    if c[0] < 0:
        return 0.0
    j = int(np.nonzero(c >= 0)[0][-1]) + 1
    if j == len(lam):
        return float(len(lam))
    return j + c[j - 1] / abs(lam[j])


def tangent_map(system, x0, T, *, dt=None, t0=0.0, columns=None, params=None, bound=1e8):
    """The flow map's gradient ``d x(t0 + T) / d x(t0)`` applied to ``columns``.

    Integrates the variational equation with RK4 alongside the trajectory (negative ``T``
    integrates backwards). ``x0`` is ``(batch, dim)``; ``columns`` is ``(dim, k)`` (default
    the identity). Returns ``(phi, final_states, diverged_rows)`` with ``phi`` of shape
    ``(batch, dim, k)``.
    """
    system = as_system(system)
    if system.is_map:
        raise ValueError("tangent_map integrates flows; iterate a map's Jacobian instead")
    T = check_float(T, "T")
    h = system.dt if dt is None else check_dt(dt)
    n = max(1, math.ceil(check_steps(abs(T) / h, f"T={T:g} at dt={h:g}", exact=False)))
    h = T / n
    X, Pm, _ = prepare_batch(system, x0, params)
    B = X.shape[1]
    cols = np.eye(system.dim) if columns is None else np.asarray(columns, dtype=float)
    from ..integrate import numba_backend as nb

    mod = nb.kernels(system)
    if cols.shape[1] == 2 and hasattr(mod, "tangent2"):
        return _run_tangent2(mod, X, Pm, cols, t0, h, n, bound)
    Q = np.array(np.broadcast_to(cols, (B,) + cols.shape), order="C")
    _, _, bad, Xf = _run_lyap(system, X, Pm, Q, t0, h, n, n + 1, 0, 0, bound)
    return Q, Xf.T, bad


#: FTLE-type runs whose lanes share one parameter set use ``tangent2u`` (time- and
#: parameter-only terms computed once per stage for all lanes); ``False`` forces the
#: per-lane-parameter ``tangent2`` (kept for comparisons).
TANGENT2_UNIFORM = True


def _run_tangent2(mod, X, Pm, cols, t0, h, n, bound):
    """Two tangent vectors per trajectory, trajectories across SIMD lanes."""
    from ..integrate import numba_backend as nb

    D, B = X.shape
    V0 = cols.reshape(2 * D, 1)  # row 2*i + c = component i of column c
    Vout = np.empty((2 * D, B))
    Xout = np.empty((D, B))
    bad = np.full(B, -1, dtype=np.int64)
    uniform = (TANGENT2_UNIFORM and hasattr(mod, "tangent2u")
               and bool(np.all(Pm == Pm[:, :1])))

    if uniform:  # the kernel walks a chunk of rows block by block
        ps = np.array(Pm[:, 0], dtype=float)

        def run_chunk(a, b):
            Xs = np.array(X[:, a:b], order="C")
            Vs = np.array(np.broadcast_to(V0, (2 * D, b - a)), order="C")
            mod.tangent2u(Xs, ps, Vs, float(t0), float(h), int(n), float(bound), bad[a:b])
            Xout[:, a:b] = Xs
            Vout[:, a:b] = Vs

        _shared_chunks(run_chunk, B, nb.BLOCK)
        phi = Vout.T.reshape(B, D, 2)
        return phi, Xout.T, bad

    def work(a, b):
        for c in range(a, b, nb.BLOCK):
            d = min(c + nb.BLOCK, b)
            Xs = np.array(X[:, c:d], order="C")
            Vs = np.array(np.broadcast_to(V0, (2 * D, d - c)), order="C")
            mod.tangent2(Xs, np.array(Pm[:, c:d], order="C"), Vs, float(t0), float(h),
                         int(n), float(bound), bad[c:d])
            Xout[:, c:d] = Xs
            Vout[:, c:d] = Vs

    nb.parallel_blocks(work, B)
    phi = Vout.T.reshape(B, D, 2)
    return phi, Xout.T, bad
