"""The recorded reference invariants of the catalog (``data/reference.json``).

The file is written by ``python -m chaoslab.tools.reference``, which computes each
entry's Lyapunov spectrum and Kaplan-Yorke dimension and records how (method, integration
time, step, transient, initial condition, date). This module only reads it: the catalog
merges the record of each system into its ``reference``.
"""
from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["REFERENCE_FILE", "reference_path", "load_reference"]

#: The file name of the recorded invariants, in ``chaoslab/systems/data``.
REFERENCE_FILE = "reference.json"


def reference_path() -> Path:
    """Where the recorded invariants live (in the installed package's data)."""
    return Path(str(resources.files("chaoslab.systems").joinpath("data", REFERENCE_FILE)))


def load_reference() -> dict:
    """The recorded invariants, ``{name: {...}}`` (empty if the file is missing)."""
    p = reference_path()
    if not p.exists():
        return {}
    return json.loads(p.read_text())["systems"]
