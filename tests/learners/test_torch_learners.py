"""Tests specific to the torch learners (PLRNN/ALRNN, LSTM, Transformer, Mamba, neural ODE).

The generic protocol (shapes, save/load, determinism) is tested for every learner in
``test_protocol.py``; here: GTF, the ALRNN's symbolic code and Jacobian, precision
rollouts, known-answer accuracy of the neural ODE, devices, threads and cancellation.
Models are tiny so that the whole file runs in well under a minute on two cores.
"""
import copy
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chaoslab as cl  # noqa: E402
import chaoslab.learners as L  # noqa: E402
from chaoslab.learners.torch_base import precision_divergence  # noqa: E402

DT = 0.01
TINY = {
    "plrnn": dict(hidden_dim=16, epochs=2, seq_len=20, n_checks=1),
    "alrnn": dict(latent_dim=10, n_relu=4, epochs=2, seq_len=20, n_checks=1),
    "lstm": dict(hidden=8, epochs=2, lbfgs_steps=3),
    "transformer": dict(d_model=8, ff=8, heads=2, epochs=2, lbfgs_steps=2),
    "mamba": dict(d_model=8, d_inner=8, d_state=4, layers=1, epochs=2, lbfgs_steps=2),
    "neural_ode": dict(hidden=16, adam_steps=20, lbfgs_steps=5),
}


@pytest.fixture(scope="module")
def lorenz():
    s = cl.systems.get("Lorenz")
    return cl.simulate(s, 3000, dt=DT, transient=1000 * DT)


def _rollout_error(x_pred, x_true, sigma):
    return np.linalg.norm(x_pred - x_true, axis=-1) / sigma


# ---------------------------------------------------------------------------- import
def test_import_does_not_load_torch():
    code = ("import sys, chaoslab.learners as L; L.names(); "
            "L.make('plrnn'); L.make('mamba'); "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_registry_names_and_flags():
    for name in TINY:
        cls = L.learner_class(name)
        assert cls.name == name
        assert cls.uses_torch is True
        model = cls()
        assert set(model.get_params()) == set(cls._param_names())


# ---------------------------------------------------------------------------- ALRNN
@pytest.fixture(scope="module")
def alrnn(lorenz):
    return L.make("alrnn", latent_dim=12, n_relu=6, epochs=40, seq_len=30,
                  n_checks=4).fit(lorenz[:2000], DT)


def test_alrnn_symbolic_code_range_and_changes(alrnn, lorenz):
    P = alrnn.n_relu
    codes = alrnn.symbolic_code(lorenz[2000:2600])
    assert codes.shape == (600,) and codes.dtype == np.int64
    assert codes.min() >= 0 and codes.max() < 2 ** P == alrnn.max_subregions
    # a chaotic trajectory crosses between linear subregions
    assert len(np.unique(codes)) > 1
    assert np.count_nonzero(np.diff(codes)) > 0
    assert 1 <= alrnn.n_subregions_ <= 2 ** P
    # the code is the on/off pattern of the last P latent units
    z = alrnn.latent_states(lorenz[2000:2600])
    bits = (z[:, -P:] > 0).astype(int)
    assert np.array_equal(codes, bits @ (2 ** np.arange(P)))
    # free-running codes, single and batched context
    free = alrnn.symbolic_code(lorenz[2500:2600], n_steps=50)
    assert free.shape == (50,) and free.min() >= 0 and free.max() < 2 ** P
    both = alrnn.symbolic_code(np.stack([lorenz[2400:2500], lorenz[2500:2600]]), n_steps=50)
    assert both.shape == (2, 50)
    assert np.array_equal(both[1], free)


def test_alrnn_jacobian_matches_finite_differences(alrnn, lorenz):
    z = alrnn.latent_states(lorenz[2000:2100])[-1]
    J = alrnn.jacobian(z)
    M = alrnn.latent_dim
    assert J.shape == (M, M)
    module = copy.deepcopy(alrnn.module_).double()
    f = lambda v: module(torch.as_tensor(v)[None])[0].detach().numpy()  # noqa: E731
    eps = 1e-6
    fd = np.stack([(f(z + eps * e) - f(z - eps * e)) / (2 * eps) for e in np.eye(M)], 1)
    np.testing.assert_allclose(J, fd, atol=1e-6)
    assert alrnn.jacobian(np.stack([z, z])).shape == (2, M, M)


def test_alrnn_subregions_survive_save_load(alrnn, lorenz, tmp_path):
    path = alrnn.save(tmp_path / "alrnn.npz")
    back = L.load(path)
    assert back.n_subregions_ == alrnn.n_subregions_
    x = lorenz[2000:2300]
    assert np.array_equal(back.symbolic_code(x), alrnn.symbolic_code(x))


def test_alrnn_bad_n_relu():
    with pytest.raises(ValueError, match="n_relu"):
        L.make("alrnn", latent_dim=8, n_relu=9).fit(np.random.rand(200, 3), DT)


# ---------------------------------------------------------------------------- PLRNN / GTF
def test_gtf_alpha_changes_training(lorenz):
    common = dict(hidden_dim=16, epochs=3, seq_len=20, batch_size=16, n_checks=0)
    forced = L.make("plrnn", alpha=1.0, **common).fit(lorenz[:1000], DT)
    free = L.make("plrnn", alpha=0.0, **common).fit(lorenz[:1000], DT)
    assert not np.allclose(forced.loss_history_, free.loss_history_)
    ctx = lorenz[1000:1010]
    assert not np.allclose(forced.forecast(ctx, 20), free.forecast(ctx, 20))


def test_adaptive_alpha_follows_the_jacobian_bound(lorenz):
    """The adaptive rule sets alpha = max(0, 1 - 1/G), G the geometric mean of the
    spectral norms of the Jacobians along the forced states."""
    m = L.make("plrnn", epochs=1, seq_len=20, n_checks=0).fit(lorenz[:600], DT)
    module = m.module_
    with torch.no_grad():
        module.A.fill_(3.0)              # every Jacobian has norm >= 3 - |W1 W2|
        module.W1.zero_()
    states = torch.as_tensor(m._normalise(lorenz[:40]))[None]
    m._alpha_now = 0.0
    m._update_forcing(module, states.numpy(), 0)
    assert m._alpha_now == pytest.approx(1.0 - 1.0 / 3.0, rel=1e-6)
    with torch.no_grad():
        module.A.fill_(0.5)
    m._update_forcing(module, states.numpy(), 0)
    assert m._alpha_now == 0.0


def test_gtf_loss_interpolates_forcing(lorenz):
    """alpha=1 is teacher forcing of the observed units: the loss of a model whose map is
    the identity on them equals the mean squared one-step difference of the data."""
    from chaoslab.learners.plrnn import cpu_loss_and_grad, forced_rollout

    m = L.make("alrnn", latent_dim=6, n_relu=2, epochs=1, seq_len=10, batch_size=4,
               n_checks=0).fit(lorenz[:500], DT)
    module = m.module_
    with torch.no_grad():
        module.A.fill_(1.0)
        module.W.zero_()
        module.h.zero_()
    w = torch.as_tensor(m._normalise(lorenz[:30])[None], dtype=torch.float32)
    expected = ((w[:, 1:] - w[:, :-1]) ** 2).mean()
    z = forced_rollout(module, w, alpha=1.0)
    assert float(((z[..., :3] - w[:, 1:]) ** 2).mean()) == pytest.approx(float(expected),
                                                                         rel=1e-5)
    assert cpu_loss_and_grad(module, w.numpy(), alpha=1.0)[0] == pytest.approx(
        float(expected), rel=1e-5)
    # alpha=0 lets the identity model run freely: it predicts the first sample throughout
    free = ((w[:, 1:] - w[:, :1]) ** 2).mean()
    assert cpu_loss_and_grad(module, w.numpy(), alpha=0.0)[0] == pytest.approx(
        float(free), rel=1e-5)


@pytest.mark.parametrize("kind", ["plrnn", "alrnn"])
@pytest.mark.parametrize("forcing", [dict(alpha=0.3), dict(interval=4), dict(alpha=0.0)])
def test_cpu_kernels_give_the_autograd_gradient(kind, forcing):
    """The numba loss and gradient equal torch autograd through forced_rollout."""
    from chaoslab.learners.nn.plrnn import PLRNNCell, ShallowPLRNNCell
    from chaoslab.learners.plrnn import cpu_loss_and_grad, forced_rollout

    torch.manual_seed(3)
    cell = (ShallowPLRNNCell(3, 5, 9) if kind == "plrnn" else PLRNNCell(3, 8, 3)).double()
    w = torch.randn(4, 17, 3, dtype=torch.float64)
    z = forced_rollout(cell, w, **forcing)
    loss = ((z[..., :3] - w[:, 1:]) ** 2).mean()
    loss.backward()
    value, grads, _ = cpu_loss_and_grad(cell, w.numpy(), **forcing)
    assert value == pytest.approx(float(loss.detach()), rel=1e-12)
    for k, p in cell.named_parameters():
        np.testing.assert_allclose(grads[k], p.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_plrnn_bad_hyperparameters(lorenz):
    with pytest.raises(ValueError, match="alpha"):
        L.make("plrnn", alpha=1.5).fit(lorenz[:500], DT)
    with pytest.raises(ValueError, match="alpha"):
        L.make("plrnn", alpha="sometimes").fit(lorenz[:500], DT)
    with pytest.raises(ValueError, match="latent_dim"):
        L.make("plrnn", latent_dim=2).fit(lorenz[:500], DT)
    with pytest.raises(ValueError, match="lr_end"):
        L.make("alrnn", lr=1e-3, lr_end=1e-2).fit(lorenz[:500], DT)
    with pytest.raises(ValueError, match="tf_interval"):
        L.make("alrnn", tf_interval=0).fit(lorenz[:500], DT)


# ---------------------------------------------------------------------------- precision
@pytest.fixture(scope="module")
def node(lorenz):
    return L.make("neural_ode", hidden=32, adam_steps=300, lbfgs_steps=150).fit(
        lorenz[:2500], DT)


def test_neural_ode_one_step_known_answer(node, lorenz):
    """One RK4 step of the learned field lands close to the true next state."""
    sigma = lorenz.std(axis=0).mean()
    idx = np.arange(2600, 2990, 13)
    ctx = lorenz[idx - 1][:, None, :]
    y = node.forecast(ctx, 1)[:, 0]
    err = _rollout_error(y, lorenz[idx], sigma)
    # persistence (repeating the last state) is off by a typical increment
    persist = _rollout_error(lorenz[idx - 1], lorenz[idx], sigma)
    assert np.median(err) < 2e-3
    assert np.median(err) < 0.05 * np.median(persist)
    # and the learned vector field is the Lorenz field, roughly
    s = cl.systems.get("Lorenz")
    x = lorenz[idx]
    sig, rho, beta = 10.0, 28.0, 8.0 / 3.0
    true = np.stack([sig * (x[:, 1] - x[:, 0]), x[:, 0] * (rho - x[:, 2]) - x[:, 1],
                     x[:, 0] * x[:, 1] - beta * x[:, 2]], axis=1)
    assert s.dim == 3
    rel = np.linalg.norm(node.vector_field(x) - true, axis=1) / np.linalg.norm(true, axis=1)
    assert np.median(rel) < 0.05


def test_precision_divergence_starts_small_and_grows(node, lorenz):
    ctx = lorenz[2500:2501]
    curve = precision_divergence(node, ctx, 1500)
    assert curve.shape == (1500,)
    assert curve[0] < 0.02  # bfloat16 round-off: a few 1e-3 at most
    assert np.nanmax(curve) > 20 * max(curve[0], 1e-3)
    y32 = node.forecast(ctx, 50)
    ybf = node.forecast(ctx, 50, dtype="bfloat16")
    y64 = node.forecast(ctx, 50, dtype="float64")
    assert not np.array_equal(y32, ybf)
    # float64 and float32 agree far better than bfloat16 and float32 at the start
    assert np.abs(y64 - y32)[:5].max() < 0.1 * np.abs(ybf - y32)[:5].max()
    batch = precision_divergence(node, np.stack([lorenz[2400:2401], ctx[:1]]), 20,
                                 low="float32", high="float64")
    assert batch.shape == (2, 20)


def test_forecast_bad_dtype(node, lorenz):
    with pytest.raises(ValueError, match="dtype"):
        node.forecast(lorenz[:1], 5, dtype="float16")


def test_precision_divergence_needs_torch_learner(lorenz):
    class Fake:
        uses_torch = False

    with pytest.raises(TypeError):
        precision_divergence(Fake(), lorenz[:5], 5)


def test_neural_ode_lyapunov_positive(node, lorenz):
    lam = node.lyapunov_exponent(lorenz[-1:], T=30.0, transient=2.0)
    assert 0.5 < lam < 1.3  # Lorenz: 0.906 (measured 0.83-0.91 over three seeds)
    # the old call (3,000 and 200 samples of dt = 0.01) gives the same number, with a
    # DeprecationWarning for n_steps and for transient read in its old unit
    with pytest.warns(DeprecationWarning) as record:
        old = node.lyapunov_exponent(lorenz[-1:], n_steps=3000, transient=200)
    assert old == lam
    assert any("'n_steps' is deprecated" in str(w.message) for w in record)
    assert any("number of samples (its old meaning)" in str(w.message) for w in record)


def test_lyapunov_transient_is_a_time(node, lorenz):
    """A non-zero integer transient (the old unit) warns that it is now read as a time."""
    with pytest.warns(FutureWarning, match="transient=2 is read as 2 time units = 200"):
        a = node.lyapunov_exponent(lorenz[-1:], T=1.0, transient=2)
    assert a == node.lyapunov_exponent(lorenz[-1:], T=1.0, transient=2.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        node.lyapunov_exponent(lorenz[-1:], steps=100)
    with pytest.raises(TypeError):
        node.lyapunov_exponent(lorenz[-1:], 3000)       # spans are keyword-only


# ---------------------------------------------------------------------------- renamed keywords
@pytest.mark.parametrize("name", ["lstm", "transformer", "mamba", "neural_ode"])
def test_horizon_is_now_unroll(name, lorenz, tmp_path):
    """The training rollout length is ``unroll`` (``horizon`` is a forecast span in
    Lyapunov times); ``horizon=`` works for one release, with a DeprecationWarning."""
    cls = L.learner_class(name)
    assert "unroll" in cls._param_names() and "horizon" not in cls._param_names()
    with pytest.warns(DeprecationWarning, match="'horizon' is deprecated.*'unroll'"):
        old = L.make(name, horizon=3, device="cpu", **TINY[name])
    assert old.unroll == 3 and not hasattr(old, "horizon")
    with pytest.warns(DeprecationWarning, match="'horizon' is deprecated"):
        cls(horizon=3)
    with pytest.raises(ValueError, match="not both"):
        L.make(name, horizon=3, unroll=5)
    new = L.make(name, unroll=3, device="cpu", **TINY[name])
    old.fit(lorenz[:600], DT)
    new.fit(lorenz[:600], DT)
    np.testing.assert_array_equal(old.forecast(lorenz[600:620], 10),
                                  new.forecast(lorenz[600:620], 10))
    # a file written by the previous release names the hyperparameter "horizon"
    import json
    path = new.save(tmp_path / "m.npz")
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(bytes(arrays["__meta__"]).decode())
    meta["params"]["horizon"] = meta["params"].pop("unroll")
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(tmp_path / "old.npz", **arrays)
    back = L.load(tmp_path / "old.npz")
    assert back.unroll == 3
    np.testing.assert_array_equal(back.forecast(lorenz[600:620], 10),
                                  new.forecast(lorenz[600:620], 10))


def test_mamba_delta_range_renamed():
    with pytest.warns(DeprecationWarning, match="'dt_min' is deprecated.*'delta_min'"):
        m = L.make("mamba", dt_min=0.02)
    assert m.delta_min == 0.02 and m.delta_max == 1.0
    with pytest.raises(ValueError, match="delta_min <= delta_max"):
        L.make("mamba", delta_min=2.0, **TINY["mamba"]).fit(np.random.rand(300, 3), DT)


# ---------------------------------------------------------------------------- nn modules
def test_networks_are_module_level_classes(lorenz):
    """The torch modules live in chaoslab.learners.nn (picklable, named), and the
    trained network of a learner is one of them."""
    import pickle

    from chaoslab.learners.nn import lstm, mamba, node, plrnn, transformer

    expected = {"lstm": lstm.LSTMNet, "transformer": transformer.TransformerNet,
                "mamba": mamba.MambaNet, "neural_ode": node.VectorField,
                "plrnn": plrnn.ShallowPLRNNCell, "alrnn": plrnn.PLRNNCell}
    for name, cls in expected.items():
        module = L.make(name, device="cpu", **TINY[name])._build_module(3)
        assert type(module) is cls and "<locals>" not in cls.__qualname__
        again = pickle.loads(pickle.dumps(module))
        assert all(torch.equal(a, b) for a, b in zip(module.state_dict().values(),
                                                     again.state_dict().values()))
    from chaoslab.learners.neural_ode import ACTIVATIONS
    assert tuple(node.ACTIVATIONS) == ACTIVATIONS


def test_rk4_flow_is_classical_rk4():
    """On the linear field x' = a x one RK4 step multiplies by the degree-4 Taylor
    polynomial of exp(a h), the known answer of the classical method."""
    from chaoslab.learners.nn.node import rk4_flow

    a = torch.tensor([-0.7, 0.3, 1.1], dtype=torch.float64)
    x = torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)
    for substeps in (1, 3):
        h = 1.0 / substeps
        z = a * h
        factor = (1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24) ** substeps
        got = rk4_flow(lambda v: a * v, x, substeps)
        torch.testing.assert_close(got, x * factor, rtol=1e-14, atol=0)


# ---------------------------------------------------------------------------- devices etc.
@pytest.mark.parametrize("name", sorted(TINY))
def test_cpu_device_bf16_and_global_state(name, lorenz):
    threads = torch.get_num_threads()
    rng = torch.random.get_rng_state()
    m = L.make(name, device="cpu", **TINY[name]).fit(lorenz[:600], DT)
    assert m.device_ == "cpu"
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), rng)
    ctx = lorenz[600:600 + m.context_length]
    for dtype in ("float32", "bfloat16", "float64"):
        y = m.forecast(ctx, 7, dtype=dtype)
        assert y.shape == (7, 3) and y.dtype == np.float64
    assert m.forecast(np.stack([ctx] * 3), 4).shape == (3, 4, 3)
    assert m.forecast(ctx, 0).shape == (0, 3)


def test_cuda_requested_without_cuda(lorenz):
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA"):
        L.make("lstm", device="cuda", **TINY["lstm"]).fit(lorenz[:300], DT)


def test_bad_inputs(lorenz):
    with pytest.raises(ValueError, match="hidden"):
        L.make("lstm", hidden=0).fit(lorenz[:300], DT)
    with pytest.raises(ValueError, match="heads"):
        L.make("transformer", d_model=10, heads=4).fit(lorenz[:300], DT)
    with pytest.raises(ValueError, match="at least"):
        L.make("transformer", window=8, unroll=4, **TINY["transformer"]).fit(lorenz[:10], DT)
    with pytest.raises(ValueError, match="device"):
        L.make("mamba", device="tpu", **TINY["mamba"]).fit(lorenz[:300], DT)
    m = L.make("neural_ode", **TINY["neural_ode"]).fit(lorenz[:300], DT)
    with pytest.raises(ValueError, match="context"):
        m.forecast(lorenz[:5, :2], 3)
    with pytest.raises(ValueError, match="n_steps"):
        m.forecast(lorenz[:5], -1)


def test_progress_and_cancel_within_a_second(lorenz):
    seen = []
    m = L.make("lstm", **TINY["lstm"])
    m.fit(lorenz[:600], DT, progress=lambda f, msg: seen.append((f, msg)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("loss" in msg for _, msg in seen)

    stop = threading.Event()
    done = {}

    def run():
        t = time.perf_counter()
        try:
            L.make("neural_ode", adam_steps=100_000).fit(lorenz, DT, cancel=stop)
        except L.FitCancelled:
            done["after"] = time.perf_counter() - t0
        done["total"] = time.perf_counter() - t

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    stop.set()
    thread.join(timeout=30)
    assert "after" in done, "fit was not cancelled"
    assert done["after"] < 1.5
