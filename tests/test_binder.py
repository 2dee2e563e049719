"""Binder's set-up (binder/postBuild, start, the server-proxy entry) run as far as it can here.

There is no Docker engine to run repo2docker, so the build is imitated: a fresh venv
stands in for Binder's conda environment, layered over the environment running the tests
(a ``.pth`` file puts that environment's site-packages behind the venv's own), so the
dependencies that environment.yml would install are there without a download. postBuild
then runs in it as repo2docker runs it, with the venv's ``python`` first on ``PATH``, and
must install chaoslab into the venv and write the jupyter-server-proxy entry into the
venv's own Jupyter config. The proxied command is then started as the proxy would start
it, and, where jupyter-server-proxy is installed, a real Jupyter server is asked for
``<base_url>panel/chaoslab`` as Binder's ``?urlpath=panel/chaoslab`` asks it.
"""
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
BASE_URL = "/user/binder-test/"  # what a Binder user's server is mounted under
TOKEN = "binder-test-token"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url, proc, seconds, headers=None):
    """GET ``url`` until it answers 200; return the body. Fails if ``proc`` exits."""
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[:6]} exited with {proc.returncode}:\n"
                        f"{Path(proc.log).read_text()[-3000:]}")
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=30) as r:
                if r.status == 200:
                    return r.read().decode()
        except (OSError, urllib.error.HTTPError) as exc:  # not up yet, or proxy starting
            last = exc
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer 200 within {seconds} s (last: {last})")


def _start(cmd, log, **kw):
    """Popen with output to a file (a pipe nobody reads could fill up and block it), in a
    new session so that _stop can end it with its children."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, **kw)
    proc.log = log
    return proc


def _stop(proc):
    """End a process started with start_new_session=True, and its children (its group)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    try:  # children the leader left behind (a proxied panel server)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _assert_bokeh_app_page(body):
    assert "<title>chaoslab</title>" in body
    # the document is a Bokeh server page: BokehJS from the server's own static path (no
    # CDN) and the session's websocket endpoint under the same prefix
    assert "static/js/bokeh" in body and "cdn." not in body
    assert "Bokeh" in body


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A venv built by binder/postBuild; returns (python, prefix, postBuild output)."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is needed to install chaoslab without a download")
    tmp = tmp_path_factory.mktemp("binder")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    base = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site.stdout.strip(), "_binder_test_base.pth").write_text("\n".join(sorted(base)) + "\n")
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VIRTUAL_ENV": str(venv),
           "CHAOSLAB_WARM": "Lorenz",          # compile one system's kernels, not 163
           "PIP_NO_INDEX": "1",                # offline: everything is already here
           "PIP_NO_BUILD_ISOLATION": "0",      # (pip's spelling of --no-build-isolation)
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    r = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=tmp, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return py, venv, r.stdout


def _proxy_entry(prefix):
    cfg = json.loads((prefix / "etc" / "jupyter" / "jupyter_server_config.json").read_text())
    return cfg["ServerProxy"]["servers"]["panel"]


def test_postbuild_installs_chaoslab_and_registers_the_app(binder_env):
    py, venv, out = binder_env
    assert "kernels compiled for 1 systems" in out
    # chaoslab is installed in the venv itself (its own metadata), from this repository
    assert list((venv / "lib").glob("python*/site-packages/chaoslab-*.dist-info"))
    where = subprocess.run([str(py), "-c", "import chaoslab; print(chaoslab.__file__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == ROOT / "chaoslab" / "__init__.py"
    entry = _proxy_entry(venv)
    assert entry["absolute_url"] is True
    cmd = entry["command"]
    assert cmd[0] == str(py)  # the environment's own interpreter: no PATH lookup
    assert "{port}" in cmd and "{base_url}panel" in cmd
    assert entry["launcher_entry"]["path_info"] == "panel/chaoslab"
    app_dir = Path(cmd[cmd.index("serve") + 1])
    assert app_dir.name == "chaoslab" and (app_dir / "main.py").is_file()


def test_proxied_command_serves_the_app(binder_env):
    """Start the entry's command as jupyter-server-proxy would, then GET the app."""
    py, venv, _ = binder_env
    port = _free_port()
    cmd = [a.replace("{port}", str(port)).replace("{base_url}", BASE_URL)
           for a in _proxy_entry(venv)["command"]]
    proc = _start(cmd, venv.parent / "panel.log", cwd=ROOT)
    try:
        body = _wait_for(f"http://127.0.0.1:{port}{BASE_URL}panel/chaoslab", proc, 60)
    finally:
        _stop(proc)
    _assert_bokeh_app_page(body)


def test_jupyter_server_proxies_the_app(binder_env, tmp_path):
    """A Jupyter server in the venv answers ``<base_url>panel/chaoslab`` with the app."""
    for mod in ("jupyter_server", "jupyter_server_proxy"):
        if importlib.util.find_spec(mod) is None:
            pytest.skip(f"{mod} is not installed (Binder's environment.yml installs it)")
    py, venv, _ = binder_env
    port = _free_port()
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),   # no user config
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           # the layered environment's extension switches (on Binder: the same prefix)
           "JUPYTER_CONFIG_PATH": str(Path(sys.prefix) / "etc" / "jupyter"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    cmd = [str(py), "-m", "jupyter_server", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.base_url={BASE_URL}",
           f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={ROOT}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = _start(cmd, tmp_path / "jupyter_server.log", cwd=ROOT, env=env)
    try:
        body = _wait_for(f"http://127.0.0.1:{port}{BASE_URL}panel/chaoslab", proc, 90,
                         headers={"Authorization": f"token {TOKEN}"})
    finally:
        _stop(proc)
    _assert_bokeh_app_page(body)


def test_start_inlines_panel_resources():
    """binder/start exports PANEL_INLINE=1 and runs its arguments; Panel then inlines."""
    code = "import panel; print('inline', panel.config.inline)"
    r = subprocess.run(["bash", str(BINDER / "start"), sys.executable, "-c", code],
                       capture_output=True, text=True, timeout=120,
                       env={k: v for k, v in os.environ.items() if k != "PANEL_INLINE"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[-2:] == ["inline", "True"]


def test_binder_environment_mirrors_the_root_one():
    """binder/environment.yml lists the root environment.yml's dependencies; only
    chaoslab itself (``-e .``) is left to postBuild (repo2docker installs the environment
    before it copies the repository)."""
    yaml = pytest.importorskip("yaml")
    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    binder = yaml.safe_load((BINDER / "environment.yml").read_text())

    def split(deps):
        conda = [d for d in deps if isinstance(d, str)]
        pip = [p for d in deps if isinstance(d, dict) for p in d.get("pip", [])]
        return conda, pip

    rc, rp = split(root["dependencies"])
    bc, bp = split(binder["dependencies"])
    assert bc == rc
    assert bp == [p for p in rp if p != "-e ."]
    assert "jupyter-server-proxy" in bc
    assert "torch==2.13.0" in bp and any("whl/cpu" in p for p in bp)
    assert binder["channels"] == root["channels"]


def test_environment_holds_every_runtime_dependency():
    """Binder installs chaoslab with --no-deps, so environment.yml must list every
    dependency of the core, the app and the learners (the Learners tab needs pysindy)."""
    import re
    import tomllib

    yaml = pytest.importorskip("yaml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = project["dependencies"] + extras["app"] + extras["learners"]

    def name(req):
        return re.split(r"[<>=!~ ;\[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")

    for path in (ROOT / "environment.yml", BINDER / "environment.yml"):
        deps = yaml.safe_load(path.read_text())["dependencies"]
        have = {name(d) for d in deps if isinstance(d, str)}
        have |= {name(p) for d in deps if isinstance(d, dict) for p in d.get("pip", [])
                 if not p.startswith("-")}
        missing = sorted({name(r) for r in wanted} - have)
        assert not missing, f"{path.name} lacks {missing}"
