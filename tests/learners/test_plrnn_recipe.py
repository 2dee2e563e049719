"""The papers' training recipes of the PLRNN (GTF) and the AL-RNN (sparse teacher forcing,
model selection by D_stsp): their pieces against known answers, and one real fit."""
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import chaoslab as cl  # noqa: E402
import chaoslab.learners as L  # noqa: E402
from chaoslab.learners.nn.plrnn import PLRNNCell, ShallowPLRNNCell  # noqa: E402
from chaoslab.learners.plrnn import forced_rollout, gtf_state  # noqa: E402

DT = 0.01


@pytest.fixture(scope="module")
def lorenz():
    s = cl.systems.get("Lorenz")
    return cl.simulate(s, 12000, dt=DT, transient=50.0)


def test_gtf_state_is_exact_at_alpha_0_and_1():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(4, 7, generator=g)
    x = torch.randn(4, 3, generator=g)
    assert torch.equal(gtf_state(z, x, 0.0), z)
    one = gtf_state(z, x, 1.0)
    assert torch.equal(one[:, :3], x) and torch.equal(one[:, 3:], z[:, 3:])
    half = gtf_state(z, x, 0.25)
    torch.testing.assert_close(half[:, :3], 0.25 * x + 0.75 * z[:, :3])
    assert torch.equal(half[:, 3:], z[:, 3:])


def _identity_cell(M, P, dim=3):
    cell = PLRNNCell(dim, M, P)
    with torch.no_grad():
        cell.A.fill_(1.0)
        cell.W.zero_()
        cell.h.zero_()
        cell.init.weight.zero_()
        cell.init.bias.fill_(0.5)
    return cell


def test_sparse_forcing_replaces_every_tau_th_step_only():
    """With the identity map the state holds still between forcings: the prediction at
    step t is the data at the last forced step before it (0, tau, 2 tau, ...), and the
    hidden units keep their start."""
    w = torch.arange(2 * 23 * 3, dtype=torch.float32).reshape(2, 23, 3)
    cell = _identity_cell(6, 2)
    for tau in (1, 4, 5):
        z = forced_rollout(cell, w, interval=tau)
        assert z.shape == (2, 22, 6)
        for t in range(1, 23):
            last = ((t - 1) // tau) * tau
            assert torch.equal(z[:, t - 1, :3], w[:, last]), (tau, t)
        assert torch.all(z[..., 3:] == 0.5)
    # alpha = 1 at every step is teacher forcing with interval 1
    assert torch.equal(forced_rollout(cell, w, alpha=1.0), forced_rollout(cell, w, interval=1))
    # no forcing: the first observation throughout
    free = forced_rollout(cell, w)
    assert torch.equal(free[..., :3], w[:, :1].expand(-1, 22, -1))


def test_shallow_jacobian_matches_autograd():
    torch.manual_seed(0)
    cell = ShallowPLRNNCell(3, 5, 11).double()
    z = torch.randn(5, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda v: cell(v[None])[0], z)
    torch.testing.assert_close(cell.jacobian(z[None])[0], J)


def test_kept_model_is_the_best_by_dstsp(lorenz):
    """The parameters kept are those of the check with the smallest D_stsp: re-scoring the
    fitted module on the same validation stretch gives exactly the recorded minimum."""
    # a constant, large learning rate makes the D_stsp of the checks go up and down
    m = L.make("plrnn", epochs=100, seq_len=30, lr=1e-2, lr_end=1e-2, n_checks=6,
               device="cpu").fit(lorenz[:3000], DT)
    hist = m.dstsp_history_
    assert len(hist) == 6 and np.all(np.isfinite(hist))
    assert len(np.unique(hist)) > 1
    assert m.validation_dstsp_ == np.min(hist)
    data_val = m._normalise(lorenz[:3000]).astype(np.float32).astype(np.float64)
    n = len(data_val)
    k = int(round(250 * m.time_scale_ / DT))
    val = data_val[n - min(n, k):]
    module = m.module_
    assert m._score(module, val) == pytest.approx(m.validation_dstsp_, rel=1e-6)
    # the best check is not the last one here, so keeping the last model would fail
    assert np.argmin(hist) < len(hist) - 1 and m.validation_dstsp_ < hist[-1]


def test_plrnn_lorenz_end_to_end_two_lobes(lorenz):
    """A short real fit of the shPLRNN recipe (GTF, adaptive alpha, RAdam, selection by
    D_stsp) gives a bounded free run that visits both lobes of the Lorenz attractor."""
    t0 = time.perf_counter()
    m = L.make("plrnn", device="cpu").fit(lorenz[:10000], DT)
    assert time.perf_counter() - t0 < 90
    y = m.forecast(lorenz[10000:10001], 10000)
    assert np.all(np.isfinite(y)) and np.abs(y).max() < 100
    assert np.mean(y[:, 0] > 0) > 0.1 and np.mean(y[:, 0] < 0) > 0.1
