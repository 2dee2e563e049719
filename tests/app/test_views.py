"""Views through ``__panel__()`` without a browser: they render and follow the state."""
import math

import numpy as np
import pytest

import chaoslab as cl
from chaoslab.app.explore_view import ExploreView
from chaoslab.app.ftle_view import FTLEView
from chaoslab.app.jobs import JobRunner
from chaoslab.app.lyapunov_view import LyapunovView
from chaoslab.app.orbit_view import OrbitView
from chaoslab.app.state import LabState


def _render(view):
    model = view.__panel__().get_root()
    assert model is not None
    return model


def test_explore_view_follows_sliders_and_the_live_run():
    st = LabState(system_name="Lorenz")
    ex = ExploreView(state=st)
    _render(ex)
    assert len(ex.path.data["x"]) == 20_000 and ex.projection.three_d
    before = np.array(ex.path.data["x"][:50])
    st.values = {**st.values, "rho": 40.0}
    assert not np.allclose(before, ex.path.data["x"][:50])
    # the live run streams: trail every frame, path in batches, memory bounded by rollover
    st.running = True
    for _ in range(8):
        st.advance()
    assert len(ex.path.data["x"]) == 20_000
    assert len(ex.trail.data["x"]) == ex.trail_length
    np.testing.assert_allclose(ex.trail.data["x"][-1], st.x[0], rtol=1e-6)  # float32
    st.running = False
    np.testing.assert_allclose(ex.path.data["x"][-1], st.x[0], rtol=1e-6)
    # the butterfly: 32 members, separations from d0, e^(lambda t) after the estimate
    assert len(ex.cloud.data["x"]) == 32
    ex.jobs.wait(30)
    pred = np.asarray(ex.summary.data["predicted"], dtype=float)
    assert np.isfinite(pred[0]) and pred[0] == pytest.approx(ex.ensemble.d0)
    assert "Lyapunov time" in ex._info.object and "time units" in ex._info.object
    # a 2-D view puts the chosen pair in the x, y columns, keeping the live samples
    ex.view = "x-z"
    assert not ex.projection.three_d
    t, x = ex.history
    np.testing.assert_allclose(x[-1], st.x)
    np.testing.assert_allclose(t[-1], st.t)
    np.testing.assert_allclose(ex.path.data["y"], x[:, 2], rtol=1e-6)
    csv = ex._path_csv().splitlines()
    assert csv[0] == "t,x,y,z" and len(csv) == 20_001
    assert [float(v) for v in csv[-1].split(",")[1:]] == st.x.tolist()  # full precision


def test_explore_view_delay_plot_for_a_1d_map():
    st = LabState(system_name="Logistic", n_steps=1000)
    ex = ExploreView(state=st)
    assert ex._view_select.options == ["x(n) vs x(n+1)"] and not ex.projection.three_d
    x, y = np.asarray(ex.path.data["x"]), np.asarray(ex.path.data["y"])
    np.testing.assert_allclose(x[1:], y[:-1])
    r = st.values["r"]
    np.testing.assert_allclose(y, r * x * (1 - x), atol=2e-6)  # float32 display data
    st.advance(5)
    st.running = False
    ex.flush()
    x, y = np.asarray(ex.path.data["x"]), np.asarray(ex.path.data["y"])
    np.testing.assert_allclose(y[-6:], r * x[-6:] * (1 - x[-6:]), atol=2e-6)


def test_lyapunov_view_spectrum_and_sweep():
    st = LabState(system_name="Logistic", n_steps=500)
    lv = LyapunovView(state=st)
    _render(lv)
    lv.periods = 200  # 20,000 iterations
    lv.sweep_start, lv.sweep_stop, lv.sweep_points = 3.0, 4.0, 11
    lv.activate()
    lv.jobs.wait(60)
    assert lv.spectrum.data["value"][0] == pytest.approx(
        cl.lyapunov_spectrum("Logistic", T=20_000)[0], abs=1e-12)
    assert "per iteration" in lv._summary.object
    p = np.asarray(lv.sweep.data["p"])
    lam = np.asarray(lv.sweep.data["l0"])
    assert len(p) == 11 and lam[-1] == pytest.approx(math.log(2), abs=0.02)
    assert lam[0] == pytest.approx(math.log(abs(2 - 3.0)), abs=0.05)  # r=3: marginal


def test_ftle_view_fills_and_seeds():
    st = LabState(system_name="DoubleGyre", n_steps=500)
    fv = FTLEView(state=st)
    _render(fv)
    fv.resolution = 60
    fv.activate()
    fv.jobs.wait(60)
    img = np.asarray(fv.image.data["image"][0])
    x, y = cl.analysis.default_grid("DoubleGyre", 60)
    assert img.shape == (len(y), len(x)) and np.all(np.isfinite(img))
    ref = cl.ftle_field("DoubleGyre", x, y, fv.T)
    np.testing.assert_allclose(img, ref.T)
    fv.seed(1.0, 0.5)  # a job: it may compile a kernel
    fv.jobs.wait(60)
    assert len(fv.seeds.data["xs"]) == 9
    assert fv.seeds.data["xs"][0][0] == pytest.approx(1.0)


def test_ftle_view_slices_a_3d_flow_and_explains_maps():
    st = LabState(system_name="Lorenz", n_steps=2000)
    fv = FTLEView(state=st)
    fv.resolution = 60
    assert list(fv.plane) == ["z"]
    fv.activate()
    fv.jobs.wait(60)
    assert np.isfinite(np.asarray(fv.image.data["image"][0])).mean() > 0.99
    st.system_name = "Henon"
    assert fv._unsupported.visible and "map" in fv._unsupported.object


def test_orbit_view_logistic():
    st = LabState(system_name="Logistic", n_steps=500)
    ov = OrbitView(state=st)
    _render(ov)
    ov.start, ov.stop, ov.points = 2.8, 2.9, 3
    ov.activate()
    ov.jobs.wait(60)
    p, v = np.asarray(ov.source.data["p"]), np.asarray(ov.source.data["v"])
    # below r = 3 every kept iterate sits on the fixed point 1 - 1/r
    np.testing.assert_allclose(v, 1 - 1 / p, atol=1e-9)
    assert ov._csv().splitlines()[0] == "p,v"


def test_lazy_views_compute_only_when_shown():
    st = LabState(system_name="Logistic", n_steps=300)
    jobs = JobRunner(dispatch=lambda fn: fn())
    ov = OrbitView(state=st, jobs=jobs)
    st.values = {"r": 3.7}
    jobs.wait(10)
    assert len(ov.source.data["p"]) == 0
    ov.activate()
    jobs.wait(60)
    assert len(ov.source.data["p"]) > 0
