"""Echo state network (reservoir computer)."""
import math

import numpy as np

from ..validation import check_float, check_int
from .base import Learner, LearnerFileError, check_file_arrays, file_array
from .ridge import ridge
from .timescale import AUTO, RULES

#: the reservoir has forgotten its start when a difference of states has shrunk by this
MEMORY_TOLERANCE = 1e-6


class ESN(Learner):
    """Echo state network with a sparse random reservoir and a ridge readout.

    The reservoir state follows ``r[k+1] = (1 - leak) r[k] + leak tanh(W r[k] + W_in u[k]
    + b)`` with a sparse random ``W`` (``degree`` non-zeros per row) scaled to spectral
    radius ``spectral_radius``. The readout is linear in ``[1, u[k], r~[k+1]]`` and predicts
    the increment ``u[k+1] - u[k]`` of the normalised state. Squares break the tanh
    reservoir's odd symmetry, which an odd readout cannot undo: by default (``"even"``) the
    even-numbered units enter squared (Pathak, Hunt, Girvan, Lu & Ott, PRL 120, 024102,
    2018), so there are as many readout features as units; ``squares=True`` appends the
    squares of all units instead (twice the features: slightly longer forecasts on the
    benchmark flows, for a slower fit; the ``esn_squares_all`` rows of the README's
    benchmark section and ``benchmarks/results/learners.json``). Only the readout is
    trained (Jaeger 2001; Lukoševičius 2012 for practical choices), by ridge regression;
    forecasting feeds outputs back as inputs.

    The default input scaling (0.5, on standardised inputs) drives the tanh units into
    their nonlinear range; at 0.2 the reservoir is nearly polynomial and forecasts of the
    sine-driven Thomas flow fail within a Lyapunov time, while the polynomial flows gain
    or lose little (the Thomas figures are in the README's benchmark section).

    Parameters
    ----------
    size : int
        Reservoir units.
    spectral_radius, degree, input_scaling, bias_scaling, leak : float
        Reservoir construction; see above.
    ridge : float
        Ridge penalty of the readout.
    washout : int or "auto"
        Rows of each training trajectory discarded while the reservoir forgets its start
        (``washout_``). ``"auto"``: ``5.5`` times the data's time scale ``time_scale_``
        (:mod:`chaoslab.learners.timescale`; 100 rows on Lorenz at ``dt`` 0.01, 28 to 30
        at 0.037), and at least the reservoir's memory (below). The washout hardly
        matters once it exceeds the memory: on Lorenz at ``dt`` 0.037 (10,000 training
        samples) washouts of 20, 30, 50 and 100 rows give the same valid prediction
        times.
    squares : "even", True or False
        Square the even-numbered units, append the squares of all units, or neither.
    increment : bool
        Predict increments rather than states.
    seed : int

    Notes
    -----
    **Context.** A forecast drives the reservoir, from rest, with every context row but
    the last; the memory of that zero start fades by about ``r`` per row, where
    ``r = 1 - leak (1 - spectral_radius)`` is the spectral radius of the linearised leaky
    update (tanh only shrinks it). :attr:`context_length` is the reservoir's *memory*,
    :meth:`memory` ``= ceil(log(1e-6) / log(r))`` rows (``MEMORY_TOLERANCE = 1e-6``; 16
    at the defaults, ``r = 0.4``), or ``washout_`` if that is shorter. It depends on the
    reservoir, not on the sampling: the reservoir forgets per step. Longer contexts give
    the same forecast: on Lorenz (10,000 training samples) forecasts from 16 rows and
    from 300 differ by 1e-9 standard deviations over 20 steps at ``dt`` 0.01 and 4e-8 at
    0.037, and the valid prediction times of 20 starts synchronised on 15, 20, 30 or 300
    rows are equal (on 5 rows they are shorter). With ``r >= 1`` (no echo-state
    guarantee) the memory is ``washout_``.
    """

    name = "esn"
    _lengths = {"washout": RULES["esn", "washout"]}

    def __init__(self, size=500, spectral_radius=0.4, degree=3, input_scaling=0.5,
                 bias_scaling=0.2, leak=1.0, ridge=1e-7, washout=AUTO, squares="even",
                 increment=True, seed=0):
        self.size = size
        self.spectral_radius = spectral_radius
        self.degree = degree
        self.input_scaling = input_scaling
        self.bias_scaling = bias_scaling
        self.leak = leak
        self.ridge = ridge
        self.washout = washout
        self.squares = squares
        self.increment = increment
        self.seed = seed

    def _check_params(self):
        """The hyperparameters, before anything is built from them."""
        check_int(self.size, "size", minimum=1, maximum=1_000_000)
        check_float(self.spectral_radius, "spectral_radius", nonnegative=True)
        check_float(self.degree, "degree", positive=True)
        if float(self.degree) > self.size:
            raise ValueError(f"degree (mean connections per unit) must be at most size="
                             f"{self.size}, got {self.degree!r}")
        check_float(self.input_scaling, "input_scaling", nonnegative=True)
        check_float(self.bias_scaling, "bias_scaling", nonnegative=True)
        leak = check_float(self.leak, "leak", positive=True)
        if leak > 1:
            raise ValueError(f"leak must be in (0, 1], got {self.leak!r}")
        check_float(self.ridge, "ridge", nonnegative=True)
        if not isinstance(self.increment, (bool, np.bool_)):
            raise ValueError(f"increment must be True or False, got {self.increment!r}")
        if self.seed is not None:
            check_int(self.seed, "seed", minimum=0)
        self._squares_mode()

    def memory(self):
        """Rows after which the reservoir has forgotten its start to ``MEMORY_TOLERANCE``,
        ``ceil(log(MEMORY_TOLERANCE) / log(r))`` with ``r = 1 - leak (1 -
        spectral_radius)`` (see the class notes); ``None`` when ``r >= 1``."""
        r = 1.0 - float(self.leak) * (1.0 - float(self.spectral_radius))
        if not 0.0 <= r < 1.0:
            return None
        if r == 0.0:
            return 1
        return max(1, math.ceil(math.log(MEMORY_TOLERANCE) / math.log(r)))

    def _auto_minimum(self, name):
        # an automatic washout is at least the memory
        return self.memory() or 1

    @property
    def context_length(self):
        washout = self._length("washout")
        mem = self.memory()
        return washout if mem is None else max(1, min(washout, mem))

    def _min_samples(self):
        self._check_params()  # fit asks for this first: bad values never reach the build
        return self._length("washout") + 10

    def _build(self, dim):
        import scipy.sparse
        import scipy.sparse.linalg

        N = int(self.size)
        if N < 1:
            raise ValueError(f"size must be >= 1, got {self.size}")
        rng = np.random.default_rng(self.seed)
        deg = max(1, min(int(self.degree), N))
        rows = np.repeat(np.arange(N), deg)
        cols = np.concatenate([rng.choice(N, deg, replace=False) for _ in range(N)])
        vals = rng.uniform(-1.0, 1.0, N * deg)
        W = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(N, N))
        rho = None
        if N > 64:
            try:
                rho = abs(scipy.sparse.linalg.eigs(W, k=1, which="LM", return_eigenvectors=False,
                                                   v0=np.ones(N), ncv=60, tol=1e-10,
                                                   maxiter=5000)[0])
            except scipy.sparse.linalg.ArpackNoConvergence:
                pass
        if rho is None:
            rho = np.max(np.abs(np.linalg.eigvals(W.toarray())))
        if rho > 0:
            W = W * (float(self.spectral_radius) / rho)
        W.sort_indices()
        self.w_indptr_ = W.indptr.astype(np.int64)
        self.w_indices_ = W.indices.astype(np.int64)
        self.w_data_ = W.data.astype(np.float64)
        self.w_in_ = rng.uniform(-1.0, 1.0, (N, dim)) * float(self.input_scaling)
        self.bias_ = rng.uniform(-1.0, 1.0, N) * float(self.bias_scaling)

    def _squares_mode(self):
        for value, mode in ((False, 0), (True, 1), ("even", 2)):
            if type(self.squares) is type(value) and self.squares == value:
                return mode
        raise ValueError(f"squares must be 'even', True or False, got {self.squares!r}")

    def _kernel_args(self):
        return (self.w_indptr_, self.w_indices_, self.w_data_, self.w_in_, self.bias_,
                float(self.leak))

    def _fit(self, parts, dt, report):
        from . import _reservoir_kernels as K

        dim = parts[0].shape[1]
        allx = np.vstack(parts)
        self.mean_ = allx.mean(axis=0)
        self.scale_ = allx.std(axis=0) + 1e-12
        self._build(dim)
        report(0.05, "reservoir built")
        N = int(self.size)
        w = self.washout_
        # the feature matrix [1, u, r, r**2] is filled in place, one block per trajectory
        mode = self._squares_mode()
        n_feat = 1 + dim + N * (2 if mode == 1 else 1)
        F = np.empty((sum(len(x) - 1 - w for x in parts), n_feat))
        Y = np.empty((len(F), dim))
        row = 0
        for i, x in enumerate(parts):
            u = (x - self.mean_) / self.scale_
            n = len(u) - 1 - w
            states = np.empty((len(u) - 1, N))
            K.drive(*self._kernel_args(), np.ascontiguousarray(u[:-1]), np.zeros(N), states)
            block = F[row:row + n]
            block[:, 0] = 1.0
            block[:, 1:1 + dim] = u[w:-1]
            block[:, 1 + dim:1 + dim + N] = states[w:]
            if mode == 1:
                np.multiply(states[w:], states[w:], out=block[:, 1 + dim + N:])
            elif mode == 2:
                even = block[:, 1 + dim:1 + dim + N:2]
                np.multiply(even, even, out=even)
            Y[row:row + n] = (u[w + 1:] - u[w:-1]) if self.increment else u[w + 1:]
            row += n
            report(0.1 + 0.5 * (i + 1) / len(parts), "driving the reservoir")
        self.w_out_ = ridge(F, Y, float(self.ridge))

    def _sync(self, ctx):
        from . import _reservoir_kernels as K

        N = int(self.size)
        u = (ctx - self.mean_) / self.scale_
        r = np.zeros((len(ctx), N))
        scratch = np.empty((ctx.shape[1] - 1, N))
        for b in range(len(ctx)):
            r[b] = K.drive(*self._kernel_args(), np.ascontiguousarray(u[b, :-1]),
                           np.zeros(N), scratch) if ctx.shape[1] > 1 else 0.0
        return r, np.ascontiguousarray(u[:, -1])

    def _forecast(self, ctx, n_steps):
        from . import _reservoir_kernels as K

        r, u = self._sync(ctx)
        out = np.empty((len(ctx), n_steps, self.dim_))
        K.rollout(*self._kernel_args(), self.w_out_, self._squares_mode(), bool(self.increment),
                  r, u, int(n_steps), out)
        return out * self.scale_ + self.mean_

    # closed-loop map on [r, u] for lyapunov_exponent
    def _init_state(self, ctx):
        r, u = self._sync(ctx)
        return np.hstack([r, u])

    def _step(self, state):
        from . import _reservoir_kernels as K

        N = int(self.size)
        new = np.empty_like(state)
        st = np.empty((1, N))
        for b in range(len(state)):
            r = state[b, :N].copy()
            u = state[b, N:].copy()
            K.drive(*self._kernel_args(), u[None, :], r, st)
            y = K.readout(r, u, self.w_out_, self._squares_mode(), bool(self.increment))
            new[b, :N] = r
            new[b, N:] = y
        return new, new[:, N:] * self.scale_ + self.mean_

    def _state_arrays(self):
        return {k: getattr(self, k) for k in ("w_indptr_", "w_indices_", "w_data_", "w_in_",
                                               "bias_", "w_out_", "mean_", "scale_")}

    def _load_arrays(self, arrays, meta):
        # everything the numba kernels index is checked here, whether or not the file's
        # checksum matched: a file can be written with wrong arrays and a right checksum
        N = check_int(self.size, "size", minimum=1)
        dim = self.dim_
        check_float(self.leak, "leak")
        mode = self._squares_mode()
        if not isinstance(self.increment, (bool, np.bool_)):
            raise ValueError(f"increment must be True or False, got {self.increment!r}")
        check_file_arrays(arrays, ("w_indptr_", "w_indices_", "w_data_", "w_in_", "bias_",
                                   "w_out_", "mean_", "scale_"))
        if np.shape(arrays["w_indptr_"]) != (N + 1,):
            raise LearnerFileError(f"array 'w_indptr_' has shape "
                                   f"{np.shape(arrays['w_indptr_'])}, expected ({N + 1},) "
                                   f"for size={self.size!r}")
        indices = file_array(arrays, "w_indices_", (None,), integer=True, minimum=0,
                             maximum=N - 1)
        data = file_array(arrays, "w_data_", (len(indices),))
        # bounded first, so that the differences below cannot overflow
        indptr = file_array(arrays, "w_indptr_", (N + 1,), integer=True, minimum=0,
                            maximum=len(indices))
        if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] != len(indices):
            raise LearnerFileError(
                f"array 'w_indptr_' is not a row pointer of the sparse reservoir (it must "
                f"start at 0, never decrease and end at the {len(indices)} stored entries; "
                f"it starts at {indptr[0]} and ends at {indptr[-1]})")
        self.w_indptr_, self.w_indices_, self.w_data_ = indptr, indices, data
        self.w_in_ = file_array(arrays, "w_in_", (N, dim))
        self.bias_ = file_array(arrays, "bias_", (N,))
        self.w_out_ = file_array(arrays, "w_out_", (1 + dim + N * (2 if mode == 1 else 1),
                                                    dim))
        self.mean_ = file_array(arrays, "mean_", (dim,))
        self.scale_ = file_array(arrays, "scale_", (dim,), positive=True)
