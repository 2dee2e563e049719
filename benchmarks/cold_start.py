"""Where the first simulation's seconds go, in fresh processes.

    python -m benchmarks.cold_start              # 5 repeats per case, about 1 minute
    python -m benchmarks.cold_start --repeat 7 --system Lorenz

Each repeat starts new Python processes with a kernel cache of its own:

* ``cold``: an empty cache (parse, differentiate, print and compile everything);
* ``warm``: the cache the cold process left (what a machine that ran the system before
  sees): the target is the end-to-end time below 0.8 s.

Every process times its phases with ``time.perf_counter`` (import numpy; import
chaoslab; ``systems.get``; the tapes (parse, Jacobian, common subexpressions); import
numba; printing the kernel module; importing it (numba's dispatchers); the first call
(machine code loaded from the cache, or compiled); a second call) and records which
heavy modules ``import chaoslab`` loaded. A separate, uninstrumented process gives the
end-to-end figure (``import chaoslab; get; simulate(s, 1000)``) as
``benchmarks.integrate`` measures it. The floors: a bare process importing numpy, and
one importing numba and calling one trivial cached function (numba loads its whole type
registry, scipy.linalg included, on the first call of anything).

Writes ``benchmarks/results/cold_start.json`` (medians; the machine is shared, so compare
figures of one run).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import save

#: One process, phase by phase (the marks are cumulative perf_counter readings).
_PHASES = r"""
import json, sys, time
T = {"start": time.perf_counter()}
import numpy
T["import_numpy"] = time.perf_counter()
import chaoslab as cl
T["import_chaoslab"] = time.perf_counter()
loaded = {m: m in sys.modules for m in ("sympy", "scipy", "numba", "panel", "bokeh",
                                           "torch", "scipy.linalg")}
s = cl.systems.get(sys.argv[1])
T["systems_get"] = time.perf_counter()
s.rhs_tape, s.jacobian_tape, s.rhs_jac_tape, s.structure_key
T["tapes"] = time.perf_counter()
loaded["sympy_after_tapes"] = "sympy" in sys.modules
import numba
T["import_numba"] = time.perf_counter()
from chaoslab.integrate import numba_backend as nb
from chaoslab.integrate.numba_codegen import kernel_source
T["import_backend"] = time.perf_counter()
kernel_source(s.rhs_tape, s.jacobian_tape, s.dim, len(s.params), s.kind,
              fj_tape=s.rhs_jac_tape)
T["print_kernel_source"] = time.perf_counter()
nb.kernels(s)
T["kernel_module"] = time.perf_counter()
x = cl.simulate(s, 1000)
T["first_call"] = time.perf_counter()
x = cl.simulate(s, 1000)
T["second_call"] = time.perf_counter()
loaded["scipy_after_call"] = "scipy" in sys.modules
print(json.dumps({"marks": T, "loaded": loaded}))
"""

#: End to end, as ``benchmarks.integrate`` times the first simulation.
_END_TO_END = r"""
import time, sys
t0 = time.perf_counter()
import chaoslab as cl
s = cl.systems.get(sys.argv[1])
x = cl.simulate(s, 1000)
print(time.perf_counter() - t0)
"""

_FLOOR_NUMPY = "import time; t=time.perf_counter(); import numpy; print(time.perf_counter()-t)"
_FLOOR_NUMBA = ("import time; t=time.perf_counter(); import numpy, trivial_kernel; "
                "trivial_kernel.g(1.0); print(time.perf_counter()-t)")
_SCIPY_LINALG = ("import time, numpy; t=time.perf_counter(); import scipy.linalg; "
                 "print(time.perf_counter()-t)")
_IMPORT_NUMBA = ("import time, numpy; t=time.perf_counter(); import numba; "
                 "print(time.perf_counter()-t)")


def _run(code, *args, env=None, cwd=None) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def _phases(marks: dict) -> dict:
    keys = list(marks)
    out = {b: marks[b] - marks[a] for a, b in zip(keys, keys[1:])}
    out["total"] = marks[keys[-2]] - marks[keys[0]]  # to the end of the first call
    return out


def _median(rows: list) -> dict:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def _import_costs(env, cwd) -> dict:
    """Cumulative ``-X importtime`` of the heavy packages under ``import chaoslab``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import chaoslab"],
                         env=env, cwd=cwd, capture_output=True, text=True, check=True)
    costs = {}
    for line in out.stderr.splitlines():
        parts = line.split("|")
        if len(parts) != 3:
            continue
        try:
            cum = int(parts[1])
        except ValueError:
            continue
        name = parts[2].strip()
        if name in ("chaoslab", "numpy", "sympy", "scipy", "numba", "mpmath"):
            costs[name] = costs.get(name, 0.0) + cum / 1e6
    return costs


ROOT = Path(__file__).resolve().parents[1]


def _tree_env(tree, cache):
    """Environment and working directory that make ``python -c`` import chaoslab from
    ``tree`` (a checkout's root), with the kernel cache ``cache``."""
    env = {**os.environ, "CHAOSLAB_CACHE_DIR": cache}
    if Path(tree) != ROOT:
        env["PYTHONPATH"] = str(tree)
    return env, str(tree)


def measure(system="Rossler", repeat=5, trees=None) -> dict:
    """Phases and end-to-end times for each code tree (name -> checkout root); the trees
    take turns within each repeat, so a busy machine slows them alike."""
    trees = trees or {"now": ROOT}
    rows = {name: {"cold": [], "warm": [], "cold_e2e": [], "warm_e2e": [], "imports": [],
                   "loaded": {}} for name in trees}
    for _ in range(repeat):
        for name, tree in trees.items():
            r_ = rows[name]
            with tempfile.TemporaryDirectory() as d:
                env, cwd = _tree_env(tree, d)
                for case in ("cold", "warm"):
                    r = json.loads(_run(_PHASES, system, env=env, cwd=cwd))
                    r_[case].append(_phases(r["marks"]))
                    r_["loaded"][case] = r["loaded"]
            with tempfile.TemporaryDirectory() as d:
                env, cwd = _tree_env(tree, d)
                r_["cold_e2e"].append(float(_run(_END_TO_END, system, env=env, cwd=cwd)))
                r_["warm_e2e"].append(float(_run(_END_TO_END, system, env=env, cwd=cwd)))
                r_["imports"].append(_import_costs(env, cwd))
    floors = {"import_numpy": [], "import_numba_after_numpy": [], "import_scipy_linalg": [],
              "numba_trivial_cached_call": []}
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "trivial_kernel.py"), "w") as f:
            f.write("from numba import njit\n@njit(cache=True)\ndef g(x):\n    return x + 1.0\n")
        _run(_FLOOR_NUMBA, cwd=d)  # compiles and caches it
        for _ in range(repeat):
            floors["import_numpy"].append(float(_run(_FLOOR_NUMPY)))
            floors["import_numba_after_numpy"].append(float(_run(_IMPORT_NUMBA)))
            floors["import_scipy_linalg"].append(float(_run(_SCIPY_LINALG)))
            floors["numba_trivial_cached_call"].append(float(_run(_FLOOR_NUMBA, cwd=d)))
    out = {"system": system, "repeat": repeat,
           "floors_s": {k: statistics.median(v) for k, v in floors.items()}}
    for name, r_ in rows.items():
        keys = sorted({k for row in r_["imports"] for k in row})
        out[name] = {
            "tree": str(trees[name]),
            "end_to_end_s": {"cold": statistics.median(r_["cold_e2e"]),
                             "warm": statistics.median(r_["warm_e2e"]),
                             "warm_runs": r_["warm_e2e"]},
            "phases_s": {"cold": _median(r_["cold"]), "warm": _median(r_["warm"])},
            "loaded_by_import_chaoslab": r_["loaded"],
            "import_chaoslab_importtime_s": {
                k: statistics.median(r.get(k, 0.0) for r in r_["imports"]) for k in keys},
        }
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--system", default="Rossler")
    ap.add_argument("--before", default=None, metavar="DIR",
                    help="also time the chaoslab in DIR (a copy of an earlier checkout's "
                         "root), taking turns with this one")
    args = ap.parse_args(argv)
    trees = {"now": ROOT}
    if args.before:
        trees = {"before": Path(args.before).resolve(), "now": ROOT}
    t = time.perf_counter()
    load = os.getloadavg()
    res = measure(args.system, args.repeat, trees)
    res["wall_s"] = time.perf_counter() - t
    # the machine's load (1-minute average) at the start and the end: on a shared
    # machine every time above scales with it, the ratios much less
    res["load_average_1min"] = [load[0], os.getloadavg()[0]]
    floor = res["floors_s"]["numba_trivial_cached_call"]
    for name in trees:
        # the end-to-end warm time over the floor (numpy, numba, one cached call)
        res[name]["warm_over_floor"] = res[name]["end_to_end_s"]["warm"] / floor
    if args.before:
        b, n = res["before"]["end_to_end_s"], res["now"]["end_to_end_s"]
        res["ratio_now_to_before"] = {"cold": n["cold"] / b["cold"],
                                      "warm": n["warm"] / b["warm"]}
    out = save("cold_start", res)
    print(json.dumps(res, indent=1))
    return out


if __name__ == "__main__":
    main()
