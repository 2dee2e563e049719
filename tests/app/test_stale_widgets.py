"""Events of widgets that a new system replaced are ignored: a slider of the previous
system moved just before the page redrew changes nothing (it used to add its parameter
to the new system's values and leave the session broken)."""
import param

import chaoslab as cl
from chaoslab.app.ftle_view import FTLEView
from chaoslab.app.main import ChaosLab
from chaoslab.app.state import LabState


def move(widget, value):
    """What Panel does with a slider's release message from the page."""
    with param.edit_constant(widget):
        widget.value_throttled = value


def test_a_slider_of_the_previous_system_changes_nothing():
    lab = ChaosLab()
    rho = lab.parameters.sliders["rho"]
    lab.picker.select.value = "Rossler"
    assert set(lab.state.values) == set(cl.systems.get("Rossler").params)
    rev = lab.state.revision
    move(rho, 35.0)
    assert set(lab.state.values) == set(cl.systems.get("Rossler").params)
    assert lab.state.revision == rev and not lab.state.error
    # the session still works: the new system's own sliders move it
    move(lab.parameters.sliders["a"], 0.3)
    assert lab.state.values["a"] == 0.3 and lab.state.revision == rev + 1
    assert not lab.state.error and lab.state.path_x.shape[1] == 3


def test_a_size_slider_of_the_previous_system_changes_nothing():
    lab = ChaosLab(system="Lorenz96")
    n = lab.parameters.sliders["N"]
    lab.picker.select.value = "Lorenz"
    move(n, 12)
    assert "N" not in lab.state.values and lab.state.path_x.shape[1] == 3


def test_a_plane_slider_or_choice_of_a_previous_slice_is_ignored():
    st = LabState(system_name="Lorenz", n_steps=1000)
    fv = FTLEView(state=st)
    old = fv._plane_box[0]            # "z (fixed)"
    fv.axis_y = "z"                   # a new slice fixes y instead
    assert list(fv.plane) == ["y"]
    move(old, 20.0)
    assert list(fv.plane) == ["y"]
