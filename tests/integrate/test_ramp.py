"""simulate(ramp=...): a parameter moved linearly along the run."""
import numpy as np
import pytest

import chaoslab as cl


def test_flow_ramp_is_integrated_exactly():
    # x' = r with r from 1 to 3 over T = 10: x(t) = t + (3 - 1) t^2 / (2 T), which RK4
    # integrates exactly (a quadratic)
    drift = cl.systems.define("Drift", ["x"], ["r"], params={"r": 1.0}, x0=[0.0], dt=0.01)
    x = cl.simulate(drift, 1001, ramp={"r": (1.0, 3.0)})
    t = np.arange(1001) * 0.01
    np.testing.assert_allclose(x[:, 0], t + 2.0 * t ** 2 / 20.0, atol=1e-10)


def test_map_ramp_steps_evenly_and_transient_holds_the_start():
    copy = cl.systems.define("Copy", ["x"], ["r"], params={"r": 0.0}, x0=[5.0], kind="map")
    y = cl.simulate(copy, 11, ramp={"r": (0.0, 1.0)}, transient=3)
    # x_n = r_(n-1): the transient ran at r = 0, then r = 0, 0.1, ..., 1.0
    np.testing.assert_allclose(y[:, 0], [0.0, 0.0] + [k / 10 for k in range(1, 10)],
                               atol=1e-15)
    # a slow ramp keeps the logistic map on its moving stable fixed point 1 - 1/r
    z = cl.simulate("Logistic", 2000, ramp={"r": (2.5, 2.9)}, transient=100)
    r = np.linspace(2.5, 2.9, 2000)
    np.testing.assert_allclose(z[100:, 0], 1 - 1 / r[99:-1], atol=2e-3)


def test_ramp_errors_name_the_argument():
    with pytest.raises(ValueError, match="ramp: 'q' is not a parameter"):
        cl.simulate("Lorenz", 10, ramp={"q": (1, 2)})
    with pytest.raises(ValueError, match="ramp"):
        cl.simulate("Lorenz", 10, ramp={"rho": 3})
    with pytest.raises(ValueError, match="sized and delay"):
        cl.simulate("Lorenz96", 10, ramp={"f": (8, 9)})
