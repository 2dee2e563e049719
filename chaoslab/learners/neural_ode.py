"""Neural ordinary differential equation: a learned vector field integrated by RK4."""
from __future__ import annotations

import numpy as np

from ..validation import check_choice, check_float, check_int, reject_unknown, \
    renamed_keyword
from .timescale import AUTO, RULES
from .torch_base import TorchLearner

__all__ = ["NeuralODE", "ACTIVATIONS"]

#: nonlinearities of the vector field's MLP (:data:`chaoslab.learners.nn.node.ACTIVATIONS`)
ACTIVATIONS = ("silu", "tanh", "gelu", "softplus")


class NeuralODE(TorchLearner):
    """Neural ODE: an MLP vector field integrated with the classical Runge-Kutta method.

    The state ``x`` (standardised per variable) follows ``dx/dt = f_theta(x)`` with
    ``f_theta`` a multilayer perceptron (Chen et al. 2018, "Neural ordinary differential
    equations", NeurIPS). One forecast step is one sample interval ``dt``, integrated by
    ``substeps`` classical fourth-order Runge-Kutta steps in torch (the coefficients of
    :data:`chaoslab.integrate.tableaux.RK4`), so the
    closed-loop map is smooth and :meth:`lyapunov_exponent` measures the learned flow.
    The network's outputs are scaled per variable by the typical one-sample increment of
    the data, so they are of order one.

    Training minimises the mean squared error of multi-step rollouts on short segments
    (multiple shooting): each segment of ``unroll + 1`` samples is integrated from its
    first sample and compared with the data, errors measured in units of the typical
    increment. First ``adam_steps`` Adam steps (Kingma and Ba 2015) on random batches of
    one-step pairs give a rough field cheaply; then full-batch L-BFGS (Liu and Nocedal
    1989) with a strong-Wolfe line search fits the rollouts of all non-overlapping
    ``unroll``-step segments of the data, for ``lbfgs_steps`` loss evaluations. A
    quasi-Newton refinement reaches far smaller one-step errors than Adam in the same
    time, and on chaotic data the valid prediction time grows with the log of that error.

    Parameters
    ----------
    hidden : int
        Width of the hidden layers.
    depth : int
        Number of hidden layers.
    activation : {"silu", "tanh", "gelu", "softplus"}
        Smooth nonlinearity of the MLP.
    unroll : int or "auto"
        Length of the training rollouts (segments), in samples (``unroll_``; called
        ``horizon`` before, that keyword is deprecated). ``"auto"``: 0.55 times the
        data's time scale ``time_scale_``, at least 1
        (:mod:`chaoslab.learners.timescale`): 10 on Lorenz at ``dt`` 0.01 (the previous
        default), 3 at 0.037 (median valid prediction time over 20 starts there 5.4
        Lyapunov times, 5.0 with 10).
    substeps : int
        RK4 steps per sample interval.
    adam_steps : int
        Adam steps of the first phase.
    lbfgs_steps : int
        Loss evaluations (iterations and line-search steps) of the L-BFGS phase (0 skips
        it).
    batch_size : int
        One-step pairs per Adam step.
    lr : float
        Initial Adam learning rate (cosine decay).
    seed : int or None
        Seeds initialisation and batch sampling (same seed, same model).
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The fitted vector field (float32).
    mean_, std_ : arrays (dim,)
        Standardisation of the data.
    loss_history_ : array
        Training loss of every Adam step, then of every L-BFGS evaluation.

    Examples
    --------
    >>> m = NeuralODE().fit(X, dt=0.01)
    >>> y = m.forecast(X[-1:], 500)
    >>> m.lyapunov_exponent(X[-1:])
    """

    name = "neural_ode"
    _lengths = {"unroll": RULES["neural_ode", "unroll"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(hidden=16, adam_steps=30, lbfgs_steps=10)

    #: ``unroll`` was called ``horizon`` (a word chaoslab keeps for forecast spans)
    _renamed_params = {"horizon": "unroll"}

    def __init__(self, hidden=64, depth=2, activation="silu", unroll=AUTO, substeps=1,
                 adam_steps=500, lbfgs_steps=800, batch_size=256, lr=3e-3, seed=0,
                 device="auto", **deprecated):
        self.hidden = hidden
        self.depth = depth
        self.activation = activation
        self.unroll = renamed_keyword(deprecated, "horizon", "unroll", unroll, AUTO,
                                      func="NeuralODE")
        reject_unknown(deprecated, "NeuralODE")
        self.substeps = substeps
        self.adam_steps = adam_steps
        self.lbfgs_steps = lbfgs_steps
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    def _check_params(self):
        super()._check_params()
        check_int(self.hidden, "hidden", minimum=1)
        check_int(self.depth, "depth", minimum=1)
        check_int(self.substeps, "substeps", minimum=1, maximum=1000)
        check_int(self.adam_steps, "adam_steps", minimum=0)
        check_int(self.lbfgs_steps, "lbfgs_steps", minimum=0)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", positive=True)
        check_choice(self.activation, "activation", ACTIVATIONS)

    def _min_samples(self):
        return self.unroll_ + 1

    def _load_arrays(self, arrays, meta):
        # a file's substeps sets a loop count that no array bounds
        check_int(self.substeps, "substeps", minimum=1, maximum=1000)
        super()._load_arrays(arrays, meta)

    def _build_module(self, dim):
        from .nn.node import VectorField

        return VectorField(dim, int(self.hidden), int(self.depth), self.activation)

    def _flow(self, module, x):
        from .nn.node import rk4_flow

        return rk4_flow(module, x, int(self.substeps))

    def _train_module(self, module, data, report):
        import torch

        H = self.unroll_
        diffs = [torch.diff(data.data[o:o + n], dim=0)
                 for o, n in zip(data.offsets, data.lengths) if n > 1]
        with torch.no_grad():
            module.scale.copy_(torch.cat(diffs).std(dim=0).clamp_min(1e-6))
        inv = 1.0 / module.scale
        adam, lbfgs = int(self.adam_steps), int(self.lbfgs_steps)
        split = 0.1 if lbfgs and adam else (1.0 if adam else 0.0)
        history = []
        if adam:
            pairs = data.starts(2)
            B = int(self.batch_size)
            gen = self._generator

            def loss_fn(frac):
                w = data.sample(pairs, 2, B, gen)
                return (((self._flow(module, w[:, 0]) - w[:, 1]) * inv) ** 2).mean()

            history += self._adam_loop(module, loss_fn, 1, adam, report, float(self.lr),
                                       span=(0.0, split), label="Adam, epoch")
        if lbfgs:
            # all non-overlapping segments of H + 1 samples (consecutive ones share an end)
            rows = torch.cat([torch.arange(o, o + n - H, H) for o, n in
                              zip(data.offsets.tolist(), data.lengths) if n > H])
            seg = data.data[rows.to(data.device)[:, None]
                            + torch.arange(H + 1, device=data.device)[None, :]]

            def full_loss():
                x = seg[:, 0]
                total = 0.0
                for j in range(H):
                    x = self._flow(module, x)
                    total = total + (((x - seg[:, j + 1]) * inv) ** 2).mean()
                return total / H

            history += self._lbfgs_loop(module, full_loss, lbfgs, report, span=(split, 1.0))
        return history

    def _warmup(self, module, ctx):
        return ctx[:, -1]

    def _advance(self, module, state):
        x = self._flow(module, state)
        return x, x

    def vector_field(self, x):
        """The learned ``dx/dt`` at states ``x`` ``(..., dim)``, in the data's units."""
        import torch

        self._check_fitted()
        x = np.asarray(x, dtype=np.float64)
        if x.shape[-1] != self.dim_:
            raise ValueError(f"x must end in dim {self.dim_}, got shape {x.shape}")
        module = self._module_for(torch.float64)
        z = torch.as_tensor(self._normalise(x), device=torch.device(self.device_))
        with torch.no_grad():
            f = module(z).cpu().numpy()
        return f * self.std_ / self.dt_
