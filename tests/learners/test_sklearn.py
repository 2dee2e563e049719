"""Learners as scikit-learn estimators: clone, parameter grids, GridSearchCV, score."""
import numpy as np
import pytest

import chaoslab as cl

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import (GridSearchCV, KFold, ParameterGrid,  # noqa: E402
                                     TimeSeriesSplit)

DT = 0.01


@pytest.fixture(scope="module")
def lorenz_batch():
    """12 Lorenz trajectories of 800 samples from starts one time unit apart."""
    s = cl.systems.get("Lorenz")
    x0 = cl.simulate(s, 2200, dt=DT)[1000::100][:12]
    return cl.simulate(s, 800, dt=DT, x0=x0)


@pytest.mark.parametrize("name", cl.learners.names())
def test_clone_every_learner(name):
    m = cl.learners.make(name)
    c = clone(m)
    assert type(c) is type(m) and c is not m
    assert c.get_params() == m.get_params()
    assert c.get_params(deep=False) == m.get_params(deep=True)    # nothing nested


def test_clone_keeps_changed_params_and_drops_fitted_state(lorenz_batch):
    m = cl.learners.make("ngrc", k=2).fit(lorenz_batch[0], DT)
    c = clone(m.set_params(degree=3))
    assert c.get_params()["k"] == 2 and c.get_params()["degree"] == 3
    assert m.is_fitted and not c.is_fitted


def test_set_params():
    m = cl.learners.make("esn")
    assert m.set_params(size=50, ridge=1e-6) is m
    assert m.size == 50 and m.ridge == 1e-6
    with pytest.raises(ValueError, match="no hyperparameter 'sizes'"):
        m.set_params(sizes=3)
    with pytest.raises(ValueError, match="has no parameters"):
        m.set_params(size__x=3)


def test_nested_params():
    """get_params(deep=True) and set_params reach into a hyperparameter that is itself an
    estimator (scikit-learn's ``name__sub`` keys)."""
    from chaoslab.learners.baselines import Persistence

    class Wrapper(Persistence):
        name = "wrapper"

        def __init__(self, inner=None, gain=1.0):
            self.inner = inner
            self.gain = gain

    w = Wrapper(inner=cl.learners.make("linear_ar", order=2))
    deep = w.get_params(deep=True)
    assert deep["inner__order"] == 2 and deep["gain"] == 1.0
    assert "inner__order" not in w.get_params(deep=False)
    w.set_params(inner__order=5, gain=2.0)
    assert w.inner.order == 5 and w.gain == 2.0
    c = clone(w)
    assert c.inner is not w.inner and c.inner.order == 5


def test_parameter_grid_with_clone(lorenz_batch):
    """A hand-rolled search: clone per grid point, fit, score on held-out trajectories.
    A linear NG-RC (degree 1) cannot forecast Lorenz; the quadratic one with the default
    three delays (the defaults) can."""
    train, test = lorenz_batch[:8], lorenz_batch[8:]
    base = cl.learners.make("ngrc")
    scores = {}
    for params in ParameterGrid({"degree": [1, 2], "k": [2, 3]}):
        model = clone(base).set_params(**params).fit(train, DT)
        scores[(params["degree"], params["k"])] = model.score(test)
    assert max(scores, key=scores.get) == (2, 3)
    assert scores[(2, 3)] > 5 * max(scores[(1, 2)], scores[(1, 3)])
    assert not base.is_fitted


def test_grid_search_cv_over_trajectories(lorenz_batch):
    """GridSearchCV splits a batch of independent trajectories (KFold) and passes
    ``dt`` on to ``fit``; ``score`` ranks the settings."""
    search = GridSearchCV(cl.learners.make("ngrc"), {"degree": [1, 2]}, cv=KFold(3))
    search.fit(lorenz_batch, dt=DT)
    assert search.best_params_ == {"degree": 2}
    scores = search.cv_results_["mean_test_score"]
    assert scores[1] > 5 * scores[0]
    best = search.best_estimator_
    assert best.is_fitted and best.dt_ == DT and best.n_train_ == 12 * 800


def test_grid_search_cv_in_time():
    """On one long trajectory, TimeSeriesSplit trains on a prefix and scores the next
    stretch."""
    X = cl.simulate(cl.systems.get("Lorenz"), 7000, dt=DT)[1000:]
    search = GridSearchCV(cl.learners.make("linear_ar"), {"order": [1, 4]},
                          cv=TimeSeriesSplit(3)).fit(X, dt=DT)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.n_train_ == len(X)


def test_score_is_the_valid_prediction_time(lorenz_batch):
    """score = mean VPT in time units, error scaled by the held-out data's spread."""
    m = cl.learners.make("persistence").fit(lorenz_batch[0], DT)
    test = lorenz_batch[8:]
    pred = m.forecast(test[:, :1], test.shape[1] - 1)
    scale = test.reshape(-1, 3).std(axis=0)
    vpt = cl.metrics.valid_prediction_time(test[:, 1:], pred, DT, scale=scale)
    assert m.score(test) == pytest.approx(float(np.mean(vpt)), abs=1e-12)
    assert m.score(test, None) == m.score(test)
    # shorter segments: several forecasts per trajectory, each capped at n_steps
    s = m.score(test, n_steps=50)
    assert 0.0 < s <= 50 * DT
    with pytest.raises(ValueError, match="context"):
        m.score(test[:, :1])
    with pytest.raises(ValueError, match="context"):
        cl.learners.make("linear_ar").fit(lorenz_batch[0], DT).score(test, context=1)
    with pytest.raises(ValueError, match="at least context \\+ n_steps"):
        m.score(test, n_steps=5000)
