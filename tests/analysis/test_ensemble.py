"""Ensemble spread: separations against analytic growth and known Lyapunov exponents."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.analysis.ensemble import ensemble_spread, trajectory_box


def test_linear_flow_separation_is_exactly_exponential():
    # x' = a x, y' = -y: a member released along x separates like d0 e^(a t)
    s = cl.systems.define("Saddle", ["x", "y"], ["a*x", "-y"], params={"a": 0.5},
                          x0=[0.0, 0.0], dt=0.01)
    e = ensemble_spread(s, n_steps=1001, n_members=6, radius=1e-6)
    assert e.x.shape == (6, 1001, 2) and e.separation.shape == (5, 1001)
    np.testing.assert_allclose(e.separation[:, 0], 1e-6, rtol=1e-12)
    # every member's distance obeys the exact solution of the linear flow
    u = (e.x[1:, 0] - e.x[0, 0]) / 1e-6
    exact = 1e-6 * np.sqrt(u[:, :1] ** 2 * np.exp(2 * 0.5 * e.t)
                           + u[:, 1:] ** 2 * np.exp(-2 * e.t))
    np.testing.assert_allclose(e.separation, exact, rtol=1e-8)
    assert e.growth_rate() == pytest.approx(0.5, rel=0.02)
    np.testing.assert_allclose(e.exponential(0.5), 1e-6 * np.exp(0.5 * e.t))


def test_lorenz_growth_rate_near_largest_exponent():
    s = cl.systems.get("Lorenz")
    x0 = s.reference["x0"]
    rates = [ensemble_spread(s, n_members=32, x0=x0, seed=k).growth_rate() for k in range(3)]
    # a finite-time estimate from one release scatters around lambda_1 = 0.906
    assert 0.6 < np.median(rates) < 1.25, rates
    e = ensemble_spread(s, x0=x0)
    assert e.t[-1] == pytest.approx(20 / s.reference["max_lyapunov"], rel=0.01)
    # saturation at the attractor's size, far above the release radius
    assert 5 < e.saturation() < 60 and e.saturated and 50 < e.size < 120


def test_logistic_map_separation_grows_like_log2():
    s = cl.systems.get("Logistic", r=4.0)
    e = ensemble_spread(s, n_steps=40, n_members=40, radius=1e-10, x0=[0.3])
    assert e.t[1] == 1.0
    assert e.growth_rate() == pytest.approx(math.log(2), rel=0.2)


def test_stable_system_does_not_grow():
    s = cl.systems.get("Lorenz", rho=10.0)  # stable fixed points
    e = ensemble_spread(s, n_steps=3000, x0=[1.0, 1.0, 1.0])
    assert e.typical_separation[-1] < e.d0
    assert math.isnan(e.growth_rate())


def test_a_short_run_has_not_saturated_and_fits_to_its_end():
    s = cl.systems.get("Lorenz")
    e = ensemble_spread(s, n_steps=1001, x0=s.reference["x0"], radius=1e-9, n_members=32)
    assert not e.saturated  # 10 time units: the cloud is still far smaller than the attractor
    assert 0.5 < e.growth_rate() < 1.6


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="n_members"):
        ensemble_spread("Lorenz", n_members=1)
    with pytest.raises(ValueError, match="x0"):
        ensemble_spread("Lorenz", x0=[1.0, 2.0])
    with pytest.raises(ValueError, match="radius"):
        ensemble_spread("Lorenz", radius=-1)


def test_trajectory_box():
    x = np.array([[0.0, 5.0], [10.0, 5.0], [np.nan, 5.0]])
    box = trajectory_box(x, pad=0.1)
    np.testing.assert_allclose(box, [[-1.0, 11.0], [4.5, 5.5]])
