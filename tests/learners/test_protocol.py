"""The protocol every learner follows: the shared checks of
:mod:`chaoslab.learners.testing` over the whole registry, and proof that they catch broken
learners."""
import numpy as np
import pytest

import chaoslab as cl
from chaoslab.learners import LearnerFileError
from chaoslab.learners.baselines import Persistence
from chaoslab.learners.testing import CHECKS, check_learner, learner_checks

# small settings so that every learner trains in a second or two
FAST = {
    "esn": dict(size=60, washout=20),
    "edmd": dict(degree=2),
}


def fast(name):
    """A new ``name`` learner with settings that train in a second or two."""
    cls = cl.learners.learner_class(name)
    hyper = dict(FAST.get(name, {}))
    quick = getattr(cls, "quick_params", None)
    if quick:
        hyper.update(quick())
    return cl.learners.make(name, **hyper)


NAMES = cl.learners.names()
CHECK_NAMES = [c.__name__ for c in CHECKS]
_checks = {}


def checks_of(name):
    """The bound checks of learner ``name`` (one shared fitted learner per name)."""
    if name not in _checks:
        _checks[name] = dict(learner_checks(lambda: fast(name)))
    return _checks[name]


@pytest.mark.parametrize("check", CHECK_NAMES)
@pytest.mark.parametrize("name", NAMES)
def test_protocol(name, check):
    checks_of(name)[check]()


def test_every_registered_learner_gets_every_check():
    for name in NAMES:
        assert list(checks_of(name)) == CHECK_NAMES, name


def test_registry():
    assert {"persistence", "linear_ar", "esn", "ngrc", "sindy", "edmd", "plrnn", "alrnn",
            "lstm", "transformer", "mamba", "neural_ode"} <= set(NAMES)
    with pytest.raises(ValueError, match="unknown learner 'esm'.*'esn'"):
        cl.learners.make("esm")
    with pytest.raises(ValueError, match="bad hyperparameters for 'esn'"):
        cl.learners.make("esn", sizes=3)
    with pytest.raises(ValueError, match="bad hyperparameters for 'lstm'"):
        cl.learners.make("lstm", hidden_size=3)


def test_corrupt_files(tmp_path):
    m = checks_of("ngrc")["check_fit_forecast_shapes"].ctx.fitted()
    good = m.save(tmp_path / "good.npz")
    raw = good.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(LearnerFileError, match="corrupt"):
        cl.learners.load(tmp_path / "trunc.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(LearnerFileError, match="no header"):
        cl.learners.load(tmp_path / "other.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(LearnerFileError):
        cl.learners.load(tmp_path / "text.npz")
    with pytest.raises(LearnerFileError, match="no such file"):
        cl.learners.load(tmp_path / "missing.npz")
    # a file that asks for pickled objects is refused, never unpickled
    np.savez(tmp_path / "pickle.npz", __meta__=np.array([{"format": "x"}], dtype=object))
    with pytest.raises(LearnerFileError):
        cl.learners.load(tmp_path / "pickle.npz")
    # mismatched arrays
    import json
    with np.load(good) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    meta["learner"] = "nonsense"
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "unknown.npz", **arrays)
    with pytest.raises(LearnerFileError, match="unknown learner 'nonsense'"):
        cl.learners.load(tmp_path / "unknown.npz")


# ---------------------------------------------------------------------------- broken learners
class WrongShape(Persistence):
    """Forecasts one variable too many."""

    name = "wrong_shape"

    def _forecast(self, ctx, n_steps):
        out = super()._forecast(ctx, n_steps)
        return np.concatenate([out, out[..., :1]], axis=-1)


class IgnoresContext(Persistence):
    """Forecasts from the last training state whatever the context says."""

    name = "ignores_context"

    def _fit(self, parts, dt, report):
        self.last_ = parts[-1][-1].copy()

    def _init_state(self, ctx):
        return np.repeat(self.last_[None], len(ctx), axis=0)


class SwapsVariables(Persistence):
    """Repeats the last state with two variables swapped."""

    name = "swaps_variables"

    def _init_state(self, ctx):
        return ctx[:, -1, ::-1].copy()


class ConvertsInInit(Persistence):
    """Validates and converts a hyperparameter in ``__init__`` (clone cannot work)."""

    name = "converts_in_init"

    def __init__(self, lags=(1, 2)):
        self.lags = list(lags)


class IgnoresCancel(Persistence):
    name = "ignores_cancel"

    def fit(self, X, dt, *, progress=None, cancel=None):
        return super().fit(X, dt, progress=progress)


@pytest.mark.parametrize("broken, failing", [
    (WrongShape, "check_fit_forecast_shapes"),
    (IgnoresContext, "check_first_step"),
    (SwapsVariables, "check_first_step"),
    (ConvertsInInit, "check_init_stores_params"),
    (IgnoresCancel, "check_cancel_and_progress"),
])
def test_checks_catch_a_broken_learner(broken, failing):
    checks = dict(learner_checks(broken))
    with pytest.raises(AssertionError):
        checks[failing]()
    with pytest.raises(AssertionError, match=failing):
        check_learner(broken)


def test_a_correct_third_party_learner_passes():
    """An unregistered subclass passes every check but save/load, which needs the
    registry to find its class (and is left out, not passed silently)."""

    class Mine(Persistence):
        name = "mine"

    names = [n for n, _ in learner_checks(Mine)]
    assert "check_save_load" not in names and len(names) == len(CHECKS) - 1
    check_learner(Mine)
    check_learner(Mine())            # an instance works too
    assert "check_save_load" in [n for n, _ in learner_checks(Persistence)]


def test_learner_checks_rejects_a_non_learner():
    with pytest.raises(TypeError, match="expected a learner"):
        learner_checks(42)
