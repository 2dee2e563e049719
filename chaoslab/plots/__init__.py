"""Bokeh figure builders: arrays in, figures out. No widgets and no numerics here."""
from .attractor import (MAX_SERIES, PALETTE, THREE_D, Projection, attractor_figure,
                        label_attractor, label_timeseries, projection_columns,
                        timeseries_figure, trajectory_columns, view_axes, view_options)
from .butterfly import separation_figure
from .export import columns_csv, source_csv
from .ftle import ftle_figure, ftle_image_columns
from .lyapunov import MAX_CURVES, convergence_figure, spectrum_figure, sweep_figure
from .orbit import orbit_columns, orbit_figure
from .sweep import heatmap_figure, per_system, ranking_figure, vpt_exponent_figure
from .toolbox import (basins_figure, cobweb_figure, continuation_figure,
                      continuation_orbit_figure, density_figure,
                      early_warning_figure, fixed_points_columns, fixed_points_figure,
                      recurrence_figure)

__all__ = ["Projection", "attractor_figure", "label_attractor", "timeseries_figure",
           "label_timeseries", "trajectory_columns", "THREE_D", "view_options", "view_axes",
           "projection_columns", "separation_figure", "spectrum_figure",
           "convergence_figure", "sweep_figure", "ftle_figure", "ftle_image_columns",
           "orbit_figure", "orbit_columns", "columns_csv", "source_csv", "MAX_SERIES",
           "MAX_CURVES", "PALETTE", "vpt_exponent_figure", "ranking_figure",
           "heatmap_figure", "per_system", "cobweb_figure", "basins_figure",
           "continuation_figure", "continuation_orbit_figure", "early_warning_figure",
           "recurrence_figure",
           "density_figure", "fixed_points_columns", "fixed_points_figure"]
