"""numba loops of the echo state network: teacher-forced driving and closed-loop rollout.

The reservoir matrix is sparse (CSR arrays), so one update costs O(size * degree).
"""
import numpy as np
from numba import njit, prange


@njit(cache=True, fastmath=False)
def drive(indptr, indices, data, w_in, bias, leak, inputs, r, states):
    """Run the reservoir on ``inputs`` (n, d) from state ``r`` (N,); write states (n, N)."""
    n, d = inputs.shape
    N = r.shape[0]
    pre = np.empty(N)
    for k in range(n):
        for i in range(N):
            acc = bias[i]
            for j in range(indptr[i], indptr[i + 1]):
                acc += data[j] * r[indices[j]]
            for m in range(d):
                acc += w_in[i, m] * inputs[k, m]
            pre[i] = acc
        for i in range(N):
            r[i] = (1.0 - leak) * r[i] + leak * np.tanh(pre[i])
            states[k, i] = r[i]
    return r


@njit(cache=True, fastmath=False)
def readout(r, u, w_out, squares, increment):
    """Output ``u_next`` from reservoir state ``r`` (N,) and current input ``u`` (d,)."""
    N = r.shape[0]
    d = u.shape[0]
    y = np.empty(d)
    for m in range(d):
        acc = w_out[0, m]
        for q in range(d):
            acc += w_out[1 + q, m] * u[q]
        for i in range(N):
            acc += w_out[1 + d + i, m] * r[i]
        if squares:
            for i in range(N):
                acc += w_out[1 + d + N + i, m] * r[i] * r[i]
        y[m] = u[m] + acc if increment else acc
    return y


@njit(cache=True, fastmath=False, parallel=True)
def rollout(indptr, indices, data, w_in, bias, leak, w_out, squares, increment,
            r0, u0, n_steps, out):
    """Closed loop from states ``r0`` (B, N) with last outputs ``u0`` (B, d); the trajectories
    of the batch run in parallel."""
    B, N = r0.shape
    d = u0.shape[1]
    for b in prange(B):
        r = r0[b].copy()
        u = u0[b].copy()
        pre = np.empty(N)
        y = np.empty(d)
        for k in range(n_steps):
            for i in range(N):
                acc = bias[i]
                for j in range(indptr[i], indptr[i + 1]):
                    acc += data[j] * r[indices[j]]
                for m in range(d):
                    acc += w_in[i, m] * u[m]
                pre[i] = acc
            for i in range(N):
                r[i] = (1.0 - leak) * r[i] + leak * np.tanh(pre[i])
            ok = True
            for m in range(d):
                acc = w_out[0, m]
                for q in range(d):
                    acc += w_out[1 + q, m] * u[q]
                for i in range(N):
                    acc += w_out[1 + d + i, m] * r[i]
                if squares:
                    for i in range(N):
                        acc += w_out[1 + d + N + i, m] * r[i] * r[i]
                y[m] = u[m] + acc if increment else acc
                if not np.isfinite(y[m]):
                    ok = False
            if not ok:
                for kk in range(k, n_steps):
                    for m in range(d):
                        out[b, kk, m] = np.nan
                break
            for m in range(d):
                u[m] = y[m]
                out[b, k, m] = y[m]
