"""Serve the app with a Panel (Bokeh) server.

What a served chaoslab answers to (see :func:`serve`):

* It listens on 127.0.0.1 (this machine only) unless another ``address`` is asked for.
* Every HTTP request and websocket handshake is checked against the ``Host`` header
  before any page or session code runs: a host name that is not this machine's
  (``localhost``, ``*.localhost``), an IP address, or a name the user allowed
  (``allow_host``) gets ``403``. A page opened through a name that an attacker's DNS
  points at this machine (DNS rebinding) is refused.
* Bokeh checks the websocket's ``Origin`` against the allowed origins: this machine's
  names at the port, plus those listed in ``allow_websocket_origin`` or implied by
  ``allow_host``. Listening on every interface (``0.0.0.0``) needs them named.
"""
from __future__ import annotations

import ipaddress

import panel as pn

__all__ = ["create_app", "local_resources", "serve", "host_allowed", "guard_hosts", "LOOPBACK_NAMES"]

#: Host names that always mean this machine (browsers resolve ``*.localhost`` to loopback).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: Addresses that listen on every interface.
_WILDCARD = ("", "0.0.0.0", "::", "*")


def local_resources() -> None:
    """Make Panel point every stylesheet at the server's own static files, also for
    components created later in a callback or a job: outside a page request Bokeh's
    ``resources`` setting decides, and its default ("cdn") would send the browser to
    cdn.holoviz.org, which a classroom or offline server cannot reach."""
    # through the environment: Panel sets the setting itself around each page render and
    # then unsets it, which falls back to the environment, not to a value set here
    import os

    os.environ.setdefault("BOKEH_RESOURCES", "server")


def create_app():
    """One app per browser session (each session has its own state and live run)."""
    from .main import ChaosLab

    local_resources()
    return ChaosLab().template()


def _warm_up():
    """Load numba and the default system's kernels before the first visitor arrives."""
    try:
        from .warm import prepare_all
        from ..systems import get

        prepare_all(get("Lorenz"), method="rk4", backend="numba")
    except Exception:  # a cold start is slower, not broken
        pass


def _start_compile_ahead():
    """Compile the classic systems' kernels in a niced child, on a daemon thread (see
    :func:`chaoslab.app.warm.compile_ahead`); prints one line when done."""
    import threading
    import time

    from .warm import compile_ahead

    def run():
        t = time.perf_counter()
        try:
            done = compile_ahead()
        except Exception:  # the systems are then compiled when first picked
            return
        ok = sum(v is not None for v in done.values())
        print(f"chaoslab compiled {ok} of {len(done)} systems ahead of time in "
              f"{time.perf_counter() - t:.1f} s", flush=True)

    th = threading.Thread(target=run, name="chaoslab-compile-ahead", daemon=True)
    th.start()
    return th


def _host_name(host: str) -> str:
    """``"Example.COM:5006"`` -> ``"example.com"``; ``"[::1]:5006"`` -> ``"::1"``."""
    h = (host or "").strip().lower().rstrip(".")
    if h.startswith("["):
        return h[1:h.find("]")] if "]" in h else h[1:]
    if h.count(":") == 1:
        h = h.split(":")[0]
    return h.rstrip(".")


def host_allowed(host: str, names=()) -> bool:
    """Whether a request whose ``Host`` header is ``host`` may reach the app.

    Allowed: an IP address (no name lookup, so it cannot be rebound), ``localhost`` and
    ``*.localhost``, and the host names in ``names`` (compared without port and case).
    """
    h = _host_name(host)
    if not h:
        return False
    try:
        ipaddress.ip_address(h)
        return True
    except ValueError:
        pass
    if h == "localhost" or h.endswith(".localhost"):
        return True
    return h in {_host_name(n) for n in names}


def guard_hosts(server, names=()) -> None:
    """Answer ``403`` to every request of ``server`` (a Bokeh server) whose ``Host``
    header fails :func:`host_allowed`, before its routes (pages, static files, the
    websocket) see it. Done with the tornado application's host routing."""
    from tornado.routing import Matcher, Rule
    from tornado.web import RequestHandler

    allowed = tuple(names)

    class ForeignHost(Matcher):
        def match(self, request):
            return None if host_allowed(request.host, allowed) else {}

    class Refused(RequestHandler):
        def prepare(self):
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("403: this chaoslab server does not answer to that host name "
                        "(start it with --allow-host NAME to allow one)\n")

    app = server._tornado  # the tornado Application (Panel reads it the same way)
    app.default_router.rules.insert(0, Rule(ForeignHost(), Refused))


def _origins(address, port, allow_websocket_origin, allow_host) -> list:
    origin = [f"localhost:{port}", f"127.0.0.1:{port}"]
    if address not in _WILDCARD and f"{address}:{port}" not in origin:
        origin.append(f"{address}:{port}")
    origin += [f"{_host_name(h)}:{port}" for h in allow_host]
    origin += list(allow_websocket_origin)
    return origin


def serve(port: int = 5006, address: str = "127.0.0.1", show: bool = False,
          allow_websocket_origin=None, num_threads=None, allow_host=None, start=True,
          ahead_of_time=None):
    """Serve at ``http://ADDRESS:PORT/chaoslab`` until interrupted.

    Parameters
    ----------
    port : int
        The port.
    address : str
        The interface to listen on; ``127.0.0.1`` (this machine only) by default.
        Listening on every interface (``"0.0.0.0"``) needs ``allow_websocket_origin`` or
        ``allow_host`` naming where the page will be opened from.
    allow_websocket_origin : list of str, optional
        More ``HOST[:PORT]`` origins the page may be opened from (a proxy's address).
        Their host names are allowed in the ``Host`` header too.
    allow_host : list of str, optional
        More host names the server answers to (besides IP addresses, ``localhost`` and
        ``*.localhost``); the page may then be opened from ``NAME:PORT``.
    start : bool
        Run the server (blocks); ``False`` returns it unstarted (for tests).
    ahead_of_time : bool, optional
        Compile the classic systems' kernels in a low-priority child process once the
        server runs (:func:`chaoslab.app.warm.compile_ahead`), so that their first view
        loads them from the disk cache. Default: on, unless the environment sets
        ``CHAOSLAB_AHEAD_OF_TIME=0``.
    """
    import os

    from ..validation import check_int

    port = check_int(port, "port", minimum=0, maximum=65535)
    allow_websocket_origin = [str(o) for o in (allow_websocket_origin or [])]
    allow_host = [str(h) for h in (allow_host or [])]
    if address in _WILDCARD and not (allow_websocket_origin or allow_host):
        raise ValueError(
            f"address {address!r} listens on every interface: name the host(s) the page "
            "will be opened from with allow_host= (--allow-host NAME) or "
            "allow_websocket_origin= (--allow-websocket-origin HOST:PORT)")
    names = list(allow_host) + [_host_name(o) for o in allow_websocket_origin]
    if address not in _WILDCARD:
        names.append(address)
    origin = _origins(address, port, allow_websocket_origin, allow_host)
    from . import warm

    warm.OUT_OF_PROCESS = True  # compiles happen in child processes (see warm)
    local_resources()
    _warm_up()
    server = pn.serve({"chaoslab": create_app}, port=port, address=address, show=False,
                      websocket_origin=origin, title="chaoslab", threaded=False,
                      num_threads=num_threads, start=False)
    guard_hosts(server, names)
    if not start:
        return server
    print(f"chaoslab is served at http://{address}:{server.port}/chaoslab", flush=True)
    if ahead_of_time is None:
        ahead_of_time = os.environ.get("CHAOSLAB_AHEAD_OF_TIME", "1") != "0"
    if ahead_of_time:
        _start_compile_ahead()
    server.start()
    if show:
        server.io_loop.add_callback(lambda: server.show("/chaoslab"))
    server.io_loop.start()
    return server
