"""The command line: systems table, simulate to files, Lyapunov spectrum, clear errors."""
import json
import subprocess
import sys

import numpy as np


def run(*args):
    return subprocess.run([sys.executable, "-m", "chaoslab.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_systems_table_and_json():
    out = run("systems")
    assert out.returncode == 0 and "Lorenz" in out.stdout and "systems" in out.stdout
    rows = json.loads(run("systems", "--json").stdout)
    assert any(r["name"] == "Henon" and r["kind"] == "map" for r in rows)


def test_simulate_writes_npz_and_csv(tmp_path):
    npz = tmp_path / "l.npz"
    out = run("simulate", "Lorenz", "--steps", "200", "--param", "rho=20", "--out", str(npz))
    assert out.returncode == 0, out.stderr
    d = np.load(npz)
    assert d["x"].shape == (200, 3) and json.loads(str(d["params"]))["rho"] == 20
    csv = tmp_path / "h.csv"
    assert run("simulate", "Henon", "--steps", "50", "--out", str(csv)).returncode == 0
    data = np.loadtxt(csv, delimiter=",", skiprows=1)
    assert data.shape == (50, 3)


def test_lyapunov_command():
    out = run("lyapunov", "Logistic", "--param", "r=4", "--json")
    assert out.returncode == 0, out.stderr
    assert abs(json.loads(out.stdout)["exponents"][0] - np.log(2)) < 3e-3


def test_errors_are_messages_not_tracebacks():
    for args in (("simulate", "Lorenx", "--out", "x.npz"),
                 ("simulate", "Lorenz", "--param", "rho=nan", "--out", "x.npz"),
                 ("simulate", "Lorenz", "--steps", "-5", "--out", "x.npz"),
                 ("simulate", "Lorenz", "--steps", "5", "--out", "x.txt")):
        out = run(*args)
        assert out.returncode == 2
        assert "chaoslab: error:" in out.stderr and "Traceback" not in out.stderr


def test_sweep_runs_and_resumes(tmp_path):
    """`chaoslab sweep` on a one-worker local cluster writes one row per task; the same
    command again finds them all in the store."""
    import pytest

    pytest.importorskip("distributed")
    store = tmp_path / "store"
    args = ("sweep", "--systems", "Lorenz", "--learners", "parrot,esn:size=50:ridge=1e-6",
            "--seeds", "1", "--store", str(store), "--workers", "1", "--n-free", "500",
            "--quiet")
    out = run(*args)
    assert out.returncode == 0, out.stderr
    assert "2 tasks: 2 computed, 0 failed" in out.stdout
    assert "esn:size=50:ridge=1e-6" in out.stdout and "parrot" in out.stdout
    assert len(list(store.glob("*.parquet"))) == 2
    again = json.loads(run(*args, "--json").stdout)
    assert (again["computed"], again["skipped"], again["tasks"]) == (0, 2, 2)
    from chaoslab.experiments import read_store

    df = read_store(store).set_index("learner")
    assert json.loads(df.loc["esn:size=50:ridge=1e-6", "learner_params"])["size"] == 50


def test_sweep_errors_name_the_argument(tmp_path):
    store = str(tmp_path / "s")
    out = run("sweep", "--systems", "Lorenz,kind=flow", "--learners", "parrot",
              "--store", store)
    assert out.returncode == 2 and "--systems mixes names and search terms" in out.stderr
    out = run("sweep", "--systems", "Lorenzz", "--learners", "parrot", "--store", store)
    assert out.returncode == 2 and "unknown system 'Lorenzz'" in out.stderr
    out = run("sweep", "--systems", "Lorenz", "--learners", "esn:size", "--store", store)
    assert out.returncode == 2 and "must be NAME=VALUE, got 'size'" in out.stderr
    out = run("sweep", "--systems", "kind=flow,size=3", "--learners", "parrot",
              "--store", store)
    assert out.returncode == 2 and "unknown search key(s) 'size'" in out.stderr
    out = run("sweep", "--systems", "Lorenz", "--learners", "parrot", "--seeds", "0",
              "--store", store)
    assert out.returncode == 2 and "--seeds must be >= 1, got 0" in out.stderr
