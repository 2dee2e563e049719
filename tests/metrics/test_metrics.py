"""Metrics against answers worked out by hand."""
import math

import numpy as np
import pytest

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


def test_metrics_is_a_leaf_and_says_where_experiments_went():
    """forecast_divergence trains learners on systems: it left this leaf."""
    assert "forecast_divergence" not in metrics.__all__
    with pytest.raises(AttributeError, match="moved to chaoslab.experiments"):
        metrics.forecast_divergence
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        metrics.nope
