"""Benettin's method on tensors (CPU or CUDA): the torch backend of lyapunov_spectrum."""
from __future__ import annotations

import numpy as np
import torch

from ..integrate.tableaux import RK4, rk_step
from ..integrate.torch_backend import default_device, torch_rhs, torch_tape_function


def _torch_jac(system):
    D = system.dim
    jac_flat = torch_tape_function(system.jacobian_tape, D, len(system.params))

    def jac(t, X, P):
        return jac_flat(t, X, P).reshape(X.shape[0], D, D)
    return jac


def lyapunov_torch(system, X, Pm, Q, t0, h, n_tr, n_steps, renorm, hist_every, n_hist, bound,
                   dtype=torch.float64, device=None):
    device = default_device() if device is None else torch.device(device)
    f = torch_rhs(system)
    J = _torch_jac(system)
    x = torch.tensor(np.ascontiguousarray(X.T), dtype=dtype, device=device)
    P = torch.tensor(np.ascontiguousarray(Pm.T), dtype=dtype, device=device)
    q = torch.tensor(Q, dtype=dtype, device=device)
    B, K = x.shape[0], q.shape[2]
    logsum = torch.zeros((B, K), dtype=dtype, device=device)
    hist = torch.full((B, max(n_hist, 1), K), float("nan"), dtype=dtype, device=device)
    bad = torch.full((B,), -1, dtype=torch.long, device=device)
    nh = 0
    t = t0

    def tangent(tt, state):
        xs, qs = state[:, :, 0], state[:, :, 1:]
        return torch.cat([f(tt, xs, P)[:, :, None], J(tt, xs, P) @ qs], dim=2)

    for s in range(n_tr + n_steps):
        if system.is_map:
            q = J(t, x, P) @ q
            x = f(t, x, P)
        else:
            # the state (column 0) and the tangent vectors advance together
            joint = rk_step(tangent, t, torch.cat([x[:, :, None], q], dim=2), h, RK4)
            x, q = joint[:, :, 0], joint[:, :, 1:]
        t = t + h
        ok = torch.isfinite(x).all(dim=1) & (x.abs() < bound).all(dim=1)
        newly = (~ok) & (bad < 0)
        if bool(newly.any()):
            bad[newly] = s
            x = torch.where(ok[:, None], x, torch.zeros_like(x))
        step = s - n_tr
        if (step + 1) % renorm == 0 or (s < n_tr and (s + 1) % renorm == 0):
            qq, r = torch.linalg.qr(q)
            d = torch.diagonal(r, dim1=1, dim2=2)
            q = qq * torch.sign(d)[:, None, :]
            if step >= 0:
                logsum = logsum + torch.log(d.abs())
        if step >= 0 and hist_every and (step + 1) % hist_every == 0 and nh < n_hist:
            hist[:, nh] = logsum
            nh += 1
    return logsum.cpu().numpy(), hist.cpu().numpy(), bad.cpu().numpy()
