"""Learners import torch only when a torch learner trains or loads.

Each test runs a fresh interpreter, since this process has long imported torch.
"""
import subprocess
import sys

import pytest


def _run(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_making_any_learner_imports_no_torch():
    """``import chaoslab.learners``, ``make`` of every learner (torch ones included),
    ``get_params``/``clone`` and fitting the non-torch learners leave torch unimported."""
    code = """
import sys
import numpy as np
import sklearn.base
import chaoslab as cl
import chaoslab.learners.nn
import chaoslab.learners.testing
X = np.cumsum(np.random.default_rng(0).standard_normal((400, 3)), axis=0) * 0.01
for name in cl.learners.names():
    m = cl.learners.make(name)
    sklearn.base.clone(m).get_params()
    repr(m)
    assert 'torch' not in sys.modules, ('torch imported by make', name)
for name in cl.learners.names(torch=False):
    if name != "sindy":      # pysindy's own import is heavy; SINDy has no torch path
        cl.learners.make(name, **({"size": 20, "washout": 10} if name == "esn" else {})
                         ).fit(X, 0.01).forecast(X[-200:], 5)
assert 'torch' not in sys.modules, 'torch imported by a non-torch learner'
print('ok')
"""
    assert _run(code).strip().endswith("ok")


def test_fitting_a_torch_learner_imports_torch():
    """The check above can fail: a torch learner's fit does import torch."""
    pytest.importorskip("torch")
    code = """
import sys
import numpy as np
import chaoslab as cl
m = cl.learners.make("neural_ode", hidden=4, adam_steps=2, lbfgs_steps=0, device="cpu")
assert 'torch' not in sys.modules
m.fit(np.random.default_rng(0).standard_normal((50, 3)), 0.01)
assert 'torch' in sys.modules and 'chaoslab.learners.nn.node' in sys.modules
print('ok')
"""
    assert _run(code).strip().endswith("ok")
