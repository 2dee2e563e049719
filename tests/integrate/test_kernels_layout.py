"""The fixed-step numba drivers: blocks, staged output, threads, ``every``, ``store_dtype``.

The reference is the same Runge-Kutta step taken by numpy (``tableaux.rk_step`` on
``System.rhs``, or the map itself), one step at a time: the compiled drivers must give
the same numbers to the last bit, whatever the batch size, the number of samples, the
block and staging sizes and the number of threads.
"""
import concurrent.futures
import warnings

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.integrate import DivergenceWarning
from chaoslab.integrate import numba_backend as nb
from chaoslab.integrate.numba_codegen import fixed_tiling
from chaoslab.integrate.tableaux import EULER, RK4, rk_step


def _numpy_run(s, x0, n, substeps=1, t0=0.0, dt=None, tableau=RK4):
    """Samples (B, n, dim) of one numpy step after the other."""
    x = np.array(x0, dtype=float)
    out = [x.copy()]
    if s.is_map:
        for _ in range(n - 1):
            x = s.rhs(x)
            out.append(x.copy())
        return np.stack(out, 1)
    h = (s.dt if dt is None else dt) / substeps
    for k in range(1, n):
        for j in range(substeps):
            t = t0 + ((k - 1) * substeps + j) * h
            x = rk_step(lambda t, y: s.rhs(y, t), t, x, h, tableau)
        out.append(x.copy())
    return np.stack(out, 1)


@pytest.mark.parametrize("name", ["Lorenz", "Lorenz96", "Henon", "Logistic", "Chua"])
def test_batches_match_numpy_steps_bit_for_bit(name):
    s = cl.systems.get(name)
    lanes, kt = fixed_tiling(s.dim)
    # a batch that ends inside a block and a sample count that ends inside a staging run
    B, n = 4 * lanes + 3, 2 * kt + 5
    x0 = s.x0 + 1e-3 * np.random.default_rng(0).normal(size=(B, s.dim))
    kw = {} if s.is_map else {"substeps": 2, "t0": 0.3}
    got = cl.simulate(s, n, x0=x0, **kw)
    assert got.shape == (B, n, s.dim) and got.dtype == np.float64
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, _numpy_run(s, x0, n, **kw))


def test_euler_matches_numpy_steps_bit_for_bit():
    s = cl.systems.get("Rossler")
    x0 = s.x0 + np.random.default_rng(1).normal(size=(37, 3))
    got = cl.simulate(s, 50, x0=x0, method="euler", substeps=3)
    np.testing.assert_array_equal(got, _numpy_run(s, x0, 50, substeps=3, tableau=EULER))


def test_large_batch_over_many_chunks_matches_single_rows(monkeypatch):
    """Enough work for the threads (several chunks per thread); every row as if alone."""
    s = cl.systems.get("Lorenz")
    x0 = s.x0 + np.random.default_rng(2).normal(size=(3001, 3))
    monkeypatch.setenv("CHAOSLAB_NUM_THREADS", "3")  # more threads than cores is fine
    xb = cl.simulate(s, 120, x0=x0)
    for i in (0, 15, 16, 1500, 2999, 3000):
        np.testing.assert_array_equal(xb[i], cl.simulate(s, 120, x0=x0[i]))
    monkeypatch.setenv("CHAOSLAB_NUM_THREADS", "1")
    np.testing.assert_array_equal(xb, cl.simulate(s, 120, x0=x0))


def test_parallel_chunks_from_inside_pool_threads_does_not_wait_forever():
    """A batch started from a pool thread (every pool thread busy) still completes: a
    helper that never started is cancelled, the caller does the chunks itself."""
    pool = nb._pool()
    workers = pool._max_workers
    hits = np.zeros(64, dtype=int)

    def inner():
        nb.parallel_chunks(lambda a, b: hits.__setitem__(slice(a, b), hits[a:b] + 1),
                           [(i, i + 1) for i in range(64)])

    futs = [pool.submit(inner) for _ in range(workers)]
    done, pending = concurrent.futures.wait(futs, timeout=30)
    assert not pending
    for f in done:
        f.result()
    np.testing.assert_array_equal(hits, workers)


@pytest.mark.parametrize("name", ["Lorenz", "Henon"])
def test_every_keeps_every_kth_sample_of_the_same_run(name):
    s = cl.systems.get(name)
    x0 = s.x0 + 1e-3 * np.random.default_rng(3).normal(size=(70, s.dim))
    kw = {} if s.is_map else {"substeps": 3, "transient": 0.5}
    full = cl.simulate(s, 10 * 12 + 1, x0=x0, full_output=True, **kw)
    thin = cl.simulate(s, 13, x0=x0, every=10, full_output=True, **kw)
    np.testing.assert_array_equal(thin.x, full.x[:, ::10])
    np.testing.assert_array_equal(thin.t, full.t[::10])


def test_every_on_the_torch_backend_and_a_delay_system():
    s = cl.systems.get("MackeyGlass")
    full = cl.simulate(s, 41, substeps=2)
    np.testing.assert_array_equal(cl.simulate(s, 5, substeps=2, every=10), full[::10])
    torch = pytest.importorskip("torch")
    lor = cl.systems.get("Lorenz")
    a = cl.simulate(lor, 31, backend="torch", device="cpu")
    b = cl.simulate(lor, 4, backend="torch", device="cpu", every=10)
    assert isinstance(b, torch.Tensor)
    np.testing.assert_array_equal(b.numpy(), a.numpy()[::10])


BLOWUP = cl.systems.define("Blowup", ["x", "y"], ["x**2", "-y"], x0=[1.0, 1.0], dt=0.01)


@pytest.mark.parametrize("every", [1, 3])
def test_divergence_inside_a_staging_run(every):
    """x' = x^2 from x(0) = 1 leaves |x| < 1e3 near t = 0.999: the row is NaN from the first
    sample beyond the bound and its step (in steps of dt) is reported; the others finish.
    """
    x0 = np.array([[1.0, 1.0], [0.1, 1.0], [0.2, 1.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        ref = _numpy_run(BLOWUP, x0[:1], 150)[0, :, 0]
    first = int(np.argmax(~(np.abs(ref) < 1e3)))  # the first step of dt beyond the bound
    assert 90 < first < 110
    with pytest.warns(DivergenceWarning):
        r = cl.simulate(BLOWUP, 150 // every, x0=x0, bound=1e3, every=every,
                        full_output=True)
    k = -(-first // every)  # the first stored sample at or after that step
    assert r.diverged == {0: k * every}
    assert np.all(np.isfinite(r.x[0, :k])) and np.all(np.isnan(r.x[0, k:]))
    assert np.all(np.isfinite(r.x[1:]))


def test_float32_storage_rounds_the_float64_samples():
    s = cl.systems.get("Lorenz96")
    x0 = s.x0 + 1e-3 * np.random.default_rng(4).normal(size=(50, s.dim))
    a = cl.simulate(s, 200, x0=x0)
    b = cl.simulate(s, 200, x0=x0, store_dtype=np.float32)
    assert b.dtype == np.float32 and b.nbytes * 2 == a.nbytes
    np.testing.assert_array_equal(b, a.astype(np.float32))
    c = cl.simulate(s, 200, x0=x0, store_dtype="float32", method="dopri5")
    assert c.dtype == np.float32


@pytest.mark.parametrize("value", ["float16", "int64", np.int32, 3, 3.0, True, "fp32", [1]])
def test_bad_store_dtype_is_refused(value):
    with pytest.raises(ValueError, match=r"store_dtype must be one of None, 'float64', "
                                         r"'float32'.*got"):
        cl.simulate("Lorenz", 10, store_dtype=value)


def test_store_dtype_belongs_to_the_numba_backend():
    with pytest.raises(ValueError, match="store_dtype='float32' is for the numba backend"):
        cl.simulate("Lorenz", 10, backend="torch", store_dtype="float32")


@pytest.mark.parametrize("value", [0, -2, 1.5, "2", None])
def test_bad_every_is_refused(value):
    with pytest.raises((ValueError, TypeError), match="every"):
        cl.simulate("Lorenz", 10, every=value)


def test_every_is_not_for_dopri5():
    with pytest.raises(ValueError, match=r"every=2 is for the fixed-step methods"):
        cl.simulate("Lorenz", 10, every=2, method="dopri5")


def test_no_warning_for_a_quiet_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl.simulate("Lorenz", 10, x0=np.ones((5, 3)), every=2, store_dtype="float32")


def test_every_with_a_ramp_ends_at_the_stop_value():
    """The ramp spans the returned samples whatever ``every``: the thinned run is the
    full run's every 10th sample."""
    s = cl.systems.get("Logistic")
    full = cl.simulate(s, 101, ramp={"r": (3.5, 3.9)}, transient=100)
    thin = cl.simulate(s, 11, ramp={"r": (3.5, 3.9)}, transient=100, every=10)
    np.testing.assert_array_equal(thin, full[::10])
