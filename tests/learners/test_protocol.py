"""The protocol every learner follows (one suite over the whole registry)."""
import threading

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.learners import FitCancelled, LearnerFileError, NotFittedError

# small settings so that every learner trains in a second or two
FAST = {
    "esn": dict(size=60, washout=20),
    "edmd": dict(degree=2),
}
TORCH_FAST = {}   # torch learners: filled below from their own quick settings


def fast(name):
    cls = cl.learners.learner_class(name)
    hyper = dict(FAST.get(name, {}))
    quick = getattr(cls, "quick_params", None)
    if quick:
        hyper.update(quick())
    return cl.learners.make(name, **hyper)


@pytest.fixture(scope="module")
def data():
    s = cl.systems.get("Lorenz")
    X = cl.simulate(s, 2600, dt=0.01, transient=1000)
    return X[:2000], X[2000:]


@pytest.fixture(scope="module")
def fitted(data):
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = fast(name).fit(data[0], 0.01)
        return cache[name]
    return get


NAMES = cl.learners.names()


def test_registry():
    assert {"persistence", "linear_ar", "esn", "ngrc", "sindy", "edmd", "plrnn", "alrnn",
            "lstm", "transformer", "mamba", "neural_ode"} <= set(NAMES)
    with pytest.raises(ValueError, match="unknown learner 'esm'.*'esn'"):
        cl.learners.make("esm")
    with pytest.raises(ValueError, match="bad hyperparameters for 'esn'"):
        cl.learners.make("esn", sizes=3)


@pytest.mark.parametrize("name", NAMES)
def test_fit_forecast_shapes(name, data, fitted):
    train, test = data
    m = fitted(name)
    assert m.is_fitted and m.dim_ == 3 and m.dt_ == 0.01
    ctx = test[:200]
    y = m.forecast(ctx, 50)
    assert y.shape == (50, 3)
    yb = m.forecast(np.stack([test[:200], test[100:300]]), 50)
    assert yb.shape == (2, 50, 3)
    # a batch row equals the single forecast from the same context (up to the rounding of
    # batched matrix products, which chaotic rollouts amplify: compare the first steps)
    np.testing.assert_allclose(yb[0, :10], y[:10], rtol=1e-5, atol=1e-6)
    assert m.forecast(ctx, 0).shape == (0, 3)
    # the first forecast step is near the true next state (all but the baselines learn)
    if name != "persistence":
        assert np.all(np.isfinite(y[:10]))


@pytest.mark.parametrize("name", NAMES)
def test_not_fitted(name, tmp_path):
    m = fast(name)
    with pytest.raises(NotFittedError, match="not fitted"):
        m.forecast(np.zeros((200, 3)), 5)
    with pytest.raises(NotFittedError):
        m.save(tmp_path / "m.npz")


@pytest.mark.parametrize("name", NAMES)
def test_save_load_identical(name, data, fitted, tmp_path):
    m = fitted(name)
    path = m.save(tmp_path / f"{name}.npz")
    m2 = cl.learners.load(path)
    assert type(m2) is type(m) and m2.get_params() == m.get_params()
    ctx = data[1][:200]
    np.testing.assert_array_equal(m2.forecast(ctx, 40), m.forecast(ctx, 40))


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_with_seed(name, data, fitted):
    m1 = fitted(name)
    m2 = fast(name).fit(data[0], 0.01)
    ctx = data[1][:200]
    np.testing.assert_array_equal(m1.forecast(ctx, 40), m2.forecast(ctx, 40))


@pytest.mark.parametrize("name", NAMES)
def test_params_roundtrip(name):
    m = fast(name)
    again = cl.learners.make(name, **m.get_params())
    assert again.get_params() == m.get_params()
    assert name in repr(m).lower().replace("_", "") or type(m).__name__ in repr(m)


@pytest.mark.parametrize("name", NAMES)
def test_bad_input(name, data):
    train = data[0].copy()
    m = fast(name)
    with pytest.raises(ValueError, match="dt must be a positive"):
        m.fit(train, -0.01)
    bad = train.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite value at row 5, column 1"):
        m.fit(bad, 0.01)
    with pytest.raises(ValueError, match="1-D"):
        m.fit(train[:, 0], 0.01)
    assert not m.is_fitted


@pytest.mark.parametrize("name", NAMES)
def test_wrong_context(name, fitted):
    m = fitted(name)
    with pytest.raises(ValueError, match="context must be"):
        m.forecast(np.zeros((200, 2)), 5)


@pytest.mark.parametrize("name", NAMES)
def test_cancel_and_progress(name, data):
    m = fast(name)
    ev = threading.Event()
    ev.set()
    with pytest.raises(FitCancelled):
        m.fit(data[0], 0.01, cancel=ev)
    assert not m.is_fitted
    seen = []
    m.fit(data[0], 0.01, progress=lambda f, msg: seen.append(f))
    assert seen and seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)


def test_corrupt_files(data, fitted, tmp_path):
    m = fitted("ngrc")
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


def test_import_learners_loads_no_torch():
    import subprocess
    import sys
    code = ("import sys, chaoslab as cl; m = cl.learners.make('ngrc'); cl.learners.names(); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
