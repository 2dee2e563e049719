"""Baselines every forecaster should beat: persistence and linear autoregression."""
import numpy as np

from ..validation import check_float
from .base import Learner, check_file_arrays, file_array
from .ridge import ridge
from .timescale import AUTO, RULES


class Persistence(Learner):
    """Forecasts that nothing changes: every future state equals the last observed one."""

    name = "persistence"

    def __init__(self):
        pass

    def _fit(self, parts, dt, report):
        pass

    def _init_state(self, ctx):
        return ctx[:, -1].copy()

    def _step(self, state):
        return state, state.copy()

    def _load_arrays(self, arrays, meta):
        check_file_arrays(arrays, ())


class LinearAR(Learner):
    """Linear autoregression: ``x[k+1] = c + sum_j A_j x[k-j]`` for ``j < order``, fitted
    by ridge regression.

    Parameters
    ----------
    order : int or "auto"
        Number of past states the forecast uses (``order_``; the :attr:`context_length`).
        ``"auto"``: a fifth of the data's time scale ``time_scale_``
        (:mod:`chaoslab.learners.timescale`), at least 4, the previous default (the
        number of lagged terms, which the rule only raises at finer sampling: fewer
        terms at coarse sampling lost skill; the README's "Lengths in time" has the measurements).
    alpha : float
        Ridge penalty.
    """

    name = "linear_ar"
    _lengths = {"order": RULES["linear_ar", "order"]}

    def __init__(self, order=AUTO, alpha=1e-8):
        self.order = order
        self.alpha = alpha

    @property
    def context_length(self):
        return self._length("order")

    def _min_samples(self):
        check_float(self.alpha, "alpha", nonnegative=True)  # fit asks for this first
        return self.order_ + 2

    def _fit(self, parts, dt, report):
        p = self.order_
        F, Y = [], []
        for x in parts:
            n = len(x)
            lags = [x[p - 1 - j:n - 1 - j] for j in range(p)]
            F.append(np.hstack([np.ones((n - p, 1))] + lags))
            Y.append(x[p:] - x[p - 1:n - 1])
        self.coef_ = ridge(np.vstack(F), np.vstack(Y), float(self.alpha))

    def _init_state(self, ctx):
        p = self.order_
        return ctx[:, -p:][:, ::-1].reshape(ctx.shape[0], -1).copy()   # newest first

    def _step(self, state):
        dim = self.coef_.shape[1]
        B = state.shape[0]
        y = state[:, :dim] + np.hstack([np.ones((B, 1)), state]) @ self.coef_
        return np.hstack([y, state[:, :-dim]]), y

    def _state_arrays(self):
        return {"coef_": self.coef_}

    def _load_arrays(self, arrays, meta):
        check_file_arrays(arrays, ("coef_",))
        self.coef_ = file_array(arrays, "coef_", (1 + self.order_ * self.dim_, self.dim_))
