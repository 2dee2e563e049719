"""Serve the app with a Panel (Bokeh) server."""
from __future__ import annotations

import panel as pn


def create_app():
    """One app per browser session (each session has its own state and live run)."""
    from .main import ChaosLab

    return ChaosLab().template()


def _warm_up():
    """Load numba and the default system's kernels before the first visitor arrives."""
    try:
        from ..integrate import simulate
        from ..systems import get

        simulate(get("Lorenz"), 10)
    except Exception:  # a cold start is slower, not broken
        pass


def serve(port: int = 5006, address: str = "127.0.0.1", show: bool = False,
          allow_websocket_origin=None, num_threads=None):
    """Serve at ``http://ADDRESS:PORT/chaoslab`` until interrupted."""
    origin = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    origin += list(allow_websocket_origin or [])
    _warm_up()
    print(f"chaoslab is served at http://{address}:{port}/chaoslab", flush=True)
    pn.serve({"chaoslab": create_app}, port=port, address=address, show=show,
             websocket_origin=origin, title="chaoslab", threaded=False,
             num_threads=num_threads)
