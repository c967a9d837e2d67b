"""Serve a mock on a port with uvicorn (httptools + uvloop when installed).

`serve()` blocks until SIGINT/SIGTERM (uvicorn's own clean shutdown); `ServedMock` runs the
same server in a background thread for tests and the pytest plugin, on port 0 by default.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable

import uvicorn

from .app import create_app
from .connections import server_config
from .mock import Mock
from .settings import Settings

__all__ = ["ServedMock", "bind", "serve"]


def bind(host: str, port: int) -> socket.socket:
    """Bind and listen before uvicorn starts, so port 0 can be resolved and printed up
    front, and a client that connects the moment the URL is printed is queued, not
    refused (uvicorn accepts it once it runs)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """uvicorn shuts down on SIGTERM, then raises it again; end quietly with status 0."""
    raise SystemExit(0)


def serve(settings: Settings, announce: Callable[[str], None] = print) -> None:
    """Run until SIGINT/SIGTERM. `announce` receives the base URL once the socket is bound."""
    if settings.workers > 1:
        from .workers import serve_workers

        sock = bind(settings.host, settings.port)
        serve_workers(settings, sock, announce, base_url(sock))
        return
    mock = Mock(settings)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sock = bind(settings.host, settings.port)
    announce(base_url(sock))
    server = uvicorn.Server(server_config(create_app(mock=mock), settings))
    server.run(sockets=[sock])


class ServedMock:
    """A mock served from a background thread: `with ServedMock() as served: served.url`."""

    def __init__(self, settings: Settings | None = None, mock: Mock | None = None) -> None:
        settings = settings or Settings(port=0, log_level="warning")
        self.mock = mock or Mock(settings)
        self._sock = bind(settings.host, settings.port)
        self.url = base_url(self._sock)
        config = server_config(create_app(mock=self.mock), settings, "warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True, name="mockshot")

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> ServedMock:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("mockshot server failed to start")
            threading.Event().wait(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> ServedMock:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
