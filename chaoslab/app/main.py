"""The chaoslab app: a sidebar of controls (the state) and one tab per question."""
from __future__ import annotations

import panel as pn

from .. import systems
from .controls import Equations, IntegrationControls, ParameterControls, RunControls, \
    SystemPicker
from .editor import SystemEditor
from .jobs import JobRunner, locked, ui_dispatcher
from .limits import MAX_JOBS, MAX_PROBLEMS
from .state import LabState
from .tabs import tab_specs
from .text import plain
from .urlstate import apply_query, parse_query, query_string, state_query
from .warm import compile_elsewhere, prepare

__all__ = ["ChaosLab"]

#: Live run frame period in milliseconds (25 frames a second).
FRAME_MS = 40


class ChaosLab(pn.viewable.Viewer):
    """The whole app: ``ChaosLab()`` in a notebook, or served by ``chaoslab serve``.

    Parameters
    ----------
    system : str
        The system shown first.
    query : str or dict, optional
        A shared link's query (``"?system=Rossler&a=0.3"``) to restore. When served, the
        page's own URL is read, and kept up to date as the state changes.
    """

    def __init__(self, system: str = "Lorenz", query=None, **params):
        super().__init__(**params)
        self.state = LabState(system_name=systems.get(system).name)
        self.jobs = JobRunner(max_running=MAX_JOBS)
        self.definitions: dict = {}  # user-typed systems -> the editor fields (for links)
        self.picker = SystemPicker(state=self.state)
        self.parameters = ParameterControls(state=self.state)
        self.equations = Equations(state=self.state)
        self.integration = IntegrationControls(state=self.state)
        self.run = RunControls(state=self.state)
        self.editor = SystemEditor(state=self.state)
        self.error = pn.pane.Alert("", alert_type="warning", visible=False,
                                   sizing_mode="stretch_width", name="state-error")
        self.notice = pn.pane.Alert("", alert_type="info", visible=False,
                                    sizing_mode="stretch_width", name="state-notice")
        self.views: dict = {}
        self.slugs: list = []
        self._factories: dict = {}
        self._holders: dict = {}
        for slug, title, factory in tab_specs():
            self.slugs.append(slug)
            self._factories[slug] = factory
            # a tab's view is built the first time it is shown (a session starts faster)
            self._holders[slug] = pn.Column(sizing_mode="stretch_width", name=title)
        self.explore = self.view("explore")
        self.tabs = pn.Tabs(*self._holders.values(), dynamic=True,
                            sizing_mode="stretch_width", name="main-tabs")
        self.tabs.param.watch(self._on_tab, "active")
        self.share = pn.widgets.Button(name="Share link", button_type="light", width=110)
        self.share.js_on_click(args={"btn": self.share}, code=_COPY_LINK)
        self._callback = None
        self._served = bool(pn.state.curdoc and pn.state.curdoc.session_context)
        self._url_pending = False
        self._later = ui_dispatcher(delay_ms=300)
        self.state.param.watch(self._on_running, "running")
        self.state.param.watch(self._show_error, "error")
        self.state.param.watch(self._show_preparing, "preparing")
        self.editor.button.on_click(locked(self._remember_definition))
        self._show_error()
        if self._served:
            # numba compiles holding one lock for the whole process: the event loop
            # simulates only compiled systems, others are prepared in a job first
            self.state.defer = self._prepare
            # the tab closed: its live run and its jobs stop (a compile's child process
            # is killed); the session itself is dropped by the server later
            from bokeh.events import ConnectionLost

            pn.state.curdoc.on_event(ConnectionLost, lambda event: self.close())
            pn.state.on_session_destroyed(lambda ctx: self.close())
            if query is None:
                query = pn.state.session_args
        self.problems = apply_query(self, parse_query(query)) if query else []
        if self.problems:
            shown = self.problems[:MAX_PROBLEMS]
            more = len(self.problems) - len(shown)
            self.state.error = "Shared link: " + "; ".join(shown) + (
                f"; and {more} more problems" if more > 0 else "")
        self.state.param.watch(self._sync_url, ["system_name", "values", "dt", "method",
                                                "backend"])
        self.explore.param.watch(self._sync_url, ["view", "azimuth", "elevation"])
        self.tabs.param.watch(self._sync_url, "active")

    # ---------------------------------------------------------------- layout
    def sidebar(self) -> list:
        card = dict(sizing_mode="stretch_width", margin=(5, 0))
        return [
            self.picker,
            pn.Card(self.parameters, self.equations, title="Parameters and equations",
                    **card),
            pn.Card(self.run, title="Live run", **card),
            pn.Card(self.integration, title="Integration", collapsed=True, **card),
            pn.Card(self.editor, title="Define a system", collapsed=True, **card),
            self.notice,
            self.error,
        ]

    def __panel__(self):
        side = pn.Column(*self.sidebar(), self.share, width=340)
        return pn.Row(side, self.tabs, sizing_mode="stretch_width")

    def template(self):
        """The app in a page template, as served."""
        tpl = pn.template.BootstrapTemplate(
            title="chaoslab", sidebar=self.sidebar(), main=[self.tabs],
            header=[pn.Row(pn.layout.HSpacer(), self.share, sizing_mode="stretch_width")],
            header_background="#1f4e79", sidebar_width=360)
        return tpl

    # ------------------------------------------------------------------ tabs
    def select_tab(self, slug: str) -> bool:
        if slug not in self.slugs:
            return False
        self.tabs.active = self.slugs.index(slug)
        self._activate()
        return True

    @property
    def tab(self) -> str:
        return self.slugs[self.tabs.active]

    def _on_tab(self, event):
        self._activate()

    def view(self, slug: str):
        """The view of a tab (built on first use)."""
        if slug not in self.views:
            view = self._factories[slug](state=self.state, jobs=self.jobs)
            self.views[slug] = view
            self._holders[slug][:] = [view]
        return self.views[slug]

    def _activate(self):
        for i, slug in enumerate(self.slugs):
            if i == self.tabs.active:
                view = self.view(slug)
            else:
                view = self.views.get(slug)
            if hasattr(view, "activate"):
                view.activate(i == self.tabs.active)

    # -------------------------------------------------------------- live run
    def _on_running(self, event):
        if event.new:
            self._start()
        else:
            self._stop()

    def _start(self):
        if self._callback is None:
            from panel.io.callbacks import PeriodicCallback

            # background: no busy-indicator events (two more messages) on every frame
            self._callback = PeriodicCallback(callback=self.tick, period=FRAME_MS,
                                              background=True, log=False)
        if not self._callback.running:
            self._callback.start()

    def close(self):
        """Stop everything this session started: the live run and every job."""
        self._stop()
        self.state.running = False
        self.jobs.cancel_all()

    def _stop(self):
        if self._callback is not None and self._callback.running:
            self._callback.stop()

    def tick(self):
        """One frame of the live run (its changes reach the page as one message)."""
        if self.state.running:
            with pn.io.hold():
                self.state.advance()

    # ----------------------------------------------------------------- state
    def _show_error(self, event=None):
        msg = self.state.error
        # the message may quote a shared link's values or a typed system: literal text
        self.error.object = plain(msg) if msg else ""
        self.error.visible = bool(msg)

    def _prepare(self, system, method, backend, done, failed):
        """Compile ``system``'s kernels in a child process, load them in a job, then
        ``done()`` on the UI thread (see :mod:`chaoslab.app.warm`)."""
        def work(job):
            compile_elsewhere(system, method, backend, cancelled=lambda: job.cancelled)
            job.check()
            prepare(system, method, backend)

        self.jobs.submit("kernels", work, lambda result: done(), on_error=failed,
                         pool="light")

    def _show_preparing(self, event=None):
        if self.state.preparing:
            s = self.state.current()
            self.notice.object = plain(
                f"Preparing {s.name} ({s.dim} variables): compiling its kernels, once per "
                "system on this server. The picture follows in a moment.")
        self.notice.visible = self.state.preparing

    def _remember_definition(self, event=None):
        if self.state.is_custom:
            self.definitions[self.state.system_name] = self.editor.fields()

    def query(self) -> dict:
        """The shared link's query parameters for what is on screen."""
        definition = self.definitions.get(self.state.system_name) if self.state.is_custom \
            else None
        return state_query(self.state, tab=self.tab, view=self.explore.url_view(),
                           definition=definition)

    def _sync_url(self, *events):
        """Keep the page's URL (the shared link) in step, shortly after changes settle."""
        if not self._served or pn.state.location is None or self._url_pending:
            return
        self._url_pending = True
        self._later(self._write_url)

    def _write_url(self):
        self._url_pending = False
        search = query_string(self.query())
        if pn.state.location is not None and pn.state.location.search != search:
            pn.state.location.search = search


_COPY_LINK = """
const url = window.location.href;
const done = () => { btn.label = "Link copied"; setTimeout(() => { btn.label = "Share link" }, 2000) };
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(url).then(done, () => window.prompt("Copy this link:", url));
} else {
  window.prompt("Copy this link:", url);
}
"""
