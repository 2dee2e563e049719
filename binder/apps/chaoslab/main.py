"""The chaoslab app as a Bokeh *directory* app, for Binder's server proxy.

``panel serve binder/apps/chaoslab`` serves it at ``/chaoslab``: a directory app is routed
by its folder's name. (A script must not be called ``chaoslab.py``: Bokeh puts the
script's folder first on ``sys.path``, so ``import chaoslab`` would import the script
instead of the package. Here the folder on ``sys.path`` holds only this ``main.py``.)
"""
from chaoslab.app.serve import create_app

create_app().servable()
