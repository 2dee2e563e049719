"""Run the benchmarks in one process and print the tables for the README.

    make bench            # core and analysis (minutes): python -m benchmarks.run
    make bench-all        # plus the learners (about an hour on 2 cores) and the app in a
                          # browser: python -m benchmarks.run --all
"""
from __future__ import annotations

import argparse

from . import analysis, integrate
from .common import git_rev


def _fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3g}{unit}"
    return f"{v}{unit}"


def main(argv=None):
    ap = argparse.ArgumentParser(description="chaoslab's benchmarks against its peers")
    ap.add_argument("--learners", action="store_true",
                    help="also every learner on five flows, with reservoirpy and pysindy")
    ap.add_argument("--app", action="store_true",
                    help="also the served app in headless Chromium")
    ap.add_argument("--all", action="store_true", help="--learners and --app")
    args = ap.parse_args(argv)
    core()
    if args.learners or args.all:
        from . import learners
        learners.main([])
    if args.app or args.all:
        from . import app
        app.main([])


def core():
    r = integrate.main()
    e, f = r["ensemble"], r["first_simulation"]
    print(f"\nchaoslab {git_rev()} on {r['machine']} ({r['date']})\n")
    print("| Lorenz, 1,000 ICs x 1,000 steps | time (median) | trajectory-steps/s | ratio |")
    print("|---|---|---|---|")
    print(f"| chaoslab RK4 (catalog kernel) | {_fmt(e['chaoslab_rk4_s'], ' s')} | "
          f"{_fmt(e['chaoslab_steps_per_s'])} | {_fmt(e['ratio_chaoslab_to_hand'])}x hand-written |")
    print(f"| hand-written numba RK4, Lorenz only | {_fmt(e['hand_rk4_s'], ' s')} | "
          f"{_fmt(e['hand_steps_per_s'])} | 1 |")
    print(f"| compute-bound (100 steps per stored sample): chaoslab | | "
          f"{_fmt(e['chaoslab_compute_steps_per_s'])} | {_fmt(e['ratio_compute_bound'])}x hand-written |")
    print(f"| compute-bound: hand-written | | {_fmt(e['hand_compute_steps_per_s'])} | 1 |")
    print(f"| chaoslab dopri5, rtol=atol=1e-12 | {_fmt(e['chaoslab_dopri5_rtol1e-12_s_scaled'], ' s')} | | |")
    print(f"| dysts make_trajectory, DOP853 (scaled from {e['dysts_ics_timed']} ICs) | "
          f"{_fmt(e['dysts_dop853_s_scaled'], ' s')} | | chaoslab RK4 {_fmt(e['speedup_vs_dysts_rk4'])}x, "
          f"dopri5 {_fmt(e['speedup_vs_dysts_equal_tol'])}x faster |")
    print("\n| first simulation in a fresh process (Rossler, 1,000 steps) | median |")
    print("|---|---|")
    print(f"| cold (empty kernel cache) | {_fmt(f['cold_in_process_s'], ' s')} |")
    print(f"| warm (cache from an earlier process) | {_fmt(f['warm_in_process_s'], ' s')} |")
    print(f"| floor: import numba + one trivial cached function | "
          f"{_fmt(f['numba_floor_cached_trivial_s'], ' s')} |")

    a = analysis.main()
    ls, ft, lg = a["lorenz_spectrum"], a["double_gyre_ftle"], a["logistic_sweep"]
    print("\n| Lorenz spectrum | time | lambda_1 | error in lambda_1 |")
    print("|---|---|---|---|")
    print(f"| chaoslab defaults | {_fmt(ls['chaoslab_s'], ' s')} | {ls['chaoslab'][0]:.4f} | "
          f"{100 * ls['chaoslab_rel_err_l1']:.2f}% |")
    for n, d in (ls.get("dysts") or {}).items():
        print(f"| dysts find_lyapunov_exponents({n}) | {_fmt(d['s'], ' s')} | "
              f"{d['exponents'][0]:.4f} | {100 * d['rel_err_l1']:.1f}% |")
    print(f"\nspeed-up over the longer dysts run: {_fmt(ls.get('speedup'))}x")
    print("\n| double gyre FTLE, 1000 x 500, T = 10 | time | |")
    print("|---|---|---|")
    print(f"| chaoslab (RK4 dt 0.1 on the variational equation) | {_fmt(ft['chaoslab_s'], ' s')} | "
          f"{_fmt(ft.get('speedup'))}x numbacs |")
    print(f"| numbacs 0.2 (DOP853 flow map, finite differences) | {_fmt(ft.get('numbacs_s'), ' s')} | 1 |")
    if "interior_median_diff" in ft:
        print(f"\ninterior |chaoslab - numbacs|: median {ft['interior_median_diff']:.1e}, "
              f"{100 * ft['interior_frac_within_1e3']:.1f}% of points within 1e-3, "
              f"max {ft['interior_max_diff']:.2f} (on ridges)")
        print(f"at the 20 points of largest disagreement, error against an independent "
              f"reference (scipy DOP853 at 1e-12, offsets 1e-7): chaoslab "
              f"{ft['worst20_chaoslab_err_median']:.1e}, numbacs {ft['worst20_numbacs_err_median']:.1e} "
              "(medians)")
    print(f"\nlogistic map exponent at {lg['n_values']:,} values of r x {lg['iterations']:,} "
          f"iterations, one call: {_fmt(lg['chaoslab_s'], ' s')}")


if __name__ == "__main__":
    main()
