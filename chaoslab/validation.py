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
import warnings

import numpy as np

__all__ = ["check_int", "check_float", "check_dt", "check_choice", "check_finite_array",
           "renamed_keyword"]


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
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, "
                         f"got {value!r}")
    return value


def check_finite_array(x, name: str, ndim=None) -> np.ndarray:
    """``x`` as a float64 array with no NaN or inf (and ``ndim`` dimensions if given)."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") \
            from None
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        first = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise ValueError(f"{name} holds a non-finite value at index {first}")
    return arr


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
