"""Checks of user input shared by every layer of chaoslab.

A leaf module (numpy only): systems, integrators, analysis, learners, metrics and the app
all validate their arguments with these functions, so one bad value gets the same kind of
message everywhere: the argument's name, the value given and what is allowed.

>>> check_int(3.0, "n_steps", minimum=1)
3
>>> check_float("0.5", "dt", positive=True)
Traceback (most recent call last):
...
ValueError: dt must be a number, got '0.5'

Resolving "a System or a catalog name" is :func:`chaoslab.systems.as_system`: it needs
the catalog, and this module imports nothing of chaoslab (metrics use it too).
"""
from __future__ import annotations

import math
import numbers
import os
import warnings

import numpy as np

__all__ = ["check_int", "check_float", "check_dt", "check_choice", "check_finite_array",
           "renamed_keyword", "check_memory", "available_memory", "check_steps", "MAX_STEPS",
           "as_float_array"]

#: The most integration steps (or map iterations) one trajectory may take in one call: a
#: span of time over a tiny step (``T=1, dt=1e-300``) is refused instead of running for
#: ever.
MAX_STEPS = 10 ** 9


def check_int(value, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an ``int``; a float with an integer value is accepted, a bool is not.

    Raises
    ------
    ValueError
        Naming ``name``, the value and the allowed range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, (float, np.floating)) and math.isfinite(value) \
                and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_float(value, name: str, positive: bool = False, nonnegative: bool = False,
                allow_inf: bool = False) -> float:
    """``value`` as a finite ``float`` (a real number; text and bools are refused).

    ``positive`` asks for ``> 0``, ``nonnegative`` for ``>= 0``; ``allow_inf`` admits
    ``inf`` (never NaN).
    """
    if isinstance(value, (bool, np.bool_, str, bytes)) or not isinstance(value, numbers.Real):
        if not (isinstance(value, np.ndarray) and value.ndim == 0
                and np.issubdtype(value.dtype, np.number)
                and not np.issubdtype(value.dtype, np.complexfloating)):
            raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not allow_inf):
        raise ValueError(f"{name} must be finite, got {v}")
    if positive and v <= 0:
        raise ValueError(f"{name} must be positive, got {v}")
    if nonnegative and v < 0:
        raise ValueError(f"{name} must be >= 0, got {v}")
    return v


def check_dt(dt, name: str = "dt") -> float:
    """A sampling or integration step: a finite number ``> 0``."""
    return check_float(dt, name, positive=True)


def check_choice(value, name: str, allowed) -> object:
    """``value`` if it is one of ``allowed``; else a ValueError listing them."""
    allowed = tuple(allowed)
    if isinstance(value, np.ndarray):  # compared element by element: never one choice
        ok = False
    else:
        try:
            ok = bool(value in allowed)
        except (TypeError, ValueError):  # an unhashable value, an array inside a list
            ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, "
                         f"got {value!r}")
    return value


def _shown(value, n: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= n else text[:n] + "..."


def as_float_array(x, name: str, ndim=None, finite: bool = False,
                   min_size: int = 0) -> np.ndarray:
    """``x`` as a float64 array: real numbers only (text, bytes, complex numbers and
    objects are refused rather than converted or truncated).

    ``ndim`` (an int or a tuple of ints) asks for that many dimensions, ``finite`` for no
    NaN or inf, ``min_size`` for at least that many elements.
    """
    if isinstance(x, (str, bytes, dict, bool, np.bool_)) or x is None:
        raise ValueError(f"{name} must be an array of real numbers, got {_shown(x)}")
    try:
        raw = np.asarray(x)
        if raw.dtype.kind not in "iuf":  # int and float only
            if raw.dtype.kind == "c":
                raise ValueError(f"{name} must hold real numbers, got complex values "
                                 f"{_shown(x)}")
            if raw.dtype.kind != "O":
                raise TypeError
        arr = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(name):
            raise
        raise ValueError(f"{name} must be an array of real numbers, got {_shown(x)}") \
            from None
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        dims = " or ".join(map(str, np.atleast_1d(ndim)))
        raise ValueError(f"{name} must be an array of {dims} dimension(s), got shape "
                         f"{arr.shape}: {_shown(x)}")
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got shape "
                         f"{arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        first = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{name} holds a non-finite value at index {first}")
    return arr


def check_finite_array(x, name: str, ndim=None) -> np.ndarray:
    """``x`` as a float64 array with no NaN or inf (and ``ndim`` dimensions if given)."""
    return as_float_array(x, name, ndim=ndim, finite=True)


def available_memory() -> int:
    """Bytes of memory available to a new allocation now (``MemAvailable`` of
    /proc/meminfo, else free physical pages); 2**62 where neither can be read."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 2 ** 62


def _size(nbytes: float) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{int(nbytes)} bytes"


def check_memory(nbytes, what: str) -> None:
    """Refuse, before allocating, a request whose arrays would need more memory than the
    machine has available now.

    ``nbytes`` is the estimated size (a float is fine: products of large sizes are
    computed without overflow); ``what`` says which request it is, with its sizes, e.g.
    ``"simulate: n_steps=10**9 x 4 trajectories x dim 3"``.

    Raises
    ------
    ValueError
        Naming ``what``, the size needed and the size available.
    """
    need = float(nbytes)
    avail = available_memory()
    if not math.isfinite(need) or need > avail:
        raise ValueError(f"{what} would need {_size(need)} of memory, more than the "
                         f"{_size(avail)} available; ask for fewer samples or points")


def check_steps(n, what: str, limit: int = MAX_STEPS, exact: bool = True):
    """A count of steps refused beyond ``limit`` (and if not finite).

    ``n`` may be a float such as ``T / dt``: with ``exact=False`` it is returned as a float
    for the caller to round, else as an ``int``. ``what`` names the arguments that set the
    count, e.g. ``"T=1.0 at dt=1e-12"``.
    """
    n_f = float(n)
    if not math.isfinite(n_f) or n_f > limit:
        raise ValueError(f"{what} would take {n_f:.3g} steps per trajectory, more than the "
                         f"{limit:.0e} allowed in one call")
    return int(n) if exact else n_f


def renamed_keyword(kwargs: dict, old: str, new: str, value, default=None, *, func: str = "",
                    convert=None):
    """Support an old keyword name for one release: pop ``old`` from ``kwargs``.

    Returns the value to use for ``new``: ``value`` if it was given (not ``default``), else
    the old keyword's value passed through ``convert`` (for a change of unit), else
    ``default``. Warns with a :class:`DeprecationWarning` when the old name is used and
    refuses both at once.
    """
    if old not in kwargs:
        return value
    old_value = kwargs.pop(old)
    where = f"{func}: " if func else ""
    if value is not default:
        raise TypeError(f"{where}give {new!r} or the deprecated {old!r}, not both")
    warnings.warn(f"{where}{old!r} is deprecated and will be removed in the next release; "
                  f"use {new!r}" + (" (note the unit)" if convert is not None else ""),
                  DeprecationWarning, stacklevel=3)
    return convert(old_value) if convert is not None else old_value


def reject_unknown(kwargs: dict, func: str) -> None:
    """A TypeError naming the unexpected keywords left in ``kwargs``."""
    if kwargs:
        raise TypeError(f"{func}() got unexpected keyword argument(s): "
                        f"{', '.join(sorted(kwargs))}")


__all__.append("reject_unknown")
