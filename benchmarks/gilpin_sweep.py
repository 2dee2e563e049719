"""The Gilpin (2023) benchmark in miniature: 40 catalog flows x 8 learners x 3 seeds in the
gilpin2023 protocol, on a local dask cluster, into a resumable store.

    python -m benchmarks.gilpin_sweep                 # run (resumes), then summarise
    python -m benchmarks.gilpin_sweep --summary       # summarise what the store holds
    python -m benchmarks.gilpin_sweep --learners parrot,esn   # a subset first

The 40 flows are the chaotic, non-delay, non-transport flows of the catalog (recorded
largest exponent above 0.01), sorted by that exponent and taken at 40 evenly spaced ranks,
so the set spans the catalog's range of lambda_1. The store (one Parquet file per task) is
``benchmarks/results/gilpin_store`` (not in git); the summary goes to
``benchmarks/results/gilpin_sweep.json`` and the table of rows to ``gilpin_sweep.csv``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from .common import RESULTS, machine

STORE = RESULTS / "gilpin_store"
LEARNERS = ["linear_ar", "parrot", "esn", "ngrc", "sindy", "edmd", "plrnn", "lstm"]
N_SYSTEMS = 40
SEEDS = 3


def flows(n=N_SYSTEMS):
    import chaoslab as cl

    rows = []
    for name in cl.systems.names(kind="flow"):
        s = cl.systems.get(name)
        lam = (s.reference or {}).get("max_lyapunov")
        if s.is_delay or s.meta.get("transport") or getattr(s, "domain", None) is not None:
            continue
        if lam is None or not np.isfinite(lam) or lam <= 0.01:
            continue
        rows.append((lam, name))
    rows.sort()
    idx = np.unique(np.round(np.linspace(0, len(rows) - 1, n)).astype(int))
    return [rows[i][1] for i in idx]


def summarise(store=STORE):
    from scipy.stats import spearmanr

    from chaoslab.experiments import read_store, sweep_tasks

    # only this benchmark's tasks: rows of earlier definitions (e.g. a learner's former
    # defaults, another key) may share the store
    keys = [t["key"] for t in sweep_tasks(flows(), LEARNERS, SEEDS, protocol="gilpin2023")]
    df = read_store(store, keys=keys)
    if df is None or len(df) == 0:
        return {"rows": 0}
    df.to_csv(RESULTS / "gilpin_sweep.csv", index=False)
    ok = df[df["status"] == "ok"]
    per = {}
    for learner, g in ok.groupby("learner"):
        by_sys = g.groupby("system")[["vpt", "lyapunov_exponent"]].median()
        rho = spearmanr(by_sys["lyapunov_exponent"], by_sys["vpt"])[0] if len(by_sys) > 2 \
            else float("nan")
        per[learner] = {"tasks": int(len(g)), "systems": int(len(by_sys)),
                        "median_vpt": float(g["vpt"].median()),
                        "vpt_q25": float(g["vpt"].quantile(0.25)),
                        "vpt_q75": float(g["vpt"].quantile(0.75)),
                        "median_smape": float(g["smape"].median()),
                        "median_d_stsp": float(g["d_stsp"].median()),
                        "median_d_h": float(g["d_h"].median()),
                        "median_fit_s": float(g["fit_seconds"].median()),
                        "spearman_vpt_vs_lambda1": float(rho)}
    ranking = sorted(per, key=lambda k: -per[k]["median_vpt"])
    size = sum(f.stat().st_size for f in Path(store).glob("*.parquet"))
    out = {"machine": machine(), "rows": int(len(df)), "ok": int(len(ok)),
           "errors": int((df["status"] == "error").sum()),
           "systems": int(df["system"].nunique()), "ranking": ranking, "learners": per,
           "store_bytes": int(size),
           "task_hours": float(df["task_seconds"].sum() / 3600)}
    (RESULTS / "gilpin_sweep.json").write_text(json.dumps(out, indent=1))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.gilpin_sweep")
    p.add_argument("--learners", default=",".join(LEARNERS))
    p.add_argument("--seeds", type=int, default=SEEDS)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--summary", action="store_true")
    args = p.parse_args(argv)
    if not args.summary:
        from chaoslab.experiments import sweep

        res = sweep(flows(), args.learners.split(","), args.seeds, protocol="gilpin2023",
                    store=STORE, n_workers=args.workers, progress=True)
        print(f"{res.computed} computed, {res.skipped} skipped, {res.failed} failed "
              f"in {res.seconds:.0f} s")
    print(json.dumps(summarise(), indent=1))


if __name__ == "__main__":
    main()
