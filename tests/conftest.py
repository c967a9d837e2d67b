"""Shared fixtures: a mock on a virtual clock, the openai SDK in-process and over a socket.

Every client these fixtures hand out checks each reply mockshot sends against the
effective spec (the reply checker, `mockshot.testing`), so a test that forgets to look at
a field still fails when the reply breaks the contract.
"""

from __future__ import annotations

import openai
import pytest

from mockshot import Mock, ServedMock, Settings, async_http_client, create_app, http_client
from mockshot.testing import replies as spec_check
from mockshot.transport import httpx_module

pytest_plugins = ["pytester"]

KEY = "sk-test"


@pytest.fixture
def settings() -> Settings:
    return Settings(clock="virtual", log_level="warning")


@pytest.fixture
def mock(settings: Settings) -> Mock:
    return Mock(settings)


@pytest.fixture
def app(mock: Mock):
    return create_app(mock=mock)


@pytest.fixture
def http(app):
    """A raw in-process httpx(2) client whose replies are checked against the spec."""
    with http_client(app, event_hooks={"response": [spec_check.hook]}) as client:
        yield client


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(app) -> openai.OpenAI:
    """The official openai SDK, in-process, sync."""
    inner = http_client(app, event_hooks={"response": [spec_check.hook]})
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", http_client=inner,
                         max_retries=0)


@pytest.fixture
def async_client(app) -> openai.AsyncOpenAI:
    """The official openai SDK, in-process, async."""
    inner = async_http_client(app, event_hooks={"response": [spec_check.async_hook]})
    return openai.AsyncOpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                              http_client=inner, max_retries=0)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session (fails, never skips, without one)."""
    from .redis_server import RedisServer

    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def served():
    """One real server on a free loopback port for the whole session."""
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning")) as running:
        yield running


@pytest.fixture
def served_client(served) -> openai.OpenAI:
    """The openai SDK over a real socket, sync."""
    httpx = httpx_module()
    inner = httpx.Client(event_hooks={"response": [spec_check.hook]})
    return openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", http_client=inner,
                         max_retries=0)


@pytest.fixture
def served_async_client(served) -> openai.AsyncOpenAI:
    """The openai SDK over a real socket, async."""
    httpx = httpx_module()
    inner = httpx.AsyncClient(event_hooks={"response": [spec_check.async_hook]})
    return openai.AsyncOpenAI(api_key=KEY, base_url=f"{served.url}/v1", http_client=inner,
                              max_retries=0)
