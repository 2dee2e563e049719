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
