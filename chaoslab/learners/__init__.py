"""Forecasters of chaotic dynamics, one protocol (see :mod:`chaoslab.learners.base`).

>>> import chaoslab as cl
>>> cl.learners.names()
['persistence', 'linear_ar', 'esn', ...]
>>> model = cl.learners.make("esn", size=500).fit(X, dt=0.01)
>>> y = model.forecast(X[-100:], 1000)

The torch learners import torch only when they are made.
"""
from .base import FitCancelled, Learner, LearnerFileError, NotFittedError, load
from .registry import describe, learner_class, make, names

__all__ = ["names", "make", "load", "describe", "learner_class", "Learner",
           "NotFittedError", "FitCancelled", "LearnerFileError"]
