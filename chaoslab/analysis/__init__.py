"""Measures of chaos: Lyapunov spectra, FTLE fields, orbit diagrams, sections, dimensions."""
from .ftle import default_grid, ftle_field, ftle_ridges
from .orbits import (correlation_dimension, correlation_sum, local_maxima, orbit_diagram,
                     poincare_section, power_spectrum, section_crossings)
from .lyapunov import LyapunovResult, kaplan_yorke_dimension, lyapunov_spectrum, tangent_map

__all__ = ["orbit_diagram", "poincare_section", "section_crossings", "local_maxima",
           "correlation_dimension", "correlation_sum", "power_spectrum", "ftle_field", "ftle_ridges", "default_grid", "lyapunov_spectrum", "LyapunovResult", "kaplan_yorke_dimension", "tangent_map"]
