"""Lyapunov spectra against analytic and published values."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab import DivergenceWarning


def test_linear_flow_exponents_are_its_eigenvalues_real_parts():
    # a non-normal matrix: finite-time estimates carry an O(log(cond) / T) bias
    s = cl.systems.define("Lin", ["x", "y", "z"], ["0.05*x + 3*y", "-0.2*y + z", "-z"],
                          x0=[1.0, 1.0, 1.0], dt=0.02)
    lam = cl.lyapunov_spectrum(s, T=4000, transient=0, bound=1e300)
    np.testing.assert_allclose(lam, [0.05, -0.2, -1.0], atol=3e-3)
    rot = cl.systems.define("Rot", ["x", "y"], ["0.3*x + 2*y", "-2*x + 0.3*y"], x0=[1, 0])
    np.testing.assert_allclose(cl.lyapunov_spectrum(rot, T=50, transient=0, bound=1e300),
                               [0.3, 0.3], atol=1e-9)


def test_linear_map_exponents_exactly():
    m = cl.systems.define("LinMap", ["x", "y"], ["0.5*x + 0.3*y", "0.2*y"], kind="map",
                          x0=[1.0, 1.0])
    lam = cl.lyapunov_spectrum(m, T=2000, transient=0)
    np.testing.assert_allclose(lam, [math.log(0.5), math.log(0.2)], atol=2e-3)


def test_henon_largest_exponent():
    lam = cl.lyapunov_spectrum("Henon")
    assert lam[0] == pytest.approx(0.4192, abs=0.002)
    # area contraction: l1 + l2 = ln|det J| = ln b exactly
    assert lam.sum() == pytest.approx(math.log(0.3), abs=1e-9)


def test_zaslavskii_periodic_at_catalog_parameters_chaotic_with_stronger_kicks():
    """det J = exp(-r) everywhere, so l1 + l2 = -r exactly; at the catalog's (dysts')
    parameters the orbit is periodic (both -r/2, a complex pair), at eps 7.5 it is chaotic,
    as the catalog's note says."""
    lam = cl.lyapunov_spectrum("Zaslavskii")
    np.testing.assert_allclose(lam, [-1.0, -1.0], atol=1e-4)
    strong = cl.lyapunov_spectrum("Zaslavskii", params={"eps": 7.5})
    assert strong.sum() == pytest.approx(-2.0, abs=1e-9)
    assert strong[0] == pytest.approx(0.77, abs=0.05)
    assert "periodic orbit" in cl.systems.get("Zaslavskii").notes


def test_logistic_at_r4_is_ln2():
    assert cl.lyapunov_spectrum("Logistic", params={"r": 4.0})[0] == pytest.approx(
        math.log(2), abs=2e-3)


def test_lorenz_spectrum_within_half_a_percent():
    lam = cl.lyapunov_spectrum("Lorenz")
    assert lam[0] == pytest.approx(0.9056, rel=5e-3)
    assert abs(lam[1]) < 5e-3
    assert lam[2] == pytest.approx(-14.5723, rel=5e-3)
    # the sum is the (constant) trace of the Jacobian: -(sigma + 1 + beta)
    assert lam.sum() == pytest.approx(-(10 + 1 + 8 / 3), rel=1e-4)
    assert cl.kaplan_yorke_dimension(lam) == pytest.approx(2.062, abs=0.005)


def test_rossler_largest_exponent():
    assert cl.lyapunov_spectrum("Rossler", n_exponents=1)[0] == pytest.approx(0.0714, rel=0.03)


def test_exponent_versus_parameter_is_one_batched_call():
    r = np.array([2.9, 3.2, 3.5, 4.0])
    lam = cl.lyapunov_spectrum("Logistic", params={"r": r}, T=200_000)
    assert lam.shape == (4, 1)
    # fixed point x* = 1 - 1/r: lambda = ln|2 - r|; period 2 at r = 3.2: 0.5 ln|4 + 2r - r^2|
    assert lam[0, 0] == pytest.approx(math.log(abs(2 - 2.9)), abs=1e-3)
    assert lam[1, 0] == pytest.approx(0.5 * math.log(4 + 2 * 3.2 - 3.2 ** 2), abs=1e-3)
    assert lam[2, 0] < 0
    assert lam[3, 0] == pytest.approx(math.log(2), abs=3e-3)


def test_diverging_rows_give_nan_with_a_warning():
    with pytest.warns(DivergenceWarning, match="1 of 3 rows diverged"):
        lam = cl.lyapunov_spectrum("Logistic", params={"r": [3.9, 4.5, 4.0]}, T=10_000,
                                   x0=[0.3])
    assert np.isnan(lam[1, 0]) and np.all(np.isfinite(lam[[0, 2], 0]))


def test_history_converges_to_the_result():
    r = cl.lyapunov_spectrum("Lorenz", T=500, return_history=True, n_history=50)
    assert r.history.shape == (50, 3) and r.times.shape == (50,)
    np.testing.assert_allclose(r.history[-1], r.exponents, rtol=2e-2)


def test_first_k_exponents_and_bad_input():
    assert cl.lyapunov_spectrum("Lorenz", 1, T=200).shape == (1,)
    with pytest.raises(ValueError, match="has 3 exponents"):
        cl.lyapunov_spectrum("Lorenz", 4)
    with pytest.raises(ValueError, match="T must be positive"):
        cl.lyapunov_spectrum("Lorenz", T=-1)
    with pytest.raises(ValueError, match="backend"):
        cl.lyapunov_spectrum("Lorenz", T=1, backend="jax")


def test_torch_backend_agrees_with_numba():
    pytest.importorskip("torch")
    x0 = np.array([[0.1, 0.2], [0.3, 0.1]])
    a = cl.lyapunov_spectrum("Henon", T=3000, x0=x0, transient=100)
    b = cl.lyapunov_spectrum("Henon", T=3000, x0=x0, transient=100, backend="torch")
    np.testing.assert_allclose(a, b, rtol=1e-9)


def test_kaplan_yorke_dimension():
    assert cl.kaplan_yorke_dimension([1.0, 0.0, -2.0]) == pytest.approx(2.5)
    assert cl.kaplan_yorke_dimension([-1.0, -2.0]) == 0.0
    assert cl.kaplan_yorke_dimension([0.42, -1.62]) == pytest.approx(1 + 0.42 / 1.62)


def test_a_run_too_short_to_measure_is_an_error_not_nan():
    with pytest.raises(ValueError, match=r"T must cover at least one re-orthonormalisation"):
        cl.lyapunov_spectrum("Lorenz", T=0.001)
    with pytest.raises(ValueError, match="renorm"):
        cl.lyapunov_spectrum("Henon", T=3, renorm=5)
    # one interval is enough to give a number
    assert np.all(np.isfinite(cl.lyapunov_spectrum("Lorenz", T=0.1, transient=1.0)))
