"""Integrators: convergence orders, tolerances, backends, batches, blow-up, bad input."""
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import chaoslab as cl
from chaoslab.integrate import DivergenceWarning, SimulationDiverged

OSC = cl.systems.define("Oscillator", ["x", "v"], ["v", "-w**2*x"], params={"w": 1.0},
                        x0=[1.0, 0.0], dt=0.1)


def _osc_error(method, dt, T=4.0):
    n = int(round(T / dt)) + 1
    x = cl.simulate(OSC, n, dt=dt, method=method)
    t = np.arange(n) * dt
    return np.max(np.abs(x[:, 0] - np.cos(t)))


def test_rk4_is_fourth_order():
    errs = [_osc_error("rk4", dt) for dt in (0.2, 0.1, 0.05, 0.025)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 4) < 0.15), orders


def test_euler_is_first_order():
    errs = [_osc_error("euler", dt) for dt in (0.02, 0.01, 0.005)]
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 1) < 0.1), orders


LINEAR = cl.systems.define("Linear3", ["x", "y", "z"],
                           ["-0.1*x + 2*y", "-2*x - 0.1*y", "0.5*x - 3*z"], x0=[1.0, 0.0, 1.0])


@pytest.mark.parametrize("rtol", [1e-6, 1e-9])
def test_dopri5_meets_tolerance_against_exact_solution(rtol):
    """x(t) = expm(A t) x0; the error is of the order of the tolerance and no worse than
    scipy's Dormand-Prince (RK45) at equal tolerances."""
    from scipy.linalg import expm

    A = np.array([[-0.1, 2, 0], [-2, -0.1, 0], [0.5, 0, -3]])
    n, dt = 101, 0.1
    t_eval = np.arange(n) * dt
    exact = np.stack([expm(A * t) @ LINEAR.x0 for t in t_eval])
    r = cl.simulate(LINEAR, n, dt=dt, method="dopri5", rtol=rtol, atol=rtol * 1e-2,
                    full_output=True)
    peer = solve_ivp(lambda t, y: A @ y, (0, t_eval[-1]), LINEAR.x0, method="RK45",
                     t_eval=t_eval, rtol=rtol, atol=rtol * 1e-2)
    err = np.max(np.abs(r.x - exact))
    err_peer = np.max(np.abs(peer.y.T - exact))
    assert err < 20 * rtol, err
    assert err < 3 * err_peer, (err, err_peer)


def test_dopri5_on_lorenz_against_reference():
    s = cl.systems.get("Lorenz")
    n, dt = 41, 0.05
    t_eval = np.arange(n) * dt
    ref = solve_ivp(lambda t, y: s.rhs(y), (0, t_eval[-1]), s.x0, method="DOP853",
                    t_eval=t_eval, rtol=1e-13, atol=1e-13).y.T
    for rtol in (1e-6, 1e-9):
        x = cl.simulate(s, n, dt=dt, method="dopri5", rtol=rtol, atol=rtol * 1e-3)
        err = np.max(np.abs(x - ref) / (1 + np.abs(ref)))
        # chaos (lambda ~ 0.9) amplifies ~400 local errors over 2 time units
        assert err < 1e3 * rtol, (rtol, err)


def test_dopri5_analytic_oscillator():
    x = cl.simulate(OSC, 101, dt=0.1, method="dopri5", rtol=1e-10, atol=1e-12)
    t = np.arange(101) * 0.1
    np.testing.assert_allclose(x[:, 0], np.cos(t), atol=1e-8)


@pytest.mark.parametrize("name", ["Lorenz", "Rossler", "Chua", "DoublePendulum", "DoubleGyre",
                                  "Lorenz96", "Henon", "Ikeda", "Logistic"])
def test_numba_and_torch_agree_in_float64(name):
    torch = pytest.importorskip("torch")
    s = cl.systems.get(name)
    rng = np.random.default_rng(3)
    x0 = s.x0 + 1e-3 * rng.normal(size=(4, s.dim))
    n = 200 if s.is_map else 300
    a = cl.simulate(s, n, x0=x0, t0=0.3)
    b = cl.simulate(s, n, x0=x0, t0=0.3, backend="torch", device="cpu")
    assert isinstance(b, torch.Tensor) and b.dtype == torch.float64
    # chaos amplifies rounding differences (the kernels' sin/cos are within 2 ulp of
    # libm's) by e^(lambda t): compare over a window where that stays below 1e-11
    w = 20 if s.is_map else 60
    np.testing.assert_allclose(b.numpy()[:, :w], a[:, :w], rtol=1e-10, atol=1e-10)


def test_torch_dtypes_run():
    torch = pytest.importorskip("torch")
    s = cl.systems.get("Lorenz")
    for dtype, tol in (("float32", 1e-4), ("bfloat16", 0.1)):
        x = cl.simulate(s, 20, backend="torch", dtype=dtype, device="cpu")
        assert x.dtype == getattr(torch, dtype)
        ref = cl.simulate(s, 20)
        rel = np.abs(x.double().numpy() - ref) / (1 + np.abs(ref))
        assert rel.max() < tol


def test_torch_dopri5_meets_tolerance():
    pytest.importorskip("torch")
    x = cl.simulate(OSC, 41, dt=0.1, method="dopri5", backend="torch", device="cpu",
                    rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.numpy()[:, 0], np.cos(np.arange(41) * 0.1), atol=1e-8)


def test_batch_over_initial_conditions_matches_single_runs():
    s = cl.systems.get("Lorenz")
    rng = np.random.default_rng(4)
    x0 = s.x0 + rng.normal(size=(700, 3))  # several blocks and threads
    xb = cl.simulate(s, 50, x0=x0)
    assert xb.shape == (700, 50, 3)
    for i in (0, 255, 256, 511, 699):
        np.testing.assert_array_equal(xb[i], cl.simulate(s, 50, x0=x0[i]))


def test_batch_over_parameter_sets():
    s = cl.systems.get("Lorenz")
    rhos = np.array([10.0, 28.0, 99.6, 160.0])
    xb = cl.simulate(s, 100, params={"rho": rhos})
    assert xb.shape == (4, 100, 3)
    for i, rho in enumerate(rhos):
        np.testing.assert_array_equal(xb[i], cl.simulate(s.with_params(rho=rho), 100))
    P = np.column_stack([np.full(4, 10.0), rhos, np.full(4, 8 / 3)])
    np.testing.assert_array_equal(cl.simulate(s, 100, params=P), xb)


def test_transient_is_discarded():
    s = cl.systems.get("Rossler")
    full = cl.simulate(s, 150)
    tail = cl.simulate(s, 50, transient=100 * s.dt, full_output=True)   # a span of time
    np.testing.assert_allclose(tail.x, full[100:], rtol=1e-12)
    np.testing.assert_allclose(tail.t, np.arange(100, 150) * s.dt)
    # at another sampling step the same span discards the same time
    coarse = cl.simulate(s, 25, dt=2 * s.dt, transient=100 * s.dt, substeps=2)
    np.testing.assert_allclose(coarse, full[100::2], rtol=1e-9, atol=1e-12)
    # a map's transient counts iterations
    h = cl.simulate("Henon", 30)
    np.testing.assert_array_equal(cl.simulate("Henon", 10, transient=20), h[20:])


def test_an_integer_transient_of_a_flow_warns_of_the_new_unit():
    with pytest.warns(FutureWarning, match="transient=100 is read as 100 time units"):
        cl.simulate("Lorenz", 2, transient=100)


def test_substeps_refine_the_step():
    e1 = _osc_error("rk4", 0.2)
    n = 21
    x = cl.simulate(OSC, n, dt=0.2, substeps=4)
    e4 = np.max(np.abs(x[:, 0] - np.cos(np.arange(n) * 0.2)))
    assert e4 < e1 / 100


def test_nonautonomous_double_gyre_against_solve_ivp():
    s = cl.systems.get("DoubleGyre")
    x0 = np.array([[0.3, 0.4], [1.2, 0.7], [1.9, 0.1]])
    x = cl.simulate(s, 201, dt=0.05, x0=x0, t0=1.0)
    for i in range(3):
        ref = solve_ivp(lambda t, y: s.rhs(y, t=t), (1.0, 11.0), x0[i], method="DOP853",
                        t_eval=1.0 + np.arange(201) * 0.05, rtol=1e-12, atol=1e-12).y.T
        np.testing.assert_allclose(x[i], ref, atol=1e-6)


def test_map_iteration():
    s = cl.systems.get("Logistic", r=4.0)
    x = cl.simulate(s, 6, x0=[0.2])
    want = [0.2]
    for _ in range(5):
        want.append(4 * want[-1] * (1 - want[-1]))
    np.testing.assert_allclose(x[:, 0], want, rtol=1e-13)
    with pytest.raises(ValueError, match="map"):
        cl.simulate(s, 10, dt=0.5)


def test_blow_up_is_reported_per_row_and_others_finish():
    s = cl.systems.define("Blowup", ["x"], ["x**2"], x0=[0.5], dt=0.01)
    # x(t) = x0 / (1 - x0 t): rows with x0 = 2 blow up at t = 0.5 (step 50), x0 = -1 is fine
    x0 = np.array([[-1.0], [2.0], [0.1], [2.0]])
    with pytest.warns(DivergenceWarning, match=r"2 of 4 trajectories diverged.*row 1 at step"):
        r = cl.simulate(s, 200, x0=x0, full_output=True)
    assert set(r.diverged) == {1, 3}
    assert 45 <= r.diverged[1] <= 55
    assert np.all(np.isnan(r.x[1, 60:])) and np.all(np.isfinite(r.x[1, :40]))
    t = np.arange(200) * 0.01
    np.testing.assert_allclose(r.x[0, :, 0], -1 / (1 + t), rtol=1e-8)
    with pytest.raises(SimulationDiverged) as info:
        cl.simulate(s, 200, x0=x0, on_diverge="raise")
    assert set(info.value.result.diverged) == {1, 3}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl.simulate(s, 200, x0=x0, on_diverge="ignore")


def test_blow_up_in_dopri5_and_torch():
    s = cl.systems.define("Blowup", ["x"], ["x**2"], x0=[0.5], dt=0.01)
    x0 = np.array([[-1.0], [2.0]])
    r = cl.simulate(s, 100, x0=x0, method="dopri5", on_diverge="ignore", full_output=True)
    assert set(r.diverged) == {1} and np.all(np.isfinite(r.x[0]))
    pytest.importorskip("torch")
    r = cl.simulate(s, 100, x0=x0, backend="torch", on_diverge="ignore", full_output=True)
    assert set(r.diverged) == {1} and bool(r.x[0].isfinite().all())


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_steps=0), "n_steps must be >= 1"),
    (dict(n_steps=10, dt=-0.1), "dt must be positive"),
    (dict(n_steps=10, dt=float("nan")), "dt must be finite"),
    (dict(n_steps=10, x0=[1.0, 2.0]), "x0 must have shape"),
    (dict(n_steps=10, x0=[1.0, np.nan, 2.0]), "non-finite"),
    (dict(n_steps=10, params={"rho": np.nan}), "rho must be finite"),
    (dict(n_steps=10, params={"gamma": 1.0}), "no parameter 'gamma'"),
    (dict(n_steps=10, method="leapfrog"), "method must be one of"),
    (dict(n_steps=10, backend="jax"), "backend must be one of"),
    (dict(n_steps=10, transient=-1), "transient must be >= 0"),
    (dict(n_steps=10, x0=np.ones((3, 3)), params={"rho": [1.0, 2.0]}), "rows"),
])
def test_bad_input_raises_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cl.simulate("Lorenz", **kwargs)


def test_unknown_system_name():
    with pytest.raises(cl.UnknownSystemError, match="unknown system 'Lorenx'"):
        cl.simulate("Lorenx", 10)
