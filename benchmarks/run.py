"""Run every benchmark in one process run and print the tables for the README.

    make bench            # or: python -m benchmarks.run
"""
from __future__ import annotations

from . import integrate
from .common import git_rev


def _fmt(v, unit=""):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3g}{unit}"
    return f"{v}{unit}"


def main():
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


if __name__ == "__main__":
    main()
