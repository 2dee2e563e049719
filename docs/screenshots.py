"""Screenshots of the served app for the README: ``python docs/screenshots.py``.

Starts ``chaoslab serve`` on a free port, drives it in headless Chromium (the system's
``chromium``, or ``$CHAOSLAB_CHROMIUM``) and writes ``docs/app.png`` (Explore, live) and
one picture per tab: ``docs/app_lyapunov.png``, ``docs/app_ftle.png``,
``docs/app_orbit.png``, ``docs/app_learners.png`` (the default learners trained on Lorenz),
plus ``docs/app_define.png`` (a typed system).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

_FILLED = """([name, col, n]) => {
    const d = window.Bokeh && window.Bokeh.documents[0];
    const s = d && d.get_model_by_name(name);
    if (!s) return false;
    const c = s.data.get ? s.data.get(col) : s.data[col];
    return c != null && c.length >= n;
}"""


def _serve():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "chaoslab.cli", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/chaoslab"
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=5)
            return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("chaoslab serve did not answer")


def _wait(page, name, col, n=1, timeout=120_000):
    page.wait_for_function(_FILLED, arg=[name, col, n], timeout=timeout)


def _tab(page, title):
    page.locator(".bk-tab", has_text=title).first.click()


def main():
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHAOSLAB_CHROMIUM") or shutil.which("chromium") or \
        "/usr/bin/chromium"
    proc, url = _serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=ARGS)

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            _wait(page, "attractor-path", "x", 1000)
            page.get_by_role("button", name="▶ Play").click()
            page.wait_for_timeout(3000)
            page.get_by_role("button", name="❚❚ Pause").click()
            page.wait_for_timeout(800)
            page.screenshot(path=str(DOCS / "app.png"))

            page = browser.new_page(viewport={"width": 1400, "height": 1450})
            page.goto(url + "?tab=lyapunov")
            _wait(page, "lyapunov-spectrum", "value", 3)
            _wait(page, "lyapunov-sweep", "p", 10)
            page.wait_for_timeout(800)
            page.screenshot(path=str(DOCS / "app_lyapunov.png"))

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "?system=DoubleGyre&tab=ftle")
            _wait(page, "ftle-image", "image", 1)
            page.wait_for_timeout(500)
            page.mouse.click(*_center(page, "ftle", 0.3, 0.6))
            _wait(page, "ftle-seeds", "x0", 9)
            page.wait_for_timeout(800)
            page.screenshot(path=str(DOCS / "app_ftle.png"))

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url + "?system=Logistic&tab=orbit")
            _wait(page, "orbit-data", "p", 1000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(DOCS / "app_orbit.png"))

            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url + "?tab=learners")
            page.get_by_role("button", name="Train and compare").wait_for(timeout=60_000)
            page.get_by_role("button", name="Train and compare").click()
            _wait(page, "learners-vpt", "vpt", 4, timeout=300_000)
            page.get_by_text("tracks the truth longest", exact=False).first.wait_for(
                timeout=60_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(DOCS / "app_learners.png"))

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            _wait(page, "attractor-path", "x", 1000)
            page.get_by_text("Parameters and equations").click()
            page.get_by_text("Live run").click()
            page.get_by_text("Define a system").click()
            page.get_by_role("button", name="Define and run").click()
            page.get_by_text("defined (flow").wait_for(timeout=60_000)
            page.get_by_text("(estimated)").wait_for(timeout=60_000)  # its lambda_1
            page.wait_for_timeout(1500)
            page.screenshot(path=str(DOCS / "app_define.png"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
    print("wrote", ", ".join(f"docs/{n}" for n in ("app.png", "app_lyapunov.png",
                                                  "app_ftle.png", "app_orbit.png",
                                                  "app_learners.png", "app_define.png")))


def _center(page, name, fx=0.5, fy=0.5):
    return page.evaluate("""([name, fx, fy]) => {
        const m = window.Bokeh.documents[0].get_model_by_name(name);
        for (const r of window.Bokeh.index.roots) {
            const v = r.owner.find_one(m);
            if (v == null) continue;
            const box = v.el.getBoundingClientRect(), f = v.frame.bbox;
            return [box.left + f.x0 + fx * (f.x1 - f.x0), box.top + f.y0 + fy * (f.y1 - f.y0)];
        }
        return null; }""", [name, fx, fy])


if __name__ == "__main__":
    main()
