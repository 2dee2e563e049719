"""The Beyond Lyapunov tab: each picture computes (for real, without a browser) and shows
what the analysis found."""
import numpy as np
import pytest

from chaoslab.app.beyond_view import BeyondView
from chaoslab.app.state import LabState


def _run(view):
    view.__panel__().get_root()
    view.activate(True)
    view.jobs.wait(120)
    return view._figure.object


def test_fixed_points_on_the_lorenz_attractor():
    v = BeyondView(state=LabState(system_name="Lorenz"))
    fig = _run(v)
    pts = fig.select_one({"name": "fixed-point-markers"}).data_source.data
    assert len(pts["x"]) == 3 and set(pts["label"]) == {"unstable"}
    assert sorted(np.round(pts["x"], 4)) == pytest.approx([-8.4853, 0.0, 8.4853])
    assert "saddle" in v._note.object


def test_basins_cobweb_early_warning_and_density():
    st = LabState(system_name="Henon")
    v = BeyondView(state=st, mode="Basins", grid=30)
    fig = _run(v)
    img = fig.select_one({"name": "basins-image"}).data_source.data["image"][0]
    assert img.shape == (30, 30) and {-1.0, 0.0} <= set(np.unique(img))
    assert "diverged" in v._note.object
    v.mode = "Density"
    v.points = 20_000
    v.jobs.wait(60)
    assert "20,000 iterates" in v._figure.object.title.text
    v.mode = "Cobweb"  # Henon is planar: the view says why, nothing runs
    assert v._unsupported.visible and "draws one" in v._unsupported.object
    st2 = LabState(system_name="Logistic")
    w = BeyondView(state=st2, mode="Cobweb")
    fig = _run(w)
    assert fig.select_one({"name": "cobweb-orbit"}) is not None
    w.param.update(mode="Early warning", ramp_to=2.98, noise=0.002)
    st2.values = {**st2.values, "r": 2.5}
    w.jobs.wait(120)
    note = w._note.object.replace("\\", "")  # the note is escaped Markdown
    tau = float(note.split("variance ")[1].split(",")[0])
    assert tau > 0.7


def test_continuation_follows_the_two_lorenz_fixed_points():
    """Lorenz for rho in [15, 20]: the two symmetric stable fixed points C+ and C- are the
    only attractors (the chaotic one appears at rho = 24.06; nearer to it, chaotic
    transients outlast the runs), each keeps its id across the range, and by symmetry
    each attracts about half of the starts; none diverge."""
    st = LabState(system_name="Lorenz")
    st.values = {**st.values, "rho": 15.0}
    v = BeyondView(state=st, mode="Continuation", parameter="rho")
    v.ramp_to = 20.0           # (a new system sets it to the parameter's maximum)
    orbits, fig = _run(v).children
    bands = [r for r in fig.renderers if (r.name or "").startswith("continuation-")]
    assert sorted(r.name for r in bands) == ["continuation-0", "continuation-1"]
    top = bands[-1].data_source.data["y2"]
    assert np.allclose(top, 1.0)                                 # nothing diverges
    low = bands[0].data_source.data["y2"]
    assert np.all((low > 0.3) & (low < 0.7)), low
    # the orbit diagram of the continuation: each fixed point's x at every rho, in its
    # own colour, at +-sqrt(beta (rho - 1)) (beta = 8/3)
    for k in (0, 1):
        d = orbits.select_one({"name": f"continuation-orbit-{k}"}).data_source.data
        rho, x = np.asarray(d["x"]), np.asarray(d["y"])
        assert len(rho) >= 25
        exact = np.sqrt(8 / 3 * (rho - 1)) * (1 if np.median(x) > 0 else -1)
        assert np.median(np.abs(x - exact)) < 0.05, (k, np.median(np.abs(x - exact)))
    note = v._note.object.replace("\\", "")
    assert "2 attractor(s) in all, at most 2 side by side" in note
    assert v._param_sel.widget.name == "Parameter" and v._to.visible and not v._noise.visible
    # a delay system cannot be continued: the view says why
    st.system_name = "MackeyGlass"
    assert v._unsupported.visible and "delay" in v._unsupported.object
