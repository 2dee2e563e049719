"""Shallow PLRNN trained with generalized teacher forcing, and the almost-linear RNN
trained with sparse teacher forcing (the training recipes of their papers)."""
from __future__ import annotations

import copy
import math

import numpy as np

from ..validation import check_choice, check_float, check_int
from .timescale import AUTO, RULES, is_auto
from .torch_base import TorchLearner

__all__ = ["PLRNN", "ALRNN", "gtf_state", "forced_rollout", "cpu_loss_and_grad"]

#: the ALRNN's subregion code is packed into an int64
MAX_CODE_BITS = 62
#: sparse teacher-forcing interval ``"auto"``: this many time scales (``time_scale_``)
TF_INTERVAL_MULTIPLE = 0.85
#: validation stretch: at most this many time scales of the training data
VALIDATION_MULTIPLE = 250.0
#: free runs (from samples spread over the validation stretch) pooled for model selection
VALIDATION_STARTS = 4
#: length of each of those free runs, in lengths of the validation stretch
VALIDATION_RUN = 4
#: bins per variable of the binned D_stsp used for model selection
SELECTION_BINS = 30


def _check_unit(value, name):
    """A float in [0, 1] (a forcing strength)."""
    v = check_float(value, name)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def gtf_state(z, x, alpha):
    """The generalized-teacher-forcing state ``(1 - alpha) z + alpha z_data``.

    ``z_data`` holds the data ``x`` ``(B, dim)`` in the observed (first ``dim``) units of
    ``z`` ``(B, M)`` and the model's own values in the others (the identity observation
    model inverted), so only the observed units move. ``alpha = 0`` returns ``z``,
    ``alpha = 1`` puts the data in place of the observed units.
    """
    import torch

    d = x.shape[-1]
    if alpha == 0.0:
        return z
    if alpha == 1.0:
        obs = x
    else:
        obs = alpha * x + (1.0 - alpha) * z[:, :d]
    return torch.cat([obs, z[:, d:]], dim=1)


def forced_rollout(module, w, *, alpha=0.0, interval=0):
    """Latent states along windows ``w`` ``(B, T, dim)`` under teacher forcing.

    The state starts at ``module.start(w[:, 0])``; each step predicts
    ``z_t = F(z~_{t-1})``, and the state fed on is ``z~_t = z_t`` except that

    * every ``interval``-th step (``t = interval, 2 interval, ...``; sparse teacher
      forcing, Brenner et al. 2024) the observed units are replaced by the data ``w_t``;
    * otherwise, with ``alpha > 0``, ``z~_t = gtf_state(z_t, w_t, alpha)`` (generalized
      teacher forcing, Hess et al. 2023).

    Returns
    -------
    tensor (B, T - 1, M)
        The predictions ``z_1 .. z_{T-1}`` (before forcing).
    """
    import torch

    z = module.start(w[:, 0])
    out = []
    for t in range(1, w.shape[1]):
        z = module(z)
        out.append(z)
        if interval and t % interval == 0:
            z = gtf_state(z, w[:, t], 1.0)
        elif alpha > 0.0:
            z = gtf_state(z, w[:, t], alpha)
    return torch.stack(out, dim=1)


# ---------------------------------------------------------------------------- CPU kernels
_KERNELS = {}


def _kernels():
    """Numba kernels of the training loss and its exact gradient (built on first use).

    On the CPU a training step of these small recurrent maps is dominated by the
    per-operation overhead of autograd; the loss of :func:`forced_rollout` and its
    gradient by backpropagation through time, written out for the two latent maps, take
    a fraction of that time. They compute the same quantity as the torch path (a test
    compares the gradients).
    """
    if not _KERNELS:
        from numba import njit

        _KERNELS.update(alrnn=njit(cache=True)(_alrnn_grad),
                        shallow=njit(cache=True)(_shallow_grad))
    return _KERNELS


def _alrnn_grad(A, W, h, Wi, bi, X, P, interval, alpha, gA, gW, gh, gWi, gbi, Z):
    B, T, d = X.shape
    M = A.shape[0]
    k = M - P
    scale = 1.0 / (B * (T - 1) * d)
    loss = 0.0
    phi = np.empty(M)
    g = np.empty(M)
    gu = np.empty(M)
    for b in range(B):
        # forward: Z[b, t] is the state fed to step t + 1 (after forcing)
        for i in range(d):
            Z[b, 0, i] = X[b, 0, i]
        for j in range(M - d):
            s = bi[j]
            for i in range(d):
                s += Wi[j, i] * X[b, 0, i]
            Z[b, 0, d + j] = s
        for t in range(1, T):
            for m in range(M):
                u = Z[b, t - 1, m]
                phi[m] = u if (m < k or u > 0.0) else 0.0
            for m in range(M):
                s = A[m] * Z[b, t - 1, m] + h[m]
                for n in range(M):
                    s += W[m, n] * phi[n]
                Z[b, t, m] = s
            for i in range(d):
                e = Z[b, t, i] - X[b, t, i]
                loss += e * e
            a = 1.0 if (interval > 0 and t % interval == 0) else alpha
            if a > 0.0:
                for i in range(d):
                    Z[b, t, i] = a * X[b, t, i] + (1.0 - a) * Z[b, t, i]
        # backward; needs the prediction z_t before forcing, recomputed from Z[t-1]
        for m in range(M):
            gu[m] = 0.0
        for t in range(T - 1, 0, -1):
            a = 1.0 if (interval > 0 and t % interval == 0) else alpha
            for m in range(M):
                u = Z[b, t - 1, m]
                phi[m] = u if (m < k or u > 0.0) else 0.0
            for m in range(M):
                g[m] = gu[m]
            for i in range(d):
                g[i] *= (1.0 - a)
                s = A[i] * Z[b, t - 1, i] + h[i]
                for n in range(M):
                    s += W[i, n] * phi[n]
                g[i] += 2.0 * scale * (s - X[b, t, i])
            for m in range(M):
                gA[m] += g[m] * Z[b, t - 1, m]
                gh[m] += g[m]
                for n in range(M):
                    gW[m, n] += g[m] * phi[n]
            for n in range(M):
                s = 0.0
                for m in range(M):
                    s += W[m, n] * g[m]
                u = Z[b, t - 1, n]
                if n >= k and u <= 0.0:
                    s = 0.0
                gu[n] = A[n] * g[n] + s
        for j in range(M - d):
            gbi[j] += gu[d + j]
            for i in range(d):
                gWi[j, i] += gu[d + j] * X[b, 0, i]
    return loss * scale


def _shallow_grad(A, W1, W2, h1, h2, Wi, bi, X, interval, alpha, gA, gW1, gW2, gh1, gh2,
                 gWi, gbi, Z):
    B, T, d = X.shape
    M = A.shape[0]
    L = h2.shape[0]
    scale = 1.0 / (B * (T - 1) * d)
    loss = 0.0
    r = np.empty(L)
    ga = np.empty(L)
    g = np.empty(M)
    gu = np.empty(M)
    for b in range(B):
        for i in range(d):
            Z[b, 0, i] = X[b, 0, i]
        for j in range(M - d):
            s = bi[j]
            for i in range(d):
                s += Wi[j, i] * X[b, 0, i]
            Z[b, 0, d + j] = s
        for t in range(1, T):
            for l in range(L):
                s = h2[l]
                for n in range(M):
                    s += W2[l, n] * Z[b, t - 1, n]
                r[l] = s if s > 0.0 else 0.0
            for m in range(M):
                s = A[m] * Z[b, t - 1, m] + h1[m]
                for l in range(L):
                    s += W1[m, l] * r[l]
                Z[b, t, m] = s
            for i in range(d):
                e = Z[b, t, i] - X[b, t, i]
                loss += e * e
            a = 1.0 if (interval > 0 and t % interval == 0) else alpha
            if a > 0.0:
                for i in range(d):
                    Z[b, t, i] = a * X[b, t, i] + (1.0 - a) * Z[b, t, i]
        for m in range(M):
            gu[m] = 0.0
        for t in range(T - 1, 0, -1):
            a = 1.0 if (interval > 0 and t % interval == 0) else alpha
            for l in range(L):
                s = h2[l]
                for n in range(M):
                    s += W2[l, n] * Z[b, t - 1, n]
                r[l] = s if s > 0.0 else 0.0
            for m in range(M):
                g[m] = gu[m]
            for i in range(d):
                g[i] *= (1.0 - a)
                s = A[i] * Z[b, t - 1, i] + h1[i]
                for l in range(L):
                    s += W1[i, l] * r[l]
                g[i] += 2.0 * scale * (s - X[b, t, i])
            for m in range(M):
                gA[m] += g[m] * Z[b, t - 1, m]
                gh1[m] += g[m]
                for l in range(L):
                    gW1[m, l] += g[m] * r[l]
            for l in range(L):
                s = 0.0
                if r[l] > 0.0:
                    for m in range(M):
                        s += W1[m, l] * g[m]
                ga[l] = s
                gh2[l] += s
                if s != 0.0:
                    for n in range(M):
                        gW2[l, n] += s * Z[b, t - 1, n]
            for n in range(M):
                s = A[n] * g[n]
                for l in range(L):
                    s += W2[l, n] * ga[l]
                gu[n] = s
        for j in range(M - d):
            gbi[j] += gu[d + j]
            for i in range(d):
                gWi[j, i] += gu[d + j] * X[b, 0, i]
    return loss * scale


def cpu_loss_and_grad(module, w, *, alpha=0.0, interval=0):
    """Loss of :func:`forced_rollout` (mean squared error of the predicted observations)
    and its gradient, on the CPU by the numba kernels.

    Parameters
    ----------
    module : PLRNNCell or ShallowPLRNNCell
    w : array (B, T, dim)

    Returns
    -------
    loss : float
    grads : dict of float64 arrays, keyed like ``module.named_parameters()``
    states : array (B, T, M)
        The states fed to each step (after forcing).
    """
    kern = _kernels()
    X = np.ascontiguousarray(np.asarray(w, dtype=np.float64))
    p = {k: v.detach().double().cpu().numpy() for k, v in module.named_parameters()}
    M, d = module.M, module.dim
    B, T, _ = X.shape
    if M > d:
        Wi, bi = p["init.weight"], p["init.bias"]
    else:
        Wi, bi = np.zeros((0, d)), np.zeros(0)
    g = {k: np.zeros_like(v) for k, v in p.items()}
    gWi = g.get("init.weight", np.zeros((0, d)))
    gbi = g.get("init.bias", np.zeros(0))
    Z = np.empty((B, T, M))
    if hasattr(module, "W1"):
        loss = kern["shallow"](p["A"], p["W1"], p["W2"], p["h1"], p["h2"], Wi, bi, X,
                               int(interval), float(alpha), g["A"], g["W1"], g["W2"],
                               g["h1"], g["h2"], gWi, gbi, Z)
    else:
        loss = kern["alrnn"](p["A"], p["W"], p["h"], Wi, bi, X, int(module.P), int(interval),
                             float(alpha), g["A"], g["W"], g["h"], gWi, gbi, Z)
    return float(loss), g, Z


class PLRNN(TorchLearner):
    """Shallow piecewise-linear RNN (shPLRNN) trained with generalized teacher forcing.

    The latent state ``z`` (``latent_dim = M`` units) follows

        z_{t+1} = A z_t + W1 relu(W2 z_t + h2) + h1,

    with ``A`` diagonal and ``hidden_dim = L`` ReLU units (Hess, Monfared, Brenner and
    Durstewitz 2023, "Generalized teacher forcing for learning chaotic dynamics", ICML).
    The observation model is the identity: the first ``dim`` latent units are the
    observed variables (standardised), any others are hidden and start from a learned
    linear map of a sequence's first observation.

    **Generalized teacher forcing** (GTF). Along a training sequence of ``seq_len``
    samples the state fed to the next step is

        z~_t = (1 - alpha) z_t + alpha z_t^data,

    where ``z_t^data`` holds the data ``x_t`` in the observed units (the inverted
    observation model) and the model's own values in the others (:func:`gtf_state`).
    The loss is the mean squared error of the predicted observations, backpropagated
    through the whole sequence. ``alpha = 0`` is free running, ``alpha = 1`` teacher
    forcing. ``alpha="adaptive"`` (default) follows the paper's rule: the gradients of a
    forced sequence grow at most like the product of ``(1 - alpha) ||J_t||`` over its
    Jacobians ``J_t``, so every ``alpha_every`` batches ``alpha`` is set to
    ``max(0, 1 - 1 / G)`` with ``G`` the geometric mean of the spectral norms of the
    Jacobians along the batch's forced states, which bounds that product. A number keeps
    ``alpha`` fixed, or anneals it linearly to ``alpha_end``.

    **Optimisation.** RAdam (Liu et al. 2020) with the learning rate decayed
    exponentially from ``lr`` to ``lr_end`` over ``epochs`` epochs (an epoch draws about
    as many sequence samples as the data hold), gradient norm clipped at 10; Gaussian
    observation noise of standard deviation ``noise`` (in units of each variable's
    standard deviation) is added to every training batch. On the CPU the loss and its
    exact gradient (backpropagation through the forced sequence) come from compiled
    kernels (:func:`cpu_loss_and_grad`), on CUDA from torch's autograd; both compute the
    same quantity.

    **Model selection.** ``n_checks`` times during training (evenly spaced, the last at
    the end) the model runs freely from ``VALIDATION_STARTS`` = 4 samples spread over a
    validation stretch (the last part of the longest training trajectory, at most
    ``VALIDATION_MULTIPLE`` = 250 time scales of the data), each run ``VALIDATION_RUN`` =
    4 times as long as the stretch, and the binned state-space divergence ``D_stsp``
    (:func:`chaoslab.metrics.state_space_divergence`, 30 bins per variable) between the
    stretch and the pooled runs is measured; the parameters with the smallest ``D_stsp``
    are kept (``validation_dstsp_``, ``dstsp_history_``). Long runs from several starts
    expose a model whose chaotic set coexists with a fixed point or cycle that some
    starts fall into, or that leaves it late; a free run that diverges scores ``inf``.

    To forecast, the model is driven by the last ``warmup`` context rows with its
    observed units set to the data (the hidden units start from the first of them), then
    runs freely.

    Parameters
    ----------
    latent_dim : int or None
        ``M``, latent units (at least ``dim``); ``None``: the data's dimension.
    hidden_dim : int
        ``L``, ReLU units of the shallow layer.
    alpha : "adaptive" or float in [0, 1]
        GTF forcing strength (see above).
    alpha_end : float in [0, 1] or None
        With a numeric ``alpha``: its value at the end of training (linear annealing);
        ``None`` keeps ``alpha``.
    alpha_every : int
        Batches between updates of the adaptive ``alpha``.
    seq_len : int or "auto"
        Training sequence length in samples (``seq_len_``). ``"auto"``: 8 time scales of
        the data (:mod:`chaoslab.learners.timescale`), at least 150 samples.
    warmup : int
        Context rows used to warm up a forecast (the :attr:`context_length`).
    epochs : int
        Training epochs.
    batch_size : int
        Sequences per batch.
    lr, lr_end : float
        First and last learning rate of the exponential decay.
    noise : float
        Observation noise added to the training batches (0 for none).
    n_checks : int
        Model-selection checks over training (0: keep the last parameters).
    seed : int or None
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        :class:`~chaoslab.learners.nn.plrnn.ShallowPLRNNCell`.
    mean_, std_ : arrays (dim,)
    loss_history_ : array
        Mean training loss of every epoch.
    alpha_history_ : array
        Forcing ``alpha`` at the end of every epoch.
    dstsp_history_ : array
        ``D_stsp`` at every model-selection check.
    validation_dstsp_ : float
        ``D_stsp`` of the kept model (``nan`` without checks).

    Examples
    --------
    >>> m = PLRNN().fit(X, dt=0.01)
    >>> y = m.forecast(X[-1:], 1000)
    >>> z = m.latent_states(X[:500]); J = m.jacobian(z[-1])
    """

    name = "plrnn"
    _lengths = {"seq_len": RULES["plrnn", "seq_len"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(hidden_dim=16, epochs=2, n_checks=1)

    def __init__(self, latent_dim=None, hidden_dim=50, alpha="adaptive", alpha_end=None,
                 alpha_every=5, seq_len=AUTO, warmup=1, epochs=1000, batch_size=16,
                 lr=5e-3, lr_end=1e-5, noise=0.0, n_checks=20, seed=0, device="auto"):
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.alpha = alpha
        self.alpha_end = alpha_end
        self.alpha_every = alpha_every
        self.seq_len = seq_len
        self.warmup = warmup
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_end = lr_end
        self.noise = noise
        self.n_checks = n_checks
        self.seed = seed
        self.device = device

    # ------------------------------------------------------------------ structure
    def _latent(self, dim):
        M = dim if self.latent_dim is None else int(self.latent_dim)
        if M < dim:
            raise ValueError(f"latent_dim ({M}) must be at least the data dimension ({dim}): "
                             "the first dim latent units are the observed variables")
        return M

    def _check_params(self):
        super()._check_params()
        if self.latent_dim is not None:
            check_int(self.latent_dim, "latent_dim", minimum=1)
        check_int(self.warmup, "warmup", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.n_checks, "n_checks", minimum=0)
        lr = check_float(self.lr, "lr", positive=True)
        lr_end = check_float(self.lr_end, "lr_end", positive=True)
        if lr_end > lr:
            raise ValueError(f"lr_end must be at most lr ({lr}), got {self.lr_end!r}")
        noise = check_float(self.noise, "noise")
        if noise < 0:
            raise ValueError(f"noise must be >= 0, got {self.noise!r}")
        self._check_forcing()

    def _check_forcing(self):
        check_int(self.hidden_dim, "hidden_dim", minimum=1)
        check_int(self.alpha_every, "alpha_every", minimum=1)
        if not (isinstance(self.alpha, str) and self.alpha == "adaptive"):
            if isinstance(self.alpha, str):
                check_choice(self.alpha, "alpha", ("adaptive",))
            _check_unit(self.alpha, "alpha")
        if self.alpha_end is not None:
            _check_unit(self.alpha_end, "alpha_end")

    def _explicit_minimum(self, name):
        return 2                                    # seq_len: one step at least

    def _min_samples(self):
        return self.seq_len_

    @property
    def context_length(self):
        return int(self.warmup)

    def _build_module(self, dim):
        from .nn.plrnn import ShallowPLRNNCell

        return ShallowPLRNNCell(dim, self._latent(dim), int(self.hidden_dim))

    # ------------------------------------------------------------------ training
    def _adaptive(self):
        return isinstance(getattr(self, "alpha", 0.0), str)

    def _alpha_at(self, frac):
        a0 = float(self.alpha)
        a1 = a0 if self.alpha_end is None else float(self.alpha_end)
        return a0 + (a1 - a0) * frac

    def _start_forcing(self, dt):
        """Set up the forcing state before training (the adaptive alpha starts at 0)."""
        self._alpha_now = 0.0 if self._adaptive() else self._alpha_at(0.0)

    def _forcing(self, frac):
        """``(alpha, interval)`` of the forcing at training progress ``frac``."""
        if not self._adaptive():
            self._alpha_now = self._alpha_at(frac)
        return self._alpha_now, 0

    def _update_forcing(self, module, states, batch):
        """The adaptive GTF rule, from the states ``(B, T, M)`` of the last batch."""
        import torch

        if not self._adaptive() or batch % int(self.alpha_every):
            return
        with torch.no_grad():
            zs = torch.as_tensor(states, dtype=torch.float64).reshape(-1, states.shape[-1])
            zs = zs[::max(1, len(zs) // 512)]
            J = module.jacobian(zs.to(module.A.device, module.A.dtype)).double()
            norms = torch.linalg.matrix_norm(J, ord=2)
            G = float(torch.exp(torch.log(norms.clamp_min(1e-12)).mean()))
        self._alpha_now = max(0.0, 1.0 - 1.0 / G) if math.isfinite(G) else 1.0

    def _batch_step(self, module, w, frac, batch, kernels):
        """Loss of batch ``w`` ``(B, T, dim)``; leaves the gradient in ``p.grad``."""
        import torch

        alpha, interval = self._forcing(frac)
        if kernels:
            loss, grads, states = cpu_loss_and_grad(module, w.cpu().numpy(), alpha=alpha,
                                                    interval=interval)
            for k, p in module.named_parameters():
                p.grad = torch.as_tensor(grads[k], dtype=p.dtype)
        else:
            d = w.shape[-1]
            z = forced_rollout(module, w, alpha=alpha, interval=interval)
            value = ((z[..., :d] - w[:, 1:]) ** 2).mean()
            loss = float(value.detach())
            if math.isfinite(loss):
                value.backward()
            states = z.detach()
        if math.isfinite(loss):
            self._update_forcing(module, states, batch)
        return loss

    def _validation(self, data):
        """The validation stretch ``(n, dim)`` (normalised, float64 numpy) or ``None``."""
        if not int(self.n_checks):
            return None
        k = int(np.argmax(data.lengths))
        o, n = int(data.offsets[k]), int(data.lengths[k])
        m = int(round(VALIDATION_MULTIPLE * self.time_scale_ / self._dt_for_fit))
        m = max(2, min(n, m))
        return data.data[o + n - m:o + n].double().cpu().numpy()

    def _free_run(self, module, x0, n):
        """Free runs of ``n`` observed states from the rows of ``x0`` ``(K, dim)``:
        float64 numpy ``(K, n, dim)`` (NaN from where a run leaves all bounds)."""
        import torch

        p = {k: v.detach().double().cpu().numpy() for k, v in module.named_parameters()}
        d = x0.shape[-1]
        with torch.no_grad():
            z = module.start(torch.as_tensor(x0, dtype=module.A.dtype, device=module.A.device))
        z = z.double().cpu().numpy()
        A = p["A"]
        out = np.full((len(x0), n, d), np.nan)
        shallow = "W1" in p
        if not shallow:
            W, h, k = p["W"], p["h"], module.M - module.P
        with np.errstate(all="ignore"):
            for t in range(n):
                if shallow:
                    z = A * z + np.maximum(z @ p["W2"].T + p["h2"], 0.0) @ p["W1"].T + p["h1"]
                else:
                    phi = z.copy()
                    phi[:, k:] = np.maximum(phi[:, k:], 0.0)
                    z = A * z + phi @ W.T + h
                out[:, t] = z[:, :d]
                if t % 256 == 255 and not (np.all(np.isfinite(z)) and np.abs(z).max() < 1e6):
                    out[:, t:] = np.nan
                    break
        return out

    def _score(self, module, val):
        """Binned ``D_stsp`` between the validation stretch ``val`` and the pooled free
        runs, ``VALIDATION_RUN`` times as long as the stretch, from ``VALIDATION_STARTS``
        of its samples."""
        from ..metrics import state_space_divergence

        n = len(val) - 1
        starts = np.linspace(0, n, VALIDATION_STARTS, endpoint=False).astype(int)
        gen = self._free_run(module, val[starts], VALIDATION_RUN * n).reshape(-1, val.shape[1])
        if not np.all(np.isfinite(gen)) or np.abs(gen).max() > 1e3:
            return math.inf
        return float(state_space_divergence(val[1:], gen, bins=SELECTION_BINS,
                                            method="binned"))

    def _train_module(self, module, data, report):
        import torch

        T = self.seq_len_
        B = int(self.batch_size)
        epochs = int(self.epochs)
        per_epoch = data.batches_per_epoch(T, B)
        total = max(1, epochs * per_epoch)
        gen = self._generator
        starts = data.starts(T)
        noise = float(self.noise)
        lr, lr_end = float(self.lr), float(self.lr_end)
        gamma = (lr_end / lr) ** (1.0 / total)
        params = [p for p in module.parameters() if p.requires_grad]
        opt = torch.optim.RAdam(params, lr=lr)
        kernels = data.device.type == "cpu"
        self._start_forcing(self._dt_for_fit)
        val = self._validation(data)
        n_checks = int(self.n_checks) if val is not None else 0
        check_at = set(np.unique(np.round(np.linspace(1, total, n_checks)).astype(int))
                       .tolist()) if n_checks else set()
        best, best_state, scores = math.inf, None, []
        history, alphas = [], []
        k, bad = 0, 0
        for epoch in range(epochs):
            running, count = 0.0, 0
            for _ in range(per_epoch):
                frac = k / total
                w = data.sample(starts, T, B, gen)
                if noise > 0.0:
                    w = w + noise * torch.randn(w.shape, generator=gen).to(w.device)
                opt.zero_grad(set_to_none=True)
                value = self._batch_step(module, w, frac, k, kernels)
                k += 1
                if math.isfinite(value) and all(
                        p.grad is not None and bool(torch.isfinite(p.grad).all())
                        for p in params):
                    bad = 0
                    torch.nn.utils.clip_grad_norm_(params, 10.0)
                    opt.step()
                    running += value
                    count += 1
                else:
                    bad += 1
                    if bad >= 5:
                        raise FloatingPointError(
                            f"{type(self).__name__} training diverged (loss {value}); try a "
                            "smaller lr or a shorter seq_len")
                for group in opt.param_groups:
                    group["lr"] *= gamma
                if k in check_at:
                    module.eval()
                    score = self._score(module, val)
                    module.train()
                    scores.append(score)
                    if score < best or best_state is None:
                        best = score
                        best_state = copy.deepcopy(module.state_dict())
                report(0.98 * k / total, f"epoch {epoch + 1} loss {value:.3g}"
                       + (f", best D_stsp {best:.3g}" if scores else ""))
            history.append(running / count if count else float("nan"))
            alphas.append(getattr(self, "_alpha_now", 0.0))
        if best_state is not None:
            module.load_state_dict(best_state)
        self.dstsp_history_ = np.asarray(scores, dtype=np.float64)
        self.validation_dstsp_ = float(best) if scores else float("nan")
        self.alpha_history_ = np.asarray(alphas, dtype=np.float64)
        return history

    def _fit(self, parts, dt, report):
        self._dt_for_fit = float(dt)
        try:
            super()._fit(parts, dt, report)
        finally:
            self.__dict__.pop("_alpha_now", None)

    # ------------------------------------------------------------------ closed loop
    def _forced(self, module, x):
        """Latent states ``(B, n, M)`` along ``x`` ``(B, n, dim)`` with observed units = data."""
        import torch

        z = module.start(x[:, 0])
        out = [z]
        for t in range(1, x.shape[1]):
            z = gtf_state(module(z), x[:, t], 1.0)
            out.append(z)
        return torch.stack(out, dim=1)

    def _warmup(self, module, ctx):
        return self._forced(module, ctx)[:, -1]

    def _advance(self, module, state):
        z = module(state)
        return z, z[:, :self.dim_]

    # ------------------------------------------------------------------ analysis
    def latent_states(self, X):
        """Latent states ``(n, M)`` along an observed trajectory ``X`` ``(n, dim)``.

        The observed units are set to the (standardised) data at every step, the hidden
        units follow the model, as in the forecast warm-up.
        """
        import torch

        x, single = self._check_batch(X, "X")
        module = self._module_for(torch.float64)
        with torch.no_grad():
            z = self._forced(module, torch.as_tensor(self._normalise(x),
                                                     device=torch.device(self.device_)))
        z = z.cpu().numpy()
        return z[0] if single else z

    def free_latent_states(self, context, n_steps):
        """Latent states ``(n_steps, M)`` of a free-running forecast from ``context``."""
        import torch

        ctx, single = self._check_context(context)
        module = self._module_for(torch.float64)
        out = []
        with torch.no_grad():
            z = self._warmup(module, self._context_tensor(ctx, torch.float64))
            for _ in range(int(n_steps)):
                z = module(z)
                out.append(z)
        z = (torch.stack(out, dim=1) if out else
             torch.empty((ctx.shape[0], 0, self.module_.M))).cpu().numpy()
        return z[0] if single else z

    def jacobian(self, z):
        """Jacobian of the latent map at latent state(s) ``z``.

        ``diag(A) + W1 diag(relu'(W2 z + h2)) W2`` for the shPLRNN,
        ``diag(A) + W diag(phi'(z))`` for the AL-RNN.

        Parameters
        ----------
        z : array (M,) or (batch, M)
            Latent states, e.g. rows of :meth:`latent_states` (standardised units).

        Returns
        -------
        array (M, M) or (batch, M, M)
        """
        import torch

        self._check_fitted()
        module = self._module_for(torch.float64)
        M = module.M
        z = np.asarray(z, dtype=np.float64)
        if z.shape[-1] != M or z.ndim not in (1, 2):
            raise ValueError(f"z must be (M,) or (batch, M) with M = {M}, got {z.shape}")
        with torch.no_grad():
            J = module.jacobian(torch.as_tensor(z, device=torch.device(self.device_)))
        return J.cpu().numpy()


class ALRNN(PLRNN):
    """Almost-linear RNN trained with sparse teacher forcing.

    The latent state ``z`` (``latent_dim = M`` units) follows

        z_{t+1} = A z_t + W phi*(z_t) + h,
        phi*(z) = (z_1, ..., z_{M-P}, max(0, z_{M-P+1}), ..., max(0, z_M)),

    with ``A`` diagonal and the ReLU on only the last ``n_relu = P`` units (Brenner,
    Hemmer, Monfared and Durstewitz 2024, "Almost-linear RNNs yield highly interpretable
    symbolic codes in dynamical systems reconstruction", NeurIPS). The first ``dim`` units
    are the observed variables (standardised), the others start from a learned linear map
    of a sequence's first observation.

    The latent space is split into at most ``2**P`` linear subregions, one for each on/off
    pattern of the ReLU units; within one the model is the affine map
    ``A + W diag(phi*'(z))``. A trajectory thus becomes a sequence of subregion symbols
    (:meth:`symbolic_code`).

    **Sparse teacher forcing.** Along a training sequence the model runs freely except
    that every ``tf_interval``-th step its observed units are replaced by the data
    (:func:`forced_rollout`); the loss is the mean squared error of all predicted
    observations. Optimisation (RAdam with exponential learning-rate decay, observation
    noise) and model selection (the parameters with the best binned ``D_stsp`` on a
    validation stretch are kept) are those of :class:`PLRNN`.

    Parameters
    ----------
    latent_dim : int
        ``M`` (at least ``dim`` and at least ``n_relu``).
    n_relu : int
        ``P``, the number of ReLU units (symbolic codes need ``P <= 62``).
    tf_interval : int or "auto"
        Forcing interval ``tau`` in samples (``tf_interval_``). ``"auto"``:
        ``TF_INTERVAL_MULTIPLE`` = 0.85 time scales of the data
        (:mod:`chaoslab.learners.timescale`), at least 1.
    noise : float
        Observation noise, in units of each variable's standard deviation.
    seq_len, warmup, epochs, batch_size, lr, lr_end, n_checks, seed, device
        As for :class:`PLRNN`.

    Attributes
    ----------
    n_subregions_ : int
        Number of distinct linear subregions visited along the training data (driven by
        the data as in :meth:`latent_states`).
    tf_interval_ : int
    dstsp_history_, validation_dstsp_, loss_history_
        As for :class:`PLRNN`.

    Examples
    --------
    >>> m = ALRNN(latent_dim=20, n_relu=2).fit(X, dt=0.01)
    >>> codes = m.symbolic_code(X[:2000])          # ints in [0, 2**2)
    >>> m.n_subregions_, m.max_subregions
    """

    name = "alrnn"
    _lengths = {"seq_len": RULES["alrnn", "seq_len"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(latent_dim=10, n_relu=4, epochs=2, n_checks=1)

    def __init__(self, latent_dim=20, n_relu=2, tf_interval=AUTO, seq_len=AUTO, warmup=1,
                 epochs=1000, batch_size=16, lr=5e-3, lr_end=1e-5, noise=0.05, n_checks=20,
                 seed=0, device="auto"):
        self.latent_dim = latent_dim
        self.n_relu = n_relu
        self.tf_interval = tf_interval
        self.seq_len = seq_len
        self.warmup = warmup
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_end = lr_end
        self.noise = noise
        self.n_checks = n_checks
        self.seed = seed
        self.device = device

    def _check_forcing(self):
        check_int(self.latent_dim, "latent_dim", minimum=1)
        P = check_int(self.n_relu, "n_relu", minimum=1)
        if P > int(self.latent_dim):
            raise ValueError(f"n_relu ({P}) must be at most latent_dim ({self.latent_dim})")
        if not is_auto(self.tf_interval):
            check_int(self.tf_interval, "tf_interval", minimum=1)

    def _n_relu(self, M):
        P = check_int(self.n_relu, "n_relu", minimum=1)
        if P > M:
            raise ValueError(f"n_relu ({P}) must be at most latent_dim ({M})")
        return P

    def _build_module(self, dim):
        from .nn.plrnn import PLRNNCell

        M = self._latent(dim)
        return PLRNNCell(dim, M, self._n_relu(M))

    def _start_forcing(self, dt):
        if is_auto(self.tf_interval):
            self.tf_interval_ = max(1, int(round(TF_INTERVAL_MULTIPLE * self.time_scale_ / dt)))
        else:
            self.tf_interval_ = int(self.tf_interval)

    def _forcing(self, frac):
        return 0.0, self.tf_interval_

    def _after_fit(self, data):
        M, P = int(self.latent_dim), int(self.n_relu)
        patterns = []
        for o, n in zip(data.offsets, data.lengths):
            x = data.data[o:o + n].double().cpu().numpy() * self.std_ + self.mean_
            patterns.append(np.packbits(self._latent_np(x)[:, M - P:] > 0, axis=1))
        self.n_subregions_ = int(len(np.unique(np.concatenate(patterns), axis=0)))

    def _latent_np(self, x):
        import torch

        module = self._module_for(torch.float64)
        with torch.no_grad():
            z = self._forced(module, torch.as_tensor(self._normalise(x)[None],
                                                     device=torch.device(self.device_)))
        return z[0].cpu().numpy()

    def _codes(self, z):
        M, P = int(self.latent_dim), int(self.n_relu)
        if P > MAX_CODE_BITS:
            raise ValueError(f"symbolic codes need n_relu <= {MAX_CODE_BITS}, got {P}")
        bits = (np.asarray(z)[..., M - P:] > 0).astype(np.int64)
        return bits @ (np.int64(1) << np.arange(P, dtype=np.int64))

    def symbolic_code(self, X, n_steps=None):
        """Linear-subregion symbols along a trajectory.

        The symbol of a latent state is the on/off pattern of the ``P`` ReLU units packed
        into an integer: bit ``j`` is set when ReLU unit ``j`` (latent unit ``M - P + j``)
        is positive, so symbols lie in ``[0, 2**P)``. Each symbol names the linear map the
        ALRNN applies at that step.

        Parameters
        ----------
        X : array (n, dim) or (batch, n, dim)
            Without ``n_steps``: an observed trajectory; the model is driven by it (observed
            units set to the data) and the symbol of the latent state at every sample is
            returned. With ``n_steps``: a context; the symbols of the ``n_steps`` states of
            the free-running forecast that follows are returned.
        n_steps : int, optional

        Returns
        -------
        int64 array (n,) or (batch, n) (``n_steps`` in place of ``n`` for a forecast)
        """
        self._check_fitted()
        if n_steps is None:
            z = self.latent_states(X)
        else:
            z = self.free_latent_states(X, n_steps)
        return self._codes(z)

    @property
    def max_subregions(self):
        """``2**P``, the number of linear subregions the ALRNN can have."""
        return 2 ** int(self.n_relu)

    def _fitted_meta(self):
        return {"n_subregions_": self.n_subregions_, "tf_interval_": self.tf_interval_}

    def _load_extra(self, arrays, meta):
        self.n_subregions_ = check_int(meta.get("n_subregions_"), "n_subregions_", minimum=0)
        if "tf_interval_" in meta:
            self.tf_interval_ = check_int(meta["tf_interval_"], "tf_interval_", minimum=1)
