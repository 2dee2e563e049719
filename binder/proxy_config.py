"""Register the chaoslab app with jupyter-server-proxy (run by ``binder/postBuild``).

Adds a jupyter-server-proxy server process named ``panel`` to
``<sys.prefix>/etc/jupyter/jupyter_server_config.json`` (the environment's own Jupyter
config; other settings in that file are kept; a ``jupyter_server_config.d`` folder would not
do: the server reads only extension switches from it). When a browser asks the Jupyter server
for ``<base_url>panel/chaoslab`` (Binder's ``?urlpath=panel/chaoslab``), the proxy starts

    python -P -m panel serve binder/apps/chaoslab --port {port} --prefix {base_url}panel ...

on a free local port, waits until it answers, and forwards the request and the app's
websocket to it. ``absolute_url`` makes the proxy pass the full path on, so the Bokeh
server, told the same ``--prefix``, writes URLs for its scripts and websocket that point
back through the proxy.

``python proxy_config.py [FILE]`` writes to FILE instead (e.g. a test's own
``$JUPYTER_CONFIG_DIR/jupyter_server_config.json``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent / "apps" / "chaoslab"
SERVER_NAME = "panel"  # the first path segment: <base_url>panel/chaoslab


def panel_command(python: str | None = None, app_dir: Path = APP_DIR) -> list:
    """The command the proxy runs; ``{port}`` and ``{base_url}`` are filled in by it."""
    python = python or sys.executable
    # -P (Python >= 3.11): keep the proxy's working directory off sys.path, so no folder
    # there can shadow the chaoslab package
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return [python, *safe_path, "-m", "panel", "serve", str(app_dir),
            "--port", "{port}", "--address", "127.0.0.1",
            "--prefix", "{base_url}" + SERVER_NAME,
            # the browser's Origin is Binder's public host, unknown here; the server listens
            # on 127.0.0.1 only and is reached through the authenticated Jupyter server
            "--allow-websocket-origin", "*"]


def server_proxy_config(python: str | None = None, app_dir: Path = APP_DIR) -> dict:
    """The traitlets configuration (``ServerProxy.servers``) as a JSON-able dict."""
    return {"ServerProxy": {"servers": {SERVER_NAME: {
        "command": panel_command(python, app_dir),
        "absolute_url": True,
        "timeout": 120,  # the first start imports numba and loads the cached kernels
        "launcher_entry": {"title": "chaoslab app", "path_info": f"{SERVER_NAME}/chaoslab"},
    }}}}


def default_path() -> Path:
    return Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.json"


def write(path: Path) -> dict:
    """Add the ``panel`` server to the JSON config at ``path``, keeping what else it holds."""
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {}
    servers = data.setdefault("ServerProxy", {}).setdefault("servers", {})
    servers.update(server_proxy_config()["ServerProxy"]["servers"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n")
    return data


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else default_path()
    write(path)
    print(f"jupyter-server-proxy: the chaoslab app is served at <base_url>{SERVER_NAME}/chaoslab"
          f" ({path})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
