"""Delay-differential systems: the method of steps against exact solutions."""
import numpy as np
import pytest

import chaoslab as cl

LIN = cl.systems.define("LinDDE", ["x"], ["-a*xt"], params={"a": 0.5, "tau": 1.0}, x0=[1.0],
                        dt=0.05, delayed={"xt": "x"}, tau="tau")


def _exact(t, a=0.5, tau=1.0):
    """x' = -a x(t - tau), x = 1 for t <= 0: a polynomial on each interval of length tau."""
    x = 1 - a * t
    x = x + np.where(t > tau, a ** 2 * (t - tau) ** 2 / 2, 0)
    x = x - np.where(t > 2 * tau, a ** 3 * (t - 2 * tau) ** 3 / 6, 0)
    return x


def test_linear_delay_equation_exact_on_the_step_grid():
    t = np.arange(61) * 0.05
    np.testing.assert_allclose(cl.simulate(LIN, 61)[:, 0], _exact(t), atol=1e-13)


def test_batch_over_delays_and_transient():
    xs = cl.simulate(LIN, 41, params={"tau": [1.0, 1.5]})
    t = np.arange(41) * 0.05
    np.testing.assert_allclose(xs[0, :, 0], _exact(t), atol=1e-13)
    np.testing.assert_allclose(xs[1, :, 0], _exact(t, tau=1.5), atol=1e-13)
    full = cl.simulate(LIN, 61)
    np.testing.assert_allclose(cl.simulate(LIN, 21, transient=2.0), full[40:], atol=1e-13)


def test_fourth_order_convergence_on_a_nonlinear_delay_system():
    s = cl.systems.get("MackeyGlass")
    T = 8.0  # less than tau: no breaking point inside the window
    ends = [cl.simulate(s, 2, dt=T, substeps=int(T / h))[-1, 0] for h in (0.4, 0.2, 0.1, 0.05)]
    errs = np.abs(np.diff(ends))
    orders = np.log2(errs[:-1] / errs[1:])
    assert np.all(orders > 3.7), orders


def test_delay_must_span_two_steps_and_other_errors():
    with pytest.raises(ValueError, match="at least two steps"):
        cl.simulate(LIN, 10, dt=0.8)
    with pytest.raises(ValueError, match="delay system"):
        cl.simulate(LIN, 10, method="dopri5")
    with pytest.raises(cl.EquationError, match="tau ="):
        cl.systems.define("Bad", ["x"], ["-xt"], params={"a": 1.0}, delayed={"xt": "x"})
    with pytest.raises(cl.EquationError, match="not a variable"):
        cl.systems.define("Bad", ["x"], ["-xt"], params={"tau": 1.0}, delayed={"xt": "y"},
                          tau="tau")
