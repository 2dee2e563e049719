"""A real ``chaoslab serve`` and headless Chromium for the browser tests."""
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
#: A host name the test server is told to answer to (``--allow-host``); any other name
#: must get 403.
ALLOWED_NAME = "lab.chaoslab.test"
CHROMIUM = os.environ.get("CHAOSLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip("no Chromium found (make test installs it with apt)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


class Served(str):
    """The app's URL, with the server's process id and port."""

    def __new__(cls, url, pid, port):
        self = super().__new__(cls, url)
        self.pid, self.port = pid, port
        return self


@pytest.fixture(scope="session")
def server_log(tmp_path_factory):
    """The file the test server writes its output to."""
    return tmp_path_factory.mktemp("serve") / "serve.log"


@contextlib.contextmanager
def serve(log_path, *args, env=None):
    """``chaoslab serve`` on a free port with more ``args``; yields a :class:`Served`."""
    port = _free_port()
    log = open(log_path, "w")  # a file, not a pipe: a full pipe would stall the server
    proc = subprocess.Popen([sys.executable, "-m", "chaoslab.cli", "serve", "--port", str(port),
                             *args], stdout=log, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}/chaoslab"
    deadline = time.time() + 180
    try:
        while time.time() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("chaoslab serve exited:\n" + open(log_path).read())
            try:
                urllib.request.urlopen(url, timeout=60)  # a page build can take seconds
                break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("chaoslab serve did not answer within 180 s")
        yield Served(url, proc.pid, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server(server_log):
    with serve(server_log, "--allow-host", ALLOWED_NAME) as served:
        yield served
