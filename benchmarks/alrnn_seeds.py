"""Seed study of the PLRNN and AL-RNN training recipes (issue 13, item 3).

For each system (Lorenz at dt 0.01 with an AL-RNN of latent_dim 20 and 2 ReLU units,
Rossler at its catalog dt with 1 ReLU unit; the shPLRNN at its defaults on both), each
learner and each seed: train on one trajectory, run the model freely from a held-out
state, and record

* ``bounded``: the free run stays finite and within 3x the data's range;
* ``lobes`` (Lorenz): the share of the free run with x > 0 (two lobes: between 0.1 and 0.9);
* ``lambda1``: the learned largest Lyapunov exponent (``Learner.lyapunov_exponent``) and
  its relative error against the catalog's reference value;
* ``dstsp``: binned state-space divergence (30 bins) and ``dh``: power-spectrum Hellinger
  distance, between a long true trajectory and the free run, as the AL-RNN authors define
  them (:mod:`chaoslab.metrics`);
* ``fit_s``: training time.

Writes ``benchmarks/results/alrnn_seeds.json`` after every run; rerunning skips the runs
already there. ``--seeds 10 --learners alrnn plrnn --systems Lorenz Rossler`` by default.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import chaoslab as cl
from chaoslab.metrics import power_spectrum_distance, state_space_divergence

OUT = Path(__file__).parent / "results" / "alrnn_seeds.json"

#: system -> (dt, training span, free-run span, lambda span, learner settings)
SETTINGS = {
    "Lorenz": dict(dt=0.01, T_train=100.0, T_free=200.0, T_lyap=200.0,
                   alrnn=dict(latent_dim=20, n_relu=2), plrnn=dict()),
    "Rossler": dict(dt=0.02, T_train=400.0, T_free=1000.0, T_lyap=1000.0,
                    alrnn=dict(latent_dim=20, n_relu=1), plrnn=dict()),
}


def run_one(system, learner, seed):
    cfg = SETTINGS[system]
    s = cl.systems.get(system)
    dt = cfg["dt"]
    n_train = int(round(cfg["T_train"] / dt))
    n_free = int(round(cfg["T_free"] / dt))
    X = cl.simulate(s, n_train + 200, dt=dt, transient=50.0)
    train, test = X[:n_train], X[n_train:]
    t0 = time.perf_counter()
    m = cl.learners.make(learner, seed=seed, **cfg[learner]).fit(train, dt)
    fit_s = time.perf_counter() - t0
    y = m.forecast(test[:1], n_free)
    truth = cl.simulate(s, n_free, dt=dt, transient=50.0, x0=test[-1])
    finite = bool(np.all(np.isfinite(y)))
    span = train.max(axis=0) - train.min(axis=0)
    bounded = finite and bool(np.all(np.abs(y - train.mean(axis=0)) < 3 * span))
    lam_ref = float(s.reference["max_lyapunov"])
    lam = float(m.lyapunov_exponent(test[:1], T=cfg["T_lyap"], transient=20.0)) \
        if bounded else float("nan")
    row = dict(system=system, learner=learner, seed=seed, dt=dt, fit_s=fit_s,
               bounded=bounded, lambda1=lam, lambda1_ref=lam_ref,
               lambda1_rel_err=abs(lam - lam_ref) / lam_ref if bounded else float("nan"),
               validation_dstsp=float(m.validation_dstsp_),
               dstsp=float(state_space_divergence(truth, y, method="binned"))
               if finite else float("inf"),
               dh=float(power_spectrum_distance(truth, y)) if finite else 1.0)
    if system == "Lorenz":
        row["share_x_positive"] = float(np.mean(y[:, 0] > 0)) if finite else float("nan")
        row["two_lobes"] = bool(bounded and 0.1 < row["share_x_positive"] < 0.9)
    if learner == "alrnn":
        row["n_subregions"] = int(m.n_subregions_)
        row["subregions_in_free_run"] = int(len(np.unique(m.symbolic_code(test[:1],
                                                                           n_steps=n_free))))
    ok = bounded and row["lambda1_rel_err"] <= 0.15 and row.get("two_lobes", True)
    row["success"] = bool(ok)
    return row


def summary(rows):
    out = {}
    for key in sorted({(r["system"], r["learner"]) for r in rows}):
        sel = [r for r in rows if (r["system"], r["learner"]) == key]
        out[f"{key[0]}/{key[1]}"] = dict(
            seeds=len(sel), successes=int(sum(r["success"] for r in sel)),
            median_dstsp=float(np.median([r["dstsp"] for r in sel])),
            median_dh=float(np.median([r["dh"] for r in sel])),
            median_lambda1=float(np.nanmedian([r["lambda1"] for r in sel])),
            median_fit_s=float(np.median([r["fit_s"] for r in sel])))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--learners", nargs="+", default=["alrnn", "plrnn"])
    ap.add_argument("--systems", nargs="+", default=["Lorenz", "Rossler"])
    args = ap.parse_args(argv)
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    rows = old.get("runs", [])
    done = {(r["system"], r["learner"], r["seed"]) for r in rows}
    for seed in range(args.seeds):
        for system in args.systems:
            for learner in args.learners:
                if (system, learner, seed) in done:
                    continue
                row = run_one(system, learner, seed)
                rows.append(row)
                print(json.dumps(row), flush=True)
                OUT.parent.mkdir(parents=True, exist_ok=True)
                OUT.write_text(json.dumps(dict(
                    machine=f"{platform.processor() or platform.machine()}, "
                            f"{os.cpu_count()} cores, CPU (torch device 'auto')",
                    settings={k: {kk: vv for kk, vv in v.items()} for k, v in SETTINGS.items()},
                    summary=summary(rows), runs=rows), indent=1))
    print(json.dumps(summary(rows), indent=1))


if __name__ == "__main__":
    main()
