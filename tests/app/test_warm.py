"""The UI thread never waits for numba's compile lock: it simulates only systems whose
kernels were prepared on a worker; others are prepared in a job first."""
import threading
import time
from contextlib import contextmanager

import numpy as np
import pytest
from numba.core.compiler_lock import global_compiler_lock

import chaoslab as cl
from chaoslab.app import warm
from chaoslab.app.explore_view import ExploreView
from chaoslab.app.jobs import JobRunner
from chaoslab.app.state import LabState


@contextmanager
def compile_lock_held(seconds=20.0):
    """Another thread holds numba's process-wide compile lock (as a long compile does)."""
    held, release = threading.Event(), threading.Event()

    def hold():
        with global_compiler_lock:
            held.set()
            release.wait(seconds)

    th = threading.Thread(target=hold, daemon=True)
    th.start()
    held.wait(10)
    try:
        yield
    finally:
        release.set()
        th.join(10)


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_a_prepared_system_runs_while_another_thread_compiles():
    s = cl.systems.get("Halvorsen")
    th = threading.Thread(target=warm.prepare, args=(s, "rk4", "numba"))
    th.start()
    th.join(120)
    assert warm.is_warm(s, "rk4", "numba") and not warm.is_warm(s, "euler", "numba")
    # every call the UI thread makes for it: a new state (a start with a transient), a
    # slider (a restart from the current point and time), a frame, the butterfly
    made = {}
    with compile_lock_held():
        elapsed = [timed(lambda: made.update(st=LabState(system_name="Halvorsen",
                                                         n_steps=2000)))]
        st = made["st"]
        elapsed += [timed(lambda: setattr(st, "values", {**st.values, "a": 1.5})),
                    timed(st.advance)]
        view = ExploreView(state=st)
        elapsed.append(timed(view.release_ensemble))
    assert max(elapsed) < 1.0, elapsed
    assert st.path_x.shape == (2000, 3) and st.values["a"] == 1.5
    assert view.ensemble is not None and view.ensemble.x.shape[0] == 32


def test_a_cold_system_is_prepared_in_a_job_and_the_ui_thread_does_not_wait():
    """With ``defer`` (a served session), choosing a system whose kernels are not
    compiled returns at once, even while the compile lock is held for seconds; the path
    follows once a job has prepared them."""
    ui = []  # the UI thread's queue: done() and failed() run here, as in a session
    jobs = JobRunner(dispatch=ui.append)
    st = LabState(system_name="Lorenz", n_steps=1000)
    st.defer = lambda s, method, backend, done, failed: jobs.submit(
        "kernels", lambda job: warm.prepare(s, method, backend), lambda r: done(),
        on_error=failed, pool="light")
    before, rev = st.path_x.copy(), st.revision
    warm.forget()
    with compile_lock_held(3.0):
        took = timed(lambda: setattr(st, "system_name", "Dadras"))
        assert took < 1.0, took
        assert st.preparing and st.revision == rev
        np.testing.assert_array_equal(st.path_x, before)  # the old picture stays
        st.advance()      # the live run waits for the new path
        assert st.revision == rev and not ui
    jobs.wait(180)
    assert len(ui) == 1
    ui.pop()()   # done(), on the UI thread
    assert not st.preparing and st.revision == rev + 1
    ref = cl.simulate(cl.systems.get("Dadras"), 1000, x0=st.path_x[0])
    np.testing.assert_allclose(st.path_x, ref)
    assert warm.is_warm(st.current(), "rk4", "numba")


def test_a_failed_preparation_is_a_message():
    st = LabState(system_name="Lorenz", n_steps=500)
    st.defer = lambda s, method, backend, done, failed: failed("no compiler today")
    warm.forget()
    st.system_name = "Rossler"
    assert not st.preparing and st.error == "no compiler today"
