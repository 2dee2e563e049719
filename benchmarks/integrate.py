"""Integration speed: chaoslab vs a hand-written numba kernel and vs dysts.

1. Lorenz ensemble, 1,000 initial conditions x 1,000 RK4 steps (dt 0.01), every step
   stored: chaoslab's generic catalog kernel against a numba kernel written by hand for
   Lorenz alone, vectorised across the batch the same way and run on the same threads,
   and against dysts' ``make_trajectory`` (DOP853, its tolerances; timed on a subset of
   initial conditions and scaled, since the full run takes minutes).
2. Time to the first simulation of a system in a fresh process: with an empty kernel
   cache (cold) and with the cache a previous process left (warm).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from .common import median_time, save

B, N, DT = 1000, 1000, 0.01


def _hand_kernel():
    from numba import njit

    @njit(nogil=True, error_model="numpy", cache=True)
    def lorenz_rk4(X, sigma, rho, beta, h, n_out, stride, out):
        # one block of trajectories per call; the lane loop from 0 to B vectorises
        B = X.shape[1]
        for l in range(B):
            out[l, 0, 0] = X[0, l]
            out[l, 0, 1] = X[1, l]
            out[l, 0, 2] = X[2, l]
        for k in range(1, n_out):
            for j in range(stride):
                for l in range(B):
                    x = X[0, l]
                    y = X[1, l]
                    z = X[2, l]
                    k1x = sigma * (y - x)
                    k1y = x * (rho - z) - y
                    k1z = x * y - beta * z
                    x2 = x + 0.5 * h * k1x
                    y2 = y + 0.5 * h * k1y
                    z2 = z + 0.5 * h * k1z
                    k2x = sigma * (y2 - x2)
                    k2y = x2 * (rho - z2) - y2
                    k2z = x2 * y2 - beta * z2
                    x3 = x + 0.5 * h * k2x
                    y3 = y + 0.5 * h * k2y
                    z3 = z + 0.5 * h * k2z
                    k3x = sigma * (y3 - x3)
                    k3y = x3 * (rho - z3) - y3
                    k3z = x3 * y3 - beta * z3
                    x4 = x + h * k3x
                    y4 = y + h * k3y
                    z4 = z + h * k3z
                    k4x = sigma * (y4 - x4)
                    k4y = x4 * (rho - z4) - y4
                    k4z = x4 * y4 - beta * z4
                    X[0, l] = x + h / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
                    X[1, l] = y + h / 6.0 * (k1y + 2.0 * k2y + 2.0 * k3y + k4y)
                    X[2, l] = z + h / 6.0 * (k1z + 2.0 * k2z + 2.0 * k3z + k4z)
            for l in range(B):
                out[l, k, 0] = X[0, l]
                out[l, k, 1] = X[1, l]
                out[l, k, 2] = X[2, l]
        return 0

    return lorenz_rk4


def ensemble():
    import chaoslab as cl
    from chaoslab.integrate import numba_backend as nb

    s = cl.systems.get("Lorenz")
    rng = np.random.default_rng(0)
    x0 = s.x0 + rng.normal(size=(B, 3))
    cl.simulate(s, N, x0=x0)  # compile / load
    t_cl, _ = median_time(lambda: cl.simulate(s, N, x0=x0), repeat=7)

    kern = _hand_kernel()
    sig, rho, beta = 10.0, 28.0, 8 / 3

    def hand(n_out=N, stride=1):
        out = np.empty((B, n_out, 3))
        X = np.ascontiguousarray(x0.T)

        def work(a, b):
            for c in range(a, b, nb.BLOCK):
                d = min(c + nb.BLOCK, b)
                Xs = np.array(X[:, c:d], order="C")
                kern(Xs, sig, rho, beta, DT / stride, n_out, stride, out[c:d])
        nb.parallel_blocks(work, B)
        return out

    ref = hand()
    mine = cl.simulate(s, N, x0=x0)
    agree = float(np.max(np.abs(ref[:, :50] - mine[:, :50])))
    t_hand, _ = median_time(hand, repeat=7)

    # compute-bound: 100 RK4 steps per stored sample (1,000 x 100,000 steps in all)
    SUB = 100
    np.testing.assert_allclose(hand(11, SUB)[:, :3], cl.simulate(s, 11, x0=x0, substeps=SUB)[:, :3],
                               rtol=1e-9, atol=1e-9)
    t_cl_c, _ = median_time(lambda: cl.simulate(s, 11, x0=x0, substeps=SUB), repeat=5)
    t_hand_c, _ = median_time(lambda: hand(11, SUB), repeat=5)

    # equal-accuracy comparison with the adaptive integrator at dysts' tolerance
    t_dp, _ = median_time(lambda: cl.simulate(s, N, x0=x0[:100], method="dopri5",
                                              rtol=1e-12, atol=1e-12), repeat=3)
    t_dp_full = t_dp * B / 100

    dysts_time = None
    n_sub = int(os.environ.get("CHAOSLAB_BENCH_DYSTS_ICS", "10"))
    try:
        import dysts.flows as flows
        model = flows.Lorenz()
        model.params["beta"] = 8 / 3

        def run_dysts():
            for i in range(n_sub):
                model.make_trajectory(N, dt=DT, init_cond=x0[i], resample=False,
                                      method="DOP853")
        t_sub, _ = median_time(run_dysts, repeat=3)
        dysts_time = t_sub * B / n_sub
    except ImportError:
        pass

    steps = B * (N - 1)
    return {
        "batch": B, "steps": N, "dt": DT,
        "chaoslab_rk4_s": t_cl, "hand_rk4_s": t_hand,
        "chaoslab_steps_per_s": steps / t_cl, "hand_steps_per_s": steps / t_hand,
        "ratio_chaoslab_to_hand": t_hand / t_cl,
        "compute_bound_steps": B * 10 * SUB,
        "chaoslab_compute_steps_per_s": B * 10 * SUB / t_cl_c,
        "hand_compute_steps_per_s": B * 10 * SUB / t_hand_c,
        "ratio_compute_bound": t_hand_c / t_cl_c,
        "max_diff_first_50_steps": agree,
        "chaoslab_dopri5_rtol1e-12_s_scaled": t_dp_full,
        "dysts_dop853_s_scaled": dysts_time, "dysts_ics_timed": n_sub,
        "speedup_vs_dysts_rk4": (dysts_time / t_cl) if dysts_time else None,
        "speedup_vs_dysts_equal_tol": (dysts_time / t_dp_full) if dysts_time else None,
    }


_FIRST = r"""
import time, sys
t0 = time.perf_counter()
import chaoslab as cl
s = cl.systems.get(sys.argv[1])
x = cl.simulate(s, 1000)
t1 = time.perf_counter()
print(t1 - t0)
"""


def first_simulation(name="Rossler", repeat=5):
    cold, warm = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as d:
            env = {**os.environ, "CHAOSLAB_CACHE_DIR": d}
            for bucket in (cold, warm):
                t = time.perf_counter()
                out = subprocess.run([sys.executable, "-c", _FIRST, name], env=env,
                                     capture_output=True, text=True, check=True)
                wall = time.perf_counter() - t
                bucket.append((float(out.stdout.strip()), wall))
    # the floor: a bare process that imports numba and calls one cached function
    floor = []
    with tempfile.TemporaryDirectory() as d:
        mod = os.path.join(d, "trivial_kernel.py")
        with open(mod, "w") as f:
            f.write("from numba import njit\n@njit(cache=True)\ndef g(x):\n    return x + 1.0\n")
        code = ("import time; t=time.perf_counter(); import numpy, trivial_kernel; "
                "trivial_kernel.g(1.0); print(time.perf_counter()-t)")
        for _ in range(repeat + 1):
            out = subprocess.run([sys.executable, "-c", code], cwd=d, capture_output=True,
                                 text=True, check=True)
            floor.append(float(out.stdout.strip()))
    floor = floor[1:]
    return {
        "system": name,
        "cold_in_process_s": statistics.median(c[0] for c in cold),
        "cold_wall_s": statistics.median(c[1] for c in cold),
        "warm_in_process_s": statistics.median(w[0] for w in warm),
        "warm_wall_s": statistics.median(w[1] for w in warm),
        "numba_floor_cached_trivial_s": statistics.median(floor),
    }


def main():
    res = {"ensemble": ensemble(), "first_simulation": first_simulation()}
    return save("integrate", res)


if __name__ == "__main__":
    import json
    print(json.dumps(main(), indent=1))
