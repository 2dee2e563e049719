"""The shared checks of the learner protocol, for chaoslab's learners and anyone else's.

Every registered learner passes these checks (``tests/learners/test_protocol.py`` runs
them); a learner written elsewhere can run the same suite, as scikit-learn's
``check_estimator`` and ``parametrize_with_checks`` allow for estimators:

>>> from chaoslab.learners.testing import check_learner, learner_checks
>>> check_learner(MyLearner)            # a class, a factory or an unfitted instance
>>> import pytest
>>> @pytest.mark.parametrize("name, check", learner_checks(MyLearner))
... def test_my_learner(name, check):
...     check()

The checks train on a Lorenz trajectory sampled at ``dt = 0.01`` (:func:`lorenz_data`;
2,000 training samples, 600 held out). ``learner_checks`` yields ``(name, check)`` pairs;
the checks of one call share the data and one fitted learner, so pass settings that train
in a second or two. A check raises ``AssertionError`` (or the unexpected exception)
when the learner breaks the protocol; :func:`check_learner` runs them all and names the
first that fails.

The save-and-load check needs :func:`chaoslab.learners.load` to find the learner's class
by its ``name``, so it runs only for registered learners.
"""
from __future__ import annotations

import copy
import functools
import inspect
import math
import tempfile
import threading
from pathlib import Path

import numpy as np

from ..progress import Cancelled
from .base import FitCancelled, NotFittedError, load

__all__ = ["check_learner", "learner_checks", "lorenz_data", "CHECKS", "FIRST_STEP_BOUND",
           "DT"]

#: sampling interval of the check data
DT = 0.01
N_TRAIN = 2000
N_TEST = 600
#: bound on the median first-step error, in standard deviations of the data (see
#: :func:`check_first_step`)
FIRST_STEP_BOUND = 0.25


@functools.lru_cache(maxsize=4)
def lorenz_data(dt=DT):
    """``(train, test)``: a Lorenz trajectory (sigma 10, rho 28, beta 8/3) sampled every
    ``dt``, 2,000 training and 600 held-out samples (read-only arrays), after 1,000
    discarded samples that bring it onto the attractor."""
    from ..integrate import simulate
    from ..systems import get

    X = simulate(get("Lorenz"), 1000 + N_TRAIN + N_TEST, dt=dt)[1000:]
    X = np.ascontiguousarray(X)
    X.setflags(write=False)
    return X[:N_TRAIN], X[N_TRAIN:]


# ---------------------------------------------------------------------------- context
class _Context:
    """What the checks of one :func:`learner_checks` call share: a factory of new
    unfitted learners, the data and (once trained) one fitted learner."""

    def __init__(self, factory, data, dt):
        self.factory = factory
        self._data = data
        self.dt = dt
        self._fitted = None

    @property
    def data(self):
        if self._data is None:
            self._data = lorenz_data(self.dt)
        return self._data

    def new(self):
        learner = self.factory()
        for attr in ("fit", "forecast", "get_params"):
            assert callable(getattr(learner, attr, None)), \
                f"{learner!r} has no method {attr}()"
        return learner

    def fitted(self):
        if self._fitted is None:
            learner = self.new()
            out = learner.fit(self.data[0], self.dt)
            assert out is learner, f"fit must return self, got {out!r}"
            self._fitted = learner
        return self._fitted

    def __repr__(self):
        return f"<learner checks of {self.factory!r}>"


def _as_factory(learner):
    """A callable returning new unfitted learners, from a class, a factory or an
    instance (copied through its ``get_params``)."""
    if isinstance(learner, type) or (callable(learner) and not hasattr(learner, "fit")):
        return learner
    if hasattr(learner, "fit") and hasattr(learner, "get_params"):
        cls = type(learner)
        params = learner.get_params(deep=False)
        return functools.partial(_rebuild, cls, params)
    raise TypeError("expected a learner class, a factory of learners or an unfitted "
                    f"learner, got {learner!r}")


def _rebuild(cls, params):
    return cls(**copy.deepcopy(params))


def _param_names(learner):
    sig = inspect.signature(type(learner).__init__)
    return [p.name for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _registered(learner):
    from .registry import LEARNERS, learner_class

    name = getattr(learner, "name", None)
    return name in LEARNERS and learner_class(name) is type(learner)


# ---------------------------------------------------------------------------- checks
def check_init_stores_params(ctx):
    """``__init__`` stores every hyperparameter unchanged under its own name and nothing
    else that looks fitted; ``get_params``/``set_params`` and scikit-learn's ``clone``
    (when scikit-learn is installed) work.

    scikit-learn's ``clone`` rebuilds an estimator from ``get_params(deep=False)`` and
    requires each value it passed to come back as the very same object, so ``__init__``
    may neither validate nor convert (that belongs in ``fit``).
    """
    m = ctx.new()
    names = _param_names(m)
    params = m.get_params(deep=False)
    assert sorted(params) == sorted(names), \
        f"get_params() keys {sorted(params)} differ from __init__'s {sorted(names)}"
    deep = m.get_params(deep=True) if _accepts_deep(m) else None
    assert deep is not None, "get_params must accept deep= (scikit-learn's signature)"
    assert all(deep[k] is params[k] for k in params)
    fitted_looking = [k for k in vars(m) if k.endswith("_") and not k.startswith("_")]
    assert not fitted_looking, f"__init__ sets fitted-looking attributes {fitted_looking}"
    again = type(m)(**params)
    for k, v in params.items():
        assert getattr(again, k) is v, (
            f"__init__ changed hyperparameter {k!r} ({v!r} stored as {getattr(again, k)!r}); "
            "store it unchanged and check it in fit")
    out = again.set_params(**params)
    assert out is again, "set_params must return self"
    assert again.get_params(deep=False) == params
    assert type(m).__name__ in repr(m)
    try:
        from sklearn.base import clone
    except ImportError:  # pragma: no cover - scikit-learn is a dependency of the learners
        return
    c = clone(m)
    assert type(c) is type(m) and c is not m
    assert c.get_params(deep=False).keys() == params.keys()


def _accepts_deep(m):
    try:
        inspect.signature(m.get_params).bind(deep=True)
    except TypeError:
        return False
    return True


def check_not_fitted(ctx):
    """Before ``fit``: ``forecast``, ``save``, ``score`` and ``lyapunov_exponent`` raise
    :class:`~chaoslab.learners.NotFittedError`, and ``is_fitted`` is False."""
    m = ctx.new()
    assert not m.is_fitted
    ctx_rows = ctx.data[1][:200]
    for call in (lambda: m.forecast(ctx_rows, 5), lambda: m.score(ctx_rows),
                 lambda: m.lyapunov_exponent(ctx_rows, T=1.0)):
        try:
            call()
        except NotFittedError as exc:
            assert "not fitted" in str(exc), f"unclear message: {exc}"
        else:
            raise AssertionError("an unfitted learner forecast without complaint")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            m.save(Path(tmp) / "m.npz")
        except NotFittedError:
            pass
        else:
            raise AssertionError("an unfitted learner was saved")


def check_bad_input(ctx):
    """``fit`` refuses a non-positive ``dt``, non-finite data (naming row and column) and
    a 1-D series, and stays unfitted."""
    train = np.array(ctx.data[0])
    m = ctx.new()
    _raises(ValueError, "dt", m.fit, train, -ctx.dt)
    bad = train.copy()
    bad[5, 1] = np.nan
    _raises(ValueError, "non-finite value at row 5, column 1", m.fit, bad, ctx.dt)
    _raises(ValueError, "1-D", m.fit, train[:, 0], ctx.dt)
    assert not m.is_fitted, "a failed fit left the learner fitted"


def check_fit_forecast_shapes(ctx):
    """``fit`` returns ``self`` and sets ``dim_`` and ``dt_``; ``forecast`` returns
    ``(n_steps, dim)`` for one context and ``(batch, n_steps, dim)`` for a batch, whose
    rows equal the single forecasts; ``n_steps = 0`` gives an empty forecast."""
    m = ctx.fitted()
    test = ctx.data[1]
    assert m.is_fitted and m.dim_ == 3 and m.dt_ == ctx.dt, (m.dim_, m.dt_)
    c = m.context_length
    assert isinstance(c, int) and 1 <= c <= 200, f"context_length {c!r}"
    y = np.asarray(m.forecast(test[:200], 50))
    assert y.shape == (50, 3), f"forecast of one context has shape {y.shape}, not (50, 3)"
    assert y.dtype == np.float64
    yb = np.asarray(m.forecast(np.stack([test[:200], test[100:300]]), 50))
    assert yb.shape == (2, 50, 3), f"batched forecast has shape {yb.shape}, not (2, 50, 3)"
    # a batch row equals the single forecast from the same context (up to the rounding
    # of batched products, which a chaotic rollout amplifies: compare the first steps)
    np.testing.assert_allclose(yb[0, :10], y[:10], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(yb[1, :10], m.forecast(test[100:300], 10), rtol=1e-5,
                               atol=1e-6)
    assert np.asarray(m.forecast(test[:200], 0)).shape == (0, 3)


def check_first_step(ctx):
    """The first forecast step is near the true next state.

    From 20 held-out contexts the error of the first forecast step,
    ``sqrt(mean_i ((y_i - x_i) / sigma_i)^2)`` with ``sigma_i`` the standard deviation of
    variable ``i`` in the training data, has a median below ``FIRST_STEP_BOUND = 0.25``
    and is finite everywhere.

    Why 0.25: the step is one ``dt = 0.01`` after the last context row. A learner that
    repeats that row (the persistence baseline) is off by one increment, a median of
    about 0.05 standard deviations on Lorenz at this ``dt`` (0.12 at most), so a learner
    that uses its context, even one trained for a second, is well inside the bound (the
    registered learners at quick settings: 0.05 at most). A learner that ignores its
    context or garbles the variables is off by the distance between two unrelated points
    of the attractor, about 1.4 standard deviations, far outside it.
    """
    m = ctx.fitted()
    train, test = ctx.data
    sigma = train.std(axis=0)
    c = max(m.context_length, 1)
    starts = np.linspace(0, len(test) - c - 1, 20).astype(int)
    contexts = np.stack([test[i:i + c] for i in starts])
    truth = np.stack([test[i + c] for i in starts])
    y = np.asarray(m.forecast(contexts, 1))[:, 0]
    err = np.sqrt(np.mean(((y - truth) / sigma) ** 2, axis=-1))
    assert np.all(np.isfinite(err)), f"non-finite first steps: {err}"
    med = float(np.median(err))
    assert med < FIRST_STEP_BOUND, (
        f"median first-step error {med:.3g} standard deviations (bound "
        f"{FIRST_STEP_BOUND}; persistence makes about 0.05): the forecast does not follow "
        "its context")


def check_save_load(ctx):
    """``save`` and :func:`~chaoslab.learners.load` give back a learner of the same class
    and hyperparameters whose forecasts are identical."""
    m = ctx.fitted()
    with tempfile.TemporaryDirectory() as tmp:
        path = m.save(Path(tmp) / "m.npz")
        back = load(path)
    assert type(back) is type(m)
    assert back.get_params(deep=False) == m.get_params(deep=False)
    test = ctx.data[1]
    np.testing.assert_array_equal(back.forecast(test[:200], 40), m.forecast(test[:200], 40))


def check_deterministic(ctx):
    """Two fits with the same hyperparameters (seed included) forecast identically."""
    m1 = ctx.fitted()
    m2 = ctx.new().fit(ctx.data[0], ctx.dt)
    test = ctx.data[1]
    np.testing.assert_array_equal(m1.forecast(test[:200], 40), m2.forecast(test[:200], 40))


def check_wrong_context(ctx):
    """``forecast`` refuses a context of the wrong dimension, one shorter than
    :attr:`context_length`, and a negative ``n_steps``, with ``ValueError``."""
    m = ctx.fitted()
    test = ctx.data[1]
    _raises(ValueError, "context must be", m.forecast, np.zeros((200, 2)), 5)
    if m.context_length > 1:
        _raises(ValueError, "context", m.forecast, test[:m.context_length - 1], 5)
    _raises(ValueError, "n_steps", m.forecast, test[:200], -1)


def check_cancel_and_progress(ctx):
    """A set ``cancel`` stops ``fit`` with :class:`~chaoslab.learners.FitCancelled` (a
    :class:`chaoslab.progress.Cancelled`) and leaves the learner unfitted; ``progress``
    receives fractions in [0, 1] ending at 1."""
    m = ctx.new()
    ev = threading.Event()
    ev.set()
    try:
        m.fit(ctx.data[0], ctx.dt, cancel=ev)
    except FitCancelled as exc:
        assert isinstance(exc, Cancelled)
    else:
        raise AssertionError("fit ignored a set cancel event")
    assert not m.is_fitted, "a cancelled fit left the learner fitted"
    seen = []
    m.fit(ctx.data[0], ctx.dt, progress=lambda f, msg: seen.append(f))
    assert seen and seen[-1] == 1.0, f"progress did not end at 1: {seen[-3:]}"
    assert all(0.0 <= f <= 1.0 for f in seen)


def check_lyapunov_exponent(ctx):
    """``lyapunov_exponent(context, *, T, transient, renorm, eps)`` (spans in time units)
    returns a finite float for a short run."""
    m = ctx.fitted()
    sig = inspect.signature(m.lyapunov_exponent)
    for name in ("T", "transient", "renorm", "eps"):
        assert name in sig.parameters and \
            sig.parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, \
            f"lyapunov_exponent must take the keyword-only argument {name!r}"
    lam = m.lyapunov_exponent(ctx.data[1][:200], T=2.0, transient=0.5)
    assert isinstance(lam, float) and math.isfinite(lam), lam


def check_score(ctx):
    """``score(X)`` (scikit-learn's scorer) is the mean valid prediction time on held-out
    data, in time units: a float between 0 and the longest forecast."""
    m = ctx.fitted()
    test = ctx.data[1]
    s = m.score(test)
    assert isinstance(s, float) and 0.0 <= s <= (len(test) - m.context_length) * ctx.dt, s
    assert m.score(test, None) == s


#: every check, in the order they run
CHECKS = (check_init_stores_params, check_not_fitted, check_bad_input,
          check_fit_forecast_shapes, check_first_step, check_wrong_context,
          check_save_load, check_deterministic, check_cancel_and_progress,
          check_lyapunov_exponent, check_score)


def learner_checks(learner, *, data=None, dt=DT):
    """The protocol checks for ``learner``, as ``(name, check)`` pairs.

    Parameters
    ----------
    learner : class, callable or unfitted learner
        A learner class (built with its defaults), a callable returning a new unfitted
        learner, or an unfitted learner (copied through ``get_params``).
    data : (train, test) arrays, optional
        Trajectories of a 3-variable chaotic flow sampled every ``dt``, at least 600 held-out
        rows (default :func:`lorenz_data`). :func:`check_first_step`'s bound assumes
        Lorenz-like increments: one ``dt`` moves the state a few percent of its spread.
    dt : float

    Returns
    -------
    list of (str, callable)
        Each callable takes no argument and raises when the check fails. They share one
        fitted learner, trained on first use.
    """
    factory = _as_factory(learner)
    ctx = _Context(factory, data, dt)
    registered = _registered(ctx.new())
    out = []
    for check in CHECKS:
        if check is check_save_load and not registered:
            continue
        out.append((check.__name__, _Bound(check, ctx)))
    return out


class _Bound:
    """A check bound to its context (a plain callable with a readable repr)."""

    def __init__(self, check, ctx):
        self.check, self.ctx = check, ctx
        self.__name__ = check.__name__
        self.__doc__ = check.__doc__

    def __call__(self):
        return self.check(self.ctx)

    def __repr__(self):
        return self.check.__name__


def check_learner(learner, *, data=None, dt=DT):
    """Run every protocol check on ``learner``; raise ``AssertionError`` naming the first
    that fails (see :func:`learner_checks` for the arguments)."""
    for name, check in learner_checks(learner, data=data, dt=dt):
        try:
            check()
        except Exception as exc:
            raise AssertionError(f"{name} failed for {learner!r}: "
                                 f"{type(exc).__name__}: {exc}") from exc


def _raises(error, match, fn, *args):
    try:
        fn(*args)
    except error as exc:
        assert match in str(exc), f"{error.__name__} without {match!r}: {exc}"
    else:
        raise AssertionError(f"{getattr(fn, '__name__', fn)} accepted bad input "
                             f"(expected {error.__name__} mentioning {match!r})")
