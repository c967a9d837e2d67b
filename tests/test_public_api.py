"""What `import mockshot` promises: exactly these names, each importable and usable."""

from __future__ import annotations

import threading
import time
from importlib.metadata import version

import mockshot

PUBLIC = [
    "APIError",
    "Mock",
    "RealClock",
    "ServedMock",
    "Settings",
    "VirtualClock",
    "async_http_client",
    "create_app",
    "error",
    "fault",
    "http_client",
    "tool_call",
]


def test_all_is_pinned():
    assert mockshot.__all__ == PUBLIC


def test_every_public_name_resolves():
    for name in PUBLIC:
        assert getattr(mockshot, name) is not None, name


def test_version_matches_the_package_metadata():
    assert mockshot.__version__ == version("mockshot")


def test_closing_an_in_process_client_releases_its_thread():
    """`http_client(app)` drives the app from a private event-loop thread; closing the
    client must stop it, or every client a test suite opens leaks a thread and a loop."""
    app = mockshot.create_app(mockshot.Settings(clock="virtual"))
    before = threading.active_count()
    for _ in range(5):
        with mockshot.http_client(app) as client:
            assert client.get("/_mockshot/health").status_code == 200
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)  # a stopped loop's thread may take a moment to finish
    assert threading.active_count() == before, [t.name for t in threading.enumerate()]
