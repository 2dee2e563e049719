"""Heavy work off the UI thread: progress, cancel, and no stale results.

A view submits a job to a *slot* (one per kind of result, e.g. ``"ftle"``). The job runs
on a worker thread; its progress, its result and its error are handed back to the UI
thread of the session that asked (a Bokeh server session: ``add_next_tick_callback``;
a notebook or a test: called at once). Every submission gets a fresh request id; a result
lands only if its id is still the slot's latest and it was not cancelled, so a slow old
request never overwrites a newer one.

The worker function receives the :class:`Job` and should call ``job.check()`` (raises
:class:`Cancelled` once cancelled) and ``job.progress(fraction, text)`` between chunks of
work: numba kernels cannot be interrupted, so work is cut into chunks.
"""
from __future__ import annotations

import itertools
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

from .. import progress as _progress

__all__ = ["Job", "JobRunner", "Cancelled", "ui_dispatcher", "locked"]

_EXECUTORS: dict = {}
_EXECUTOR_LOCK = threading.Lock()
_IDS = itertools.count(1)
#: Worker pools of the process: ``"heavy"`` work from all sessions queues in one (2
#: workers); ``"light"`` work (preparing a system's kernels, a few particles) has its own,
#: so that it does not wait behind a long sweep.
POOLS = {"heavy": 2, "light": 2}


def _executor(pool: str = "heavy") -> ThreadPoolExecutor:
    with _EXECUTOR_LOCK:
        if pool not in _EXECUTORS:
            _EXECUTORS[pool] = ThreadPoolExecutor(max_workers=POOLS[pool],
                                                  thread_name_prefix=f"chaoslab-{pool}")
        return _EXECUTORS[pool]


#: Raised inside a job by :meth:`Job.check` once the job was cancelled or replaced: the
#: one :class:`chaoslab.progress.Cancelled`, so a learner's ``FitCancelled`` or an
#: experiment stopped through ``cancel=`` ends a job the same way.
Cancelled = _progress.Cancelled


def ui_dispatcher(doc=None, delay_ms=None):
    """A function ``dispatch(fn)`` that runs ``fn`` on the UI thread of ``doc``.

    ``doc`` defaults to Panel's current document. In a Bokeh server session the call is
    scheduled with ``add_next_tick_callback`` (the one thread-safe Document method), or
    ``delay_ms`` later with ``add_timeout_callback`` (from the UI thread only), and runs
    with Panel's current document set; without a server session it runs at once.
    """
    if doc is None:
        try:
            import panel as pn

            doc = pn.state.curdoc
        except Exception:  # pragma: no cover - panel missing
            doc = None
    served = doc is not None and getattr(doc, "session_context", None) is not None

    if not served:
        return lambda fn: fn()

    def dispatch(fn):
        from panel.io.state import set_curdoc

        def run():
            with set_curdoc(doc):
                fn()

        try:
            if delay_ms:
                doc.add_timeout_callback(run, delay_ms)
            else:
                doc.add_next_tick_callback(run)
        except Exception:  # the session is gone
            pass

    return dispatch


def locked(fn):
    """Wrap a widget callback so that it runs holding the Bokeh document's lock.

    Panel runs some button callbacks as coroutines on the event loop, outside the
    document lock; a raw Bokeh model (a figure, a ColumnDataSource) must not be changed
    there. The wrapper schedules the call as a next-tick callback of the session's
    document (which takes the lock); outside a server it calls at once.
    """
    def wrapper(*args, **kwargs):
        import panel as pn

        doc = pn.state.curdoc
        if doc is not None and getattr(doc, "session_context", None) is not None:
            pn.state.execute(lambda: fn(*args, **kwargs), schedule=True)
        else:
            fn(*args, **kwargs)

    wrapper.__wrapped__ = fn
    return wrapper


class Job:
    """One request: its id, slot, cancel flag and progress reporting."""

    def __init__(self, runner: "JobRunner", slot: str, on_progress=None):
        self.id = next(_IDS)
        self.slot = slot
        self._runner = runner
        self._cancel = threading.Event()
        self._on_progress = on_progress
        # at most ten reports a second reach the UI (the last, fraction >= 1, always)
        self.reporter = _progress.Reporter(self._forward if on_progress else None,
                                           lambda: self.cancelled, min_interval=0.1,
                                           error=Cancelled)
        self.future = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set() or self._runner.latest(self.slot) != self.id

    def cancel(self):
        self._cancel.set()

    def check(self):
        """Raise :class:`Cancelled` if this job was cancelled or a newer one replaced it."""
        if self.cancelled:
            raise Cancelled(self.slot)

    def progress(self, fraction: float, text: str = ""):
        """Report progress (0..1) to the UI, at most ten times a second; raise
        :class:`Cancelled` if the job was cancelled or replaced.

        ``job.progress`` (or ``job.reporter``, a :class:`chaoslab.progress.Reporter`) can be
        passed as ``progress=`` to chaoslab's long computations.
        """
        self.check()
        self.reporter(fraction, text)

    def _forward(self, fraction, text):
        cb = self._on_progress
        self._runner.dispatch(lambda: self.cancelled or cb(fraction, text))


class JobRunner:
    """Submits jobs to the worker pool and hands results back on the UI thread.

    ``max_running`` bounds the ``"heavy"`` jobs (spectra, sweeps, fields, training) of
    this runner (one session) that may run or wait at once, a replaced job still
    counting until it stops; a submission past it is refused with a message to
    ``on_error``.
    """

    def __init__(self, dispatch=None, max_running=None):
        self.dispatch = dispatch or ui_dispatcher()
        self.max_running = max_running
        self._latest: dict = {}
        self._jobs: dict = {}
        self._live: list = []   # (job, pool) of every submission not yet done
        self._lock = threading.Lock()

    def active(self, pool: str = "heavy") -> int:
        """How many of this runner's jobs in ``pool`` are running or waiting."""
        with self._lock:
            self._live = [(j, p) for j, p in self._live
                          if j.future is None or not j.future.done()]
            return sum(1 for _, p in self._live if p == pool)

    def latest(self, slot):
        with self._lock:
            return self._latest.get(slot)

    def submit(self, slot: str, fn, on_done, on_error=None, on_progress=None,
               on_cancel=None, pool: str = "heavy") -> Job:
        """Run ``fn(job)`` off the UI thread; then ``on_done(result)`` on the UI thread if
        the job is still the slot's latest; ``on_error(message)`` if it raised."""
        if pool == "heavy" and self.max_running is not None \
                and self.active(pool) >= self.max_running:
            if on_error is not None:
                on_error(f"this session already has {self.max_running} computations "
                         "running; wait for one to finish or cancel it")
            return None
        job = Job(self, slot, on_progress)
        with self._lock:
            self._live.append((job, pool))
            old = self._jobs.get(slot)
            self._latest[slot] = job.id
            self._jobs[slot] = job
        if old is not None:
            old.cancel()

        def work():
            if job.cancelled:  # cancelled or replaced while it waited for a worker
                return None
            try:
                result = fn(job)
            except Cancelled:
                if on_cancel is not None and self.latest(slot) == job.id:
                    self.dispatch(on_cancel)
                return None
            except Exception as exc:  # shown to the user, never a traceback in the page
                msg = f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc)
                detail = traceback.format_exc()
                if on_error is not None:
                    self.dispatch(lambda: job.cancelled or on_error(msg))
                return detail
            self.dispatch(lambda: job.cancelled or on_done(result))
            return None

        job.future = _executor(pool).submit(work)
        return job

    def cancel(self, slot: str):
        """Cancel the slot's running job; its result will be dropped."""
        with self._lock:
            job = self._jobs.get(slot)
        if job is not None:
            job.cancel()

    def cancel_all(self):
        """Cancel every job of this runner (the session closed): waiting ones never
        start, running ones stop at their next check, their results are dropped."""
        with self._lock:
            live = [j for j, _ in self._live]
            self._latest.clear()
        for job in live:
            job.cancel()
            if job.future is not None:
                job.future.cancel()

    def running(self, slot: str) -> bool:
        with self._lock:
            job = self._jobs.get(slot)
        return job is not None and job.future is not None and not job.future.done()

    def wait(self, timeout: float = 60.0):
        """Block until every submitted job finished (for scripts and tests)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                futures = [j.future for j in self._jobs.values() if j.future is not None]
                futures += [j.future for j, _ in self._live if j.future is not None]
            pending = [f for f in futures if not f.done()]
            if not pending:
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"jobs still running after {timeout} s")
            futures_wait(pending, timeout=left)
