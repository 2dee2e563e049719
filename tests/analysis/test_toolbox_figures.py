"""The toolbox's figures draw what the analysis computed."""
import numpy as np
import pytest

pytest.importorskip("bokeh")

import chaoslab as cl  # noqa: E402
from chaoslab import plots  # noqa: E402
from chaoslab.analysis import (basins_of_attraction, cobweb, continuation,  # noqa: E402
                               early_warning, map_density, ramp_run, recurrence_plot)


def _renderer(fig, name):
    return fig.select_one({"name": name})


def test_cobweb_figure_holds_the_orbit():
    c = cobweb("Logistic", 0.2, 10, params={"r": 3.2})
    f = plots.cobweb_figure(c.curve_x, c.curve_y, c.path_x, c.path_y)
    path = _renderer(f, "cobweb-orbit").data_source.data
    np.testing.assert_array_equal(path["x"], c.path_x)
    # a cobweb alternates vertical and horizontal moves: (x_k, x_k) -> (x_k, x_{k+1})
    np.testing.assert_allclose(c.path_y[1::2], c.orbit[1:])
    np.testing.assert_allclose(c.path_x[0::2], c.path_y[0::2])


def test_basins_and_density_images():
    g = np.linspace(-2, 2, 20)
    r = basins_of_attraction("Duffing", {"x": g, "y": g}, params={"gamma": 0.0},
                             n_window=20)
    f = plots.basins_figure(r.basins, g, g, attractors={k: p[:, :2] for k, p in
                                                         r.attractors.items()})
    img = _renderer(f, "basins-image").data_source.data["image"][0]
    np.testing.assert_array_equal(img, r.basins.T)
    d = map_density("Clifford", 100_000, resolution=(200, 100))
    assert d.counts.shape == (100, 200) and d.counts.sum() == d.n_points == 100_000
    f = plots.density_figure(d.counts, d.x_range, d.y_range)
    assert _renderer(f, "density-image") is not None


def test_continuation_early_warning_and_recurrence_figures():
    c = continuation("Lorenz", "rho", [15.0, 28.0], n_starts=50)
    f = plots.continuation_figure(c.values, c.fraction_table(), c.ids, parameter="rho")
    assert len([r for r in f.renderers if r.name.startswith("continuation-")]) == len(c.ids)
    t, x, _ = ramp_run("Logistic", "r", (2.5, 2.9), 500, noise=0.002)
    e = early_warning(x[:, 0], t)
    layout = plots.early_warning_figure(e.t, x[:, 0], e.trend, e.indicators, e.tau)
    assert "Kendall tau" in layout.children[1].title.text
    R = recurrence_plot(cl.simulate("Lorenz", 300, transient=20.0), recurrence_rate=0.05)
    rows, cols = R.nonzero()
    f = plots.recurrence_figure(rows, cols, R.shape[0])
    assert len(_renderer(f, "recurrence-pairs").data_source.data["x"]) == R.nnz
