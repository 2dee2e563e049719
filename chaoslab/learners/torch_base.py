"""Shared machinery of chaoslab's torch learners.

:class:`TorchLearner` adds to the :class:`~chaoslab.learners.base.Learner` protocol what
every neural forecaster needs:

* ``seed`` and ``device`` hyperparameters: the module is initialised and the training
  batches are drawn from generators seeded with ``seed`` (the global torch random state is
  left as it was), so the same seed gives bit-identical models and forecasts on the CPU;
  ``device="auto"`` trains on CUDA when ``torch.cuda.is_available()``;
* per-variable standardisation of the data (``mean_``, ``std_``), training in float32
  with Adam (Kingma and Ba 2015), a cosine learning-rate decay and gradient clipping;
* save and load through the module's ``state_dict`` as plain arrays (the module is rebuilt
  from the hyperparameters and ``dim_`` when loaded);
* rollouts in a chosen precision: ``forecast(context, n_steps, dtype="bfloat16")`` casts
  the model and its state to float64, float32 or bfloat16, which
  :func:`precision_divergence` uses to show how round-off alone separates two forecasts
  of a chaotic system.

torch is imported inside functions only, so ``import chaoslab.learners`` stays light; the
``torch.nn.Module`` classes live in :mod:`chaoslab.learners.nn`, whose modules import
torch at their top and are imported by the learners only when they build a module.

Subclasses implement

``_build_module(dim)``
    the ``torch.nn.Module`` for ``dim`` observed variables (built under the seeded RNG);
``_train_module(module, data, report)``
    the training, usually through :meth:`TorchLearner._adam_loop`; returns the loss
    history;
``_warmup(module, ctx)``
    the closed-loop state ``(B, S)`` after reading the normalised context ``ctx``
    ``(B, context_length, dim)``;
``_advance(module, state)``
    one closed-loop step ``state -> (state, y)`` with ``y`` the next normalised observed
    state ``(B, dim)``.
"""
from __future__ import annotations

import contextlib
import copy
import math

import numpy as np

from ..validation import check_int
from .base import Learner, LearnerFileError, check_file_arrays, file_array

__all__ = ["TorchLearner", "Windows", "precision_divergence", "resolve_device",
           "resolve_dtype", "DTYPES"]

#: precisions accepted by ``forecast(..., dtype=)``
DTYPES = ("float64", "float32", "bfloat16")

_MODULE_PREFIX = "module."
#: hyperparameters that count layers of a module (see ``_load_arrays``)
_LAYER_PARAMS = ("layers", "depth")


def _torch():
    import torch
    return torch


def resolve_device(device):
    """The ``torch.device`` for a ``device`` hyperparameter (``"auto"``: CUDA if present)."""
    torch = _torch()
    if device is None or (isinstance(device, str) and device.lower() == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:k]', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but CUDA is not available; "
                         "use device='auto' or 'cpu'")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:k]', got {device!r}")
    return dev


def resolve_dtype(dtype):
    """``torch.dtype`` for ``"float64"``, ``"float32"`` or ``"bfloat16"``."""
    torch = _torch()
    table = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16}
    if isinstance(dtype, torch.dtype):
        for v in table.values():
            if dtype == v:
                return v
    elif isinstance(dtype, str) and dtype.lower() in table:
        return table[dtype.lower()]
    raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


# ---------------------------------------------------------------------------- data
class Windows:
    """Normalised training trajectories on the device, cut into random windows.

    Parameters
    ----------
    parts : list of float64 arrays ``(n_i, dim)``, already normalised
    device : torch.device
    """

    def __init__(self, parts, device):
        torch = _torch()
        self.device = device
        self.dim = parts[0].shape[1]
        self.lengths = [len(p) for p in parts]
        self.n_samples = int(sum(self.lengths))
        self.data = torch.as_tensor(np.concatenate(parts, axis=0), dtype=torch.float32,
                                    device=device)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)

    def starts(self, length):
        """Valid first indices (into the concatenated data) of windows of ``length`` rows."""
        torch = _torch()
        idx = [np.arange(o, o + n - length + 1) for o, n in zip(self.offsets, self.lengths)
               if n >= length]
        if not idx:
            raise ValueError(f"no training trajectory has the {length} samples a training "
                             "window needs")
        return torch.as_tensor(np.concatenate(idx), dtype=torch.int64)

    def sample(self, starts, length, batch_size, generator):
        """A batch ``(batch_size, length, dim)`` of windows starting at random ``starts``."""
        torch = _torch()
        pick = torch.randint(len(starts), (batch_size,), generator=generator)
        first = starts[pick]
        rows = first[:, None] + torch.arange(length)[None, :]
        return self.data[rows.to(self.device)]

    def batches_per_epoch(self, length, batch_size):
        """Batches in one epoch: enough windows to cover the data about once."""
        return max(1, int(round(self.n_samples / (length * batch_size))))


# ---------------------------------------------------------------------------- learner
class TorchLearner(Learner):
    """Base class of the torch learners (see the module docstring).

    Subclasses store their hyperparameters (including ``seed`` and ``device``) in
    ``__init__`` and implement ``_build_module``, ``_train_module``, ``_warmup`` and
    ``_advance``.

    Fitted attributes: ``mean_``, ``std_`` (per-variable standardisation), ``module_`` (the
    float32 ``torch.nn.Module``), ``loss_history_`` (the mean loss of every Adam epoch,
    then the loss of every L-BFGS evaluation), ``device_`` (where it trained and runs) and
    those of :class:`~chaoslab.learners.base.Learner`.

    On the CPU, ``fit`` and ``forecast`` run torch on one intra-op thread
    (``torch.set_num_threads(1)``) and restore the previous setting when they return: these
    models are small, so a second thread gains little, and on a busy machine an OpenMP
    thread that loses its core stalls every operation. The setting is process-wide while
    it lasts.
    """

    uses_torch = True

    #: intra-op threads used on the CPU during fit and forecast (None: torch's setting)
    _CPU_THREADS = 1

    # ------------------------------------------------------------------ helpers
    def _device(self):
        return resolve_device(getattr(self, "device", "auto"))

    def _seed_value(self):
        seed = getattr(self, "seed", None)
        if seed is None:
            return int(np.random.SeedSequence().generate_state(1)[0])
        return check_int(seed, "seed", minimum=0)

    @contextlib.contextmanager
    def _threads(self, device):
        """Run small CPU models on ``_CPU_THREADS`` threads, restoring the count afterwards."""
        torch = _torch()
        before = torch.get_num_threads()
        n = self._CPU_THREADS if device.type == "cpu" else before
        if n is None or n >= before:
            yield
            return
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @contextlib.contextmanager
    def _seeded(self, seed, device):
        """Fork the global torch RNG (CPU and, if used, CUDA), seed it, restore afterwards."""
        torch = _torch()
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    def _check_params(self):
        """Validate hyperparameters before training; subclasses extend."""
        self._seed_value()
        self._device()

    def _normalise(self, x):
        return (np.asarray(x, dtype=np.float64) - self.mean_) / self.std_

    def _denormalise(self, z):
        return np.asarray(z, dtype=np.float64) * self.std_ + self.mean_

    # ------------------------------------------------------------------ fitting
    def _fit(self, parts, dt, report):
        torch = _torch()
        self._check_params()
        device = self._device()
        seed = self._seed_value()
        allx = np.concatenate(parts, axis=0)
        mean = allx.mean(axis=0)
        std = allx.std(axis=0)
        std = np.where(std > 1e-12 * max(1.0, float(np.abs(allx).max())), std, 1.0)
        self.mean_ = mean
        self.std_ = std
        data = Windows([(p - mean) / std for p in parts], device)
        self._cast_cache = {}
        report(0.0, "building the model")
        with self._seeded(seed, device), self._threads(device):
            module = self._build_module(parts[0].shape[1]).to(device=device,
                                                                dtype=torch.float32)
            self._generator = torch.Generator().manual_seed(seed)
            module.train()
            try:
                history = self._train_module(module, data, report)
            finally:
                del self._generator
            module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        self.module_ = module
        self.device_ = str(device)
        self.loss_history_ = np.asarray(history, dtype=np.float64)
        self._after_fit(data)

    def _after_fit(self, data):
        """Hook run after training (the module is ``self.module_``)."""

    def _adam_loop(self, module, loss_fn, epochs, batches_per_epoch, report, lr,
                   clip=1.0, final_lr=0.05, weight_decay=0.0, params=None, span=(0.0, 1.0),
                   label="epoch"):
        """Train ``module`` with Adam; returns the mean loss of every epoch.

        Parameters
        ----------
        loss_fn : callable(progress) -> scalar tensor
            Draws a batch and returns its loss; ``progress`` in [0, 1) lets it anneal
            (teacher forcing, rollout length, ...).
        epochs, batches_per_epoch : int
        report : the ``report(fraction, message)`` callable of ``_fit``; called after every
            batch (it raises :class:`~chaoslab.learners.FitCancelled` when cancelled).
        lr : float
            Initial learning rate, decayed on a cosine to ``final_lr * lr``.
        clip : float
            Global gradient-norm clip (``None`` for none).
        span : (float, float)
            The part of the whole fit this loop covers, for the progress fraction.
        label : str
            Word before the epoch number in the progress message.
        """
        torch = _torch()
        params = [p for p in (module.parameters() if params is None else params)
                  if p.requires_grad]
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
        total = max(1, epochs * batches_per_epoch)
        history = []
        k = 0
        bad = 0
        for epoch in range(epochs):
            running, count = 0.0, 0
            for _ in range(batches_per_epoch):
                frac = k / total
                scale = final_lr + (1.0 - final_lr) * 0.5 * (1.0 + math.cos(math.pi * frac))
                for group in opt.param_groups:
                    group["lr"] = lr * scale
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(frac)
                value = float(loss.detach())
                k += 1
                if not math.isfinite(value):
                    bad += 1
                    if bad >= 5:
                        raise FloatingPointError(
                            f"{type(self).__name__} training diverged (loss {value}); try a "
                            "smaller lr or a shorter sequence length")
                    report(span[0] + (span[1] - span[0]) * k / total,
                           f"{label} {epoch + 1} loss {value:.3g}")
                    continue
                bad = 0
                loss.backward()
                if clip is not None:
                    torch.nn.utils.clip_grad_norm_(params, clip)
                opt.step()
                running += value
                count += 1
                report(span[0] + (span[1] - span[0]) * k / total,
                       f"{label} {epoch + 1} loss {value:.3g}")
            history.append(running / count if count else float("nan"))
        return history

    def _lbfgs_loop(self, module, loss_fn, max_iter, report, span=(0.0, 1.0),
                    history_size=50):
        """Refine ``module`` by full-batch L-BFGS with a strong-Wolfe line search.

        L-BFGS (Liu and Nocedal 1989) reaches much smaller losses than Adam on small,
        smooth regression problems such as fitting a vector field. ``loss_fn()`` returns
        the deterministic full-batch loss; ``max_iter`` bounds the loss evaluations. The
        parameters with the lowest loss seen are kept (a non-finite loss cannot spoil the
        fit). Returns the loss of every evaluation.
        """
        torch = _torch()
        params = [p for p in module.parameters() if p.requires_grad]
        max_iter = int(max_iter)
        if max_iter <= 0:
            return []
        max_eval = max_iter
        opt = torch.optim.LBFGS(params, lr=1.0, max_iter=max_iter, max_eval=max_eval,
                                history_size=history_size, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-12, tolerance_change=1e-15)
        history = []
        best = [math.inf, None]

        def closure():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn()
            value = float(loss.detach())
            history.append(value)
            if math.isfinite(value):
                loss.backward()
                if value < best[0]:
                    best[0] = value
                    best[1] = [p.detach().clone() for p in params]
            else:
                loss = loss.detach().new_tensor(float("inf"))
                for p in params:
                    p.grad = torch.zeros_like(p)
            report(span[0] + (span[1] - span[0]) * min(1.0, len(history) / max_eval),
                   f"L-BFGS step {len(history)} loss {value:.3g}")
            return loss

        opt.step(closure)
        if best[1] is not None:
            with torch.no_grad():
                for p, b in zip(params, best[1]):
                    p.copy_(b)
        return history

    # ------------------------------------------------------------------ module casting
    def _module_for(self, dtype):
        """The fitted module cast to ``dtype`` (cached; float32 is the master copy)."""
        torch = _torch()
        if dtype == torch.float32:
            return self.module_
        cache = self.__dict__.setdefault("_cast_cache", {})
        key = (id(self.module_), dtype)
        if key not in cache:
            if any(k[0] != key[0] for k in cache):
                cache.clear()
            cache[key] = copy.deepcopy(self.module_).to(dtype=dtype)
        return cache[key]

    # ------------------------------------------------------------------ forecasting
    def forecast(self, context, n_steps, dtype="float32"):
        """Forecast ``n_steps`` states after the last row of ``context``.

        Parameters
        ----------
        context : array (n_ctx, dim) or (batch, n_ctx, dim)
            Observed states, oldest first, sampled at the training ``dt``; the last
            :attr:`context_length` rows warm the model up.
        n_steps : int
        dtype : {"float32", "float64", "bfloat16"}
            Precision of the rollout: the model and its state are cast to it (the model is
            trained in float32). Lower precision changes the round-off, which a chaotic
            rollout amplifies; see :func:`precision_divergence`.

        Returns
        -------
        array (n_steps, dim) or (batch, n_steps, dim), float64
        """
        resolve_dtype(dtype)
        return super().forecast(context, n_steps, dtype=dtype)

    def _forecast(self, ctx, n_steps, dtype="float32"):
        torch = _torch()
        tdtype = resolve_dtype(dtype)
        module = self._module_for(tdtype)
        dev = torch.device(self.device_)
        out = torch.empty((ctx.shape[0], n_steps, self.dim_), dtype=tdtype, device=dev)
        with torch.no_grad(), self._threads(dev):
            state = self._warmup(module, self._context_tensor(ctx, tdtype))
            for k in range(n_steps):
                state, y = self._advance(module, state)
                out[:, k] = y
        return self._denormalise(out.double().cpu().numpy())

    def _context_tensor(self, ctx, tdtype):
        torch = _torch()
        ctx = ctx[:, ctx.shape[1] - self.context_length:]
        return torch.as_tensor(self._normalise(ctx), dtype=tdtype,
                               device=torch.device(self.device_))

    def _init_state(self, ctx):
        """Float64 closed-loop state ``(B, S)`` after warming up on ``ctx``."""
        torch = _torch()
        module = self._module_for(torch.float64)
        with torch.no_grad():
            return self._warmup(module, self._context_tensor(ctx, torch.float64))

    def _step(self, state):
        """One closed-loop step in the state's precision; ``y`` is denormalised numpy."""
        torch = _torch()
        if not isinstance(state, torch.Tensor):
            state = torch.as_tensor(np.asarray(state, dtype=np.float64),
                                    device=torch.device(self.device_))
        module = self._module_for(state.dtype)
        with torch.no_grad():
            state, y = self._advance(module, state)
        return state, self._denormalise(y.double().cpu().numpy())

    # ------------------------------------------------------------------ persistence
    def _state_arrays(self):
        arrays = {"mean_": self.mean_, "std_": self.std_,
                  "loss_history_": self.loss_history_}
        for k, v in self.module_.state_dict().items():
            arrays[_MODULE_PREFIX + k] = v.detach().float().cpu().numpy()
        arrays.update(self._extra_arrays())
        return arrays

    def _extra_arrays(self):
        return {}

    def _load_arrays(self, arrays, meta):
        torch = _torch()
        device = self._device()
        dim = self.dim_
        self.mean_ = file_array(arrays, "mean_", (dim,))
        self.std_ = file_array(arrays, "std_", (dim,), positive=True)
        history = file_array(arrays, "loss_history_", (None,), finite=False, required=False)
        self.loss_history_ = np.empty(0) if history is None else history
        saved = {k[len(_MODULE_PREFIX):]: v for k, v in arrays.items()
                 if k.startswith(_MODULE_PREFIX)}
        check_file_arrays(arrays, ["mean_", "std_"] + [_MODULE_PREFIX + k for k in saved],
                          optional=["loss_history_"] + list(self._extra_arrays_names()))
        # a count of layers makes a Python loop when the module is built: it cannot
        # exceed the number of saved tensors
        for key in _LAYER_PARAMS:
            value = getattr(self, key, None)
            if value is not None and check_int(value, key, minimum=0) > len(saved):
                raise LearnerFileError(f"{key}={value} but the file holds only {len(saved)} "
                                       "module tensors")
        # the module's shapes come from the hyperparameters: compare them with the file's
        # on torch's meta device (no memory is allocated) before building it for real
        with torch.device("meta"):
            shapes = {k: tuple(v.shape) for k, v in self._build_module(dim).state_dict().items()}
        if set(shapes) != set(saved):
            missing, extra = sorted(set(shapes) - set(saved)), sorted(set(saved) - set(shapes))
            raise LearnerFileError(
                "the module tensors do not match the hyperparameters"
                + (f"; missing {', '.join(_MODULE_PREFIX + k for k in missing[:5])}"
                   if missing else "")
                + (f"; unexpected {', '.join(_MODULE_PREFIX + k for k in extra[:5])}"
                   if extra else ""))
        state = {k: torch.as_tensor(file_array(arrays, _MODULE_PREFIX + k, shapes[k]),
                                    dtype=torch.float32) for k in shapes}
        with self._seeded(0, device):
            module = self._build_module(dim)
        module.load_state_dict(state, strict=True)
        module = module.to(device=device, dtype=torch.float32).eval()
        for p in module.parameters():
            p.requires_grad_(False)
        self.module_ = module
        self.device_ = str(device)
        self._cast_cache = {}
        self._load_extra(arrays, meta)

    def _load_extra(self, arrays, meta):
        """Restore what :meth:`_extra_arrays` / ``_fitted_meta`` saved."""

    def _extra_arrays_names(self):
        """Names of the arrays :meth:`_extra_arrays` saves (read by ``_load_arrays``)."""
        return ()

    def n_parameters(self):
        """Number of trainable parameters of the fitted module."""
        self._check_fitted()
        return int(sum(p.numel() for p in self.module_.parameters()))


def precision_divergence(learner, context, n_steps, low="bfloat16", high="float32"):
    """Distance between a learner's rollouts in two precisions, from the same context.

    Both rollouts start from the same context; only the round-off of the arithmetic
    differs (``low`` versus ``high``). For a model with chaotic closed-loop dynamics the
    distance grows roughly like ``exp(lambda t)`` from the round-off level until it
    saturates at the attractor's size.

    Parameters
    ----------
    learner : fitted torch learner (``learner.uses_torch``)
    context : array (n_ctx, dim) or (batch, n_ctx, dim)
    n_steps : int
    low, high : {"bfloat16", "float32", "float64"}

    Returns
    -------
    array (n_steps,) or (batch, n_steps)
        ``e(k) = sqrt(mean_i ((y_low_i(k) - y_high_i(k)) / sigma_i)^2)`` for forecast steps
        ``k = 1 .. n_steps``: the root mean square over the variables of the difference in
        units of each variable's standard deviation ``sigma_i`` in the training data
        (``learner.std_``), the normalisation of
        :func:`chaoslab.metrics.error_curve`. Infinite once either rollout is lost.
    """
    if not getattr(learner, "uses_torch", False):
        raise TypeError(f"{type(learner).__name__} has no precision option; "
                        "precision_divergence needs a torch learner")
    resolve_dtype(low)
    resolve_dtype(high)
    y_high = learner.forecast(context, n_steps, dtype=high)
    y_low = learner.forecast(context, n_steps, dtype=low)
    with np.errstate(all="ignore"):
        e = np.sqrt(np.mean(((y_low - y_high) / learner.std_) ** 2, axis=-1))
    e[~np.isfinite(e)] = np.inf
    return e
