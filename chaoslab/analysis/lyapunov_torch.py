"""Benettin's method on tensors (CPU or CUDA): the torch backend of lyapunov_spectrum.

The same algorithm as the numba kernel, batched over trajectories (initial conditions or
parameter sets) instead of looped: the state and ``k`` tangent vectors advance together
by RK4 on the exact Jacobian (flows) or by the map and its Jacobian (maps); every
``renorm`` steps the tangent vectors are re-orthonormalised and the logarithms of the
stretching factors summed. The transient and the measured run are two segments, as in the
numba path, so the two backends agree to round-off on the same input.

Nothing in the step loop reads a value back from the device: rows that leave the bound are
recorded in a tensor and parked on their starting state, so a run on CUDA is a stream of
kernels without a synchronisation per step.

torch is imported here; :func:`chaoslab.lyapunov_spectrum` imports this module only for
``backend="torch"``.
"""
from __future__ import annotations

import numpy as np
import torch

from ..integrate.tableaux import RK4, rk_step
from ..integrate.torch_backend import resolve_device, resolve_dtype, torch_rhs_jac

__all__ = ["lyapunov_torch", "orthonormalise", "tangent_rhs", "analysis_dtype"]

#: up to this many tangent vectors modified Gram-Schmidt (elementwise, batched) is used;
#: beyond it one batched ``torch.linalg.qr``
MGS_MAX = 8


def analysis_dtype(dtype, name: str = "dtype"):
    """float64 (default) or float32: the precisions the tangent-space analyses accept."""
    try:
        dt = resolve_dtype(dtype)
    except ValueError:
        dt = None
    if dt not in (torch.float64, torch.float32):
        raise ValueError(f"{name} must be 'float64' or 'float32' (or the torch dtypes) for "
                         f"the tangent-space analyses, got {dtype!r}")
    return dt


def orthonormalise(q):
    """Re-orthonormalise the columns of ``q`` ``(B, D, K)``: returns ``(q, norms)``.

    ``norms`` ``(B, K)`` are the positive diagonal of R in ``q = Q R``: the stretching
    factors whose logarithms Benettin's method sums. Modified Gram-Schmidt for
    ``K <= MGS_MAX`` (the numba kernel's algorithm, a handful of elementwise operations
    on the whole batch), a batched Householder QR beyond, its signs fixed so that R's
    diagonal is positive.
    """
    K = q.shape[2]
    if K > MGS_MAX:
        qq, r = torch.linalg.qr(q)
        d = torch.diagonal(r, dim1=1, dim2=2)
        sign = torch.where(d < 0, -1.0, 1.0).to(q.dtype)
        return qq * sign[:, None, :], d.abs()
    cols = list(q.unbind(2))
    norms = []
    for c in range(K):
        v = cols[c]
        for c2 in range(c):
            v = v - (v * cols[c2]).sum(dim=1, keepdim=True) * cols[c2]
        nrm = torch.sqrt((v * v).sum(dim=1))
        cols[c] = v / nrm[:, None]
        norms.append(nrm)
    return torch.stack(cols, dim=2), torch.stack(norms, dim=1)


def _matmul(J, Q):
    """``J @ Q`` batched; both made contiguous first (a batched product of strided views
    can take a much slower path on the CPU)."""
    return torch.matmul(J.contiguous(), Q.contiguous())


def tangent_rhs(system, P):
    """``g(t, Z)`` for ``Z = [x | Q]`` ``(B, D, 1 + K)``: ``[f(x) | J(x) Q]``, the state's
    vector field and the variational equation together (flows)."""
    fj = torch_rhs_jac(system)

    def g(t, Z):
        f, J = fj(t, Z[:, :, 0], P)
        return torch.cat([f[:, :, None], _matmul(J, Z[:, :, 1:])], dim=2)
    return g


def _segment(step, Z, t_start, h, n, renorm, first, bound, bad, safe, logsum=None,
             hist=None, hist_every=0):
    """``n`` steps of the joint state ``Z``; QR every ``renorm`` steps of the segment;
    diverged rows get ``first + s`` in ``bad`` and restart parked on ``safe``."""
    nh = 0
    n_hist = 0 if hist is None else hist.shape[1]
    for s in range(n):
        Z = step(t_start + s * h, Z)
        ok = (Z[:, :, 0].abs() < bound).all(dim=1)
        measure = (s + 1) % renorm == 0
        if measure:
            q, nrm = orthonormalise(Z[:, :, 1:])
            ok = ok & ((nrm > 0) & (nrm < float("inf"))).all(dim=1)
            if logsum is not None:
                logsum += torch.where(ok[:, None], torch.log(nrm), torch.zeros_like(nrm))
            Z = torch.cat([Z[:, :, :1], q], dim=2)
        bad.masked_fill_((~ok) & (bad < 0), first + s)
        Z = torch.where((bad < 0)[:, None, None], Z, safe)
        if hist_every and (s + 1) % hist_every == 0 and nh < n_hist:
            hist[:, nh] = logsum
            nh += 1
    return Z


def lyapunov_torch(system, X, Pm, Q, t0, h, n_tr, n_steps, renorm, hist_every, n_hist, bound,
                   dtype=None, device=None):
    """Benettin's method for a batch on tensors; the torch half of
    :func:`chaoslab.lyapunov_spectrum`.

    Parameters
    ----------
    system : System
    X, Pm : ndarray
        ``(dim, B)`` initial states and ``(n_params, B)`` parameters, as
        :func:`chaoslab.integrate.simulate.prepare_batch` gives them.
    Q : ndarray
        ``(B, dim, k)`` orthonormal starting tangent vectors.
    t0, h : float
        Initial time and step (1 for maps).
    n_tr, n_steps : int
        Transient steps (tangent vectors aligned, nothing measured), then measured steps.
    renorm : int
        Steps between re-orthonormalisations, counted within each segment.
    hist_every, n_hist : int
        Record the running sums every ``hist_every`` measured steps, ``n_hist`` times.
    bound : float
    dtype : {"float64", "float32"} or torch dtype
    device : None, "cpu", "cuda", "cuda:k" or torch.device
        None picks CUDA when present.

    Returns
    -------
    logsum : ndarray ``(B, k)``, the summed log stretching factors of the measured run;
    hist : ndarray ``(B, max(n_hist, 1), k)``; bad : ndarray ``(B,)``, the step (counted
    from the start of the transient) at which a row diverged, -1 if it did not.
    """
    device = resolve_device(device)
    dtype = analysis_dtype(dtype)
    x = torch.tensor(np.ascontiguousarray(X.T), dtype=dtype, device=device)
    P = torch.tensor(np.ascontiguousarray(Pm.T), dtype=dtype, device=device)
    q = torch.tensor(np.ascontiguousarray(Q), dtype=dtype, device=device)
    B, K = x.shape[0], q.shape[2]
    Z = torch.cat([x[:, :, None], q], dim=2)
    safe = Z.clone()
    logsum = torch.zeros((B, K), dtype=dtype, device=device)
    hist = torch.full((B, max(n_hist, 1), K), float("nan"), dtype=dtype, device=device)
    bad = torch.full((B,), -1, dtype=torch.long, device=device)

    if system.is_map:
        fj = torch_rhs_jac(system)

        def step(t, Z):
            f, J = fj(t, Z[:, :, 0], P)
            return torch.cat([f[:, :, None], _matmul(J, Z[:, :, 1:])], dim=2)
    else:
        g = tangent_rhs(system, P)

        def step(t, Z):
            return rk_step(g, t, Z, h, RK4)

    with torch.no_grad():
        if n_tr:
            Z = _segment(step, Z, t0, h, n_tr, renorm, 0, bound, bad, safe)
        _segment(step, Z, t0 + n_tr * h, h, n_steps, renorm, n_tr, bound, bad, safe,
                 logsum, hist if n_hist else None, hist_every)
    return logsum.cpu().numpy(), hist.cpu().numpy(), bad.cpu().numpy()
