"""The ``chaoslab`` command: ``chaoslab serve | systems | simulate | lyapunov``."""
from __future__ import annotations

import argparse
import json
import sys

__all__ = ["main"]


def _cmd_systems(args) -> int:
    from . import systems

    rows = [systems.get(n).describe() for n in systems.names(kind=args.kind)]
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
        return 0
    print(f"{'name':22s} {'kind':5s} {'dim':>4s}  parameters")
    for r in rows:
        params = ", ".join(f"{k}={v['default']:g}" for k, v in r["params"].items())
        print(f"{r['name']:22s} {r['kind']:5s} {r['dim']:4d}  {params}")
    print(f"\n{len(rows)} systems")
    return 0


def _parse_params(items):
    out = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--param expects NAME=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _cmd_simulate(args) -> int:
    import numpy as np

    from . import simulate

    s = _system_from_args(args)
    x0 = None if args.x0 is None else [float(v) for v in args.x0.split(",")]
    r = simulate(s, args.steps, dt=args.dt, x0=x0, transient=args.transient,
                 method=args.method, full_output=True)
    out = args.out
    if out.endswith(".npz"):
        np.savez(out, x=r.x, t=r.t, variables=np.array(s.variables),
                 params=json.dumps(s.values), system=s.name)
    elif out.endswith(".csv"):
        header = ",".join(["t", *s.variables])
        np.savetxt(out, np.column_stack([r.t, r.x]), delimiter=",", header=header,
                   comments="")
    else:
        raise ValueError(f"--out must end in .npz or .csv, got {out!r}")
    print(f"{s.name}: {args.steps} samples of {s.dim} variables written to {out}"
          + (f" ({len(r.diverged)} diverged)" if r.diverged else ""))
    return 0


def _system_from_args(args):
    from . import systems

    params = _parse_params(args.param)
    s = systems.get(args.name)
    size = {k: v for k, v in params.items() if s.size is not None and k == s.size.name}
    if size:
        s = s.with_params(**{k: float(v) for k, v in size.items()})
    return s.with_params(**{k: v for k, v in params.items() if k not in size})


def _cmd_lyapunov(args) -> int:
    from .analysis import kaplan_yorke_dimension, lyapunov_spectrum

    s = _system_from_args(args)
    lam = lyapunov_spectrum(s, args.n, T=args.T)
    unit = "per iteration" if s.is_map else "per unit time"
    if args.json:
        json.dump({"system": s.name, "params": s.values, "exponents": lam.tolist(),
                   "unit": unit}, sys.stdout)
        print()
        return 0
    print(f"{s.name}: Lyapunov exponents ({unit})")
    for i, v in enumerate(lam, 1):
        print(f"  lambda_{i} = {v: .5f}")
    if len(lam) == s.dim:
        print(f"  Kaplan-Yorke dimension = {kaplan_yorke_dimension(lam):.4f}")
    if lam[0] > 0:
        print(f"  Lyapunov time = {1 / lam[0]:.4g} {'iterations' if s.is_map else 'time units'}"
              " (how long an error takes to grow e-fold)")
    return 0


def _cmd_serve(args) -> int:
    from .app.serve import serve

    serve(port=args.port, address=args.address, show=args.show,
          allow_websocket_origin=args.allow_websocket_origin, allow_host=args.allow_host)
    return 0


def _parse_value(text):
    """A hyperparameter value from the command line: JSON (numbers, true, null, lists),
    else the text itself ("auto")."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _sweep_systems(text):
    """``all``, ``Lorenz,Rossler`` (names) or ``kind=flow,dim=3`` (a search)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise ValueError(f"--systems must name systems, 'all' or a search such as "
                         f"kind=flow,dim=3, got {text!r}")
    if len(items) == 1 and items[0].lower() == "all":
        return "all"
    search = [t for t in items if "=" in t]
    if search and len(search) != len(items):
        raise ValueError(f"--systems mixes names and search terms: {text!r}; give names "
                         "(Lorenz,Rossler) or a search (kind=flow,dim=3)")
    if not search:
        return items
    out = {}
    for t in search:
        k, v = (s.strip() for s in t.split("=", 1))
        out[k] = _parse_value(v) if k != "text" else v
    return out


def _sweep_learners(text):
    """``parrot,esn:size=100:seed=1``: names, each with ``:NAME=VALUE`` hyperparameters."""
    out = {}
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, *params = item.split(":")
        hyper = {}
        for kv in params:
            if "=" not in kv:
                raise ValueError(f"--learners: a hyperparameter must be NAME=VALUE, got "
                                 f"{kv!r} in {item!r}")
            k, v = kv.split("=", 1)
            hyper[k.strip()] = _parse_value(v.strip())
        out[item] = (name.strip(), hyper)
    if not out:
        raise ValueError(f"--learners must name learners, got {text!r}")
    return out


def _cmd_sweep(args) -> int:
    from .experiments import sweep

    seeds = args.seeds
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    res = sweep(_sweep_systems(args.systems), _sweep_learners(args.learners), seeds,
                protocol=args.protocol, client=args.scheduler, store=args.store,
                n_workers=args.workers, progress=not args.quiet, n_free=args.n_free,
                rerun_errors=args.rerun_errors)
    df = res.table()
    summary = {"store": str(res.store), "tasks": res.n_tasks, "computed": res.computed,
               "failed": res.failed, "skipped": res.skipped,
               "dashboard": res.dashboard_link, "seconds": round(res.seconds, 2)}
    if args.json:
        json.dump(summary, sys.stdout)
        print()
        return 0 if res.failed == 0 else 1
    print(f"{res.n_tasks} tasks: {res.computed} computed, {res.failed} failed, "
          f"{res.skipped} already in the store ({res.seconds:.1f} s); store {res.store}")
    ok = df[df["status"] == "ok"]
    if len(ok):
        print(f"median valid prediction time ({ok['vpt_method'].iloc[0]}, Lyapunov times), "
              "over systems and seeds:")
        for learner, vpt in ok.groupby("learner")["vpt"].median().sort_values(
                ascending=False).items():
            print(f"  {learner:24s} {vpt:8.3f}")
    for _, row in df[df["status"] == "error"].iterrows():
        print(f"  error: {row['system']} {row['learner']} seed {row['seed']}: {row['error']}",
              file=sys.stderr)
    return 0 if res.failed == 0 else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="chaoslab", description="An interactive laboratory for "
                                "chaotic dynamical systems.")
    sub = p.add_subparsers(dest="command", required=True)

    ps = sub.add_parser("systems", help="list the catalog")
    ps.add_argument("--json", action="store_true", help="full metadata as JSON")
    ps.add_argument("--kind", choices=["flow", "map"], default=None)
    ps.set_defaults(func=_cmd_systems)

    pm = sub.add_parser("simulate", help="simulate a system and save the trajectory")
    pm.add_argument("name")
    pm.add_argument("--steps", type=int, default=10_000)
    pm.add_argument("--dt", type=float, default=None)
    pm.add_argument("--transient", type=float, default=0.0,
                    help="time discarded first, in the system's time units")
    pm.add_argument("--method", default="rk4", choices=["rk4", "euler", "dopri5"])
    pm.add_argument("--x0", default=None, help="comma-separated initial condition")
    pm.add_argument("--param", action="append", metavar="NAME=VALUE",
                    help="a parameter value (repeatable)")
    pm.add_argument("--out", required=True, help="output file, .npz or .csv")
    pm.set_defaults(func=_cmd_simulate)

    pl = sub.add_parser("lyapunov", help="the Lyapunov spectrum of a system")
    pl.add_argument("name")
    pl.add_argument("-n", type=int, default=None, help="how many exponents (default all)")
    pl.add_argument("--T", type=float, default=None,
                    help="integration time (flows) or iterations (maps)")
    pl.add_argument("--param", action="append", metavar="NAME=VALUE")
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(func=_cmd_lyapunov)

    pv = sub.add_parser("serve", help="serve the app with Panel (prints its URL)")
    pv.add_argument("--port", type=int, default=5006)
    pv.add_argument("--address", default="127.0.0.1",
                    help="interface to listen on (default 127.0.0.1: this machine only)")
    pv.add_argument("--show", action="store_true", help="open a browser")
    pv.add_argument("--allow-websocket-origin", action="append", metavar="HOST[:PORT]",
                    help="another host the page may be opened from (repeatable), e.g. a "
                         "proxy's address")
    pv.add_argument("--allow-host", action="append", metavar="NAME",
                    help="a host name the server answers to (repeatable); IP addresses and "
                         "localhost always are, any other name gets 403 (no DNS rebinding)")
    pv.set_defaults(func=_cmd_serve)

    pw = sub.add_parser("sweep", help="systems x learners x seeds on dask, into a "
                        "resumable Parquet store")
    pw.add_argument("--systems", required=True,
                    help="'all', names (Lorenz,Rossler) or a search (kind=flow,dim=3)")
    pw.add_argument("--learners", required=True,
                    help="names, each with optional :NAME=VALUE hyperparameters "
                         "(parrot,esn:size=100)")
    pw.add_argument("--seeds", type=int, default=1, help="seeds 0 .. N-1 (default 1)")
    pw.add_argument("--store", required=True, help="results folder (created if missing)")
    pw.add_argument("--protocol", default="gilpin2023",
                    help="named protocol (default gilpin2023)")
    pw.add_argument("--scheduler", default=None, metavar="tcp://HOST:8786",
                    help="a dask scheduler's address (default: a local cluster)")
    pw.add_argument("--workers", type=int, default=None,
                    help="worker processes of the local cluster (default: one per core)")
    pw.add_argument("--n-free", type=int, default=5000,
                    help="free-run samples for D_stsp and D_H (default 5000)")
    pw.add_argument("--rerun-errors", action="store_true",
                    help="run again the tasks whose stored result is an error")
    pw.add_argument("--quiet", action="store_true", help="no progress bar")
    pw.add_argument("--json", action="store_true", help="counts as JSON")
    pw.set_defaults(func=_cmd_sweep)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"chaoslab: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
