"""One model for a family of systems: a mixture of almost-linear RNN experts whose gating
reads a context window, forecasting members it never saw without retraining."""
from __future__ import annotations

import copy
import math

import numpy as np

from ..validation import check_float, check_int
from .base import LearnerFileError
from .timescale import AUTO, auto_samples, is_auto
from .torch_base import TorchLearner, resolve_dtype

__all__ = ["FamilyMixture", "CONTEXT_MULTIPLE", "SEQ_LEN_MULTIPLE", "TF_INTERVAL_MULTIPLE"]

#: ``context="auto"``: this many time scales of the training data (``time_scale_``)
CONTEXT_MULTIPLE = 20.0
#: smallest ``"auto"`` context, in samples (the encoder's two convolutions need 9)
CONTEXT_MINIMUM = 16
#: ``seq_len="auto"``: this many time scales of the training data
SEQ_LEN_MULTIPLE = 2.0
#: smallest ``"auto"`` training sequence, in samples
SEQ_LEN_MINIMUM = 20
#: ``tf_interval="auto"``: this many time scales of the training data
TF_INTERVAL_MULTIPLE = 0.5
#: kernel width of each of the encoder's two convolutions
ENCODER_KERNEL = 5
#: per-series standard deviations below this fraction of the training data's are raised
#: to it (a context on which a variable is constant)
STD_FLOOR = 1e-3
#: gradient-norm clip of the training steps
CLIP = 10.0

_MODULE_CLASS = []


def _module_class():
    """The ``torch.nn.Module`` of :class:`FamilyMixture` (torch imported on first use)."""
    if _MODULE_CLASS:
        return _MODULE_CLASS[0]
    import torch
    from torch import nn

    class FamilyNet(nn.Module):
        """Context encoder, gating network and ``K`` AL-RNN experts on one latent state.

        ``encode(ctx)``: two 1-D convolutions (ReLU) over the normalised context
        ``(B, n, dim)`` and a mean over time -> ``c`` ``(B, E)``.
        ``gate_context(c)``: the context's share of the gating's hidden layer.
        ``start(x0, c)``: the latent state, observed units ``x0``, the others a linear map
        of ``(x0, c)``.
        ``step(z, g)``: ``sum_k w_k(z, c) (A_k z + W_k phi(z) + h_k)`` with
        ``w = softmax(G2 relu(g + G1x z[:, :dim]) + b2)``.
        """

        def __init__(self, dim, M, P, K, E, H):
            super().__init__()
            self.dim, self.M, self.P, self.K, self.E, self.H = dim, M, P, K, E, H
            self.conv1 = nn.Conv1d(dim, E, ENCODER_KERNEL)
            self.conv2 = nn.Conv1d(E, E, ENCODER_KERNEL)
            self.gate_c = nn.Linear(E, H)
            self.gate_x = nn.Linear(dim, H, bias=False)
            self.gate_out = nn.Linear(H, K)
            nn.init.zeros_(self.gate_out.weight)      # experts start equally weighted
            nn.init.zeros_(self.gate_out.bias)
            self.A = nn.Parameter(torch.empty(K, M).uniform_(0.99, 1.0))
            self.W = nn.Parameter(torch.randn(K, M, M) * (0.1 / M ** 0.5))
            self.h = nn.Parameter(torch.zeros(K, M))
            self.init = nn.Linear(dim + E, M - dim) if M > dim else None
            if self.init is not None:
                nn.init.normal_(self.init.weight, std=0.1)
                nn.init.zeros_(self.init.bias)

        def encode(self, ctx):
            u = ctx.transpose(1, 2)
            u = torch.relu(self.conv1(u))
            u = torch.relu(self.conv2(u))
            return u.mean(dim=2)

        def gate_context(self, c):
            return self.gate_c(c)

        def start(self, x0, c):
            if self.init is None:
                return x0
            return torch.cat([x0, self.init(torch.cat([x0, c], dim=1))], dim=1)

        def weights(self, z, g):
            hidden = torch.relu(g + self.gate_x(z[:, :self.dim]))
            return torch.softmax(self.gate_out(hidden), dim=1)

        def step(self, z, g):
            k = self.M - self.P
            phi = torch.cat([z[:, :k], torch.relu(z[:, k:])], dim=1) if k else torch.relu(z)
            experts = (self.A[None] * z[:, None] + torch.einsum("bm,knm->bkn", phi, self.W)
                       + self.h[None])
            w = self.weights(z, g)
            return (w[:, :, None] * experts).sum(dim=1)

    _MODULE_CLASS.append(FamilyNet)
    return FamilyNet


class FamilyMixture(TorchLearner):
    """One forecaster for a family of systems: a mixture of almost-linear RNN (AL-RNN)
    experts, gated by an encoding of a context window (registered as ``"family"``).

    Fitted on many trajectories of a family (one system over a range of a parameter, e.g.
    Lorenz at several ``rho``, or several systems of the same dimension), it forecasts a
    member it was not trained on from a context window of that member, with no retraining
    (zero-shot); :meth:`adapt` fine-tunes a copy on the context in a few gradient steps
    (few-shot).

    **The model** follows DynaMix (Hemmer and Durstewitz 2025, "True zero-shot inference
    of dynamical systems preserving long-term statistics"): ``K = n_experts`` AL-RNN
    experts (Brenner et al. 2024) share one latent state ``z`` of ``M = latent_dim`` units
    whose first ``dim`` units are the observed variables; each step is the gated mixture

        z_{t+1} = sum_k w_k(z_t, C) (A_k z_t + W_k phi*(z_t) + h_k),

    ``phi*`` the ReLU on the last ``P = n_relu`` units and the identity on the others,
    ``A_k`` diagonal. The gating weights ``w = softmax(G2 relu(G1 [c, z_t[:dim]] + b1)
    + b2)`` depend on the current observed state and on ``c``, an encoding of the context
    ``C`` by two 1-D convolutions with ReLU and a mean over time (``encoder_dim``
    channels). The context is standardised by its own mean and standard deviation
    (per-series normalisation), and the forecast mapped back with them, so members whose
    attractors differ in size and place are read on one scale. The unobserved units start
    from a learned linear map of the last context row and ``c``.

    **Training** follows the AL-RNN recipe of :class:`~chaoslab.learners.plrnn.ALRNN`:
    a random training trajectory and a random point of it give a context (the
    ``context`` rows ending there) and a sequence of ``seq_len`` rows starting there, both
    standardised by the context's statistics; the model runs along the sequence with
    sparse teacher forcing (the observed units set to the data every ``tf_interval``
    steps), and the loss is the mean squared error of every predicted observation.
    RAdam (Liu et al. 2020), the learning rate decayed exponentially from ``lr`` to
    ``lr_end`` over ``steps`` batches, gradient norm clipped at 10, Gaussian observation
    noise ``noise`` (in units of the context's standard deviations). Gradients come from
    torch's autograd (CPU or CUDA).

    **What differs from the papers.** DynaMix's gating compares the current state with
    the context through an attention over time and a CNN; here the encoding of the
    context is a mean over a small CNN's features, computed once per forecast (cheaper,
    and enough on a parametric family). MixER (Nzoyem et al. 2025) fits a sparse top-1
    gating by K-means and least squares; this learner keeps DynaMix's soft gating, trained
    end to end. DynaMix is trained on a corpus of many systems and ships weights; this
    learner trains from the trajectories given to ``fit`` (minutes on two CPU cores for a
    Lorenz ``rho`` family at the defaults, ``latent_dim`` 30, 2 ReLU units and 10 experts
    as in DynaMix). There is no model selection by ``D_stsp`` (the last parameters are
    kept). Every training trajectory must have the same dimension, which the model's
    observed units take: to mix systems of different dimensions, pad them yourself.

    Lengths: ``context``, ``seq_len`` and ``tf_interval`` are counts of samples, or
    ``"auto"``: ``CONTEXT_MULTIPLE`` = 20, ``SEQ_LEN_MULTIPLE`` = 2 and
    ``TF_INTERVAL_MULTIPLE`` = 0.5 time scales of the pooled training data
    (:mod:`chaoslab.learners.timescale`; on Lorenz ``rho`` 28 at ``dt`` 0.01, 0.18 time
    units: 368, 37 and 9 samples), at least 16, 20 and 1. On a Lorenz ``rho`` family
    (28, 35, 45, 60; held out 40) sequences of 40 samples forced every 10 gave a smaller
    short-horizon error after 1,500 steps than 30 forced every 5 (0.08 against 0.11
    standard deviations over 0.2 time units); these multiples give about the former. The
    sparse forcing is denser than the AL-RNN's (0.85 time scales): a family model trains
    for fewer steps per member. The fitted values are
    ``context_``, ``seq_len_`` and ``tf_interval_``. A forecast reads the last
    ``context_`` rows of its context (:attr:`context_length`), which must be sampled at
    the training ``dt``.

    Parameters
    ----------
    latent_dim : int
        ``M``, latent units (at least the data's dimension and ``n_relu``).
    n_relu : int
        ``P``, rectified units of every expert.
    n_experts : int
        ``K``.
    encoder_dim : int
        Channels of the context encoder (``E``).
    gate_hidden : int
        Hidden units of the gating network.
    context : int or "auto"
        Context rows read by the encoder (see Lengths).
    seq_len : int or "auto"
        Training sequence length in samples.
    tf_interval : int or "auto"
        Sparse teacher-forcing interval in samples.
    steps : int
        Training batches (gradient steps).
    batch_size : int
    lr, lr_end : float
        First and last learning rate of the exponential decay.
    noise : float
        Observation noise added to the training sequences.
    seed : int or None
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
    mean_, std_ : arrays (dim,)
        Mean and standard deviation of the pooled training data (``std_`` sets the floor
        of the per-series standard deviations, ``STD_FLOOR`` times it).
    loss_history_ : array
        Mean training loss of every block of ``steps / 50`` batches.
    context_, seq_len_, tf_interval_ : int

    Examples
    --------
    >>> s = cl.systems.get("Lorenz")
    >>> X = [cl.simulate(s.with_params(rho=r), 20_000, dt=0.01, transient=20.0)
    ...      for r in (28, 35, 45, 60)]
    >>> m = cl.learners.make("family", steps=2000).fit(X, dt=0.01)
    >>> Y = cl.simulate(s.with_params(rho=40), 2000, dt=0.01, transient=20.0)
    >>> y = m.forecast(Y[:m.context_length], 500)          # zero-shot
    >>> y2 = m.adapt(Y[:m.context_length]).forecast(Y[:m.context_length], 500)
    """

    name = "family"

    @classmethod
    def quick_params(cls):
        """Small settings that train in a second or two (for tests and demos)."""
        return dict(latent_dim=10, n_experts=3, encoder_dim=8, gate_hidden=8, context=25,
                    seq_len=20, steps=40, batch_size=16)

    def __init__(self, latent_dim=30, n_relu=2, n_experts=10, encoder_dim=16,
                 gate_hidden=32, context=AUTO, seq_len=AUTO, tf_interval=AUTO,
                 steps=3000, batch_size=64, lr=1e-2, lr_end=1e-4, noise=0.02, seed=0,
                 device="auto"):
        self.latent_dim = latent_dim
        self.n_relu = n_relu
        self.n_experts = n_experts
        self.encoder_dim = encoder_dim
        self.gate_hidden = gate_hidden
        self.context = context
        self.seq_len = seq_len
        self.tf_interval = tf_interval
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.lr_end = lr_end
        self.noise = noise
        self.seed = seed
        self.device = device

    # ------------------------------------------------------------------ parameters
    def _check_params(self):
        super()._check_params()
        M = check_int(self.latent_dim, "latent_dim", minimum=1)
        P = check_int(self.n_relu, "n_relu", minimum=1)
        if P > M:
            raise ValueError(f"n_relu ({P}) must be at most latent_dim ({M})")
        check_int(self.n_experts, "n_experts", minimum=1)
        check_int(self.encoder_dim, "encoder_dim", minimum=1)
        check_int(self.gate_hidden, "gate_hidden", minimum=1)
        for name, lo in (("context", 2 * ENCODER_KERNEL - 1), ("seq_len", 2),
                         ("tf_interval", 1)):
            value = getattr(self, name)
            if not is_auto(value):
                check_int(value, name, minimum=lo)
        check_int(self.steps, "steps", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        lr = check_float(self.lr, "lr", positive=True)
        lr_end = check_float(self.lr_end, "lr_end", positive=True)
        if lr_end > lr:
            raise ValueError(f"lr_end must be at most lr ({lr}), got {self.lr_end!r}")
        check_float(self.noise, "noise", nonnegative=True)

    def _resolve(self, name, multiple, minimum):
        value = getattr(self, name)
        if is_auto(value):
            return auto_samples(multiple, self.time_scale_, self.dt_, minimum=minimum)
        return int(value)

    @property
    def context_length(self):
        fitted = self.__dict__.get("context_")
        if fitted is not None:
            return int(fitted)
        if is_auto(self.context):
            return CONTEXT_MINIMUM
        return check_int(self.context, "context", minimum=2 * ENCODER_KERNEL - 1)

    def _resolve_lengths(self, dt):
        super()._resolve_lengths(dt)
        self.context_ = self._resolve("context", CONTEXT_MULTIPLE, CONTEXT_MINIMUM)
        self.seq_len_ = self._resolve("seq_len", SEQ_LEN_MULTIPLE, SEQ_LEN_MINIMUM)
        self.tf_interval_ = self._resolve("tf_interval", TF_INTERVAL_MULTIPLE, 1)

    def _min_samples(self):
        # one context and one training sequence that starts at its last row
        return self.context_ + self.seq_len_ - 1

    def _build_module(self, dim):
        M = int(self.latent_dim)
        if M < dim:
            raise ValueError(f"latent_dim ({M}) must be at least the data dimension ({dim}): "
                             "the first dim latent units are the observed variables")
        return _module_class()(dim, M, int(self.n_relu), int(self.n_experts),
                               int(self.encoder_dim), int(self.gate_hidden))

    # ------------------------------------------------------------------ data
    def _series_stats(self, ctx):
        """Per-series mean and standard deviation ``(B, dim)`` of contexts ``(B, n, dim)``."""
        mean = ctx.mean(axis=1)
        std = np.maximum(ctx.std(axis=1), STD_FLOOR * self.std_)
        return mean, std

    def _fit(self, parts, dt, report):
        self._parts = parts
        try:
            super()._fit(parts, dt, report)
        finally:
            del self._parts

    def _train_module(self, module, data, report):
        import torch

        C, T, tau = self.context_, self.seq_len_, self.tf_interval_
        parts = [p for p in self._parts if len(p) >= C + T - 1]
        if not parts:
            raise ValueError(f"X: FamilyMixture needs trajectories of at least context + "
                             f"seq_len - 1 = {C + T - 1} samples")
        counts = np.array([len(p) - C - T + 2 for p in parts], dtype=np.float64)
        prob = counts / counts.sum()
        rng = np.random.default_rng(self._seed_value())
        steps, B = int(self.steps), int(self.batch_size)
        noise = float(self.noise)
        lr, lr_end = float(self.lr), float(self.lr_end)
        gamma = (lr_end / lr) ** (1.0 / max(1, steps))
        params = [p for p in module.parameters() if p.requires_grad]
        opt = torch.optim.RAdam(params, lr=lr)
        device = data.device
        block = max(1, steps // 50)
        history, running, count, bad = [], 0.0, 0, 0
        for k in range(steps):
            which = rng.choice(len(parts), size=B, p=prob)
            ctx = np.empty((B, C, parts[0].shape[1]))
            seq = np.empty((B, T, parts[0].shape[1]))
            for b, i in enumerate(which):
                s = int(rng.integers(C - 1, len(parts[i]) - T + 1))
                ctx[b] = parts[i][s - C + 1:s + 1]
                seq[b] = parts[i][s:s + T]
            mean, std = self._series_stats(ctx)
            ctx = (ctx - mean[:, None]) / std[:, None]
            seq = (seq - mean[:, None]) / std[:, None]
            if noise > 0.0:
                ctx = ctx + noise * rng.standard_normal(ctx.shape)
                seq = seq + noise * rng.standard_normal(seq.shape)
            ctx_t = torch.as_tensor(ctx, dtype=torch.float32, device=device)
            seq_t = torch.as_tensor(seq, dtype=torch.float32, device=device)
            opt.zero_grad(set_to_none=True)
            loss = self._sequence_loss(module, ctx_t, seq_t, tau)
            value = float(loss.detach())
            if math.isfinite(value):
                loss.backward()
            if math.isfinite(value) and all(p.grad is None or bool(torch.isfinite(p.grad).all())
                                            for p in params):
                bad = 0
                torch.nn.utils.clip_grad_norm_(params, CLIP)
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
            if (k + 1) % block == 0 or k + 1 == steps:
                history.append(running / count if count else float("nan"))
                running, count = 0.0, 0
            report(0.98 * (k + 1) / max(1, steps), f"step {k + 1} loss {value:.3g}")
        return history

    @staticmethod
    def _sequence_loss(module, ctx, seq, tau):
        """Mean squared error of the observed units along ``seq`` ``(B, T, dim)`` under
        sparse teacher forcing every ``tau`` steps, after reading ``ctx``."""
        import torch

        d = seq.shape[-1]
        c = module.encode(ctx)
        g = module.gate_context(c)
        z = module.start(seq[:, 0], c)
        err = []
        for t in range(1, seq.shape[1]):
            z = module.step(z, g)
            err.append(z[:, :d] - seq[:, t])
            if t % tau == 0:
                z = torch.cat([seq[:, t], z[:, d:]], dim=1)
        return (torch.stack(err, dim=1) ** 2).mean()

    # ------------------------------------------------------------------ forecasting
    def _prepare(self, ctx, tdtype):
        """``(state, mean, std)``: the closed-loop state ``[z, g]`` after reading the last
        ``context_`` rows of ``ctx`` ``(B, n, dim)``, and the per-series statistics."""
        import torch

        ctx = ctx[:, ctx.shape[1] - self.context_length:]
        mean, std = self._series_stats(ctx)
        module = self._module_for(tdtype)
        dev = torch.device(self.device_)
        u = torch.as_tensor((ctx - mean[:, None]) / std[:, None], dtype=tdtype, device=dev)
        c = module.encode(u)
        z = module.start(u[:, -1], c)
        return torch.cat([z, module.gate_context(c)], dim=1), mean, std

    def _advance(self, module, state):
        M = module.M
        z = module.step(state[:, :M], state[:, M:])
        return _cat(z, state[:, M:]), z[:, :module.dim]

    def _forecast(self, ctx, n_steps, dtype="float32"):
        import torch

        tdtype = resolve_dtype(dtype)
        module = self._module_for(tdtype)
        dev = torch.device(self.device_)
        out = torch.empty((ctx.shape[0], n_steps, self.dim_), dtype=tdtype, device=dev)
        with torch.no_grad(), self._threads(dev):
            state, mean, std = self._prepare(ctx, tdtype)
            for k in range(n_steps):
                state, y = self._advance(module, state)
                out[:, k] = y
        return out.double().cpu().numpy() * std[:, None] + mean[:, None]

    def _init_state(self, ctx):
        """Float64 state ``[z, g, mean, std]`` (the per-series statistics ride along, so
        :meth:`_step` can map the output back)."""
        import torch

        with torch.no_grad():
            state, mean, std = self._prepare(ctx, torch.float64)
        extra = torch.as_tensor(np.concatenate([mean, std], axis=1), dtype=torch.float64,
                                device=state.device)
        return torch.cat([state, extra], dim=1)

    def _step(self, state):
        import torch

        if not isinstance(state, torch.Tensor):
            state = torch.as_tensor(np.asarray(state, dtype=np.float64),
                                    device=torch.device(self.device_))
        d = self.dim_
        module = self._module_for(state.dtype)
        inner, mean, std = state[:, :-2 * d], state[:, -2 * d:-d], state[:, -d:]
        with torch.no_grad():
            inner, y = self._advance(module, inner)
        new = torch.cat([inner, mean, std], dim=1)
        return new, (y * std + mean).double().cpu().numpy()

    # ------------------------------------------------------------------ few-shot
    def adapt(self, context, steps=20, *, lr=None, seq_len=None):
        """A copy of this learner fine-tuned on ``context`` (few-shot).

        The copy runs ``steps`` RAdam steps (learning rate ``lr``, default ``lr_end * 10``
        of the fit) on the sequences of ``seq_len`` rows (default the fitted ``seq_len_``,
        at most half the context) inside the context, each read after the whole context
        (its encoding and statistics), with the training's sparse teacher forcing. The
        original learner is left unchanged.

        Parameters
        ----------
        context : array (n_ctx, dim) or (batch, n_ctx, dim)
            Observed states of the new member, at the training ``dt``; all of it is used
            for the sequences, the last :attr:`context_length` rows for the encoding.
        steps : int
        lr : float, optional
        seq_len : int, optional

        Returns
        -------
        FamilyMixture
        """
        import torch

        ctx, _ = self._check_context(context)
        steps = check_int(steps, "steps", minimum=0)
        lr = 10.0 * float(self.lr_end) if lr is None else check_float(lr, "lr", positive=True)
        n = ctx.shape[1]
        T = min(self.seq_len_, max(2, n // 2)) if seq_len is None else \
            check_int(seq_len, "seq_len", minimum=2, maximum=n)
        new = copy.copy(self)
        module = copy.deepcopy(self.module_)
        for p in module.parameters():
            p.requires_grad_(True)
        module.train()
        mean, std = self._series_stats(ctx[:, n - self.context_length:])
        u = (ctx - mean[:, None]) / std[:, None]
        dev = torch.device(self.device_)
        tail = torch.as_tensor(u[:, n - self.context_length:], dtype=torch.float32,
                               device=dev)
        windows = np.concatenate([np.lib.stride_tricks.sliding_window_view(
            u[b], T, axis=0).transpose(0, 2, 1) for b in range(len(u))], axis=0)
        which = np.repeat(np.arange(len(u)), n - T + 1)
        seq_all = torch.as_tensor(np.ascontiguousarray(windows), dtype=torch.float32,
                                  device=dev)
        rng = np.random.default_rng(self._seed_value())
        params = list(module.parameters())
        opt = torch.optim.RAdam(params, lr=lr)
        B = int(self.batch_size)
        with self._threads(dev):
            for _ in range(steps):
                pick = rng.integers(0, len(seq_all), size=B)
                opt.zero_grad(set_to_none=True)
                loss = self._sequence_loss(module, tail[which[pick]], seq_all[pick],
                                           self.tf_interval_)
                if not math.isfinite(float(loss.detach())):
                    break
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, CLIP)
                opt.step()
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        new.module_ = module
        new._cast_cache = {}
        return new

    # ------------------------------------------------------------------ persistence
    def _fitted_meta(self):
        return {"context_": int(self.context_), "seq_len_": int(self.seq_len_),
                "tf_interval_": int(self.tf_interval_)}

    def _load_extra(self, arrays, meta):
        for name, lo in (("context_", 2 * ENCODER_KERNEL - 1), ("seq_len_", 2),
                         ("tf_interval_", 1)):
            value = meta.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not \
                    lo <= value <= 10 ** 8:
                raise LearnerFileError(f"header field fitted.{name} must be an integer in "
                                       f"[{lo}, {10 ** 8}], got {value!r:.40}")
            setattr(self, name, value)


def _cat(z, g):
    import torch

    return torch.cat([z, g], dim=1)
