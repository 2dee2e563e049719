"""Generated integration kernels against the best hand-written numba kernels.

For Lorenz (3-dim), Lorenz-96 (10-dim, F = 8) and the Henon map, several hand-written
numba kernels with chaoslab's output contract (every sample stored, ``(B, n_out, dim)``
float64 returned to the caller, parameters passed at run time) are timed first:

* ``scatterC``: ``prange`` over chunks of C trajectories (64, or 32/16/8 for dim 2/3/10),
  the lane loop inside (one SIMD lane per trajectory), each sample written straight into
  ``out[l, k, :]``;
* ``stagedCxK``: as ``scatterC``, but K samples of the chunk are kept in a small
  time-major buffer and written out one trajectory after the other (64 x 16, and the
  tiling chaoslab prints for the system's dimension);
* ``timemajor``: chunks write a ``(n_out, dim, B)`` array with contiguous vector
  stores, which a parallel loop then transposes into ``(B, n_out, dim)``;
* ``rows``: ``prange`` over single trajectories, the state in registers, ``out`` written
  contiguously (no SIMD across trajectories);
* ``stagedCxK-pool``: the staged kernel on chaoslab's thread pool instead of numba's
  threading layer (``prange``).

The hand-written kernels skip the blow-up check that chaoslab makes on every sample.
For each case the fastest of them is the reference, and it and ``cl.simulate`` (the
whole public call: validation, kernel, divergence report) are timed alternately in one
process; ratios are reference time / chaoslab time (1 = as fast). Cases: starts x stored
samples of 1,000 x 1,000, 10,000 x 1,000, 100,000 x 100 (one step per sample) and a
compute-bound 1,000 x 11 with 100 steps (iterations for the map) per sample.

The limit is the memory the samples fill: ``fill_fresh`` allocates an array of the
output's size and fills it (page faults included, as every run that returns new memory
pays), ``copyto`` copies into memory already touched. Bytes stored per second of each
are in the results, with the memory and time of ``store_dtype="float32"``.

Run: ``python -m benchmarks.kernels`` (writes ``benchmarks/results/kernels.json``).
"""
from __future__ import annotations

import statistics
import sys
import time
import tracemalloc

import numpy as np

from .common import save

CASES = [(1000, 1000, 1), (10000, 1000, 1), (100000, 100, 1), (1000, 11, 100)]
DT = 0.01
JIT = dict(nogil=True, error_model="numpy", cache=True)


def _hand_steps():
    """Hand-written right-hand sides and RK4 steps on tuples (inlined into the loops).

    The RK4 forms (``x + (0.5 * h) * k``, ``x + (h / 6) * (k1 + 2 k2 + 2 k3 + k4)``) are
    chaoslab's, so the results agree to rounding."""
    from numba import njit

    inl = dict(inline="always", **JIT)

    @njit(**inl)
    def lorenz(x, p):
        return (p[0] * (x[1] - x[0]), x[0] * (p[1] - x[2]) - x[1], x[0] * x[1] - p[2] * x[2])

    @njit(**inl)
    def ax3(x, a, k):
        return (x[0] + a * k[0], x[1] + a * k[1], x[2] + a * k[2])

    @njit(**inl)
    def rk3(x, h6, a, b, c, d):
        return (x[0] + h6 * (a[0] + 2.0 * b[0] + 2.0 * c[0] + d[0]),
                x[1] + h6 * (a[1] + 2.0 * b[1] + 2.0 * c[1] + d[1]),
                x[2] + h6 * (a[2] + 2.0 * b[2] + 2.0 * c[2] + d[2]))

    @njit(**inl)
    def lorenz_rk4(x, p, h):
        k1 = lorenz(x, p)
        k2 = lorenz(ax3(x, 0.5 * h, k1), p)
        k3 = lorenz(ax3(x, 0.5 * h, k2), p)
        k4 = lorenz(ax3(x, h, k3), p)
        return rk3(x, h / 6.0, k1, k2, k3, k4)

    @njit(**inl)
    def l96(x, p):
        f = p[0]
        return ((x[1] - x[8]) * x[9] - x[0] + f, (x[2] - x[9]) * x[0] - x[1] + f,
                (x[3] - x[0]) * x[1] - x[2] + f, (x[4] - x[1]) * x[2] - x[3] + f,
                (x[5] - x[2]) * x[3] - x[4] + f, (x[6] - x[3]) * x[4] - x[5] + f,
                (x[7] - x[4]) * x[5] - x[6] + f, (x[8] - x[5]) * x[6] - x[7] + f,
                (x[9] - x[6]) * x[7] - x[8] + f, (x[0] - x[7]) * x[8] - x[9] + f)

    @njit(**inl)
    def ax10(x, a, k):
        return (x[0] + a * k[0], x[1] + a * k[1], x[2] + a * k[2], x[3] + a * k[3],
                x[4] + a * k[4], x[5] + a * k[5], x[6] + a * k[6], x[7] + a * k[7],
                x[8] + a * k[8], x[9] + a * k[9])

    @njit(**inl)
    def comb(x, h6, a, b, c, d):
        return x + h6 * (a + 2.0 * b + 2.0 * c + d)

    @njit(**inl)
    def rk10(x, h6, a, b, c, d):
        return (comb(x[0], h6, a[0], b[0], c[0], d[0]), comb(x[1], h6, a[1], b[1], c[1], d[1]),
                comb(x[2], h6, a[2], b[2], c[2], d[2]), comb(x[3], h6, a[3], b[3], c[3], d[3]),
                comb(x[4], h6, a[4], b[4], c[4], d[4]), comb(x[5], h6, a[5], b[5], c[5], d[5]),
                comb(x[6], h6, a[6], b[6], c[6], d[6]), comb(x[7], h6, a[7], b[7], c[7], d[7]),
                comb(x[8], h6, a[8], b[8], c[8], d[8]), comb(x[9], h6, a[9], b[9], c[9], d[9]))

    @njit(**inl)
    def l96_rk4(x, p, h):
        k1 = l96(x, p)
        k2 = l96(ax10(x, 0.5 * h, k1), p)
        k3 = l96(ax10(x, 0.5 * h, k2), p)
        k4 = l96(ax10(x, h, k3), p)
        return rk10(x, h / 6.0, k1, k2, k3, k4)

    @njit(**inl)
    def henon(x, p, h):
        return (1.0 - p[0] * (x[0] * x[0]) + x[1], p[1] * x[0])

    # lane <-> tuple, written out per dimension
    @njit(**inl)
    def get1(A, l):
        return (A[0, l],)

    @njit(**inl)
    def get2(A, l):
        return (A[0, l], A[1, l])

    @njit(**inl)
    def get3(A, l):
        return (A[0, l], A[1, l], A[2, l])

    @njit(**inl)
    def get10(A, l):
        return (A[0, l], A[1, l], A[2, l], A[3, l], A[4, l], A[5, l], A[6, l], A[7, l],
                A[8, l], A[9, l])

    # (step, state of lane l, parameters of lane l, dim, n_params, (lanes, kt) of the
    # tuned staged design: the tiling chaoslab picks, found by a sweep on this machine)
    return {"Lorenz": (lorenz_rk4, get3, get3, 3, 3, (16, 42)),
            "Lorenz96": (l96_rk4, get10, get1, 10, 1, (8, 25)),
            "Henon": (henon, get2, get2, 2, 2, (32, 32))}


def _designs(step, getx, getp, D, M, tiling, parallel=True):
    """The hand-written kernels for one system: ``name -> run(X0, P, h, n_out, stride)``,
    each returning a new ``(B, n_out, D)`` float64 array."""
    from numba import njit, prange

    def scatter(C):
        @njit(parallel=parallel, **JIT)
        def kern(X0, P, h, n_out, stride, out):
            B = X0.shape[1]
            for ch in prange((B + C - 1) // C):
                a = ch * C
                n = min(C, B - a)
                Xb = np.empty((D, C))
                Pb = np.empty((M, C))
                for l in range(n):
                    for i in range(D):
                        Xb[i, l] = X0[i, a + l]
                        out[a + l, 0, i] = X0[i, a + l]
                    for j in range(M):
                        Pb[j, l] = P[j, a + l]
                for k in range(1, n_out):
                    for _ in range(stride):
                        for l in range(n):
                            x = step(getx(Xb, l), getp(Pb, l), h)
                            for i in range(D):
                                Xb[i, l] = x[i]
                    for l in range(n):
                        for i in range(D):
                            out[a + l, k, i] = Xb[i, l]
            return 0
        return kern

    def staged(C, KT):
        @njit(parallel=parallel, **JIT)
        def kern(X0, P, h, n_out, stride, out):
            B = X0.shape[1]
            for ch in prange((B + C - 1) // C):
                a = ch * C
                n = min(C, B - a)
                Xb = np.empty((D, C))
                Pb = np.empty((M, C))
                S = np.empty((KT, D, C))
                for l in range(n):
                    for i in range(D):
                        Xb[i, l] = X0[i, a + l]
                    for j in range(M):
                        Pb[j, l] = P[j, a + l]
                for k0 in range(0, n_out, KT):
                    nk = min(KT, n_out - k0)
                    for kk in range(nk):
                        if k0 + kk > 0:
                            for _ in range(stride):
                                for l in range(n):
                                    x = step(getx(Xb, l), getp(Pb, l), h)
                                    for i in range(D):
                                        Xb[i, l] = x[i]
                        for i in range(D):
                            for l in range(n):
                                S[kk, i, l] = Xb[i, l]
                    for l in range(n):
                        o = out[a + l]
                        for kk in range(nk):
                            for i in range(D):
                                o[k0 + kk, i] = S[kk, i, l]
            return 0
        return kern

    def staged_range(C, KT):
        # rows a..b only, no prange: for the thread pool below
        @njit(**JIT)
        def kern(X0, P, h, n_out, stride, out, a0, b0):
            Xb = np.empty((D, C))
            Pb = np.empty((M, C))
            S = np.empty((KT, D, C))
            for a in range(a0, b0, C):
                n = min(C, b0 - a)
                for l in range(n):
                    for i in range(D):
                        Xb[i, l] = X0[i, a + l]
                    for j in range(M):
                        Pb[j, l] = P[j, a + l]
                for k0 in range(0, n_out, KT):
                    nk = min(KT, n_out - k0)
                    for kk in range(nk):
                        if k0 + kk > 0:
                            for _ in range(stride):
                                for l in range(n):
                                    x = step(getx(Xb, l), getp(Pb, l), h)
                                    for i in range(D):
                                        Xb[i, l] = x[i]
                        for i in range(D):
                            for l in range(n):
                                S[kk, i, l] = Xb[i, l]
                    for l in range(n):
                        o = out[a + l]
                        for kk in range(nk):
                            for i in range(D):
                                o[k0 + kk, i] = S[kk, i, l]
            return 0
        return kern

    def timemajor(C):
        @njit(parallel=parallel, **JIT)
        def kern(X0, P, h, n_out, stride, tm):
            B = X0.shape[1]
            for ch in prange((B + C - 1) // C):
                a = ch * C
                n = min(C, B - a)
                Xb = np.empty((D, C))
                Pb = np.empty((M, C))
                for l in range(n):
                    for i in range(D):
                        Xb[i, l] = X0[i, a + l]
                        tm[0, i, a + l] = X0[i, a + l]
                    for j in range(M):
                        Pb[j, l] = P[j, a + l]
                for k in range(1, n_out):
                    for _ in range(stride):
                        for l in range(n):
                            x = step(getx(Xb, l), getp(Pb, l), h)
                            for i in range(D):
                                Xb[i, l] = x[i]
                    for i in range(D):
                        for l in range(n):
                            tm[k, i, a + l] = Xb[i, l]
            return 0

        @njit(parallel=parallel, **JIT)
        def transpose(tm, out):
            n_out, _, B = tm.shape
            for ch in prange((B + 7) // 8):
                for k in range(n_out):
                    for l in range(ch * 8, min(ch * 8 + 8, B)):
                        for i in range(D):
                            out[l, k, i] = tm[k, i, l]
            return 0
        return kern, transpose

    @njit(parallel=parallel, **JIT)
    def rows(X0, P, h, n_out, stride, out):
        B = X0.shape[1]
        for l in prange(B):
            x = getx(X0, l)
            p = getp(P, l)
            for i in range(D):
                out[l, 0, i] = x[i]
            for k in range(1, n_out):
                for _ in range(stride):
                    x = step(x, p, h)
                for i in range(D):
                    out[l, k, i] = x[i]
        return 0

    def plain(kern):
        def run(X0, P, h, n_out, stride):
            out = np.empty((X0.shape[1], n_out, D))
            kern(X0, P, h, n_out, stride, out)
            return out
        return run

    tm_kern, tm_transpose = timemajor(64)

    def run_tm(X0, P, h, n_out, stride):
        tm = np.empty((n_out, D, X0.shape[1]))
        tm_kern(X0, P, h, n_out, stride, tm)
        out = np.empty((X0.shape[1], n_out, D))
        tm_transpose(tm, out)
        return out

    lanes, kt = tiling
    pooled = staged_range(lanes, kt)

    def run_pool(X0, P, h, n_out, stride):
        # chaoslab's thread pool (the calling thread and the pool take chunks of whole
        # blocks, four per thread, as they come free) instead of numba's threading layer
        from chaoslab.integrate import numba_backend as nb

        B = X0.shape[1]
        out = np.empty((B, n_out, D))
        blocks = -(-B // lanes)
        edges = np.linspace(0, blocks, min(blocks, 4 * nb.n_threads()) + 1).round()
        edges = np.minimum(edges.astype(int) * lanes, B)
        chunks = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]
        nb.parallel_chunks(lambda a, b: pooled(X0, P, h, n_out, stride, out, a, b), chunks)
        return out

    return {f"scatter{lanes}": plain(scatter(lanes)), "scatter64": plain(scatter(64)),
            f"staged{lanes}x{kt}": plain(staged(lanes, kt)), "staged64x16": plain(staged(64, 16)),
            "timemajor64": run_tm, "rows": plain(rows),
            f"staged{lanes}x{kt}-pool": run_pool}


def _median(ts):
    return statistics.median(ts)


def _alternate(fns: dict, repeat: int, stat=_median) -> dict:
    """Median (or ``stat``) seconds of each function, the functions called in turn
    ``repeat`` times (one warm-up round first), so that load from elsewhere falls on all
    of them alike."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: stat(v) for k, v in times.items()}


def _case(cl, s, step, B, N, S, designs):
    import warnings

    rng = np.random.default_rng(0)
    x0 = s.x0 + 1e-3 * rng.normal(size=(B, s.dim))
    X0 = np.ascontiguousarray(x0.T)
    P = np.ascontiguousarray(np.broadcast_to(s.param_vector[:, None], (len(s.params), B)))
    h = 1.0 if s.is_map else DT / S
    kw = {"every": S} if s.is_map else {"substeps": S}

    def ours():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a diverged row would make the timing moot
            return cl.simulate(s, N, x0=x0, **kw)

    ref = ours()
    scale = 1.0 + np.abs(ref)
    window = min(N, 20 if s.is_map else N)
    check = {}
    for name, run in designs.items():
        got = run(X0, P, h, N, S)
        assert got.shape == ref.shape and got.dtype == ref.dtype
        check[name] = float(np.max(np.abs(got[:, :window] - ref[:, :window])
                                   / scale[:, :window]))
        del got
    big = B * N * s.dim * 8 > 1e8
    screen = _alternate({k: (lambda r=r: r(X0, P, h, N, S)) for k, r in designs.items()},
                        2 if big else 3)
    best = min(screen, key=screen.get)
    runb = designs[best]
    fill_buf = np.empty_like(ref)
    fill_buf.fill(1.0)

    def fill_fresh():
        np.empty_like(ref).fill(0.0)

    t = _alternate({"chaoslab": ours, "hand": lambda: runb(X0, P, h, N, S),
                    "fill_fresh": fill_fresh,
                    "copyto": lambda: np.copyto(fill_buf, ref)}, 5 if big else 9)
    nbytes = ref.nbytes
    steps = B * (N - 1) * S
    return {
        "starts": B, "stored_samples": N, "steps_per_sample": S, "output_bytes": nbytes,
        "hand_designs_screen_s": screen, "hand_reference": best,
        "hand_max_rel_diff_vs_chaoslab": check,
        "chaoslab_s": t["chaoslab"], "hand_s": t["hand"],
        "ratio_chaoslab_to_hand": t["hand"] / t["chaoslab"],
        "chaoslab_steps_per_s": steps / t["chaoslab"],
        "chaoslab_bytes_per_s": nbytes / t["chaoslab"],
        "hand_bytes_per_s": nbytes / t["hand"],
        "fill_fresh_s": t["fill_fresh"], "fill_fresh_bytes_per_s": nbytes / t["fill_fresh"],
        "copyto_s": t["copyto"], "copyto_bytes_per_s": nbytes / t["copyto"],
    }


def float32_storage(cl, B=10000, N=1000):
    """Peak traced memory and time of a Lorenz ensemble stored as float64 and float32."""
    s = cl.systems.get("Lorenz")
    x0 = s.x0 + 1e-3 * np.random.default_rng(1).normal(size=(B, 3))
    res = {"starts": B, "stored_samples": N}
    for name in ("float64", "float32"):
        cl.simulate(s, 2, x0=x0[:2], store_dtype=name)
        tracemalloc.start()
        x = cl.simulate(s, N, x0=x0, store_dtype=name)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del x
        res[f"{name}_peak_bytes"] = peak
    t = _alternate({k: (lambda k=k: cl.simulate(s, N, x0=x0, store_dtype=k))
                    for k in ("float64", "float32")}, 5)
    res.update({f"{k}_s": v for k, v in t.items()})
    res["memory_ratio"] = res["float32_peak_bytes"] / res["float64_peak_bytes"]
    a = cl.simulate(s, 50, x0=x0[:100])
    b = cl.simulate(s, 50, x0=x0[:100], store_dtype="float32")
    res["float32_max_rel_err"] = float(np.max(np.abs(b - a) / np.abs(a)))
    return res


def main(systems=("Lorenz", "Lorenz96", "Henon"), cases=CASES):
    import numba

    import chaoslab as cl
    from chaoslab.integrate import numba_backend as nb

    hand = _hand_steps()
    res = {"threads": nb.n_threads(), "numba": numba.__version__,
           "note": "shared 2-core machine; each ratio from one run, functions alternated",
           "systems": {}}
    for name in systems:
        step, getx, getp, D, M, tiling = hand[name]
        s = cl.systems.get(name)
        designs = _designs(step, getx, getp, D, M, tiling)
        rows = []
        for B, N, S in cases:
            r = _case(cl, s, step, B, N, S, designs)
            rows.append(r)
            print(f"{name:9s} {B:>7d} x {N:>5d} x {S:>3d}: chaoslab {r['chaoslab_s'] * 1e3:8.2f} ms"
                  f"  hand[{r['hand_reference']}] {r['hand_s'] * 1e3:8.2f} ms"
                  f"  ratio {r['ratio_chaoslab_to_hand']:.2f}"
                  f"  fill {r['fill_fresh_s'] * 1e3:7.2f} ms", flush=True)
        res["systems"][name] = rows
    res["threading_layer_of_hand_kernels"] = numba.threading_layer()
    res["float32_storage"] = float32_storage(cl)
    print("float32 storage:", res["float32_storage"], flush=True)
    return save("kernels", res)


if __name__ == "__main__":
    args = sys.argv[1:]
    main(*(([tuple(args)]) if args else []))
