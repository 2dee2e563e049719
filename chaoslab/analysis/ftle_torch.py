"""FTLE fields on tensors (CPU or CUDA): the torch backend of :func:`chaoslab.ftle_field`.

Every grid point is one row of a batch. The state and the two grid directions advance
together by RK4 on the exact Jacobian (the variational equation, as in the numba path),
then the largest singular value of the ``dim x 2`` flow-map gradient gives the FTLE,
computed on the device. The step loop reads nothing back from the device: rows that leave
the bound are recorded in a tensor and parked on their starting point.

torch is imported here; :func:`chaoslab.ftle_field` imports this module only for
``backend="torch"``.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from ..integrate.simulate import DivergenceWarning, prepare_batch
from ..integrate.tableaux import RK4, rk_step
from ..integrate.torch_backend import resolve_device
from ..validation import check_dt, check_steps
from .lyapunov_torch import analysis_dtype, tangent_rhs

__all__ = ["ftle_torch", "tangent_map_torch", "largest_stretching"]


def tangent_map_torch(system, pts, T, *, dt=None, t0=0.0, columns=None, params=None,
                      bound=1e8, device=None, dtype=None):
    """The flow map's gradient applied to ``columns``, for a batch of starting points.

    RK4 with ``n = ceil(|T| / dt)`` steps of ``T / n`` (backwards for ``T < 0``), as
    :func:`chaoslab.analysis.lyapunov.tangent_map`. Returns ``(phi, bad)``: ``phi`` a
    tensor ``(B, dim, k)`` on ``device``, ``bad`` a long tensor ``(B,)`` with the step at
    which a row left the bound (-1 if it did not).
    """
    device = resolve_device(device)
    dtype = analysis_dtype(dtype)
    h = system.dt if dt is None else check_dt(dt)
    n = max(1, math.ceil(check_steps(abs(T) / h, f"T={T:g} at dt={h:g}", exact=False)))
    h = T / n
    X, Pm, _ = prepare_batch(system, pts, params)
    cols = np.eye(system.dim) if columns is None else np.asarray(columns, dtype=float)
    x = torch.tensor(np.ascontiguousarray(X.T), dtype=dtype, device=device)
    P = torch.tensor(np.ascontiguousarray(Pm.T), dtype=dtype, device=device)
    B = x.shape[0]
    q = torch.tensor(cols, dtype=dtype, device=device).expand(B, *cols.shape)
    Z = torch.cat([x[:, :, None], q], dim=2)
    safe = Z.clone()
    bad = torch.full((B,), -1, dtype=torch.long, device=device)
    g = tangent_rhs(system, P)
    with torch.no_grad():
        for s in range(n):
            Z = rk_step(g, t0 + s * h, Z, h, RK4)
            ok = (Z[:, :, 0].abs() < bound).all(dim=1)
            bad.masked_fill_((~ok) & (bad < 0), s)
            Z = torch.where((bad < 0)[:, None, None], Z, safe)
    return Z[:, :, 1:], bad


def largest_stretching(phi, T):
    """``log(sigma_max(phi)) / |T|`` for ``phi`` ``(B, dim, 2)``: the FTLE.

    sigma_max^2 is the largest eigenvalue of the 2 x 2 Cauchy-Green tensor
    ``C = phi^T phi``; each gradient is scaled by its largest entry first, so that C does
    not overflow where the stretching ``e^(lambda T)`` is strong.
    """
    scale = phi.abs().amax(dim=(1, 2))
    u = phi / torch.where(scale > 0, scale, torch.ones_like(scale))[:, None, None]
    a = (u[:, :, 0] * u[:, :, 0]).sum(dim=1)
    c = (u[:, :, 1] * u[:, :, 1]).sum(dim=1)
    b = (u[:, :, 0] * u[:, :, 1]).sum(dim=1)
    lam_max = 0.5 * (a + c) + torch.sqrt(0.25 * (a - c) ** 2 + b * b)
    return (torch.log(scale) + 0.5 * torch.log(lam_max)) / abs(T)


def ftle_torch(system, pts, cols, T, *, t0=0.0, dt=None, params=None, bound=1e8,
               device=None, dtype=None):
    """The FTLE at ``pts`` ``(B, dim)`` for the grid directions ``cols`` ``(dim, 2)``;
    a float64 numpy array ``(B,)``, NaN (with a warning) where a trajectory diverged."""
    phi, bad = tangent_map_torch(system, pts, T, dt=dt, t0=t0, columns=cols, params=params,
                                 bound=bound, device=device, dtype=dtype)
    with torch.no_grad():
        f = largest_stretching(phi, T)
        f = torch.where(bad < 0, f, torch.full_like(f, float("nan")))
    f = f.cpu().numpy().astype(np.float64)
    dead = int((bad >= 0).sum())
    if dead:
        warnings.warn(f"{system.name}: {dead} of {len(f)} grid points diverged; their FTLE "
                      "is NaN", DivergenceWarning, stacklevel=3)
    return f
