"""Per-test cassettes: one file per test named from its node id, the four modes, stale
recordings told apart from mismatches, and matching on the conversation with the volatile
text the user names normalised away.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockshot import Mock, ServedMock, Settings, create_app, http_client
from mockshot.recording import CassetteError, Options, cassette_path, use_cassette
from mockshot.scenarios.files import read_scenario_file

from .recording import AUTH, WEATHER_TOOL, chat, seen


@pytest.fixture(scope="module")
def upstream():
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning", seed=3)) as served:
        served.mock.scenarios.load_sync({"rules": [
            {"match": {"contains": "weather", "tool_result": False},
             "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}}]})
        yield served


def mock() -> Mock:
    return Mock(Settings(clock="virtual", log_level="warning"))


def ask(app, body: dict):
    with http_client(app) as client:
        return seen(client.post("/v1/chat/completions", headers=AUTH, json=body))


@pytest.mark.parametrize(("node_id", "path"), [
    ("tests/test_app.py::test_hi", "tests/test_app/test_hi.yaml"),
    ("tests/test_app.py::TestChat::test_hi[kimi-k2.6]",
     "tests/test_app/TestChat.test_hi[kimi-k2.6].yaml"),
    ("test_x.py::test_y[a b/c?]", "test_x/test_y[a_b_c_].yaml"),
    ("../escape.py::test_up", "escape/test_up.yaml"),
])
def test_a_tests_cassette_is_named_from_its_node_id(node_id, path):
    assert cassette_path("cassettes", node_id) == Path("cassettes", path)


def test_a_long_node_id_is_cut_and_told_apart_by_a_hash():
    first = cassette_path("c", "t.py::test[" + "a" * 300 + "1]").name
    second = cassette_path("c", "t.py::test[" + "a" * 300 + "2]").name
    assert first != second and len(first) < 120


def test_once_records_the_first_time_and_replays_after_without_the_upstream(upstream,
                                                                            tmp_path):
    path = cassette_path(tmp_path, "tests/test_app.py::test_hello")
    first = mock()
    assert use_cassette(first, path, upstream=upstream.url).mode == "record"
    recorded = ask(create_app(mock=first), chat("Hello"))
    second = mock()
    assert use_cassette(second, path).mode == "replay"  # no upstream needed any more
    assert ask(create_app(mock=second), chat("Hello")) == recorded
    assert path.exists() and read_scenario_file(str(path))["scenario"] == "test_hello"


def test_replay_without_a_cassette_says_how_to_make_one(tmp_path):
    with pytest.raises(CassetteError, match=r"no cassette at .* to replay: record it first"):
        use_cassette(mock(), tmp_path / "missing.yaml", "replay")


def test_recording_without_an_upstream_is_refused(tmp_path):
    with pytest.raises(CassetteError, match="needs an upstream URL"):
        use_cassette(mock(), tmp_path / "new.yaml", "once")


def test_record_replaces_and_new_adds(upstream, tmp_path):
    path = tmp_path / "c.yaml"
    for mode, text in (("record", "one"), ("record", "two"), ("new", "two"), ("new", "three")):
        on = mock()
        use_cassette(on, path, mode, upstream=upstream.url)
        ask(create_app(mock=on), chat(text))
    rules = read_scenario_file(str(path))["rules"]
    assert [r["match"]["conversation"]["last_user"] for r in rules] == ["two", "three"]
    assert not isinstance(rules[0]["reply"], list)  # "two" replayed in mode new, not re-added


def test_a_strict_replay_names_the_nearest_recording(upstream, tmp_path):
    path = tmp_path / "c.yaml"
    use_cassette(on := mock(), path, upstream=upstream.url)
    ask(create_app(mock=on), chat("Hello"))
    use_cassette(replay := mock(), path, "replay", strict=True)
    answer = ask(create_app(mock=replay), chat("Hello!"))
    assert answer.status == 422
    assert b"c-1: the last user message is 'Hello!', not 'Hello'" in answer.body


def tool_call_of(body: bytes) -> dict:
    return json.loads(body)["choices"][0]["message"]


def test_an_agent_loop_matches_on_the_turn_and_the_current_tool_results(upstream, tmp_path):
    path = tmp_path / "loop.yaml"
    ask_weather = chat("What is the weather?", tools=[WEATHER_TOOL],
                       thinking={"type": "disabled"})

    def loop(app, result: str) -> list:
        first = ask(app, ask_weather)
        message = tool_call_of(first.body)
        follow = {**ask_weather, "messages": [
            *ask_weather["messages"], message,
            {"role": "tool", "tool_call_id": message["tool_calls"][0]["id"], "content": result}]}
        return [first, ask(app, follow)]

    use_cassette(on := mock(), path, upstream=upstream.url)
    recorded = loop(create_app(mock=on), "sunny")
    conversations = [r["match"]["conversation"] for r in read_scenario_file(str(path))["rules"]]
    assert conversations == [
        {"turn": 0, "last_user": "What is the weather?"},
        {"turn": 1, "last_user": "What is the weather?", "tool_results": ["sunny"]}]
    use_cassette(replay := mock(), path, "replay", strict=True)
    app = create_app(mock=replay)
    assert loop(app, "sunny") == recorded
    other = loop(app, "raining")[1]
    assert other.status == 422 and b"the current turn's tool results are" in other.body


def test_volatile_text_is_normalised_on_both_sides(upstream, tmp_path):
    path = tmp_path / "c.yaml"
    options = Options(normalise=(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r"req-[0-9a-f]+"),
                      source=upstream.url)
    use_cassette(on := mock(), path, upstream=upstream.url, options=options)
    recorded = ask(create_app(mock=on), chat("It is 2026-03-01T10:00:00Z (req-a1b2)"))
    rule = read_scenario_file(str(path))["rules"][0]
    assert rule["match"]["conversation"]["last_user"] == "It is <*> (<*>)"
    use_cassette(replay := mock(), path, "replay", strict=True)
    later = ask(create_app(mock=replay), chat("It is 2027-12-31T23:59:59Z (req-ffff)"))
    assert later == recorded


def test_a_digest_match_needs_every_message(upstream, tmp_path):
    path = tmp_path / "c.yaml"
    conversation = [{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hi"}]
    use_cassette(on := mock(), path, upstream=upstream.url,
                 options=Options(match="digest", source=upstream.url))
    ask(create_app(mock=on), {"model": "kimi-k2.6", "messages": conversation})
    assert len(read_scenario_file(str(path))["rules"][0]["match"]["conversation"]["digest"]) \
        == 16
    use_cassette(replay := mock(), path, "replay", strict=True)
    same = ask(create_app(mock=replay), {"model": "kimi-k2.6", "messages": conversation})
    other = [{"role": "system", "content": "Be short."}, conversation[1]]  # same turn, user
    answer = ask(create_app(mock=replay), {"model": "kimi-k2.6", "messages": other})
    assert same.status == 200
    assert answer.status == 422 and b"the conversation's digest differs" in answer.body


@pytest.mark.parametrize(("change", "says"), [
    ({"messages": [{"role": "system", "content": "Be verbose."},
                   {"role": "user", "content": "Hi"}]}, b"the system prompt changed"),
    ({"tools": [WEATHER_TOOL]}, b"the tools changed"),
])
def test_a_stale_recording_says_what_changed(upstream, tmp_path, change, says):
    path = tmp_path / "c.yaml"
    body = {"model": "kimi-k2.6", "messages": [{"role": "system", "content": "Be brief."},
                                               {"role": "user", "content": "Hi"}]}
    use_cassette(on := mock(), path, upstream=upstream.url)
    ask(create_app(mock=on), body)
    use_cassette(replay := mock(), path)
    answer = ask(create_app(mock=replay), {**body, **change})
    assert answer.status == 422
    assert b"mockshot_stale_recording_error" in answer.body
    assert b"recording 'c-1' (scenario 'c') is stale: " + says in answer.body


def test_a_long_session_goes_on_in_parts_each_one_a_scenario(upstream, tmp_path,
                                                             monkeypatch):
    monkeypatch.setattr("mockshot.recording.cassettes.PART_VALUES", 200)
    upstream.mock.reset()
    path = tmp_path / "long.yaml"
    use_cassette(on := mock(), path, upstream=upstream.url)
    app = create_app(mock=on)
    recorded = [ask(app, chat(f"question {n}", stream=True)) for n in range(6)]
    parts = sorted(p.name for p in tmp_path.iterdir())
    assert parts[0] == "long-part2.yaml" and "long.yaml" in parts and len(parts) >= 3
    assert sum(len(read_scenario_file(str(tmp_path / p))["rules"]) for p in parts) == 6
    use_cassette(replay := mock(), path, "new", upstream=upstream.url)  # all parts read
    again = create_app(mock=replay)
    assert [ask(again, chat(f"question {n}", stream=True)) for n in range(6)] == recorded
    assert len(upstream.mock.journal()) == 6  # nothing recorded twice
    with http_client(create_app(Settings(clock="virtual", log_level="warning",
                                         scenario=(str(tmp_path),), strict=True))) as client:
        served = [seen(client.post("/v1/chat/completions", headers=AUTH,
                                   json=chat(f"question {n}", stream=True))) for n in range(6)]
    assert served == recorded
