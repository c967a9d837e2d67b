"""One scenario file drives both surfaces: the same rules answer the openai SDK on
/v1/chat/completions and the anthropic SDK on /anthropic/v1/messages."""

from __future__ import annotations

from pathlib import Path

import anthropic
import openai

from mockshot import Settings, create_app, http_client

LOOP = str(Path(__file__).resolve().parent.parent / "scenarios" / "tool-call-loop.yaml")
WEATHER_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"},
                                                    "unit": {"type": "string"}},
                  "required": ["city"]}


def app_with_the_loop():
    return create_app(Settings(clock="virtual", scenario=(LOOP,)))


def test_the_openai_surface_follows_the_file():
    client = openai.OpenAI(api_key="sk-a", base_url="http://m/v1", max_retries=0,
                           http_client=http_client(app_with_the_loop()))
    tools = [{"type": "function", "function": {"name": "get_weather",
                                               "parameters": WEATHER_SCHEMA}}]
    ask = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model="kimi-k2.6", messages=ask, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    assert (call.function.name, call.function.arguments) == (
        "get_weather", '{"city": "Paris", "unit": "celsius"}')
    history = [*ask, first.choices[0].message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": "18 C, sunny"}]
    final = client.chat.completions.create(model="kimi-k2.6", messages=history, tools=tools)
    assert final.choices[0].message.content == "It is 18 °C and sunny in Paris right now."


def test_the_anthropic_surface_follows_the_same_file():
    claude = anthropic.Anthropic(api_key="sk-a", base_url="http://m/anthropic", max_retries=0,
                                 http_client=http_client(app_with_the_loop()))
    tools = [{"name": "get_weather", "input_schema": WEATHER_SCHEMA}]
    ask = [{"role": "user", "content": "What's the weather in Paris?"}]
    with claude.messages.stream(model="kimi-k2.6", max_tokens=400, messages=ask,
                                tools=tools) as stream:
        first = stream.get_final_message()
    use = next(b for b in first.content if b.type == "tool_use")
    assert (use.name, use.input) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    history = [*ask, {"role": "assistant", "content": [b.model_dump() for b in first.content]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id,
                                             "content": "18 C, sunny"}]}]
    final = claude.messages.create(model="kimi-k2.6", max_tokens=400, messages=history,
                                   tools=tools)
    assert final.stop_reason == "end_turn"
    assert [b.text for b in final.content if b.type == "text"] == [
        "It is 18 °C and sunny in Paris right now."]
