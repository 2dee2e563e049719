"""The torch backend: the same integrators on tensors, any dtype, CPU or CUDA.

torch is imported here, never at chaoslab's top level.
"""
from __future__ import annotations

import numpy as np
import torch

from ..systems.tape import evaluate
from .tableaux import DOPRI5, EULER, RK4, rk_step

__all__ = ["simulate_torch", "torch_rhs", "torch_rhs_jac", "torch_tape_function",
           "resolve_dtype", "resolve_device", "default_device"]

_DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16,
           "float16": torch.float16}


def resolve_dtype(dtype):
    if dtype is None:
        return torch.float64
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _DTYPES:
        return _DTYPES[dtype]
    if dtype is np.float64:
        return torch.float64
    if dtype is np.float32:
        return torch.float32
    raise ValueError(f"dtype must be one of {list(_DTYPES)}, got {dtype!r}")


def default_device():
    """CUDA when present, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def resolve_device(device, name: str = "device"):
    """The ``torch.device`` for a ``device`` argument: None or "auto" pick CUDA when present,
    else the CPU; "cpu", "cuda", "cuda:k" or a ``torch.device`` are checked to exist."""
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        return default_device()
    if not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be None, 'auto', 'cpu', 'cuda' or 'cuda:k' (a str or "
                        f"torch.device), got {device!r} of type {type(device).__name__}")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{name} must be None, 'auto', 'cpu', 'cuda' or 'cuda:k', "
                         f"got {device!r}") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be None, 'auto', 'cpu', 'cuda' or 'cuda:k', "
                         f"got {device!r}")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{name}={device!r} asks for CUDA, which is not available "
                             "here; use device=None (CUDA when present) or 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"{name}={device!r}: only {torch.cuda.device_count()} CUDA "
                             "device(s) here")
    return dev


def _where_min(a, b):
    return torch.minimum(torch.as_tensor(a), torch.as_tensor(b))


def _where_max(a, b):
    return torch.maximum(torch.as_tensor(a), torch.as_tensor(b))


_OPS = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "neg": torch.neg, "powi": lambda a, n: a ** n, "pow": torch.pow, "sqrt": torch.sqrt,
    "const": lambda c: c,
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "tanh": torch.tanh, "exp": torch.exp, "log": torch.log, "abs": torch.abs,
    "sign": torch.sign, "heaviside": lambda a: 0.5 + 0.5 * torch.sign(a),
    "atan2": torch.atan2, "mod": torch.remainder, "min": _where_min, "max": _where_max,
}


def _reads_time(tape) -> bool:
    """Whether a tape reads its input slot 0 (the time ``t``)."""
    for op, _, args in tape.ops:
        used = args[:1] if op == "powi" else args
        if any(type(a) is int and a == 0 for a in used):
            return True
    return any(type(o) is int and o == 0 for o in tape.outputs)


def torch_tape_function(tape, dim: int, n_params: int):
    """``g(t, X, P) -> (B, n_outputs)``: a tape evaluated on the columns of X and P.

    Nothing here waits for the device: the time becomes a tensor only when the tape reads
    it, and constant outputs are expanded views of cached scalars (no copy from the host
    per call).
    """
    uses_t = _reads_time(tape)
    consts = {}

    def const(c, like):
        key = (c, like.dtype, like.device)
        v = consts.get(key)
        if v is None:
            v = consts[key] = torch.full((), c, dtype=like.dtype, device=like.device)
        return v.expand(like.shape)

    def g(t, X, P):
        if uses_t:
            t = torch.full((), t, dtype=X.dtype, device=X.device) \
                if not isinstance(t, torch.Tensor) else t.to(X.dtype)
        inputs = [t] + [X[:, i] for i in range(dim)] + [P[:, j] for j in range(n_params)]
        col = X[:, 0]
        outs = []
        for o in evaluate(tape, inputs, _OPS):
            if isinstance(o, torch.Tensor):
                outs.append(o if o.shape == col.shape else torch.broadcast_to(o, col.shape))
            else:
                outs.append(const(float(o), col))
        return torch.stack(outs, dim=1)
    return g


def torch_rhs(system):
    """``f(t, X, P) -> dX`` on tensors: X (B, dim), P (B, n_params), t a float."""
    return torch_tape_function(system.rhs_tape, system.dim, len(system.params))


def torch_rhs_jac(system):
    """``fj(t, X, P) -> (dX (B, dim), J (B, dim, dim))``: the right-hand side (or map image)
    and its exact Jacobian from one tape with shared subexpressions."""
    D = system.dim
    g = torch_tape_function(system.rhs_jac_tape, D, len(system.params))

    def fj(t, X, P):
        out = g(t, X, P)
        return out[:, :D], out[:, D:].reshape(X.shape[0], D, D)
    return fj


def _check(X, bound, bad, step):
    """Mark rows beyond the bound or non-finite (in ``bad``, in place); set them to NaN.

    Runs on the device without waiting for it (no ``.any()`` read back per step).
    """
    ok = (X.abs() < bound).all(dim=1)  # False for NaN and inf too
    bad.masked_fill_((~ok) & (bad < 0), step)
    return torch.where(ok[:, None], X, torch.full_like(X, float("nan")))


def simulate_torch(system, X, Pm, n_steps, dt, transient, method, *, t0, substeps, bound,
                   rtol, atol, dtype=None, device=None, max_steps=10_000):
    """Returns ``(out, bad, nsteps, spent)``; ``spent`` (B,) is the time at which a row ran
    out of the dopri5 step budget (``max_steps`` per output interval), NaN if it did not
    (None for the fixed-step methods)."""
    dtype = resolve_dtype(dtype)
    device = resolve_device(device)
    f = torch_rhs(system)
    Xt = torch.tensor(np.ascontiguousarray(X.T), dtype=dtype, device=device)
    Pt = torch.tensor(np.ascontiguousarray(Pm.T), dtype=dtype, device=device)
    B, D = Xt.shape
    bad = torch.full((B,), -1, dtype=torch.long, device=device)
    out = torch.empty((B, n_steps, D), dtype=dtype, device=device)
    h = dt / substeps
    total = transient + n_steps - 1
    t = t0
    tableau = EULER if method == "euler" else RK4
    Xt = _check(Xt, bound, bad, 0)
    if transient == 0:
        out[:, 0] = Xt
    if method == "dopri5":
        spent = np.full(B, np.nan)
        _dopri5(f, Xt, Pt, t0, dt, transient, n_steps, out, bad, bound, rtol, atol,
                max_steps, spent)
        return out, bad.cpu().numpy(), None, spent
    for step in range(1, total + 1):
        for _ in range(substeps):
            if method == "map":
                Xt = f(t, Xt, Pt)
            else:
                Xt = rk_step(lambda tt, xx: f(tt, xx, Pt), t, Xt, h, tableau)
            t = t + h
        Xt = _check(Xt, bound, bad, step)
        if step >= transient:
            out[:, step - transient] = Xt
    return out, bad.cpu().numpy(), None, None


def _dopri5(f, X, P, t0, dt, transient, n_steps, out, bad, bound, rtol, atol, max_steps,
            spent):
    """Adaptive Dormand-Prince 5(4) with one step size for the whole batch.

    The error norm is the largest over the live rows, so every row meets the tolerance;
    rows that diverged are excluded from the step-size control. More than ``max_steps``
    steps within one output interval stop the live rows: their time goes to ``spent``.
    """
    t = t0
    h = dt
    targets = t0 + dt * np.arange(1, transient + n_steps)
    for j, t_end in enumerate(targets, start=1):
        interval = 0
        while t < t_end - 1e-12 * max(1.0, abs(t_end)):
            interval += 1
            if interval > max_steps:
                live = (bad < 0).cpu().numpy() & np.isnan(spent)
                spent[live] = t
                X = torch.full_like(X, float("nan"))
                break
            hs = min(h, t_end - t)
            K = [f(t, X, P)]
            for s in range(1, 7):
                Y = X + hs * sum(a * k for a, k in zip(DOPRI5.a[s], K) if a != 0.0)
                K.append(f(t + DOPRI5.c[s] * hs, Y, P))
            err_vec = hs * sum(e * k for e, k in zip(DOPRI5.e, K) if e != 0.0)
            scale = atol + rtol * torch.maximum(X.abs(), Y.abs())
            ratio = (err_vec / scale) ** 2
            live = torch.isfinite(ratio).all(dim=1)
            err = float(ratio[live].mean(dim=1).max().sqrt()) if bool(live.any()) else 0.0
            fac = 5.0 if err == 0.0 else min(5.0, max(0.2, 0.9 * err ** -0.2))
            if err <= 1.0:
                t = t + hs
                X = Y
                if hs == h:
                    h = hs * fac
            else:
                h = hs * fac
            if h < 1e-14 * max(1.0, abs(t)):
                bad[(bad < 0)] = j
                X = torch.full_like(X, float("nan"))
                t = t_end
        t = float(t_end)
        X = _check(X, bound, bad, j)
        if j >= transient:
            out[:, j - transient] = X
    return X
