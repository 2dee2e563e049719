"""The compute core loads no panel, bokeh or torch."""
import subprocess
import sys


def test_core_imports_no_ui_or_torch():
    code = ("import sys, chaoslab as cl; cl.simulate(cl.systems.get('Lorenz'), 10); "
            "cl.systems.get('Henon').jacobian([0.1, 0.2]); "
            "bad = [m for m in ('panel', 'bokeh', 'torch') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
