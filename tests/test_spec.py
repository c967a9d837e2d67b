"""The contract: the vendored spec is untouched, the overlay is sound, and real payloads fit.

Payloads below are taken from /work/shared/reference/moonshot-api.md (section noted on each).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator, validate

from mockshot.overlay import OverlayError, apply_overlay, parse_target
from mockshot.spec import load_document, load_spec

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"
SEED_SPEC = Path("/work/shared/seed/moonshot-ai-openapi.json")
CHAT_ID = "chatcmpl-6a5aba7e3fbb8333b875d4a9"


def doc() -> dict:
    return load_document(str(OPENAPI_DIR))


def overlay() -> dict:
    return json.loads((OPENAPI_DIR / "overlay.json").read_text(encoding="utf-8"))


def schema_validator(schema: dict) -> Draft202012Validator:
    """A validator for `schema` whose `#/components/...` refs resolve in the effective doc."""
    return Draft202012Validator({**schema, "components": doc()["components"]})


def component(name: str) -> Draft202012Validator:
    return schema_validator({"$ref": f"#/components/schemas/{name}"})


def sse_chunks(text: str) -> list[dict]:
    """`data: <json>` lines of an SSE body, up to `data: [DONE]`."""
    events = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


# --- the vendored spec and the overlay document -------------------------------------------


# sha256 of shared/seed/moonshot-ai-openapi.json as published (vendored 2026-11-25)
SEED_SHA256 = "19811208d35cc7b6a0ec49d18d0b413201e95fd87b2a74182b0827e7c3fa2112"


def test_vendored_spec_is_byte_identical_to_seed():
    """Checked by hash, so it runs in any checkout; and byte for byte against the seed
    itself where the shared folder sits beside the repo (as in CI)."""
    vendored = (OPENAPI_DIR / "moonshot-ai-openapi.json").read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == SEED_SHA256
    assert not SEED_SPEC.exists() or vendored == SEED_SPEC.read_bytes()


def test_effective_document_is_valid_openapi_31():
    validate(copy.deepcopy(doc()), cls=OpenAPIV31SpecValidator)


def test_overlay_is_an_overlay_1_document():
    data = overlay()
    assert data["overlay"] == "1.0.0"
    assert data["info"]["title"]
    assert data["actions"]


def test_every_action_has_a_one_line_description():
    for action in overlay()["actions"]:
        text = action.get("description", "")
        assert text.strip(), action["target"]
        assert "\n" not in text, action["target"]


def test_every_action_updates_or_removes():
    for action in overlay()["actions"]:
        assert ("update" in action) != bool(action.get("remove")), action["target"]
        parse_target(action["target"])


def test_effective_document_is_cached_and_differs_from_vendored():
    vendored = json.loads((OPENAPI_DIR / "moonshot-ai-openapi.json").read_text(encoding="utf-8"))
    assert doc() is doc()
    assert doc() != vendored
    assert "ChatCompletionChunk" not in vendored["components"]["schemas"]


# --- apply_overlay semantics -----------------------------------------------------------------


def test_parse_target():
    assert parse_target("$.paths['/v1/files'].get") == ["paths", "/v1/files", "get"]
    assert parse_target("$.components.schemas.Message") == ["components", "schemas", "Message"]
    assert parse_target("$") == []


def test_update_merges_objects_recursively():
    base = {"a": {"b": 1, "c": {"d": 2}}}
    result = apply_overlay(base, {"actions": [{"target": "$.a", "update": {"c": {"e": 3}}}]})
    assert result == {"a": {"b": 1, "c": {"d": 2, "e": 3}}}
    assert base == {"a": {"b": 1, "c": {"d": 2}}}


def test_update_replaces_lists_and_scalars():
    base = {"s": {"enum": ["x", "y"], "type": "string", "n": 1}}
    update = {"enum": ["z"], "type": ["string", "null"], "n": 2}
    result = apply_overlay(base, {"actions": [{"target": "$.s", "update": update}]})
    assert result["s"] == {"enum": ["z"], "type": ["string", "null"], "n": 2}


def test_update_targeting_a_list_replaces_it():
    base = {"s": {"required": ["a", "b"]}}
    result = apply_overlay(base, {"actions": [{"target": "$.s.required", "update": ["a"]}]})
    assert result["s"]["required"] == ["a"]


def test_update_adds_a_missing_key():
    base = {"paths": {"/v1/x": {}}}
    action = {"target": "$.paths['/v1/x'].get", "update": {"summary": "new"}}
    assert apply_overlay(base, {"actions": [action]})["paths"]["/v1/x"]["get"] == {"summary": "new"}


def test_root_update_merges_into_document():
    result = apply_overlay({"a": 1}, {"actions": [{"target": "$", "update": {"b": 2}}]})
    assert result == {"a": 1, "b": 2}


def test_remove_deletes_target():
    base = {"a": {"b": 1, "c": 2}}
    result = apply_overlay(base, {"actions": [{"target": "$.a.b", "remove": True}]})
    assert result == {"a": {"c": 2}}
    assert base == {"a": {"b": 1, "c": 2}}


def test_actions_apply_in_order():
    actions = [
        {"target": "$.a.b", "remove": True},
        {"target": "$.a", "update": {"b": {"$ref": "#/x"}}},
    ]
    assert apply_overlay({"a": {"b": {"type": "object"}}}, {"actions": actions}) == {
        "a": {"b": {"$ref": "#/x"}}
    }


@pytest.mark.parametrize(
    "action",
    [
        {"target": "$.missing.child", "update": {}},
        {"target": "$.a.missing", "remove": True},
        {"target": "a.b", "update": {}},
        {"target": "$.a[0]", "update": {}},
        {"target": "$", "remove": True},
    ],
)
def test_bad_target_raises(action):
    with pytest.raises(OverlayError):
        apply_overlay({"a": {"b": 1}}, {"actions": [action]})


# --- schemas compile -------------------------------------------------------------------------


def test_every_component_schema_is_valid_2020_12():
    for schema in doc()["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def refs(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def test_every_ref_resolves():
    for ref in set(refs(doc())):
        node = doc()
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, ref
            node = node[part]


def test_request_validators_compile_with_jsonschema_rs():
    load_spec(str(OPENAPI_DIR)).compile_all()


# --- responses: payloads from the reference --------------------------------------------------

# §1.1, kimi-k2.6 (vercel file-reference-live.json)
COMPLETION = {
    "id": "chatcmpl-6a8de8a98709c8ec9c4875ac",
    "object": "chat.completion",
    "created": 1787685033,
    "model": "kimi-k2.6",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "IMAGE_OK", "reasoning_content": ""},
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 18,
        "completion_tokens": 5,
        "total_tokens": 23,
        "cached_tokens": 6,
        "completion_tokens_details": {"reasoning_tokens": 1},
        "prompt_tokens_details": {"cached_tokens": 6},
    },
}

# §1.3 / §4.1: a tool-call reply, content "" and index even non-stream
TOOL_CALL_REPLY = {
    "id": "chatcmpl-6a8de8e9aa990b556e50e057",
    "object": "chat.completion",
    "created": 1787685097,
    "model": "kimi-k2.6",
    "system_fingerprint": "fpv0_1c3effa9",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "",
                "reasoning_content": "The user wants the weather in Paris.",
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "get_weather_0",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 87, "completion_tokens": 32, "total_tokens": 119},
}

# §2.2, kimi-k3 with stream_options.include_usage (K3 log)
K3_STREAM = """\
data: {"id":"chatcmpl-6a5aba7e3fbb8333b875d4a9","object":"chat.completion.chunk","created":1784330879,"model":"kimi-k3","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"system_fingerprint":"fpv0_25844b67"}

data: {"id":"chatcmpl-6a5aba7e3fbb8333b875d4a9","object":"chat.completion.chunk","created":1784330879,"model":"kimi-k3","choices":[{"index":0,"delta":{"reasoning_content":"The"},"finish_reason":null}],"system_fingerprint":"fpv0_25844b67"}

data: {"id":"chatcmpl-6a5aba7e3fbb8333b875d4a9","object":"chat.completion.chunk","created":1784330879,"model":"kimi-k3","choices":[{"index":0,"delta":{"content":"?"},"finish_reason":null}],"system_fingerprint":"fpv0_25844b67"}

data: {"id":"chatcmpl-6a5aba7e3fbb8333b875d4a9","object":"chat.completion.chunk","created":1784330879,"model":"kimi-k3","choices":[{"index":0,"delta":{},"finish_reason":"stop","usage":{"prompt_tokens":89,"completion_tokens":67,"total_tokens":156,"completion_tokens_details":{"reasoning_tokens":26}}}],"system_fingerprint":"fpv0_25844b67"}

data: {"id":"chatcmpl-6a5aba7e3fbb8333b875d4a9","object":"chat.completion.chunk","created":1784330879,"model":"kimi-k3","choices":[],"usage":{"prompt_tokens":89,"completion_tokens":67,"total_tokens":156,"completion_tokens_details":{"reasoning_tokens":26}}}

data: [DONE]
"""  # noqa: E501


def chunk(choices: list, **extra) -> dict:
    head = {"id": CHAT_ID, "object": "chat.completion.chunk", "created": 1784330879}
    return {**head, "model": "kimi-k2.6", "choices": choices, **extra}


# §2.4, tool-call deltas (vercel metadata-live.chunks.txt)
TOOL_CALL_CHUNKS = [
    chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
    chunk(
        [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "get_weather_0",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ]
                },
                "finish_reason": None,
            }
        ]
    ),
    chunk(
        [
            {
                "index": 0,
                "delta": {
                    "tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Paris"}'}}]
                },
                "finish_reason": None,
            }
        ]
    ),
    chunk(
        [
            {
                "index": 0,
                "delta": {},
                "finish_reason": "tool_calls",
                "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100},
            }
        ]
    ),
]

# §10.1, 2026 upload (Files log)
FILE_OBJECT = {
    "id": "fac83g4rduhi11c1ey11",
    "object": "file",
    "bytes": 13093,
    "created_at": 1779720376,
    "filename": "real.png",
    "purpose": "image",
    "status": "ready",
    "status_details": "",
    "file_type": "image/png",
}

# §10.4, file-extract content
FILE_CONTENT = {
    "content": "文件内容1\n\n文件内容2",
    "file_type": "text/plain",
    "filename": "我是一个文件.txt",
    "title": "",
    "type": "file",
}

# §12, 2024 api.moonshot.cn and the K3 entry
MODEL_2024 = {
    "created": 1712151494,
    "id": "moonshot-v1-8k",
    "object": "model",
    "owned_by": "moonshot",
    "permission": [
        {
            "created": 0,
            "id": "",
            "object": "",
            "allow_create_engine": False,
            "allow_sampling": False,
            "allow_logprobs": False,
            "allow_search_indices": False,
            "allow_view": False,
            "allow_fine_tuning": False,
            "organization": "public",
            "group": "public",
            "is_blocking": False,
        }
    ],
    "root": "",
    "parent": "",
}
EFFORTS = {"support": True, "valid_efforts": ["max"], "default_effort": "max"}
MODEL_K3 = {
    "created": 1784000000,
    "id": "kimi-k3",
    "object": "model",
    "owned_by": "moonshot",
    "context_length": 1048576,
    "supports_image_in": True,
    "supports_video_in": True,
    "supports_reasoning": True,
    "supports_dynamic_tools": True,
    "supports_thinking_type": "only",
    "think_efforts": EFFORTS,
    "reasoning_efforts": EFFORTS,
}


def response_schema(path: str, method: str, status: str, media: str) -> dict:
    return doc()["paths"][path][method]["responses"][status]["content"][media]["schema"]


def test_reference_chat_completion_validates():
    component("ChatCompletionResponse").validate(COMPLETION)


def test_tool_call_reply_validates():
    component("ChatCompletionResponse").validate(TOOL_CALL_REPLY)


def test_builtin_web_search_call_validates():
    reply = copy.deepcopy(TOOL_CALL_REPLY)
    arguments = '{"search_result":{"search_id":"abc"},"usage":{"total_tokens":7981}}'
    reply["choices"][0]["message"]["tool_calls"] = [
        {
            "index": 0,
            "id": "web_search_0",
            "type": "builtin_function",
            "function": {"name": "$web_search", "arguments": arguments},
        }
    ]
    component("ChatCompletionResponse").validate(reply)


def test_reference_stream_chunks_validate():
    validator = component("ChatCompletionChunk")
    chunks = sse_chunks(K3_STREAM)
    assert len(chunks) == 5
    for item in chunks:
        validator.validate(item)


def test_tool_call_chunks_validate():
    for item in TOOL_CALL_CHUNKS:
        component("ChatCompletionChunk").validate(item)


def test_stream_is_offered_as_event_stream():
    content = doc()["paths"]["/v1/chat/completions"]["post"]["responses"]["200"]["content"]
    assert content["text/event-stream"]["schema"] == {
        "$ref": "#/components/schemas/ChatCompletionChunk"
    }
    assert "application/json" in content


def test_file_object_validates():
    component("FileObject").validate(FILE_OBJECT)
    legacy = {key: value for key, value in FILE_OBJECT.items() if key != "file_type"}
    component("FileObject").validate({**legacy, "status": "ok", "purpose": "file-extract"})
    component("FileObject").validate({**FILE_OBJECT, "purpose": "batch_output"})


def test_file_content_validates():
    schema = response_schema("/v1/files/{file_id}/content", "get", "200", "application/json")
    schema_validator(schema).validate(FILE_CONTENT)


def test_file_list_validates():
    validator = component("FileListResponse")
    full = {"object": "list", "data": [FILE_OBJECT], "has_more": False}
    validator.validate({**full, "first_id": FILE_OBJECT["id"], "last_id": FILE_OBJECT["id"]})
    validator.validate(
        {"object": "list", "data": [], "first_id": "", "last_id": "", "has_more": False}
    )


def test_files_list_takes_cursor_parameters():
    names = {param["name"] for param in doc()["paths"]["/v1/files"]["get"]["parameters"]}
    assert names == {"after", "limit", "order"}


def test_batch_list_without_first_and_last_id_validates():
    component("BatchListResponse").validate({"object": "list", "data": [], "has_more": False})


def test_error_body_validates():
    body = {"error": {"message": "Not found the model kimi-not-exist or Permission denied",
                      "type": "resource_not_found_error"}}  # fmt: skip
    component("ErrorResponse").validate(body)


def test_models_list_validates():
    schema = response_schema("/v1/models", "get", "200", "application/json")
    schema_validator(schema).validate({"object": "list", "data": [MODEL_2024, MODEL_K3]})


@pytest.mark.parametrize(
    ("path", "method"),
    [("/v1/chat/completions", "post"), ("/v1/tokenizers/estimate-token-count", "post")],
)
def test_model_errors_are_documented(path, method):
    responses = doc()["paths"][path][method]["responses"]
    for status in ("400", "401", "404", "429"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }


# --- responses that must fail ----------------------------------------------------------------


def without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    "reply",
    [
        without(COMPLETION, "choices"),
        without(COMPLETION, "usage"),
        {**COMPLETION, "object": "chat.completion.chunk"},
        {**COMPLETION, "usage": {**COMPLETION["usage"], "cached_tokens": 0}},
        {**COMPLETION, "usage": without(COMPLETION["usage"], "total_tokens")},
        {
            **COMPLETION,
            "choices": [{**COMPLETION["choices"][0], "finish_reason": "content_filter"}],
        },
        {**COMPLETION, "choices": [without(COMPLETION["choices"][0], "message")]},
    ],
)
def test_bad_completion_fails(reply):
    assert not component("ChatCompletionResponse").is_valid(reply)


def test_bad_tool_call_type_fails():
    reply = copy.deepcopy(TOOL_CALL_REPLY)
    reply["choices"][0]["message"]["tool_calls"][0]["type"] = "bogus"
    assert not component("ChatCompletionResponse").is_valid(reply)


def test_usage_on_a_non_finish_chunk_fails():
    first = copy.deepcopy(TOOL_CALL_CHUNKS[0])
    first["choices"][0]["usage"] = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    assert not component("ChatCompletionChunk").is_valid(first)


def test_finish_chunk_without_usage_fails():
    last = copy.deepcopy(TOOL_CALL_CHUNKS[-1])
    del last["choices"][0]["usage"]
    assert not component("ChatCompletionChunk").is_valid(last)


def test_usage_chunk_with_choices_fails():
    *_, finish, usage_chunk = sse_chunks(K3_STREAM)
    assert not component("ChatCompletionChunk").is_valid(
        {**usage_chunk, "choices": finish["choices"]}
    )


def test_error_without_type_fails():
    assert not component("ErrorResponse").is_valid({"error": {"message": "boom"}})


def test_file_list_without_cursor_fields_fails():
    assert not component("FileListResponse").is_valid({"object": "list", "data": [FILE_OBJECT]})


def test_file_content_without_type_fails():
    assert not component("FileContentResponse").is_valid(without(FILE_CONTENT, "type"))


# --- requests --------------------------------------------------------------------------------

TOOL_HISTORY = [
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": "",
        "reasoning_content": "Call the tool.",
        "tool_calls": [
            {
                "id": "get_weather_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "get_weather_0", "name": "get_weather", "content": "sunny"},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
}
WEB_SEARCH_TOOL = {"type": "builtin_function", "function": {"name": "$web_search"}}


def test_tool_history_validates():
    request = {"model": "kimi-k2.6", "messages": TOOL_HISTORY}
    component("KimiK26ChatRequest").validate(request)
    assistant = {**TOOL_HISTORY[1], "content": None}
    component("Message").validate(assistant)
    component("Message").validate(without(assistant, "content"))


@pytest.mark.parametrize(
    "message",
    [
        {"role": "robot", "content": "hi"},
        {"content": "hi"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "x_0"}]},
    ],
)
def test_bad_message_fails(message):
    assert not component("Message").is_valid(message)


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": [WEATHER_TOOL, WEB_SEARCH_TOOL]},
        {"tool_choice": "required"},
        {"tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        {"tool_choice": None, "stop": None, "prompt_cache_key": None},
        {"reasoning_effort": "max", "logprobs": True, "top_logprobs": 5},
        {"user": "u1", "seed": 7, "parallel_tool_calls": False, "service_tier": "auto"},
        {"stream": True, "stream_options": {"include_usage": True}},
    ],
)
def test_accepted_request_fields(extra):
    request = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], **extra}
    component("KimiK26ChatRequest").validate(request)


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": [{"function": WEATHER_TOOL["function"]}]},
        {"tools": [{"type": "function", "function": {"name": "get_weather"}}]},
        {"tools": [{"type": "function", "function": {"name": "$web_search", "parameters": {}}}]},
        {"tools": [{"type": "builtin_function", "function": {"name": "web_search"}}]},
        {"tool_choice": "always"},
        {"tool_choice": {"type": "function"}},
        {"top_logprobs": 21},
        {"response_format": {"type": "yaml"}},
        {"temperature": "hot"},
    ],
)
def test_rejected_request_fields(extra):
    request = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": "hi"}], **extra}
    assert not component("KimiK26ChatRequest").is_valid(request)


def test_estimate_accepts_any_model_string_and_tool_messages():
    validator = component("EstimateTokenRequest")
    validator.validate({"model": "kimi-k2-thinking", "messages": TOOL_HISTORY})
    validator.validate({"model": "kimi-not-exist", "messages": TOOL_HISTORY})
    assert not validator.is_valid({"model": 5, "messages": TOOL_HISTORY})
