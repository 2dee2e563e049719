"""Reference invariants of the catalog, computed by chaoslab itself.

    python -m chaoslab.systems.reference            # regenerate data/reference.json
    python -m chaoslab.systems.reference --check    # rerun from another start, half the step
    python -m chaoslab.systems.reference Lorenz Henon   # only these

Each entry records the Lyapunov spectrum (the largest exponent only for delay systems),
the Kaplan-Yorke dimension, and how they were computed (method, integration time, step,
transient, initial condition, date), so anyone can recompute them.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["compute", "load", "check", "REFERENCE_FILE"]

REFERENCE_FILE = "reference.json"
#: Agreement asked of a rerun: 5% relative, or 0.005 absolute near zero.
REL_TOL, ABS_TOL = 0.05, 0.005


def _path() -> Path:
    return Path(str(resources.files("chaoslab.systems").joinpath("data", REFERENCE_FILE)))


def load() -> dict:
    """The recorded invariants, ``{name: {...}}`` (empty if the file is missing)."""
    p = _path()
    if not p.exists():
        return {}
    return json.loads(p.read_text())["systems"]


def compute(name: str, *, dt_factor: float = 1.0, x0=None, seed: int = 0, T=None) -> dict:
    """The invariants of one catalog system at its default parameters."""
    from ..analysis import kaplan_yorke_dimension, lyapunov_spectrum
    from . import get

    s = get(name)
    dt = None if s.is_map else s.dt * dt_factor
    kw = {} if T is None else {"T": T}
    if s.is_delay and T is None:
        kw["T"] = 2_000.0 * s.period if s.period * 2_000 / (dt or 1) < 3e6 else 3e6 * dt
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lam = np.atleast_1d(lyapunov_spectrum(s, dt=dt, x0=x0, seed=seed, **kw))
    elapsed = time.perf_counter() - t
    from ..analysis.lyapunov import _defaults
    h, n_steps, n_tr = _defaults(s, kw.get("T"), dt, None)
    out = {
        "lyapunov_spectrum": [None if not math.isfinite(v) else float(v) for v in lam],
        "max_lyapunov": None if not math.isfinite(lam[0]) else float(lam[0]),
        "kaplan_yorke_dimension": (float(kaplan_yorke_dimension(lam))
                                   if len(lam) == s.dim and np.all(np.isfinite(lam)) else None),
        "method": ("twin trajectories over the discretised history (delay system)"
                   if s.is_delay else
                   "Benettin QR on the exact tangent dynamics"
                   + (", iterated map" if s.is_map else ", RK4")),
        "unit": "per iteration" if s.is_map else "per unit time",
        "T": n_steps * h, "dt": h, "transient": n_tr * h,
        "x0": [float(v) for v in (s.x0 if x0 is None else x0)],
        "date": time.strftime("%Y-%m-%d"), "seconds": round(elapsed, 2),
    }
    if caught:
        out["warnings"] = [str(w.message) for w in caught]
    return out


def agree(a, b) -> bool:
    if a is None or b is None:
        return False
    return abs(a - b) <= max(REL_TOL * abs(b), ABS_TOL)


def check(names=None) -> dict:
    """Rerun each system from another initial condition (the point its default run reaches
    after 50 characteristic periods) with half the step, and another random tangent
    basis; compare the largest exponent with the recorded one."""
    from . import get
    from ..integrate import simulate

    ref = load()
    names = names or sorted(ref)
    report = {}
    for n in names:
        s = get(n)
        # another initial condition on the same attractor: where the default run is 50
        # characteristic periods later (a perturbed x0 could land in another basin)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                n_per = max(1, int(round(50 * s.period / s.dt)))
                x = simulate(s, 2, dt=None if s.is_map else n_per * s.dt,
                             substeps=1 if s.is_map else n_per, on_diverge="ignore") \
                    if not s.is_map else simulate(s, 51, on_diverge="ignore")
            x1 = x[-1] if np.all(np.isfinite(x[-1])) else s.x0
        except ValueError:
            x1 = s.x0
        rec_entry = ref.get(n, {})
        # the same integration time as the recorded run, with half the step
        rerun = compute(n, dt_factor=1.0 if s.is_map else 0.5, x0=x1, seed=1,
                        T=rec_entry.get("T") if not s.is_map else None)
        rec = rec_entry.get("max_lyapunov")
        report[n] = {"recorded": rec, "rerun": rerun["max_lyapunov"],
                     "agree": agree(rerun["max_lyapunov"], rec)}
        print(f"{n:28s} recorded {rec!s:>12.12} rerun {rerun['max_lyapunov']!s:>12.12} "
              f"{'ok' if report[n]['agree'] else 'DIFFERS'}", flush=True)
    return report


#: Largest exponents published in the cited papers (per unit time, default parameters).
PUBLISHED = {
    "Lorenz": (0.9056, "Sprott (2003), Chaos and Time-Series Analysis, table A.1"),
    "Rossler": (0.0714, "Sprott (2003), Chaos and Time-Series Analysis, table A.1"),
    "Chen": (2.0272, "Chen and Ueta (1999)"),
    "Henon": (0.4192, "Sprott (2003), Chaos and Time-Series Analysis, table A.1"),
}


def table(check_report: dict | None = None) -> str:
    """A markdown table: chaoslab's largest exponent against dysts' estimates and the
    published value, with a reason for every disagreement above 15%."""
    import json as _json
    import os

    ref = load()
    try:
        import dysts
        base = os.path.join(os.path.dirname(dysts.__file__), "data")
        dy = {**_json.load(open(os.path.join(base, "chaotic_attractors.json"))),
              **_json.load(open(os.path.join(base, "discrete_maps.json")))}
    except ImportError:
        dy = {}
    rows = ["| system | chaoslab lambda_1 | dysts max estimate | dysts spectrum[0] | published "
            "| note |", "|---|---|---|---|---|---|"]

    def fmt(v):
        return "" if v is None else f"{v:.4g}"

    from . import get

    n_far = 0
    for name in sorted(ref):
        flag = get(name).reference.get("flag", "")
        ours = ref[name].get("max_lyapunov")
        d = dy.get(name, {})
        dmax = d.get("maximum_lyapunov_estimated")
        dspec = (d.get("lyapunov_spectrum_estimated") or [None])[0]
        pub = PUBLISHED.get(name, (None, ""))[0]
        note = ""
        far = dmax is not None and ours is not None and abs(ours - dmax) > 0.15 * abs(dmax)
        if far:
            n_far += 1
            reasons = []
            if dspec is not None and abs(dspec - dmax) > 0.15 * abs(dmax):
                reasons.append("dysts' two estimates disagree with each other by "
                               f"{abs(dspec / dmax - 1):.0%}")
            if dspec is not None and abs(ours - dspec) <= 0.15 * abs(dspec):
                reasons.append("chaoslab agrees with dysts' spectrum estimate")
            if pub is not None and abs(ours - pub) <= 0.01 * abs(pub):
                reasons.append("chaoslab agrees with the published value within 1%")
            rc = (check_report or {}).get(name)
            if rc is not None:
                reasons.append("chaoslab's rerun (other start, half step) "
                               + ("agrees" if rc["agree"] else "differs: see the entry"))
            if abs(ours) < 0.01:
                reasons.append("near zero in chaoslab's run: chaos, if any, is weak at these "
                               "parameters")
            if ref[name].get("warnings"):
                reasons.append("the run warned: " + ref[name]["warnings"][0][:80])
            note = "; ".join(reasons) or "dysts estimate from short trajectories"
        if flag:
            note = (note + "; " if note else "") + "flagged: " + flag
        rows.append(f"| {name} | {fmt(ours)} | {fmt(dmax)} | {fmt(dspec)} | {fmt(pub)} | {note} |")
    head = (f"{len(ref)} systems; {n_far} differ from dysts' stored maximum estimate by more "
            "than 15%.\n\n")
    return head + "\n".join(rows) + "\n"


def main(argv=None) -> int:
    from . import names as all_names

    p = argparse.ArgumentParser(prog="python -m chaoslab.systems.reference",
                                description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="systems (default: the whole catalog)")
    p.add_argument("--check", action="store_true",
                   help="rerun from another start with half the step and compare")
    p.add_argument("--out", default=None, help="where to write (default: the package data)")
    p.add_argument("--table", default=None, metavar="FILE",
                   help="write the comparison table (markdown) to FILE; with --check-report, "
                        "use a saved check")
    p.add_argument("--check-report", default=None, help="a JSON file written by --check --out")
    args = p.parse_args(argv)
    if args.table:
        rep = json.loads(Path(args.check_report).read_text()) if args.check_report else None
        Path(args.table).write_text(table(rep))
        print(f"wrote {args.table}")
        return 0
    names = args.names or all_names()
    if args.check:
        report = check(names)
        flows = [n for n in report]
        ok = sum(report[n]["agree"] for n in flows)
        print(f"\n{ok} of {len(flows)} agree within {REL_TOL:.0%} (or {ABS_TOL} absolute)")
        if args.out:
            Path(args.out).write_text(json.dumps(report, indent=1))
        return 0
    path = Path(args.out) if args.out else _path()
    existing = json.loads(path.read_text())["systems"] if path.exists() else {}
    for n in names:
        existing[n] = compute(n)
        lam = existing[n]["lyapunov_spectrum"]
        print(f"{n:28s} {existing[n]['seconds']:6.1f} s  lambda = "
              + ", ".join("nan" if v is None else f"{v:.4g}" for v in lam), flush=True)
        path.write_text(json.dumps({"about": __doc__.splitlines()[0],
                                    "systems": dict(sorted(existing.items()))}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
