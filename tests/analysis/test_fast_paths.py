"""The SIMD paths of the Lyapunov and FTLE kernels against known answers and against the
one-trajectory-at-a-time kernels they replace."""
import math
import warnings

import numpy as np
import pytest

import chaoslab as cl
import chaoslab.analysis.lyapunov as ly
from chaoslab import DivergenceWarning

GOLDEN = math.log((3 + math.sqrt(5)) / 2)  # log of the eigenvalues of [[2, 1], [1, 1]]


def _both(*args, **kw):
    """The same call on the lane kernels and on the per-trajectory kernel."""
    old = ly.MAP_LANES
    try:
        ly.MAP_LANES = True
        new = cl.lyapunov_spectrum(*args, **kw)
        ly.MAP_LANES = False
        ref = cl.lyapunov_spectrum(*args, **kw)
    finally:
        ly.MAP_LANES = old
    return new, ref


def test_map_lane_kernels_are_printed():
    from chaoslab.integrate import numba_backend as nb

    mod = nb.kernels(cl.systems.get("Henon"))
    assert hasattr(mod, "maplyap_1") and hasattr(mod, "maplyap_2")
    assert hasattr(nb.kernels(cl.systems.get("DoubleGyre")), "tangent2u")


def test_logistic_sweep_matches_per_trajectory_kernel():
    # same operations; only the logarithms are summed differently (one log of a product
    # against a sum of logs), which differs by rounding
    r = np.linspace(2.5, 4.0, 600)
    new, ref = _both("Logistic", params={"r": r}, T=3000, transient=300)
    assert new.shape == ref.shape == (600, 1)
    assert np.array_equal(np.isnan(new), np.isnan(ref))
    np.testing.assert_allclose(new, ref, rtol=1e-12, atol=1e-14)


def test_logistic_at_r4_is_ln2():
    lam = cl.lyapunov_spectrum("Logistic", params={"r": [4.0, 4.0]}, x0=[[0.3], [0.7]],
                               T=200_000, transient=100)
    np.testing.assert_allclose(lam[:, 0], math.log(2), atol=3e-3)


def test_henon_spectrum_and_determinant_identity():
    lam = cl.lyapunov_spectrum("Henon", T=400_000)
    np.testing.assert_allclose(lam, [0.419, -1.623], atol=3e-3)
    # the exponents sum to log |det J| = log b exactly (every iteration contracts areas by b)
    assert abs(lam.sum() - math.log(0.3)) < 1e-9


def test_henon_batch_history_and_renorm_match_per_trajectory_kernel():
    a = np.linspace(1.2, 1.4, 64)
    for renorm in (1, 3):
        new, ref = _both("Henon", params={"a": a}, T=4000, transient=200, renorm=renorm,
                         return_history=True, n_history=20)
        np.testing.assert_allclose(new.exponents, ref.exponents, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(new.history, ref.history, rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(new.times, ref.times)
    new, ref = _both("Henon", n_exponents=1, T=20_000)
    np.testing.assert_allclose(new, ref, rtol=1e-12)


@pytest.mark.parametrize("c", [1e-120, 1e-3, 1.0, 1e100, 1e150])
def test_linear_map_exponents_exact_at_any_scale(c):
    # x -> c A x from the fixed point 0: the tangent map is c A at every step, so the
    # exponents are log c +- log((3 + sqrt 5) / 2); for the extreme c the products of the
    # stretching factors leave the double range within a few steps (the lane kernel keeps
    # them by exact power-of-two rescaling)
    s = cl.systems.define("ScaledCat", ["x", "y"], ["c*(2*x + y)", "c*(x + y)"],
                          params={"c": c}, x0=[0.0, 0.0], kind="map")
    # a batch of one: no nearby starts for the cores (they would leave the fixed point)
    new, ref = _both(s, x0=[[0.0, 0.0]], T=2000, transient=100)
    new, ref = new[0], ref[0]
    exact = [math.log(c) + GOLDEN, math.log(c) - GOLDEN]
    np.testing.assert_allclose(new, exact, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(new, ref, rtol=1e-12, atol=1e-12)


def test_map_divergence_reported_like_per_trajectory_kernel():
    # r = 4.5 sends the logistic map out of [0, 1] and off to -infinity
    r = np.array([3.9, 4.5, 3.7, 4.2])
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        old = ly.MAP_LANES
        try:
            ly.MAP_LANES = True
            new = cl.lyapunov_spectrum("Logistic", params={"r": r}, T=1000, transient=10,
                                       return_history=True)
            ly.MAP_LANES = False
            ref = cl.lyapunov_spectrum("Logistic", params={"r": r}, T=1000, transient=10,
                                       return_history=True)
        finally:
            ly.MAP_LANES = old
    assert sum(issubclass(w.category, DivergenceWarning) for w in rec) == 2
    assert new.diverged == ref.diverged and set(new.diverged) == {1, 3}
    assert np.array_equal(np.isnan(new.exponents), np.isnan(ref.exponents))
    np.testing.assert_allclose(new.exponents[[0, 2]], ref.exponents[[0, 2]], rtol=1e-12)


def _dg_reference(xs, ys, T, delta=1e-7):
    """FTLE of the double gyre at points by scipy's DOP853 (tolerance 1e-12) and central
    differences: independent of chaoslab's kernels."""
    from scipy.integrate import solve_ivp

    g = cl.systems.get("DoubleGyre")
    base = np.stack([xs, ys], axis=1)
    offs = np.array([[delta, 0], [-delta, 0], [0, delta], [0, -delta]])
    pts = (base[:, None, :] + offs[None]).reshape(-1, 2)
    sol = solve_ivp(lambda t, z: g.rhs(z.reshape(-1, 2), t=t).ravel(), (0.0, T), pts.ravel(),
                    method="DOP853", rtol=1e-12, atol=1e-13)
    end = sol.y[:, -1].reshape(-1, 4, 2)
    F = np.stack([(end[:, 0] - end[:, 1]), (end[:, 2] - end[:, 3])], axis=2) / (2 * delta)
    lam = np.linalg.eigvalsh(np.einsum("nki,nkj->nij", F, F))[:, -1]
    return 0.5 * np.log(lam) / abs(T)


def test_ftle_uniform_kernel_matches_per_lane_kernel_and_reference():
    x = np.linspace(0, 2, 61)
    y = np.linspace(0, 1, 23)
    old = ly.TANGENT2_UNIFORM
    try:
        ly.TANGENT2_UNIFORM = True
        new = cl.ftle_field("DoubleGyre", x, y, 10.0, dt=0.1)
        back = cl.ftle_field("DoubleGyre", x, y, -10.0, t0=10.0, dt=0.1)
        ly.TANGENT2_UNIFORM = False
        ref = cl.ftle_field("DoubleGyre", x, y, 10.0, dt=0.1)
        ref_back = cl.ftle_field("DoubleGyre", x, y, -10.0, t0=10.0, dt=0.1)
    finally:
        ly.TANGENT2_UNIFORM = old
    # the same RK4; multiply-adds are fused in the new kernel (one rounding instead of two)
    np.testing.assert_allclose(new, ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back, ref_back, rtol=0, atol=1e-9)
    rng = np.random.default_rng(3)
    I, J = rng.integers(0, len(x), 6), rng.integers(0, len(y), 6)
    np.testing.assert_allclose(new[I, J], _dg_reference(x[I], y[J], 10.0), atol=1e-4)


def test_ftle_uniform_kernel_on_a_slice_of_lorenz():
    x = np.linspace(-15, 15, 9)
    y = np.linspace(-20, 20, 7)
    old = ly.TANGENT2_UNIFORM
    try:
        ly.TANGENT2_UNIFORM = True
        new = cl.ftle_field("Lorenz", x, y, 0.5, plane={"z": 27.0})
        ly.TANGENT2_UNIFORM = False
        ref = cl.ftle_field("Lorenz", x, y, 0.5, plane={"z": 27.0})
    finally:
        ly.TANGENT2_UNIFORM = old
    np.testing.assert_allclose(new, ref, rtol=1e-10, atol=1e-10)


def test_ftle_per_point_parameters_take_the_per_lane_kernel():
    # parameters that differ between grid points cannot be shared by a block: the field
    # must equal the two uniform fields point by point
    x = np.linspace(0, 2, 11)
    y = np.linspace(0, 1, 6)
    even = (np.arange(66) % 2 == 0)
    mixed = cl.ftle_field("DoubleGyre", x, y, 10.0, dt=0.1,
                          params={"eps": np.where(even, 0.25, 0.1)})
    a = cl.ftle_field("DoubleGyre", x, y, 10.0, dt=0.1)
    b = cl.ftle_field("DoubleGyre", x, y, 10.0, dt=0.1, params={"eps": 0.1})
    assert np.ptp(a - b) > 1e-3  # the two parameter values give different fields
    np.testing.assert_allclose(mixed, np.where(even.reshape(11, 6), a, b), rtol=0, atol=1e-9)
