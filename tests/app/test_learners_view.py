"""The Learners tab without a browser: training fills every figure it shows."""
import numpy as np
import panel as pn

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


def test_an_uploaded_sweep_table_is_drawn_with_names_as_text():
    """The Learners tab's sweep section: the stored Gilpin-protocol table, uploaded as
    bytes, is validated off the page's thread and drawn; a name with markup in it shows
    as literal text, and a malformed file is refused with the reader's message."""
    from pathlib import Path

    import pandas as pd

    from chaoslab.app.text import plain
    from chaoslab.plots.sweep import per_system

    csv = Path(__file__).resolve().parents[2] / "benchmarks/results/gilpin_sweep.csv"
    view = LearnersView(state=LabState(system_name="Lorenz"))
    view.__panel__()
    sw = view.sweeps
    table = pd.read_csv(csv)
    # the learner with the best median VPT over systems, as pandas finds it on the file,
    # gets markup in its name
    best = per_system(table).groupby("learner")["value"].median().idxmax()
    table.loc[table["learner"] == best, "learner"] = f"<b>{best}</b>"
    sw.upload.value = table.to_csv(index=False).encode()
    view.jobs.wait(60)
    assert sw.table is not None and len(sw.table) == len(table)
    assert "vpt_cumulative_smape" in sw.metric.options

    def figures():
        return {p.object.name: p.object for p in sw.figures.select(pn.pane.Bokeh)}

    assert {"sweep-vpt_exponent", "sweep-ranking", "sweep-heatmap"} <= set(figures())
    assert f"**{plain(f'<b>{best}</b>')}**" in sw.summary.object
    assert "<b>" not in sw.summary.object
    # switching the metric redraws
    sw.metric.value = "d_stsp"
    heat = figures()["sweep-heatmap"]
    assert "D_stsp" in heat.title.text
    # a malformed upload: the reader's message, escaped, and the old table kept
    sw.upload.value = b"system,learner\n<i>x</i>,esn\n"
    view.jobs.wait(60)
    assert "lacks the column" in sw.status.text.object
    assert len(sw.table) == len(table)
