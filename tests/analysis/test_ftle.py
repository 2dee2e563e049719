"""FTLE fields: a linear saddle, the double gyre against an independent scipy reference."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import chaoslab as cl
from chaoslab.analysis import default_grid, ftle_ridges


def test_linear_saddle_ftle_is_its_eigenvalue():
    s = cl.systems.define("Saddle", ["x", "y"], ["a*x", "-b*y"], params={"a": 0.7, "b": 1.3})
    x = np.linspace(-1, 1, 5)
    y = np.linspace(-1, 1, 4)
    np.testing.assert_allclose(cl.ftle_field(s, x, y, 3.0), 0.7, atol=1e-9)
    np.testing.assert_allclose(cl.ftle_field(s, x, y, -3.0), 1.3, atol=1e-8)


def _reference_ftle(system, x, y, T, t0=0.0, delta=1e-5):
    """Flow map by scipy (DOP853, tight tolerances), gradient by central differences."""
    X, Y = np.meshgrid(x, y, indexing="ij")
    base = np.stack([X.ravel(), Y.ravel()], axis=1)
    offsets = np.array([[delta, 0], [-delta, 0], [0, delta], [0, -delta]])
    pts = (base[:, None, :] + offsets[None]).reshape(-1, 2)

    def rhs(t, z):
        return system.rhs(z.reshape(-1, 2), t=t).ravel()
    sol = solve_ivp(rhs, (t0, t0 + T), pts.ravel(), method="DOP853", rtol=1e-11, atol=1e-12)
    end = sol.y[:, -1].reshape(-1, 4, 2)
    dx = (end[:, 0] - end[:, 1]) / (2 * delta)
    dy = (end[:, 2] - end[:, 3]) / (2 * delta)
    F = np.stack([dx, dy], axis=2)  # columns: d/dx, d/dy
    C = np.einsum("nki,nkj->nij", F, F)
    lam = np.linalg.eigvalsh(C)[:, -1]
    return (0.5 * np.log(lam) / abs(T)).reshape(len(x), len(y))


@pytest.mark.parametrize("T, t0", [(10.0, 0.0), (-10.0, 5.0)])
def test_double_gyre_matches_independent_reference(T, t0):
    g = cl.systems.get("DoubleGyre")
    x = np.linspace(0.1, 1.9, 13)
    y = np.linspace(0.1, 0.9, 7)
    ours = cl.ftle_field(g, x, y, T, t0=t0, dt=0.02)
    ref = _reference_ftle(g, x, y, T, t0)
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_slice_of_lorenz_matches_finite_differences():
    s = cl.systems.get("Lorenz")
    x = np.array([-5.0, 2.0, 7.0])
    y = np.array([-3.0, 4.0])
    T = 0.5
    ours = cl.ftle_field(s, x, y, T, plane={"z": 27.0}, dt=0.001)
    d = 1e-6
    for i, xi in enumerate(x):
        for j, yj in enumerate(y):
            cols = []
            for e in ([d, 0, 0], [0, d, 0]):
                ends = [cl.simulate(s, 2, dt=T, substeps=500, x0=np.array([xi, yj, 27.0]) + sgn * np.array(e))[-1]
                        for sgn in (1, -1)]
                cols.append((ends[0] - ends[1]) / (2 * d))
            F = np.stack(cols, axis=1)
            ref = 0.5 * np.log(np.linalg.eigvalsh(F.T @ F)[-1]) / T
            assert ours[i, j] == pytest.approx(ref, abs=1e-4)


def test_ftle_input_errors():
    with pytest.raises(ValueError, match="fix all but two"):
        cl.ftle_field("Lorenz", [0, 1], [0, 1], 1.0)
    with pytest.raises(ValueError, match="no variable 'w'"):
        cl.ftle_field("Lorenz", [0, 1], [0, 1], 1.0, plane={"w": 1.0})
    with pytest.raises(ValueError, match="non-zero"):
        cl.ftle_field("DoubleGyre", [0, 1], [0, 1], 0.0)
    with pytest.raises(ValueError, match="needs a flow"):
        cl.ftle_field("Henon", [0, 1], [0, 1], 1.0)


def test_default_grid_and_ridges():
    x, y = default_grid("DoubleGyre", n=100)
    assert len(x) == 100 and len(y) == 50 and x[-1] == 2.0
    # a synthetic ridge along x = 0.3
    xs = np.linspace(0, 1, 101)
    ys = np.linspace(0, 1, 51)
    f = np.exp(-((xs[:, None] - 0.3) ** 2) / 0.01) + 0 * ys[None, :]
    mask = ftle_ridges(f, xs, ys, quantile=0.8)
    rows = np.nonzero(mask.any(axis=1))[0]
    assert set(xs[rows].round(2)) <= {0.29, 0.3, 0.31}
    assert mask[30].all()


def test_bickley_jet_has_chaotic_mixing_zones_not_just_shear():
    """The catalog's BickleyJet (jet and Rossby waves both towards +x, as in Rypina et al.
    2007 and Hadjighasem et al. 2017) has vortices with chaotic mixing zones around them:
    there the stretching grows linearly in T, so the upper FTLE values hardly fall from
    40 to 80 days and the field is far from uniform. With the jet reversed against its
    waves (dysts' version: u -> -u) only shear is left: the stretching grows like log T,
    every FTLE value falls by nearly half when T doubles, and the field is nearly uniform."""
    day = 86_400.0  # the entry's time unit is the second
    jet = cl.systems.get("BickleyJet")
    (y0, y1), (x0, x1) = jet.domain
    y = np.linspace(y0, y1, 17)
    x = np.linspace(x0, x1, 21, endpoint=False)  # x is periodic

    def upper_decile(s, T_days):
        f = cl.ftle_field(s, y, x, T_days * day) * day  # per day
        assert np.all(np.isfinite(f))
        return np.percentile(f, 90), f

    q40, _ = upper_decile(jet, 40)
    q80, f80 = upper_decile(jet, 80)
    assert q80 / q40 > 0.7  # about 0.8-0.9 (chaos: -> 1); a shear gives about 0.57
    assert 80 * q80 - 40 * q40 > 3.0  # log-stretching gained in 40 days: ~ 40 x 0.1 per day
    assert f80.std() / f80.mean() > 0.4  # vortex cores and jet core low, mixing zones high

    reversed_jet = jet.with_params(u=-jet.values["u"])
    r40, _ = upper_decile(reversed_jet, 40)
    r80, g80 = upper_decile(reversed_jet, 80)
    assert r80 / r40 < 0.65  # ~ log(2T) / (2 log T): shear only
    assert 80 * r80 - 40 * r40 < 1.5  # ~ log 2
    assert g80.std() / g80.mean() < 0.25
