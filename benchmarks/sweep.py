"""Sweep throughput on dask: tasks per minute with 1 and 2 local workers, and an estimate
of a full benchmark run.

    python -m benchmarks.sweep                       # throughput and scaling (~2 min)
    python -m benchmarks.sweep --estimate            # plus one task of each of 8 learners

Throughput: the same sweep (``--systems`` three-dimensional flows x two fast learners x
``--seeds`` seeds, gilpin2023 protocol) on a LocalCluster of 1, and of 2, single-threaded
worker processes, both started at once. Each first runs a warm-up sweep of the same
systems at other seeds (numba compiles each system's kernels once per process); then
``--repeat`` timed sweeps into fresh stores alternate between the two clusters; the
figures are medians. Cluster start-up is timed apart.

``--estimate`` times one gilpin2023 task of each of eight learners on two flows in this
process, and from those and the measured 2-worker speed-up estimates the wall time of
40 flows x 8 learners x 3 seeds on this machine.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time

from .common import machine, save

FAST = {"ngrc": "ngrc", "esn": ("esn", {"size": 100})}
EIGHT = ["linear_ar", "parrot", "esn", "ngrc", "sindy", "edmd", "plrnn", "lstm"]


def _throughput(worker_counts, systems, seeds, repeat):
    """Both clusters up at once; after a warm-up on each, the timed sweeps alternate
    between them (1, 2, 1, 2, ...) so that a change of the machine's load hits both."""
    from distributed import Client, LocalCluster

    from chaoslab.experiments import read_store, sweep

    root = tempfile.mkdtemp(prefix="chaoslab-bench-sweep-")
    clients, out = {}, {}
    try:
        for w in worker_counts:
            t0 = time.perf_counter()
            cluster = LocalCluster(n_workers=w, threads_per_worker=1, dashboard_address=":0",
                                   silence_logs=40)
            clients[w] = (Client(cluster), cluster)
            out[w] = {"workers": w, "startup_seconds": time.perf_counter() - t0,
                      "wall_seconds": [], "task_seconds": []}
            warm = sweep(systems, FAST, [100 + k for k in range(seeds)],
                         client=clients[w][0], store=f"{root}/warm{w}")
            assert warm.failed == 0, read_store(f"{root}/warm{w}")["error"].tolist()
        for r in range(repeat):
            for w in worker_counts:
                res = sweep(systems, FAST, seeds, client=clients[w][0],
                            store=f"{root}/run{w}-{r}")
                assert res.computed == res.n_tasks, res
                out[w]["tasks"] = res.n_tasks
                out[w]["wall_seconds"].append(res.seconds)
                out[w]["task_seconds"].append(float(res.table()["task_seconds"].sum()))
    finally:
        for c, cluster in clients.values():
            c.close()
            cluster.close()
        shutil.rmtree(root, ignore_errors=True)
    rows = []
    for w in worker_counts:
        o = out[w]
        wall = statistics.median(o["wall_seconds"])
        o.update({"median_wall_seconds": wall, "tasks_per_minute": 60.0 * o["tasks"] / wall,
                  "busy_fraction": statistics.median(
                      t / (x * w) for t, x in zip(o["task_seconds"], o["wall_seconds"]))})
        rows.append(o)
    return rows


def _learner_times(systems):
    from chaoslab.experiments.sweeps import run_task, sweep_tasks

    out = {}
    for spec in sweep_tasks(systems, EIGHT, 1):
        row = run_task(spec)
        out.setdefault(row["learner"], []).append(
            {"system": row["system"], "seconds": row["task_seconds"], "status": row["status"],
             "vpt": row.get("vpt")})
    return out


def main(argv=None):
    import chaoslab as cl

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--systems", type=int, default=6, help="how many 3-D flows (default 6)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--estimate", action="store_true",
                    help="also time one task of each of 8 learners and estimate a "
                         "40 flows x 8 learners x 3 seeds run")
    args = ap.parse_args(argv)
    systems = cl.systems.names(kind="flow", dim=3)[:args.systems]
    rows = _throughput((1, 2), systems, args.seeds, args.repeat)
    speedup = rows[0]["median_wall_seconds"] / rows[1]["median_wall_seconds"]
    print(f"{machine()}; {len(systems)} flows x {len(FAST)} learners x {args.seeds} seeds "
          f"= {rows[0]['tasks']} tasks, gilpin2023, median of {args.repeat}")
    print(f"{'workers':>8} {'start s':>8} {'wall s':>8} {'tasks/min':>10} {'busy':>6}")
    for r in rows:
        print(f"{r['workers']:>8} {r['startup_seconds']:>8.2f} "
              f"{r['median_wall_seconds']:>8.2f} {r['tasks_per_minute']:>10.1f} "
              f"{r['busy_fraction']:>6.2f}")
    print(f"speed-up 1 -> 2 workers: {speedup:.2f}x")
    payload = {"systems": systems, "learners": list(FAST), "seeds": args.seeds,
               "repeat": args.repeat, "throughput": rows, "speedup_1_to_2": speedup}
    if args.estimate:
        times = _learner_times(["Lorenz", "Rossler"])
        per_task = {k: statistics.mean(x["seconds"] for x in v) for k, v in times.items()}
        one_seed_one_flow = sum(per_task.values())
        serial = 40 * 3 * one_seed_one_flow
        wall = serial / max(speedup, 1.0)      # with no gain, one worker would do
        print("one gilpin2023 task, this process (mean of Lorenz and Rossler):")
        for k, v in per_task.items():
            print(f"  {k:10s} {v:8.2f} s")
        print(f"40 flows x 8 learners x 3 seeds: {serial / 60:.0f} min of task time, about "
              f"{wall / 60:.0f} min on 2 workers")
        payload.update({"learner_task_seconds": times, "estimate_40x8x3_serial_seconds": serial,
                        "estimate_40x8x3_wall_seconds_2_workers": wall})
    save("sweep", payload)


if __name__ == "__main__":
    main()
