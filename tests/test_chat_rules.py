"""The chat rules a JSON Schema cannot say (mockshot/chat_rules.py) and the context window.

One table: a request, and the status, type and exact message the service answers. Captured
texts come from /work/shared/reference/moonshot-api.md (§4.1, §4.2, §6, §7.2, §15 and §17);
where the reference has no capture, the message is mockshot's documented text in the same
`Invalid request: ...` style. A second table holds the near misses that must be accepted.
"""

from __future__ import annotations

import openai
import pytest

HELLO = [{"role": "user", "content": "Hello"}]
OFF = {"type": "disabled"}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object",
                                          "properties": {"city": {"type": "string"}}}}}
CALL = {"id": "get_weather_0", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
ASKED = {"role": "user", "content": "Weather in Paris?"}
ANSWER = {"role": "tool", "tool_call_id": "get_weather_0", "name": "get_weather",
          "content": "18 C"}
TOOL_TURN = {"role": "assistant", "content": "", "tool_calls": [CALL]}
THOUGHT_TOOL_TURN = {**TOOL_TURN, "reasoning_content": "I should look it up."}
LONG = [{"role": "user", "content": "word " * 9000}]

FIXED = "invalid {}: only {} is allowed for this model"
TOO_NEAR_ZERO = ("Invalid request: when temperature is close to 0 (below 0.001), only 1 result "
                 "can be returned; set n to 1 or raise the temperature")
OVER_STOP = ("Invalid request: stop sequence {!r} is {} bytes; each stop sequence must not "
             "exceed 32 bytes")
NO_REASONING = ("thinking is enabled but reasoning_content is missing in assistant tool call "
                "message at index {}")

# (model, body fragment, status, type, message); type invalid_request_error unless stated
REJECTED = {
    "empty messages": ("kimi-k2.6", {"messages": []}, 400,
                       "Invalid request: messages must not be empty"),
    "window: long prompt": ("moonshot-v1-8k", {"messages": LONG}, 400,
                            "Invalid request: Your request exceeded model token limit: 8192"),
    "window: huge budget": ("moonshot-v1-8k", {"max_completion_tokens": 9000}, 400,
                            "Invalid request: Your request exceeded model token limit: 8192"),
    "window: max_tokens": ("moonshot-v1-32k", {"max_tokens": 40000}, 400,
                           "Invalid request: Your request exceeded model token limit: 32768"),
    "window: k2.6": ("kimi-k2.6", {"max_completion_tokens": 262144}, 400,
                     "Invalid request: Your request exceeded model token limit: 262144"),
    "window: auto past 128k": ("moonshot-v1-auto", {"max_completion_tokens": 131072}, 400,
                               "Invalid request: Your request exceeded model token limit: "
                               "131072"),
    "k2.6 temperature, thinking": ("kimi-k2.6", {"temperature": 0.7}, 400,
                                   FIXED.format("temperature", 1)),
    "k2.6 temperature 0.6, thinking": ("kimi-k2.6", {"temperature": 0.6}, 400,
                                       FIXED.format("temperature", 1)),
    "k2.6 temperature 1, no thinking": ("kimi-k2.6", {"temperature": 1, "thinking": OFF}, 400,
                                        FIXED.format("temperature", 0.6)),
    "k2.5 temperature, thinking": ("kimi-k2.5", {"temperature": 0.3}, 400,
                                   FIXED.format("temperature", 1)),
    "k2.5 temperature 1, no thinking": ("kimi-k2.5", {"temperature": 1.0, "thinking": OFF}, 400,
                                        FIXED.format("temperature", 0.6)),
    "k2.6 top_p": ("kimi-k2.6", {"top_p": 0.9}, 400, FIXED.format("top_p", 0.95)),
    "k2.5 top_p": ("kimi-k2.5", {"top_p": 1}, 400, FIXED.format("top_p", 0.95)),
    "k2.6 n": ("kimi-k2.6", {"n": 2}, 400, FIXED.format("n", 1)),
    "k2.5 n": ("kimi-k2.5", {"n": 5}, 400, FIXED.format("n", 1)),
    "k2.6 presence_penalty": ("kimi-k2.6", {"presence_penalty": 0.5}, 400,
                              FIXED.format("presence_penalty", 0)),
    "k2.6 frequency_penalty": ("kimi-k2.6", {"frequency_penalty": -1}, 400,
                               FIXED.format("frequency_penalty", 0)),
    "k2.5 penalty, no thinking": ("kimi-k2.5", {"presence_penalty": 1, "thinking": OFF}, 400,
                                  FIXED.format("presence_penalty", 0)),
    "thinking and reasoning_effort": ("kimi-k2.6", {"thinking": {"type": "enabled"},
                                                    "reasoning_effort": "high"}, 400,
                                      "cannot specify both 'thinking' and 'reasoning_effort'"),
    "always-thinking disabled": ("kimi-k2-thinking", {"thinking": OFF}, 400,
                                 "invalid thinking: only type=enabled is allowed for this model"),
    "thinking + required": ("kimi-k2.6", {"tools": [WEATHER], "tool_choice": "required"}, 400,
                            "tool_choice 'required' is incompatible with thinking enabled"),
    "thinking + specified": ("kimi-k2.5", {"tools": [WEATHER], "tool_choice": {
        "type": "function", "function": {"name": "get_weather"}}}, 400,
        "tool_choice 'specified' is incompatible with thinking enabled"),
    "required without tools": ("moonshot-v1-8k", {"tool_choice": "required"}, 400,
                               "Invalid request: tool_choice 'required' needs tools, but the "
                               "request has none"),
    "specified, not in tools": ("moonshot-v1-8k", {"tools": [WEATHER], "tool_choice": {
        "type": "function", "function": {"name": "get_time"}}}, 400,
        "Invalid request: tool_choice names function get_time, which is not in tools"),
    "duplicate tool names": ("moonshot-v1-8k", {"tools": [WEATHER, WEATHER]}, 400,
                             "Invalid request: function name get_weather is duplicated"),
    "parameters not an object": ("moonshot-v1-8k", {"tools": [{"type": "function", "function": {
        "name": "get_weather", "parameters": {"type": "array"}}}]}, 400,
        "Invalid request: tools[0].function.parameters is not a valid moonshot flavored json "
        "schema, details: <At path 'root': the root schema must be of type object>"),
    "no reasoning in tool history": ("kimi-k2.6", {"messages": [ASKED, TOOL_TURN, ANSWER]}, 400,
                                     NO_REASONING.format(1)),
    "no reasoning, later turn": ("kimi-k2.5", {"messages": [
        ASKED, THOUGHT_TOOL_TURN, ANSWER, {"role": "assistant", "content": "18 C."}, ASKED,
        {**TOOL_TURN, "tool_calls": [{**CALL, "id": "get_weather_1"}]},
        {**ANSWER, "tool_call_id": "get_weather_1"}]}, 400, NO_REASONING.format(5)),
    "tool answering nothing": ("moonshot-v1-8k", {"messages": [
        ASKED, {"role": "tool", "tool_call_id": "nope_0", "content": "x"}]}, 400,
        "Invalid request: the message at position 1 with role 'tool' answers tool_call_id "
        "'nope_0', which is not found in the tool calls of the assistant message before it"),
    "unanswered tool call": ("moonshot-v1-8k", {"messages": [ASKED, TOOL_TURN, ASKED]}, 400,
                             "Invalid request: the assistant message at position 1 has "
                             "tool_calls without response messages: get_weather_0; each "
                             "tool_call_id must be answered by a message with role 'tool'"),
    "tool call left last": ("moonshot-v1-8k", {"messages": [ASKED, TOOL_TURN]}, 400,
                            "Invalid request: the assistant message at position 1 has "
                            "tool_calls without response messages: get_weather_0; each "
                            "tool_call_id must be answered by a message with role 'tool'"),
    "empty assistant message": ("moonshot-v1-8k", {"messages": [
        {"role": "system", "content": "Be brief."}, ASKED,
        {"role": "assistant", "content": ""}, ASKED]}, 400,
        "Invalid request: the message at position 2 with role 'assistant' must not be empty"),
    "assistant with no content": ("kimi-k2.6", {"messages": [ASKED, {"role": "assistant"},
                                                             ASKED]}, 400,
                                  "Invalid request: the message at position 1 with role "
                                  "'assistant' must not be empty"),
    "stop over 32 bytes": ("moonshot-v1-8k", {"stop": "x" * 33}, 400,
                           OVER_STOP.format("x" * 33, 33)),
    "stop of 17 two-byte chars": ("moonshot-v1-8k", {"stop": ["ok", "é" * 17]}, 400,
                                  OVER_STOP.format("é" * 17, 34)),
    "n > 1 at temperature 0": ("moonshot-v1-8k", {"n": 2, "temperature": 0}, 400,
                               TOO_NEAR_ZERO),
    "n > 1 at temperature 0.0005": ("moonshot-v1-128k", {"n": 3, "temperature": 0.0005}, 400,
                                    TOO_NEAR_ZERO),
    "max_completion_tokens 0": ("moonshot-v1-8k", {"max_completion_tokens": 0}, 400,
                                "Invalid request: max_completion_tokens must be at least 1, "
                                "got 0"),
    "max_tokens 0": ("moonshot-v1-8k", {"max_tokens": 0}, 400,
                     "Invalid request: max_tokens must be at least 1, got 0"),
}

ACCEPTED = {
    "k2.6 all fixed values": ("kimi-k2.6", {"temperature": 1, "top_p": 0.95, "n": 1,
                                            "presence_penalty": 0, "frequency_penalty": 0}),
    "k2.6 no thinking, 0.6": ("kimi-k2.6", {"temperature": 0.6, "thinking": OFF}),
    "k2.5 fixed values": ("kimi-k2.5", {"temperature": 1.0, "top_p": 0.95, "n": 1}),
    "k2.5 no thinking, 0.6": ("kimi-k2.5", {"temperature": 0.6, "top_p": 0.95, "thinking": OFF}),
    "k2.6 reasoning_effort max": ("kimi-k2.6", {"reasoning_effort": "max"}),
    "thinking + auto": ("kimi-k2.6", {"tools": [WEATHER], "tool_choice": "auto"}),
    "thinking + none": ("kimi-k2.6", {"tools": [WEATHER], "tool_choice": "none"}),
    "reasoning kept in tool history": ("kimi-k2.6", {"messages": [ASKED, THOUGHT_TOOL_TURN,
                                                                  ANSWER]}),
    "no reasoning, thinking off": ("kimi-k2.6", {"messages": [ASKED, TOOL_TURN, ANSWER],
                                                 "thinking": OFF}),
    "moonshot-v1 tool history": ("moonshot-v1-8k", {"messages": [ASKED, TOOL_TURN, ANSWER]}),
    "tool message without name": ("moonshot-v1-8k", {"messages": [
        ASKED, TOOL_TURN, {k: v for k, v in ANSWER.items() if k != "name"}]}),
    "stop of 32 bytes": ("moonshot-v1-8k", {"stop": ["é" * 16, "x" * 32]}),
    "n > 1 at temperature 0.3": ("moonshot-v1-8k", {"n": 2, "temperature": 0.3}),
    "n 1 at temperature 0": ("moonshot-v1-8k", {"n": 1, "temperature": 0}),
    "partial role-play": ("moonshot-v1-8k", {"messages": [
        ASKED, {"role": "assistant", "name": "Dr. Kelsier", "content": "", "partial": True}]}),
    "ignored extras": ("moonshot-v1-8k", {"seed": 3, "user": "u-1", "parallel_tool_calls": True}),
}

MOONSHOT_ONLY = ("thinking",)


def send(client, model: str, fragment: dict):
    """The request through the SDK; Moonshot-only fields ride in `extra_body`."""
    body = {"messages": HELLO, **fragment}
    known = {k: v for k, v in body.items() if k not in MOONSHOT_ONLY}
    extra = {k: v for k, v in body.items() if k in MOONSHOT_ONLY}
    return client.chat.completions.create(model=model, **known, extra_body=extra or None)


@pytest.mark.parametrize(("model", "fragment", "status", "message"), REJECTED.values(),
                         ids=REJECTED.keys())
def test_a_broken_rule_is_refused_with_the_real_message(client, mock, model, fragment,
                                                         status, message):
    with pytest.raises(openai.APIStatusError) as caught:
        send(client, model, fragment)
    assert caught.value.status_code == status
    assert caught.value.body == {"message": message, "type": "invalid_request_error"}
    assert mock.balance("sk-test").cash == 1000.0


@pytest.mark.parametrize(("model", "fragment"), ACCEPTED.values(), ids=ACCEPTED.keys())
def test_a_near_miss_is_accepted(client, model, fragment):
    reply = send(client, model, fragment)
    assert reply.choices and reply.choices[0].finish_reason in ("stop", "length", "tool_calls")


@pytest.mark.parametrize(("model", "window"), [("moonshot-v1-8k", 8192),
                                               ("moonshot-v1-32k", 32768)])
def test_the_window_holds_prompt_plus_budget_exactly(client, model, window):
    estimate = client.post("/tokenizers/estimate-token-count", cast_to=object,
                           body={"model": model, "messages": HELLO})
    room = window - estimate["data"]["total_tokens"]
    assert send(client, model, {"max_completion_tokens": room}).choices
    with pytest.raises(openai.BadRequestError) as caught:
        send(client, model, {"max_completion_tokens": room + 1})
    assert caught.value.body["message"] == (
        f"Invalid request: Your request exceeded model token limit: {window}")


@pytest.mark.parametrize("content", ["", []])
def test_an_empty_user_message_is_refused(client, content):
    """The spec: 'content must not be empty, except on an assistant message carrying
    tool_calls'; the real text for an empty assistant names position and role (§4.1)."""
    with pytest.raises(openai.BadRequestError) as caught:
        send(client, "moonshot-v1-8k", {"messages": [
            {"role": "system", "content": "Be brief."}, {"role": "user", "content": content}]})
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"].startswith(
        "Invalid request: the message at position 1 with role 'user'")


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6"])
def test_reasoning_effort_none_does_not_turn_thinking_off(client, model):
    """§17: 'reasoning_effort: "none"' is rejected on k2.5/k2.6; disable thinking with
    'thinking: {"type": "disabled"}' instead."""
    with pytest.raises(openai.BadRequestError) as caught:
        send(client, model, {"reasoning_effort": "none"})
    assert caught.value.body["type"] == "invalid_request_error"
    assert "reasoning_effort" in caught.value.body["message"]
