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
          allow_websocket_origin=args.allow_websocket_origin)
    return 0


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
    pv.set_defaults(func=_cmd_serve)

    args = p.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"chaoslab: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
