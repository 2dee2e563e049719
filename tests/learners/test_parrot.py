"""Context parroting (Zhang & Gilpin 2025) against known answers: exact copies of periodic
and repeated data, the documented tie-breaking and continuation rules, and its skill on
Lorenz against persistence."""
import numpy as np
import pytest

import chaoslab as cl
from chaoslab.learners.testing import check_learner


def periodic(n_periods, period=37, dim=2):
    """An exactly periodic signal: one period of a smooth curve, tiled bit for bit."""
    t = 2 * np.pi * np.arange(period) / period
    one = np.column_stack([np.cos(t) + 0.3 * np.sin(3 * t), np.sin(t) * np.cos(2 * t)])
    return np.tile(one[:, :dim], (n_periods, 1))


@pytest.mark.parametrize("search", ["context", "both"])
@pytest.mark.parametrize("skip", [1, 2])
def test_periodic_signal_is_continued_exactly(search, skip):
    """On an exactly periodic signal the forecast is its continuation, bit for bit, far
    past the end of the context (parroting continues from the copied segment)."""
    x = periodic(20)
    context, future = x[:200], x[200:200 + 400]      # 200 = 5 periods + 15 samples
    m = cl.learners.make("parrot", motif_length=8, skip=skip, search=search)
    m.fit(periodic(6)[5:], dt=0.1)                   # training data with another phase
    np.testing.assert_array_equal(m.forecast(context, 400), future)


def test_a_repeated_motif_reproduces_what_followed_it():
    """When the last motif of the context occurred earlier, the forecast is exactly what
    followed it (Lorenz: the context ends with a copy of rows 100..109)."""
    X = cl.simulate(cl.systems.get("Lorenz"), 3000, dt=0.01, transient=20.0)
    context = np.concatenate([X[:600], X[100:110]])
    for search in ("context", "both"):
        m = cl.learners.make("parrot", motif_length=10, search=search).fit(X[1000:], 0.01)
        np.testing.assert_array_equal(m.forecast(context, 300), X[110:410])


def test_training_match_and_rematch_at_the_end_of_a_trajectory():
    """search="training": a context cut from the training data continues with the
    training rows that followed it; where that trajectory ends, the motif is matched
    again, so every forecast row is a training row."""
    X = cl.simulate(cl.systems.get("Lorenz"), 9000, dt=0.01, transient=20.0)
    parts = [X[:3000], X[5000:8000]]
    m = cl.learners.make("parrot", motif_length=5, search="training").fit(parts, 0.01)
    y = m.forecast(X[2900:2910], 400)
    np.testing.assert_array_equal(y[:90], X[2910:3000])
    rows = {tuple(r) for r in np.concatenate(parts)}
    assert all(tuple(r) in rows for r in y)
    # the re-match is a near motif: the next 20 rows follow the truth (measured error
    # 0.02 to 0.03 standard deviations; distant rows of the attractor are ~1.4 apart)
    sd = np.concatenate(parts).std(axis=0)
    err = np.sqrt(np.mean(((y[90:110] - X[3000:3020]) / sd) ** 2, axis=-1))
    assert err.max() < 0.1, err


def test_ties_go_to_the_earliest_motif_and_the_context():
    """Two exact earlier occurrences of the last motif: the earliest wins; an exact match
    in the training data loses to one in the context."""
    rng = np.random.default_rng(1)
    A, c1, c2 = (rng.standard_normal((n, 1)) for n in (6, 15, 15))
    context = np.concatenate([A, c1, A, c2, A])
    m = cl.learners.make("parrot", motif_length=6, search="context")
    m.fit(rng.standard_normal((100, 1)), 1.0)
    y = m.forecast(context, 15)
    np.testing.assert_array_equal(y, c1)
    # training data holding A followed by something else: the context's copy wins
    other = rng.standard_normal((15, 1))
    m = cl.learners.make("parrot", motif_length=6, search="both")
    m.fit(np.concatenate([A, other]), 1.0)
    np.testing.assert_array_equal(m.forecast(context, 15), c1)
    # without the context, the training copy is the answer
    m.set_params(search="training").fit(np.concatenate([A, other]), 1.0)
    np.testing.assert_array_equal(m.forecast(context, 15)[:15], other)


def test_beats_persistence_by_a_wide_margin_on_lorenz(lorenz_data, median_vpt):
    """Lorenz at dt 0.01, 10,000 training samples, 20 held-out starts: the parrot's median
    VPT is above 1.5 Lyapunov times (measured 2.47) against persistence's 0.09, more than
    ten times longer, and every forecast is finite."""
    train, test = lorenz_data
    scale = train.std(axis=0)
    parrot = cl.learners.make("parrot").fit(train, 0.01)
    persistence = cl.learners.make("persistence").fit(train, 0.01)
    v_parrot = median_vpt(parrot, test, scale=scale)
    v_persist = median_vpt(persistence, test, n_steps=300, scale=scale)
    assert v_parrot > 1.5 and v_parrot > 10 * v_persist, (v_parrot, v_persist)
    assert np.all(np.isfinite(parrot.forecast(test[:200], 2000)))


def test_context_parroting_improves_with_context_length():
    """search="context" (the paper's zero-shot setting): a longer context holds closer
    motifs, so forecasts last longer (measured median VPT 0.12 Lyapunov times with 200
    rows, 1.5 with 5,000)."""
    X = cl.simulate(cl.systems.get("Lorenz"), 40_000, dt=0.01, transient=20.0)
    train, test = X[:2000], X[2000:]
    m = cl.learners.make("parrot", search="context").fit(train, 0.01)
    med = {}
    for n_ctx in (200, 5000):
        starts = np.linspace(0, len(test) - n_ctx - 1500, 10).astype(int)
        ctx = np.stack([test[i:i + n_ctx] for i in starts])
        truth = np.stack([test[i + n_ctx:i + n_ctx + 1500] for i in starts])
        med[n_ctx] = float(np.median(cl.metrics.valid_prediction_time(
            truth, m.forecast(ctx, 1500), 0.01, 0.9056, scale=train.std(axis=0))))
    assert med[5000] > 1.0 > 0.5 > med[200], med


def test_batch_equals_single_forecasts_through_rematches():
    X = cl.simulate(cl.systems.get("Lorenz"), 6000, dt=0.01, transient=20.0)
    m = cl.learners.make("parrot", motif_length=4).fit([X[:1500], X[1500:3000]], 0.01)
    ctx = np.stack([X[3000 + 97 * i:3100 + 97 * i] for i in range(6)])
    batch = m.forecast(ctx, 2500)                   # longer than any training trajectory
    for i in range(6):
        np.testing.assert_array_equal(batch[i], m.forecast(ctx[i], 2500))


def test_save_load_keeps_the_training_trajectories(tmp_path):
    X = cl.simulate(cl.systems.get("Lorenz"), 4000, dt=0.01, transient=20.0)
    m = cl.learners.make("parrot", motif_length=3, skip=2).fit([X[:1000], X[1000:3000]], 0.01)
    back = cl.learners.load(m.save(tmp_path / "p.npz"))
    np.testing.assert_array_equal(back.lengths_, [1000, 2000])
    np.testing.assert_array_equal(back.forecast(X[3000:3100], 1500),
                                  m.forecast(X[3000:3100], 1500))
    c = cl.learners.make("parrot", search="context").fit(X[:500], 0.01)
    assert c.train_.shape == (0, 3)
    back = cl.learners.load(c.save(tmp_path / "c.npz"))
    np.testing.assert_array_equal(back.forecast(X[3000:3100], 50), c.forecast(X[3000:3100], 50))


def test_bad_input_is_named():
    X = np.random.default_rng(0).standard_normal((100, 2))
    for hyper, match in ((dict(search="past"), "search must be one of"),
                         (dict(motif_length=0), "motif_length must be >= 1"),
                         (dict(skip=1.5), "skip must be an integer")):
        with pytest.raises(ValueError, match=match):
            cl.learners.make("parrot", **hyper).fit(X, 0.1)
    m = cl.learners.make("parrot", motif_length=10, search="context").fit(X, 0.1)
    assert m.context_length == 20
    with pytest.raises(ValueError, match="at least 20 context rows"):
        m.forecast(X[:19], 5)
    with pytest.raises(ValueError, match="at least 112 samples"):
        cl.learners.make("parrot", motif_length=111).fit(X, 0.1)


def test_lyapunov_exponent_is_zero_by_construction():
    X = cl.simulate(cl.systems.get("Lorenz"), 2000, dt=0.01, transient=20.0)
    m = cl.learners.make("parrot").fit(X, 0.01)
    assert m.lyapunov_exponent(X[:50], T=2.0, transient=0.5) == 0.0
    with pytest.raises(ValueError, match="T must be positive"):
        m.lyapunov_exponent(X[:50], T=-1.0)
    with pytest.raises(TypeError, match="n_steps"):
        m.lyapunov_exponent(X[:50], n_steps=100)


def test_passes_the_protocol_checks_with_its_defaults():
    check_learner(cl.learners.learner_class("parrot"))
