"""Orbit diagrams, Poincare sections, correlation dimension, power spectra."""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import chaoslab as cl
from chaoslab.analysis import local_maxima


def test_logistic_orbit_diagram_known_orbits():
    r = np.array([2.9, 3.2, 3.5])
    vals, pts = cl.orbit_diagram("Logistic", "r", r)
    assert pts.shape == (3, 200)
    np.testing.assert_allclose(pts[0], 1 - 1 / 2.9, atol=1e-9)
    a = 3.2
    two = sorted([(a + 1 + s * math.sqrt((a + 1) * (a - 3))) / (2 * a) for s in (-1, 1)])
    np.testing.assert_allclose(np.unique(pts[1].round(9)), two, atol=1e-9)
    assert len(np.unique(pts[2].round(6))) == 4  # period 4 at r = 3.5
    _, cont = cl.orbit_diagram("Logistic", "r", r, continuation=True)
    np.testing.assert_allclose(np.sort(cont[1][-2:]), two, atol=1e-9)


def test_flow_orbit_diagram_counts_branches():
    # Rossler (a = b = 0.2): a period-1 orbit at c = 2.5, period 2 at c = 3.5
    _, pts = cl.orbit_diagram("Rossler", "c", [2.5, 3.5], variable="x")
    for row, n in zip(pts, (1, 2)):
        peaks = row[np.isfinite(row)]
        assert len(np.unique(peaks.round(3))) == n


def test_orbit_diagram_errors():
    with pytest.raises(ValueError, match="no parameter 'q'"):
        cl.orbit_diagram("Logistic", "q", [1.0])
    with pytest.raises(ValueError, match="finite"):
        cl.orbit_diagram("Logistic", "r", [np.nan])


def test_poincare_section_matches_solve_ivp_events():
    s = cl.systems.get("Lorenz")
    # a fine step, so that the comparison measures the crossing search, not RK4's error
    pts, times = cl.poincare_section(s, "z", 27.0, direction=-1, n_steps=10001, dt=0.002,
                                     transient=0)
    np.testing.assert_allclose(pts[:, 2], 27.0, atol=1e-12)

    def ev(t, u):
        return u[2] - 27.0
    ev.direction = -1
    sol = solve_ivp(lambda t, u: s.rhs(u), (0, 20.0), s.x0, method="DOP853", events=ev,
                    rtol=1e-12, atol=1e-12)
    ref = sol.y_events[0][:3]
    np.testing.assert_allclose(pts[:3], ref, atol=1e-6)
    np.testing.assert_allclose(times[:3], sol.t_events[0][:3], atol=1e-7)


def test_correlation_dimension_published_values():
    henon = cl.simulate("Henon", 100_000, transient=1_000)
    # Grassberger and Procaccia (1983): 1.21 +- 0.01
    assert cl.correlation_dimension(henon, fit=(0.005, 0.1), max_points=6000) == \
        pytest.approx(1.21, abs=0.03)
    lorenz = cl.simulate("Lorenz", 200_000, transient=10.0)[::20]
    # Grassberger and Procaccia (1983): 2.05 +- 0.01
    assert cl.correlation_dimension(lorenz, fit=(0.01, 0.1)) == pytest.approx(2.05, abs=0.05)


def test_power_spectrum_peak():
    t = np.arange(8192) * 0.01
    f, p = cl.power_spectrum(np.sin(2 * np.pi * 3.0 * t), 0.01)
    assert f[np.argmax(p)] == pytest.approx(3.0, abs=0.1)


def test_local_maxima_refines_the_peak():
    t = np.linspace(0, 4 * np.pi, 400)
    np.testing.assert_allclose(local_maxima(np.sin(t)), [1.0, 1.0], atol=1e-5)
