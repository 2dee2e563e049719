"""Learners on five catalog flows, with reservoirpy and pysindy in the same run.

    python -m benchmarks.learners [--systems Lorenz Rossler ...] [--learners esn ngrc ...]

Every flow is sampled at chaoslab.experiments.default_dt: at least 100 points per
Lyapunov time and per characteristic period (Lorenz at dt 0.01, as the forecasting
literature does), 10,000 training samples; each learner forecasts from 20 held-out starts
(chaoslab.experiments.forecast_divergence). Besides every learner's defaults, two labelled
variants run: the ESN with the squares of all units (`esn_squares_all`) and, on Thomas,
SINDy with Fourier terms (`sindy_fourier`) and EDMD on radial basis functions (`edmd_rbf`). Peers: reservoirpy's ESN with the same
reservoir size and sparsity (a light grid over spectral radius, ridge and input scaling,
best kept) and pysindy's own `simulate` on the same SINDy model class.
"""
from __future__ import annotations

import argparse
import itertools
import math
import time

import numpy as np

import chaoslab as cl
from chaoslab.experiments import default_dt, largest_lyapunov_exponent

from .common import save

SYSTEMS = ["Lorenz", "Rossler", "Halvorsen", "SprottB", "Thomas"]
N_TRAIN = 10_000
N_STARTS = 20


def sampling(name):
    s = cl.systems.get(name)
    lam = largest_lyapunov_exponent(s)
    dt = default_dt(s, lam)
    return s, lam, dt


def _data(s, lam, dt, n_test):
    sub = max(1, math.ceil(dt / s.dt - 1e-9))
    X = cl.simulate(s, N_TRAIN + n_test, dt=dt, transient=2000 * dt, substeps=sub)
    return X[:N_TRAIN], X[N_TRAIN:]


def _starts(lam, dt):
    gap = max(1, int(round(2.0 / (lam * dt))))
    return np.arange(N_STARTS) * gap


def _reservoirpy_esn(size, sr, ridge, input_scaling):
    """reservoirpy's ESN built like chaoslab's: ``size`` units, 3 connections per unit."""
    from reservoirpy.nodes import Reservoir, Ridge

    res = Reservoir(units=size, sr=sr, lr=1.0, input_scaling=input_scaling, bias=0.0,
                    rc_connectivity=3 / size, input_connectivity=1.0, seed=0)
    return res >> Ridge(ridge=ridge)


def reservoirpy_peer(s, lam, dt, size=500, horizon=15.0, context=200):
    """reservoirpy ESN, same size, sparse reservoir of the same degree, light tuning."""
    n_h = int(round(horizon / (lam * dt)))
    starts = _starts(lam, dt)
    train, test = _data(s, lam, dt, context + n_h + starts[-1] + 1)
    mu, sd = train.mean(0), train.std(0)
    u = (train - mu) / sd
    best, fits = None, []
    for sr, ridge, scaling in itertools.product((0.4, 0.9), (1e-7, 1e-5), (0.2, 0.5)):
        model = _reservoirpy_esn(size, sr, ridge, scaling)
        t0 = time.perf_counter()
        model.fit(u[:-1], u[1:], warmup=100)
        fit_s = time.perf_counter() - t0
        fits.append(fit_s)
        vpts = []
        t0 = time.perf_counter()
        for i in starts:
            ctx = (test[i:i + context] - mu) / sd
            y = model.run(ctx)[-1]
            out = np.empty((n_h, s.dim))
            for k in range(n_h):
                y = model.run(y[None])[-1]
                out[k] = y
            pred = out * sd + mu
            truth = test[i + context:i + context + n_h]
            vpts.append(cl.metrics.valid_prediction_time(truth, pred, dt, lam,
                                                         scale=train.std(0)))
        fc_s = time.perf_counter() - t0
        row = {"sr": sr, "ridge": ridge, "input_scaling": scaling, "fit_s": fit_s,
               "forecast_s": fc_s, "vpt_median": float(np.median(vpts))}
        if best is None or row["vpt_median"] > best["vpt_median"]:
            best = row
    best["fit_s_median_over_grid"] = float(np.median(fits))
    return best


def esn_fit_times(s, lam, dt, size=500, repeats=7):
    """Fit times of chaoslab's ESN (defaults) and reservoirpy's (same size and sparsity),
    alternating, ``repeats`` each after one warm-up fit of both: medians and all times."""
    train, _ = _data(s, lam, dt, 1)
    u = (train - train.mean(0)) / train.std(0)

    def ours():
        cl.learners.make("esn", size=size).fit(train, dt)

    def theirs():
        _reservoirpy_esn(size, 0.9, 1e-5, 0.5).fit(u[:-1], u[1:], warmup=100)

    times = {"chaoslab": [], "reservoirpy": []}
    for k in range(repeats + 1):
        for key, fn in (("chaoslab", ours), ("reservoirpy", theirs)):
            t0 = time.perf_counter()
            fn()
            if k:                                   # the first round warms up
                times[key].append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    return {"size": size, "repeats": repeats, "chaoslab_fit_s": med["chaoslab"],
            "reservoirpy_fit_s": med["reservoirpy"],
            "ratio_reservoirpy_to_chaoslab": med["reservoirpy"] / med["chaoslab"],
            "times": times}


def pysindy_peer(s, lam, dt, n_steps=2000, n_starts=3, context=200, **hyper):
    """pysindy's simulate (scipy solve_ivp on its Python vector field) against chaoslab's
    compiled RK4 rollout of the same learned model, from the same starts."""
    import pysindy as ps

    starts = _starts(lam, dt)[:n_starts]
    train, test = _data(s, lam, dt, context + n_steps + starts[-1] + 1)
    ours = cl.learners.make("sindy", **hyper).fit(train, dt)
    library = ps.PolynomialLibrary(degree=ours.degree)
    if ours.frequencies:
        library = library + ps.FourierLibrary(n_frequencies=ours.frequencies)
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=ours.threshold, alpha=ours.alpha),
                     feature_library=library)
    xdot = np.asarray(ps.FiniteDifference(order=ours.derivative_order)(train, t=dt))
    keep = np.all(np.isfinite(xdot), axis=1)
    model.fit(train[keep], t=dt, x_dot=xdot[keep])
    same = np.allclose(model.coefficients(), ours.coef_)
    t = np.arange(n_steps + 1) * dt
    times, vpt_ps, vpt_cl = [], [], []
    ours.forecast(test[:context], 10)          # compile once
    t_cl = []
    for i in starts:
        x0 = test[i + context - 1]
        truth = test[i + context:i + context + n_steps]
        t0 = time.perf_counter()
        pred = model.simulate(x0, t)[1:]
        times.append(time.perf_counter() - t0)
        if len(pred) < n_steps:          # integration stopped early
            pred = np.vstack([pred, np.full((n_steps - len(pred), s.dim), np.nan)])
        vpt_ps.append(cl.metrics.valid_prediction_time(truth, pred, dt, lam,
                                                       scale=train.std(0)))
        t0 = time.perf_counter()
        mine = ours.forecast(test[i:i + context], n_steps)
        t_cl.append(time.perf_counter() - t0)
        vpt_cl.append(cl.metrics.valid_prediction_time(truth, mine, dt, lam,
                                                       scale=train.std(0)))
    return {"same_coefficients": bool(same), "n_steps": n_steps, "starts": n_starts,
            "pysindy_simulate_s": float(np.median(times)),
            "chaoslab_rollout_s": float(np.median(t_cl)),
            "speedup": float(np.median(times) / np.median(t_cl)),
            "pysindy_vpt_median": float(np.median(vpt_ps)),
            "chaoslab_vpt_median": float(np.median(vpt_cl))}


VARIANTS = {"esn_squares_all": ("esn", {"squares": True})}
SYSTEM_VARIANTS = {"Thomas": {"sindy_fourier": ("sindy", {"degree": 1, "frequencies": 1}),
                              "edmd_rbf": ("edmd", {"dictionary": "rbf"})}}


def run_chaoslab(name, learners, lyapunov=True):
    s, lam, dt = sampling(name)
    learners = {n: n for n in learners}
    if "esn" in learners:
        learners.update(VARIANTS)
    learners.update({k: v for k, v in SYSTEM_VARIANTS.get(name, {}).items()
                     if v[0] in learners})
    # warm-up: compile the numba kernels once so fit times are not compile times
    plain = {k: v for k, v in learners.items()
             if not cl.learners.learner_class(v if isinstance(v, str) else v[0]).uses_torch}
    if plain:
        cl.forecast_divergence(s, plain, dt=dt, n_train=500, n_starts=2, horizon=1,
                               statistics=False)
    res = cl.forecast_divergence(s, learners, dt=dt, n_train=N_TRAIN,
                                 n_starts=N_STARTS, horizon=15.0, learned_exponent=lyapunov,
                                 precision=True)
    print(res.table(), flush=True)
    rows = res.summary()
    for r in rows:
        p = res[r["learner"]].precision
        r["precision_bf16_vs_f32_at_1LT"] = (None if p is None else
                                             float(p[min(len(p) - 1, int(round(1 / (lam * dt))))]))
    return {"dt": dt, "lyapunov_exponent": lam, "samples_per_lyapunov_time": 1 / (lam * dt),
            "learners": rows}


def markdown(results):
    """README tables from a results dict (``--table FILE``): median VPT per learner and
    system, then per system the times, statistics and peers."""
    systems = results["systems"]
    names = list(dict.fromkeys(r["learner"] for v in systems.values() for r in v["learners"]))
    out = ["| learner | " + " | ".join(f"{k} (dt {v['dt']:g})" for k, v in systems.items())
           + " |", "|---" * (len(systems) + 1) + "|"]
    for n in names:
        cells = []
        for v in systems.values():
            row = next((r for r in v["learners"] if r["learner"] == n), None)
            cells.append("" if row is None else f"{row['vpt_median']:.2f}")
        out.append(f"| {n} | " + " | ".join(cells) + " |")
    for k, v in systems.items():
        out += ["", f"**{k}**: lambda_1 {v['lyapunov_exponent']:.4g}, dt {v['dt']:g} "
                f"({v['samples_per_lyapunov_time']:.0f} samples per Lyapunov time)", "",
                "| learner | VPT [q25, q75] | fit (s) | forecast (s) | D_stsp | D_H | "
                "learned lambda_1 (error) | bf16 vs f32 at 1 LT |", "|---" * 8 + "|"]
        for r in v["learners"]:
            lam = r.get("lyapunov_exponent", r.get("lyapunov"))  # older result files
            err = r.get("lyapunov_error")
            lam_s = "" if lam is None or not math.isfinite(lam) else \
                f"{lam:.3g} ({100 * err:.0f}%)" if err is not None and math.isfinite(err) \
                else f"{lam:.3g}"
            p = r.get("precision_bf16_vs_f32_at_1LT")
            out.append(f"| {r['learner']} | {r['vpt_median']:.2f} [{r['vpt_q25']:.2f}, "
                       f"{r['vpt_q75']:.2f}] | {r['fit_seconds']:.2f} | "
                       f"{r['forecast_seconds']:.3f} | {r['d_stsp']:.2f} | {r['d_h']:.3f} | "
                       f"{lam_s} | {'' if p is None else f'{p:.2g}'} |")
        peers = v.get("peers")
        if peers:
            e, q = peers["reservoirpy_esn"], peers["pysindy_simulate"]
            out += ["", f"reservoirpy ESN (500 units, best of the grid: sr {e['sr']}, ridge "
                    f"{e['ridge']:g}, input scaling {e['input_scaling']}): VPT "
                    f"{e['vpt_median']:.2f}, fit {e['fit_s']:.2f} s (median over the grid "
                    f"{e['fit_s_median_over_grid']:.2f} s). pysindy `simulate`, "
                    f"{q['n_steps']:,} steps: {q['pysindy_simulate_s']:.1f} s, VPT "
                    f"{q['pysindy_vpt_median']:.2f}; chaoslab's rollout of the same model "
                    f"{1e3 * q['chaoslab_rollout_s']:.2f} ms, VPT {q['chaoslab_vpt_median']:.2f} "
                    f"({q['speedup']:,.0f}x; coefficients identical: "
                    f"{q['same_coefficients']})."]
            ft = peers.get("esn_fit_times")
            if ft:
                out[-1] += (f" ESN fit, median of {ft['repeats']} alternating: chaoslab "
                            f"{ft['chaoslab_fit_s']:.2f} s, reservoirpy "
                            f"{ft['reservoirpy_fit_s']:.2f} s.")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems", nargs="*", default=SYSTEMS)
    ap.add_argument("--learners", nargs="*", default=cl.learners.names())
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--out", default="learners", help="results/<OUT>.json")
    ap.add_argument("--fit-times", action="store_true", help="only the ESN fit times "
                    "against reservoirpy's, to results/<OUT>.json")
    ap.add_argument("--table", metavar="FILE", help="print the README tables of a results "
                    "file and exit")
    args = ap.parse_args(argv)
    if args.table:
        import json
        with open(args.table) as fh:
            print(markdown(json.load(fh)))
        return None
    if args.fit_times:
        out = {name: esn_fit_times(*sampling(name)) for name in args.systems}
        for name, r in out.items():
            print(f"{name}: ESN fit chaoslab {r['chaoslab_fit_s']:.3f} s, reservoirpy "
                  f"{r['reservoirpy_fit_s']:.3f} s (median of {r['repeats']})", flush=True)
        save(args.out, out)
        return out
    out = {"n_train": N_TRAIN, "n_starts": N_STARTS, "systems": {}}
    for name in args.systems:
        t0 = time.perf_counter()
        out["systems"][name] = run_chaoslab(name, args.learners)
        out["systems"][name]["seconds"] = time.perf_counter() - t0
        if not args.no_peers:
            s, lam, dt = sampling(name)
            sindy_hyper = SYSTEM_VARIANTS.get(name, {}).get("sindy_fourier", ("", {}))[1]
            peers = {"reservoirpy_esn": reservoirpy_peer(s, lam, dt),
                     "esn_fit_times": esn_fit_times(s, lam, dt),
                     "pysindy_simulate": pysindy_peer(s, lam, dt, **sindy_hyper)}
            out["systems"][name]["peers"] = peers
            print(name, "peers:", peers, flush=True)
        save(args.out, out)
    return out


if __name__ == "__main__":
    main()
