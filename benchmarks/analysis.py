"""Analysis speed and accuracy against peers.

1. Lorenz (10, 28, 8/3) Lyapunov spectrum: chaoslab's defaults against dysts'
   ``find_lyapunov_exponents`` (its defaults, 1,000-point trajectory).
2. FTLE of the double gyre (A = 0.1, eps = 0.25, omega = 2 pi / 10), 1000 x 500 grid,
   T = 10, and numbacs' own benchmark setting (201 x 101 grid, T = 16): chaoslab (exact
   variational equation, RK4 with dt = 0.1) against numbacs (flow map by its ODE solver,
   gradient by finite differences on the grid), the interior difference between the two,
   and both against an independent reference (scipy DOP853 at 1e-12) at sampled points.
   The per-lane-parameter kernel that served FTLE fields before is timed in the same run.
3. Logistic map exponent over 10,000 parameter values in one batched call: the SIMD lane
   kernel and the one-trajectory-at-a-time kernel in the same run, and their difference.
4. Orbit diagram of the logistic map at 10,000 parameter values.
"""
from __future__ import annotations

import time

import numpy as np

from .common import median_time, save

LORENZ_REF = np.array([0.9056, 0.0, -14.5723])


def lorenz_spectrum():
    import chaoslab as cl

    cl.lyapunov_spectrum("Lorenz", T=10)  # compile / load
    t_cl, _ = median_time(lambda: cl.lyapunov_spectrum("Lorenz"), repeat=5)
    lam = cl.lyapunov_spectrum("Lorenz")
    out = {"chaoslab_s": t_cl, "chaoslab": lam.tolist(),
           "chaoslab_rel_err_l1": abs(lam[0] / LORENZ_REF[0] - 1),
           "chaoslab_rel_err_l3": abs(lam[2] / LORENZ_REF[2] - 1)}
    try:
        import dysts.flows as flows
        from dysts.analysis import find_lyapunov_exponents
    except ImportError:
        return out
    model = flows.Lorenz()
    model.params["beta"] = 8 / 3
    runs = {}
    for n in (1000, 4000):  # trajectory lengths; dysts' own example uses 1,000
        t = time.perf_counter()
        ld = np.asarray(find_lyapunov_exponents(model, n))
        runs[n] = {"s": time.perf_counter() - t, "exponents": ld.tolist(),
                   "rel_err_l1": abs(ld[0] / LORENZ_REF[0] - 1)}
    best = runs[4000]
    out.update(dysts=runs, speedup=best["s"] / t_cl)
    return out


def double_gyre_ftle(nx=1000, ny=500, T=10.0, repeat=3):
    import chaoslab as cl
    import chaoslab.analysis.lyapunov as ly

    g = cl.systems.get("DoubleGyre")
    x = np.linspace(0, 2, nx)
    y = np.linspace(0, 1, ny)
    cl.ftle_field(g, x[:4], y[:4], T, dt=0.1)
    t_cl, _ = median_time(lambda: cl.ftle_field(g, x, y, T, dt=0.1), repeat=repeat, warmup=0)
    ours = cl.ftle_field(g, x, y, T, dt=0.1)
    ly.TANGENT2_UNIFORM = False  # the per-lane-parameter kernel used before
    try:
        cl.ftle_field(g, x[:4], y[:4], T, dt=0.1)
        t_old, _ = median_time(lambda: cl.ftle_field(g, x, y, T, dt=0.1), repeat=repeat,
                               warmup=0)
        old = cl.ftle_field(g, x, y, T, dt=0.1)
    finally:
        ly.TANGENT2_UNIFORM = True
    s = max(1, nx // 20)
    fine = cl.ftle_field(g, x[::s], y[::s], T, dt=0.01)
    # an independent reference at sampled interior points
    rng = np.random.default_rng(0)
    I = rng.integers(5, nx - 5, 40)
    J = rng.integers(5, ny - 5, 40)
    err = np.abs(ours[I, J] - _reference_ftle(g, x[I], y[J], T))
    out = {"grid": [nx, ny], "T": T, "dt": 0.1, "chaoslab_s": t_cl,
           "chaoslab_previous_kernel_s": t_old, "kernel_speedup": t_old / t_cl,
           "new_vs_previous_kernel_max_diff": float(np.nanmax(np.abs(ours - old))),
           "chaoslab_dt0.1_vs_dt0.01_max_diff": float(np.nanmax(np.abs(ours[::s, ::s] - fine))),
           "sampled40_chaoslab_err_max": float(err.max()),
           "sampled40_chaoslab_err_median": float(np.median(err))}
    try:
        from numbacs.flows import get_predefined_flow
        from numbacs.integration import flowmap_grid_2D
        from numbacs.diagnostics import ftle_grid_2D
    except ImportError as exc:
        out["numbacs"] = f"not installed ({exc})"
        return out
    funcptr, p, _ = get_predefined_flow("double_gyre", int_direction=1.0, return_domain=True)
    # numbacs' default parameters are the same flow: A = 0.1, eps = 0.25, omega = 2 pi/10
    assert np.allclose(p[[1, 2, 4]], [0.1, 0.25, 2 * np.pi / 10])

    def run_numbacs():
        fm = flowmap_grid_2D(funcptr, 0.0, T, x, y, p)
        return ftle_grid_2D(fm, T, x[1] - x[0], y[1] - y[0])
    run_numbacs()  # JIT warm-up, not timed
    t_nb, _ = median_time(run_numbacs, repeat=repeat, warmup=0)
    theirs = run_numbacs()
    interior = (slice(5, -5), slice(5, -5))
    diff = np.abs(ours - theirs)[interior]
    # where the two disagree most, compare both with an independent reference
    I, J = np.unravel_index(np.argsort(np.nan_to_num(diff), axis=None)[-20:], diff.shape)
    I, J = I + 5, J + 5
    ref = _reference_ftle(g, x[I], y[J], T)
    out.update(worst20_chaoslab_err_median=float(np.median(np.abs(ours[I, J] - ref))),
               worst20_numbacs_err_median=float(np.median(np.abs(theirs[I, J] - ref))))
    out.update(numbacs_s=t_nb, speedup=t_nb / t_cl, speedup_previous_kernel=t_nb / t_old,
               interior_max_diff=float(np.nanmax(diff)),
               interior_median_diff=float(np.nanmedian(diff)),
               interior_frac_within_1e3=float(np.mean(diff < 1e-3)))
    return out


def _reference_ftle(system, xs, ys, T, delta=1e-7):
    """FTLE at points (xs[k], ys[k]): scipy's DOP853 at tight tolerances, central
    differences with a tiny offset (independent of both chaoslab and numbacs)."""
    from scipy.integrate import solve_ivp

    base = np.stack([xs, ys], axis=1)
    offs = np.array([[delta, 0], [-delta, 0], [0, delta], [0, -delta]])
    pts = (base[:, None, :] + offs[None]).reshape(-1, 2)
    sol = solve_ivp(lambda t, z: system.rhs(z.reshape(-1, 2), t=t).ravel(), (0.0, T),
                    pts.ravel(), method="DOP853", rtol=1e-12, atol=1e-13)
    end = sol.y[:, -1].reshape(-1, 4, 2)
    F = np.stack([(end[:, 0] - end[:, 1]), (end[:, 2] - end[:, 3])], axis=2) / (2 * delta)
    lam = np.linalg.eigvalsh(np.einsum("nki,nkj->nij", F, F))[:, -1]
    return 0.5 * np.log(lam) / abs(T)


def logistic_sweep(n=10_000):
    import chaoslab as cl
    import chaoslab.analysis.lyapunov as ly

    r = np.linspace(2.5, 4.0, n)

    def run():
        return cl.lyapunov_spectrum("Logistic", params={"r": r}, T=10_000, transient=1_000)

    cl.lyapunov_spectrum("Logistic", params={"r": r[:4]}, T=100)
    t_cl, _ = median_time(run, repeat=5)
    lam = run()
    ly.MAP_LANES = False  # the one-trajectory-at-a-time kernel used before
    try:
        cl.lyapunov_spectrum("Logistic", params={"r": r[:4]}, T=100)
        t_old, _ = median_time(run, repeat=3)
        old = run()
    finally:
        ly.MAP_LANES = True
    ok = np.isfinite(old[:, 0])
    rel = np.abs(lam[ok, 0] - old[ok, 0]) / np.maximum(np.abs(old[ok, 0]), 1e-300)
    return {"n_values": n, "iterations": 10_000, "chaoslab_s": t_cl,
            "previous_kernel_s": t_old, "speedup": t_old / t_cl,
            "max_rel_diff_vs_previous_kernel": float(rel.max()),
            "same_nan_rows": bool(np.array_equal(np.isnan(lam), np.isnan(old))),
            "value_at_r4": float(lam[-1, 0]), "ln2": float(np.log(2))}


def logistic_orbit_diagram(n=10_000):
    """The orbit diagram's map iteration already runs trajectories across SIMD lanes
    (the batched ``iterate`` driver); its time, for comparison with the sweep above."""
    import chaoslab as cl

    r = np.linspace(2.5, 4.0, n)
    cl.orbit_diagram("Logistic", "r", r[:4])
    t, _ = median_time(lambda: cl.orbit_diagram("Logistic", "r", r), repeat=5)
    return {"n_values": n, "transient": 1000, "T": 200, "chaoslab_s": t}


def main():
    return save("analysis", {"lorenz_spectrum": lorenz_spectrum(),
                             "double_gyre_ftle": double_gyre_ftle(),
                             "double_gyre_ftle_numbacs_setting":
                                 double_gyre_ftle(201, 101, 16.0, repeat=7),
                             "logistic_sweep": logistic_sweep(),
                             "logistic_orbit_diagram": logistic_orbit_diagram()})


if __name__ == "__main__":
    import json
    print(json.dumps(main(), indent=1))
