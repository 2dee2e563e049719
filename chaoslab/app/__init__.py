"""The Panel app. Import ``chaoslab.app`` only where panel is installed (the ``app`` extra)."""
from .main import ChaosLab
from .state import LabState

__all__ = ["ChaosLab", "LabState"]
