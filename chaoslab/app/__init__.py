"""The Panel app. Import ``chaoslab.app`` only where panel is installed (the ``app`` extra).

``ChaosLab()`` displays in a notebook (``.show()`` opens it in a browser tab);
``chaoslab serve`` serves it. ``LabState`` (the domain state) needs only ``param``, so the
ipywidgets explorer (:mod:`chaoslab.widgets`) uses it without loading panel.
"""
from importlib import import_module

__all__ = ["ChaosLab", "LabState"]

_LAZY = {"ChaosLab": ".main", "LabState": ".state"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'chaoslab.app' has no attribute {name!r}")
