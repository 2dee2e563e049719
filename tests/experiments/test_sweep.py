"""Sweeps on dask.distributed: a killed worker loses nothing, a rerun computes nothing, a
real scheduler + workers topology gives the same numbers, errors are rows, the store is
readable mid-sweep, cancel keeps what finished."""
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")
pytest.importorskip("pandas")

import chaoslab as cl                                            # noqa: E402
from chaoslab.experiments import parameter_sweep, read_store, sweep   # noqa: E402
from chaoslab.experiments.sweeps import (STORE_VERSION, resolve_systems,   # noqa: E402
                                        run_task, sweep_tasks)

ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"

# a tiny sweep: 3 flows x 2 fast learners x 2 seeds, short free runs
SYSTEMS = ["Lorenz", "Rossler", "Thomas"]
LEARNERS = ["parrot", ("esn", {"size": 60})]
SMALL = dict(n_free=500, horizons=(1.0,))
NUMBERS = ["vpt", "vpt_q25", "vpt_nrmse", "vpt_smape", "vpt_cumulative_smape", "smape",
           "smape@1", "d_stsp", "d_h", "lyapunov_exponent", "kaplan_yorke_dimension", "dim",
           "n_train", "n_steps"]


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=":0", silence_logs=40)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def killed_run(client, tmp_path_factory):
    """The tiny sweep on the 2-worker LocalCluster, one worker process killed (SIGKILL)
    while it runs a task."""
    store = tmp_path_factory.mktemp("local")
    pids_before = client.run(os.getpid)
    killed = {}

    def progress(fraction, text):
        if killed or fraction <= 0:
            return
        busy = {w: ks for w, ks in client.processing().items() if ks}
        if busy:
            w = sorted(busy)[0]
            killed["worker"], killed["pid"] = w, pids_before[w]
            killed["tasks"] = list(busy[w])
            os.kill(pids_before[w], signal.SIGKILL)

    res = sweep(SYSTEMS, LEARNERS, 2, client=client, store=store, progress=progress, **SMALL)
    client.wait_for_workers(2, timeout=60)
    return res, store, killed, pids_before


def test_killed_worker_loses_nothing_and_rerun_computes_nothing(client, killed_run):
    res, store, killed, pids_before = killed_run
    assert killed.get("tasks"), "no worker was busy when the test meant to kill one"
    assert killed["pid"] not in client.run(os.getpid).values()     # that process is gone
    assert (res.n_tasks, res.computed, res.failed, res.skipped) == (12, 12, 0, 0)
    files = sorted(store.glob("*.parquet"))
    assert len(files) == 12 and not list(store.glob(".*.tmp"))
    df = read_store(store)
    assert len(df) == 12 and df["key"].is_unique and set(df["status"]) == {"ok"}
    assert sorted(df["key"]) == sorted(res.keys) == sorted(f.stem for f in files)
    combos = set(zip(df["system"], df["learner"], df["seed"]))
    assert combos == {(s, lab, k) for s in SYSTEMS for lab in ("parrot", "esn") for k in (0, 1)}
    # the system's reference invariants are in every row
    lor = df[df["system"] == "Lorenz"]
    assert np.allclose(lor["lyapunov_exponent"], 0.904, atol=0.01)
    assert np.allclose(lor["kaplan_yorke_dimension"], 2.06, atol=0.01)
    assert set(df["dim"]) == {3}
    # a second run of the same sweep computes nothing
    again = sweep(SYSTEMS, LEARNERS, 2, client=client, store=store, **SMALL)
    assert (again.computed, again.failed, again.skipped) == (0, 0, 12)
    assert again.keys == res.keys
    assert len(list(store.glob("*.parquet"))) == 12


def test_task_rows_match_forecast_divergence():
    """A task's seed-0 row holds the numbers of forecast_divergence in the same protocol:
    gilpin2023's VPT is the cumulative-sMAPE one; the other definitions are computed on
    the same forecast."""
    spec, = sweep_tasks("Lorenz", ["ngrc"], 1, "gilpin2023", n_free=500,
                        horizons=(1.0, 1e6))
    row = run_task(spec)
    assert row["status"] == "ok", row["error"]
    ref = cl.forecast_divergence("Lorenz", ["ngrc"], protocol="gilpin2023", n_free=500)
    r = ref["ngrc"]
    assert row["vpt"] == pytest.approx(r.vpt_median, rel=1e-12)
    assert row["vpt_cumulative_smape"] == pytest.approx(r.vpt_median, rel=1e-12)
    assert row["smape"] == pytest.approx(float(r.metrics["smape"][0]), rel=1e-12)
    assert row["d_stsp"] == pytest.approx(r.d_stsp) and row["d_h"] == pytest.approx(r.d_h)
    want = cl.metrics.valid_prediction_steps(r.curves[0], 0.4) * ref.dt * ref.lyapunov_exponent
    assert row["vpt_nrmse"] == pytest.approx(want, rel=1e-12)
    assert row["vpt_nrmse"] > 3            # the NG-RC forecasts Lorenz for Lyapunov times
    assert math.isnan(row["smape@1e+06"])  # a horizon past the forecast: no value
    assert row["lyapunov_exponent"] == pytest.approx(0.904, abs=0.01)


def test_task_keys_are_stable_and_tell_tasks_apart():
    def keys(**kw):
        args = dict(systems="Lorenz", learners=["parrot"], seeds=[0], protocol="gilpin2023",
                    n_free=500)
        args.update(kw)
        return [s["key"] for s in sweep_tasks(**args)]

    k = keys()[0]
    assert len(k) == 24 and keys() == [k]
    assert keys(seeds=[1]) != [k] and keys(protocol="short_data") != [k]
    assert keys(learners=[("parrot", {"skip": 2})]) != [k]
    assert keys(systems=cl.systems.get("Lorenz")) == [k]     # a System or its name
    assert keys(systems=cl.systems.get("Lorenz", rho=30.0)) != [k]
    assert keys(n_free=600) != [k] and keys(n_train=900) != [k]
    assert sweep_tasks("Lorenz", ["parrot", "esn"], 3)[5]["seed"] == 2
    # the same key in a fresh interpreter (no per-process hash in it)
    code = ("from chaoslab.experiments.sweeps import sweep_tasks;"
            "print(sweep_tasks('Lorenz', ['parrot'], [0], 'gilpin2023', n_free=500)[0]['key'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": "123"}, check=True)
    assert out.stdout.strip() == k
    assert STORE_VERSION >= 1


def test_resolve_systems():
    assert resolve_systems({"kind": "flow", "dim": 3}) == cl.systems.names(kind="flow", dim=3)
    assert resolve_systems("all") == cl.systems.names()
    assert resolve_systems(["lorenz", "Lorenz", "Rossler"]) == ["Lorenz", "Rossler"]
    with pytest.raises(ValueError, match="unknown search key.*'dimension'.*allowed"):
        resolve_systems({"dimension": 3})
    with pytest.raises(KeyError, match="Lorenzz"):
        resolve_systems(["Lorenzz"])
    with pytest.raises(ValueError, match="seeds must be >= 1, got 0"):
        sweep(["Lorenz"], ["parrot"], 0, store="unused")
    with pytest.raises(ValueError, match="learners: .*'nope'|unknown learner"):
        sweep(["Lorenz"], ["nope"], 1, store="unused")


def test_failed_task_is_a_row(client, tmp_path):
    bad = ("esn", {"size": 20, "washout": 100_000})      # needs far more data than given
    # a user-defined system travels to the workers as an object; it is not chaotic
    growth = cl.systems.define("Growth", ["x"], ["-x"], x0=[1.0], dt=0.01)
    args = (["Lorenz", growth], {"ok": "parrot", "bad": bad}, 1)
    res = sweep(*args, client=client, store=tmp_path, **SMALL)
    assert (res.computed, res.failed) == (1, 3)
    df = res.table().set_index(["system", "learner"])
    assert df.loc[("Lorenz", "ok"), "status"] == "ok" and df.loc[("Lorenz", "ok"), "error"] == ""
    assert df.loc[("Lorenz", "bad"), "status"] == "error"
    assert "ESN needs trajectories of at least 100010 samples" in df.loc[("Lorenz", "bad"),
                                                                        "error"]
    assert "ValueError" in df.loc[("Lorenz", "bad"), "traceback"]
    assert math.isnan(df.loc[("Lorenz", "bad"), "vpt"])
    assert "Growth has largest Lyapunov exponent" in df.loc[("Growth", "ok"), "error"]
    assert "not chaotic" in df.loc[("Growth", "ok"), "error"]
    # a rerun keeps the error rows; rerun_errors=True runs those tasks again
    assert sweep(*args, client=client, store=tmp_path, **SMALL).skipped == 4
    again = sweep(*args, client=client, store=tmp_path, rerun_errors=True, **SMALL)
    assert (again.skipped, again.failed) == (1, 3)


def test_store_is_readable_mid_sweep(client, tmp_path):
    seen = []

    def progress(fraction, text):
        df = read_store(tmp_path)
        seen.append((fraction, len(df), set(df["status"])))
        # reports are rate-limited to one per 0.1 s: a slow reader sees every row arrive,
        # however fast the tasks are on this machine
        time.sleep(0.15)

    (tmp_path / ".stray.tmp").write_text("half a file")          # never read
    assert read_store(tmp_path).empty and read_store(tmp_path / "missing").empty
    res = sweep(["Lorenz", "Rossler"], ["parrot"], 2, client=client, store=tmp_path,
                progress=progress, **SMALL)
    assert res.computed == 4
    counts = [n for _, n, _ in seen]
    assert counts == sorted(counts) and counts[-1] == 4
    assert any(0 < n < 4 for n in counts)                  # a partial table was read
    assert all(st <= {"ok"} for _, _, st in seen)
    for fraction, n, _ in seen[1:]:
        assert fraction == pytest.approx(n / 4)


def test_cancel_keeps_finished_results(client, tmp_path):
    stop = threading.Event()

    def progress(fraction, text):
        if fraction >= 0.25:
            stop.set()

    kw = dict(client=client, store=tmp_path, **SMALL)
    res = sweep(SYSTEMS, LEARNERS, 3, progress=progress, cancel=stop, **kw)
    assert res.cancelled and res.remaining > 0
    done = res.computed + res.failed
    assert done >= 1
    time.sleep(0.5)                       # a task still running when cancelled is dropped
    assert len(list(tmp_path.glob("*.parquet"))) == done == len(read_store(tmp_path))
    rest = sweep(SYSTEMS, LEARNERS, 3, **kw)
    assert not rest.cancelled and rest.skipped == done and rest.computed == 18 - done
    assert len(read_store(tmp_path)) == 18


def test_parameter_sweep_lyapunov(client, tmp_path):
    """The logistic map's exponent: ln 2 at r = 4, negative in the period-2 window."""
    res = parameter_sweep("Logistic", {"r": [3.2, 4.0]}, "lyapunov", client=client,
                          store=tmp_path, T=20_000)
    df = res.table().set_index("param_r")
    assert df.loc[4.0, "lambda_1"] == pytest.approx(math.log(2), abs=0.01)
    assert df.loc[3.2, "lambda_1"] < -0.1
    assert set(df["kind"]) == {"lyapunov"}
    assert parameter_sweep("Logistic", {"r": [3.2, 4.0]}, "lyapunov", client=client,
                           store=tmp_path, T=20_000).skipped == 2
    with pytest.raises(ValueError, match="grid parameter must be one of 'r', got 'rho'"):
        parameter_sweep("Logistic", {"rho": [1.0]}, store=tmp_path)


def test_parameter_sweep_forecast(client, tmp_path):
    res = parameter_sweep("Lorenz", {"rho": [28.0, 35.0]}, "forecast", learners=["parrot"],
                          client=client, store=tmp_path, **SMALL)
    assert res.computed == 2
    df = res.table().set_index("param_rho")
    # at the catalog's rho the recorded exponent; at rho = 35 computed, larger
    assert df.loc[28.0, "lyapunov_exponent"] == pytest.approx(0.904, abs=0.01)
    assert df.loc[35.0, "lyapunov_exponent"] > df.loc[28.0, "lyapunov_exponent"]
    assert '"rho": 35.0' in df.loc[35.0, "system_params"]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_real_cluster_gives_the_same_results(killed_run, tmp_path):
    """`dask scheduler` and two `dask worker` processes on localhost: the same sweep gives
    the same keys and numbers as the LocalCluster run (which lost a worker)."""
    from distributed import Client

    _, local_store, _, _ = killed_run
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs = []

    def start(*args):
        procs.append(subprocess.Popen([str(DASK), *args], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", str(port),
              "--dashboard-address", ":0")
        address = f"tcp://127.0.0.1:{port}"
        for _ in range(2):
            start("worker", address, "--nworkers", "1", "--nthreads", "1",
                  "--no-dashboard")
        with Client(address, timeout=60) as c:
            c.wait_for_workers(2, timeout=90)
            assert len(c.scheduler_info()["workers"]) == 2
        res = sweep(SYSTEMS, LEARNERS, 2, client=address, store=tmp_path, **SMALL)
        assert (res.computed, res.failed) == (12, 0)
    finally:
        for p in procs[::-1]:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    a = read_store(local_store).set_index("key").sort_index()
    b = read_store(tmp_path).set_index("key").sort_index()
    assert list(a.index) == list(b.index)
    assert len(set(a["worker"]) | set(b["worker"])) >= 3   # ran in different processes
    for col in NUMBERS:
        np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float),
                                   rtol=1e-9, equal_nan=True, err_msg=col)
    assert list(a["learner"]) == list(b["learner"]) and list(a["seed"]) == list(b["seed"])


def test_sweep_figures(killed_run):
    """The three figures of a sweep's table: one scatter per learner at the systems'
    exponents, learners ranked by median VPT, one heat-map cell per (system, learner)."""
    from chaoslab.plots import heatmap_figure, per_system, ranking_figure, vpt_exponent_figure

    df = read_store(killed_run[1])
    agg = per_system(df, "vpt")
    assert len(agg) == 6 and set(agg["n_seeds"]) == {2}
    want = df.groupby(["system", "learner"])["vpt"].median()
    got = agg.set_index(["system", "learner"])["value"]
    assert np.allclose(got.sort_index(), want.sort_index())

    p = vpt_exponent_figure(df)
    scatters = [p.select_one({"name": f"learner{i}"}) for i in range(2)]
    lam = sorted(scatters[0].data_source.data["lam"])
    assert np.allclose(lam, sorted(df.groupby("system")["lyapunov_exponent"].first()))
    assert [it.label["value"] for it in p.legend[0].items] == ["esn", "parrot"]

    r = ranking_figure(df)
    medians = agg.groupby("learner")["value"].median().sort_values(ascending=False)
    assert list(r.y_range.factors) == list(medians.index)[::-1]     # best on top
    assert r.select_one({"name": "medians"}).data_source.data["median"] == \
        pytest.approx(list(medians))

    h = heatmap_figure(df.assign(status=np.where(df["system"] == "Thomas", "error", "ok")))
    assert list(h.y_range.factors) == ["Rossler", "Lorenz"]     # by lambda_1, errors left out
    assert len(h.renderers[0].data_source.data["value"]) == 4
    with pytest.raises(ValueError, match="metric must be a column of the table, got 'vtp'"):
        heatmap_figure(df, "vtp")
