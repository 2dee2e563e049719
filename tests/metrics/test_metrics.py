"""Metrics against answers worked out by hand."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab import metrics


def test_error_curve_by_hand():
    yt = np.zeros((3, 2))
    yp = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 2.0]])
    e = metrics.error_curve(yt, yp, scale=[1.0, 2.0])
    np.testing.assert_allclose(e, [0.0, math.sqrt(0.5), math.sqrt((4 + 1) / 2)])
    yp[2, 0] = np.nan
    assert metrics.error_curve(yt, yp, scale=[1.0, 1.0])[2] == np.inf
    with pytest.raises(ValueError, match="differ in shape"):
        metrics.error_curve(yt, yp[:2])
    with pytest.raises(ValueError, match="scale must be positive"):
        metrics.error_curve(yt, yp, scale=[0.0, 1.0])


def test_vpt_of_exponential_error_growth():
    """An error eps e^(lambda t) crosses 0.4 at t = ln(0.4/eps)/lambda: in Lyapunov times,
    ln(0.4/eps) exactly (to one sample)."""
    lam, dt, eps = 0.9, 0.001, 1e-6
    t = np.arange(1, 30_001) * dt
    yt = np.zeros((len(t), 1))
    yp = eps * np.exp(lam * t)[:, None]
    vpt = metrics.valid_prediction_time(yt, yp, dt, lam, scale=[1.0])
    assert vpt == pytest.approx(math.log(0.4 / eps), abs=lam * dt)
    # in time units without an exponent
    assert metrics.valid_prediction_time(yt, yp, dt, scale=[1.0]) == pytest.approx(
        math.log(0.4 / eps) / lam, abs=dt)
    # never crossing: the full horizon; crossing at once: 0
    assert metrics.valid_prediction_time(yt, yt, dt, scale=[1.0]) == pytest.approx(len(t) * dt)
    assert metrics.valid_prediction_time(yt, yt + 1, dt, scale=[1.0]) == 0.0
    with pytest.raises(ValueError, match="lyapunov_exponent must be positive"):
        metrics.valid_prediction_time(yt, yp, dt, -1.0, scale=[1.0])


def test_smape_by_hand():
    yt = np.array([[1.0, 2.0], [1.0, -1.0]])
    yp = np.array([[1.0, 4.0], [3.0, 1.0]])
    # row 0: (0 + 2/6) / 2 * 200 = 33.33; row 1: (2/4 + 2/2) / 2 * 200 = 150
    np.testing.assert_allclose(metrics.smape_curve(yt, yp), [100 / 3, 150.0])
    assert metrics.smape(yt, yp) == pytest.approx((100 / 3 + 150) / 2)
    # sMAPE-30 VPT: first row over 30 is row 0
    assert metrics.valid_prediction_time(yt, yp, 1.0, method="smape") == 0.0


def test_state_space_divergence():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(200_000, 2))
    b = rng.normal(size=(200_000, 2))
    assert metrics.state_space_divergence(a, a) == pytest.approx(0.0, abs=1e-9)
    same = metrics.state_space_divergence(a, b)
    shifted = metrics.state_space_divergence(a, b + [1.0, 0.0])
    assert same < 0.05 < shifted
    # KL of N(0,1) from N(1,1) is 1/2 nat per shifted coordinate; binning gets close
    assert shifted == pytest.approx(0.5, rel=0.15)
    bad = b.copy()
    bad[3] = np.inf
    assert metrics.state_space_divergence(a, bad) == math.inf


def test_power_spectrum_distance():
    t = np.arange(20_000) * 0.01
    x = np.sin(2 * np.pi * 1.0 * t)[:, None]
    y = np.sin(2 * np.pi * 1.0 * t + 1.0)[:, None]      # same spectrum, other phase
    z = np.sin(2 * np.pi * 7.0 * t)[:, None]            # disjoint spectrum
    assert metrics.power_spectrum_distance(x, y) < 0.01
    assert metrics.power_spectrum_distance(x, z) > 0.99
    assert metrics.power_spectrum_distance(x, z * np.nan) == 1.0


def test_forecast_divergence_lorenz():
    r = cl.metrics.forecast_divergence("Lorenz", ["persistence", "ngrc"], n_starts=8,
                                       n_train=5000, horizon=12, n_free=3000)
    assert r.lyapunov_exponent == pytest.approx(0.906, rel=0.01)
    assert r.t[0] == pytest.approx(0.01 * r.lyapunov_exponent)
    assert r.t[-1] == pytest.approx(12, rel=0.01)
    p, n = r["persistence"], r["ngrc"]
    assert p.curves.shape == (8, len(r.t)) and p.vpt.shape == (8,)
    assert p.vpt_median < 0.3 < 5 < n.vpt_median
    # the NG-RC's free run visits the attractor; persistence sits at one point
    assert n.d_stsp < 1.5 < p.d_stsp and n.d_h < 0.1 < p.d_h
    assert "ngrc" in r.table() and r.summary()[1]["learner"] == "ngrc"


def test_forecast_divergence_labels():
    """A dict labels two settings of one learner; the same name twice in a list is an
    error that says how to do it."""
    r = cl.metrics.forecast_divergence("Lorenz", {"ar1": ("linear_ar", {"order": 1}),
                                                  "ar3": ("linear_ar", {"order": 3})},
                                       n_starts=3, n_train=2000, horizon=2, statistics=False)
    assert [row["learner"] for row in r.summary()] == ["ar1", "ar3"]
    with pytest.raises(ValueError, match="'persistence' is given twice"):
        cl.metrics.forecast_divergence("Lorenz", ["persistence", "persistence"])


@pytest.mark.parametrize("name, dt", [("Lorenz", 0.01), ("Halvorsen", 0.01),
                                      ("Thomas", 0.02), ("Rossler", 0.05), ("Henon", 1.0)])
def test_default_dt(name, dt):
    """min(1/(100 lambda), period/100) to one digit: Rossler (lambda 0.071, period 5.9) is
    bound by its period, the others by their exponent; maps step by 1."""
    from chaoslab.metrics.divergence import default_dt
    assert default_dt(cl.systems.get(name)) == pytest.approx(dt)


def test_forecast_divergence_rejects_non_chaotic():
    s = cl.systems.get("Lorenz").with_params(rho=10.0)      # a stable fixed point
    with pytest.raises(ValueError, match="not chaotic"):
        cl.metrics.forecast_divergence(s, ["persistence"], n_train=500)
