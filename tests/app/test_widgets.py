"""The ipywidgets explorer, without a notebook: it builds and reacts to its widgets."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("jupyter_bokeh")


def test_explore_builds_ipywidgets_and_follows_a_slider():
    import ipywidgets

    import chaoslab.widgets
    import chaoslab as cl

    ex = cl.widgets.explore("Lorenz")
    assert isinstance(ex, ipywidgets.Widget) and ex.figure is not None
    before = np.array(ex.path.data["x"][:100])
    ex.sliders["rho"].value = 20.0
    after = np.array(ex.path.data["x"][:100])
    assert not np.allclose(before, after)
    ref = cl.simulate(cl.systems.get("Lorenz", rho=20.0), 100, x0=ex.state.path_x[0])
    np.testing.assert_allclose(after, ref[:, 0])
    ex.system.value = "Henon"
    assert set(ex.sliders) == {"a", "b"} and ex.view.options == ("x-y",)


def test_explorer_does_not_load_panel():
    code = ("import sys, chaoslab.widgets as w; w.explore('Henon', n_steps=200); "
            "sys.exit(1 if 'panel' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
