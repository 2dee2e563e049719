"""Neural sequence forecasters: an LSTM and a small causal Transformer."""
from __future__ import annotations

import math

from .torch_base import TorchLearner, check_float, check_int

__all__ = ["LSTM", "Transformer"]


# ---------------------------------------------------------------------------- recurrent base
class RecurrentLearner(TorchLearner):
    """Shared training and closed loop of the recurrent one-step forecasters.

    The module maps ``(x_t, s_{t-1}) -> (x_{t+1}, s_t)``: it reads the current
    (standardised) state ``x_t``, updates its internal state ``s`` and predicts the next
    state as ``x_t`` plus a per-variable scaled increment. A forecast warms the internal
    state up on the first ``warmup - 1`` context rows and then runs in closed loop from the
    last row, feeding back its own predictions.

    Training windows have ``warmup + horizon + 1`` samples: the first ``warmup`` are read
    from the data (teacher forcing), the next ``horizon`` predictions are fed back (closed
    loop), and the loss is the mean squared error of all ``warmup + horizon`` predictions,
    in units of the typical one-sample increment. Training closed-loop ("free-running") on short horizons teaches the model
    to correct its own errors, which teacher forcing alone does not (Bengio et al. 2015,
    scheduled sampling; Vlachas et al. 2020, Neural Networks 126:191). The horizon grows
    from 1 to ``horizon`` over the first half of the Adam phase (a curriculum). An optional
    full-batch L-BFGS phase (Liu and Nocedal 1989) on windows spaced ``horizon`` apart
    (``warmup + horizon`` for the Mamba) then refines the fit, which on smooth chaotic flows lowers the one-step error much
    further than Adam in the same time.

    Subclasses set the hyperparameters and ``_build_module``; the module provides
    ``state_shapes`` (per-sample shapes of its internal state tensors), ``zero_state(B)``,
    ``step(x, states)`` and a buffer ``scale`` (typical one-sample increment per variable).
    """

    def _check_common(self):
        check_int(self.warmup, "warmup")
        check_int(self.horizon, "horizon")
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.lbfgs_steps, "lbfgs_steps", minimum=0)
        check_int(self.batch_size, "batch_size")
        check_float(self.lr, "lr", low=0, low_open=True)

    def _min_samples(self):
        return check_int(self.warmup, "warmup") + check_int(self.horizon, "horizon") + 1

    @property
    def context_length(self):
        return int(self.warmup)

    # ------------------------------------------------------------------ training
    def _unroll(self, module, w, horizon):
        """Predictions ``(B, warmup + horizon, dim)`` for windows ``w`` (teacher forcing, then
        closed loop)."""
        import torch

        W = int(self.warmup)
        states = module.zero_state(w.shape[0], w.dtype, w.device)
        preds = []
        x = None
        for t in range(W + horizon):
            inp = w[:, t] if t < W else x
            x, states = module.step(inp, states)
            preds.append(x)
        return torch.stack(preds, dim=1)

    def _train_module(self, module, data, report):
        import torch

        W, H = int(self.warmup), int(self.horizon)
        diffs = [torch.diff(data.data[o:o + n], dim=0)
                 for o, n in zip(data.offsets, data.lengths) if n > 1]
        with torch.no_grad():
            module.scale.copy_(torch.cat(diffs).std(dim=0).clamp_min(1e-6))
        inv = 1.0 / module.scale
        epochs, lbfgs = int(self.epochs), int(self.lbfgs_steps)
        split = 1.0 if not lbfgs else (0.0 if not epochs else 0.5)
        history = []
        if epochs:
            B = int(self.batch_size)
            starts = data.starts(W + H + 1)
            gen = self._generator

            def loss_fn(frac):
                h = min(H, 1 + int(H * min(1.0, 2.0 * frac)))
                w = data.sample(starts, W + h + 1, B, gen)
                pred = self._unroll(module, w, h)
                return (((pred - w[:, 1:]) * inv) ** 2).mean()

            history += self._adam_loop(module, loss_fn, epochs,
                                       data.batches_per_epoch(W + H, B), report,
                                       float(self.lr), span=(0.0, split))
        if lbfgs:
            L = W + H + 1
            stride = self._lbfgs_stride()
            rows = torch.cat([torch.arange(o, o + n - L + 1, stride) for o, n in
                              zip(data.offsets.tolist(), data.lengths) if n >= L])
            seg = data.data[rows.to(data.device)[:, None]
                            + torch.arange(L, device=data.device)[None, :]]

            def full_loss():
                pred = self._unroll(module, seg, H)
                return (((pred - seg[:, 1:]) * inv) ** 2).mean()

            history += self._lbfgs_loop(module, full_loss, lbfgs, report, span=(split, 1.0))
        return history

    def _lbfgs_stride(self):
        """Spacing of the L-BFGS windows (default: ``horizon``, so that every sample is a
        closed-loop target once)."""
        return int(self.horizon)

    # ------------------------------------------------------------------ closed loop
    def _pack(self, x, states):
        import torch

        B = x.shape[0]
        return torch.cat([x] + [s.reshape(B, -1) for s in states], dim=1)

    def _unpack(self, module, state):
        B = state.shape[0]
        d = self.dim_
        x = state[:, :d]
        out, k = [], d
        for shape in module.state_shapes:
            n = math.prod(shape)
            out.append(state[:, k:k + n].reshape((B,) + tuple(shape)))
            k += n
        return x, out

    def _warmup(self, module, ctx):
        states = module.zero_state(ctx.shape[0], ctx.dtype, ctx.device)
        for t in range(ctx.shape[1] - 1):
            _, states = module.step(ctx[:, t], states)
        return self._pack(ctx[:, -1], states)

    def _advance(self, module, state):
        x, states = self._unpack(module, state)
        y, states = module.step(x, states)
        return self._pack(y, states), y


# ---------------------------------------------------------------------------- LSTM
def _build_lstm(dim, hidden, layers):
    import torch
    from torch import nn

    class LSTMNet(nn.Module):
        """Stacked LSTM cells (Hochreiter and Schmidhuber 1997) and a linear increment head.

        Written with plain linear layers so that it runs in any dtype (bfloat16 included).
        """

        def __init__(self):
            super().__init__()
            self.hidden, self.layers = hidden, layers
            self.cells = nn.ModuleList(
                [nn.Linear((dim if i == 0 else hidden) + hidden, 4 * hidden)
                 for i in range(layers)])
            for cell in self.cells:  # forget-gate bias 1 (Gers et al. 2000)
                with torch.no_grad():
                    cell.bias.zero_()
                    cell.bias[hidden:2 * hidden] = 1.0
            self.head = nn.Linear(hidden, dim)
            with torch.no_grad():
                self.head.weight.mul_(0.1)
                self.head.bias.zero_()
            self.register_buffer("scale", torch.ones(dim))
            self.state_shapes = [(hidden,)] * (2 * layers)

        def zero_state(self, B, dtype, device):
            return [torch.zeros(B, self.hidden, dtype=dtype, device=device)
                    for _ in range(2 * self.layers)]

        def step(self, x, states):
            new = []
            inp = x
            for i, cell in enumerate(self.cells):
                h, c = states[2 * i], states[2 * i + 1]
                gates = cell(torch.cat([inp, h], dim=1))
                ig, fg, gg, og = gates.chunk(4, dim=1)
                c = torch.sigmoid(fg) * c + torch.sigmoid(ig) * torch.tanh(gg)
                h = torch.sigmoid(og) * torch.tanh(c)
                new += [h, c]
                inp = h
            return x + self.scale * self.head(inp), new

    return LSTMNet()


class LSTM(RecurrentLearner):
    """LSTM one-step forecaster, trained with teacher-forced warm-up and closed-loop rollouts.

    A stack of ``layers`` LSTM cells (Hochreiter and Schmidhuber 1997, Neural Computation
    9:1735) reads the standardised state ``x_t`` and a linear head predicts the increment,
    ``x_{t+1} = x_t + s * head(h_t)`` with ``s`` the typical one-sample increment of each
    variable. The hidden and cell states are carried through the closed loop, as in
    LSTM forecasters of chaotic systems (Vlachas et al. 2018, Proc. R. Soc. A 474:
    20170844). Training: see :class:`RecurrentLearner` (Adam with a closed-loop horizon
    curriculum, then full-batch L-BFGS).

    Parameters
    ----------
    hidden : int
        Units per LSTM layer.
    layers : int
        Stacked LSTM layers.
    warmup : int
        Context rows read before the closed loop, in training and forecasting
        (:attr:`context_length`).
    horizon : int
        Closed-loop steps of each training window.
    epochs : int
        Adam epochs; an epoch draws about as many window samples as the data holds.
    lbfgs_steps : int
        Loss evaluations of the full-batch L-BFGS phase (0 skips it).
    batch_size : int
    lr : float
        Initial Adam learning rate (cosine decay).
    seed : int or None
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    """

    name = "lstm"

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(hidden=8, epochs=2, lbfgs_steps=3)

    def __init__(self, hidden=32, layers=1, warmup=10, horizon=10, epochs=40,
                 lbfgs_steps=1200, batch_size=64, lr=3e-3, seed=0, device="auto"):
        self.hidden = hidden
        self.layers = layers
        self.warmup = warmup
        self.horizon = horizon
        self.epochs = epochs
        self.lbfgs_steps = lbfgs_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _check_params(self):
        super()._check_params()
        self._check_common()
        check_int(self.hidden, "hidden")
        check_int(self.layers, "layers")

    def _build_module(self, dim):
        return _build_lstm(dim, int(self.hidden), int(self.layers))


# ---------------------------------------------------------------------------- Transformer
def _build_transformer(dim, window, d_model, heads, layers, ff):
    import torch
    from torch import nn
    import torch.nn.functional as F

    class Block(nn.Module):
        """Pre-norm causal self-attention block (Vaswani et al. 2017; Xiong et al. 2020)."""

        def __init__(self):
            super().__init__()
            self.norm1 = nn.LayerNorm(d_model)
            self.qkv = nn.Linear(d_model, 3 * d_model)
            self.proj = nn.Linear(d_model, d_model)
            self.norm2 = nn.LayerNorm(d_model)
            self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Linear(ff, d_model))

        def forward(self, h):
            B, T, _ = h.shape
            q, k, v = self.qkv(self.norm1(h)).chunk(3, dim=-1)
            shape = (B, T, heads, d_model // heads)
            q, k, v = (a.reshape(shape).transpose(1, 2) for a in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            h = h + self.proj(a.transpose(1, 2).reshape(B, T, d_model))
            return h + self.ff(self.norm2(h))

    class TransformerNet(nn.Module):
        """Embedding + learned positions, causal blocks, linear increment head."""

        def __init__(self):
            super().__init__()
            self.window = window
            self.embed = nn.Linear(dim, d_model)
            self.pos = nn.Parameter(0.02 * torch.randn(window, d_model))
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.norm = nn.LayerNorm(d_model)
            self.head = nn.Linear(d_model, dim)
            with torch.no_grad():
                self.head.weight.mul_(0.1)
                self.head.bias.zero_()
            self.register_buffer("scale", torch.ones(dim))

        def forward(self, x):
            """Next-state predictions ``(B, T, dim)`` for every position of ``x``."""
            T = x.shape[1]
            h = self.embed(x) + self.pos[self.window - T:]
            for block in self.blocks:
                h = block(h)
            return x + self.scale * self.head(self.norm(h))

    return TransformerNet()


class Transformer(TorchLearner):
    """Small causal Transformer forecasting from a sliding window of past states.

    The last ``window`` standardised states are embedded linearly, given learned position
    embeddings and passed through ``layers`` pre-norm causal self-attention blocks
    (Vaswani et al. 2017, "Attention is all you need", NeurIPS); a linear head predicts the
    increment to the next state at every position, ``x_{t+1} = x_t + s * head(...)``, with
    ``s`` the typical one-sample increment of each variable. The forecast appends each
    prediction from the last position to the window and drops the oldest state.

    The loss of a window has two parts: the teacher-forced error of all ``window``
    next-step predictions (computed in parallel, causally masked), plus the error of a
    closed-loop rollout of ``horizon`` steps in which the window slides over the model's
    own predictions; errors are measured in units of the typical increment. Training runs
    ``epochs`` Adam epochs (Kingma and Ba 2015; cosine decay) on random windows, with the
    rollout length growing from 1 to ``horizon`` over the first half, then
    ``lbfgs_steps`` full-batch L-BFGS evaluations (Liu and Nocedal 1989) on
    non-overlapping windows, which lowers the one-step error far below what Adam reaches
    in the same time.

    Parameters
    ----------
    window : int
        Past states the model attends to (the :attr:`context_length`).
    d_model : int
        Embedding width.
    heads : int
        Attention heads (must divide ``d_model``).
    layers : int
        Transformer blocks.
    ff : int
        Hidden width of the feed-forward sublayers.
    horizon : int
        Closed-loop steps of the training rollouts (0: teacher forcing only).
    epochs : int
        Adam epochs; an epoch draws about as many window samples as the data holds.
    lbfgs_steps : int
        Loss evaluations of the L-BFGS phase (0 skips it).
    batch_size : int
    lr : float
        Initial Adam learning rate.
    seed : int or None
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    """

    name = "transformer"

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(d_model=8, ff=8, heads=2, epochs=2, lbfgs_steps=2)

    def __init__(self, window=8, d_model=32, heads=4, layers=1, ff=64, horizon=4,
                 epochs=60, lbfgs_steps=300, batch_size=64, lr=3e-3, seed=0,
                 device="auto"):
        self.window = window
        self.d_model = d_model
        self.heads = heads
        self.layers = layers
        self.ff = ff
        self.horizon = horizon
        self.epochs = epochs
        self.lbfgs_steps = lbfgs_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _check_params(self):
        super()._check_params()
        check_int(self.lbfgs_steps, "lbfgs_steps", minimum=0)
        check_int(self.window, "window")
        d = check_int(self.d_model, "d_model")
        h = check_int(self.heads, "heads")
        if d % h:
            raise ValueError(f"heads ({h}) must divide d_model ({d})")
        check_int(self.layers, "layers")
        check_int(self.ff, "ff")
        check_int(self.horizon, "horizon", minimum=0)
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.batch_size, "batch_size")
        check_float(self.lr, "lr", low=0, low_open=True)

    def _min_samples(self):
        return check_int(self.window, "window") + check_int(self.horizon, "horizon",
                                                            minimum=0) + 1

    @property
    def context_length(self):
        return int(self.window)

    def _build_module(self, dim):
        return _build_transformer(dim, int(self.window), int(self.d_model), int(self.heads),
                                  int(self.layers), int(self.ff))

    def _train_module(self, module, data, report):
        import torch

        Wn, H = int(self.window), int(self.horizon)
        diffs = [torch.diff(data.data[o:o + n], dim=0)
                 for o, n in zip(data.offsets, data.lengths) if n > 1]
        with torch.no_grad():
            module.scale.copy_(torch.cat(diffs).std(dim=0).clamp_min(1e-6))
        inv = 1.0 / module.scale
        B = int(self.batch_size)
        starts = data.starts(Wn + H + 1)
        gen = self._generator

        def window_loss(w, h):
            pred = module(w[:, :Wn])
            loss = (((pred - w[:, 1:Wn + 1]) * inv) ** 2).mean()
            if h:
                win = w[:, :Wn]
                errs = []
                for k in range(h):
                    y = module(win)[:, -1]
                    errs.append(((y - w[:, Wn + k]) * inv) ** 2)
                    win = _shift(win, y)
                loss = loss + torch.stack(errs).mean()
            return loss

        def loss_fn(frac):
            h = min(H, 1 + int(H * min(1.0, 2.0 * frac))) if H else 0
            return window_loss(data.sample(starts, Wn + h + 1, B, gen), h)

        epochs, lbfgs = int(self.epochs), int(self.lbfgs_steps)
        split = 1.0 if not lbfgs else (0.0 if not epochs else 0.6)
        history = []
        if epochs:
            history += self._adam_loop(module, loss_fn, epochs,
                                       data.batches_per_epoch(Wn + H, B), report,
                                       float(self.lr), span=(0.0, split))
        if lbfgs:
            L = Wn + H + 1
            rows = torch.cat([torch.arange(o, o + n - L + 1, Wn + H) for o, n in
                              zip(data.offsets.tolist(), data.lengths) if n >= L])
            seg = data.data[rows.to(data.device)[:, None]
                            + torch.arange(L, device=data.device)[None, :]]
            history += self._lbfgs_loop(module, lambda: window_loss(seg, H), lbfgs, report,
                                        span=(split, 1.0))
        return history

    def _warmup(self, module, ctx):
        return ctx.reshape(ctx.shape[0], -1)

    def _advance(self, module, state):
        B = state.shape[0]
        win = state.reshape(B, int(self.window), self.dim_)
        y = module(win)[:, -1]
        return _shift(win, y).reshape(B, -1), y


def _shift(win, y):
    """Drop the oldest row of ``win`` ``(B, T, d)`` and append ``y`` ``(B, d)``."""
    import torch

    return torch.cat([win[:, 1:], y[:, None]], dim=1)
