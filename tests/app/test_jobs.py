"""Heavy work off the UI thread: stale results are dropped, cancel stops between chunks."""
import threading
import time

import pytest

from chaoslab.app.jobs import Cancelled, JobRunner


def test_a_stale_result_never_overwrites_a_newer_one():
    jobs = JobRunner(dispatch=lambda fn: fn())
    got = []
    release = threading.Event()

    def slow(job):
        release.wait(5)
        return "old"

    jobs.submit("ftle", slow, got.append)
    jobs.submit("ftle", lambda job: "new", got.append)
    time.sleep(0.2)
    release.set()
    jobs.wait(10)
    assert got == ["new"]


def test_cancel_stops_between_chunks_and_drops_the_result():
    jobs = JobRunner(dispatch=lambda fn: fn())
    done, chunks, cancelled = [], [], []
    started = threading.Event()

    def work(job):
        for k in range(100):
            job.check()
            chunks.append(k)
            started.set()
            time.sleep(0.01)
        return "finished"

    jobs.submit("sweep", work, done.append, on_cancel=lambda: cancelled.append(True))
    started.wait(5)
    jobs.cancel("sweep")
    jobs.wait(10)
    assert not done and len(chunks) < 100 and cancelled == [True]


def test_errors_reach_the_ui_as_messages_and_progress_is_reported():
    jobs = JobRunner(dispatch=lambda fn: fn())
    errors, progress = [], []

    def bad(job):
        job.progress(1.0, "all done")
        raise ValueError("T must be non-zero")

    jobs.submit("x", bad, lambda r: None, on_error=errors.append,
                on_progress=lambda f, t: progress.append((f, t)))
    jobs.wait(10)
    assert errors == ["T must be non-zero"] and progress == [(1.0, "all done")]


def test_check_raises_once_replaced():
    jobs = JobRunner(dispatch=lambda fn: fn())
    first = jobs.submit("s", lambda job: time.sleep(0.05), lambda r: None)
    jobs.submit("s", lambda job: None, lambda r: None)
    with pytest.raises(Cancelled):
        first.check()
    jobs.wait(10)


def test_one_cancelled_and_one_throttle_for_the_whole_package():
    """A job's Cancelled is chaoslab.progress.Cancelled: a computation stopped through its
    own ``cancel=`` ends the job as a cancel, not an error. Progress goes through a
    chaoslab.progress.Reporter: a burst of reports reaches the UI once, the final one
    always."""
    from chaoslab.progress import Cancelled as Base, Reporter

    assert issubclass(Cancelled, Base)
    jobs = JobRunner(dispatch=lambda fn: fn())
    errors, cancelled, progress = [], [], []

    def work(job):
        assert isinstance(job.reporter, Reporter)
        for k in range(50):
            job.progress(k / 100, "burst")
        job.progress(1.0, "done")
        job.cancel()
        Reporter(None, cancel=lambda: job.cancelled).check()   # as a learner's fit would

    jobs.submit("x", work, lambda r: None, on_error=errors.append,
                on_cancel=lambda: cancelled.append(True),
                on_progress=lambda f, t: progress.append((f, t)))
    jobs.wait(10)
    assert not errors and cancelled == [True]
    assert progress[0] == (0.0, "burst") and progress[-1] == (1.0, "done")
    assert len(progress) < 10


def test_a_session_runs_a_bounded_number_of_heavy_jobs():
    jobs = JobRunner(dispatch=lambda fn: fn(), max_running=2)
    release = threading.Event()
    errors, done = [], []

    def slow(job):
        release.wait(10)
        return job.slot

    assert jobs.submit("a", slow, done.append, on_error=errors.append) is not None
    assert jobs.submit("b", slow, done.append, on_error=errors.append) is not None
    assert jobs.active() == 2
    assert jobs.submit("c", slow, done.append, on_error=errors.append) is None
    assert errors == ["this session already has 2 computations running; wait for one to "
                      "finish or cancel it"]
    # light work (a system's kernels, a few particles) is not counted
    assert jobs.submit("k", lambda job: "k", done.append, pool="light") is not None
    release.set()
    jobs.wait(10)
    assert sorted(done) == ["a", "b", "k"] and jobs.active() == 0
    assert jobs.submit("c", slow, done.append) is not None
    jobs.wait(10)


def test_cancel_all_stops_running_jobs_and_drops_waiting_ones():
    """A closed tab: every job of its session stops at its next check; jobs still
    waiting for a worker never start."""
    jobs = JobRunner(dispatch=lambda fn: fn())
    started, done, chunks = [], [], []
    gate = threading.Event()

    def work(job):
        started.append(job.slot)
        for k in range(500):
            job.check()
            chunks.append(k)
            gate.set()
            time.sleep(0.01)
        return job.slot

    for slot in "abcdef":   # 2 workers: four of them wait
        jobs.submit(slot, work, done.append)
    gate.wait(5)
    t = time.monotonic()
    jobs.cancel_all()
    jobs.wait(10)
    assert time.monotonic() - t < 1.0
    assert not done and len(started) <= 2 and len(chunks) < 100
