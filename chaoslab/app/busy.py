"""The pieces every view with heavy work shares: a progress bar with a cancel button, and
computing only when shown and out of date."""
from __future__ import annotations

import panel as pn
import param

from .jobs import JobRunner
from .state import LabState
from .text import plain

__all__ = ["JobStatus", "LazyView", "PREFERRED_PARAMETERS", "sweep_parameter",
           "system_key", "DynamicSelect"]

#: Parameters a sweep starts with when a system has them (the classic bifurcation ones).
PREFERRED_PARAMETERS = ("rho", "r", "mu", "F", "alpha", "a")


class DynamicSelect:
    """A Select widget kept in step with a string parameter whose choices change.

    ``Select.from_param`` on a ``param.Selector`` whose ``objects`` change lets the
    widget correct its own value in the middle of Panel's update, and a watcher that
    redraws a Bokeh figure from there runs outside the document's lock. Here options and
    value change together, in one update, and the parameter follows.
    """

    def __init__(self, obj, name, **widget_kw):
        self.obj, self.name = obj, name
        self._resetting = False
        self.widget = pn.widgets.Select(name=obj.param[name].label, options=[],
                                        **widget_kw)
        self.widget.param.watch(self._from_widget, "value")
        obj.param.watch(self._from_param, name)

    def _from_widget(self, event):
        # a choice of the previous options (the page had not redrawn yet) is ignored
        if not self._resetting and event.new is not None and \
                event.new in self.widget.options:
            setattr(self.obj, self.name, event.new)

    def _from_param(self, event):
        if not self._resetting and event.new in self.widget.options:
            self.widget.value = event.new

    def reset(self, options, value):
        """New choices and value, without a watcher seeing an intermediate state."""
        self._resetting = True
        try:
            self.widget.param.update(options=list(options), value=value)
        finally:
            self._resetting = False


def system_key(state):
    """What identifies the system's structure: a new key means new variables or params
    (another system, a redefined one, or a new size)."""
    s = state.current()
    return (state.system_name, id(state.system), s.dim)


def sweep_parameter(system):
    """The parameter a sweep or an orbit diagram starts with (None if there is none)."""
    names = list(system.params)
    for p in PREFERRED_PARAMETERS:
        if p in names:
            return p
    return names[0] if names else None


class JobStatus(pn.viewable.Viewer):
    """Progress bar, a line of text and a cancel button for one job slot."""

    def __init__(self, jobs: JobRunner, slot: str, name: str = ""):
        super().__init__()
        self.jobs, self.slot = jobs, slot
        self.bar = pn.indicators.Progress(value=0, max=100, width=180, visible=False,
                                          bar_color="primary", margin=(12, 5),
                                          name=f"{slot}-progress")
        self.text = pn.pane.Markdown("", margin=(0, 5), styles={"font-size": "13px"},
                                     min_width=240)
        self.cancel_button = pn.widgets.Button(name="Cancel", button_type="warning",
                                               visible=False, width=80, margin=(5, 5))
        self.cancel_button.on_click(lambda e: self.cancel())
        self._row = pn.Row(self.bar, self.cancel_button, self.text, name=name)

    def __panel__(self):
        return self._row

    def start(self, text="Computing ..."):
        self.bar.value = -1  # indeterminate until the first progress report
        self.bar.visible = True
        self.cancel_button.visible = True
        self.text.object = text

    def progress(self, fraction, text=""):
        # only the bar moves: a text update scheduled by Panel could land after finish()
        # and leave a stale "3 of 8" line behind
        self.bar.value = int(round(100 * max(0.0, min(1.0, fraction))))

    def finish(self, text=""):
        self.bar.visible = False
        self.cancel_button.visible = False
        self.text.object = text

    def fail(self, message):
        # the message may quote what a user typed, loaded or shared: literal text
        self.finish(f"**Could not compute:** {plain(message)}")

    def cancel(self):
        self.jobs.cancel(self.slot)
        self.finish("Cancelled. Change a setting or press *Compute* to run again.")


class LazyView(pn.viewable.Viewer):
    """A tab that computes only when it is shown and its inputs changed.

    Subclasses implement ``key()`` (what the result depends on) and ``compute()``
    (submit the work); the app calls :meth:`activate` when the tab is shown.
    """

    state = param.ClassSelector(class_=LabState)
    jobs = param.ClassSelector(class_=JobRunner)
    active = param.Boolean(default=False, doc="the tab is on screen")

    def __init__(self, **params):
        super().__init__(**params)
        if self.jobs is None:
            self.jobs = JobRunner()
        self._done_key = None
        self._settling = False  # True while the view resets its own settings
        self._seen_system = system_key(self.state)
        self.state.param.watch(self._on_revision, "revision")

    def _on_revision(self, event=None):
        """Every restart: a new system first resets the view's settings, then refresh."""
        key = system_key(self.state)
        if key != self._seen_system:
            self._seen_system = key
            self._on_system()
        self.maybe_refresh()

    def _on_system(self):
        """Reset the view's settings for a new system (subclasses)."""

    def key(self):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def activate(self, active=True):
        self.active = active
        if active:
            self.maybe_refresh()

    def maybe_refresh(self):
        if self._settling:
            return
        if self.active and self.key() != self._done_key:
            self.refresh()

    def refresh(self):
        """Compute now (whether or not shown); after the state's restart while its
        kernels are being prepared (the restart brings the view up to date)."""
        if self.state.preparing:
            self._done_key = None
            return
        self._done_key = self.key()
        self.compute()
