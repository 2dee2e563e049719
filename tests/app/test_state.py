"""The domain state: restarts, the live run, divergence, user systems. No widgets."""
import numpy as np
import pytest

import chaoslab as cl
from chaoslab.app.state import LabState


def test_restart_continues_from_the_current_point():
    st = LabState(system_name="Lorenz", n_steps=2000)
    assert st.path_x.shape == (2000, 3)
    last, rev = st.x.copy(), st.revision
    st.values = {**st.values, "rho": 35.0}
    assert st.revision == rev + 1
    np.testing.assert_allclose(st.path_x[0], last)       # restarted from the current point
    np.testing.assert_allclose(st.current().values["rho"], 35.0)
    # the path is the system's own trajectory with the new parameter
    ref = cl.simulate(cl.systems.get("Lorenz", rho=35.0), 2000, x0=last, t0=st.path_t[0])
    np.testing.assert_allclose(st.path_x, ref)


def test_new_system_starts_on_its_attractor_and_live_run_extends_it():
    st = LabState(system_name="Lorenz", n_steps=500)
    st.system_name = "Rossler"
    s = cl.systems.get("Rossler")
    np.testing.assert_allclose(st.path_x[0], s.reference["x0"])
    got = []
    st.param.watch(lambda e: got.append(st.last_chunk), "chunk")
    t_before = st.t
    st.advance(7)
    t, x = got[-1]
    assert x.shape == (7, 3) and t[0] == pytest.approx(t_before + st.step)
    np.testing.assert_allclose(x[-1], st.x)
    ref = cl.simulate(s, 8, x0=st.path_x[-1], t0=t_before)
    np.testing.assert_allclose(x, ref[1:])


def test_frame_steps_and_speed():
    st = LabState(system_name="Lorenz", n_steps=200)
    base = st.frame_steps
    st.speed = 4
    assert st.frame_steps == 2 * base
    st.system_name = "Henon"
    assert st.frame_steps == 4  # maps: iterations per frame = speed


def test_divergence_is_a_message_not_an_exception():
    st = LabState(system_name="Lorenz", n_steps=300)
    st.add_system(cl.systems.define("Blowup", ["x"], ["x^2"], x0=[1.0], dt=0.01))
    assert st.system_name == "Blowup" and st.diverged
    assert "blows up" in st.error
    st.running = True
    st.advance()
    assert not st.running


def test_configure_sets_everything_at_once_and_names_bad_parameters():
    st = LabState(system_name="Lorenz", n_steps=300)
    rev = st.revision
    st.configure(system="Rossler", values={"a": 0.3}, method="euler")
    assert st.revision == rev + 1
    assert st.values["a"] == 0.3 and st.values["c"] == cl.systems.get("Rossler").values["c"]
    assert st.method == "euler"
    with pytest.raises(ValueError, match="no parameter zz"):
        st.configure(values={"zz": 1.0})


def test_sized_system_changes_dimension():
    st = LabState(system_name="Lorenz96", n_steps=300)
    st.values = {**st.values, "N": 6}
    assert st.path_x.shape == (300, 6)


def test_default_values_and_the_recorded_exponent():
    """The recorded lambda_1 shows only at the default parameters (and size)."""
    st = LabState(system_name="Lorenz96", n_steps=200)
    s = cl.systems.get("Lorenz96")
    assert LabState.default_values(s) == {**s.values, "N": s.size.value}
    assert st.values == LabState.default_values(st.system)
    assert st.lyapunov_exponent == s.reference["max_lyapunov"]
    st.configure(values={"N": 12})
    assert st.lyapunov_exponent is None and st.reference("max_lyapunov") is None
    st.configure(values={"N": s.size.value})
    assert st.lyapunov_exponent == s.reference["max_lyapunov"]
    st.configure(values={"f": 9.0})
    assert st.lyapunov_exponent is None
