"""A client we did not write, tested against mockshot: LangChain's `ChatOpenAI`
(langchain-openai) for chat, streaming and a tool loop over a served mock, then the
coverage report says what it exercised — the contract-testing loop a gateway or agent
framework runs in its own CI."""

from __future__ import annotations

import httpx
import openai
import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from mockshot import tool_call


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"18C in {city}"


@pytest.fixture
def langchain(mockshot_server) -> ChatOpenAI:
    return ChatOpenAI(model="moonshot-v1-8k", base_url=mockshot_server.base_url,
                      api_key=mockshot_server.api_key, max_retries=0,
                      default_headers=mockshot_server.headers)


def report_of(mockshot_server) -> dict:
    reply = httpx.get(f"{mockshot_server.url}/_mockshot/report", headers=mockshot_server.headers)
    return reply.json()


def test_langchain_chat_streaming_and_tools_and_what_the_report_shows(mockshot_server,
                                                                      langchain):
    mockshot_server.on(contains="weather", tool_result=False).reply(
        tool_call("get_weather", city="Paris"))
    mockshot_server.on(tool_result="get_weather").reply("It is 18C in Paris.")

    assert langchain.invoke("Hello").content  # chat
    streamed = "".join(chunk.content for chunk in langchain.stream("Tell me a story"))
    assert streamed  # streaming

    bound = langchain.bind_tools([get_weather])  # a tool loop
    question = HumanMessage("What is the weather in Paris?")
    asked = bound.invoke([question])
    [called] = asked.tool_calls
    assert called["name"] == "get_weather" and called["args"] == {"city": "Paris"}
    result = ToolMessage(get_weather.invoke(called["args"]), tool_call_id=called["id"])
    assert bound.invoke([question, asked, result]).content == "It is 18C in Paris."

    report = report_of(mockshot_server)
    assert report["operations"]["POST /v1/chat/completions"]["calls"] == 4
    values = report["values"]
    assert values["stream"]["seen"] == {"false": 3, "true": 1}
    assert values["tools"]["seen"] == {"absent": 2, "offered": 2}
    assert {"user", "assistant", "tool"} <= set(values["message.role"]["seen"])
    assert {"json", "stream", "tool_calls", "finish:tool_calls", "finish:stop"} <= set(
        report["responses"]["seen"])
    assert report["violations"] == []
    fields = report["fields"]["POST /v1/chat/completions"]
    assert {"model", "messages", "stream", "tools"} <= set(fields["used"])
    assert fields["not_in_spec"] == []


def test_langchain_surfaces_a_refused_request_and_the_report_records_the_violation(
        mockshot_server):
    strict = ChatOpenAI(model="kimi-k2.6", base_url=mockshot_server.base_url, temperature=0.2,
                        api_key=mockshot_server.api_key, max_retries=0,
                        default_headers=mockshot_server.headers)
    with pytest.raises(openai.BadRequestError, match="invalid temperature: only 1 is allowed"):
        strict.invoke("Hello")
    [violation] = report_of(mockshot_server)["violations"]
    assert (violation["pointer"], violation["rule"], violation["expected"]) == (
        "/temperature", "fixed_sampling", 1)
