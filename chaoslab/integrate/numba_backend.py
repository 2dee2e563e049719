"""The numba backend: compiled, batched, multi-threaded integration on the CPU."""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .numba_codegen import KERNEL_VERSION, delay_source, fixed_tiling, kernel_source

__all__ = ["kernels", "cache_dir", "run_fixed", "run_dopri5", "run_delay", "n_threads",
           "parallel_rows", "parallel_blocks", "parallel_chunks", "BLOCK"]

_LOCK = threading.Lock()
_MODULES: dict = {}
_POOL = None
#: Trajectories per block in the batch loop: a block's state stays in the L1 cache.
BLOCK = 256


def cache_dir() -> Path:
    """Where generated kernels (and numba's compiled code beside them) are kept.

    ``$CHAOSLAB_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/chaoslab`` or
    ``~/.cache/chaoslab``; a temporary directory if none of these is writable (see
    :func:`chaoslab.systems.tapecache.cache_root`).
    """
    from ..systems.tapecache import cache_root

    return cache_root(f"kernels-v{KERNEL_VERSION}")


def n_threads() -> int:
    """Threads used for a batch: ``$CHAOSLAB_NUM_THREADS`` or the number of cores."""
    env = os.environ.get("CHAOSLAB_NUM_THREADS")
    if env:
        return max(1, int(env))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else (os.cpu_count() or 1))


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=n_threads(), thread_name_prefix="chaoslab")
    return _POOL


def kernels(system):
    """The compiled-kernel module for a system's structure (built and cached on first use).

    Systems with the same equations share one module whatever their parameter values;
    parameters are run-time inputs, so moving a slider never recompiles.
    """
    key = system.structure_key
    mod = _MODULES.get(key)
    if mod is not None:
        return mod
    with _LOCK:
        mod = _MODULES.get(key)
        if mod is not None:
            return mod
        if system.is_delay:
            src = delay_source(system.rhs_tape, system.dim, len(system.params),
                               [system.variables.index(v) for _, v in system.delayed],
                               list(system.params).index(system.tau))
        else:
            src = kernel_source(system.rhs_tape, system.jacobian_tape, system.dim,
                                len(system.params), system.kind, fj_tape=system.rhs_jac_tape)
        digest = hashlib.sha256(src.encode()).hexdigest()[:20]
        path = cache_dir() / f"k_{digest}.py"
        if not path.exists() or path.read_text() != src:
            # write atomically: another process may be importing the same file
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(src)
            os.replace(tmp, path)
        modname = f"chaoslab._kernels.k_{digest}"
        spec = importlib.util.spec_from_file_location(modname, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[modname] = mod
        exec(_module_code(path, src), mod.__dict__)
        _MODULES[key] = mod
        return mod


def _module_code(path: Path, src: str):
    """The compiled bytecode of a kernel module's source ``src`` (at ``path``), kept
    beside it in the kernel cache.

    Compiling a kernel module's source takes tens of milliseconds, and Python keeps no
    ``.pyc`` where ``PYTHONDONTWRITEBYTECODE`` is set (as in many container images), so
    chaoslab keeps its own: the interpreter's magic number, a hash of the source, then
    the marshalled code object. The code's file name is ``path``, where numba looks for
    the machine code it cached.
    """
    header = importlib.util.MAGIC_NUMBER + hashlib.sha256(src.encode()).digest()[:12]
    cpath = path.with_name(f"{path.stem}.{sys.implementation.cache_tag}.code")
    try:
        data = cpath.read_bytes()
        if data[:len(header)] == header:
            return marshal.loads(data[len(header):])
    except (OSError, ValueError, EOFError, TypeError):
        pass
    code = compile(src, str(path), "exec", dont_inherit=True)
    try:
        tmp = cpath.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(header + marshal.dumps(code))
        os.replace(tmp, cpath)
    except OSError:
        pass
    return code


def _split(B: int, parts: int) -> list:
    parts = max(1, min(parts, (B + BLOCK - 1) // BLOCK))
    edges = np.linspace(0, B, parts + 1).astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def parallel_rows(fn, B: int):
    """Run ``fn(a, b)`` on row ranges, one per thread, for kernels that loop over
    trajectories one at a time (no SIMD blocks)."""
    slabs = np.array_split(np.arange(B), min(B, n_threads()))
    slabs = [(int(s[0]), int(s[-1]) + 1) for s in slabs if len(s)]
    if len(slabs) == 1:
        fn(*slabs[0])
    else:
        list(_pool().map(lambda ab: fn(*ab), slabs))


def parallel_blocks(fn, B: int):
    """Run ``fn(a, b)`` on ranges of whole SIMD blocks of trajectories, one per thread."""
    slabs = _split(B, n_threads())
    if len(slabs) == 1:
        fn(*slabs[0])
        return
    list(_pool().map(lambda ab: fn(*ab), slabs))


def _chunks(B: int, lanes: int, per_thread: int = 4) -> list:
    """Row ranges for the fixed-step drivers: whole blocks of ``lanes`` trajectories,
    a few per thread, so that a thread slowed by other work on a shared machine does
    not hold up the batch (the pool hands the next range to whichever thread is free)."""
    blocks = (B + lanes - 1) // lanes
    parts = max(1, min(blocks, n_threads() * per_thread))
    edges = (np.linspace(0, blocks, parts + 1).round().astype(int) * lanes).clip(max=B)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def run_fixed(system, method: str, X: np.ndarray, Pm: np.ndarray, t0: float, h: float,
              n_out: int, stride: int, bound: float, out_dtype=np.float64):
    """Fixed-step integration (or map iteration) of a batch.

    ``X`` (dim, B) and ``Pm`` (n_params, B) are per-trajectory states and parameters.
    Returns ``out`` (B, n_out, dim) of ``out_dtype`` (float64 or float32: the states are
    always advanced in float64, float32 only rounds the stored samples), the final
    states (dim, B) and ``bad`` (B,): the first output index at which a row left the
    bound or became non-finite, -1 if never.

    Each thread runs the compiled driver once over a range of rows (no Python work per
    block); the driver writes ``out`` in place.
    """
    mod = kernels(system)
    driver = {"rk4": "rk4", "euler": "euler", "map": "iterate"}[method]
    fn = getattr(mod, driver)
    D, B = X.shape
    X = np.array(X, dtype=np.float64, order="C")  # advanced in place: the final states
    Pm = np.ascontiguousarray(Pm, dtype=np.float64)
    out = np.empty((B, n_out, D), dtype=out_dtype)
    bad = np.full(B, -1, dtype=np.int64)
    args = (X, Pm, float(t0), float(h), int(n_out), int(stride), out, float(bound), bad)
    if float(B) * n_out * max(1, stride) * D < _SERIAL_WORK:
        fn(*args, 0, B)
    else:
        parallel_chunks(lambda a, b: fn(*args, a, b), _chunks(B, fixed_tiling(D)[0]))
    return out, X, bad


#: Below this many state values advanced (trajectories x steps x dim) a batch runs on
#: the calling thread: waking the pool costs more than it saves.
_SERIAL_WORK = 100_000


def parallel_chunks(fn, chunks):
    """Run ``fn(a, b)`` over ``chunks``, handed out one at a time to the calling thread
    and ``n_threads() - 1`` pool threads, whichever is free (the kernels release the GIL).
    """
    if len(chunks) == 1 or n_threads() == 1:
        for ab in chunks:
            fn(*ab)
        return
    todo = iter(chunks)  # next() on a list iterator is atomic under the GIL

    def drain():
        for ab in todo:
            fn(*ab)

    helpers = [_pool().submit(drain) for _ in range(min(n_threads(), len(chunks)) - 1)]
    try:
        drain()
    finally:
        # a helper that has not started has nothing left to do: cancelling it means a
        # call from inside a pool thread never waits on a queued task
        for f in helpers:
            f.cancel()
        for f in helpers:
            if not f.cancelled():
                f.result()


def run_dopri5(system, X, Pm, t0, h_out, n_out, rtol, atol, max_steps, bound):
    """Adaptive Dormand-Prince 5(4) with output every ``h_out``; see :func:`run_fixed`.

    ``max_steps`` bounds the steps (accepted and rejected) within each output interval.
    Returns ``(out, final, bad, nsteps, spent)``: ``nsteps`` (B,) the steps taken per row,
    ``spent`` (B,) the time at which a row ran out of its step budget (NaN if it did
    not); such a row is also marked in ``bad`` (its samples from then on are NaN).
    """
    mod = kernels(system)
    D, B = X.shape
    out = np.empty((B, n_out, D))
    bad = np.full(B, -1, dtype=np.int64)
    nsteps = np.zeros(B, dtype=np.int64)
    spent = np.full(B, np.nan)
    final = np.empty_like(X)

    def work(a, b):
        Xs = np.array(X[:, a:b], order="C")
        Ps = np.array(Pm[:, a:b], order="C")
        mod.dopri5(Xs, Ps, float(t0), float(h_out), int(n_out), float(rtol), float(atol),
                   int(max_steps), out[a:b], float(bound), bad[a:b], nsteps[a:b],
                   spent[a:b])
        final[:, a:b] = Xs

    parallel_blocks(work, B)
    return out, final, bad, nsteps, spent


def run_delay(system, X, Pm, t0, h, n_out, stride, bound, XI=None, history=None, g0=0):
    """RK4 for a delay system; see ``delay_source``. Returns ``(out, final, bad, history)``.

    ``XI`` (dim, B) is the constant history before ``t0`` (default ``X``); ``history``
    continues an earlier run: the ``(HX, HF)`` ring buffers it returned and ``g0``, the
    number of steps it took.
    """
    mod = kernels(system)
    D, B = X.shape
    tau = Pm[list(system.params).index(system.tau)]
    q = tau / h
    if np.any(q < 2.0):
        raise ValueError(f"dt must be below {float(np.min(tau)) / 2:g} (per substep): the delay "
                         f"{system.tau} = {float(np.min(tau)):g} of {system.name} must span at "
                         f"least two steps, got a step of {h:g}")
    XI = np.array(X if XI is None else XI, order="C")
    if history is None:
        Lr = int(np.ceil(np.max(q))) + 3
        HX = np.zeros((B, Lr, D))
        HF = np.zeros((B, Lr, D))
    else:
        HX, HF = history
    out = np.empty((B, n_out, D))
    bad = np.full(B, -1, dtype=np.int64)
    Xc = np.array(X, order="C")
    Pc = np.array(Pm, order="C")

    def work(a, b):
        Xs = np.array(Xc[:, a:b], order="C")
        mod.dde_rk4(Xs, np.array(Pc[:, a:b], order="C"), np.array(XI[:, a:b], order="C"),
                    HX[a:b], HF[a:b], int(g0), float(t0), float(h), int(n_out), int(stride),
                    out[a:b], float(bound), bad[a:b])
        Xc[:, a:b] = Xs

    parallel_rows(work, B)
    return out, Xc, bad, (HX, HF)
