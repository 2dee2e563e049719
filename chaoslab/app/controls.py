"""The sidebar: system picker, parameter sliders, equations, integration and run controls.

Each control group is a Viewer over the shared :class:`LabState`; none computes anything.
"""
from __future__ import annotations

import panel as pn
import param

from .. import systems
from .jobs import locked
from .limits import dt_range, size_range
from .state import LabState
from .text import plain

__all__ = ["SystemPicker", "ParameterControls", "Equations", "IntegrationControls",
           "RunControls", "KINDS"]

KINDS = ["all", "flow", "map", "transport"]
#: Equations shown in full up to this many variables (Lorenz-96 can have 200).
MAX_EQUATIONS = 12


class SystemPicker(pn.viewable.Viewer):
    """The whole catalog (and the user's systems) with text search and a kind filter."""

    state = param.ClassSelector(class_=LabState)
    query = param.String(default="", label="Search")
    kind = param.Selector(default="all", objects=KINDS, label="Kind")

    def __init__(self, **params):
        super().__init__(**params)
        self.search = pn.widgets.TextInput.from_param(
            self.param.query, placeholder="search names and descriptions ...",
            sizing_mode="stretch_width", name="Search", onkeyup=True)
        self.kind_buttons = pn.widgets.RadioButtonGroup.from_param(
            self.param.kind, sizing_mode="stretch_width", button_type="default")
        self.select = pn.widgets.Select(name="System", options=self.options(),
                                        value=self.state.system_name,
                                        sizing_mode="stretch_width")
        self.count = pn.pane.Markdown("", styles={"font-size": "12px"}, margin=(0, 10))
        self.select.param.watch(self._on_select, "value")
        self.state.param.watch(self._on_state, "system_name")
        self._update_count()

    def __panel__(self):
        return pn.Column(self.select, self.search, self.kind_buttons, self.count,
                         sizing_mode="stretch_width")

    def options(self) -> list:
        """Names matching the search and the kind; the current system always stays."""
        names = systems.names(kind=None if self.kind in ("all", "transport") else self.kind,
                              transport=True if self.kind == "transport" else None)
        if self.query.strip():
            hits = set(systems.search(self.query.strip()))
            names = [n for n in names if n in hits]
        q = self.query.strip().lower()
        for name, s in self.state.custom_systems.items():
            if self.kind in ("all", s.kind) and (not q or q in name.lower()):
                names.append(name)
        current = self.state.system_name
        if current not in names:
            names = [current] + names
        return names

    @param.depends("query", "kind", watch=True)
    def _refilter(self):
        self.select.options = self.options()
        self.select.value = self.state.system_name
        self._update_count()

    def _update_count(self):
        n = len(self.select.options)
        total = len(systems.names()) + len(self.state.custom_systems)
        self.count.object = f"{n} of {total} systems"

    def _on_select(self, event):
        if event.new and event.new != self.state.system_name:
            self.state.system_name = event.new

    def _on_state(self, event):
        opts = self.options()
        if list(self.select.options) != opts:
            self.select.options = opts
        self.select.value = event.new
        self._update_count()


class ParameterControls(pn.viewable.Viewer):
    """One slider per parameter over its catalog range (and the size, if it has one)."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        self.sliders: dict = {}
        self._column = pn.Column(sizing_mode="stretch_width")
        self.rebuild()
        self.state.param.watch(lambda e: self.rebuild(), "system_name")
        self.state.param.watch(lambda e: self.sync(), "values")

    def __panel__(self):
        return self._column

    def rebuild(self):
        s = self.state.system
        sliders = {}
        if s.size is not None:
            z = s.size
            lo, hi = size_range(s)
            w = pn.widgets.IntSlider(name=z.name, start=lo, end=hi,
                                     value=int(self.state.values.get(z.name, z.value)),
                                     sizing_mode="stretch_width")
            w.param.watch(self._on_slider, "value_throttled")
            sliders[z.name] = w
        for name, p in s.params.items():
            span = p.max - p.min
            step = span / 200 if span > 0 else 0.01
            w = pn.widgets.FloatSlider(name=name, start=p.min, end=p.max, step=step,
                                       value=float(self.state.values.get(name, p.default)),
                                       sizing_mode="stretch_width", format="0[.][0000]")
            if p.description:
                w.description = p.description
            w.param.watch(self._on_slider, "value_throttled")
            sliders[name] = w
        for w in sliders.values():
            # Panel waits 50 ms for more changes before it applies a browser's change;
            # value_throttled comes once per key press or release, so that wait is
            # pure latency between a slider move and the redrawn attractor
            w._debounce = 0
        self.sliders = sliders
        note = [] if sliders else [pn.pane.Markdown(f"{s.name} has no parameters.")]
        self._column[:] = list(sliders.values()) + note

    def sync(self):
        """Show the state's values (they may come from a shared link)."""
        for name, w in self.sliders.items():
            v = self.state.values.get(name)
            if v is None:
                continue
            if isinstance(w, pn.widgets.FloatSlider) and not (w.start <= v <= w.end):
                w.start, w.end = min(w.start, v), max(w.end, v)
            if w.value != v:
                w.value = v

    def _on_slider(self, event):
        w = event.obj
        if self.sliders.get(w.name) is not w:
            # a slider of the previous system, moved before the page redrew: its
            # parameter is not the current system's
            return
        # a crafted message can carry any number: keep to the slider's range
        v = min(max(event.new, w.start), w.end)
        values = dict(self.state.values)
        values[w.name] = v
        self.state.values = values


class Equations(pn.viewable.Viewer):
    """The equations in LaTeX, with the system's description and citation."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        # long equations (a double gyre's) scroll sideways instead of being cut off
        self.latex = pn.pane.LaTeX("", styles={"font-size": "14px"},
                                   stylesheets=[":host { overflow-x: auto; max-width: 100%; }"
                                                " .katex-display { overflow-x: auto;"
                                                " overflow-y: hidden; }"],
                                   sizing_mode="stretch_width", name="equations")
        self.about = pn.pane.Markdown("", styles={"font-size": "12px"},
                                      sizing_mode="stretch_width")
        self.update()
        self.state.param.watch(lambda e: self.update(), "system_name")

    def __panel__(self):
        return pn.Column(self.latex, self.about, sizing_mode="stretch_width")

    def update(self):
        s = self.state.system
        lines = [f"&{line}" for line in s.latex]  # left-aligned, one per row
        more = len(lines) - MAX_EQUATIONS
        if more > 0:
            lines = lines[:MAX_EQUATIONS] + [f"&\\vdots \\quad \\text{{({more} more)}}"]
        self.latex.object = "$$\\begin{aligned}" + " \\\\ ".join(lines) + "\\end{aligned}$$"
        # a typed system's text is shown as typed (never markup)
        bits = [plain(s.description)] if s.description else []
        if s.citation:
            bits.append(f"*{plain(s.citation)}*")
        if self.state.is_custom:
            bits.append("*Defined in this session.*")
        self.about.object = "\n\n".join(bits)


class IntegrationControls(pn.viewable.Viewer):
    """Time step, method and backend (flows; a map's step is one iteration)."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        self.dt = pn.widgets.FloatInput(name="dt (time between samples)", value=None,
                                        start=1e-6, step=0.001, width=140)
        self.method = pn.widgets.Select.from_param(self.state.param.method, name="Method",
                                                   width=110)
        self.backend = pn.widgets.RadioButtonGroup.from_param(self.state.param.backend,
                                                              name="Backend")
        self.note = pn.pane.Markdown("", styles={"font-size": "12px"})
        self.dt.param.watch(self._on_dt, "value")
        self.update()
        self.state.param.watch(lambda e: self.update(), ["system_name", "dt"])

    def __panel__(self):
        return pn.Column(pn.Row(self.dt, self.method), self.backend, self.note,
                         sizing_mode="stretch_width")

    def update(self):
        s = self.state.system
        self.dt.disabled = self.method.disabled = s.is_map
        self.dt.placeholder = f"{s.dt:g}"
        if self.dt.value != self.state.dt:
            self.dt.value = self.state.dt
        self.note.object = ("A map steps one iteration at a time." if s.is_map else
                            f"Default dt {s.dt:g}; a characteristic period is about "
                            f"{s.period:g} time units.")

    def _on_dt(self, event):
        v = event.new
        if v is not None and v <= 0:
            return
        if v is not None and not self.state.system.is_map:
            hi = dt_range(self.state.system)[1]
            if v > hi:  # a large step costs an adaptive run up to max_steps per sample
                self.dt.value = hi
                return
        if v != self.state.dt:
            self.state.dt = v


class RunControls(pn.viewable.Viewer):
    """Play/pause, one step, reset, and the speed of the live run."""

    state = param.ClassSelector(class_=LabState)

    def __init__(self, **params):
        super().__init__(**params)
        self.play = pn.widgets.Toggle(name="▶ Play", button_type="success", width=90,
                                      value=self.state.running)
        self.step = pn.widgets.Button(name="Step", width=70)
        self.reset = pn.widgets.Button(name="Reset", width=70)
        self.speed = pn.widgets.IntSlider.from_param(self.state.param.speed,
                                                     name="Speed",
                                                     sizing_mode="stretch_width")
        self.note = pn.pane.Markdown("", styles={"font-size": "12px"})
        self.play.param.watch(self._on_play, "value")
        self.step.on_click(locked(lambda e: self.state.advance()))
        self.reset.on_click(locked(lambda e: self.state.reset()))
        self.state.param.watch(self._on_running, "running")
        self.state.param.watch(lambda e: self._update_note(), ["system_name", "speed"])
        self._update_note()

    def __panel__(self):
        return pn.Column(pn.Row(self.play, self.step, self.reset), self.speed, self.note,
                         sizing_mode="stretch_width")

    def _on_play(self, event):
        if event.new and not self.state.can_run_live:
            self.play.value = False
            self.state.error = (f"{self.state.system_name} is a delay system: its state is a "
                                "whole history, so it is shown as computed, not played live.")
            return
        if event.new and self.state.diverged:
            self.state.reset()
        self.state.running = event.new

    def _on_running(self, event):
        self.play.value = event.new
        self.play.name = "❚❚ Pause" if event.new else "▶ Play"
        self.play.button_type = "warning" if event.new else "success"

    def _update_note(self):
        st = self.state
        unit = "iterations" if st.system.is_map else "steps"
        self.note.object = f"{st.frame_steps} {unit} per frame, 25 frames a second."
