"""The published spec (GET /_mockshot/openapi.json, `mockshot openapi`): valid OpenAPI,
with streams described by an item schema that every frame mockshot streams meets."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import jsonschema
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from mockshot import Mock, Settings, create_app, fault, http_client
from mockshot.published import EVENT_SCHEMA, published_document

from .streams import frames

AUTH = {"Authorization": "Bearer sk-published"}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
STREAMS = {
    "thinking": {"model": "kimi-k2.6"},
    "usage chunk": {"model": "moonshot-v1-8k", "stream_options": {"include_usage": True}},
    "tool calls": {"model": "moonshot-v1-8k", "tools": TOOLS, "tool_choice": "required"},
    "several choices": {"model": "moonshot-v1-8k", "n": 3, "temperature": 0.5},
    "length cut": {"model": "kimi-k2.6", "max_completion_tokens": 5},
}


def stream_media(document: dict) -> dict:
    return document["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"][
        "text/event-stream"]


def test_the_31_document_is_valid_openapi_and_says_what_a_stream_body_is():
    document = published_document()
    validate(copy.deepcopy(document), cls=OpenAPIV31SpecValidator)
    media = stream_media(document)
    assert media["schema"]["type"] == "string" and media["x-itemSchema"] == EVENT_SCHEMA


def test_the_32_document_uses_item_schema():
    document = published_document("3.2")
    assert document["openapi"] == "3.2.0" and stream_media(document) == {
        "itemSchema": EVENT_SCHEMA}
    with pytest.raises(ValueError, match=r"one of 3\.1, 3\.2"):
        published_document("4.0")


def test_served_and_printed_documents_are_the_published_one():
    app = create_app(Settings(clock="virtual", admin_token="secret", host="0.0.0.0"))
    with http_client(app) as http:
        served = http.get("/_mockshot/openapi.json")  # tools fetch it without the token
        assert served.status_code == 200 and served.json() == published_document()
        assert http.get("/_mockshot/openapi.json?version=3.2").json()["openapi"] == "3.2.0"
        assert http.get("/_mockshot/openapi.json?version=9").status_code == 400
    printed = subprocess.run([sys.executable, "-m", "mockshot", "openapi"],
                             capture_output=True, text=True, check=True).stdout
    assert json.loads(printed) == published_document()


def event_errors(payload: bytes) -> list[str]:
    """What is wrong with one event against the item schema, `contentSchema` applied (a
    validator only annotates it, so the decoded JSON is checked against it here)."""
    document = published_document()
    schema = {**EVENT_SCHEMA, "components": document["components"]}
    event = {"data": payload.decode()}
    found = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(event)]
    if payload != b"[DONE]" and not found:
        content = EVENT_SCHEMA["properties"]["data"]["anyOf"][1]["contentSchema"]
        checker = jsonschema.Draft202012Validator({**content,
                                                   "components": document["components"]})
        try:
            decoded = json.loads(payload)
        except ValueError as exc:
            return [f"not JSON: {exc}"]
        found = [e.message for e in checker.iter_errors(decoded)]
    return found


@pytest.mark.parametrize("body", STREAMS.values(), ids=STREAMS.keys())
def test_every_frame_mockshot_streams_meets_the_item_schema(body):
    with http_client(create_app(Settings(clock="virtual"))) as http:
        reply = http.post("/v1/chat/completions", headers=AUTH, json={
            **body, "stream": True, "messages": [{"role": "user", "content": "Hi"}]})
    events = frames(reply.content)
    assert events[-1] == b"[DONE]" and len(events) > 3
    assert {payload: event_errors(payload) for payload in events if event_errors(payload)} == {}


def test_an_error_frame_mid_stream_meets_the_item_schema_too():
    mock = Mock(Settings(clock="virtual"))
    mock.on().reply(fault("error_frame", after=2))
    with http_client(create_app(mock=mock)) as http:
        reply = http.post("/v1/chat/completions", headers=AUTH, json={
            "model": "moonshot-v1-8k", "stream": True,
            "messages": [{"role": "user", "content": "Hi"}]})
    events = frames(reply.content)
    assert b'"error"' in events[-1]
    assert [event_errors(p) for p in events] == [[]] * len(events)


def test_the_item_schema_refuses_what_is_not_a_chunk():
    assert event_errors(b'{"object": "chat.completion.chunk"}')
    assert event_errors(b"[done]")
