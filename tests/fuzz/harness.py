"""The rules every generated call of chaoslab's public API must keep, and the strategies.

A call ends either in a result or in a chaoslab error:

- an error is a ValueError or TypeError (or an exception chaoslab defines) whose message
  names one of the function's arguments; never IndexError, AxisError, OverflowError,
  AttributeError, ZeroDivisionError, LinAlgError, MemoryError, a numba error, ...;
- a result that holds NaN or inf comes with a warning chaoslab issued;
- no call takes longer than ``CALL_LIMIT_S`` seconds.

``CHAOSLAB_FUZZ_EXAMPLES`` sets the number of generated examples of a run, shared among the
tests by weight (default 3,000; an example makes one to three calls); ``make fuzz`` asks
for 30,000 and draws new examples each run, where CI replays one fixed sequence.
``CHAOSLAB_FUZZ_COLLECT=1`` records the broken rules instead of failing at the first one
and prints them all at the end (for finding causes, not for CI).
"""
from __future__ import annotations

import atexit
import collections
import contextlib
import dataclasses
import inspect
import math
import os
import re
import signal
import threading
import time
import warnings

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

TOTAL = int(os.environ.get("CHAOSLAB_FUZZ_EXAMPLES", "0") or 0) or 3000
COLLECT = os.environ.get("CHAOSLAB_FUZZ_COLLECT") == "1"
CALL_LIMIT_S = float(os.environ.get("CHAOSLAB_FUZZ_CALL_LIMIT_S", "20"))

#: generated calls per test, by name (printed by conftest at the end of the run)
CALLS: collections.Counter = collections.Counter()
PROBLEMS: list = []

FORBIDDEN = (IndexError, OverflowError, AttributeError, ZeroDivisionError,
             np.linalg.LinAlgError, MemoryError, RecursionError, AssertionError, NameError,
             FloatingPointError, UnboundLocalError, KeyError, StopIteration, TimeoutError)
#: messages of errors that come from deep inside numpy or Python, not from a check
VAGUE = re.compile(r"could not convert|setting an array element|unsupported operand|"
                   r"object is not|has no len|can't multiply|not supported between|"
                   r"invalid literal|only length-1|truth value of an array|"
                   r"must be real number, not|object cannot be interpreted|"
                   r"operands could not be broadcast|zero-size array")


def n_examples(weight: float) -> int:
    """This test's share of the run's ``TOTAL`` calls (weights sum to 1 over the tests)."""
    return max(5, int(round(TOTAL * weight)))


def fuzz_settings(weight: float, deadline_s: float = 10.0):
    """Hypothesis settings for a test with ``weight`` of the run's calls.

    Derandomised (one fixed sequence, so CI cannot flake) unless a larger run was asked
    for with ``CHAOSLAB_FUZZ_EXAMPLES``; no example database is written.
    """
    return settings(max_examples=n_examples(weight), deadline=deadline_s * 1000,
                    derandomize="CHAOSLAB_FUZZ_EXAMPLES" not in os.environ, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)


# ---------------------------------------------------------------------- values
NAN, INF = float("nan"), float("inf")


class Opaque:
    """An object of no type chaoslab knows."""

    def __repr__(self):
        return "Opaque()"


def junk():
    """Values no argument of chaoslab accepts in general, or accepts only some of."""
    return st.one_of(
        st.sampled_from([NAN, INF, -INF, -1, 0, -0.5, 1e300, -1e300, 10 ** 30, 2 ** 63,
                         1e-300, "x", "1e3", "", b"x", True, False, 1 + 2j, None, (), (1,),
                         [], [NAN], {}, {"a": 1}, Opaque(), np.array([]),
                         np.zeros((2, 2, 2)), np.array(["a", "b"]), np.float64(NAN),
                         np.int64(-3), slice(1)]),
        st.text(max_size=5), st.binary(max_size=3),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
        st.complex_numbers(max_magnitude=10),
    )


def maybe(valid, bad_share=3):
    """``valid`` most of the time, else junk (``bad_share`` in 10)."""
    return st.integers(0, 9).flatmap(lambda k: junk() if k < bad_share else valid)


def kwargs_of(**strategies):
    """A dict holding some of the keywords, each drawn from its strategy."""
    return st.fixed_dictionaries({}, optional=strategies)


def small_array(shape_strategy, elements=None):
    from hypothesis.extra.numpy import arrays
    el = elements if elements is not None else st.floats(-10, 10, allow_nan=False,
                                                         width=64)
    return shape_strategy.flatmap(lambda sh: arrays(np.float64, sh, elements=el))


# ---------------------------------------------------------------------- the rules
def _problem(kind, where, detail):
    text = f"{kind} in {where}: {detail}"
    if COLLECT:
        PROBLEMS.append(text)
        print("PROBLEM", text[:400], flush=True)
        return
    raise AssertionError(text)


def _nonfinite(obj, depth=0) -> bool:
    """Whether a result holds NaN or inf anywhere (arrays, numbers, containers, results)."""
    if depth > 6 or obj is None or isinstance(obj, (str, bytes, bool)):
        return False
    if isinstance(obj, (float, np.floating)):
        return not math.isfinite(obj)
    if isinstance(obj, complex):
        return not (math.isfinite(obj.real) and math.isfinite(obj.imag))
    if isinstance(obj, np.ndarray):
        return obj.dtype.kind in "fc" and not bool(np.all(np.isfinite(obj)))
    if type(obj).__module__.startswith("torch"):
        import torch
        return isinstance(obj, torch.Tensor) and obj.is_floating_point() \
            and not bool(torch.isfinite(obj).all())
    if isinstance(obj, dict):
        return any(_nonfinite(v, depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(_nonfinite(v, depth + 1) for v in obj[:1000])
    if dataclasses.is_dataclass(obj):
        return any(_nonfinite(getattr(obj, f.name), depth + 1)
                   for f in dataclasses.fields(obj)
                   if (type(obj).__name__, f.name) not in NOT_COMPUTED)
    if type(obj).__name__ == "DataFrame":
        return _nonfinite(obj.select_dtypes("number").to_numpy(dtype=float), depth + 1)
    return False


#: Fields whose NaN is their documented "not computed" value, not a numerical failure.
NOT_COMPUTED = {("LearnerDivergence", "lyapunov_exponent"), ("LearnerDivergence", "d_stsp"),
                ("LearnerDivergence", "d_h")}


def _argument_names(fn, kwargs):
    names = set(kwargs)
    try:
        names |= set(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        pass
    return {n for n in names if n not in ("self", "kw", "kwargs", "deprecated", "hyper")}


def _names_an_argument(message: str, names) -> bool:
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
               for n in names)


@contextlib.contextmanager
def _time_limit(seconds):
    """SIGALRM after ``seconds`` (main thread only): interrupts Python loops; a compiled
    kernel is caught afterwards by the measured time."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise TimeoutError(f"call ran past {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _short(v, n=60):
    r = " ".join(repr(v).split())
    return r if len(r) <= n else r[:n] + "..."


def call(test: str, fn, *args, names=None, inputs=None, nan_documented=False, label="",
         **kwargs):
    """Call ``fn`` and check the rules. Returns ``(result, None)`` or ``(None, error)``.

    ``names`` adds argument names a message may use; ``inputs`` are the data arrays of a
    metric: when one of them holds NaN or inf, a non-finite result is the documented
    answer (a failed forecast row counts as infinitely wrong), not a failure;
    ``nan_documented`` says NaN is part of this call's documented answer (padding, rows the
    caller asked to be stopped silently with ``on_diverge="ignore"``).
    """
    CALLS[test] += 1
    where = label + f"{getattr(fn, '__qualname__', fn)}(" + ", ".join(
        [_short(a) for a in args] + [f"{k}={_short(v)}" for k, v in kwargs.items()]) + ")"
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with _time_limit(CALL_LIMIT_S):
                result = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - classifying is the point
            elapsed = time.perf_counter() - start
            if elapsed > CALL_LIMIT_S:
                _problem("hang", where, f"{elapsed:.1f} s")
            _check_error(exc, where, _argument_names(fn, kwargs) | set(names or ()))
            return None, exc
    elapsed = time.perf_counter() - start
    if elapsed > CALL_LIMIT_S:
        _problem("hang", where, f"{elapsed:.1f} s")
    if not nan_documented and _nonfinite(result) and not (inputs is not None and any(_nonfinite(
            np.asarray(a, dtype=float) if _numeric(a) else None) for a in inputs)):
        ours = [w for w in caught if _is_chaoslab(w.category)]
        if not ours:
            _problem("non-finite result without a chaoslab warning", where,
                     f"warnings: {[str(w.message)[:80] for w in caught]}")
    return result, None


def _numeric(a) -> bool:
    try:
        return np.asarray(a).dtype.kind in "biuf"
    except Exception:  # noqa: BLE001 - ragged lists and the like
        return False


def _is_chaoslab(cls) -> bool:
    return any(c.__module__.startswith("chaoslab") for c in cls.__mro__)


def _check_error(exc, where, names):
    kind = type(exc)
    label = f"{kind.__module__}.{kind.__name__}: {str(exc)[:200]}"
    if type(exc).__module__.startswith("numba") or isinstance(exc, FORBIDDEN) \
            and not _is_chaoslab(kind):
        _problem("forbidden error", where, label)
        return
    if not (isinstance(exc, (ValueError, TypeError)) or _is_chaoslab(kind)):
        _problem("unexpected error type", where, label)
        return
    message = str(exc)
    if VAGUE.search(message):
        _problem("vague message", where, label)
    elif not _names_an_argument(message, names):
        _problem("message names no argument", where, label)


def _report():
    if COLLECT and PROBLEMS:
        counts = collections.Counter(p.split(" in ")[0] for p in PROBLEMS)
        print(f"\n=== {len(PROBLEMS)} problems: {dict(counts)}")
        seen = set()
        for p in PROBLEMS:
            key = re.sub(r"\(.*", "", p.split(": ", 1)[0]) + re.sub(r"\d", "", p[-120:])
            if key in seen:
                continue
            seen.add(key)
            print(" -", p[:400])


atexit.register(_report)
