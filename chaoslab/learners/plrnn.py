"""Piecewise-linear and almost-linear RNNs trained with generalized teacher forcing."""
from __future__ import annotations

import numpy as np

from ..validation import check_choice, check_float, check_int
from .timescale import AUTO, RULES
from .torch_base import TorchLearner

__all__ = ["PLRNN", "ALRNN"]

#: the ALRNN's subregion code is packed into an int64
MAX_CODE_BITS = 62


def _fit_pwl(learner, data, K, report, span, adam_steps, lbfgs_steps):
    """Least-squares fit of a one-hidden-layer piecewise-linear map of the increments.

    ``x_{t+1} - x_t ~ L x_t + V relu(U x_t + c) + e`` on the standardised data pairs.
    Returns ``(L, V, U, c, e)`` (float32 tensors). The ``K`` ReLU hyperplanes start
    through random data points; Adam then full-batch L-BFGS fit them.
    """
    import torch

    from .nn.plrnn import PiecewiseLinearIncrements

    dev = data.device
    idx = data.starts(2).to(dev)
    x0 = data.data[idx]
    dx = data.data[idx + 1] - x0
    s = dx.std(dim=0).clamp_min(1e-8)
    target = dx / s
    gen = learner._generator
    pwl = PiecewiseLinearIncrements(x0, K, gen)
    B = 256
    n_adam, n_lbfgs = int(adam_steps), int(lbfgs_steps)
    mid = span[0] + (span[1] - span[0]) * (0.2 if n_lbfgs else 1.0)
    if n_adam:
        def loss_fn(frac):
            i = torch.randint(len(x0), (B,), generator=gen).to(dev)
            return ((pwl(x0[i]) - target[i]) ** 2).mean()

        learner._adam_loop(pwl, loss_fn, 1, n_adam, report, 3e-3, span=(span[0], mid),
                           label="piecewise-linear fit, epoch")
    if n_lbfgs:
        learner._lbfgs_loop(pwl, lambda: ((pwl(x0) - target) ** 2).mean(), n_lbfgs, report,
                            span=(mid, span[1]))
    with torch.no_grad():
        return (s[:, None] * pwl.L, s[:, None] * pwl.V, pwl.U.detach().clone(),
                pwl.c.detach().clone(), s * pwl.e)


def _n_free(dim, M, P, K):
    """Latent units left over by the piecewise-linear initialisation."""
    return M - K - (2 * dim if P == M else dim)


def _check_unit(value, name):
    """A float in [0, 1] (a forcing strength)."""
    v = check_float(value, name)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


class PLRNN(TorchLearner):
    """Piecewise-linear recurrent neural network trained with generalized teacher forcing.

    The latent state ``z`` (``latent_dim = M`` units) follows

        z_{t+1} = A z_t + W phi(z_t) + h,

    with ``A`` diagonal, ``W`` a full matrix and ``phi`` the ReLU on every unit
    (Durstewitz 2017, PLoS Comput. Biol. 13:e1005542; Koppe et al. 2019, PLoS Comput.
    Biol. 15:e1007263). The observation model is the identity: the first ``dim`` latent
    units are the observed variables (standardised), the others are hidden; the hidden
    units of a sequence start from a linear map of its first observation.

    **Generalized teacher forcing** (GTF; Hess, Monfared, Brenner and Durstewitz 2023,
    "Generalized teacher forcing for learning chaotic dynamics", ICML). Along a training
    sequence of ``seq_len`` samples the state fed to the next step is

        z~_t = alpha * zhat_t + (1 - alpha) * z_t,

    where ``zhat_t`` holds the data ``x_t`` in its observed units and the model's own
    values in the hidden ones, and the loss is the mean squared error of the predicted
    next observations, backpropagated through the whole sequence. ``alpha = 1`` forces the
    observed units fully (teacher forcing), ``alpha = 0`` is free running
    (backpropagation through time); in between, the forcing keeps the gradients bounded
    along chaotic trajectories while the model is trained on multi-step predictions.

    **Training.** With ``init="pwl"`` (default) the model starts from an exact rewrite of a
    least-squares piecewise-linear fit of the one-step increments,
    ``x_{t+1} - x_t = L x_t + V relu(U x_t + c) + e`` with ``K`` ReLU features (Adam, then
    full-batch L-BFGS; ``init_steps`` each): ``K`` hidden units whose pre-activations
    track ``U x + c`` (their increments are ``U`` times the observed increments) and, as
    the PLRNN rectifies its observed units too, ``dim`` units tracking ``-x`` so that
    ``x = relu(x) - relu(-x)`` is available linearly; so ``K = M - 2 dim``. GTF then
    refines this map, in the parametrisation ``(L, V, U, c, e)`` that keeps the hidden
    units consistent, by ``gtf_steps`` full-batch L-BFGS evaluations (Liu and Nocedal
    1989) on all non-overlapping sequences with forcing ``alpha`` (and, if ``epochs``,
    Adam epochs on random sequences before it); the learned ``(L, V, U, c, e)`` is
    written into ``A``, ``W``, ``h``. Long sequences matter: GTF on sequences much
    shorter than the forecast horizon lets the hidden units drift in long free runs.
    With ``init="random"`` all of ``A``, ``W``, ``h`` are trained by GTF from a random
    start (Adam for ``epochs``, default 200, with ``alpha`` annealed to ``alpha_end``,
    then L-BFGS); this is much slower to reach the same accuracy.

    To forecast, the model is driven by the last ``warmup`` context rows with its observed
    units set to the data (the hidden units start from the first of them), then runs
    freely.

    Parameters
    ----------
    latent_dim : int
        ``M``, number of latent units (at least ``2 dim + 1`` with ``init="pwl"``).
    alpha : float in [0, 1]
        GTF forcing strength (at the start of the Adam epochs).
    alpha_end : float in [0, 1] or None
        Forcing at the end of the Adam epochs (linear annealing) and in the L-BFGS phase;
        ``None`` keeps ``alpha``.
    seq_len : int or "auto"
        GTF sequence length, in samples (``seq_len_``). ``"auto"``: 8 times the data's
        time scale ``time_scale_`` (:mod:`chaoslab.learners.timescale`; 150 on Lorenz at
        ``dt`` 0.01, the previous default) and at least 150: GTF trains the model to stay
        on the attractor over ``seq_len`` free-running steps, a count of steps (shorter
        at coarse sampling, it lost skill; the README's "Lengths in time" has the measurements), so the rule only lengthens
        it, at finer sampling.
    warmup : int
        Context rows used to warm up a forecast (the :attr:`context_length`). A count, not
        a span of time: the hidden units start from a linear map of the first of them,
        as every training sequence starts, so one row suffices at any sampling.
    init : {"pwl", "random"}
        Start from a fitted piecewise-linear map or from random parameters.
    init_steps : int
        Adam steps and L-BFGS evaluations of the piecewise-linear fit.
    gtf_steps : int
        L-BFGS loss evaluations of the GTF phase (0 skips it).
    epochs : int or None
        Adam GTF epochs before the L-BFGS phase (an epoch draws about as many sequence
        samples as the data holds); ``None``: 0 with ``init="pwl"``, 200 with
        ``init="random"``.
    batch_size : int
        Sequences per Adam step.
    lr : float
        Initial Adam learning rate (cosine decay).
    seed : int or None
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Attributes
    ----------
    module_ : torch.nn.Module
        Parameters ``A``, ``W``, ``h`` and ``init`` (the hidden units' starting map).
    mean_, std_ : arrays (dim,)
    loss_history_ : array
        GTF loss of every Adam epoch, then of every L-BFGS evaluation.

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
        return dict(latent_dim=16, init_steps=20, gtf_steps=5)

    def __init__(self, latent_dim=128, alpha=0.05, alpha_end=None, seq_len=AUTO, warmup=1,
                 init="pwl", init_steps=600, gtf_steps=200, epochs=None, batch_size=32,
                 lr=1e-3, seed=0, device="auto"):
        self.latent_dim = latent_dim
        self.alpha = alpha
        self.alpha_end = alpha_end
        self.seq_len = seq_len
        self.warmup = warmup
        self.init = init
        self.init_steps = init_steps
        self.gtf_steps = gtf_steps
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.seed = seed
        self.device = device

    # ------------------------------------------------------------------ structure
    def _n_relu(self, M):
        return M

    def _n_features(self, dim):
        """ReLU units the piecewise-linear initialisation uses (PLRNN: M - 2 dim)."""
        return int(self.latent_dim) - 2 * dim

    def _min_latent(self, dim):
        """Smallest ``latent_dim`` the piecewise-linear initialisation can use."""
        return 2 * dim + 1

    def _epochs(self):
        if self.epochs is None:
            return 0 if self.init == "pwl" else 200
        return check_int(self.epochs, "epochs", minimum=0)

    def _check_params(self):
        super()._check_params()
        check_int(self.latent_dim, "latent_dim", minimum=1)
        check_int(self.warmup, "warmup", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.init_steps, "init_steps", minimum=0)
        check_int(self.gtf_steps, "gtf_steps", minimum=0)
        check_float(self.lr, "lr", positive=True)
        _check_unit(self.alpha, "alpha")
        if self.alpha_end is not None:
            _check_unit(self.alpha_end, "alpha_end")
        check_choice(self.init, "init", ("pwl", "random"))
        self._epochs()

    def _explicit_minimum(self, name):
        return 2                                    # seq_len: one step at least

    def _min_samples(self):
        return self.seq_len_

    @property
    def context_length(self):
        return int(self.warmup)

    def _build_module(self, dim):
        from .nn.plrnn import PLRNNCell

        M = int(self.latent_dim)
        if M < dim:
            raise ValueError(f"latent_dim ({M}) must be at least the data dimension ({dim}): "
                             "the first dim latent units are the observed variables")
        return PLRNNCell(dim, M, self._n_relu(M))

    # ------------------------------------------------------------------ training
    def _alpha_at(self, frac):
        a0 = float(self.alpha)
        a1 = a0 if self.alpha_end is None else float(self.alpha_end)
        return a0 + (a1 - a0) * frac

    def _gtf_loss(self, module, w, alpha):
        """GTF loss of windows ``w`` ``(B, T, dim)``: mean squared next-step error."""
        import torch

        d = w.shape[-1]
        z = module.start(w[:, 0])
        total = 0.0
        for t in range(w.shape[1] - 1):
            if alpha == 0.0:
                zt = z
            elif alpha == 1.0:
                zt = torch.cat([w[:, t], z[:, d:]], dim=1)
            else:
                zt = torch.cat([alpha * w[:, t] + (1.0 - alpha) * z[:, :d], z[:, d:]], dim=1)
            z = module(zt)
            total = total + ((z[:, :d] - w[:, t + 1]) ** 2).mean()
        return total / (w.shape[1] - 1)

    def _train_module(self, module, data, report):
        import torch

        from .nn.plrnn import StructuredPLRNN, write_parameters

        T = self.seq_len_
        d = data.dim
        epochs = self._epochs()
        gtf = int(self.gtf_steps)
        n_init = int(self.init_steps) if self.init == "pwl" else 0
        # share of the progress bar: init, Adam GTF, L-BFGS GTF (by rough cost)
        costs = np.array([2.0 * n_init, 0.5 * epochs * max(1, T // 10), 1.0 * gtf * T / 10])
        cuts = np.concatenate([[0.0], np.cumsum(costs) / max(costs.sum(), 1e-12)])
        if self.init == "pwl":
            K = self._n_features(d)
            if K < 1:
                raise ValueError(f"init='pwl' needs latent_dim >= {self._min_latent(d)} for "
                                 f"{d} variables (got {self.latent_dim}); raise latent_dim "
                                 "or use init='random'")
            L, V, U, c, e = _fit_pwl(self, data, K, report, (cuts[0], cuts[1]), n_init,
                                     n_init)
            M, P = module.M, module.P
            free_W = 1e-3 * torch.randn(_n_free(d, M, P, K), M, generator=self._generator)
            trained = StructuredPLRNN(L, V, U, c, e, d, M, P, free_W.to(data.device))
            cell = trained.composed
        else:
            trained = module
            cell = lambda: module  # noqa: E731
        history = []
        if epochs:
            B = int(self.batch_size)
            starts = data.starts(T)
            gen = self._generator

            def loss_fn(frac):
                return self._gtf_loss(cell(), data.sample(starts, T, B, gen),
                                      self._alpha_at(frac))

            history += self._adam_loop(trained, loss_fn, epochs,
                                       data.batches_per_epoch(T, B), report, float(self.lr),
                                       span=(cuts[1], cuts[2]), label="GTF epoch")
        if gtf:
            rows = torch.cat([torch.arange(o, o + n - T + 1, T) for o, n in
                              zip(data.offsets.tolist(), data.lengths) if n >= T])
            seq = data.data[rows.to(data.device)[:, None]
                            + torch.arange(T, device=data.device)[None, :]]
            alpha = self._alpha_at(1.0)
            history += self._lbfgs_loop(trained, lambda: self._gtf_loss(cell(), seq, alpha),
                                        gtf, report, span=(cuts[2], 1.0))
        if trained is not module:
            with torch.no_grad():
                write_parameters(module, trained.parts())
        return history

    # ------------------------------------------------------------------ closed loop
    def _forced(self, module, x):
        """Latent states ``(B, n, M)`` along ``x`` ``(B, n, dim)`` with observed units = data."""
        import torch

        d = x.shape[-1]
        z = module.start(x[:, 0])
        out = [z]
        for t in range(1, x.shape[1]):
            z = module(z)
            z = torch.cat([x[:, t], z[:, d:]], dim=1)
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
             torch.empty((ctx.shape[0], 0, int(self.latent_dim)))).cpu().numpy()
        return z[0] if single else z

    def jacobian(self, z):
        """Jacobian ``A + W diag(phi'(z))`` of the latent map at latent state(s) ``z``.

        Parameters
        ----------
        z : array (M,) or (batch, M)
            Latent states, e.g. rows of :meth:`latent_states` (standardised units).

        Returns
        -------
        array (M, M) or (batch, M, M)
        """
        self._check_fitted()
        m = self.module_
        M, P = m.M, m.P
        z = np.asarray(z, dtype=np.float64)
        if z.shape[-1] != M or z.ndim not in (1, 2):
            raise ValueError(f"z must be (M,) or (batch, M) with M = {M}, got {z.shape}")
        A = m.A.detach().double().cpu().numpy()
        W = m.W.detach().double().cpu().numpy()
        slope = np.ones(z.shape)
        slope[..., M - P:] = (z[..., M - P:] > 0).astype(np.float64)
        J = W * slope[..., None, :]
        idx = np.arange(M)
        J[..., idx, idx] += A
        return J


class ALRNN(PLRNN):
    """Almost-linear RNN trained with generalized teacher forcing.

    The latent model of :class:`PLRNN` with the ReLU on only the last ``n_relu = P`` of
    its ``M`` units, the others linear (Brenner, Hemmer, Monfared and Durstewitz 2024,
    "Almost-linear RNNs yield highly interpretable symbolic codes in dynamical systems
    reconstruction", NeurIPS):

        z_{t+1} = A z_t + W phi*(z_t) + h,
        phi*(z) = (z_1, ..., z_{M-P}, max(0, z_{M-P+1}), ..., max(0, z_M)).

    The latent space is split into at most ``2**P`` linear subregions, one for each on/off
    pattern of the ReLU units; within one the model is the affine map
    ``A + W diag(phi*'(z))``. A trajectory thus becomes a sequence of subregion symbols
    (:meth:`symbolic_code`). Training (piecewise-linear start with ``K = P`` features, then
    GTF) and forecasting are those of :class:`PLRNN`; here the observed units are linear,
    so no units are needed to track ``-x`` and ``latent_dim >= dim + P``. Units beyond
    ``dim + P`` are extra linear units.

    Parameters
    ----------
    n_relu : int
        ``P``, the number of ReLU units (``0 < P <= latent_dim``; symbolic codes need
        ``P <= 62``).
    latent_dim, alpha, alpha_end, seq_len, warmup, init, init_steps, gtf_steps, epochs, \
batch_size, lr, seed, device
        As for :class:`PLRNN`.

    Attributes
    ----------
    n_subregions_ : int
        Number of distinct linear subregions visited along the training data (driven by
        the data as in :meth:`latent_states`).

    Examples
    --------
    >>> m = ALRNN(n_relu=8).fit(X, dt=0.01)
    >>> codes = m.symbolic_code(X[:2000])          # ints in [0, 2**8)
    >>> m.n_subregions_, m.max_subregions
    """

    name = "alrnn"
    _lengths = {"seq_len": RULES["alrnn", "seq_len"]}

    @classmethod
    def quick_params(cls):
        """Small settings that train in about a second (for tests and demos)."""
        return dict(latent_dim=10, n_relu=4, init_steps=20, gtf_steps=5)

    def __init__(self, latent_dim=40, n_relu=32, alpha=0.05, alpha_end=None, seq_len=AUTO,
                 warmup=1, init="pwl", init_steps=600, gtf_steps=200, epochs=None,
                 batch_size=32, lr=1e-3, seed=0, device="auto"):
        self.n_relu = n_relu
        super().__init__(latent_dim=latent_dim, alpha=alpha, alpha_end=alpha_end,
                         seq_len=seq_len, warmup=warmup, init=init, init_steps=init_steps,
                         gtf_steps=gtf_steps, epochs=epochs, batch_size=batch_size, lr=lr,
                         seed=seed, device=device)

    def _min_latent(self, dim):
        return dim + int(self.n_relu)

    def _n_features(self, dim):
        P = int(self.n_relu)
        return P if int(self.latent_dim) >= dim + P else 0

    def _n_relu(self, M):
        P = check_int(self.n_relu, "n_relu", minimum=1)
        if P > M:
            raise ValueError(f"n_relu ({P}) must be at most latent_dim ({M})")
        return P

    def _check_params(self):
        super()._check_params()
        P = check_int(self.n_relu, "n_relu", minimum=1)
        if P > int(self.latent_dim):
            raise ValueError(f"n_relu ({P}) must be at most latent_dim ({self.latent_dim})")

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
        return {"n_subregions_": self.n_subregions_}

    def _load_extra(self, arrays, meta):
        self.n_subregions_ = int(meta["n_subregions_"])
