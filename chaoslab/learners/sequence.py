"""Neural sequence forecasters: an LSTM and a small causal Transformer."""
from __future__ import annotations

import math

from ..validation import check_float, check_int, reject_unknown, renamed_keyword
from .timescale import AUTO, RULES
from .torch_base import TorchLearner

__all__ = ["LSTM", "Transformer"]


# ---------------------------------------------------------------------------- recurrent base
class RecurrentLearner(TorchLearner):
    """Shared training and closed loop of the recurrent one-step forecasters.

    The module maps ``(x_t, s_{t-1}) -> (x_{t+1}, s_t)``: it reads the current
    (standardised) state ``x_t``, updates its internal state ``s`` and predicts the next
    state as ``x_t`` plus a per-variable scaled increment. A forecast warms the internal
    state up on the first ``warmup - 1`` context rows and then runs in closed loop from the
    last row, feeding back its own predictions.

    Training windows have ``warmup + unroll + 1`` samples: the first ``warmup`` are read
    from the data (teacher forcing), the next ``unroll`` predictions are fed back (closed
    loop), and the loss is the mean squared error of all ``warmup + unroll`` predictions,
    in units of the typical one-sample increment. Training closed-loop ("free-running") on
    short unrolls teaches the model to correct its own errors, which teacher forcing alone
    does not (Bengio et al. 2015, scheduled sampling; Vlachas et al. 2020, Neural Networks
    126:191). The unroll length grows from 1 to ``unroll`` over the first half of the Adam
    phase (a curriculum). An optional full-batch L-BFGS phase (Liu and Nocedal 1989) on
    windows spaced ``unroll`` apart (``warmup + unroll`` for the Mamba) then refines the
    fit, which on smooth chaotic flows lowers the one-step error much further than Adam in
    the same time.

    Subclasses set the hyperparameters and ``_build_module``; the module provides
    ``state_shapes`` (per-sample shapes of its internal state tensors), ``zero_state(B)``,
    ``step(x, states)`` and a buffer ``scale`` (typical one-sample increment per variable).
    """

    #: ``unroll`` was called ``horizon`` (a word chaoslab keeps for forecast spans)
    _renamed_params = {"horizon": "unroll"}

    def _check_common(self):
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.lbfgs_steps, "lbfgs_steps", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", positive=True)

    def _min_samples(self):
        return self.warmup_ + self.unroll_ + 1

    @property
    def context_length(self):
        return self._length("warmup")

    # ------------------------------------------------------------------ training
    def _unroll(self, module, w, n_closed):
        """Predictions ``(B, warmup + n_closed, dim)`` for windows ``w`` (teacher forcing,
        then ``n_closed`` closed-loop steps)."""
        import torch

        W = self.warmup_
        states = module.zero_state(w.shape[0], w.dtype, w.device)
        preds = []
        x = None
        for t in range(W + n_closed):
            inp = w[:, t] if t < W else x
            x, states = module.step(inp, states)
            preds.append(x)
        return torch.stack(preds, dim=1)

    def _train_module(self, module, data, report):
        import torch

        W, H = self.warmup_, self.unroll_
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
        """Spacing of the L-BFGS windows (default: ``unroll``, so that every sample is a
        closed-loop target once)."""
        return self.unroll_

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
class LSTM(RecurrentLearner):
    """LSTM one-step forecaster, trained with teacher-forced warm-up and closed-loop rollouts.

    A stack of ``layers`` LSTM cells (Hochreiter and Schmidhuber 1997, Neural Computation
    9:1735) reads the standardised state ``x_t`` and a linear head predicts the increment,
    ``x_{t+1} = x_t + s * head(h_t)`` with ``s`` the typical one-sample increment of each
    variable. The hidden and cell states are carried through the closed loop, as in
    LSTM forecasters of chaotic systems (Vlachas et al. 2018, Proc. R. Soc. A 474:
    20170844). Training: see :class:`RecurrentLearner` (Adam with a closed-loop unroll
    curriculum, then full-batch L-BFGS).

    Parameters
    ----------
    hidden : int
        Units per LSTM layer.
    layers : int
        Stacked LSTM layers.
    warmup : int or "auto"
        Context rows read before the closed loop, in training and forecasting
        (:attr:`context_length`, ``warmup_``).
    unroll : int or "auto"
        Closed-loop steps of each training window, in samples (``unroll_``; called
        ``horizon`` before, that keyword is deprecated).

        ``"auto"`` (both): 0.55 times the data's time scale ``time_scale_``
        (:mod:`chaoslab.learners.timescale`): 10 on Lorenz at ``dt`` 0.01 (the previous
        defaults). The warm-up synchronises the LSTM's state, which takes a number of
        steps, not a span of time, so it is at least 10: at ``dt`` 0.037 the unroll is 3
        and the warm-up stays 10 (the README's "Lengths in time" has the measurements).
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
    _lengths = {"warmup": RULES["lstm", "warmup"],
                "unroll": RULES["lstm", "unroll"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(hidden=8, epochs=2, lbfgs_steps=3)

    def __init__(self, hidden=32, layers=1, warmup=AUTO, unroll=AUTO, epochs=40,
                 lbfgs_steps=1200, batch_size=64, lr=3e-3, seed=0, device="auto",
                 **deprecated):
        self.hidden = hidden
        self.layers = layers
        self.warmup = warmup
        self.unroll = renamed_keyword(deprecated, "horizon", "unroll", unroll, AUTO,
                                      func="LSTM")
        reject_unknown(deprecated, "LSTM")
        self.epochs = epochs
        self.lbfgs_steps = lbfgs_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _check_params(self):
        super()._check_params()
        self._check_common()
        check_int(self.hidden, "hidden", minimum=1)
        check_int(self.layers, "layers", minimum=1)

    def _build_module(self, dim):
        from .nn.lstm import LSTMNet

        return LSTMNet(dim, int(self.hidden), int(self.layers))


# ---------------------------------------------------------------------------- Transformer
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
    closed-loop rollout of ``unroll`` steps in which the window slides over the model's
    own predictions; errors are measured in units of the typical increment. Training runs
    ``epochs`` Adam epochs (Kingma and Ba 2015; cosine decay) on random windows, with the
    rollout length growing from 1 to ``unroll`` over the first half, then
    ``lbfgs_steps`` full-batch L-BFGS evaluations (Liu and Nocedal 1989) on
    non-overlapping windows, which lowers the one-step error far below what Adam reaches
    in the same time.

    Parameters
    ----------
    window : int or "auto"
        Past states the model attends to (the :attr:`context_length`, ``window_``).
        ``"auto"``: 0.43 times the data's time scale ``time_scale_``, at least 1
        (:mod:`chaoslab.learners.timescale`): 8 on Lorenz at ``dt`` 0.01 (the previous
        default), 2 at 0.037.
    d_model : int
        Embedding width.
    heads : int
        Attention heads (must divide ``d_model``).
    layers : int
        Transformer blocks.
    ff : int
        Hidden width of the feed-forward sublayers.
    unroll : int or "auto"
        Closed-loop steps of the training rollouts, in samples (``unroll_``; 0: teacher
        forcing only; called ``horizon`` before, that keyword is deprecated). ``"auto"``:
        0.22 times the time scale, at least 1: 4 on Lorenz at ``dt`` 0.01 (the previous
        default), 1 at 0.037, where the window of 2 and unroll of 1 forecast longer than
        8 and 4 (median valid prediction time over 20 starts 4.3 against 3.7 Lyapunov
        times).
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
    _lengths = {"window": RULES["transformer", "window"],
                "unroll": RULES["transformer", "unroll"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(d_model=8, ff=8, heads=2, epochs=2, lbfgs_steps=2)

    #: ``unroll`` was called ``horizon`` (a word chaoslab keeps for forecast spans)
    _renamed_params = {"horizon": "unroll"}

    def __init__(self, window=AUTO, d_model=32, heads=4, layers=1, ff=64, unroll=AUTO,
                 epochs=60, lbfgs_steps=300, batch_size=64, lr=3e-3, seed=0,
                 device="auto", **deprecated):
        self.window = window
        self.d_model = d_model
        self.heads = heads
        self.layers = layers
        self.ff = ff
        self.unroll = renamed_keyword(deprecated, "horizon", "unroll", unroll, AUTO,
                                      func="Transformer")
        reject_unknown(deprecated, "Transformer")
        self.epochs = epochs
        self.lbfgs_steps = lbfgs_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _check_params(self):
        super()._check_params()
        check_int(self.lbfgs_steps, "lbfgs_steps", minimum=0)
        d = check_int(self.d_model, "d_model", minimum=1)
        h = check_int(self.heads, "heads", minimum=1)
        if d % h:
            raise ValueError(f"heads ({h}) must divide d_model ({d})")
        check_int(self.layers, "layers", minimum=1)
        check_int(self.ff, "ff", minimum=1)
        check_int(self.epochs, "epochs", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", positive=True)

    def _explicit_minimum(self, name):
        # an explicit unroll of 0 trains by teacher forcing only
        return 0 if name == "unroll" else 1

    def _min_samples(self):
        return self.window_ + self.unroll_ + 1

    @property
    def context_length(self):
        return self._length("window")

    def _build_module(self, dim):
        from .nn.transformer import TransformerNet

        return TransformerNet(dim, self._length("window"), int(self.d_model), int(self.heads),
                              int(self.layers), int(self.ff))

    def _train_module(self, module, data, report):
        import torch

        from .nn.transformer import shift_window

        Wn, H = self.window_, self.unroll_
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
                    win = shift_window(win, y)
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
        from .nn.transformer import shift_window

        B = state.shape[0]
        win = state.reshape(B, self.window_, self.dim_)
        y = module(win)[:, -1]
        return shift_window(win, y).reshape(B, -1), y

