"""Koopman operator approximation by extended dynamic mode decomposition (EDMD)."""
import math
from itertools import combinations_with_replacement

import numpy as np

from ..validation import check_choice, check_float, check_int, check_memory
from .base import Learner, LearnerFileError, check_file_arrays, file_array


class EDMD(Learner):
    """Extended dynamic mode decomposition (Williams, Kevrekidis & Rowley, J. Nonlinear Sci.
    25, 1307, 2015).

    A dictionary ``psi`` of observables of the standardised state (monomials up to
    ``degree``, or Gaussian radial basis functions around ``n_centers`` k-means-free random
    training points) is evaluated on snapshot pairs; the finite-dimensional Koopman matrix
    ``K`` minimises ``||Psi(X) K - Psi(Y)||^2 + ridge ||K||^2``. Its eigenvalues
    ``eigenvalues_`` approximate the Koopman spectrum over one sample; ``frequencies_`` are
    their continuous-time counterparts ``log(mu) / dt``.

    Forecasts advance the lifted state by ``K``. With ``reproject=True`` (default) the state
    is read off the linear observables after every step and lifted again, which keeps long
    rollouts on the dictionary's domain; with ``False`` the whole rollout is the linear
    evolution ``psi(x0) K^n``, the pure Koopman prediction.

    Parameters
    ----------
    dictionary : {"poly", "rbf"}
    degree : int
        Highest monomial degree (``"poly"``).
    n_centers : int
        Number of radial basis functions (``"rbf"``); the state's linear terms are included.
    width : float
        RBF width in standardised units.
    ridge : float
    reproject : bool
    seed : int
    """

    name = "edmd"

    def __init__(self, dictionary="poly", degree=4, n_centers=200, width=1.0, ridge=1e-8,
                 reproject=True, seed=0):
        self.dictionary = dictionary
        self.degree = degree
        self.n_centers = n_centers
        self.width = width
        self.ridge = ridge
        self.reproject = reproject
        self.seed = seed

    def _check_params(self):
        check_choice(self.dictionary, "dictionary", ("poly", "rbf"))
        check_int(self.degree, "degree", minimum=1)
        check_int(self.n_centers, "n_centers", minimum=1)
        check_float(self.width, "width", positive=True)
        check_float(self.ridge, "ridge", nonnegative=True)
        check_int(self.seed, "seed", minimum=0)
        if not isinstance(self.reproject, (bool, np.bool_)):
            raise ValueError(f"reproject must be True or False, got {self.reproject!r}")

    def _min_samples(self):
        self._check_params()  # fit asks for this first
        return 2

    def _setup(self, dim):
        if self.dictionary == "poly":
            combos = []
            for deg in range(2, int(self.degree) + 1):
                combos.extend(combinations_with_replacement(range(dim), deg))
            self._combos = combos
        elif self.dictionary != "rbf":
            raise ValueError(f"dictionary must be 'poly' or 'rbf', got {self.dictionary!r}")

    def lift(self, x):
        """Dictionary ``psi(x)`` of states ``x`` (..., dim) in original units:
        ``[1, u, nonlinear terms]`` with ``u`` the standardised state."""
        self._check_fitted()
        return self._lift((np.asarray(x, dtype=float) - self.mean_) / self.scale_)

    def _lift(self, u):
        parts = [np.ones(u.shape[:-1] + (1,)), u]
        if self.dictionary == "poly":
            for c in self._combos:
                v = u[..., c[0]]
                for i in c[1:]:
                    v = v * u[..., i]
                parts.append(v[..., None])
        else:
            d2 = ((u[..., None, :] - self.centers_) ** 2).sum(-1)
            parts.append(np.exp(-d2 / (2.0 * float(self.width) ** 2)))
        return np.concatenate(parts, axis=-1)

    def _fit(self, parts, dt, report):
        dim = parts[0].shape[1]
        allx = np.vstack(parts)
        if self.dictionary == "poly":
            n_terms = math.comb(dim + int(self.degree), int(self.degree))
            what = f"EDMD: degree={self.degree} on dim {dim} ({n_terms} terms)"
            need = 8.0 * n_terms * (3 * len(allx) + 2 * n_terms)
        else:
            nc = min(int(self.n_centers), len(allx))
            what = f"EDMD: n_centers={self.n_centers} on dim {dim}"
            need = 8.0 * nc * (len(allx) * (dim + 3) + 2 * nc)
        check_memory(need, f"{what} x {len(allx)} samples")
        self.mean_ = allx.mean(axis=0)
        self.scale_ = allx.std(axis=0) + 1e-12
        self._setup(dim)
        if self.dictionary == "rbf":
            rng = np.random.default_rng(self.seed)
            u = (allx - self.mean_) / self.scale_
            self.centers_ = u[rng.choice(len(u), min(int(self.n_centers), len(u)),
                                         replace=False)]
        A, B = [], []
        for x in parts:
            u = (x - self.mean_) / self.scale_
            A.append(self._lift(u[:-1]))
            B.append(self._lift(u[1:]))
        report(0.4, "dictionary evaluated")
        from .ridge import ridge

        self.K_ = ridge(np.vstack(A), np.vstack(B), float(self.ridge))
        mu, vecs = np.linalg.eig(self.K_)
        order = np.argsort(-np.abs(mu))
        self.eigenvalues_ = mu[order]
        self.frequencies_ = np.log(self.eigenvalues_.astype(complex)) / dt

    def _init_state(self, ctx):
        return self._lift((ctx[:, -1] - self.mean_) / self.scale_)

    def _step(self, state):
        dim = len(self.mean_)
        psi = state @ self.K_
        u = psi[:, 1:1 + dim]
        if self.reproject:
            psi = self._lift(u)
        return psi, u * self.scale_ + self.mean_

    def _state_arrays(self):
        out = {"K_": self.K_, "mean_": self.mean_, "scale_": self.scale_}
        if self.dictionary == "rbf":
            out["centers_"] = self.centers_
        return out

    def _load_arrays(self, arrays, meta):
        dim = self.dim_
        rbf = self.dictionary == "rbf"
        check_file_arrays(arrays, ("K_", "mean_", "scale_") + (("centers_",) if rbf else ()))
        K = np.asarray(arrays["K_"])
        rows = K.shape[0] if K.ndim == 2 else -1
        if rbf:
            check_float(self.width, "width", positive=True)
            self.centers_ = file_array(arrays, "centers_", (None, dim))
            n_lift = 1 + dim + len(self.centers_)
        elif self.dictionary == "poly":
            n_lift = 1 + dim
            for d in range(2, check_int(self.degree, "degree", minimum=1) + 1):
                n_lift += math.comb(dim + d - 1, d)
                if n_lift > rows:       # a lying degree must not make this loop run long
                    break
        else:
            self._setup(dim)                       # raises the error naming the choices
        if K.shape != (n_lift, n_lift):
            raise LearnerFileError(f"array 'K_' has shape {K.shape}, which does not fit "
                                   f"dictionary={self.dictionary!r}, degree={self.degree!r}, "
                                   f"{len(self.centers_) if rbf else 0} centres and "
                                   f"dim_={dim}")
        self.K_ = file_array(arrays, "K_", (n_lift, n_lift))
        self.mean_ = file_array(arrays, "mean_", (dim,))
        self.scale_ = file_array(arrays, "scale_", (dim,), positive=True)
        self._setup(dim)
        mu = np.linalg.eigvals(self.K_)
        self.eigenvalues_ = mu[np.argsort(-np.abs(mu))]
        self.frequencies_ = np.log(self.eigenvalues_.astype(complex)) / self.dt_
