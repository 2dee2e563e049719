"""NG-RC against known answers: the ridge problem of Gauthier et al. (2021) solved
independently, and the ridge rule that keeps coarsely sampled forecasts from blowing up."""
import json
from itertools import combinations_with_replacement

import numpy as np
import pytest

import chaoslab as cl

from .conftest import LORENZ_LAMBDA


@pytest.fixture(scope="module")
def coarse():
    """Lorenz at dt 0.025 (Gauthier et al. 2021): 400 samples, as in the paper, to fit."""
    return cl.simulate(cl.systems.get("Lorenz"), 500, dt=0.025, transient=20.0)[:400]


def features(now, before):
    """Constant, linear and quadratic features of k = 2 delays: 1, [x[n], x[n-1]] and
    their 21 unique products (the paper's feature vector, written out independently)."""
    lin = np.hstack([now, before])
    quad = [lin[:, i] * lin[:, j] for i, j in combinations_with_replacement(range(6), 2)]
    return np.column_stack([np.ones(len(lin)), lin] + quad)


def gauthier_features(X):
    """Features of every sample with a predecessor and a successor, and the targets
    x[n+1] - x[n]."""
    return features(X[1:-1], X[:-2]), X[2:] - X[1:-1]


def lstsq_ridge(F, Y, alpha):
    """Ridge by least squares on the augmented system [F; sqrt(alpha) I] W = [Y; 0] (SVD,
    not the normal equations the learner solves)."""
    p = F.shape[1]
    A = np.vstack([F, np.sqrt(alpha) * np.eye(p)])
    return np.linalg.lstsq(A, np.vstack([Y, np.zeros((p, Y.shape[1]))]), rcond=None)[0]


def test_raw_ridge_is_gauthier_regression(coarse):
    """standardize=False is exactly the paper's ridge on the raw data: weights equal an
    independent least-squares solve (a well-conditioned penalty), and at the paper's
    penalty 2.5e-6 (condition number ~1.7e7) the fitted increments and the first forecast
    step agree to rounding."""
    F, Y = gauthier_features(coarse)
    m = cl.learners.make("ngrc", k=2, skip=1, degree=2, ridge=1.0, standardize=False)
    m.fit(coarse, 0.025)
    assert m.w_out_.shape == (28, 3) and m.ridge_ == 1.0
    np.testing.assert_array_equal(m.mean_, 0.0)
    np.testing.assert_array_equal(m.scale_, 1.0)
    np.testing.assert_allclose(m.w_out_, lstsq_ridge(F, Y, 1.0), rtol=1e-6, atol=1e-9)

    m.set_params(ridge=2.5e-6).fit(coarse, 0.025)
    W = lstsq_ridge(F, Y, 2.5e-6)
    inc = F @ W
    np.testing.assert_allclose(F @ m.w_out_, inc, atol=1e-5 * np.abs(inc).max())
    f_last = features(coarse[-1:], coarse[-2:-1])[0]
    np.testing.assert_allclose(m.forecast(coarse[-2:], 1)[0], coarse[-1] + f_last @ W,
                               rtol=0, atol=1e-5 * np.abs(inc).max())


def test_standardized_ridge_is_the_same_regression_on_scaled_data(coarse):
    """standardize=True: the same regression on (x - mean) / std, mapped back."""
    mean, std = coarse.mean(axis=0), coarse.std(axis=0)
    F, Y = gauthier_features((coarse - mean) / std)
    m = cl.learners.make("ngrc", k=2, skip=1, ridge=1e-3).fit(coarse, 0.025)
    np.testing.assert_allclose(m.mean_, mean)
    np.testing.assert_allclose(m.w_out_, lstsq_ridge(F, Y, 1e-3), rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def lorenz_coarse():
    """Lorenz at dt 0.025: 10,000 samples to train, 5 held-out starts two Lyapunov times
    apart, each forecast 15 Lyapunov times."""
    dt = 0.025
    X = cl.simulate(cl.systems.get("Lorenz"), 18_000, dt=dt, transient=20.0)
    train, test = X[:10_000], X[10_000:]
    n_steps, step = int(15 / LORENZ_LAMBDA / dt), int(2 / LORENZ_LAMBDA / dt)
    ctx = np.stack([test[i * step:i * step + 200] for i in range(5)])
    truth = np.stack([test[i * step + 200:i * step + 200 + n_steps] for i in range(5)])
    return train, ctx, truth, dt


def _vpt(m, data):
    train, ctx, truth, dt = data
    pred = m.forecast(ctx, truth.shape[1])
    return cl.metrics.valid_prediction_time(truth, pred, dt, LORENZ_LAMBDA,
                                            scale=train.std(axis=0))


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_weak_ridge_blows_up_at_coarse_sampling(lorenz_coarse):
    """The failure ridge="auto" fixes: at dt 0.025 a fixed weak ridge (the old default
    1e-8, or the paper's 2.5e-6 on raw, accurately integrated data) leaves the delay
    directions of the fit free, the closed-loop map is unstable (Jacobian eigenvalues of
    modulus 10 to 30) and every forecast leaves the attractor within a few samples
    (measured VPT 0.09 to 0.11 Lyapunov times)."""
    train, _, _, dt = lorenz_coarse
    for hyper in (dict(ridge=1e-8), dict(ridge=2.5e-6, standardize=False)):
        m = cl.learners.make("ngrc", k=2, skip=1, **hyper).fit(train, dt)
        assert np.all(_vpt(m, lorenz_coarse) < 0.3), hyper


@pytest.mark.parametrize("standardize", [True, False])
def test_auto_ridge_is_stable_at_coarse_sampling(lorenz_coarse, standardize):
    """ridge="auto" (the default) picks a ridge by validation: no start blows up, median
    VPT above 2 Lyapunov times (measured 5.5 standardised, 4.9 raw), with a penalty many
    orders of magnitude above the failing ones."""
    train, _, _, dt = lorenz_coarse
    m = cl.learners.make("ngrc", k=2, skip=1, standardize=standardize).fit(train, dt)
    v = _vpt(m, lorenz_coarse)
    assert np.all(v > 0.5) and np.median(v) > 2.0, v
    assert m.ridge_ > 1e-5


def test_auto_ridge_keeps_fine_sampling_skill(lorenz_data, median_vpt):
    """At dt 0.01 the chosen ridge is small and the skill of the old fixed default is kept
    (measured median VPT 10.96 with auto, 10.65 with ridge=1e-8)."""
    train, test = lorenz_data
    m = cl.learners.make("ngrc").fit(train, 0.01)
    assert m.ridge_ < 1e-6
    assert median_vpt(m, test, scale=train.std(axis=0)) >= 8.0


def test_auto_ridge_without_room_to_validate_uses_the_fallback():
    """A trajectory too short to hold a fifth out (with a context and 10 steps) uses the
    documented relative fallback."""
    from chaoslab.learners.ngrc import RIDGE_FALLBACK

    X = cl.simulate(cl.systems.get("Lorenz"), 60, dt=0.01, transient=20.0)
    m = cl.learners.make("ngrc").fit(X, 0.01)
    F, _ = m._design([(X - m.mean_) / m.scale_])
    G = F.T @ F
    assert m.ridge_ == pytest.approx(RIDGE_FALLBACK * np.trace(G) / len(G), rel=1e-12)


def test_bad_hyperparameters_are_named():
    X = np.random.default_rng(0).standard_normal((300, 3))
    for hyper, match in ((dict(ridge="fast"), "ridge must be a number >= 0 or 'auto'"),
                         (dict(ridge=-1.0), "ridge must be >= 0"),
                         (dict(standardize="yes"), "standardize must be True or False"),
                         (dict(k=0), "k must be >= 1")):
        with pytest.raises(ValueError, match=match):
            cl.learners.make("ngrc", **hyper).fit(X, 0.01)


def test_files_of_the_previous_release_load(tmp_path, coarse):
    """A file written before ``standardize`` and ``ridge_`` existed loads with the old
    behaviour (standardised, the stored weights) and forecasts identically."""
    m = cl.learners.make("ngrc", k=2, skip=1, ridge=1e-6).fit(coarse, 0.025)
    path = m.save(tmp_path / "new.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "ridge_"}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    del meta["params"]["standardize"]
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    old = cl.learners.load(tmp_path / "old.npz")
    assert old.standardize is True and old.ridge_ == 1e-6
    np.testing.assert_array_equal(old.forecast(coarse[:50], 30), m.forecast(coarse[:50], 30))
