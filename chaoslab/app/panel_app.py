"""Entry point for ``panel serve chaoslab/app/panel_app.py`` (Binder's server proxy too)."""
from chaoslab.app.serve import create_app

create_app().servable()
