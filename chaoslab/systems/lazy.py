"""sympy, loaded on first use.

``import chaoslab`` and a simulation of a system whose tapes are in chaoslab's cache
(see :mod:`chaoslab.systems.tapecache`) never need sympy, whose import alone takes
about 0.4 s. The modules that build expressions refer to it as ``sp`` from here: the
first attribute looked up imports it.
"""
from __future__ import annotations

__all__ = ["sp"]


class _LazySympy:
    """Stands for the ``sympy`` module; imports it on the first attribute lookup."""

    __slots__ = ()

    def __getattr__(self, name):
        import sympy

        return getattr(sympy, name)

    def __repr__(self) -> str:
        return "<sympy, imported on first use>"


sp = _LazySympy()
