"""Next-generation reservoir computer (nonlinear vector autoregression)."""
from itertools import combinations_with_replacement

import numpy as np

from .ridge import ridge
from .base import Learner

__all__ = ["NGRC"]


class NGRC(Learner):
    """Next-generation reservoir computer: ridge regression on polynomial features of
    time-delayed states (Gauthier, Bollt, Griffith & Barbosa, Nat. Commun. 12, 5564, 2021).

    The linear feature vector holds ``k`` states spaced ``skip`` samples apart,
    ``[x[n], x[n-skip], ..., x[n-(k-1)skip]]``; the nonlinear part holds all its unique
    monomials of degree 2 to ``degree``; with a constant, these predict the increment
    ``x[n+1] - x[n]``. Variables are standardised first.

    Parameters
    ----------
    k : int
        Number of delayed states.
    skip : int
        Spacing of the delayed states, in samples.
    degree : int
        Highest monomial degree (2 in the paper).
    ridge : float
        Ridge penalty.
    """

    name = "ngrc"

    def __init__(self, k=3, skip=3, degree=2, ridge=1e-8):
        self.k = k
        self.skip = skip
        self.degree = degree
        self.ridge = ridge

    @property
    def context_length(self):
        return (int(self.k) - 1) * int(self.skip) + 1

    def _min_samples(self):
        return self.context_length + 2

    def _monomials(self, p):
        combos = []
        for deg in range(2, int(self.degree) + 1):
            combos.extend(combinations_with_replacement(range(p), deg))
        return combos

    def _features(self, lin):
        parts = [np.ones(lin.shape[:-1] + (1,)), lin]
        for c in self._combos:
            v = lin[..., c[0]]
            for i in c[1:]:
                v = v * lin[..., i]
            parts.append(v[..., None])
        return np.concatenate(parts, axis=-1)

    def _linear(self, u, n_rows):
        """Delay vectors of the last ``n_rows`` rows of ``u`` (time on axis -2)."""
        T = u.shape[-2]
        cols = [u[..., T - n_rows - j * int(self.skip):T - j * int(self.skip), :]
                for j in range(int(self.k))]
        return np.concatenate(cols, axis=-1)

    def _fit(self, parts, dt, report):
        if int(self.k) < 1 or int(self.skip) < 1 or int(self.degree) < 1:
            raise ValueError("k, skip and degree must be >= 1")
        allx = np.vstack(parts)
        self.mean_ = allx.mean(axis=0)
        self.scale_ = allx.std(axis=0) + 1e-12
        dim = allx.shape[1]
        self._combos = self._monomials(dim * int(self.k))
        L = self.context_length
        F, Y = [], []
        for x in parts:
            u = (x - self.mean_) / self.scale_
            n = len(u) - L
            lin = self._linear(u[:-1], n)
            F.append(self._features(lin))
            Y.append(u[L:] - u[L - 1:-1])
        report(0.5, "features built")
        self.w_out_ = ridge(np.vstack(F), np.vstack(Y), float(self.ridge))

    def _init_state(self, ctx):
        u = (ctx - self.mean_) / self.scale_
        return u[:, -self.context_length:].copy()

    def _step(self, state):
        lin = self._linear(state, 1)[:, 0]
        y = state[:, -1] + self._features(lin) @ self.w_out_
        new = np.concatenate([state[:, 1:], y[:, None]], axis=1)
        return new, y * self.scale_ + self.mean_

    def _load_arrays(self, arrays, meta):
        super()._load_arrays(arrays, meta)
        self._combos = self._monomials(len(self.mean_) * int(self.k))

    def _state_arrays(self):
        return {"w_out_": self.w_out_, "mean_": self.mean_, "scale_": self.scale_}

