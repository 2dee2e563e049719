"""chaoslab's torch paths on a GPU (or the CPU): speed against numba, and a device check.

    python benchmarks/gpu.py          # or: python -m benchmarks.gpu
    python benchmarks/gpu.py --quick  # tiny sizes, to see that it runs

One short script (a few minutes at most on one GPU). It takes CUDA when present, else the
CPU, records the device's name, and measures, in one process:

1. ensemble throughput of ``cl.simulate(backend="torch")`` (Lorenz, RK4 at dt 0.01, every
   step stored; 100,000 starts x 1,000 steps on a GPU, fewer on the CPU) in float64 and
   float32, against the numba kernel on the same machine's cores;
2. the FTLE field of the double gyre (1000 x 500 grid on a GPU, T = 10) by the torch path
   in float64 and float32, against numba;
3. Lyapunov spectra of a batch of Lorenz parameter values (rho swept) by torch and numba;
   An experiment beside it (GPU only) replays the same RK4 steps from a captured CUDA
   graph, to show how much of a step is kernel-launch overhead;
4. the time per Adam epoch (per 10 Adam steps for the neural ODE, which counts steps) of
   each torch learner at its defaults on Lorenz, trained for a small fixed budget, on the
   device and, when that is a GPU, on the CPU too.

Device checks (the script exits non-zero when one fails): the torch trajectories, FTLE
fields and spectra equal numba's on the same input to the stated tolerance, and spectra on
the device match known values (Lorenz within 2% and its exact volume contraction, Henon
and its exact area contraction).

Times are medians of repeated runs after a warm-up run (numba's compilation and CUDA's
start are reported apart); on a GPU every timing ends with ``torch.cuda.synchronize()``.
The JSON is rewritten after every section (``"complete": false`` until the end), so a run
stopped early keeps what it measured. Results go to ``$OUT/gpu.json`` when ``$OUT`` is set, else to
``benchmarks/results/gpu_<device>.json`` (device: cpu or cuda; ``--quick`` writes to the
temporary directory).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import chaoslab as cl  # noqa: E402

SIZES = {
    "cuda": dict(sim_B=100_000, sim_N=1_000, ftle=(1000, 500), lyap_B=10_000, reps=3),
    "cpu": dict(sim_B=2_000, sim_N=500, ftle=(200, 100), lyap_B=200, reps=3),
    "quick": dict(sim_B=200, sim_N=100, ftle=(40, 20), lyap_B=8, reps=1),
}
LEARNERS = ("plrnn", "alrnn", "lstm", "transformer", "mamba", "neural_ode")

CHECKS = []  # (name, passed, detail)


def log(*a):
    print(*a, flush=True)


def check(name, passed, detail):
    CHECKS.append({"check": name, "passed": bool(passed), "detail": detail})
    log(f"  check {'ok  ' if passed else 'FAIL'} {name}: {detail}")


def sync(dev):
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn, dev, reps):
    """``(median seconds, all times, last result)`` of ``reps`` runs (after none: the
    caller warms up)."""
    times, out = [], None
    for _ in range(reps):
        sync(dev)
        t = time.perf_counter()
        out = fn()
        sync(dev)
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def first_call(fn, dev):
    sync(dev)
    t = time.perf_counter()
    out = fn()
    sync(dev)
    return time.perf_counter() - t, out


# ---------------------------------------------------------------------------- 1. simulate
def bench_simulate(dev, z):
    s = cl.systems.get("Lorenz")
    B, N = z["sim_B"], z["sim_N"]
    x0 = s.x0 + np.random.default_rng(0).normal(size=(B, 3))
    res = {"system": "Lorenz", "method": "rk4", "dt": 0.01, "starts": B, "steps": N}
    jit, _ = first_call(lambda: cl.simulate(s, 2, x0=x0[:64]), dev)
    res["numba_first_call_s"] = jit
    t_nb, ts, ref = timed(lambda: cl.simulate(s, N, x0=x0), dev, z["reps"])
    res["numba_s"] = t_nb
    res["numba_times_s"] = ts
    res["numba_steps_per_s"] = B * N / t_nb
    for dtype in ("float64", "float32"):
        first, _ = first_call(lambda: cl.simulate(s, 3, x0=x0[:64], backend="torch",
                                                  dtype=dtype, device=dev), dev)
        t, ts, out = timed(lambda: cl.simulate(s, N, x0=x0, backend="torch", dtype=dtype,
                                               device=dev), dev, z["reps"])
        res[f"torch_{dtype}_first_call_s"] = first
        res[f"torch_{dtype}_s"] = t
        res[f"torch_{dtype}_times_s"] = ts
        res[f"torch_{dtype}_steps_per_s"] = B * N / t
        res[f"ratio_torch_{dtype}_to_numba"] = t_nb / t  # > 1: torch is faster
        # the first 60 steps (0.6 time units): chaos has not yet amplified round-off
        w = min(60, N)
        a = out[:, :w].double().cpu().numpy()
        rel = float(np.max(np.abs(a - ref[:, :w]) / (1.0 + np.abs(ref[:, :w]))))
        res[f"torch_{dtype}_max_rel_diff_first_{w}_steps"] = rel
        tol = 1e-10 if dtype == "float64" else 1e-4
        check(f"simulate {dtype} equals numba over {w} steps", rel < tol,
              f"max relative difference {rel:.2e} (tolerance {tol:g})")
        del out
    return res


def graph_experiment(dev, z):
    """How much of a torch RK4 step is launch overhead: the same Lorenz steps (no output
    stored) run eagerly and replayed from a captured CUDA graph of 10 steps. An
    experiment for a later optimisation, not a chaoslab code path."""
    if dev.type != "cuda":
        return {"skipped": "CUDA graphs need a GPU"}
    from chaoslab.integrate.simulate import prepare_batch
    from chaoslab.integrate.tableaux import RK4, rk_step
    from chaoslab.integrate.torch_backend import torch_rhs
    s = cl.systems.get("Lorenz")
    B, N, k = z["sim_B"], z["sim_N"], 10
    x0 = s.x0 + np.random.default_rng(0).normal(size=(B, 3))
    X, Pm, _ = prepare_batch(s, x0, None)
    P = torch.tensor(Pm.T.copy(), dtype=torch.float64, device=dev)
    start = torch.tensor(X.T.copy(), dtype=torch.float64, device=dev)
    f = torch_rhs(s)

    def block(x):
        for _ in range(k):
            x = rk_step(lambda t, xx: f(t, xx, P), 0.0, x, 0.01, RK4)
        return x

    def eager():
        x = start
        for _ in range(N // k):
            x = block(x)
        return x

    t_eager, _, x_eager = timed(eager, dev, z["reps"])
    static = start.clone()
    side = torch.cuda.Stream(dev)
    side.wait_stream(torch.cuda.current_stream(dev))
    with torch.cuda.stream(side):
        for _ in range(3):
            block(static)
    torch.cuda.current_stream(dev).wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = block(static)

    def replay():
        static.copy_(start)
        for _ in range(N // k):
            graph.replay()
            static.copy_(out)
        return static

    t_graph, _, x_graph = timed(replay, dev, z["reps"])
    same = bool(torch.equal(x_eager, x_graph))
    return {"starts": B, "steps": N, "steps_per_graph": k, "eager_s": t_eager,
            "graph_s": t_graph, "ratio_eager_to_graph": t_eager / t_graph,
            "eager_us_per_step": 1e6 * t_eager / N, "graph_us_per_step": 1e6 * t_graph / N,
            "graph_equals_eager_bitwise": same}


# ------------------------------------------------------------------------------ 2. FTLE
def bench_ftle(dev, z):
    g = cl.systems.get("DoubleGyre")
    nx, ny = z["ftle"]
    x, y = np.linspace(0.0, 2.0, nx), np.linspace(0.0, 1.0, ny)
    T = 10.0
    res = {"system": "DoubleGyre", "grid": [nx, ny], "T": T, "dt": g.dt}
    jit, _ = first_call(lambda: cl.ftle_field(g, x[:4], y[:4], T), dev)
    res["numba_first_call_s"] = jit
    t_nb, ts, ref = timed(lambda: cl.ftle_field(g, x, y, T), dev, z["reps"])
    res["numba_s"] = t_nb
    res["numba_times_s"] = ts
    for dtype, tol in (("float64", 1e-8), ("float32", 1e-3)):
        first, _ = first_call(lambda: cl.ftle_field(g, x[:4], y[:4], T, backend="torch",
                                                    device=dev, dtype=dtype), dev)
        t, ts, out = timed(lambda: cl.ftle_field(g, x, y, T, backend="torch", device=dev,
                                                 dtype=dtype), dev, z["reps"])
        res[f"torch_{dtype}_first_call_s"] = first
        res[f"torch_{dtype}_s"] = t
        res[f"torch_{dtype}_times_s"] = ts
        res[f"ratio_torch_{dtype}_to_numba"] = t_nb / t
        same_nan = bool(np.array_equal(np.isnan(out), np.isnan(ref)))
        diff = float(np.nanmax(np.abs(out - ref)))
        res[f"torch_{dtype}_max_abs_diff"] = diff
        check(f"FTLE {dtype} equals numba", same_nan and diff < tol,
              f"max |difference| {diff:.2e} (tolerance {tol:g}), NaNs alike: {same_nan}")
    return res


# -------------------------------------------------------------------------- 3. spectra
def bench_lyapunov(dev, z):
    s = cl.systems.get("Lorenz")
    B = z["lyap_B"]
    rho = np.linspace(24.0, 100.0, B)
    kw = dict(params={"rho": rho}, T=20.0, dt=0.01, transient=2.0)
    res = {"system": "Lorenz", "sweep": "rho in [24, 100]", "batch": B, **{
        k: v for k, v in kw.items() if k != "params"}}
    jit, _ = first_call(lambda: cl.lyapunov_spectrum(s, params={"rho": rho[:2]}, T=0.2,
                                                     transient=0.1), dev)
    res["numba_first_call_s"] = jit
    t_nb, ts, ref = timed(lambda: cl.lyapunov_spectrum(s, **kw), dev, 1)
    res["numba_s"] = t_nb
    first, _ = first_call(lambda: cl.lyapunov_spectrum(s, params={"rho": rho[:2]}, T=0.2,
                                                       transient=0.1, backend="torch",
                                                       device=dev), dev)
    res["torch_first_call_s"] = first
    t, ts, out = timed(lambda: cl.lyapunov_spectrum(s, backend="torch", device=dev, **kw),
                       dev, 1)
    res["torch_s"] = t
    res["ratio_torch_to_numba"] = t_nb / t
    diff = float(np.max(np.abs(out - ref)))
    res["max_abs_diff"] = diff
    # the same arithmetic; chaos may amplify a last-bit difference of the trajectory by
    # e^(lambda_1 * 22) before the run ends, which moves an exponent by far less than this
    check("spectra of the rho sweep equal numba", diff < 1e-3,
          f"max |difference| {diff:.2e} over {B} x 3 exponents (tolerance 1e-3)")
    return res


def device_known_values(dev):
    res = {}
    s = cl.systems.get("Lorenz")
    x0 = s.x0 + np.random.default_rng(0).normal(size=(64, 3))
    t = time.perf_counter()
    lam = cl.lyapunov_spectrum(s, x0=x0, T=100.0, dt=0.02, transient=10.0, backend="torch",
                               device=dev)
    sync(dev)
    res["lorenz_64_starts_T100_s"] = time.perf_counter() - t
    mean = lam.mean(axis=0)
    ref = np.array([0.9056, 0.0, -14.5723])
    res["lorenz_mean_spectrum"] = mean.tolist()
    ok = (abs(mean[0] / ref[0] - 1) < 0.02 and abs(mean[1]) < 0.02 * ref[0]
          and abs(mean[2] / ref[2] - 1) < 0.02)
    check("Lorenz spectrum on the device within 2% of (0.9056, 0, -14.5723)", ok,
          f"mean of 64 starts, T = 100: {np.round(mean, 4).tolist()}")
    vol = float(np.max(np.abs(lam.sum(axis=1) + 41.0 / 3.0)))
    check("Lorenz exponents sum to -(sigma + 1 + beta)", vol < 5e-3,
          f"max |sum + 41/3| {vol:.2e} (tolerance 5e-3, RK4 at dt 0.02)")
    orbit = cl.simulate("Henon", 4000, transient=100)
    rng = np.random.default_rng(0)  # 256 starts on the attractor, parted by 1e-6 nudges
    x0 = orbit[rng.integers(0, len(orbit), 256)] + 1e-6 * rng.normal(size=(256, 2))
    t = time.perf_counter()
    lam = cl.lyapunov_spectrum("Henon", x0=x0, T=2_000, transient=100, backend="torch",
                               device=dev)
    sync(dev)
    res["henon_256_starts_2000_iterations_s"] = time.perf_counter() - t
    mean = lam.mean(axis=0)
    res["henon_mean_spectrum"] = mean.tolist()
    ok = abs(mean[0] - 0.4192) < 2e-3 and abs(mean[1] + 1.6232) < 2e-3
    check("Henon spectrum on the device (0.4192, -1.6232)", ok,
          f"mean of 256 starts: {np.round(mean, 4).tolist()} (tolerance 2e-3)")
    area = float(np.max(np.abs(lam.sum(axis=1) - math.log(0.3))))
    check("Henon exponents sum to ln b", area < 1e-9, f"max |sum - ln 0.3| {area:.2e}")
    return res


# ------------------------------------------------------------------------- 4. learners
def _budget(name, n):
    if name == "neural_ode":
        return dict(adam_steps=10 * n, lbfgs_steps=0)
    if name in ("plrnn", "alrnn"):
        return dict(epochs=n)
    return dict(epochs=n, lbfgs_steps=0)


def bench_learners(dev, quick):
    s = cl.systems.get("Lorenz")
    X = cl.simulate(s, 2_000 if quick else 5_000, transient=20.0)
    devices = [dev] + ([torch.device("cpu")] if dev.type == "cuda" else [])
    res = {"data": f"Lorenz, {len(X)} samples at dt 0.01",
           "unit": "seconds per Adam epoch (neural_ode: per 10 Adam steps), defaults "
                   "otherwise; (time of 6 units - time of 2) / 4, L-BFGS off",
           "per_unit_s": {}}
    for d in devices:
        key = d.type
        res["per_unit_s"][key] = {}
        for name in LEARNERS:
            try:
                # warm-up: compiled kernels, CUDA's libraries, first allocations
                cl.learners.make(name, device=str(d), **_budget(name, 1)).fit(X[:1000], 0.01)
                times = {}
                for n in (2, 6):
                    m = cl.learners.make(name, device=str(d), **_budget(name, n))
                    sync(d)
                    t = time.perf_counter()
                    m.fit(X, 0.01)
                    sync(d)
                    times[n] = time.perf_counter() - t
                    assert str(m.device_).startswith(d.type), (m.device_, d.type)
                per = (times[6] - times[2]) / 4
                res["per_unit_s"][key][name] = per
                res["per_unit_s"][key][name + "_fit_2_units_s"] = times[2]
                res["per_unit_s"][key][name + "_fit_6_units_s"] = times[6]
                log(f"  {name} on {key}: {per:.3g} s per unit")
            except Exception as e:  # one learner's failure is reported, the rest run
                res["per_unit_s"][key][name] = None
                res["per_unit_s"][key][name + "_error"] = f"{type(e).__name__}: {e}"
                check(f"{name} trains on {key}", False, f"{type(e).__name__}: {e}")
    if len(devices) == 2:
        res["ratio_cpu_to_cuda"] = {
            n: (res["per_unit_s"]["cpu"][n] / res["per_unit_s"]["cuda"][n]
                if res["per_unit_s"]["cpu"].get(n) and res["per_unit_s"]["cuda"].get(n)
                else None) for n in LEARNERS}
    return res


# ---------------------------------------------------------------------------- driver
def describe(dev):
    import numba

    from chaoslab.integrate.numba_backend import n_threads
    out = {"device": dev.type,
           "device_name": (torch.cuda.get_device_name(dev) if dev.type == "cuda"
                           else platform.processor() or "cpu"),
           "cpu_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
           else os.cpu_count(),
           "numba_threads": n_threads(), "torch_threads": torch.get_num_threads(),
           "python": platform.python_version(), "torch": torch.__version__,
           "numba": numba.__version__, "numpy": np.__version__,
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                out["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, to see that it runs")
    ap.add_argument("--device", default=None, help="cpu or cuda (default: CUDA if present)")
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["simulate", "graphs", "ftle", "lyapunov", "known", "learners"])
    ap.add_argument("--torch-threads", type=int, default=None,
                    help="torch's CPU threads (default: torch's own choice)")
    args = ap.parse_args(argv)
    from chaoslab.integrate.torch_backend import resolve_device
    dev = resolve_device(args.device)
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    z = SIZES["quick" if args.quick else dev.type]
    t_start = time.perf_counter()
    payload = {**describe(dev), "sizes": z, "quick": args.quick,
               "note": "medians of repeated runs in one process; ratio = numba time / "
                       "torch time (> 1: torch faster)"}
    log(f"chaoslab torch paths on {payload['device_name']} ({dev.type})")
    if dev.type == "cuda":
        t = time.perf_counter()
        torch.zeros(1, device=dev)
        sync(dev)
        payload["cuda_init_s"] = time.perf_counter() - t
    sections = [("simulate", lambda: bench_simulate(dev, z)),
                ("graphs", lambda: graph_experiment(dev, z)),
                ("ftle", lambda: bench_ftle(dev, z)),
                ("lyapunov", lambda: bench_lyapunov(dev, z)),
                ("known", lambda: device_known_values(dev)),
                ("learners", lambda: bench_learners(dev, args.quick))]
    out_dir = os.environ.get("OUT")
    if out_dir:
        path = Path(out_dir) / "gpu.json"
    elif args.quick:  # a trial run: not a result
        import tempfile
        path = Path(tempfile.gettempdir()) / f"chaoslab_gpu_{dev.type}_quick.json"
    else:
        path = ROOT / "benchmarks" / "results" / f"gpu_{dev.type}.json"
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(done):
        payload["checks"] = CHECKS
        payload["complete"] = done
        payload["all_checks_passed"] = done and all(c["passed"] for c in CHECKS)
        payload["total_s"] = time.perf_counter() - t_start
        path.write_text(json.dumps(payload, indent=1, default=float))

    for name, fn in sections:
        if name in args.skip:
            continue
        log(f"[{time.perf_counter() - t_start:6.1f} s] {name}")
        t = time.perf_counter()
        try:
            payload[name] = fn()
        except Exception as e:  # record it, run the other sections, fail at the end
            payload[name] = {"error": f"{type(e).__name__}: {e}",
                             "traceback": traceback.format_exc()}
            check(f"section {name} ran", False, f"{type(e).__name__}: {e}")
        payload[name + "_section_s"] = time.perf_counter() - t
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        write(False)  # what is done so far survives a run stopped at its time limit
    write(True)
    log(f"[{payload['total_s']:6.1f} s] wrote {path}; "
        f"{sum(c['passed'] for c in CHECKS)}/{len(CHECKS)} checks passed")
    return 0 if payload["all_checks_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
