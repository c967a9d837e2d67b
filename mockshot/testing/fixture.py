"""The values of the pytest fixtures: `MockFixture` (`mockshot`, in-process) and
`ServedFixture` (`mockshot_server`, over a socket). The fixture is the API, as in
pytest_httpx: script replies with `.on(...)`, call through `.client`, assert on `.calls`,
move time with `.clock`; what the test left unused is checked when it ends.

Nothing here imports pytest (plugin.py wires these into fixtures), so the same objects
serve any test runner: `with MockFixture() as mock: ...` checks on exit.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from ..app import create_app
from ..calls import Call, CallList
from ..mock import Mock
from ..scenarios.scripting import RuleBuilder
from ..settings import Settings
from ..state.clock import Clock
from ..transport import async_http_client, http_client, httpx_module
from .assertions import assert_called_with_tools
from .checks import teardown_problems
from .clients import openai_client

__all__ = ["DEFAULT_KEY", "MockFixture", "ServedFixture", "TeardownError"]

DEFAULT_KEY = "sk-mockshot-test"
IN_PROCESS_URL = "http://mockshot.local"


class TeardownError(AssertionError):
    """The test ended with scripted replies unused, or strict-mode calls unmatched."""


class _Face:
    """What both fixtures offer over their `mock` (the test's own mock or partition)."""

    mock: Mock
    url: str
    api_key: str = DEFAULT_KEY
    headers: dict[str, str]
    assert_all_used: bool = True

    def _start(self) -> None:
        self._builders: list[RuleBuilder] = []
        self._closers: list[Any] = []

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL (`.../v1`)."""
        return self.url + "/v1"

    @property
    def clock(self) -> Clock:
        """The mock's clock; on the default virtual clock `clock.advance(seconds)` moves
        time on (batches, rate-limit windows, Retry-After waits) without waiting."""
        return self.mock.clock

    @property
    def seed(self) -> int:
        return self.mock.settings.seed

    def on(self, scenario: str = "default", name: str | None = None,
           **match: Any) -> RuleBuilder:
        """Script a reply (`mock.on(...)`); left unused, the test fails at teardown."""
        builder = self.mock.on(scenario, name, **match)
        self._builders.append(builder)
        return builder

    def calls_of(self) -> CallList:
        return self.mock.calls()

    @property
    def calls(self) -> CallList:
        """Every call the mock received in this test, oldest first (`.filter(...)`)."""
        return self.calls_of()

    def assert_called_with_tools(self, *names: str) -> Call:
        """Some chat call offered every tool in `names` (the latest such call)."""
        return assert_called_with_tools(self.calls, *names)

    def _client(self, inner: Any, asynchronous: bool, options: dict) -> Any:
        self._closers.append(inner)
        options.setdefault("max_retries", 2)
        options.setdefault("default_headers", self.headers)
        return openai_client(inner, self.base_url, self.api_key, self.clock, asynchronous,
                             **options)

    def describe(self, tail: int = 10) -> str:
        """What a failed test's report shows: the seed to replay with and the journal's
        last calls (each with its own replay seed, for `X-Mockshot-Seed`)."""
        calls = self.calls
        lines = [f"seed {self.seed}: replay with --mockshot-seed {self.seed} (or "
                 f"@pytest.mark.mockshot(seed={self.seed})); test id {self.test_id}",
                 f"last {min(tail, len(calls))} of {len(calls)} calls:"]
        lines += [f"  {_line(call.entry)}" for call in calls[-tail:]]
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """What teardown would fail on, now."""
        return teardown_problems(self.mock, self._builders, self.assert_all_used)

    def verify(self) -> None:
        """Raise `TeardownError` for what the test scripted but did not use."""
        found = self.problems()
        if found:
            raise TeardownError("mockshot: " + "\nmockshot: ".join(found))

    def close(self) -> None:
        for inner in self._closers:  # async clients hold no thread or socket to close here
            close = getattr(inner, "close", None)
            if close is not None:
                close()
        self._closers.clear()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        self.close()
        if kind is None:
            self.verify()


def _line(entry: Any) -> str:
    facts = [f"#{entry.id} {entry.operation} -> {entry.status}"]
    for name in ("model", "seed", "rule", "fault", "error"):
        value = getattr(entry, name)
        if value is not None:
            facts.append(f"{name}={value}")
    if entry.variants:
        facts.append(f"variants={','.join(entry.variants)}")
    body = entry.body
    if isinstance(body, dict) and body.get("messages"):
        last = body["messages"][-1].get("content")
        if isinstance(last, str):
            facts.append(repr(last[:60]))
    return " ".join(facts)


class MockFixture(_Face):
    """A mock for one test, in-process: no socket, no start-up, streams that stream."""

    def __init__(self, settings: Settings | None = None, *, api_key: str = DEFAULT_KEY,
                 assert_all_used: bool = True, test_id: str | None = None) -> None:
        self._start()
        self.mock = Mock(settings or Settings(clock="virtual"))
        self.url = IN_PROCESS_URL
        self.api_key = api_key
        self.assert_all_used = assert_all_used
        self.test_id = test_id
        self.headers = {}

    @cached_property
    def app(self) -> Any:
        """The ASGI app over the mock, made when a client first needs it."""
        return create_app(mock=self.mock)

    def http_client(self, **options: Any) -> Any:
        """A raw httpx(2) client wired to the app (base URL set)."""
        inner = http_client(self.app, **options)
        self._closers.append(inner)
        return inner

    @cached_property
    def client(self) -> Any:
        """An `openai.OpenAI` client, in-process; its retries wait on the mock's clock."""
        return self._client(http_client(self.app), False, {})

    @cached_property
    def async_client(self) -> Any:
        """An `openai.AsyncOpenAI` client, in-process."""
        return self._client(async_http_client(self.app), True, {})

    def openai(self, asynchronous: bool = False, **options: Any) -> Any:
        """Another openai client with your options (`max_retries=`, `timeout=`, ...)."""
        inner = async_http_client(self.app) if asynchronous else http_client(self.app)
        return self._client(inner, asynchronous, options)


class ServedFixture(_Face):
    """One test's partition of a served mock: a real URL for subprocesses, other languages
    and `*_BASE_URL` environment variables. Clients made here send `X-Mockshot-Test`, so
    the test's state is its own; clients that cannot send it reach the shared root mock,
    which is reset before every test (`.root`)."""

    def __init__(self, root: Mock, url: str, test_id: str, settings: Settings | None = None,
                 *, api_key: str = DEFAULT_KEY, assert_all_used: bool = True) -> None:
        self._start()
        self.root = root
        self.url = url
        self.test_id = test_id
        self.api_key = api_key
        self.assert_all_used = assert_all_used
        self.headers = {"X-Mockshot-Test": test_id}
        child = Mock(settings or root.settings, parent=root, test_id=test_id)
        self.mock = root.partitions.put(test_id, child)

    def calls_of(self) -> CallList:
        """The test's calls: those sent with its header, after those that reached the
        root without one."""
        return CallList([*self.root.calls(), *self.mock.calls()])

    def env(self) -> dict[str, str]:
        """Environment variables that point common clients at this mock."""
        return {"MOONSHOT_BASE_URL": self.base_url, "OPENAI_BASE_URL": self.base_url,
                "MOONSHOT_API_KEY": self.api_key, "OPENAI_API_KEY": self.api_key,
                "MOCKSHOT_TEST": self.test_id}

    def setenv(self, monkeypatch: Any) -> dict[str, str]:
        """Set `env()` for this test (pass pytest's `monkeypatch`); the variables."""
        found = self.env()
        for name, value in found.items():
            monkeypatch.setenv(name, value)
        return found

    @cached_property
    def client(self) -> Any:
        """An `openai.OpenAI` client over the socket, sending the test's header."""
        return self._client(httpx_module().Client(), False, {})

    @cached_property
    def async_client(self) -> Any:
        return self._client(httpx_module().AsyncClient(), True, {})

    def problems(self) -> list[str]:
        root = teardown_problems(self.root, [], False)
        return super().problems() + root

    def end(self) -> None:
        """Forget the test's partition and reset the root for the next test."""
        self.close()
        self.root.partitions.drop(self.test_id)
        self.root.reset()
