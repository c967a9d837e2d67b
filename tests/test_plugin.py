"""The `mockshot` and `mockshot_server` fixtures, used as a suite uses them."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import openai
import pytest

from mockshot import Settings, error, tool_call
from mockshot.testing import MockFixture, TeardownError

WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


def say(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


def test_the_fixture_scripts_and_records(mockshot):
    mockshot.on(contains="weather").reply(tool_call("get_weather", city="Paris"))
    reply = mockshot.client.chat.completions.create(
        model="moonshot-v1-8k", messages=say("weather?"), tools=[WEATHER])
    assert json.loads(reply.choices[0].message.tool_calls[0].function.arguments) == {
        "city": "Paris"}
    assert mockshot.calls.last.request.tool_names == ["get_weather"]
    assert mockshot.assert_called_with_tools("get_weather") == mockshot.calls.last


@pytest.mark.mockshot(seed=7, strict=False)
class TestMarkers:
    @pytest.mark.mockshot(seed=8)
    def test_the_closest_marker_wins(self, mockshot):
        assert mockshot.seed == 8 and mockshot.mock.settings.clock == "virtual"

    def test_the_class_marker_applies(self, mockshot):
        assert mockshot.seed == 7


@pytest.mark.mockshot(balance=0)
def test_a_setting_from_the_marker_reaches_the_mock(mockshot):
    with pytest.raises(openai.RateLimitError, match="insufficient balance"):
        mockshot.openai(max_retries=0).chat.completions.create(
            model="moonshot-v1-8k", messages=say("hi"))


def test_retries_wait_on_the_virtual_clock(mockshot):
    """The SDK's own retry honours Retry-After by moving the mock's clock, not by sleeping."""
    mockshot.on(nth=1).reply(error("rate_limit_reached_error", retry_after=30))
    started = mockshot.clock.now()
    mockshot.client.chat.completions.create(model="moonshot-v1-8k", messages=say("hi"))
    first, second = mockshot.calls
    assert (first.status, second.status) == (429, 200)
    assert second.entry.at - first.entry.at == 30 and mockshot.clock.now() >= started + 30


def test_streams_take_no_real_time(mockshot):
    stream = mockshot.client.chat.completions.create(
        model="kimi-k2.6", messages=say("a long story"), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert mockshot.calls.last.entry.chunks_sent > 3


def test_unused_replies_fail_at_exit_and_say_how_to_relax():
    with pytest.raises(TeardownError, match=r"assert_all_used=False"), MockFixture() as mock:
        mock.on(contains="never").reply("unused")
    with MockFixture(assert_all_used=False) as mock:
        mock.on(contains="never").reply("unused")


def test_strict_unmatched_calls_fail_at_exit_even_when_the_client_swallowed_the_422():
    with pytest.raises(TeardownError, match=r"1 call\(s\) matched no rule in strict mode "
                                            r"\(#2 POST /v1/chat/completions.*drop strict"), \
            MockFixture(Settings(clock="virtual", strict=True)) as mock:
        mock.on(contains="known").reply("ok")
        mock.client.chat.completions.create(model="moonshot-v1-8k", messages=say("known"))
        with contextlib.suppress(openai.UnprocessableEntityError):
            mock.openai(max_retries=0).chat.completions.create(
                model="moonshot-v1-8k", messages=say("other"))


def test_the_served_fixture_is_a_real_url_with_its_own_partition(mockshot_server):
    mockshot_server.on(contains="ping").reply("pong")
    reply = mockshot_server.client.chat.completions.create(model="kimi-k2.6", messages=say("ping"))
    assert reply.choices[0].message.content == "pong"
    assert mockshot_server.mock.test_id == mockshot_server.test_id
    assert [c.status for c in mockshot_server.calls] == [200]


def test_a_subprocess_client_finds_the_served_mock_from_the_environment(mockshot_server,
                                                                         monkeypatch):
    mockshot_server.setenv(monkeypatch)
    script = ("import os, openai; c = openai.OpenAI(base_url=os.environ['OPENAI_BASE_URL'], "
              "default_headers={'X-Mockshot-Test': os.environ['MOCKSHOT_TEST']}); "
              "print(c.models.list().data[0].id)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() and mockshot_server.calls.last.operation == "GET /v1/models"


def test_the_served_root_was_reset_for_this_test(mockshot_server):
    assert mockshot_server.root.journal() == [] and mockshot_server.calls == []


def test_marker_scenario_paths_are_read_beside_the_test_file(tmp_path):
    from mockshot.testing.markers import options_from

    (tmp_path / "weather.yaml").write_text("rules:\n  - reply: {content: hi}\n")
    options = options_from([{"scenario": "weather.yaml"}, {"seed": 3}], None, tmp_path)
    assert options.settings.scenario == (str(tmp_path / "weather.yaml"),)
    assert options.settings.seed == 3 and options.settings.clock == "virtual"
    billing = options_from([{"tier": 1}, {"initial_balance": 5}], 9, tmp_path).settings
    assert (billing.tier, billing.balance, billing.seed) == (1, 5.0, 9)  # an older name too
