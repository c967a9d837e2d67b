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


def test_every_public_name_is_documented_and_made_inside_the_package():
    """Each name is the package's own (not a re-exported third-party object) and says
    what it is for: a missing or undocumented name fails here, not in a user's suite."""
    for name in PUBLIC:
        value = getattr(mockshot, name)
        assert value.__module__.startswith("mockshot."), (name, value.__module__)
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_the_public_names_work_together():
    """The names compose as the README shows: a Mock with a scripted rule behind an app,
    reached through the in-process client; an error helper; a virtual clock."""
    mock = mockshot.Mock(mockshot.Settings(clock="virtual"))
    mock.on(contains="ping").reply("pong")
    mock.on(contains="fail").reply(mockshot.error("engine_overloaded_error"))
    with mockshot.http_client(mockshot.create_app(mock=mock)) as client:
        auth = {"Authorization": "Bearer sk-public"}

        def ask(text: str):
            return client.post("/v1/chat/completions", headers=auth, json={
                "model": "moonshot-v1-8k", "messages": [{"role": "user", "content": text}]})

        assert ask("ping").json()["choices"][0]["message"]["content"] == "pong"
        assert ask("fail").status_code == 429
    assert isinstance(mock.clock, mockshot.VirtualClock)
    assert [entry.status for entry in mock.journal()] == [200, 429]


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


TESTING = ["Call", "CallList", "MockFixture", "Request", "ServedFixture", "SpecViolation",
           "TeardownError", "assert_backed_off", "assert_called_with_tools",
           "assert_closed_broken_streams", "assert_honoured_retry_after",
           "assert_no_resend_after_success", "assert_not_called", "assert_streamed",
           "async_hook", "check_reply", "hook", "validate"]


def test_the_testing_toolkit_is_pinned_documented_and_needs_no_pytest():
    import subprocess
    import sys

    import mockshot.testing

    assert mockshot.testing.__all__ == TESTING
    for name in TESTING:
        assert (getattr(mockshot.testing, name).__doc__ or "").strip(), name
    code = "import sys, mockshot.testing; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
