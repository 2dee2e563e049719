"""A Mamba-style selective state-space model, in plain torch."""
from __future__ import annotations

import math

from .sequence import RecurrentLearner
from .torch_base import check_float, check_int

__all__ = ["Mamba"]


def _build_mamba(dim, d_model, d_inner, d_state, layers, d_conv, dt_min, dt_max):
    import torch
    from torch import nn
    import torch.nn.functional as F

    dt_rank = max(1, math.ceil(d_model / 16))

    class RMSNorm(nn.Module):
        def __init__(self, n, eps=1e-5):
            super().__init__()
            self.eps = eps
            self.weight = nn.Parameter(torch.ones(n))

        def forward(self, x):
            return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + self.eps) * self.weight

    class MambaBlock(nn.Module):
        """Gated selective SSM block (Gu and Dao 2023), in recurrent (one-step) form.

        ``u, g = in_proj(x)``; ``u`` passes a causal depthwise convolution of width
        ``d_conv`` and a SiLU; the input-dependent step ``Delta = softplus(dt_proj(.))``,
        input matrix ``B`` and output matrix ``C`` are projections of ``u``; the diagonal
        ``A = -exp(A_log)`` is discretised by zero-order hold, ``Abar = exp(Delta A)``,
        ``Bbar = (exp(Delta A) - 1) / A * B``; the state ``h = Abar h + Bbar u`` is read
        out as ``y = C h + D u``, gated by ``SiLU(g)`` and projected back.
        """

        def __init__(self):
            super().__init__()
            self.in_proj = nn.Linear(d_model, 2 * d_inner)
            self.conv_w = nn.Parameter(torch.randn(d_inner, d_conv) / math.sqrt(d_conv))
            self.conv_b = nn.Parameter(torch.zeros(d_inner))
            self.x_proj = nn.Linear(d_inner, dt_rank + 2 * d_state, bias=False)
            self.dt_proj = nn.Linear(dt_rank, d_inner)
            # Delta starts log-uniform in [dt_min, dt_max] (inverse softplus of the bias)
            dt = torch.exp(torch.rand(d_inner) * (math.log(dt_max) - math.log(dt_min))
                           + math.log(dt_min))
            with torch.no_grad():
                self.dt_proj.bias.copy_(dt + torch.log(-torch.expm1(-dt)))
            # S4D-real initialisation A_n = -(n + 1)
            self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1,
                                                             dtype=torch.float32))
                                      .repeat(d_inner, 1))
            self.D = nn.Parameter(torch.ones(d_inner))
            self.out_proj = nn.Linear(d_inner, d_model)

        def step(self, x, conv, h):
            u, g = self.in_proj(x).chunk(2, dim=-1)
            window = torch.cat([conv, u[:, :, None]], dim=2)          # (B, d_inner, d_conv)
            u = F.silu((window * self.conv_w).sum(dim=2) + self.conv_b)
            dt_low, Bm, Cm = self.x_proj(u).split([dt_rank, d_state, d_state], dim=-1)
            delta = F.softplus(self.dt_proj(dt_low))                   # (B, d_inner)
            A = -torch.exp(self.A_log)                                 # (d_inner, N)
            dA = delta[:, :, None] * A
            Abar = torch.exp(dA)
            Bbar = torch.expm1(dA) / A * Bm[:, None, :]                # (B, d_inner, N)
            h = Abar * h + Bbar * u[:, :, None]
            y = (h * Cm[:, None, :]).sum(dim=-1) + self.D * u
            return self.out_proj(y * F.silu(g)), window[:, :, 1:], h

    class MambaNet(nn.Module):
        """Linear embedding, pre-norm residual Mamba blocks, RMS norm, linear increment head."""

        def __init__(self):
            super().__init__()
            self.layers = layers
            self.embed = nn.Linear(dim, d_model)
            self.norms = nn.ModuleList([RMSNorm(d_model) for _ in range(layers)])
            self.blocks = nn.ModuleList([MambaBlock() for _ in range(layers)])
            self.norm = RMSNorm(d_model)
            self.head = nn.Linear(d_model, dim)
            with torch.no_grad():
                self.head.weight.mul_(0.1)
                self.head.bias.zero_()
            self.register_buffer("scale", torch.ones(dim))
            self.state_shapes = [(d_inner, d_conv - 1), (d_inner, d_state)] * layers

        def zero_state(self, B, dtype, device):
            return [torch.zeros((B,) + s, dtype=dtype, device=device)
                    for s in self.state_shapes]

        def step(self, x, states):
            z = self.embed(x)
            new = []
            for i, (norm, block) in enumerate(zip(self.norms, self.blocks)):
                dz, conv, h = block.step(norm(z), states[2 * i], states[2 * i + 1])
                z = z + dz
                new += [conv, h]
            return x + self.scale * self.head(self.norm(z)), new

    return MambaNet()


class Mamba(RecurrentLearner):
    """Mamba-style selective state-space model, stepped recurrently.

    A residual stack of gated selective-SSM blocks after Gu and Dao (2023, "Mamba:
    linear-time sequence modeling with selective state spaces", arXiv:2312.00752): in
    each block the step size ``Delta``, input matrix ``B`` and output matrix ``C`` depend
    on the input (selection), the diagonal state matrix ``A = -exp(A_log)`` is
    discretised by zero-order hold, and a short causal depthwise convolution and a SiLU
    gate surround the scan. The scan is run sequentially, one sample at a time, in plain
    torch (no fused kernel), which is the same recurrence used for the closed-loop
    forecast; the conv buffers and SSM states are carried through the closed loop. A
    linear head predicts the increment to the next standardised state,
    ``x_{t+1} = x_t + s * head(...)``. Training: as :class:`~chaoslab.learners.LSTM`
    (teacher-forced warm-up, closed-loop horizon curriculum with Adam, then full-batch
    L-BFGS).

    Parameters
    ----------
    d_model : int
        Width of the residual stream.
    d_inner : int
        Channels of each SSM block (Mamba's expansion, usually ``2 * d_model``).
    d_state : int
        State size ``N`` per channel.
    layers : int
        Number of blocks.
    d_conv : int
        Width of the causal convolution.
    dt_min, dt_max : float
        Range of the initial step sizes ``Delta`` (in samples).
    warmup, horizon, epochs, lbfgs_steps, batch_size, lr, seed, device
        As for :class:`~chaoslab.learners.LSTM`.
    """

    name = "mamba"

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(d_model=8, d_inner=8, d_state=4, layers=1, epochs=2, lbfgs_steps=2)

    def __init__(self, d_model=32, d_inner=32, d_state=8, layers=1, d_conv=4, dt_min=0.01,
                 dt_max=1.0, warmup=10, horizon=10, epochs=15, lbfgs_steps=500,
                 batch_size=64, lr=3e-3, seed=0, device="auto"):
        self.d_model = d_model
        self.d_inner = d_inner
        self.d_state = d_state
        self.layers = layers
        self.d_conv = d_conv
        self.dt_min = dt_min
        self.dt_max = dt_max
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
        for name in ("d_model", "d_inner", "d_state", "layers"):
            check_int(getattr(self, name), name)
        check_int(self.d_conv, "d_conv", minimum=2)
        lo = check_float(self.dt_min, "dt_min", low=0, low_open=True)
        hi = check_float(self.dt_max, "dt_max", low=0, low_open=True)
        if lo > hi:
            raise ValueError(f"need dt_min <= dt_max, got {self.dt_min!r} > {self.dt_max!r}")

    def _lbfgs_stride(self):
        # a Mamba step costs several LSTM steps: half as many, non-overlapping windows
        return int(self.warmup) + int(self.horizon)

    def _build_module(self, dim):
        return _build_mamba(dim, int(self.d_model), int(self.d_inner), int(self.d_state),
                            int(self.layers), int(self.d_conv), float(self.dt_min),
                            float(self.dt_max))
