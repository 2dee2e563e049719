"""The metrics package: a leaf that says where the experiments went. The metrics
themselves are tested in test_forecast.py and test_statistics.py."""
import pytest

from chaoslab import metrics


def test_metrics_is_a_leaf_and_says_where_experiments_went():
    """forecast_divergence trains learners on systems: it left this leaf."""
    assert "forecast_divergence" not in metrics.__all__
    with pytest.raises(AttributeError, match="moved to chaoslab.experiments"):
        metrics.forecast_divergence
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        metrics.nope


def test_every_public_name_is_there_and_documented():
    for name in metrics.__all__:
        obj = getattr(metrics, name)
        assert obj.__doc__ and len(obj.__doc__.split()) > 10, name
