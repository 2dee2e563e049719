"""numba loops of the echo state network: teacher-forced driving and closed-loop rollout.

The reservoir matrix is sparse (CSR arrays), so one update costs O(size * degree). The
state update and the readout are written once (``_update``, ``_readout``) and work in
place on buffers the callers allocate once, so the loops allocate nothing per step.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _update(indptr, indices, data, w_in, bias, leak, u, r, pre):
    """One reservoir step in place: ``r <- (1 - leak) r + leak tanh(W r + W_in u + b)``."""
    N = r.shape[0]
    d = u.shape[0]
    for i in range(N):
        acc = bias[i]
        for j in range(indptr[i], indptr[i + 1]):
            acc += data[j] * r[indices[j]]
        for m in range(d):
            acc += w_in[i, m] * u[m]
        pre[i] = acc
    for i in range(N):
        r[i] = (1.0 - leak) * r[i] + leak * np.tanh(pre[i])


@njit(cache=True, inline="always")
def _readout(r, u, w_out, squares, increment, y):
    """Write the output for state ``r`` and current input ``u`` into ``y``; False when it
    is not finite. ``squares``: 0 none, 1 the squares of all units appended, 2 the
    even-numbered units replaced by their squares."""
    N = r.shape[0]
    d = u.shape[0]
    ok = True
    for m in range(d):
        acc = w_out[0, m]
        for q in range(d):
            acc += w_out[1 + q, m] * u[q]
        if squares == 2:
            for i in range(N):
                v = r[i] * r[i] if i % 2 == 0 else r[i]
                acc += w_out[1 + d + i, m] * v
        else:
            for i in range(N):
                acc += w_out[1 + d + i, m] * r[i]
        if squares == 1:
            for i in range(N):
                acc += w_out[1 + d + N + i, m] * r[i] * r[i]
        y[m] = u[m] + acc if increment else acc
        if not np.isfinite(y[m]):
            ok = False
    return ok


@njit(cache=True)
def drive(indptr, indices, data, w_in, bias, leak, inputs, r, states):
    """Run the reservoir on ``inputs`` (n, d) from state ``r`` (N,), in place; write the
    states (n, N) and return ``r``."""
    pre = np.empty(r.shape[0])
    for k in range(inputs.shape[0]):
        _update(indptr, indices, data, w_in, bias, leak, inputs[k], r, pre)
        states[k, :] = r
    return r


@njit(cache=True)
def readout(r, u, w_out, squares, increment):
    """Output ``u_next`` from reservoir state ``r`` (N,) and current input ``u`` (d,)."""
    y = np.empty(u.shape[0])
    _readout(r, u, w_out, squares, increment, y)
    return y


@njit(cache=True, parallel=True)
def rollout(indptr, indices, data, w_in, bias, leak, w_out, squares, increment,
            r0, u0, n_steps, out):
    """Closed loop from states ``r0`` (B, N) with last outputs ``u0`` (B, d), writing
    ``out`` (B, n_steps, d); a trajectory whose output stops being finite is filled with
    NaN from there. The trajectories of the batch run in parallel."""
    B, N = r0.shape
    for b in prange(B):
        r = r0[b].copy()
        u = u0[b].copy()
        pre = np.empty(N)
        for k in range(n_steps):
            _update(indptr, indices, data, w_in, bias, leak, u, r, pre)
            if not _readout(r, u, w_out, squares, increment, out[b, k]):
                out[b, k:, :] = np.nan
                break
            u[:] = out[b, k]
