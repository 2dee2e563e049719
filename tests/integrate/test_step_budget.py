"""dopri5's step budget: per output interval, and running out is not a divergence."""
import warnings

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.integrate import (DivergenceWarning, SimulationDiverged, StepBudgetExhausted,
                                StepBudgetWarning)

OSC = cl.systems.define("BudgetOsc", ["x", "y"], ["y", "-x"], x0=[1.0, 0.0], dt=0.1)


def test_long_tight_run_is_not_cut_short_by_a_budget_for_the_whole_call():
    # about 750 steps per unit time at rtol 1e-12: 400 time units take ~300,000 steps,
    # three times the budget the whole call once had; each interval of dt needs a handful
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = cl.simulate("Lorenz", 40_000, dt=0.01, method="dopri5", rtol=1e-12, atol=1e-14,
                        full_output=True)
    assert r.ok and not r.exhausted and not r.diverged
    assert np.all(np.isfinite(r.x))
    assert int(r.n_evaluations[0]) > 100_000


def test_the_budget_counts_steps_per_output_interval():
    # the oscillator at rtol 1e-10 and dt 0.1 takes a few steps per interval: a budget of
    # 20 per interval is ample however many intervals there are, 1 is not
    r = cl.simulate(OSC, 2001, method="dopri5", rtol=1e-10, atol=1e-12, max_steps=20,
                    full_output=True)
    assert r.ok
    t = np.arange(2001) * 0.1
    np.testing.assert_allclose(r.x[:, 0], np.cos(t), atol=1e-7)
    per_interval = r.n_evaluations[0] / 2000
    assert 1 < per_interval < 20
    with pytest.warns(StepBudgetWarning):
        cl.simulate(OSC, 2001, method="dopri5", rtol=1e-10, atol=1e-12, max_steps=1)


def test_running_out_is_its_own_report_with_the_time():
    kw = dict(dt=1.0, method="dopri5", rtol=1e-12, atol=1e-12, max_steps=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = cl.simulate("Lorenz", 50, full_output=True, **kw)
    kinds = [w.category for w in caught]
    assert StepBudgetWarning in kinds and DivergenceWarning not in kinds
    msg = str(next(w.message for w in caught if w.category is StepBudgetWarning))
    assert "step budget exhausted at t = " in msg and "max_steps=20" in msg
    assert not r.diverged and set(r.exhausted) == {0} and not r.ok
    t_stop = r.exhausted[0]
    assert 0.0 < t_stop < 1.0  # within the first interval
    assert f"t = {t_stop:.6g}" in msg
    assert np.all(np.isfinite(r.x[0])) and np.all(np.isnan(r.x[1:]))

    with pytest.raises(StepBudgetExhausted, match=r"step budget exhausted at t = ") as info:
        cl.simulate("Lorenz", 50, on_diverge="raise", **kw)
    assert not isinstance(info.value, SimulationDiverged)
    assert set(info.value.result.exhausted) == {0}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cl.simulate("Lorenz", 50, on_diverge="ignore", **kw)


def test_budget_and_divergence_in_one_batch_are_told_apart():
    s = cl.systems.define("BudgetBlowup", ["x"], ["x**2 - k*x"], params={"k": 0.0},
                          x0=[0.5], dt=0.5)
    # row 0 is stiff (k = 1e6: explicit steps must stay below ~3e-6, far more than 1000 per
    # interval); row 1 (k = 0, x0 = 2) passes the bound 10 at t = 0.4 in a few dozen steps
    r = cl.simulate(s, 20, x0=[[0.5], [2.0]], params={"k": [1e6, 0.0]}, method="dopri5",
                    rtol=1e-6, atol=1e-9, max_steps=1000, bound=10.0, on_diverge="ignore",
                    full_output=True)
    assert set(r.exhausted) == {0} and set(r.diverged) == {1}
    assert r.diverged[1] == 1 and 0.0 < r.exhausted[0] < 0.5


def test_transient_gets_a_budget_for_each_of_its_intervals():
    # 100 intervals of transient at ~3 steps each: far above one interval's budget of 10,
    # within 100 x 10
    r = cl.simulate(OSC, 5, method="dopri5", transient=10.0, rtol=1e-10, atol=1e-12,
                    max_steps=10, full_output=True)
    assert r.ok
    np.testing.assert_allclose(r.x[:, 0], np.cos(10.0 + np.arange(5) * 0.1), atol=1e-7)


def test_torch_backend_has_the_same_budget():
    pytest.importorskip("torch")
    kw = dict(dt=1.0, method="dopri5", backend="torch", device="cpu", rtol=1e-12,
              atol=1e-12)
    with pytest.warns(StepBudgetWarning, match="step budget exhausted at t = "):
        r = cl.simulate("Lorenz", 5, max_steps=20, full_output=True, **kw)
    assert set(r.exhausted) == {0} and not r.diverged
    r = cl.simulate(OSC, 21, method="dopri5", backend="torch", device="cpu", max_steps=50,
                    full_output=True)
    assert r.ok


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", None, True])
def test_max_steps_is_validated(bad):
    with pytest.raises(ValueError, match="max_steps"):
        cl.simulate("Lorenz", 10, method="dopri5", max_steps=bad)
