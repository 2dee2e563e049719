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
  :class:`FitCancelled` and leaves the learner unfitted;
* ``save(path)`` writes one ``.npz`` file of plain arrays plus a JSON header, read back by
  :func:`chaoslab.learners.load` without pickle.

Subclasses implement ``_fit(X_list, dt, report)`` and either ``_init_state``/``_step``
(the closed-loop map used by the generic ``forecast`` and by
:meth:`Learner.lyapunov_exponent`) or their own ``_forecast``.
"""
from __future__ import annotations

import inspect
import json
import math
import threading
import time
import zipfile
from pathlib import Path

import numpy as np

FORMAT = "chaoslab-learner"
FORMAT_VERSION = 1


class NotFittedError(RuntimeError):
    """A learner was used before ``fit``."""


class FitCancelled(RuntimeError):
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


def check_dt(dt):
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise ValueError(f"dt must be a positive number, got {dt!r}") from None
    if not math.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive number, got {dt!r}")
    return dt


class _Reporter:
    """Rate-limited progress and cancellation checks used inside ``_fit``."""

    def __init__(self, progress, cancel, min_interval=0.1):
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable(fraction, message)")
        if cancel is None:
            self._cancelled = lambda: False
        elif isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
            self._cancelled = cancel.is_set
        elif callable(cancel):
            self._cancelled = cancel
        else:
            raise TypeError("cancel must be a threading.Event or a callable returning bool")
        self._progress = progress
        self._last = -math.inf
        self._min = min_interval

    def __call__(self, fraction, message=""):
        """Report ``fraction`` (0..1) done; raise :class:`FitCancelled` if asked to stop."""
        if self._cancelled():
            raise FitCancelled("fit was cancelled")
        if self._progress is not None:
            now = time.perf_counter()
            if fraction >= 1.0 or now - self._last >= self._min:
                self._last = now
                self._progress(float(min(max(fraction, 0.0), 1.0)), str(message))


class Learner:
    """Base class of chaoslab's forecasters; see the module docstring for the protocol."""

    #: registry name, set by subclasses
    name = "learner"
    #: whether the learner runs on torch (and so has float32/bfloat16 rollouts)
    uses_torch = False

    # ------------------------------------------------------------------ parameters
    @classmethod
    def _param_names(cls):
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self):
        """The hyperparameters, as passed to ``__init__``."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params):
        names = set(self._param_names())
        for k, v in params.items():
            if k not in names:
                raise ValueError(f"{type(self).__name__} has no hyperparameter {k!r}; "
                                 f"it has {sorted(names)}")
            setattr(self, k, v)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

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
            Sampling interval of ``X``, in the system's time units.
        progress : callable(fraction, message), optional
        cancel : threading.Event or callable, optional
            Checked during training; when set, ``fit`` raises :class:`FitCancelled`.
        """
        parts = as_trajectories(X)
        dt = check_dt(dt)
        need = self._min_samples()
        if max(len(p) for p in parts) < need:
            raise ValueError(f"{type(self).__name__} needs trajectories of at least "
                             f"{need} samples, got {max(len(p) for p in parts)}")
        report = _Reporter(progress, cancel)
        self._clear_fitted()
        try:
            self.dt_ = dt
            self.n_train_ = int(sum(len(p) for p in parts))
            self._fit(parts, dt, report)
            report(1.0, "done")
        except BaseException:
            self._clear_fitted()
            raise
        self.dim_ = parts[0].shape[1]      # set last: it marks the learner as fitted
        return self

    def _min_samples(self):
        return 2

    def _clear_fitted(self):
        for k in list(vars(self)):
            if k.endswith("_") and not k.startswith("_"):
                delattr(self, k)

    def _fit(self, parts, dt, report):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------ forecasting
    @property
    def context_length(self):
        """Rows of context the learner uses to warm up (it accepts more and uses the last)."""
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
        out[~np.isfinite(out)] = np.nan
        # once a row is lost it stays lost
        lost = np.isnan(out).any(axis=-1)
        lost = np.maximum.accumulate(lost, axis=1)
        out[lost] = np.nan
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

    # ------------------------------------------------------------------ dynamics
    def lyapunov_exponent(self, context, n_steps=20_000, renorm=10, eps=1e-7,
                          transient=1000):
        """Largest Lyapunov exponent of the learned closed-loop model, per unit time.

        Two copies of the learner's internal state, ``eps`` apart, are stepped together
        and pulled back to distance ``eps`` every ``renorm`` steps (Benettin et al. 1980,
        with a finite perturbation); the mean log growth per unit time estimates the
        largest exponent of the learned map. Compare with the system's exponent.
        """
        ctx, _ = self._check_context(context)
        state = self._init_state(ctx[:1])
        for _ in range(int(transient)):
            state, _y = self._step(state)
        return _twin_lyapunov(self, state, int(n_steps), int(renorm), float(eps))

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
                "params": _jsonable(self.get_params()),
                "fitted": _jsonable({"dim_": self.dim_, "dt_": self.dt_,
                                     "n_train_": self.n_train_, **self._fitted_meta()})}
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


def load(path):
    """Read a learner written by :meth:`Learner.save`. Never unpickles anything."""
    from . import registry

    path = Path(path)
    if not path.exists():
        raise LearnerFileError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if "__meta__" not in z.files:
                raise LearnerFileError(f"{path}: not a chaoslab learner file (no header)")
            meta = json.loads(bytes(z["__meta__"]).decode())
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    except LearnerFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, UnicodeDecodeError,
            json.JSONDecodeError) as exc:
        raise LearnerFileError(f"{path}: corrupt or unreadable learner file ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise LearnerFileError(f"{path}: not a chaoslab learner file")
    if meta.get("version", 0) > FORMAT_VERSION:
        raise LearnerFileError(f"{path}: written by a newer chaoslab "
                               f"(format {meta.get('version')})")
    name = meta.get("learner")
    try:
        cls = registry.learner_class(name)
    except ValueError:
        raise LearnerFileError(f"{path}: unknown learner {name!r}") from None
    try:
        obj = cls(**meta.get("params", {}))
        fitted = meta.get("fitted", {})
        obj.dim_ = int(fitted["dim_"])
        obj.dt_ = float(fitted["dt_"])
        obj.n_train_ = int(fitted["n_train_"])
        obj._load_arrays(arrays, fitted)
    except LearnerFileError:
        raise
    except Exception as exc:
        raise LearnerFileError(f"{path}: cannot restore {name!r} ({type(exc).__name__}: "
                               f"{exc})") from None
    return obj


def _twin_lyapunov(learner, state, n_steps, renorm, eps):
    """Finite-perturbation Benettin estimate on a learner's internal state."""
    xp = _array_module(state)
    rng = np.random.default_rng(0)
    direction = rng.standard_normal(state.shape[-1])
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
