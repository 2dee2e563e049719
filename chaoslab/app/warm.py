"""Kernels compiled where they cannot stall a served app.

numba compiles a kernel on its first call while holding one lock for the whole process
(loading it from the disk cache takes the same lock), and the compile itself is Python
code holding the interpreter lock much of the time. A served app's event loop must wait
for neither: one session's large system (a 16-variable Lyapunov kernel takes tens of
seconds to compile) would stall every other session's page.

So a served session:

* simulates on the UI thread only what is *warm* (:func:`is_warm`): a system structure
  whose kernels this process already called, with the same kinds of arguments, on a
  worker thread (:func:`prepare`);
* prepares anything else in a job first (:class:`~chaoslab.app.state.LabState` with
  ``defer``): :func:`compile_elsewhere` compiles the system's simulation kernels in a
  child Python process (niced, kept for the next system), which leaves numba's machine
  code in chaoslab's kernel cache; this process then loads it from there in a moment
  (:func:`prepare`);
* has every job of a tab compile what it needs the same way before it starts
  (:func:`before_work`: the Lyapunov, FTLE and orbit-diagram kernels), so a large
  system's compile is a child's work, and is killed when the job is cancelled.

A served app also compiles ahead of time (:func:`compile_ahead`, started by ``chaoslab
serve``): in the same niced child, one system after another, the simulation kernels of
the classic systems a visitor is most likely to pick (:data:`AHEAD_OF_TIME`), so that
their first view only loads them from the disk cache. It steps aside whenever a
visitor's own compile is waiting, and the child it leaves idle takes the next system a
visitor picks without starting Python and numba again.
"""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

__all__ = ["warm_key", "is_warm", "prepare", "prepare_all", "compile_elsewhere",
           "compiled_on_disk", "before_work", "OUT_OF_PROCESS", "forget", "AHEAD_OF_TIME",
           "compile_ahead"]

_WARM: set = set()
_LOCK = threading.Lock()
#: Compiling children at a time (each takes a core at the lowest priority, and up to a
#: few hundred MB while it compiles a large system).
MAX_CHILDREN = 2
_CHILDREN = threading.Semaphore(MAX_CHILDREN)
#: Marker path -> Event set when the child compiling that system is done: a second
#: request for the same system waits for it instead of compiling it again.
_IN_FLIGHT: dict = {}
#: Visitors' compiles in progress (the ahead-of-time compile waits while any is).
_WAITING = [0]


def warm_key(system, method: str, backend: str):
    """What the UI thread's calls for ``system`` depend on: its structure (equations and
    size, not parameter values), the integration method (flows) and the backend."""
    kind = "map" if system.is_map else method
    return (system.structure_key, kind, backend)


def is_warm(system, method: str, backend: str) -> bool:
    """Whether :func:`prepare` already ran in this process for this structure, method
    and backend."""
    try:
        key = warm_key(system, method, backend)
    except Exception:  # a system that cannot be built: its error shows on restart
        return True
    with _LOCK:
        return key in _WARM


def prepare(system, method: str = "rk4", backend: str = "numba") -> None:
    """Call, with a few steps, every simulation the app's UI thread makes for
    ``system`` (a path from a start with and without a transient, from a time ``t0``;
    an ensemble of nearby starts), so that numba compiles (or loads) its kernels here.

    Run it on a worker thread; afterwards :func:`is_warm` is True.
    """
    from ..analysis.ensemble import ensemble_spread
    from ..integrate import simulate

    x0 = np.asarray(system.x0, dtype=float)
    kw = dict(backend=backend, params=None, on_diverge="ignore", full_output=True)
    dt = None
    if not system.is_map:
        dt = float(system.dt)
        kw.update(dt=dt, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        simulate(system, 3, x0=x0, transient=2 * (dt or 1.0), **kw)
        simulate(system, 3, x0=x0, transient=0, t0=1.0 if not system.is_map else 0.0, **kw)
        if not system.is_delay:
            ensemble_spread(system, n_steps=3, n_members=4, x0=x0, dt=dt, t0=1.0,
                            lyapunov_exponent=1.0,
                            method=method if not system.is_map else "rk4")
    with _LOCK:
        _WARM.add(warm_key(system, method, backend))


def prepare_all(system, method: str = "rk4", backend: str = "numba") -> None:
    """:func:`prepare`, and the kernels of the tabs' work with a few steps each: the
    Lyapunov spectrum (spectra, sweeps and the butterfly's exponent share it), an FTLE
    field and an orbit diagram."""
    from ..analysis.ftle import ftle_field
    from ..analysis.lyapunov import lyapunov_spectrum
    from ..analysis.orbits import orbit_diagram

    prepare(system, method, backend)
    if system.is_delay:
        return
    s, v = system, list(system.variables)
    dt = None if s.is_map else float(s.dt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for run in (
            lambda: lyapunov_spectrum(s, T=200 if s.is_map else 40 * dt, dt=dt,
                                      transient=0, return_history=True),
            lambda: ftle_field(s, np.linspace(-1, 1, 2), np.linspace(-1, 1, 2), 2 * dt,
                               plane={k: float(x) for k, x in zip(v[2:], s.x0[2:])} or None,
                               axes=(v[0], v[1]) if s.dim > 2 else None, dt=dt),
            lambda: orbit_diagram(s, list(s.params)[0], np.full(2, s.values[list(s.params)[0]]),
                                  variable=v[0], dt=dt, transient=5 * (dt or 1.0),
                                  T=20 * (dt or 1.0)),
        ):
            try:
                run()
            except Exception:  # not every tab applies to every system (maps: no FTLE)
                pass


def compiled_on_disk(system, method: str, backend: str, full: bool = False) -> Path | None:
    """The marker file that a child process leaves after compiling ``system``'s kernels
    (``full``: for the tabs' work too); None when ``system`` has no numba module."""
    from ..integrate.numba_backend import kernels

    try:
        module = Path(kernels(system).__file__)
    except Exception:
        return None
    kind = "map" if system.is_map else method
    what = "all" if full else "simulate"
    return module.with_name(f"{module.stem}.{kind}.{backend}.{what}.compiled")


def compile_elsewhere(system, method: str = "rk4", backend: str = "numba",
                      cancelled=lambda: False, timeout: float = 1800.0,
                      full: bool = False) -> bool:
    """Run :func:`prepare` (``full``: :func:`prepare_all`) for ``system`` in a child
    Python process, so that numba's machine code lands in chaoslab's kernel cache
    without this process compiling it.

    Skipped (returns True at once) when a child already did it for this structure.
    ``cancelled()`` is polled: when it turns True, the child is killed and False is
    returned. Returns whether the child succeeded; on False the caller's own calls
    compile what is missing (slower, never wrong).
    """
    return _compile_elsewhere(system, method, backend, cancelled, timeout, full,
                              visitor=True)


def _compile_elsewhere(system, method, backend, cancelled, timeout, full, visitor):
    marker = compiled_on_disk(system, method, backend, full)
    if marker is None:
        return False

    def done():
        return marker.exists() or (not full and compiled_on_disk(system, method, backend,
                                                                   True).exists())

    if done():
        return True
    if visitor:
        with _LOCK:
            _WAITING[0] += 1
    try:
        while True:
            with _LOCK:
                other = _IN_FLIGHT.get(marker)
                mine = None
                if other is None:
                    mine = _IN_FLIGHT[marker] = threading.Event()
            if mine is not None:
                break
            # another thread's child is compiling this very system: wait for it
            while not other.wait(0.1):
                if cancelled():
                    return False
            if done():
                return True
        try:
            while not _CHILDREN.acquire(timeout=0.1):
                if cancelled():
                    return False
            try:
                if done():  # compiled while this one waited
                    return True
                return _run_child(system, method, backend, full, marker, cancelled,
                                  timeout)
            finally:
                _CHILDREN.release()
        finally:
            with _LOCK:
                _IN_FLIGHT.pop(marker, None)
            mine.set()
    finally:
        if visitor:
            with _LOCK:
                _WAITING[0] -= 1


#: The systems :func:`compile_ahead` prepares when a server starts: the classic flows
#: and maps of chaoslab's own catalog (``catalog.toml``), in its order, which the system
#: picker lists first; the warm-up system (Lorenz) and Lorenz-96 (40 variables, a long
#: compile) are left out.
AHEAD_OF_TIME = ("Rossler", "Chen", "LuChen", "Thomas", "Aizawa", "Halvorsen", "Dadras",
                 "Chua", "SprottA", "SprottB", "Rucklidge", "Arneodo", "GenesioTesi",
                 "NoseHoover", "RabinovichFabrikant", "ShimizuMorioka", "Duffing",
                 "DoublePendulum", "DoubleGyre", "Logistic", "Henon", "Ikeda", "Chirikov",
                 "Tinkerbell")


def compile_ahead(names=AHEAD_OF_TIME, method: str = "rk4", backend: str = "numba",
                  stop=lambda: False, report=None) -> dict:
    """Compile the simulation kernels of the systems ``names`` in a niced child process
    (:func:`compile_elsewhere`), one after another, so that a visitor's first view of
    any of them finds its machine code in the disk cache.

    Waits while a visitor's own compile is in progress (theirs comes first), and stops
    when ``stop()`` turns True. Run it on a daemon thread. Returns ``{name: seconds}``
    (None for a system that failed); ``report(name, seconds)`` is called after each.
    """
    from ..systems import get

    out = {}
    for name in names:
        while _WAITING[0] and not stop():
            time.sleep(0.1)
        if stop():
            break
        t = time.perf_counter()
        try:
            ok = _compile_elsewhere(get(name), method, backend, stop, 1800.0, False,
                                    visitor=False)
        except Exception:
            ok = False
        out[name] = time.perf_counter() - t if ok else None
        if report is not None:
            report(name, out[name])
    return out


#: Children kept for the next compile (starting Python and numba takes seconds).
_IDLE: list = []
#: A child that compiled a system with more variables than this is not kept (its
#: memory holds the large kernel).
KEEP_DIM = 6


class _Child:
    """A niced Python process that compiles the systems it is sent (a length-prefixed
    pickle on its stdin) and answers one byte per system (``1``: done)."""

    def __init__(self):
        # the child inherits the environment, so it finds the same kernel cache
        self.proc = subprocess.Popen([sys.executable, "-m", "chaoslab.app.warm"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)

    def run(self, payload, cancelled, timeout):
        """``(succeeded, still_usable)``."""
        import select

        try:
            self.proc.stdin.write(len(payload).to_bytes(8, "little") + payload)
            self.proc.stdin.flush()
        except OSError:
            return False, False
        out = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            if cancelled() or time.monotonic() > deadline:
                return False, False
            ready, _, _ = select.select([out], [], [], 0.05)
            if ready:
                answer = os.read(out, 1)
                return answer == b"1", answer in (b"0", b"1")

    def close(self):
        try:
            self.proc.kill()
            self.proc.wait(10)
        except Exception:
            pass


def _run_child(system, method, backend, full, marker, cancelled, timeout) -> bool:
    with _LOCK:
        child = _IDLE.pop() if _IDLE else None
    if child is None or child.proc.poll() is not None:
        child = _Child()
    ok, usable = child.run(pickle.dumps((system, method, backend, full)), cancelled,
                           timeout)
    if usable and system.dim <= KEEP_DIM:
        with _LOCK:
            _IDLE.append(child)
    else:
        child.close()
    if not ok:
        return False
    try:
        marker.touch()
    except OSError:
        pass
    return True


#: Whether :func:`before_work` compiles in a child process (``chaoslab serve`` turns
#: it on; in a notebook a session's own compile stalls no one else).
OUT_OF_PROCESS = False


def before_work(system, job) -> None:
    """At the start of a job that runs ``system``'s kernels (a spectrum, a field...):
    on a server, have them compiled in a child process first (:func:`compile_elsewhere`),
    so the job only loads them. Raises ``Cancelled`` if the job was cancelled."""
    if OUT_OF_PROCESS:
        compile_elsewhere(system, cancelled=lambda: job.cancelled, full=True)
        job.check()


def forget() -> None:
    """Forget what this process prepared (tests)."""
    with _LOCK:
        _WARM.clear()


def _child_main():
    """The loop of a :class:`_Child`: compile each system sent, answer one byte."""
    try:
        os.nice(19)  # the server's sessions come first
    except (AttributeError, OSError):
        pass
    parent = os.getppid()

    def orphaned():  # the server ended (however it ended): stop at once
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()

    def read(n):
        data = b""
        while len(data) < n:
            chunk = os.read(0, n - len(data))
            if not chunk:
                os._exit(0)
            data += chunk
        return data

    while True:
        system, method, backend, full = pickle.loads(
            read(int.from_bytes(read(8), "little")))
        try:
            (prepare_all if full else prepare)(system, method, backend)
            answer = b"1"
        except Exception:
            answer = b"0"
        os.write(1, answer)


if __name__ == "__main__":  # a child of compile_elsewhere: the parent's pickles on stdin
    _child_main()
