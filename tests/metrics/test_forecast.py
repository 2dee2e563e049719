"""Forecast metrics: answers worked out by hand, and each published definition against an
independent loop-by-loop implementation of its formula written here."""
import math

import numpy as np
import pytest

from chaoslab import metrics

# --------------------------------------------------------------- reference implementations
# Straight from the published formulas, one row and one variable at a time.


def ref_nrmse_vpt(yt, yp, scale, threshold):
    """Vlachas et al. 2020: first row with sqrt(mean_i ((yp_i - yt_i)/sigma_i)^2) over the
    threshold; a non-finite row is invalid."""
    for k in range(len(yt)):
        acc = 0.0
        for i in range(yt.shape[1]):
            acc += ((yp[k][i] - yt[k][i]) / scale[i]) ** 2
        e = math.sqrt(acc / yt.shape[1]) if math.isfinite(acc) else math.inf
        if not e <= threshold:
            return k
    return len(yt)


def ref_smape_row(t_row, p_row):
    total = 0.0
    for a, b in zip(t_row, p_row):
        den = abs(a) + abs(b)
        total += abs(b - a) / den if den > 0 else 0.0
    return 200.0 * total / len(t_row)


def ref_smape_vpt(yt, yp, threshold):
    for k in range(len(yt)):
        if not all(math.isfinite(v) for v in yp[k]):
            return k
        if ref_smape_row(yt[k], yp[k]) > threshold:
            return k
    return len(yt)


def ref_cumulative_smape_vpt(yt, yp, threshold):
    """Gilpin's benchmark code: the first t at which the sMAPE of rows 0..t exceeds the
    threshold (the sMAPE of a prefix: the mean over all its entries)."""
    for k in range(len(yt)):
        if not all(math.isfinite(v) for v in yp[k]):
            return k
        total, count = 0.0, 0
        for s in range(k + 1):
            for a, b in zip(yt[s], yp[s]):
                den = abs(a) + abs(b)
                total += abs(b - a) / den if den > 0 else 0.0
                count += 1
        if 200.0 * total / count > threshold:
            return k
    return len(yt)


def ref_total_variance(yt):
    v = 0.0
    for i in range(yt.shape[1]):
        col = [row[i] for row in yt]
        m = sum(col) / len(col)
        v += sum((c - m) ** 2 for c in col) / len(col)
    return v


def ref_nrmse(yt, yp, total_variance):
    """Gauthier et al. 2021: sqrt(mean over rows and variables of the squared error /
    total variance)."""
    acc, count = 0.0, 0
    for k in range(len(yt)):
        for i in range(yt.shape[1]):
            acc += (yp[k][i] - yt[k][i]) ** 2
            count += 1
    return math.sqrt(acc / count / total_variance)


def forecasts(seed=0, batch=6, n=300, dim=3):
    """Truth: smooth oscillations away from 0; forecasts: the truth plus an error that
    grows at a different rate in each trajectory, so every definition crosses somewhere
    inside the horizon."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.05
    yt = np.stack([np.stack([np.sin(t * (1 + 0.3 * i) + b) * 3 + 1.5 * np.cos(0.7 * t + i)
                             for i in range(dim)], axis=1) for b in range(batch)])
    rate = rng.uniform(0.02, 0.08, size=(batch, 1, 1))
    yp = yt + 1e-3 * np.exp(rate * np.arange(n)[None, :, None]) \
        * rng.normal(size=(batch, n, dim))
    return yt, yp


# --------------------------------------------------------------------- hand-worked answers


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
    np.testing.assert_allclose(metrics.smape_curve(yt, yp, cumulative=True),
                               [100 / 3, (100 / 3 + 150) / 2])
    assert metrics.smape(yt, yp) == pytest.approx((100 / 3 + 150) / 2)
    # both zero: identical, 0
    assert metrics.smape_curve(np.zeros((1, 2)), np.zeros((1, 2)))[0] == 0.0
    # sMAPE-30 VPT: the first row is over 30 already
    assert metrics.valid_prediction_time(yt, yp, 1.0, method="smape") == 0.0
    assert metrics.valid_prediction_time(yt, yp, 1.0, method="cumulative_smape") == 0.0


def test_cumulative_smape_vpt_by_hand():
    """Pointwise sMAPE 0, 0, 40, 40, 40, ...: pointwise the forecast fails at row 2;
    the running mean is 0, 0, 13.3, 20, 24, 26.7, 28.6, 30, 31.1: it first exceeds 30 at
    row 8 (row 7 equals 30, not over)."""
    n = 12
    yt = np.ones((n, 1))
    # |p - 1| / (p + 1) = 0.2  ->  p = 1.5: sMAPE 40
    yp = np.where(np.arange(n)[:, None] >= 2, 1.5, 1.0)
    np.testing.assert_allclose(metrics.smape_curve(yt, yp)[:4], [0, 0, 40, 40])
    assert metrics.valid_prediction_steps(yt, yp, method="smape") == 2
    assert metrics.valid_prediction_steps(yt, yp, method="cumulative_smape") == 8
    assert metrics.valid_prediction_time(yt, yp, 0.5, 2.0, method="cumulative_smape") \
        == pytest.approx(8 * 0.5 * 2.0)


# --------------------------------------------------------------- forecasts that blew up


@pytest.mark.parametrize("method", ["nrmse", "smape", "cumulative_smape"])
def test_nan_from_step_3_is_valid_for_exactly_3_steps(method):
    """The bug of issue 13: a forecast that is NaN from row 3 was scored sMAPE 0 and a
    full-horizon VPT. In every definition it is valid for exactly 3 rows, also when a
    later row is finite (and right) again, and each trajectory of a batch on its own."""
    yt, _ = forecasts(batch=3, n=200)
    yp = yt.copy()
    yp[0, 3:] = np.nan
    yp[1, 3] = np.inf                    # one bad row, then exact again
    yp[2, 3:, 1] = np.nan                # one variable lost
    dt = 0.01
    steps = metrics.valid_prediction_steps(yt, yp, method=method)
    np.testing.assert_array_equal(steps, [3, 3, 3])
    np.testing.assert_array_equal(
        metrics.valid_prediction_time(yt, yp, dt, method=method), [3 * dt] * 3)
    assert metrics.valid_prediction_time(yt[0], yp[0], dt, 0.9, method=method) \
        == pytest.approx(3 * dt * 0.9)
    # the same forecast without the NaNs is valid throughout
    np.testing.assert_array_equal(metrics.valid_prediction_steps(yt, yt, method=method),
                                  [200] * 3)


def test_failed_rows_are_worst_in_every_metric():
    yt, _ = forecasts(batch=2, n=50)
    yp = yt.copy()
    yp[0, 3:] = np.nan
    yp[0, 10:] = yt[0, 10:]              # finite and exact again
    e = metrics.error_curve(yt, yp)
    assert np.all(e[0, :3] == 0) and np.all(e[0, 3:] == np.inf) and np.all(e[1] == 0)
    s = metrics.smape_curve(yt, yp)
    assert np.all(s[0, :3] == 0) and np.all(s[0, 3:] == 200) and np.all(s[1] == 0)
    np.testing.assert_allclose(metrics.smape(yt, yp), [200 * 47 / 50, 0.0])
    np.testing.assert_array_equal(metrics.nrmse(yt, yp), [np.inf, 0.0])
    # a window that ends before the failure is not affected
    assert metrics.nrmse(yt[0, :3], yp[0, :3]) == 0.0
    np.testing.assert_array_equal(metrics.failed_steps(yp)[0], np.arange(50) >= 3)
    # the older curve form counts the same
    assert metrics.valid_prediction_steps(e[0], 0.4) == 3


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_broken_truth_is_an_error_not_a_perfect_score(bad):
    yt, yp = forecasts(batch=1, n=20)
    yt = yt.copy()
    yt[0, 5, 0] = bad
    for call in (lambda: metrics.error_curve(yt, yp), lambda: metrics.smape(yt, yp),
                 lambda: metrics.nrmse(yt, yp),
                 lambda: metrics.valid_prediction_time(yt, yp, 0.1, method="smape"),
                 lambda: metrics.smape_at(yt, yp, 0.1, 1.0, horizons=(1,))):
        with pytest.raises(ValueError, match="y_true holds a non-finite value"):
            call()
    with pytest.raises(ValueError, match="y_true holds a non-finite value"):
        metrics.valid_prediction_time(np.full((5, 2), np.nan), np.zeros((5, 2)), 0.1,
                                      method="cumulative_smape")


# ------------------------------------------------------ against the reference implementations


@pytest.mark.parametrize("seed", [0, 1])
def test_three_vpt_definitions_match_their_reference(seed):
    yt, yp = forecasts(seed)
    yp[4, 150:] = np.nan
    scale = yt.reshape(-1, 3).std(axis=0)
    for thr_n, thr_s in [(0.4, 30.0), (0.5, 10.0)]:
        want = [ref_nrmse_vpt(a, b, scale, thr_n) for a, b in zip(yt, yp)]
        got = metrics.valid_prediction_steps(yt, yp, method="nrmse", threshold=thr_n,
                                             scale=scale)
        np.testing.assert_array_equal(got, want)
        want = [ref_smape_vpt(a, b, thr_s) for a, b in zip(yt, yp)]
        np.testing.assert_array_equal(
            metrics.valid_prediction_steps(yt, yp, method="smape", threshold=thr_s), want)
        want_c = [ref_cumulative_smape_vpt(a, b, thr_s) for a, b in zip(yt, yp)]
        np.testing.assert_array_equal(
            metrics.valid_prediction_steps(yt, yp, method="cumulative_smape",
                                           threshold=thr_s), want_c)
        # the definitions differ on these forecasts (else the test could not tell them apart)
        assert want != want_c
    # the running mean lags the pointwise error: never earlier
    assert np.all(metrics.valid_prediction_steps(yt, yp, method="cumulative_smape")
                  >= metrics.valid_prediction_steps(yt, yp, method="smape"))


def test_cumulative_smape_is_what_dysts_computes():
    """The peer library on the same input: dysts' smape of each prefix (0-200 scale)."""
    dm = pytest.importorskip("dysts.metrics")
    yt, yp = forecasts(2, batch=2, n=120)
    for a, b in zip(yt, yp):
        theirs = np.array([dm.smape(a[:k + 1], b[:k + 1], scaled=False)
                           for k in range(len(a))])
        np.testing.assert_allclose(metrics.smape_curve(a, b, cumulative=True), theirs,
                                   rtol=1e-8)
        over = np.flatnonzero(theirs > 30)
        assert metrics.valid_prediction_steps(a, b, method="cumulative_smape") == \
            (over[0] if len(over) else len(a))


def test_nrmse_matches_the_reference_and_known_answers():
    yt, yp = forecasts(3, batch=2, n=80)
    for a, b in zip(yt, yp):
        v = ref_total_variance(a)
        assert metrics.nrmse(a, b) == pytest.approx(ref_nrmse(a, b, v), rel=1e-12)
        assert metrics.nrmse(a, b, total_variance=7.0) == pytest.approx(
            ref_nrmse(a, b, 7.0), rel=1e-12)
    # a batch: one total variance over all its rows, one value per trajectory
    v = ref_total_variance(yt.reshape(-1, 3))
    np.testing.assert_allclose(metrics.nrmse(yt, yp),
                               [ref_nrmse(a, b, v) for a, b in zip(yt, yp)], rtol=1e-12)
    # an error of one standard deviation in every variable of a d-variable state with
    # equal variances: NRMSE = 1/sqrt(d)
    t = np.linspace(0, 20 * np.pi, 4001)[:-1]
    y = np.stack([np.sin(t), np.cos(t), np.sin(t + 1)], axis=1)
    sd = y.std(axis=0)
    assert metrics.nrmse(y, y + sd) == pytest.approx(1 / math.sqrt(3), rel=1e-9)
    assert metrics.nrmse(y, y) == 0.0
    # scaling truth and forecast together leaves it unchanged
    assert metrics.nrmse(5 * y, 5 * (y + 0.3)) == pytest.approx(metrics.nrmse(y, y + 0.3))
    with pytest.raises(ValueError, match="total_variance must be positive"):
        metrics.nrmse(y, y, total_variance=0.0)
    with pytest.raises(ValueError, match="constant"):
        metrics.nrmse(np.ones((5, 2)), np.ones((5, 2)))


def test_smape_at_matches_the_reference():
    dt, lam = 0.01, 0.9
    yt, yp = forecasts(4, batch=3, n=1200)
    got = metrics.smape_at(yt, yp, dt, lam)
    assert got.shape == (3, 3)
    for b in range(3):
        for j, h in enumerate((1, 4, 10)):
            rows = [k for k in range(1200) if (k + 1) * dt <= h / lam + 1e-12]
            want = sum(ref_smape_row(yt[b, k], yp[b, k]) for k in rows) / len(rows)
            assert got[b, j] == pytest.approx(want, rel=1e-12)
    # rows within 1 Lyapunov time at lam dt = 0.009: floor(111.1) = 111
    one = metrics.smape_at(yt[0], yp[0], dt, lam, horizons=(1,))
    assert one[0] == pytest.approx(metrics.smape(yt[0, :111], yp[0, :111]))
    # exactly on a row: 1 Lyapunov time at lam dt = 0.01 is 100 rows
    assert metrics.smape_at(yt[0], yp[0], 0.01, 1.0, horizons=(1,))[0] == pytest.approx(
        metrics.smape(yt[0, :100], yp[0, :100]))
    assert np.all(metrics.smape_at(yt, yt, dt, lam) == 0)
    with pytest.raises(ValueError, match="needs 1111 rows, the forecast has 1000"):
        metrics.smape_at(yt[:, :1000], yp[:, :1000], dt, lam)
    with pytest.raises(ValueError, match="shorter than one row"):
        metrics.smape_at(yt, yp, dt, lam, horizons=(0.001,))
    with pytest.raises(ValueError, match="horizons must be positive"):
        metrics.smape_at(yt, yp, dt, lam, horizons=(-1,))


def test_valid_prediction_steps_arguments():
    yt, yp = forecasts(batch=1, n=10)
    with pytest.raises(ValueError, match="method must be one of"):
        metrics.valid_prediction_steps(yt, yp, method="mse")
    with pytest.raises(ValueError, match="method must be one of"):
        metrics.valid_prediction_time(yt, yp, 0.1, method="mse")
    with pytest.raises(ValueError, match="dt must be positive"):
        metrics.valid_prediction_time(yt, yp, 0.0)
    with pytest.raises(TypeError, match="needs a threshold"):
        metrics.valid_prediction_steps(np.zeros(4))
    # the curve form: NaN counts as over
    assert metrics.valid_prediction_steps(np.array([0.1, 0.2, np.nan, 0.1]), 0.4) == 2
    np.testing.assert_array_equal(
        metrics.valid_prediction_steps(np.array([[0.1, 0.5], [0.1, 0.1]]), 0.4), [1, 2])
