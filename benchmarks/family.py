"""One model for a family: the family learner on Lorenz rho, against per-parameter models
(issue 18, first landing).

One ``family`` learner is trained on Lorenz (sigma 10, beta 8/3) at ``TRAIN_RHO`` (rho in
[25, 200]; below rho 24.74 the flow settles on a fixed point) for a fixed CPU budget.
Then, at held-out rho inside the training range (``INSIDE``) and outside it
(``OUTSIDE``), from ``N_CONTEXTS`` contexts of each held-out member:

* ``vpt``: the median valid prediction time (normalised error 0.4, each variable in
  units of the member's standard deviation), in Lyapunov times of that member
  (``cl.lyapunov_spectrum``), of the family model's zero-shot forecast, of context
  parroting on the same context (``parrot`` with ``search="context"``) and of an echo
  state network (``esn``, defaults) trained on that very member (a per-parameter model:
  it sees ``N_TRAIN`` samples of the member, the family model none);
* ``dstsp`` and ``dh``: the binned state-space divergence (30 bins) and the power-spectrum
  Hellinger distance (the AL-RNN authors' definitions, :mod:`chaoslab.metrics`) between a
  long true trajectory and a free run of ``T_FREE`` time units from one context, for the
  same three forecasters.

Writes ``benchmarks/results/family.json``. The machine is shared: times are indicative.
``python -m benchmarks.family --budget 480``.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import chaoslab as cl
from chaoslab.integrate import DivergenceWarning
from chaoslab.metrics import power_spectrum_distance, state_space_divergence

from .common import git_rev, save

DT = 0.01
TRAIN_RHO = (25.0, 35.0, 50.0, 70.0, 100.0, 140.0, 200.0)
INSIDE = (30.0, 42.0, 60.0, 85.0, 120.0, 170.0)
OUTSIDE = (24.0, 230.0, 300.0)
#: samples of each training trajectory (family) and of the per-parameter ESN's
N_TRAIN = 20_000
N_CONTEXTS = 20
HORIZON = 1500
T_FREE = 100.0
#: settings of the family model (the rest its defaults)
FAMILY = dict(context=400, seq_len=40, tf_interval=10, batch_size=64, lr=1e-2, lr_end=1e-4)


def lorenz(rho, n, transient=50.0, x0=None):
    s = cl.systems.get("Lorenz").with_params(rho=rho)
    return cl.simulate(s, n, dt=DT, transient=transient, x0=x0)


def lyapunov(rho):
    s = cl.systems.get("Lorenz").with_params(rho=rho)
    return float(cl.lyapunov_spectrum(s, 1, T=500.0, transient=50.0)[0])


def free_run_scores(truth, y):
    if not np.all(np.isfinite(y)):
        return float("inf"), 1.0
    return (float(state_space_divergence(truth, y, bins=30, method="binned")),
            float(power_spectrum_distance(truth, y)))


def evaluate(rho, family, parrot):
    lam = lyapunov(rho)
    C = family.context_length
    X = lorenz(rho, N_TRAIN + C + HORIZON + 2 * N_CONTEXTS * 50, transient=50.0)
    train, test = X[:N_TRAIN], X[N_TRAIN:]
    scale = train.std(axis=0)
    starts = np.linspace(0, len(test) - C - HORIZON, N_CONTEXTS).astype(int)
    ctx = np.stack([test[i:i + C] for i in starts])
    truth = np.stack([test[i + C:i + C + HORIZON] for i in starts])
    t0 = time.perf_counter()
    esn = cl.learners.make("esn").fit(train, DT)
    esn_fit = time.perf_counter() - t0
    n_free = int(round(T_FREE / DT))
    long_truth = lorenz(rho, n_free, transient=50.0, x0=test[-1])
    row = dict(rho=rho, lyapunov_exponent=lam, inside=bool(TRAIN_RHO[0] <= rho <= TRAIN_RHO[-1]),
               esn_fit_s=esn_fit)
    chaotic = lam > 0.05
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        for name, model in (("family", family), ("parrot", parrot), ("esn", esn)):
            t0 = time.perf_counter()
            pred = model.forecast(ctx, HORIZON)
            row[f"{name}_forecast_s"] = time.perf_counter() - t0
            vpt = cl.metrics.valid_prediction_time(truth, pred, DT, scale=scale)
            row[f"{name}_vpt_time"] = float(np.median(vpt))
            row[f"{name}_vpt"] = float(np.median(vpt) * lam) if chaotic else None
            y = model.forecast(ctx[0], n_free)
            row[f"{name}_dstsp"], row[f"{name}_dh"] = free_run_scores(long_truth, y)
    return row


def medians(rows, key):
    vals = [r[key] for r in rows if r[key] is not None]
    return float(np.median(vals)) if vals else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=480.0,
                    help="training budget of the family model in seconds (sets its steps)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    train = [lorenz(r, N_TRAIN) for r in TRAIN_RHO]
    # calibrate: seconds per training step on this machine now (timed from step 5 on
    # of a short fit through its progress reports), then fill the budget
    stamps = {}

    def clock(fraction, message):
        if message.startswith("step "):
            stamps[int(message.split()[1])] = time.perf_counter()

    cl.learners.make("family", steps=60, seed=args.seed, device="cpu", **FAMILY).fit(
        train, DT, progress=clock)
    first, last = min(k for k in stamps if k >= 5), max(stamps)
    per_step = (stamps[last] - stamps[first]) / (last - first)
    steps = max(20, int(args.budget / per_step))
    print(f"{per_step * 1e3:.0f} ms per step -> {steps} steps", flush=True)
    family = cl.learners.make("family", steps=steps, seed=args.seed, device="cpu", **FAMILY)
    t0 = time.perf_counter()
    family.fit(train, DT)
    fit_s = time.perf_counter() - t0
    print(f"family fit {fit_s:.0f} s, final loss {family.loss_history_[-1]:.3g}", flush=True)
    parrot = cl.learners.make("parrot", search="context").fit(train, DT)
    rows = []
    for rho in INSIDE + OUTSIDE:
        row = evaluate(rho, family, parrot)
        rows.append(row)
        print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()},
              flush=True)
    summary = {}
    for part, sel in (("inside", [r for r in rows if r["inside"]]),
                      ("outside", [r for r in rows if not r["inside"]])):
        summary[part] = {f"{name}_median_{k}": medians(sel, f"{name}_{k}")
                         for name in ("family", "parrot", "esn")
                         for k in ("vpt", "vpt_time", "dstsp", "dh")}
    payload = save("family", dict(
        git=git_rev(), note="shared 2-core machine (other jobs running): times indicative",
        train_rho=list(TRAIN_RHO), inside=list(INSIDE), outside=list(OUTSIDE), dt=DT,
        n_train=N_TRAIN, n_contexts=N_CONTEXTS, horizon=HORIZON, t_free=T_FREE,
        family_settings={**family.get_params(), "context_": family.context_,
                         "seq_len_": family.seq_len_, "tf_interval_": family.tf_interval_},
        family_parameters=family.n_parameters(), budget_s=args.budget, family_fit_s=fit_s,
        family_ms_per_step=per_step * 1e3, summary=summary, rows=rows))
    print(payload["summary"])


if __name__ == "__main__":
    main()
