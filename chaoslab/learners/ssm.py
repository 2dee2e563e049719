"""A Mamba-style selective state-space model, in plain torch."""
from __future__ import annotations

from ..validation import check_float, check_int, reject_unknown, renamed_keyword
from .sequence import RecurrentLearner
from .timescale import AUTO, RULES

__all__ = ["Mamba"]

# defaults of the renamed hyperparameters, one object each: ``renamed_keyword`` tells a
# value left at its default by identity
_DELTA_MIN, _DELTA_MAX = 0.01, 1.0


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
    ``x_{t+1} = x_t + s * head(...)``. Training: as :class:`~chaoslab.learners.sequence.LSTM`
    (teacher-forced warm-up, closed-loop unroll curriculum with Adam, then full-batch
    L-BFGS). The network is :class:`chaoslab.learners.nn.mamba.MambaNet`.

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
    delta_min, delta_max : float
        Range of the initial step sizes ``Delta``, in samples (Mamba's ``dt_min`` and
        ``dt_max``; those keywords are deprecated: ``dt`` is the sampling step in time
        units in chaoslab).
    warmup, unroll, epochs, lbfgs_steps, batch_size, lr, seed, device
        As for :class:`~chaoslab.learners.sequence.LSTM` (``warmup`` and ``unroll``:
        ``"auto"``, 0.55 times the data's time scale, the warm-up at least 10; 10 and 10
        on Lorenz at ``dt`` 0.01, 10 and 3 at 0.037; the README's "Lengths in time" has the measurements).
    """

    name = "mamba"
    _lengths = {"warmup": RULES["mamba", "warmup"],
                "unroll": RULES["mamba", "unroll"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(d_model=8, d_inner=8, d_state=4, layers=1, epochs=2, lbfgs_steps=2)

    #: old hyperparameter names (see the parameters above)
    _renamed_params = {"horizon": "unroll", "dt_min": "delta_min", "dt_max": "delta_max"}

    def __init__(self, d_model=32, d_inner=32, d_state=8, layers=1, d_conv=4,
                 delta_min=_DELTA_MIN, delta_max=_DELTA_MAX, warmup=AUTO, unroll=AUTO,
                 epochs=15, lbfgs_steps=500, batch_size=64, lr=3e-3, seed=0, device="auto",
                 **deprecated):
        self.d_model = d_model
        self.d_inner = d_inner
        self.d_state = d_state
        self.layers = layers
        self.d_conv = d_conv
        self.delta_min = renamed_keyword(deprecated, "dt_min", "delta_min", delta_min,
                                         _DELTA_MIN, func="Mamba")
        self.delta_max = renamed_keyword(deprecated, "dt_max", "delta_max", delta_max,
                                         _DELTA_MAX, func="Mamba")
        self.warmup = warmup
        self.unroll = renamed_keyword(deprecated, "horizon", "unroll", unroll, AUTO,
                                      func="Mamba")
        reject_unknown(deprecated, "Mamba")
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
            check_int(getattr(self, name), name, minimum=1)
        check_int(self.d_conv, "d_conv", minimum=2)
        lo = check_float(self.delta_min, "delta_min", positive=True)
        hi = check_float(self.delta_max, "delta_max", positive=True)
        if lo > hi:
            raise ValueError(f"need delta_min <= delta_max, got {self.delta_min!r} > "
                             f"{self.delta_max!r}")

    def _lbfgs_stride(self):
        # a Mamba step costs several LSTM steps: half as many, non-overlapping windows
        return self.warmup_ + self.unroll_

    def _build_module(self, dim):
        from .nn.mamba import MambaNet

        return MambaNet(dim, int(self.d_model), int(self.d_inner), int(self.d_state),
                        int(self.layers), int(self.d_conv), float(self.delta_min),
                        float(self.delta_max))
