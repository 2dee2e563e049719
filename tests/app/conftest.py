"""Views are tested without a browser: build them, call ``__panel__()``, read their data."""
import pytest

pytest.importorskip("panel")


@pytest.fixture
def lab():
    from chaoslab.app.main import ChaosLab

    return ChaosLab()
