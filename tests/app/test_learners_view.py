"""The Learners tab without a browser: training fills every figure it shows."""
import numpy as np

from chaoslab.app.learners_view import LearnersView
from chaoslab.app.state import LabState


def test_training_fills_the_learners_figures():
    view = LearnersView(state=LabState(system_name="Lorenz"))
    view.__panel__()
    view.param.update(chosen=["persistence", "ngrc"], n_train=3000, n_starts=5, horizon=5)
    view.refresh()
    view.wait(300)
    res = view.result
    assert res is not None and list(res.results) == ["persistence", "ngrc"]
    assert len(view.div_source.data["m1"]) == len(res.t)
    assert view.vpt_source.data["learner"] == ["persistence", "ngrc"]
    # one dashed VPT marker per trained learner, at its median VPT; the other slots hidden
    spans = [view.div_fig.select_one({"name": f"vpt{i}"}) for i in range(3)]
    assert [s.visible for s in spans] == [True, True, False]
    assert spans[1].location == res["ngrc"].vpt_median > 3 > spans[0].location
    assert np.isfinite(view.overlay_source.data["f1"]).all()
    assert "tracks the truth longest" in view.status.text.object
