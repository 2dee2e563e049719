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
* ``save(path)`` writes one ``.npz`` file of plain arrays plus a JSON header, read back by
  :func:`chaoslab.learners.load` without pickle;
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

import inspect
import json
import math
import numbers
import warnings
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..metrics.forecast import failed_steps
from ..progress import Cancelled, Reporter
from ..validation import check_dt, check_float, check_int, reject_unknown, renamed_keyword
from .timescale import is_auto, resolve_length, time_scale

__all__ = ["Learner", "NotFittedError", "FitCancelled", "LearnerFileError", "load",
           "as_trajectories"]

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
        parts = [np.asarray(x, dtype=np.float64) for x in X]
    else:
        arr = np.asarray(X, dtype=np.float64)
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
        report = Reporter(progress, cancel, error=FitCancelled)
        self._clear_fitted()
        try:
            self.dt_ = dt
            self.n_train_ = int(sum(len(p) for p in parts))
            self.time_scale_ = time_scale(parts, dt)
            self._resolve_lengths(dt)
            need = self._min_samples()
            if max(len(p) for p in parts) < need:
                raise ValueError(f"{type(self).__name__} needs trajectories of at least "
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
        x = np.asarray(X, dtype=np.float64)
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
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"n_steps must be >= 0, got {n_steps}")
        with np.errstate(all="ignore"):
            out = self._forecast(ctx, n_steps, **kwargs)
        out = np.asarray(out, dtype=np.float64)
        out[failed_steps(out)] = np.nan    # once a row is lost it stays lost
        return out[0] if single else out

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
        """Restore fitted state from :meth:`_state_arrays` output."""
        for k, v in arrays.items():
            setattr(self, k, v)

    def _fitted_meta(self):
        return {}

    def save(self, path):
        """Write the fitted learner to ``path`` (``.npz``: arrays and a JSON header)."""
        self._check_fitted()
        path = Path(path)
        arrays = {k: np.asarray(v) for k, v in self._state_arrays().items()}
        for k, v in arrays.items():
            if v.dtype == object:
                raise TypeError(f"array {k!r} has dtype object and cannot be saved safely")
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "learner": self.name,
                "params": _jsonable(self.get_params(deep=False)),
                "fitted": _jsonable({"dim_": self.dim_, "dt_": self.dt_,
                                     "n_train_": self.n_train_,
                                     "time_scale_": getattr(self, "time_scale_", None),
                                     **{k + "_": self._length(k) for k in self._lengths},
                                     **self._fitted_meta()})}
        header = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        with open(path, "wb") as fh:
            np.savez(fh, __meta__=header, **arrays)
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


#: the most a learner file may expand to when read (its members' declared sizes)
MAX_FILE_BYTES = 2 * 1024 ** 3
#: the most a compressed member may expand, uncompressed size over compressed size
MAX_EXPANSION = 200


def _check_members(path, members):
    """Refuse a file whose members would expand beyond :data:`MAX_FILE_BYTES` or by more
    than :data:`MAX_EXPANSION` times (a zip bomb), before anything is read.
    :meth:`Learner.save` stores its arrays uncompressed, so a real file expands by 1."""
    total = 0
    for m in members:
        total += m.file_size
        if m.compress_type != zipfile.ZIP_STORED and \
                m.file_size > MAX_EXPANSION * max(m.compress_size, 1):
            raise LearnerFileError(f"{path}: member {m.filename!r} would expand "
                                   f"{m.file_size / max(m.compress_size, 1):.0f} times "
                                   f"(at most {MAX_EXPANSION} allowed)")
    if total > MAX_FILE_BYTES:
        raise LearnerFileError(f"{path}: its members declare {total} bytes, more than the "
                               f"{MAX_FILE_BYTES} a learner file may hold")


def load(path):
    """Read a learner written by :meth:`Learner.save`. Never unpickles anything.

    The path must be a regular file; a file whose members would expand past
    :data:`MAX_FILE_BYTES` or by more than :data:`MAX_EXPANSION` times is refused before
    anything is read."""
    from . import registry

    path = Path(path)
    if not path.exists():
        raise LearnerFileError(f"{path}: no such file")
    if not path.is_file():   # a FIFO or a device would block or never end
        raise LearnerFileError(f"{path}: not a regular file")
    try:
        with np.load(path, allow_pickle=False) as z:
            _check_members(path, z.zip.infolist())
            if "__meta__" not in z.files:
                raise LearnerFileError(f"{path}: not a chaoslab learner file (no header)")
            meta = json.loads(bytes(z["__meta__"]).decode())
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    except LearnerFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise LearnerFileError(f"{path}: corrupt or unreadable learner file ({exc})") from None
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
        raise LearnerFileError(f"{path}: written by a newer chaoslab (format {version})")
    name = meta.get("learner")
    try:
        cls = registry.learner_class(name)
    except ValueError:
        raise LearnerFileError(f"{path}: unknown learner {name!r}") from None
    try:
        params = dict(meta.get("params", {}))
        for old, new in cls._renamed_params.items():   # files of the previous release
            if old in params and new not in params:
                params[new] = params.pop(old)
        obj = cls(**params)
        fitted = meta.get("fitted", {})
        obj.dim_ = int(fitted["dim_"])
        obj.dt_ = float(fitted["dt_"])
        obj.n_train_ = int(fitted["n_train_"])
        # files of the previous release have no time scale and give every length as an int
        tau = fitted.get("time_scale_")
        obj.time_scale_ = None if tau is None else float(tau)
        for k in cls._lengths:
            obj.__dict__[k + "_"] = (int(fitted[k + "_"]) if k + "_" in fitted
                                     else obj._check_length(k, getattr(obj, k)))
        obj._load_arrays(arrays, fitted)
    except LearnerFileError:
        raise
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
