"""JupyterLab in headless Chromium, set up as Binder sets it up.

The server is started through ``binder/start`` (which exports ``PANEL_INLINE=1``) with a
temporary Jupyter config, runtime, settings and workspace directory; its only config is the
project's own server-proxy entry (``binder/proxy_config.py``). A small notebook that shows
``ChaosLab()`` is opened and run in the JupyterLab UI, and the app must render: BokehJS
holds the simulated trajectory and draws a canvas, every script and style comes from the
local server (nothing from a CDN, which a closed network or Binder may block), and no cell
fails. The same server then
serves the app at ``/panel/chaoslab``, the path Binder's ``?urlpath=panel/chaoslab`` opens.
"""
import importlib.util
import json
import os
import runpy
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import _free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "chaoslab-lab-test"

CELLS = [
    "import panel as pn\npn.extension()\nprint('inline resources:', pn.config.inline)",
    "from chaoslab.app import ChaosLab\nlab = ChaosLab()\nlab",
]

# BokehJS holds a data source with the simulated trajectory (any figure of the app)
APP_DRAWN = """() => {
    if (!window.Bokeh) return false;
    for (const doc of window.Bokeh.documents)
        for (const m of doc.all_models)
            if (typeof m.get_length === 'function' && (m.get_length() || 0) > 100) return true;
    return false;
}"""
# ... or a cell failed: stop waiting
DRAWN_OR_FAILED = """() => (%s)() || Array.from(document.querySelectorAll('.jp-OutputArea-output'))
    .some(e => e.innerText.includes('Traceback'))""" % APP_DRAWN


def _notebook(cells):
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}",
                       "metadata": {}, "outputs": [], "source": src}
                      for i, src in enumerate(cells)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                        "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("jupyterlab is not installed (the notebook extra)")
    tmp = tmp_path_factory.mktemp("lab")
    (tmp / "notebooks").mkdir()
    (tmp / "notebooks" / "app.ipynb").write_text(json.dumps(_notebook(CELLS)))
    config = tmp / "config"
    proxy = runpy.run_path(str(ROOT / "binder" / "proxy_config.py"))
    proxy["write"](config / "jupyter_server_config.json")
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config),
           "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), "JUPYTER_PLATFORM_DIRS": "1"}
    env.pop("PANEL_INLINE", None)  # binder/start must set it
    cmd = ["bash", str(ROOT / "binder" / "start"), sys.executable, "-m", "jupyterlab",
           "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={tmp / 'notebooks'}",
           f"--LabApp.user_settings_dir={tmp / 'settings'}",
           f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
           "--LabApp.expose_app_in_browser=True",   # window.jupyterapp, to run the cells
           "--LabApp.extension_manager=readonly",   # no PyPI queries
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = tmp / "jupyterlab.log"   # a file, not a pipe nobody reads: it could fill up
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError("jupyter lab exited:\n" + log.read_text()[-3000:])
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if time.time() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                raise RuntimeError("jupyter lab did not answer within 60 s")
            time.sleep(0.3)
    yield base
    os.killpg(proc.pid, signal.SIGTERM)  # the server, its kernels and proxied servers
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _watch(page, base):
    """Collect page errors and every request that leaves the local server."""
    seen = {"errors": [], "external": []}
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["external"].append(r.url)
            if r.url.startswith(("http:", "https:", "ws:", "wss:"))
            and not r.url.startswith(base) else None)
    return seen


def test_notebook_renders_the_app_inline(page, jupyterlab):
    seen = _watch(page, jupyterlab)
    page.goto(f"{jupyterlab}/lab/tree/app.ipynb?token={TOKEN}")
    page.wait_for_function(
        """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                   return !!(w && w.sessionContext && w.content && w.content.widgets
                             && w.content.widgets.length === 2); }""", timeout=60_000)
    page.evaluate(
        """async () => {
            const app = window.jupyterapp;
            const w = app.shell.currentWidget;
            await w.context.ready;
            await w.sessionContext.ready;
            await app.commands.execute('notebook:run-all-cells');
        }""")
    deadline = time.time() + 90
    while not page.evaluate(DRAWN_OR_FAILED):
        # a request to a CDN means the notebook did not get inline resources: it will
        # never render offline, so stop waiting
        assert not seen["external"], f"requests left the server: {seen['external'][:5]}"
        assert time.time() < deadline, "the app did not render within 90 s"
        page.wait_for_timeout(500)
    text = page.locator(".jp-OutputArea-output").all_inner_texts()
    assert not any("Traceback" in t for t in text), "\n".join(text)[-3000:]
    assert any("inline resources: True" in t for t in text), text
    assert page.evaluate(APP_DRAWN)
    assert page.locator(".jp-OutputArea-output canvas").count() >= 1
    assert not seen["external"], f"requests left the server: {seen['external'][:5]}"
    assert not seen["errors"], seen["errors"]


def test_server_proxy_serves_the_app(page, jupyterlab):
    """Binder's ``?urlpath=panel/chaoslab``: the Jupyter server starts and proxies the app."""
    if importlib.util.find_spec("jupyter_server_proxy") is None:
        pytest.skip("jupyter-server-proxy is not installed (Binder's environment.yml has it)")
    seen = _watch(page, jupyterlab)
    page.goto(f"{jupyterlab}/panel/chaoslab?token={TOKEN}", timeout=120_000)
    page.wait_for_function(APP_DRAWN, timeout=90_000)
    assert page.locator("canvas").count() >= 1
    assert "chaoslab" in page.title()
    assert not seen["external"], seen["external"][:5]
    assert not seen["errors"], seen["errors"]
