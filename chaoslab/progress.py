"""One progress-and-cancel reporter for long work: learner fits, analysis runs, app jobs.

A long computation takes ``progress=callable(fraction, message)`` and ``cancel=`` (a
``threading.Event``, anything with ``is_set()``, or a callable returning ``True`` to stop)
and calls a :class:`Reporter` between chunks of work:

>>> report = Reporter(progress=print, cancel=None, min_interval=0.0)
>>> report(0.5, "half way")
0.5 half way

Calls are rate-limited (``min_interval`` seconds, default 0.1; the final ``fraction >= 1``
always passes), so a tight loop can report every iteration. Once cancel is set, the next
call raises :class:`Cancelled` (or the ``error`` class given), which the caller lets
propagate. A leaf module: it imports nothing of chaoslab.
"""
from __future__ import annotations

import math
import threading
import time

__all__ = ["Reporter", "Cancelled", "as_reporter"]


class Cancelled(RuntimeError):
    """Long work was stopped through its ``cancel`` argument."""


def _cancel_check(cancel):
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event) or hasattr(cancel, "is_set"):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise TypeError(f"cancel must be a threading.Event or a callable returning bool, "
                    f"got {type(cancel).__name__}")


class Reporter:
    """Rate-limited progress reports and cancellation checks.

    Parameters
    ----------
    progress : callable(fraction, message) or None
        Receives the fraction done (clipped to 0..1) and a short message.
    cancel : threading.Event, callable or None
        Checked at every call; when set the call raises ``error``.
    min_interval : float
        Seconds between forwarded reports (the last one, ``fraction >= 1``, always goes).
    error : type of Exception
        Raised on cancellation (default :class:`Cancelled`).
    """

    def __init__(self, progress=None, cancel=None, min_interval: float = 0.1,
                 error: type = Cancelled):
        if progress is not None and not callable(progress):
            raise TypeError("progress must be callable(fraction, message), "
                            f"got {type(progress).__name__}")
        self._cancelled = _cancel_check(cancel)
        self._progress = progress
        self._last = -math.inf
        self._min = float(min_interval)
        self._error = error

    @property
    def cancelled(self) -> bool:
        return bool(self._cancelled())

    def check(self) -> None:
        """Raise the cancellation error if cancel is set."""
        if self._cancelled():
            raise self._error("cancelled")

    def __call__(self, fraction: float, message: str = "") -> None:
        """Report ``fraction`` (0..1) done; raise if asked to stop."""
        self.check()
        if self._progress is None:
            return
        now = time.monotonic()
        if fraction >= 1.0 or now - self._last >= self._min:
            self._last = now
            self._progress(float(min(max(fraction, 0.0), 1.0)), str(message))

    def scaled(self, start: float, stop: float) -> "Reporter":
        """A reporter for a sub-task that maps its 0..1 onto ``start..stop`` of this one."""
        parent = self

        def forward(fraction, message):
            parent(start + (stop - start) * fraction, message)

        child = Reporter(forward if self._progress is not None else None, self._cancelled,
                         min_interval=0.0, error=self._error)
        return child


def as_reporter(progress=None, cancel=None, error: type = Cancelled) -> Reporter:
    """``progress`` if it is already a :class:`Reporter`, else one built from the pair."""
    if isinstance(progress, Reporter):
        return progress
    return Reporter(progress, cancel, error=error)
