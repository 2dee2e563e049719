"""Forecasters of chaotic dynamics, one protocol (see :mod:`chaoslab.learners.base`).

>>> import chaoslab as cl
>>> cl.learners.names()
['persistence', 'linear_ar', 'esn', ...]
>>> model = cl.learners.make("esn", size=500).fit(X, dt=0.01)
>>> y = model.forecast(X[-100:], 1000)

Learners are scikit-learn-style estimators (``get_params``, ``set_params``, ``score``;
``sklearn.base.clone`` and ``GridSearchCV(...).fit(X, dt=dt)`` work, see
:mod:`chaoslab.learners.base`). :mod:`chaoslab.learners.testing` holds the shared checks
of the protocol, for third-party learners too. Lengths counted in samples (washouts,
delays, warm-ups, training unrolls) default to ``"auto"``, a multiple of the training
data's autocorrelation time converted with ``dt`` (:mod:`chaoslab.learners.timescale`).
The torch learners import torch only when they train or load; their networks are in
:mod:`chaoslab.learners.nn`.
"""
from .base import FitCancelled, Learner, LearnerFileError, NotFittedError, load
from .registry import describe, learner_class, make, names

__all__ = ["names", "make", "load", "describe", "learner_class", "Learner",
           "NotFittedError", "FitCancelled", "LearnerFileError"]
