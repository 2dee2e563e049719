"""Forecast divergence: known orderings of learners, its three steps, progress and cancel."""
import threading

import numpy as np
import pytest

import chaoslab as cl
from chaoslab import experiments
from chaoslab.experiments import collect, default_dt, evaluate, prepare
from chaoslab.progress import Cancelled


def test_forecast_divergence_lorenz():
    r = cl.forecast_divergence("Lorenz", ["persistence", "ngrc"], n_starts=8,
                               n_train=5000, horizon=12, n_free=20_000)
    assert r.lyapunov_exponent == pytest.approx(0.906, rel=0.01)
    assert r.t[0] == pytest.approx(0.01 * r.lyapunov_exponent)
    assert r.t[-1] == pytest.approx(12, rel=0.01)
    p, n = r["persistence"], r["ngrc"]
    assert p.curves.shape == (8, len(r.t)) and p.vpt.shape == (8,)
    assert p.vpt_median < 0.3 < 5 < n.vpt_median
    # the NG-RC's free run visits the attractor as another stretch of the truth does;
    # persistence sits at one point. The binned D_stsp (30^3 cells) of a finite sample is
    # not 0 even between two pieces of the truth (0.2 to 0.4 at 20,000 samples): measure
    # that floor here and compare with it
    X = cl.simulate("Lorenz", 40_000, dt=r.dt, transient=50.0)
    floor = cl.metrics.state_space_divergence(X[:20_000], X[20_000:])
    assert n.d_stsp < 2 * floor and p.d_stsp > 20 * floor
    assert n.d_h < 0.1 < p.d_h
    assert "ngrc" in r.table() and r.summary()[1]["learner"] == "ngrc"


def test_forecast_divergence_labels():
    """A dict labels two settings of one learner; the same name twice in a list is an
    error that says how to do it."""
    r = cl.forecast_divergence("Lorenz", {"ar1": ("linear_ar", {"order": 1}),
                                          "ar3": ("linear_ar", {"order": 3})},
                               n_starts=3, n_train=2000, horizon=2, statistics=False)
    assert [row["learner"] for row in r.summary()] == ["ar1", "ar3"]
    with pytest.raises(ValueError, match="'persistence' is given twice"):
        cl.forecast_divergence("Lorenz", ["persistence", "persistence"])


def test_the_three_steps_give_the_same_result():
    """prepare -> evaluate -> collect is what forecast_divergence does: same VPTs, curves
    and time axis; the data hold the starts the docstring describes."""
    kw = dict(n_train=2000, n_starts=4, horizon=3, context=50)
    whole = cl.forecast_divergence("Lorenz", ["linear_ar"], statistics=False, **kw)
    data = prepare("Lorenz", n_free=0, **kw)
    lam, dt = data.lyapunov_exponent, data.dt
    gap = round(2.0 / (lam * dt))                     # starts two Lyapunov times apart
    np.testing.assert_array_equal(data.starts, np.arange(4) * gap)
    assert data.contexts.shape == (4, 50, 3) and data.truths.shape == (4, data.n_steps, 3)
    k = 2
    np.testing.assert_array_equal(data.contexts[k], data.test[k * gap:k * gap + 50])
    np.testing.assert_array_equal(data.truths[k, 0], data.test[k * gap + 50])
    np.testing.assert_allclose(data.scale, data.train.std(axis=0))
    one = evaluate("linear_ar", None, data, statistics=False)
    res = collect(data, [one])
    np.testing.assert_array_equal(res["linear_ar"].vpt, whole["linear_ar"].vpt)
    np.testing.assert_array_equal(res["linear_ar"].curves, whole["linear_ar"].curves)
    np.testing.assert_array_equal(res.t, whole.t)
    np.testing.assert_array_equal(res.truth, whole.truth)


def test_evaluate_reuses_a_fitted_learner_and_checks_the_data():
    data = prepare("Lorenz", n_train=1000, n_starts=2, horizon=1, context=5, n_free=0)
    lrn = cl.learners.make("linear_ar", order=2).fit(data.train, data.dt)
    coef = {k: v for k, v in vars(lrn).items() if k.endswith("_")}
    r = evaluate(lrn, "mine", data, statistics=False)
    assert r.name == "mine" and r.learner is lrn
    assert {k: v for k, v in vars(lrn).items() if k.endswith("_")}.keys() == coef.keys()
    with pytest.raises(ValueError, match="n_free"):
        evaluate(lrn, "mine", data, statistics=True)
    with pytest.raises(ValueError, match="context"):
        evaluate(("linear_ar", {"order": 10}), None, data, statistics=False)


def test_progress_reaches_one_and_cancel_stops():
    seen = []
    cl.forecast_divergence("Lorenz", ["persistence", "linear_ar"], n_train=1000, n_starts=2,
                           horizon=1, statistics=False,
                           progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and seen[0] == (0.0, "simulating")
    assert seen[-1] == (1.0, "done")
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        cl.forecast_divergence("Lorenz", ["persistence"], n_train=1000, n_starts=2,
                               horizon=1, statistics=False, cancel=stop)


@pytest.mark.parametrize("name, dt", [("Lorenz", 0.01), ("Halvorsen", 0.01),
                                      ("Thomas", 0.02), ("Rossler", 0.05), ("Henon", 1.0)])
def test_default_dt(name, dt):
    """min(1/(100 lambda), period/100) to one digit: Rossler (lambda 0.071, period 5.9) is
    bound by its period, the others by their exponent; maps step by 1."""
    assert default_dt(cl.systems.get(name)) == pytest.approx(dt)


def test_forecast_divergence_rejects_non_chaotic():
    s = cl.systems.get("Lorenz").with_params(rho=10.0)      # a stable fixed point
    with pytest.raises(ValueError, match="not chaotic"):
        cl.forecast_divergence(s, ["persistence"], n_train=500)


def test_public_places():
    assert cl.forecast_divergence is experiments.forecast_divergence
    assert cl.experiments.largest_lyapunov_exponent is cl.analysis.largest_lyapunov_exponent
    with pytest.raises(AttributeError, match="moved to chaoslab.experiments"):
        cl.metrics.forecast_divergence
