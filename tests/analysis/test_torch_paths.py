"""The torch paths of ftle_field and lyapunov_spectrum (run here on the CPU).

Known answers: analytic exponents of linear systems, the volume (area) contraction that
fixes the sum of the exponents, published spectra of Lorenz and Henon, and the numba path
on the same input (the same method; the two round alike, so they agree to round-off).
"""
import math
import subprocess
import sys

import numpy as np
import pytest

import chaoslab as cl
from chaoslab import DivergenceWarning

torch = pytest.importorskip("torch")

GYRE_X = np.linspace(0.0, 2.0, 41)
GYRE_Y = np.linspace(0.0, 1.0, 21)


# ------------------------------------------------------------------------------ FTLE
@pytest.mark.parametrize("T, t0", [(10.0, 0.0), (-10.0, 5.0)])
def test_double_gyre_ftle_torch_equals_numba(T, t0):
    g = cl.systems.get("DoubleGyre")
    ours = cl.ftle_field(g, GYRE_X, GYRE_Y, T, t0=t0, backend="torch", device="cpu")
    ref = cl.ftle_field(g, GYRE_X, GYRE_Y, T, t0=t0)
    assert ours.shape == (41, 21) and ours.dtype == np.float64
    # the same RK4 on the same variational equation: equal to round-off in float64
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)
    assert np.ptp(ref) > 0.1  # a field with structure, not a constant


def test_linear_saddle_ftle_torch_is_its_eigenvalue():
    s = cl.systems.define("SaddleT", ["x", "y"], ["a*x", "-b*y"], params={"a": 0.7, "b": 1.3})
    x = np.linspace(-1, 1, 5)
    y = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(cl.ftle_field(s, x, y, 3.0, backend="torch"), 0.7, atol=1e-9)
    np.testing.assert_allclose(cl.ftle_field(s, x, y, -3.0, backend="torch"), 1.3, atol=1e-8)


def test_lorenz_slice_ftle_torch_equals_numba():
    s = cl.systems.get("Lorenz")
    x = np.array([-5.0, 2.0, 7.0])
    y = np.array([-3.0, 4.0])
    kw = dict(plane={"z": 27.0}, dt=0.005)
    np.testing.assert_allclose(cl.ftle_field(s, x, y, 0.5, backend="torch", **kw),
                               cl.ftle_field(s, x, y, 0.5, **kw), rtol=1e-10)


def test_float32_ftle_agrees_to_its_precision():
    g = cl.systems.get("DoubleGyre")
    f64 = cl.ftle_field(g, GYRE_X, GYRE_Y, -10.0, t0=5.0, backend="torch", device="cpu")
    f32 = cl.ftle_field(g, GYRE_X, GYRE_Y, -10.0, t0=5.0, backend="torch", device="cpu",
                        dtype="float32")
    assert f32.dtype == np.float64  # returned as float64 numpy, computed in float32
    err = np.abs(f32 - f64)
    # 200 RK4 steps in float32 (eps 1.2e-7), stretching up to e^(0.5 * 10): the FTLE
    # (a log divided by |T| = 10) carries about 1e-5; float64 agrees to 1e-12
    assert err.max() < 1e-4
    assert err.max() > 1e-9  # it really ran in float32
    f32t = cl.ftle_field(g, GYRE_X, GYRE_Y, -10.0, t0=5.0, backend="torch",
                         dtype=torch.float32)
    np.testing.assert_array_equal(f32t, f32)


def test_ftle_torch_divergence_is_nan_with_a_warning():
    s = cl.systems.define("BlowUpT", ["x", "y"], ["x**2", "-y"])
    x = np.linspace(-1.0, 1.0, 9)  # x' = x^2 leaves every bound by t = 1/x for x > 0
    y = np.array([0.0, 0.5])
    with pytest.warns(DivergenceWarning, match="diverged"):
        ours = cl.ftle_field(s, x, y, 3.0, backend="torch", bound=1e6)
    with pytest.warns(DivergenceWarning):
        ref = cl.ftle_field(s, x, y, 3.0, bound=1e6)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    assert np.isnan(ours[x > 0.5]).all() and np.isfinite(ours[x <= 0]).all()
    np.testing.assert_allclose(ours[x <= 0], ref[x <= 0], rtol=1e-10)


def test_ftle_bad_backend_device_dtype():
    g = cl.systems.get("DoubleGyre")
    x, y = GYRE_X[:3], GYRE_Y[:3]
    with pytest.raises(ValueError, match="backend must be one of"):
        cl.ftle_field(g, x, y, 1.0, backend="jax")
    with pytest.raises(ValueError, match="device must be"):
        cl.ftle_field(g, x, y, 1.0, backend="torch", device="tpu")
    with pytest.raises(TypeError, match="device must be"):
        cl.ftle_field(g, x, y, 1.0, backend="torch", device=3.5)
    with pytest.raises(ValueError, match="dtype must be 'float64' or 'float32'"):
        cl.ftle_field(g, x, y, 1.0, backend="torch", dtype="bfloat16")
    with pytest.raises(ValueError, match="need backend='torch'"):
        cl.ftle_field(g, x, y, 1.0, dtype="float32")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA, which is not available"):
            cl.ftle_field(g, x, y, 1.0, backend="torch", device="cuda")


# ------------------------------------------------------------------------ spectra
def test_lorenz_spectrum_torch_equals_numba_on_the_same_input():
    s = cl.systems.get("Lorenz")
    x0 = s.x0 + np.random.default_rng(1).normal(size=(4, 3))
    kw = dict(x0=x0, T=20.0, transient=1.05, return_history=True, n_history=7)
    a = cl.lyapunov_spectrum(s, **kw)
    b = cl.lyapunov_spectrum(s, backend="torch", device="cpu", **kw)
    # the same arithmetic in float64; chaos amplifies a last-bit difference by at most
    # e^(0.9 * 21) ~ 1e8 over this run
    np.testing.assert_allclose(b.exponents, a.exponents, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.history, a.history, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(b.times, a.times)


@pytest.mark.slow
def test_lorenz_spectrum_torch_known_values():
    s = cl.systems.get("Lorenz")
    x0 = s.x0 + np.random.default_rng(0).normal(size=(64, 3))
    lam = cl.lyapunov_spectrum(s, x0=x0, T=100.0, dt=0.02, transient=10.0, backend="torch")
    mean = lam.mean(axis=0)
    ref = np.array([0.9056, 0.0, -14.5723])  # Sprott (2003), Chaos and Time-Series Analysis
    assert mean[0] == pytest.approx(ref[0], rel=0.02)
    assert abs(mean[1]) < 0.02 * ref[0]
    assert mean[2] == pytest.approx(ref[2], rel=0.02)
    # volume contraction: the sum is the Jacobian's trace -(sigma + 1 + beta) = -41/3 at
    # every point; RK4 at dt = 0.02 misses it by O(dt^4)
    np.testing.assert_allclose(lam.sum(axis=1), -41.0 / 3.0, atol=5e-3)


def test_householder_branch_exact_on_a_diagonal_flow():
    # nine exponents: beyond lyapunov_torch.MGS_MAX the torch path re-orthonormalises by
    # torch.linalg.qr (signs fixed). x_i' = c_i x_i: RK4 multiplies x_i by exactly
    # R(c_i h) = 1 + z + z^2/2 + z^3/6 + z^4/24 (z = c_i h) per step, so the exponents
    # are log R(c_i h) / h once the transient has aligned the tangent vectors (e^(-20))
    from chaoslab.analysis.lyapunov_torch import MGS_MAX
    c = 1.0 - 0.5 * np.arange(9)
    names = [f"x{i}" for i in range(9)]
    s = cl.systems.define("Diag9", names, [f"{float(ci)!r}*{v}" for ci, v in zip(c, names)],
                          x0=[1.0] * 9)
    assert s.dim > MGS_MAX
    h = 0.05
    lam = cl.lyapunov_spectrum(s, T=10.0, dt=h, transient=40.0, bound=1e300,
                               backend="torch")
    z = c * h
    exact = np.log(1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24) / h
    np.testing.assert_allclose(lam, exact, atol=1e-8)
    assert np.max(np.abs(exact - c)) < 1e-4  # and close to the flow's own rates


def test_henon_spectrum_torch():
    # 256 starts on the attractor, nudged by 1e-6 so that their orbits part within ~30
    # iterations: the mean's spread over seeds is about 4e-4 (seen on the numba path)
    orbit = cl.simulate("Henon", 4000, transient=100)
    rng = np.random.default_rng(0)
    x0 = orbit[rng.integers(0, len(orbit), 256)] + 1e-6 * rng.normal(size=(256, 2))
    lam = cl.lyapunov_spectrum("Henon", x0=x0, T=2_000, transient=100, backend="torch")
    # Sprott (2003): 0.41922, -1.62319 per iteration
    np.testing.assert_allclose(lam.mean(axis=0), [0.4192, -1.6232], atol=2e-3)
    # area contraction: l1 + l2 = ln|det J| = ln b exactly, row by row
    np.testing.assert_allclose(lam.sum(axis=1), math.log(0.3), atol=1e-9)


def test_linear_systems_torch_exponents_exactly():
    rot = cl.systems.define("RotT", ["x", "y"], ["0.3*x + 2*y", "-2*x + 0.3*y"], x0=[1, 0])
    np.testing.assert_allclose(
        cl.lyapunov_spectrum(rot, T=10, dt=0.01, transient=0, bound=1e300, backend="torch"),
        [0.3, 0.3], atol=1e-9)
    m = cl.systems.define("LinMapT", ["x", "y"], ["0.5*x + 0.3*y", "0.2*y"], kind="map",
                          x0=[1.0, 1.0])
    lam = cl.lyapunov_spectrum(m, T=2000, transient=0, backend="torch")
    np.testing.assert_allclose(lam, [math.log(0.5), math.log(0.2)], atol=2e-3)


def test_parameter_sweep_and_divergence_torch_equal_numba():
    kw = dict(params={"r": [3.9, 4.5, 4.0]}, T=2000, x0=[0.3])
    with pytest.warns(DivergenceWarning, match="1 of 3 rows diverged"):
        b = cl.lyapunov_spectrum("Logistic", backend="torch", **kw)
    with pytest.warns(DivergenceWarning):
        a = cl.lyapunov_spectrum("Logistic", **kw)
    assert np.isnan(b[1, 0]) and np.all(np.isfinite(b[[0, 2], 0]))
    np.testing.assert_allclose(b[[0, 2]], a[[0, 2]], rtol=1e-9)
    assert b[2, 0] == pytest.approx(math.log(2.0), abs=0.02)  # r = 4: exactly ln 2


def test_spectrum_bad_device():
    with pytest.raises(ValueError, match="device must be"):
        cl.lyapunov_spectrum("Henon", T=10, backend="torch", device="tpu")
    with pytest.raises(ValueError, match="needs backend='torch'"):
        cl.lyapunov_spectrum("Henon", T=10, device="cuda")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA, which is not available"):
            cl.lyapunov_spectrum("Henon", T=10, backend="torch", device="cuda:0")


def test_the_numba_paths_do_not_load_torch():
    code = ("import sys, numpy as np, chaoslab as cl; "
            "cl.ftle_field('DoubleGyre', np.linspace(0, 2, 3), np.linspace(0, 1, 2), 0.5); "
            "cl.lyapunov_spectrum('Henon', T=50, transient=0); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
