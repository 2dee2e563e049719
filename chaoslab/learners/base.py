"""The protocol every chaoslab learner follows.

A learner is an estimator in the scikit-learn style:

* hyperparameters are keyword arguments of ``__init__`` and are stored unchanged under the
  same names (``get_params()`` returns them);
* ``fit(X, dt)`` learns from one trajectory ``(n, dim)`` or several (a list of such arrays,
  or a ``(batch, n, dim)`` array) sampled every ``dt`` time units, and returns ``self``;
  everything it learns ends in an underscore;
* ``forecast(context, n_steps)`` warms the learner up on ``context`` (the last rows of a
  trajectory, ``(n_ctx, dim)`` or a batch ``(B, n_ctx, dim)``) and returns the
  ``n_steps`` states that follow the last context row, produced autoregressively from the
  learner's own outputs;
* before ``fit``, ``forecast`` and ``save`` raise :class:`NotFittedError`;
* ``fit`` accepts ``progress=callable(fraction, message)`` and ``cancel=`` (a
  ``threading.Event`` or a callable returning ``True`` to stop); a cancelled fit raises
  :class:`FitCancelled` (a :class:`chaoslab.progress.Cancelled`) and leaves the learner
  unfitted;
* ``save(path)`` writes one ``.npz`` file of plain arrays plus a JSON header and a
  SHA-256 checksum, read back by :func:`chaoslab.learners.load` without pickle, which
  checks the checksum, the header and every array before anything computes with them;
* ``lyapunov_exponent(context, T=..., transient=...)`` estimates the largest Lyapunov
  exponent of the learned closed-loop model, per unit time (spans in time units);
* ``score(X)`` is a forecast skill on held-out trajectories (greater is better);
* lengths counted in samples (a washout, a delay spacing, a warm-up, a training unroll)
  default to ``"auto"``: ``fit`` measures the time scale of the data (``time_scale_``,
  their autocorrelation time) and sets each such length to a documented multiple of it,
  converted to samples with ``dt`` (:mod:`chaoslab.learners.timescale`); an integer is a
  count of samples, used as given. The lengths used are fitted attributes named after
  the hyperparameter (``washout_``, ``warmup_``, ...).

Learners work with scikit-learn's model-selection tools without depending on it:
``get_params(deep=True)``, ``set_params(**params)`` (returns ``self``) and an ``__init__``
that stores every hyperparameter unchanged make ``sklearn.base.clone`` work;
``fit(X, dt=dt)`` is the call ``GridSearchCV.fit(X, dt=dt)`` makes (give no ``y``: the
target of a trajectory is its own future), and ``score`` is the default scorer:

>>> from sklearn.model_selection import GridSearchCV, KFold
>>> s = cl.systems.get("Lorenz")
>>> x0 = cl.simulate(s, 2200, dt=0.01)[1000::100]          # 12 starts on the attractor
>>> X = cl.simulate(s, 800, dt=0.01, x0=x0)                 # (12, 800, 3)
>>> search = GridSearchCV(cl.learners.make("ngrc"), {"k": [2, 3], "degree": [1, 2]},
...                       cv=KFold(3)).fit(X, dt=0.01)
>>> search.best_params_
{'degree': 2, 'k': 3}

Without a search object, clone and score by hand over a
``sklearn.model_selection.ParameterGrid``:

>>> for params in ParameterGrid({"degree": [1, 2]}):
...     model = clone(base).set_params(**params).fit(train, dt=0.01)
...     print(params, model.score(test))

Cross-validation must split whole trajectories (``KFold`` over a batch of independent
trajectories) or cut one trajectory in time (``TimeSeriesSplit``); a shuffled split of
the rows of a single trajectory would stitch it together with jumps. The shared checks
of the protocol are :func:`chaoslab.learners.testing.check_learner`.

Subclasses implement ``_fit(X_list, dt, report)`` and either ``_init_state``/``_step``
(the closed-loop map used by the generic ``forecast`` and by
:meth:`Learner.lyapunov_exponent`) or their own ``_forecast``.
"""
from __future__ import annotations

import functools
import hashlib
import inspect
import io
import json
import math
import numbers
import re
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..metrics.forecast import failed_steps
from ..progress import Cancelled, Reporter
from ..integrate import DivergenceWarning
from ..validation import (as_float_array, check_dt, check_float, check_int, check_memory,
                          reject_unknown, renamed_keyword)
from .timescale import is_auto, resolve_length, time_scale

__all__ = ["Learner", "NotFittedError", "FitCancelled", "LearnerFileError", "load",
           "as_trajectories", "file_array", "check_file_arrays"]

FORMAT = "chaoslab-learner"
FORMAT_VERSION = 1

#: default span of :meth:`Learner.lyapunov_exponent`, in samples of the learner's ``dt_``
LYAPUNOV_SAMPLES = 20_000
#: default transient of :meth:`Learner.lyapunov_exponent`, in samples
LYAPUNOV_TRANSIENT_SAMPLES = 1_000


class NotFittedError(RuntimeError):
    """A learner was used before ``fit``."""


class FitCancelled(Cancelled):
    """``fit`` was stopped through its ``cancel`` argument."""


class LearnerFileError(ValueError):
    """A saved learner file is missing, corrupt, or not a chaoslab learner."""


def as_trajectories(X, name="X"):
    """Return ``X`` as a list of float64 arrays ``(n_i, dim)``, checked.

    Accepts one trajectory ``(n, dim)``, a batch ``(batch, n, dim)`` or a list of
    trajectories with the same ``dim``.
    """
    if isinstance(X, (list, tuple)):
        parts = [as_float_array(x, f"{name}[{i}]") for i, x in enumerate(X)]
    else:
        arr = as_float_array(X, name)
        if arr.ndim == 3:
            parts = list(arr)
        else:
            parts = [arr]
    if not parts:
        raise ValueError(f"{name} holds no trajectory")
    dim = None
    for i, p in enumerate(parts):
        if p.ndim == 1:
            raise ValueError(f"{name} must be (n_samples, dim); got a 1-D array. "
                             "Use x[:, None] for a scalar series.")
        if p.ndim != 2:
            raise ValueError(f"{name}[{i}] must be 2-D (n_samples, dim), got shape {p.shape}")
        if dim is None:
            dim = p.shape[1]
        elif p.shape[1] != dim:
            raise ValueError(f"{name}: trajectories have different dimensions "
                             f"({dim} and {p.shape[1]})")
        if not np.all(np.isfinite(p)):
            bad = np.argwhere(~np.isfinite(p))[0]
            raise ValueError(f"{name}[{i}] holds a non-finite value at row {bad[0]}, "
                             f"column {bad[1]}")
    return parts


class Learner:
    """Base class of chaoslab's forecasters; see the module docstring for the protocol."""

    #: registry name, set by subclasses
    name = "learner"
    #: whether the learner runs on torch (and so has float32/bfloat16 rollouts)
    uses_torch = False

    #: old hyperparameter names -> new ones; :func:`load` reads files that use the old
    _renamed_params = {}

    #: length hyperparameters (counts of samples) with the ``"auto"`` time-scale rule:
    #: ``name -> (multiple of time_scale_, smallest "auto" value in samples)``; ``fit``
    #: sets ``name_``
    _lengths = {}

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep=True):
        """The hyperparameters, as passed to ``__init__`` (scikit-learn's signature).

        Parameters
        ----------
        deep : bool
            Also return the parameters of hyperparameters that have ``get_params``
            (scikit-learn's ``name__sub`` keys); none of chaoslab's learners has such.

        Returns
        -------
        dict
        """
        out = {}
        for k in self._param_names():
            value = getattr(self, k)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{k}__{sub}", v) for sub, v in value.get_params().items())
            out[k] = value
        return out

    def set_params(self, **params):
        """Set hyperparameters (``name__sub`` reaches into a nested estimator); returns
        ``self``. Fitted state is kept until the next ``fit``."""
        names = self._param_names()
        nested = defaultdict(dict)
        for key, value in params.items():
            key, delim, sub = key.partition("__")
            if key not in names:
                raise ValueError(f"{type(self).__name__} has no hyperparameter {key!r}; "
                                 f"it has {sorted(names)}")
            if delim:
                nested[key][sub] = value
            else:
                setattr(self, key, value)
        for key, sub in nested.items():
            inner = getattr(self, key)
            if not hasattr(inner, "set_params"):
                raise ValueError(f"{type(self).__name__}.{key} has no parameters to set "
                                 f"({sorted(sub)})")
            inner.set_params(**sub)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"

    def __sklearn_tags__(self):
        """scikit-learn's (1.6+) description of the estimator: no target, trajectories as
        2-D or 3-D float arrays, no NaN (read only by scikit-learn's tools)."""
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    input_tags=InputTags(two_d_array=True, three_d_array=True),
                    non_deterministic=getattr(self, "seed", 0) is None)

    # ------------------------------------------------------------------ fitting
    @property
    def is_fitted(self):
        return getattr(self, "dim_", None) is not None

    def _check_fitted(self):
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: "
                                 "call fit(X, dt) first")

    def fit(self, X, dt, *, progress=None, cancel=None):
        """Learn from trajectories ``X`` sampled every ``dt``; returns ``self``.

        Parameters
        ----------
        X : array (n, dim), array (batch, n, dim) or list of arrays (n_i, dim)
        dt : float
            Sampling interval of ``X``, in the system's time units. scikit-learn's
            searches pass it as a fit parameter: ``GridSearchCV(...).fit(X, dt=0.01)``.
        progress : callable(fraction, message), optional
        cancel : threading.Event or callable, optional
            Checked during training; when set, ``fit`` raises :class:`FitCancelled`.
        """
        parts = as_trajectories(X)
        dt = check_dt(dt)
        self._check_params()  # hyperparameters first: bad values never reach int()/float()
        report = Reporter(progress, cancel, error=FitCancelled)
        self._clear_fitted()
        try:
            self.dt_ = dt
            self.n_train_ = int(sum(len(p) for p in parts))
            self.time_scale_ = time_scale(parts, dt)
            self._resolve_lengths(dt)
            need = self._min_samples()
            if max(len(p) for p in parts) < need:
                raise ValueError(f"X: {type(self).__name__} needs trajectories of at least "
                                 f"{need} samples, got {max(len(p) for p in parts)}"
                                 + self._lengths_note())
            self._fit(parts, dt, report)
            report(1.0, "done")
        except BaseException:
            self._clear_fitted()
            raise
        self.dim_ = parts[0].shape[1]      # set last: it marks the learner as fitted
        return self

    def _min_samples(self):
        return 2

    # ------------------------------------------------------------------ lengths
    def _auto_minimum(self, name):
        """Smallest ``"auto"`` value of length ``name`` (also its value before ``fit``)."""
        return self._lengths[name][1]

    def _explicit_minimum(self, name):
        """Smallest integer accepted for length ``name``."""
        return 1

    def _auto_length(self, name, tau, dt):
        """The ``"auto"`` value of length ``name`` for time scale ``tau`` and step ``dt``
        (the rule of :mod:`chaoslab.learners.timescale`; a learner whose length is not a
        plain span of samples converts here)."""
        return resolve_length("auto", name, multiple=self._lengths[name][0], tau=tau, dt=dt,
                              minimum=self._auto_minimum(name))

    def _check_length(self, name, value):
        """An explicit length ``value`` checked: an integer >= the minimum."""
        return resolve_length(value, name, multiple=None, tau=None, dt=None,
                              minimum=self._explicit_minimum(name))

    def _resolve_lengths(self, dt):
        """Set ``name_`` for every length hyperparameter (``fit``, after ``time_scale_``)."""
        for name in self._lengths:
            value = getattr(self, name)
            n = (self._auto_length(name, self.time_scale_, dt) if is_auto(value)
                 else self._check_length(name, value))
            setattr(self, name + "_", int(n))

    def _length(self, name):
        """Length ``name`` in samples: the fitted value, an explicit integer, or (before
        ``fit``, for ``"auto"``) its minimum."""
        fitted = self.__dict__.get(name + "_")
        if fitted is not None:
            return fitted
        value = getattr(self, name)
        if is_auto(value):
            return self._auto_minimum(name)
        return self._check_length(name, value)

    def _lengths_note(self):
        auto = [f"{k}_={self._length(k)}" for k in self._lengths if is_auto(getattr(self, k))]
        if not auto:
            return ""
        return (f" (lengths chosen from the data's time scale {self.time_scale_:.3g}: "
                f"{', '.join(auto)}; pass integers to set them)")

    def _clear_fitted(self):
        for k in list(vars(self)):
            if k.endswith("_") and not k.startswith("_"):
                delattr(self, k)

    def _fit(self, parts, dt, report):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ forecasting
    @property
    def context_length(self):
        """Rows of context the learner uses to warm up (it accepts more and uses the last).

        It follows the learner's lookback setting (``washout``, ``warmup``, ``window``,
        ...; see each learner); when that is ``"auto"`` it is known only after ``fit``,
        and before it this is the setting's minimum, a lower bound."""
        return 1

    def _check_batch(self, X, what="context"):
        """``X`` ``(n, dim)`` or ``(batch, n, dim)`` as a float64 batch, and whether it was a
        single trajectory; a clear error for a wrong shape or non-finite values."""
        self._check_fitted()
        x = as_float_array(X, what)
        single = x.ndim == 2
        if single:
            x = x[None]
        if x.ndim != 3 or x.shape[-1] != self.dim_:
            n = "n_ctx" if what == "context" else "n"
            raise ValueError(f"{what} must be ({n}, {self.dim_}) or (batch, {n}, "
                             f"{self.dim_}), got shape {np.shape(X)}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{what} holds non-finite values")
        return x, single

    def _check_context(self, context):
        ctx, single = self._check_batch(context, "context")
        if ctx.shape[1] < self.context_length:
            raise ValueError(f"{type(self).__name__} needs at least {self.context_length} "
                             f"context rows, got {ctx.shape[1]}")
        return ctx, single

    def forecast(self, context, n_steps, **kwargs):
        """Forecast ``n_steps`` states after the last row of ``context``.

        Parameters
        ----------
        context : array (n_ctx, dim) or (batch, n_ctx, dim)
            Observed states, oldest first, sampled at the training ``dt``.
        n_steps : int

        Returns
        -------
        array (n_steps, dim) or (batch, n_steps, dim)
            Row ``k`` is the forecast ``(k + 1) * dt`` after the last context row. A rollout
            that blows up is continued as NaN (never an exception).
        """
        ctx, single = self._check_context(context)
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        check_memory(8.0 * ctx.shape[0] * n_steps * ctx.shape[2],
                     f"forecast(n_steps={n_steps}) of {ctx.shape[0]} context(s) of dimension "
                     f"{ctx.shape[2]}")
        with np.errstate(all="ignore"):
            out = self._forecast(ctx, n_steps, **kwargs)
        out = np.asarray(out, dtype=np.float64)
        lost = failed_steps(out)
        out[lost] = np.nan    # once a row is lost it stays lost
        if lost.any():
            rows = lost.reshape(-1, lost.shape[-1])
            first = [int(np.argmax(r)) for r in rows if r.any()]
            warnings.warn(f"{type(self).__name__}: {len(first)} of {len(rows)} forecasts "
                          f"blew up (first at row {min(first)}); their rows from then on are "
                          "NaN", DivergenceWarning, stacklevel=2)
        return out[0] if single else out

    def _check_params(self):
        """Check the hyperparameters (subclasses); :meth:`fit` calls it before anything
        else, so a bad value is an error naming it, never a failure deep inside."""

    def _forecast(self, ctx, n_steps):
        state = self._init_state(ctx)
        out = np.empty((ctx.shape[0], n_steps, self.dim_))
        for k in range(n_steps):
            state, y = self._step(state)
            out[:, k] = y
        return out

    def _init_state(self, ctx):  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, state):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ skill
    def score(self, X, y=None, *, context=None, n_steps=None, threshold=0.4):
        """Forecast skill on held-out trajectories: the mean valid prediction time, in the
        system's time units (greater is better; scikit-learn's default scorer).

        Each trajectory of ``X`` (sampled at the training ``dt``) is cut into consecutive
        segments of ``context + n_steps`` rows; the learner reads the first ``context``
        rows of a segment and forecasts the rest. A forecast's valid prediction time is
        the time until its normalised error (:func:`chaoslab.metrics.error_curve`, with
        each variable scaled by its standard deviation over all of ``X``) first exceeds
        ``threshold`` (Pathak et al., PRL 120, 024102, 2018); see
        :func:`chaoslab.metrics.valid_prediction_time`. Divide by the system's Lyapunov
        time ``1 / lyapunov_exponent`` to count Lyapunov times: the ranking is the same.

        Parameters
        ----------
        X : array (n, dim), array (batch, n, dim) or list of arrays (n_i, dim)
            Held-out data; use long trajectories (or many): the score is an average over
            forecasts, each capped at its segment's length.
        y : None
            Ignored (scikit-learn's signature).
        context : int, optional
            Rows read before each forecast (default :attr:`context_length`).
        n_steps : int, optional
            Forecast length of each segment (default: the rest of each trajectory, one
            forecast per trajectory).
        threshold : float
            Normalised error at which a forecast stops being valid.

        Returns
        -------
        float
        """
        from ..metrics.forecast import error_curve, valid_prediction_steps

        self._check_fitted()
        parts = as_trajectories(X)
        c = self.context_length if context is None else check_int(
            context, "context", minimum=self.context_length)
        shortest = min(len(p) for p in parts)
        if n_steps is None:
            if shortest <= c:
                raise ValueError(f"score needs trajectories longer than the context ({c} "
                                 f"rows), got one of {shortest}")
        else:
            n_steps = check_int(n_steps, "n_steps", minimum=1)
        threshold = check_float(threshold, "threshold", positive=True)
        allx = np.concatenate(parts, axis=0)
        scale = allx.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        groups = {}                     # forecast length -> list of (context, truth)
        for p in parts:
            if n_steps is None:
                groups.setdefault(len(p) - c, []).append((p[:c], p[c:]))
                continue
            for i in range(0, len(p) - c - n_steps + 1, c + n_steps):
                groups.setdefault(n_steps, []).append((p[i:i + c],
                                                       p[i + c:i + c + n_steps]))
        if not groups:
            raise ValueError(f"score needs trajectories of at least context + n_steps = "
                             f"{c + n_steps} rows, got at most {max(len(p) for p in parts)}")
        vpt = []
        for n, pairs in groups.items():
            ctx = np.stack([a for a, _ in pairs])
            truth = np.stack([b for _, b in pairs])
            with warnings.catch_warnings():  # a blown-up forecast scores 0, silently
                warnings.simplefilter("ignore", DivergenceWarning)
                pred = self.forecast(ctx, n)
            vpt.append(valid_prediction_steps(error_curve(truth, pred, scale), threshold))
        return float(np.mean(np.concatenate(vpt)) * self.dt_)

    # ------------------------------------------------------------------ dynamics
    #: whether ``transient`` of :meth:`lyapunov_exponent` was a number of samples before
    #: it became a time (the twin-trajectory estimate; SINDy's was always a time)
    _transient_was_samples = True

    def lyapunov_exponent(self, context, *, T=None, transient=None, renorm=10, eps=1e-7,
                          **deprecated):
        """Largest Lyapunov exponent of the learned closed-loop model, per unit time.

        The learner is warmed up on ``context`` (its first trajectory if a batch) and run
        in closed loop for ``transient``; then two copies of its internal state, ``eps``
        apart, are stepped together for ``T`` and pulled back to distance ``eps`` every
        ``renorm`` steps (Benettin, Galgani, Giorgilli & Strelcyn 1980, with a finite
        perturbation); the mean log growth per unit time estimates the largest exponent
        of the learned map. Compare with the system's exponent.

        Parameters
        ----------
        context : array (n_ctx, dim) or (batch, n_ctx, dim)
        T : float, optional
            Span of the estimate, in the system's time units (default
            ``LYAPUNOV_SAMPLES = 20,000`` samples, ``20_000 * dt_``).
        transient : float, optional
            Closed-loop time run and discarded first, in time units (default
            ``LYAPUNOV_TRANSIENT_SAMPLES = 1,000`` samples).
        renorm : int
            Steps between renormalisations.
        eps : float
            Size of the perturbation, in the learner's internal units.

        Returns
        -------
        float

        Notes
        -----
        Deprecated, for one release: ``n_steps=`` (a number of samples) is read as
        ``T = n_steps * dt_``, and in such an old-style call ``transient`` keeps its old
        meaning, a number of samples. ``transient`` given alone as a non-zero integer
        warns (``FutureWarning``) that it is now a time; pass a float to silence it.
        """
        self._check_fitted()
        func = f"{type(self).__name__}.lyapunov_exponent"
        old_style = "n_steps" in deprecated
        T = renamed_keyword(deprecated, "n_steps", "T", T, None, func=func,
                            convert=lambda n: check_int(n, "n_steps", minimum=1) * self.dt_)
        reject_unknown(deprecated, func)
        T, transient = self._lyapunov_spans(T, transient, old_style, func)
        renorm = check_int(renorm, "renorm", minimum=1)
        eps = check_float(eps, "eps", positive=True)
        n = max(1, int(round(T / self.dt_)))
        n_transient = int(round(transient / self.dt_))
        ctx, _ = self._check_context(context)
        state = self._init_state(ctx[:1])
        for _ in range(n_transient):
            state, _y = self._step(state)
        return _twin_lyapunov(self, state, n, renorm, eps)

    def _lyapunov_spans(self, T, transient, old_style, func, default=True):
        """``T`` and ``transient`` in time units, checked (``None`` stays ``None`` unless
        ``default``), with the deprecated meanings of ``transient`` resolved."""
        if transient is not None:
            if old_style:
                warnings.warn(f"{func}: with the deprecated 'n_steps', 'transient' is read "
                              "as a number of samples (its old meaning); pass 'T' and "
                              "'transient' as times instead", DeprecationWarning,
                              stacklevel=3)
                transient = check_float(transient, "transient", nonnegative=True) * self.dt_
            else:
                if (self._transient_was_samples and transient != 0
                        and isinstance(transient, numbers.Integral)
                        and not isinstance(transient, (bool, np.bool_))):
                    warnings.warn(
                        f"{func}: 'transient' is a time in the system's units (it was a "
                        f"number of samples before); transient={transient} is read as "
                        f"{transient} time units = {round(transient / self.dt_)} samples. "
                        "Pass a float to silence this warning, or transient=n * dt for n "
                        "samples", FutureWarning, stacklevel=3)
                transient = check_float(transient, "transient", nonnegative=True)
        elif default:
            transient = LYAPUNOV_TRANSIENT_SAMPLES * self.dt_
        if T is not None:
            T = check_float(T, "T", positive=True)
        elif default:
            T = LYAPUNOV_SAMPLES * self.dt_
        return T, transient

    # ------------------------------------------------------------------ persistence
    def _state_arrays(self):
        """Fitted arrays to save (name -> ndarray); subclasses extend."""
        return {}

    def _load_arrays(self, arrays, meta):
        """Restore fitted state from :meth:`_state_arrays` output.

        Called by :func:`load` after the header is checked. Subclasses check every array
        against the hyperparameters and ``dim_`` (shapes, index ranges, finiteness; see
        :func:`file_array`) before anything computes with it. This generic version sets
        only names of fitted attributes (``name_``) that are not already attributes of the
        class."""
        for k, v in arrays.items():
            if not (k.isidentifier() and k.endswith("_") and not k.startswith("_")) \
                    or hasattr(type(self), k):
                raise LearnerFileError(f"unexpected array {k!r}")
            setattr(self, k, v)

    def _fitted_meta(self):
        return {}

    def save(self, path):
        """Write the fitted learner to ``path``.

        The file is a zip of uncompressed ``.npy`` members (``numpy.load`` opens it): the
        fitted arrays and a JSON header ``__meta__`` (format, version, learner name,
        hyperparameters and fitted scalars, as UTF-8 bytes). The zip's comment holds
        their checksum, ``chaoslab-learner sha256 <hex digest>``, which :func:`load`
        checks: the SHA-256 digest of ``b"chaoslab-learner members\\n"`` followed, for
        every member in order of name (without ``.npy``), by the name, a newline, the
        length of the member's bytes in decimal, a newline and the bytes themselves.
        A file rewritten by another tool (``numpy.savez``) has no such comment and is
        read as a file of an earlier release, without a checksum.
        Returns ``path``."""
        self._check_fitted()
        path = Path(path)
        arrays = {k: np.asarray(v) for k, v in self._state_arrays().items()}
        for k, v in arrays.items():
            if not _ARRAY_NAME.fullmatch(k):
                raise ValueError(f"array name {k!r} cannot be saved (letters, digits, '_' "
                                 "and '.' only, not starting with '_')")
            if v.dtype.kind not in _ARRAY_KINDS or v.dtype.fields is not None:
                raise TypeError(f"array {k!r} has dtype {v.dtype} and cannot be saved "
                                "safely (numbers and booleans only)")
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "learner": self.name,
                "params": _jsonable(self.get_params(deep=False)),
                "fitted": _jsonable({"dim_": self.dim_, "dt_": self.dt_,
                                     "n_train_": self.n_train_,
                                     "time_scale_": getattr(self, "time_scale_", None),
                                     **{k + "_": self._length(k) for k in self._lengths},
                                     **self._fitted_meta()})}
        members = {_META: _npy_bytes(np.frombuffer(json.dumps(meta).encode(), np.uint8))}
        for k, v in arrays.items():
            members[k] = _npy_bytes(v)
        with open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            zf.comment = _CHECKSUM_PREFIX + _digest(members).encode()
            for k, raw in members.items():
                # a fixed date: the same learner gives the same bytes
                zf.writestr(zipfile.ZipInfo(k + ".npy", date_time=(1980, 1, 1, 0, 0, 0)), raw)
        return path


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot save value {obj!r} of type {type(obj).__name__}")


# ---------------------------------------------------------------------------- file format
#: the most a learner file may expand to when read (its members' declared sizes)
MAX_FILE_BYTES = 2 * 1024 ** 3
#: the most a compressed member may expand, uncompressed size over compressed size
MAX_EXPANSION = 200
#: the most members a learner file may have
MAX_MEMBERS = 10_000
#: the largest JSON header, in bytes
MAX_HEADER_BYTES = 1024 ** 2
#: the largest ``dim_`` a learner file may declare
MAX_DIM = 100_000
#: the largest fitted length (``washout_``, ``window_``, ...) a learner file may declare
MAX_LENGTH = 10 ** 8
#: the digest :meth:`Learner.save` writes (in the zip's comment) and :func:`load` checks
CHECKSUM = "sha256"

_META = "__meta__"
_CHECKSUM_PREFIX = b"chaoslab-learner sha256 "
#: numpy dtype kinds a learner file may hold: booleans, integers, floats, complex
_ARRAY_KINDS = "biufc"
_ARRAY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.]*")


def _npy_bytes(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _digest(members):
    """SHA-256 over the members ``name -> bytes`` in name order, each with its name and
    length (so that renaming, swapping or moving bytes between members changes it)."""
    h = hashlib.sha256(b"chaoslab-learner members\n")
    for name in sorted(members):
        raw = members[name]
        h.update(f"{name}\n{len(raw)}\n".encode())
        h.update(raw)
    return h.hexdigest()


def _check_members(path, members):
    """Refuse a file whose members would expand beyond :data:`MAX_FILE_BYTES` or by more
    than :data:`MAX_EXPANSION` times (a zip bomb), that has more than :data:`MAX_MEMBERS`
    members, or members that are not uniquely named ``.npy`` arrays, before anything is
    read. :meth:`Learner.save` stores its arrays uncompressed, so a real file expands
    by 1."""
    if len(members) > MAX_MEMBERS:
        raise LearnerFileError(f"{path}: {len(members)} members, more than the "
                               f"{MAX_MEMBERS} a learner file may hold")
    total = 0
    seen = set()
    for m in members:
        name = m.filename
        if not name.endswith(".npy") or not (_ARRAY_NAME.fullmatch(name[:-4])
                                             or name[:-4] == _META):
            raise LearnerFileError(f"{path}: member {name!r:.80} is not a chaoslab array "
                                   "(names are letters, digits, '_' and '.' ending in .npy)")
        if name in seen:
            raise LearnerFileError(f"{path}: member {name!r} appears twice")
        seen.add(name)
        total += m.file_size
        if m.compress_type != zipfile.ZIP_STORED and \
                m.file_size > MAX_EXPANSION * max(m.compress_size, 1):
            raise LearnerFileError(f"{path}: member {m.filename!r} would expand "
                                   f"{m.file_size / max(m.compress_size, 1):.0f} times "
                                   f"(at most {MAX_EXPANSION} allowed)")
    if total > MAX_FILE_BYTES:
        raise LearnerFileError(f"{path}: its members declare {total} bytes, more than the "
                               f"{MAX_FILE_BYTES} a learner file may hold")


def _read_members(path):
    """``(name -> bytes, comment)``: every member (``.npy`` stripped), sizes checked before
    any is read (zip's CRC-32 of each member is checked as it is read), and the zip's
    comment."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_members(path, infos)
            meta = [m for m in infos if m.filename == _META + ".npy"]
            if not meta:
                raise LearnerFileError(f"{path}: not a chaoslab learner file (no header)")
            if meta[0].file_size > MAX_HEADER_BYTES:
                raise LearnerFileError(f"{path}: its header declares {meta[0].file_size} "
                                       f"bytes, more than the {MAX_HEADER_BYTES} allowed")
            raw = {}
            for m in infos:
                data = zf.read(m)
                if len(data) != m.file_size:
                    raise LearnerFileError(f"{path}: member {m.filename!r} holds "
                                           f"{len(data)} bytes, its entry declares "
                                           f"{m.file_size}")
                raw[m.filename[:-4]] = data
            return raw, zf.comment
    except LearnerFileError:
        raise
    except MemoryError:
        raise LearnerFileError(f"{path}: too large to read into memory") from None
    except Exception as exc:   # zipfile, zlib, bz2 and lzma raise many kinds
        raise LearnerFileError(f"{path}: corrupt or unreadable learner file "
                               f"({type(exc).__name__}: {exc})") from None


def _parse_npy(name, raw):
    """The array stored in the ``.npy`` bytes ``raw``: numbers or booleans only, with a
    shape and dtype that account for exactly the bytes that follow the array's header;
    returned as a writable array in the machine's byte order, in the memory order it was
    saved in (C or Fortran: arithmetic on it then rounds as it did before saving)."""
    fh = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as exc:    # numpy parses the header with ast and tokenize
        raise LearnerFileError(f"array {name!r}: corrupt array header ({exc})") from None
    if dtype.kind not in _ARRAY_KINDS or dtype.fields is not None or dtype.hasobject \
            or dtype.itemsize == 0 or dtype.subdtype is not None:
        raise LearnerFileError(f"array {name!r}: dtype {dtype} is not allowed (numbers and "
                               "booleans only)")
    if len(shape) > 32 or any(n < 0 for n in shape):
        raise LearnerFileError(f"array {name!r}: impossible shape {shape}")
    size = math.prod(shape) * dtype.itemsize
    offset = fh.tell()
    if size != len(raw) - offset:
        raise LearnerFileError(f"array {name!r}: its header declares shape {shape} of "
                               f"{dtype} ({size} bytes) but the member holds "
                               f"{len(raw) - offset} bytes of data")
    try:
        arr = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=offset)
        arr = arr.reshape(shape, order="F" if fortran else "C")
        return np.array(arr, dtype=dtype.newbyteorder("="), order="K")
    except (ValueError, TypeError, OverflowError) as exc:   # e.g. a shape numpy refuses
        raise LearnerFileError(f"array {name!r}: shape {shape} of {dtype} cannot be "
                               f"read ({exc})") from None


def _header_field(section, fields, key, kind, path, *, required=True, minimum=None,
                  maximum=None, positive=False):
    """One fitted scalar of the header, checked: ``kind`` "int" or "float"."""
    if key not in fields or fields[key] is None:
        if required:
            raise LearnerFileError(f"{path}: header field {section}.{key} is missing")
        return None
    value = fields[key]
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) \
                or (minimum is not None and value < minimum) \
                or (maximum is not None and value > maximum):
            raise LearnerFileError(f"{path}: header field {section}.{key} must be an integer "
                                   f"in [{minimum}, {maximum}], got {value!r:.40}")
        return value
    try:
        number = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError, OverflowError):    # text, a list, an int past floats
        number = None
    if not isinstance(value, (int, float)) or number is None or not math.isfinite(number) \
            or (positive and number <= 0):
        raise LearnerFileError(f"{path}: header field {section}.{key} must be a finite "
                               f"number{' > 0' if positive else ''}, got {value!r:.40}")
    return number


def file_array(arrays, name, shape=None, *, integer=False, finite=True, positive=False,
               minimum=None, maximum=None, required=True):
    """Array ``name`` of a learner file being loaded, checked; for the ``_load_arrays``
    of each learner.

    Parameters
    ----------
    arrays : dict
        The file's arrays (name -> ndarray).
    name : str
    shape : tuple, optional
        Expected shape; ``None`` entries match any length. Also the number of dimensions.
    integer : bool
        An integer array (returned as int64); otherwise floats (returned as float64).
    finite : bool
        Refuse NaN and infinities (floats).
    positive : bool
        Every value > 0.
    minimum, maximum : number, optional
        Bounds every value must lie within (inclusive).
    required : bool
        If False, a missing array gives ``None``.

    Returns
    -------
    ndarray (float64 or int64, contiguous in the order it was saved in) or None

    Raises
    ------
    LearnerFileError
        Naming the array, what it holds and what was expected.
    """
    if name not in arrays:
        if required:
            raise LearnerFileError(f"array {name!r} is missing")
        return None
    a = np.asarray(arrays[name])
    if shape is not None and (a.ndim != len(shape) or any(
            want is not None and have != want for have, want in zip(a.shape, shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + \
            ("," if len(shape) == 1 else "") + ")"
        raise LearnerFileError(f"array {name!r} has shape {a.shape}, expected {want}")
    if integer:
        if a.dtype.kind not in "iu":
            raise LearnerFileError(f"array {name!r} has dtype {a.dtype}, expected integers")
        if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
            raise LearnerFileError(f"array {name!r} holds integers beyond int64")
        a = np.asarray(a, dtype=np.int64, order="K")
    else:
        if a.dtype.kind not in "biuf":
            raise LearnerFileError(f"array {name!r} has dtype {a.dtype}, expected real "
                                   "numbers")
        a = np.asarray(a, dtype=np.float64, order="K")
        if finite and not np.all(np.isfinite(a)):
            raise LearnerFileError(f"array {name!r} holds non-finite values "
                                   f"(first at flat index {int(np.argmin(np.isfinite(a)))})")
    if a.size:
        lo, hi = a.min().item(), a.max().item()
        if positive and not lo > 0:
            raise LearnerFileError(f"array {name!r} must be > 0 everywhere, its smallest "
                                   f"value is {lo!r}")
        if minimum is not None and lo < minimum:
            raise LearnerFileError(f"array {name!r} holds {lo!r}, below the smallest "
                                   f"allowed {minimum}")
        if maximum is not None and hi > maximum:
            raise LearnerFileError(f"array {name!r} holds {hi!r}, above the largest "
                                   f"allowed {maximum}")
    return a


def check_file_arrays(arrays, required, optional=()):
    """Refuse a learner file that lacks one of the ``required`` arrays or holds one that
    is neither required nor ``optional`` (for each learner's ``_load_arrays``)."""
    missing = [k for k in required if k not in arrays]
    if missing:
        raise LearnerFileError(f"array{'s' if len(missing) > 1 else ''} "
                               f"{', '.join(map(repr, missing))} missing")
    extra = sorted(set(arrays) - set(required) - set(optional))
    if extra:
        raise LearnerFileError(f"unexpected array{'s' if len(extra) > 1 else ''} "
                               f"{', '.join(repr(k)[:60] for k in extra[:5])}")


def load(path):
    """Read a learner written by :meth:`Learner.save`. Never unpickles anything.

    What is checked, in order; any failure is a :class:`LearnerFileError` naming it:

    * the path is a regular file (not a FIFO or a device), a zip whose members are
      uniquely named ``.npy`` arrays and would expand to at most :data:`MAX_FILE_BYTES`
      and by at most :data:`MAX_EXPANSION` times (a zip bomb), before anything is read;
      zip's CRC-32 of each member as it is read;
    * the SHA-256 checksum that :meth:`Learner.save` writes in the zip's comment: any
      changed byte of the header or of an array, or members renamed or swapped, are
      refused. Files of earlier releases (and files rewritten by other tools) have no
      checksum and are loaded after the checks below, which every file gets: a
      checksum only shows that the file is as it was written, not that whoever wrote
      it was honest;
    * the JSON header: the format, an integer version not newer than
      :data:`FORMAT_VERSION`;
    * each array: numbers or booleans only (no objects, so nothing is unpickled), a
      shape and dtype that match its bytes exactly;
    * the header's fields: the learner's name, its hyperparameters (accepted by the
      learner's constructor), ``dim_`` (at most :data:`MAX_DIM`), ``dt_`` (finite,
      > 0), ``n_train_``, ``time_scale_`` and the fitted lengths (integers within the
      learner's minimum and :data:`MAX_LENGTH`);
    * by the learner (its ``_load_arrays``): every array's shape against the
      hyperparameters and ``dim_``, index ranges (the echo state network's sparse
      reservoir), finiteness, the arrays the learner expects and no others. Nothing is
      computed from the arrays before this.
    """
    from . import registry

    path = Path(path)
    if not path.exists():
        raise LearnerFileError(f"{path}: no such file")
    if not path.is_file():   # a FIFO or a device would block or never end
        raise LearnerFileError(f"{path}: not a regular file")
    raw, comment = _read_members(path)
    if comment:   # files of earlier releases, and files rewritten by numpy, have none
        if not (comment.startswith(_CHECKSUM_PREFIX)
                and len(comment) == len(_CHECKSUM_PREFIX) + 64):
            raise LearnerFileError(f"{path}: damaged learner file: its zip comment is not a "
                                   f"chaoslab checksum ({comment[:60]!r})")
        if comment[len(_CHECKSUM_PREFIX):] != _digest(raw).encode():
            raise LearnerFileError(f"{path}: damaged learner file: its {CHECKSUM} checksum "
                                   "does not match its contents (changed or corrupted "
                                   "after it was saved)")
    try:
        header = _parse_npy(_META, raw[_META])
        if header.dtype != np.uint8 or header.ndim != 1:
            raise LearnerFileError(f"header is {header.dtype} {header.shape}, expected "
                                   "uint8 text")
        meta = json.loads(header.tobytes().decode())
    except LearnerFileError as exc:
        raise LearnerFileError(f"{path}: corrupt learner file ({exc})") from None
    except (ValueError, UnicodeDecodeError) as exc:   # json.JSONDecodeError is a ValueError
        raise LearnerFileError(f"{path}: corrupt learner file: the header is not JSON "
                               f"({exc})") from None
    except RecursionError:   # a header nested thousands deep
        raise LearnerFileError(f"{path}: corrupt learner file (header nested too deeply)") \
            from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LearnerFileError(f"{path}: not a chaoslab learner file")
    version = meta.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise LearnerFileError(f"{path}: corrupt learner file (format version must be an "
                               f"integer, got {version!r:.40})")
    if version > FORMAT_VERSION:
        raise LearnerFileError(f"{path}: written by a newer chaoslab (format {version}; "
                               f"this one reads formats up to {FORMAT_VERSION}): update "
                               "chaoslab to load it")
    if version < 0:
        raise LearnerFileError(f"{path}: corrupt learner file (format version {version})")
    try:
        arrays = {k: _parse_npy(k, v) for k, v in raw.items() if k != _META}
    except LearnerFileError as exc:
        raise LearnerFileError(f"{path}: corrupt learner file ({exc})") from None
    del raw
    name = meta.get("learner")
    if not isinstance(name, str):
        raise LearnerFileError(f"{path}: header field 'learner' must be a learner's name, "
                               f"got {name!r:.40}")
    try:
        cls = registry.learner_class(name)
    except ValueError:
        raise LearnerFileError(f"{path}: unknown learner {name!r:.60}") from None
    params = meta.get("params", {})
    fitted = meta.get("fitted")
    for key, section in (("params", params), ("fitted", fitted)):
        if not isinstance(section, dict):
            raise LearnerFileError(f"{path}: header field {key!r} must be an object, got "
                                   f"{type(section).__name__}")
    params = dict(params)
    for old, new in cls._renamed_params.items():   # files of the previous release
        if old in params and new not in params:
            params[new] = params.pop(old)
    known = cls._param_names()
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise LearnerFileError(f"{path}: header names hyperparameters {unknown!r:.80} that "
                               f"{cls.__name__} does not have (it has {known})")
    try:
        obj = cls(**params)
    except Exception as exc:
        raise LearnerFileError(f"{path}: the header's hyperparameters are refused by "
                               f"{cls.__name__} ({type(exc).__name__}: {exc})") from None
    field = functools.partial(_header_field, "fitted", fitted, path=path)
    obj.dim_ = field("dim_", "int", minimum=1, maximum=MAX_DIM)
    obj.dt_ = field("dt_", "float", positive=True)
    obj.n_train_ = field("n_train_", "int", minimum=0, maximum=None)
    # files of the previous release have no time scale and give every length as an int
    obj.time_scale_ = field("time_scale_", "float", positive=True, required=False)
    try:
        for k in cls._lengths:
            if fitted.get(k + "_") is None:
                obj.__dict__[k + "_"] = obj._check_length(k, getattr(obj, k))
            else:
                lo = obj._explicit_minimum(k)
                obj.__dict__[k + "_"] = field(k + "_", "int", minimum=lo, maximum=MAX_LENGTH)
        obj._load_arrays(arrays, fitted)
    except LearnerFileError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise LearnerFileError(f"{path}: cannot restore {name!r}: {exc}") from None
    except Exception as exc:
        raise LearnerFileError(f"{path}: cannot restore {name!r} ({type(exc).__name__}: "
                               f"{exc})") from None
    return obj


def _twin_lyapunov(learner, state, n_steps, renorm, eps):
    """Finite-perturbation Benettin estimate on a learner's internal state ``(1, ...)``."""
    xp = _array_module(state)
    rng = np.random.default_rng(0)
    shape = tuple(state.shape[1:])
    direction = rng.standard_normal(math.prod(shape)).reshape(shape)
    direction /= np.linalg.norm(direction)
    if xp is np:
        base = np.asarray(state, dtype=np.float64)
        pert = base + eps * direction
    else:
        base = state.double()
        pert = base + eps * xp.as_tensor(direction, dtype=base.dtype, device=base.device)
    total = 0.0
    count = 0
    for k in range(1, n_steps + 1):
        base, _ = learner._step(base)
        pert, _ = learner._step(pert)
        if k % renorm == 0:
            diff = pert - base
            d = float((diff * diff).sum()) ** 0.5
            if not math.isfinite(d) or d == 0.0:
                break
            total += math.log(d / eps)
            count += renorm
            pert = base + diff * (eps / d)
    if count == 0:
        return float("nan")
    return total / (count * learner.dt_)


def _array_module(x):
    if isinstance(x, np.ndarray):
        return np
    import torch
    return torch
