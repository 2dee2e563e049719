"""Named protocols: the published settings' numbers, runs in each, overrides, and the
default protocol reproducing forecast_divergence's earlier results."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.experiments import (Protocol, Sampling, Span, get_protocol, prepare,
                                  protocols)
from chaoslab.metrics import error_curve, valid_prediction_steps

NAMED = ["chaoslab", "gilpin2023", "gauthier2021", "short_data"]


def lorenz_lambda():
    return cl.experiments.largest_lyapunov_exponent(cl.systems.get("Lorenz"))


def test_names_and_unknown_name():
    assert protocols() == NAMED
    assert cl.experiments.protocols() == NAMED
    for name in NAMED:
        p = get_protocol(name)
        assert p.name == name and p.citation and p.source
    with pytest.raises(ValueError, match="unknown protocol 'dysts'.*chaoslab, gilpin2023, "
                                         "gauthier2021, short_data"):
        get_protocol("dysts")
    with pytest.raises(ValueError, match="known protocols: chaoslab, gilpin2023"):
        cl.forecast_divergence("Lorenz", ["persistence"], protocol="gilpin")


def test_gauthier2021_numbers():
    """quantinfo/ng-rc-paper-code, LorenzConstLinQuadraticNVARtimedelay-RK23.py: dt=0.025,
    warmup=5., traintime=10., testtime=120., lyaptime=1.104; the NRMSE script runs 10
    trials with warm-ups 5, 15, ..., 95 (training windows traintime apart)."""
    p = get_protocol("gauthier2021")
    st = p.settings("Lorenz")
    dt = 0.025
    assert st.dt == dt
    assert st.transient == 5.0 and round(st.transient / dt) == 200      # warmup_pts
    assert st.n_train == round(10.0 / dt) == 400                        # traintime_pts
    assert st.n_steps == round(120.0 / dt) == 4800                      # testtime_pts
    assert st.nrmse_rows == round(1.104 / dt) == 44                     # lyaptime_pts
    assert st.context == 2                                              # k = 2 taps
    assert st.n_starts == 10 and st.gap == round(10.0 / dt)
    assert (st.vpt_method, st.threshold) == ("nrmse", 0.4)
    assert p.nrmse_variance == "pooled" and p.nrmse_from_last_observed
    assert "quantinfo/ng-rc-paper-code" in p.source
    assert "LorenzConstLinQuadraticNVARtimedelayNRMSE-RK23.py" in p.source
    assert "Nat. Commun. 12, 5564" in p.citation


def test_gilpin2023_numbers():
    """williamgilpin/dysts benchmarks (Feb. 2023): test_multivariate__pts_per_period_100
    __periods_60, the first 1/6 (10 periods) trains, the rest (50 periods) is forecast;
    VPT: cumulative sMAPE > 30 (dysts_data benchmark_results/scripts/utils.py)."""
    p = get_protocol("gilpin2023")
    st = p.settings("Lorenz")
    period = cl.systems.get("Lorenz").period
    assert period == 1.5008                                    # dysts' Lorenz period
    assert st.dt == pytest.approx(period / 100, rel=1e-15)     # 100 points per period
    assert st.n_train == int(1 / 6 * 6000) == 1000
    assert st.n_steps == 6000 - 1000
    assert st.context == 100                  # the longest lookback of the grid: a period
    assert st.transient == 0.0
    assert (st.vpt_method, st.threshold) == ("cumulative_smape", 30.0)
    assert st.n_starts == 1 and st.metrics == ("smape",)
    assert "williamgilpin/dysts" in p.source and "dysts_data" in p.source
    assert "Phys. Rev. Research 5, 043252" in p.citation


def test_short_data_numbers():
    p = get_protocol("short_data")
    st = p.settings("Lorenz")
    lam = lorenz_lambda()
    assert st.dt == pytest.approx(1 / (30 * lam))              # 30 samples per Lyapunov time
    assert st.n_train == 300 and st.context == 30               # 10 and 1 Lyapunov times
    assert st.horizon == pytest.approx(15.0)
    assert st.metrics == ("nrmse", "smape@1", "smape@4", "smape@10")
    assert "not from a paper" in p.citation


def test_default_protocol_settings_are_the_old_defaults():
    lam = lorenz_lambda()
    st = get_protocol("chaoslab").settings("Lorenz")
    assert st.dt == 0.01 and st.transient == 2000 * 0.01
    assert (st.n_train, st.context, st.n_starts) == (10_000, 200, 20)
    assert st.n_steps == round(15.0 / (lam * 0.01)) and st.gap == round(2.0 / (lam * 0.01))
    assert (st.vpt_method, st.threshold, st.metrics) == ("nrmse", 0.4, ())
    # Rossler samples at 0.05: its transient is still 2,000 samples
    assert get_protocol("chaoslab").settings("Rossler").transient == 2000 * 0.05


@pytest.mark.parametrize("name, dt", [("Lorenz", 0.01), ("Rossler", 0.05)])
def test_default_protocol_keeps_todays_data_and_vpts(name, dt):
    """The data are what forecast_divergence simulated before protocols (a transient of
    2,000 samples, starts two Lyapunov times apart) and the VPTs the first crossing of 0.4
    by the normalised error."""
    s = cl.systems.get(name)
    kw = dict(n_train=2000, n_starts=3, horizon=2, context=50)
    r = cl.forecast_divergence(s, ["linear_ar"], statistics=False, **kw)
    assert r.protocol.name == "chaoslab" and r.settings.overrides == kw
    lam = r.lyapunov_exponent
    n_h, gap = round(2 / (lam * dt)), round(2.0 / (lam * dt))
    n = 2000 + 50 + n_h + 2 * gap
    sub = max(1, math.ceil(dt / s.dt - 1e-9))
    X = cl.simulate(s, n, dt=dt, transient=2000 * dt, substeps=sub)
    data = prepare(s, n_free=0, **kw)
    np.testing.assert_array_equal(data.train, X[:2000])
    np.testing.assert_array_equal(data.test, X[2000:])
    lrn = r["linear_ar"].learner
    pred = lrn.forecast(data.contexts, data.n_steps)
    curves = error_curve(data.truths, pred, X[:2000].std(axis=0))
    np.testing.assert_array_equal(r["linear_ar"].vpt,
                                  valid_prediction_steps(curves, 0.4) * dt * lam)
    same = cl.forecast_divergence(s, ["linear_ar"], statistics=False, protocol="chaoslab",
                                  **kw)
    np.testing.assert_array_equal(same["linear_ar"].vpt, r["linear_ar"].vpt)


@pytest.fixture(scope="module")
def runs():
    return {name: cl.forecast_divergence("Lorenz", ["persistence", "ngrc"], protocol=name,
                                         statistics=False)
            for name in NAMED[1:]}


@pytest.mark.parametrize("name", NAMED[1:])
def test_each_protocol_runs_and_reports_its_metrics(runs, name):
    r = runs[name]
    p = get_protocol(name)
    assert r.protocol is p and r.settings.protocol is p and r.vpt_method == p.vpt_method
    assert r.threshold == p.threshold and r.dt == r.settings.dt
    rows = {row["learner"]: row for row in r.summary()}
    for key in ("vpt_median", "vpt_q25", "vpt_q75") + p.metrics:
        assert np.isfinite(rows["ngrc"][key]), key
    assert set(r["ngrc"].metrics) == set(p.metrics)
    for values in r["ngrc"].metrics.values():
        assert values.shape == (p.n_starts,)
    # repeating the last state fails within a fraction of a Lyapunov time; NG-RC lasts
    # (with lengths from the data's time scale: 5.9 in gauthier2021, 2.9 in short_data)
    assert rows["persistence"]["vpt_median"] < 0.3 < 2 < rows["ngrc"]["vpt_median"]
    assert f"protocol {name}" in r.table() and p.vpt_method in r.table()
    for metric in p.metrics:             # NG-RC's errors are smaller than persistence's
        assert rows["ngrc"][metric] < rows["persistence"][metric]


def _dysts_smape(x, y):
    """dysts.metrics.smape at williamgilpin/dysts 6983ca8."""
    return 100 * np.mean(np.abs(x - y) / (np.abs(x) + np.abs(y))) * 2


def test_gilpin2023_vpt_and_smape_are_dysts(runs):
    """Persistence's forecast is known (the last observed state, repeated): its VPT is
    dysts_data's vpt_smape (the first i where the sMAPE of rows [:i+1] exceeds 30) and its
    sMAPE dysts' smape of the whole forecast."""
    r = runs["gilpin2023"]
    data = prepare("Lorenz", protocol="gilpin2023", n_free=0,
                   min_context=r.settings.context)
    truth = data.truths[0]
    pred = np.repeat(data.contexts[0, -1:], len(truth), axis=0)
    horizoned = np.array([_dysts_smape(truth[:i], pred[:i]) for i in range(1, 301)])
    steps = int(np.argmax(horizoned > 30))
    assert steps > 0 and horizoned[steps] > 30
    assert r["persistence"].vpt[0] == pytest.approx(steps * data.dt * data.lyapunov_exponent)
    assert r["persistence"].metrics["smape"][0] == pytest.approx(_dysts_smape(truth, pred))


def test_gauthier2021_nrmse_is_the_authors(runs):
    """NRMSE as in LorenzConstLinQuadraticNVARtimedelayNRMSE-RK23.py:
    sqrt(mean((x[:, warmtrain-1 : warmtrain-1+lyaptime_pts] - x_test[:, :lyaptime_pts])^2)
    / np.var(all values)), the window starting at the last observed state."""
    r = runs["gauthier2021"]
    # the run raised the context to NG-RC's; the same data again
    data = prepare("Lorenz", protocol="gauthier2021", n_free=0,
                   min_context=r.settings.context)
    X = np.concatenate([data.train, data.test])
    total_var = np.var(X)                       # all values of the three variables pooled
    assert total_var > X.var(axis=0).mean()     # pooled: adds the spread of the means
    want = []
    for ctx, truth in zip(data.contexts, data.truths):
        x = np.concatenate([ctx[-1:], truth[:43]])          # 44 rows from the last state
        x_test = np.repeat(ctx[-1:], 44, axis=0)            # persistence
        want.append(np.sqrt(np.mean((x - x_test) ** 2) / total_var))
    np.testing.assert_allclose(r["persistence"].metrics["nrmse"], want, rtol=1e-12)


def test_explicit_keywords_override_the_protocol():
    r = cl.forecast_divergence("Lorenz", ["persistence"], protocol="gilpin2023", dt=0.01,
                               n_train=500, horizon=2, n_starts=2, vpt_method="nrmse",
                               statistics=False)
    st = r.settings
    assert r.protocol.name == "gilpin2023" and r.dt == 0.01
    assert (st.n_train, st.n_starts, st.vpt_method) == (500, 2, "nrmse")
    assert st.threshold == 0.4                        # the new method's own default
    assert st.context == round(1.5008 / 0.01)         # a period, its span kept in time
    assert st.n_steps == round(2 / (r.lyapunov_exponent * 0.01))
    assert st.overrides == dict(dt=0.01, n_train=500, horizon=2, n_starts=2,
                                vpt_method="nrmse")
    assert "smape" in r["persistence"].metrics        # the protocol's metrics stay
    # a threshold alone keeps the protocol's method; lengths in time follow dt
    st = get_protocol("gilpin2023").settings("Lorenz", threshold=20)
    assert (st.vpt_method, st.threshold) == ("cumulative_smape", 20.0)
    st = get_protocol("gauthier2021").settings("Lorenz", dt=0.01, transient=1.0)
    assert (st.n_train, st.transient, st.nrmse_rows) == (1000, 1.0, 111)
    # the context is raised to what a learner needs
    r = cl.forecast_divergence("Lorenz", [("linear_ar", {"order": 5})],
                               protocol="gauthier2021", n_starts=2, horizon=1,
                               statistics=False)
    assert r.settings.context == 5 and r.settings.overrides == dict(n_starts=2, horizon=1)


def test_a_protocol_object_and_its_checks():
    mine = Protocol("mine", sampling=Sampling("lyapunov", 50), transient=10.0,
                    train=(20, "lyapunov"), context=(10, "samples"), horizon=3,
                    n_starts=2, spacing=Span(1, "lyapunov"), vpt_method="smape",
                    smape_at=(1, 2))
    r = cl.forecast_divergence("Lorenz", ["persistence"], protocol=mine, statistics=False)
    lam = r.lyapunov_exponent
    assert r.protocol is mine and r.dt == pytest.approx(1 / (50 * lam))
    assert r.settings.n_train == 1000 and r.settings.threshold == 30.0
    assert set(r.summary()[0]) >= {"smape@1", "smape@2"}
    assert get_protocol("gauthier2021").replace(n_starts=3).n_starts == 3
    with pytest.raises(ValueError, match="unit must be one of"):
        Span(1, "hours")
    with pytest.raises(ValueError, match="vpt_method must be one of"):
        Protocol("bad", vpt_method="mse")
    with pytest.raises(ValueError, match="train must be positive"):
        Protocol("bad", train=0)
    with pytest.raises(ValueError, match="sMAPE at 10 Lyapunov times"):
        Protocol("bad", horizon=5, smape_at=(10,)).settings("Lorenz")
