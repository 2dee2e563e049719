"""The app's tabs, listed in one place.

Each entry is ``(slug, title, factory)``; the app calls ``factory(state=..., jobs=...)``
with the shared :class:`~chaoslab.app.state.LabState` and
:class:`~chaoslab.app.jobs.JobRunner`, and shows the result (a ``pn.viewable.Viewer``) in
a tab. The slug names the tab in shared links (``?tab=ftle``). A view with an
``activate(active: bool)`` method is told when its tab is shown or hidden, so heavy work
runs only for the tab on screen (see :class:`~chaoslab.app.busy.LazyView`).

The Learners tab ("can a machine learn it?") goes last: add
``("learners", "Learners", LearnersView)`` to :func:`tab_specs`.
"""
from __future__ import annotations

__all__ = ["tab_specs"]


def tab_specs() -> list:
    """``[(slug, title, factory), ...]`` in display order."""
    from .beyond_view import BeyondView
    from .explore_view import ExploreView
    from .ftle_view import FTLEView
    from .learners_view import LearnersView
    from .lyapunov_view import LyapunovView
    from .orbit_view import OrbitView

    return [
        ("explore", "Explore", ExploreView),            # what does it look like?
        ("lyapunov", "Lyapunov", LyapunovView),         # how chaotic is it?
        ("ftle", "FTLE", FTLEView),                     # where does stuff go?
        ("orbit", "Orbit diagram", OrbitView),          # when does it become chaotic?
        ("beyond", "Beyond Lyapunov", BeyondView),      # what holds it together?
        ("learners", "Learners", LearnersView),         # can a machine learn it?
    ]
