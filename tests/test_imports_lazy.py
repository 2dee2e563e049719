"""``import chaoslab`` stays light: sympy, scipy, numba and the analysis modules load on
first use, and a system whose derived forms are in chaoslab's cache simulates without
sympy."""
import json
import os
import subprocess
import sys

import numpy as np

import chaoslab

LAZY = ("sympy", "mpmath", "scipy", "numba", "panel", "bokeh", "torch", "chaoslab.analysis",
        "chaoslab.experiments", "chaoslab.learners")


def _run(code, cache):
    env = {**os.environ, "CHAOSLAB_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_chaoslab_loads_none_of_the_lazy_modules(tmp_path):
    loaded = _run(f"import json, sys, chaoslab; "
                  f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))", tmp_path)
    assert loaded == []


def test_public_names_resolve():
    for name in chaoslab.__all__:
        assert getattr(chaoslab, name) is not None, name
    from chaoslab import ftle_field, lyapunov_spectrum  # noqa: F401  (lazy names)
    assert {"lyapunov_spectrum", "analysis", "simulate"} <= set(dir(chaoslab))
    assert chaoslab.lyapunov_spectrum is chaoslab.analysis.lyapunov_spectrum


_SIMULATE = """
import json, sys, numpy as np, chaoslab as cl
s = cl.systems.get("Rossler")
x = cl.simulate(s, 200)
p = np.array([0.3, -1.2, 0.7])
print(json.dumps({"sympy": "sympy" in sys.modules, "x": x.tolist(),
                  "rhs": s.rhs(p).tolist(), "jac": s.jacobian(p).tolist(),
                  "latex": s.latex}))
"""


def test_a_cached_system_simulates_without_sympy_and_alike(tmp_path):
    first = _run(_SIMULATE, tmp_path)   # derives with sympy, fills the cache
    again = _run(_SIMULATE, tmp_path)   # reads the cache
    assert first["sympy"] and not again["sympy"]
    assert again["x"] == first["x"] and again["latex"] == first["latex"]
    # Rossler: x' = -y - z, y' = x + a y, z' = b + z (x - c), a = b = 0.2, c = 5.7
    x, y, z = 0.3, -1.2, 0.7
    a, b, c = 0.2, 0.2, 5.7
    np.testing.assert_allclose(again["rhs"], [-y - z, x + a * y, b + z * (x - c)])
    np.testing.assert_allclose(again["jac"], [[0, -1, -1], [1, a, 0], [z, 0, x - c]])
