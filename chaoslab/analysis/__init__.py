"""Measures of chaos: Lyapunov spectra, FTLE fields, orbit diagrams, sections, dimensions."""
from .ftle import default_grid, ftle_field, ftle_ridges
from .orbits import (correlation_dimension, correlation_sum, local_maxima, orbit_diagram,
                     poincare_section, power_spectrum, section_crossings)
from .lyapunov import (LyapunovResult, kaplan_yorke_dimension, lyapunov_run_length,
                       lyapunov_spectrum, tangent_map)
from .exponent import at_reference_parameters, largest_lyapunov_exponent
from .chaos01 import Chaos01Result, chaos_test_01
from .stationary import FixedPoint, FlowOrbit, PeriodicOrbit, fixed_points, periodic_orbits
from .alignment import GaliResult, gali
from .basins import (AttractorSet, BasinsResult, basin_entropy, basin_fractions,
                     basins_of_attraction, clock_variables, default_box, find_attractors)
from .bifurcation import ContinuationResult, DoublingResult, continuation, period_doublings
from .tipping import EarlyWarningResult, early_warning, ramp_run, rolling_indicators
from .growth import ExpansionEntropyResult, expansion_entropy, local_growth_rates
from .maps import Cobweb, Density, cobweb, map_density
from .recurrence import RQAResult, delay_embed, recurrence_plot, recurrence_threshold, rqa

__all__ = ["orbit_diagram", "poincare_section", "section_crossings", "local_maxima",
           "correlation_dimension", "correlation_sum", "power_spectrum", "ftle_field",
           "ftle_ridges", "default_grid", "lyapunov_spectrum", "lyapunov_run_length",
           "LyapunovResult", "kaplan_yorke_dimension", "tangent_map",
           "largest_lyapunov_exponent", "at_reference_parameters",
           "chaos_test_01", "Chaos01Result", "fixed_points", "periodic_orbits", "FixedPoint",
           "PeriodicOrbit", "gali", "GaliResult", "rqa", "RQAResult", "recurrence_plot",
           "recurrence_threshold", "delay_embed", "basins_of_attraction", "basin_fractions",
           "basin_entropy", "find_attractors", "AttractorSet", "BasinsResult", "continuation",
           "ContinuationResult", "period_doublings", "DoublingResult", "early_warning",
           "EarlyWarningResult", "ramp_run", "rolling_indicators", "local_growth_rates",
           "expansion_entropy", "ExpansionEntropyResult", "FlowOrbit", "cobweb", "Cobweb",
           "map_density", "Density", "clock_variables", "default_box"]
