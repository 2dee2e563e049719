"""Serve the app with a Panel (Bokeh) server."""
from __future__ import annotations

import panel as pn


def create_app():
    from .main import ChaosLab

    return ChaosLab().template()


def serve(port: int = 5006, address: str = "127.0.0.1", show: bool = False):
    """Serve at ``http://ADDRESS:PORT/chaoslab`` until interrupted."""
    origin = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    print(f"chaoslab is served at http://{address}:{port}/chaoslab", flush=True)
    pn.serve({"chaoslab": create_app}, port=port, address=address, show=show,
             websocket_origin=origin, title="chaoslab", threaded=False)
