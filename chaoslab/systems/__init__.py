"""Dynamical systems as data: the catalog, user-defined systems, and their derived forms.

>>> import chaoslab as cl
>>> s = cl.systems.get("Lorenz")
>>> s.rhs([1.0, 1.0, 1.0])
array([ 0.        , 26.        , -1.66666667])
"""
from .catalog import UnknownSystemError, define, entries, get, names, search
from .expressions import EquationError
from .system import Param, System

__all__ = ["names", "get", "define", "entries", "search", "System", "Param",
           "EquationError", "UnknownSystemError"]
