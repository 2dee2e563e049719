"""Next-generation reservoir computer (nonlinear vector autoregression)."""
import math
from itertools import combinations_with_replacement

import numpy as np
import scipy.linalg

from ..validation import check_float, check_int, check_memory
from .base import Learner, LearnerFileError, check_file_arrays, file_array
from .ridge import ridge as ridge_solve
from .timescale import AUTO, RULES

__all__ = ["NGRC", "RIDGE_GRID", "RIDGE_FALLBACK"]

#: relative ridge penalties tried by ``ridge="auto"`` (multiples of the mean diagonal of
#: the feature Gram matrix ``F^T F``, so the grid follows the data's size and units)
RIDGE_GRID = tuple(10.0 ** np.arange(-14, -1))
#: relative ridge used by ``ridge="auto"`` when the data are too short to hold any out
RIDGE_FALLBACK = 1e-8
#: share of each training trajectory that ``ridge="auto"`` holds out for validation
VALIDATION_SHARE = 0.2
#: longest validation forecast of ``ridge="auto"``, in samples
VALIDATION_STEPS = 1000
#: validation forecasts per ``ridge="auto"`` candidate (spread over the held-out parts)
VALIDATION_STARTS = 10
#: normalised error at which a validation forecast stops being valid (as in ``score``)
VALIDATION_THRESHOLD = 0.4


class NGRC(Learner):
    """Next-generation reservoir computer: ridge regression on polynomial features of
    time-delayed states (Gauthier, Bollt, Griffith & Barbosa, Nat. Commun. 12, 5564, 2021).

    The linear feature vector holds ``k`` states spaced ``skip`` samples apart,
    ``[x[n], x[n-skip], ..., x[n-(k-1)skip]]``; the nonlinear part holds all its unique
    monomials of degree 2 to ``degree``; with a constant, these predict the increment
    ``x[n+1] - x[n]`` by ridge regression,
    ``W = argmin ||F W - Y||^2 + ridge ||W||^2`` (sums over all training samples, the
    constant's weight penalised too).

    With ``standardize=True`` (the default) each variable is first shifted and scaled to
    zero mean and unit standard deviation over the training data, and the forecast is
    mapped back; ``standardize=False`` fits the raw data, exactly the regression of
    Gauthier et al. (2021).

    **Choosing the ridge.** On clean data the delayed states are almost functions of the
    current one, so the features are nearly collinear and the fit leaves the weights of a
    few directions barely determined. Those weights decide whether the closed-loop map of
    the delay state is stable across the data (a "parasitic" mode, as in a linear
    multistep method), not how well it fits one step. A ridge too weak for the sampling
    step lets the least-squares fit use them: the one-step error is tiny, the Jacobian of
    the learned map has eigenvalues of modulus 10 to 30, and every forecast blows up
    within a few samples (measured on Lorenz at ``dt`` 0.025 and 0.037 with the previous
    default ``ridge=1e-8``). The ridge that is needed varies by orders of magnitude with
    ``dt``, ``k``, ``skip``, the units and the noise in the data (Gauthier et al.'s
    ``2.5e-6`` on raw data, ``k=2``, ``skip=1``, ``dt=0.025``, 400 samples, is stable on
    data from scipy's ``solve_ivp`` RK23 at its default tolerances, whose integration
    error acts as a regulariser, and blows up on the same data integrated accurately), so
    no fixed number serves: ``ridge="auto"`` (the default) picks it from the data.

    The features matter too: at ``dt = 0.037`` (30 samples per Lyapunov time of Lorenz)
    quadratic monomials miss the one-step map by about ``1e-3`` standard deviations
    (cubic ones by ``1e-6``), and the fit leans on the delay directions to make up for it;
    ``degree=3`` (with ``standardize=True``: raw cubic features span too many orders of
    magnitude for one penalty) forecasts several times longer there.

    ``ridge="auto"``: the last ``VALIDATION_SHARE = 20%`` of each training trajectory is
    held out; on the rest, the model is fitted with each relative penalty ``c`` of
    ``RIDGE_GRID`` (``1e-14`` to ``1e-2``; the penalty is ``c`` times the mean diagonal
    of ``F^T F``, which follows the number of samples and the units of the features);
    each fit forecasts from up to ``VALIDATION_STARTS = 10`` starts in the held-out
    stretches, for up to ``VALIDATION_STEPS = 1000`` samples; the ``c`` whose forecasts
    stay within a normalised error of 0.4 (the valid prediction time of ``score``) for
    the most samples on average wins (ties: the smaller mean error over the horizon), and
    the model is refitted on all the data with it. Trajectories too short to hold any out
    use the relative penalty ``RIDGE_FALLBACK = 1e-8``. The penalty used is ``ridge_``.
    The search costs 13 solves and rollouts: a fit on 10,000 Lorenz samples takes 0.1 to
    0.8 s instead of 0.02 s.

    Parameters
    ----------
    k : int
        Number of delayed states (a count, the embedding's size: it does not follow the
        sampling; the span it covers is ``(k - 1) * skip_`` samples).
    skip : int or "auto"
        Spacing of the delayed states, in samples (``skip_``). ``"auto"``: a sixth of the
        data's time scale ``time_scale_`` (:mod:`chaoslab.learners.timescale`), at least
        1: 3 on Lorenz at ``dt`` 0.01 (the previous default), 1 at 0.037, where it
        forecasts longer than ``skip=3`` (the README's "Lengths in time" has the measurements).
    degree : int
        Highest monomial degree (2 in the paper).
    ridge : float or "auto"
        Ridge penalty (absolute, in the units of the features), or ``"auto"`` to choose
        it by validation as described above.
    standardize : bool
        Scale each variable to zero mean and unit variance before building the features.

    Attributes
    ----------
    w_out_ : array (n_features, dim)
        Readout weights (in standardised units when ``standardize``).
    mean_, scale_ : arrays (dim,)
        The standardisation (zeros and ones when ``standardize=False``).
    ridge_ : float
        The absolute ridge penalty of the final fit.
    """

    name = "ngrc"
    _lengths = {"skip": RULES["ngrc", "skip"]}

    def __init__(self, k=3, skip=AUTO, degree=2, ridge="auto", standardize=True):
        self.k = k
        self.skip = skip
        self.degree = degree
        self.ridge = ridge
        self.standardize = standardize

    @property
    def context_length(self):
        return (int(self.k) - 1) * self._length("skip") + 1

    def _min_samples(self):
        self._check_params()  # fit asks for this first: bad values never reach int()
        return self.context_length + 2

    def _monomials(self, p):
        combos = []
        for deg in range(2, int(self.degree) + 1):
            combos.extend(combinations_with_replacement(range(p), deg))
        return combos

    def _features(self, lin):
        parts = [np.ones(lin.shape[:-1] + (1,)), lin]
        for idx in self._index_groups():
            v = lin[..., idx[:, 0]]
            for j in range(1, idx.shape[1]):
                v = v * lin[..., idx[:, j]]
            parts.append(v)
        return np.concatenate(parts, axis=-1)

    def _index_groups(self):
        """The monomials as one index array ``(n_terms, degree)`` per degree (cached)."""
        groups = getattr(self, "_groups", None)
        if groups is None or groups[0] is not self._combos:
            by_degree = {}
            for c in self._combos:
                by_degree.setdefault(len(c), []).append(c)
            groups = (self._combos, [np.array(v, dtype=np.intp)
                                     for _, v in sorted(by_degree.items())])
            self._groups = groups
        return groups[1]

    def _linear(self, u, n_rows):
        """Delay vectors of the last ``n_rows`` rows of ``u`` (time on axis -2)."""
        T = u.shape[-2]
        skip = self._length("skip")
        cols = [u[..., T - n_rows - j * skip:T - j * skip, :]
                for j in range(int(self.k))]
        return np.concatenate(cols, axis=-1)

    def _design(self, parts):
        """Features ``F`` and targets ``Y`` (increments) of standardised trajectories."""
        L = self.context_length
        F, Y = [], []
        for u in parts:
            if len(u) < L + 1:
                continue
            lin = self._linear(u[:-1], len(u) - L)
            F.append(self._features(lin))
            Y.append(u[L:] - u[L - 1:-1])
        return np.vstack(F), np.vstack(Y)

    def _check_params(self):
        check_int(self.k, "k", minimum=1)
        check_int(self.degree, "degree", minimum=1)
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ValueError(f"standardize must be True or False, got {self.standardize!r}")
        if isinstance(self.ridge, str):
            if self.ridge != "auto":
                raise ValueError(f"ridge must be a number >= 0 or 'auto', got {self.ridge!r}")
        else:
            check_float(self.ridge, "ridge", nonnegative=True)

    def _fit(self, parts, dt, report):
        self._check_params()
        allx = np.vstack(parts)
        if self.standardize:
            self.mean_ = allx.mean(axis=0)
            self.scale_ = allx.std(axis=0) + 1e-12
        else:
            self.mean_ = np.zeros(allx.shape[1])
            self.scale_ = np.ones(allx.shape[1])
        dim = allx.shape[1]
        p = dim * int(self.k)
        n_features = math.comb(p + int(self.degree), int(self.degree))
        check_memory(8.0 * len(allx) * n_features * 2,
                     f"NGRC: degree={self.degree} on k={self.k} x dim {dim} inputs "
                     f"({n_features} features) x {len(allx)} samples")
        self._combos = self._monomials(p)
        u_parts = [(x - self.mean_) / self.scale_ for x in parts]
        if isinstance(self.ridge, str):
            # the validation error is measured in standard deviations of the data
            sd = allx.std(axis=0) / self.scale_
            rel = self._select_ridge(u_parts, np.where(sd > 0, sd, 1.0), report)
            F, Y = self._design(u_parts)
            report(0.9, "features built")
            G = _gram(F)
            alpha = rel * float(np.trace(G)) / G.shape[0]
            self.w_out_ = _solve(G, F.T @ Y, alpha)
        else:
            F, Y = self._design(u_parts)
            report(0.5, "features built")
            alpha = float(self.ridge)
            self.w_out_ = ridge_solve(F, Y, alpha)
        self.ridge_ = alpha

    def _select_ridge(self, u_parts, sd, report):
        """The relative ridge of ``RIDGE_GRID`` whose forecasts on held-out data stay
        valid longest (see the class docstring); ``RIDGE_FALLBACK`` without data to hold
        out."""
        L = self.context_length
        fit_parts, val_parts = [], []
        for u in u_parts:
            n_val = int(len(u) * VALIDATION_SHARE)
            if n_val >= L + 10 and len(u) - n_val >= L + 2:
                fit_parts.append(u[:len(u) - n_val])
                val_parts.append(u[len(u) - n_val:])
            else:
                fit_parts.append(u)
        if not val_parts:
            return RIDGE_FALLBACK
        horizon = min(VALIDATION_STEPS, min(len(v) for v in val_parts) - L)
        per_part = max(1, -(-VALIDATION_STARTS // len(val_parts)))
        ctx, truth = [], []
        for v in val_parts:
            offsets = np.unique(np.linspace(0, len(v) - L - horizon, per_part).astype(int))
            for o in offsets[:max(1, VALIDATION_STARTS - len(ctx))]:
                ctx.append(v[o:o + L])
                truth.append(v[o + L:o + L + horizon])
            if len(ctx) >= VALIDATION_STARTS:
                break
        ctx, truth = np.stack(ctx), np.stack(truth)
        F, Y = self._design(fit_parts)
        G = _gram(F)
        rhs = F.T @ Y
        unit = float(np.trace(G)) / G.shape[0]
        best, best_key = RIDGE_FALLBACK, None
        for i, rel in enumerate(RIDGE_GRID):
            report(0.8 * i / len(RIDGE_GRID), f"choosing the ridge ({i + 1}/{len(RIDGE_GRID)})")
            W = _solve(G, rhs, rel * unit)
            valid, mean_err = self._validate(W, ctx, truth, sd)
            key = (valid, -mean_err)
            if best_key is None or key > best_key:
                best, best_key = rel, key
        return best

    def _validate(self, W, ctx, truth, sd):
        """Mean number of valid samples (normalised error below the threshold) and mean
        normalised error of closed-loop forecasts with weights ``W``."""
        state = ctx.copy()
        B, H = truth.shape[0], truth.shape[1]
        valid = np.full(B, H)
        alive = np.ones(B, dtype=bool)
        total = 0.0
        with np.errstate(all="ignore"):
            for n in range(H):
                state, y = self._advance(state, W)
                err = np.sqrt(np.mean(((y - truth[:, n]) / sd) ** 2, axis=-1))
                err = np.where(np.isfinite(err), err, np.inf)
                over = alive & (err > VALIDATION_THRESHOLD)
                valid[over] = n
                alive &= ~over
                total += float(np.sum(np.minimum(err, 1e6)))
                if not alive.any():
                    # every forecast has left the threshold: the rest counts as lost
                    total += 1e6 * B * (H - n - 1)
                    break
        return float(valid.mean()), total / (B * H)

    def _advance(self, state, W):
        lin = self._linear(state, 1)[:, 0]
        y = state[:, -1] + self._features(lin) @ W
        return np.concatenate([state[:, 1:], y[:, None]], axis=1), y

    def _init_state(self, ctx):
        u = (ctx - self.mean_) / self.scale_
        return u[:, -self.context_length:].copy()

    def _step(self, state):
        new, y = self._advance(state, self.w_out_)
        return new, y * self.scale_ + self.mean_

    def _load_arrays(self, arrays, meta):
        self._check_params()
        dim = self.dim_
        p = dim * int(self.k)
        check_file_arrays(arrays, ("w_out_", "mean_", "scale_"), optional=("ridge_",))
        W = np.asarray(arrays["w_out_"])
        rows = W.shape[0] if W.ndim == 2 else -1
        n_feat = 1 + p
        for d in range(2, int(self.degree) + 1):
            n_feat += math.comb(p + d - 1, d)
            if n_feat > rows:           # a lying degree must not make this loop run long
                break
        if W.shape != (n_feat, dim):
            raise LearnerFileError(f"array 'w_out_' has shape {W.shape}, which does not fit "
                                   f"k={self.k!r}, degree={self.degree!r} and dim_={dim}")
        self.w_out_ = file_array(arrays, "w_out_", (n_feat, dim))
        self.mean_ = file_array(arrays, "mean_", (dim,))
        self.scale_ = file_array(arrays, "scale_", (dim,), positive=True)
        self._combos = self._monomials(p)
        if "ridge_" in arrays:
            self.ridge_ = float(file_array(arrays, "ridge_", (), minimum=0.0))
        elif not isinstance(self.ridge, str):      # files of 0.2 and before
            self.ridge_ = float(self.ridge)

    def _state_arrays(self):
        return {"w_out_": self.w_out_, "mean_": self.mean_, "scale_": self.scale_,
                "ridge_": np.float64(self.ridge_)}


def _gram(F):
    F = np.ascontiguousarray(F)
    return F.T @ F


def _solve(G, rhs, alpha):
    """``(G + alpha I)^-1 rhs``, with a least-squares fallback when it is singular."""
    A = G.copy()
    A[np.diag_indices_from(A)] += alpha
    try:
        # Cholesky without scipy.linalg.solve's condition-number warning: the smallest
        # penalties of RIDGE_GRID are ill-conditioned on purpose, and validation judges them
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(A, check_finite=False), rhs,
                                      check_finite=False)
    except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
        return np.linalg.lstsq(A, rhs, rcond=None)[0]
