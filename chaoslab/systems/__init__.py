"""Dynamical systems as data: the catalog, user-defined systems, and their derived forms.

>>> import chaoslab as cl
>>> s = cl.systems.get("Lorenz")
>>> s.rhs([1.0, 1.0, 1.0])
array([ 0.        , 26.        , -1.66666667])
"""
from .catalog import (UnknownSystemError, as_system, define, entries, get, names, raw_entries,
                      search)
from .definition import define_from_text, parse_definition
from .expressions import EquationError
from .invariants import load_reference
from .system import Metadata, Param, System

__all__ = ["names", "get", "as_system", "define", "entries", "search", "raw_entries", "parse_definition",
           "define_from_text", "load_reference", "System", "Param", "Metadata",
           "EquationError", "UnknownSystemError"]
