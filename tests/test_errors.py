"""Errors: Moonshot's envelope and texts, seen through the openai SDK's own error classes.

Texts and types from /work/shared/reference/moonshot-api.md §7 (and §4.1, §15). What the SDK
cannot send (broken bodies, missing headers, wrong methods) goes through the raw `http`
client. A failed request must never be a 500 and must leave the account as it was.
"""

from __future__ import annotations

import openai
import pytest

from mockshot import Settings

HELLO = [{"role": "user", "content": "Hello"}]
CHAT = "/v1/chat/completions"
JSON = {"content-type": "application/json"}


def envelope(reply) -> dict:
    """The error a raw reply carries, after checking it is exactly Moonshot's envelope."""
    body = reply.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type"}
    return body["error"]


# --- authentication (§7.2) --------------------------------------------------------------------


@pytest.mark.parametrize("key", [" ", "\t"])
def test_a_blank_key_is_an_incorrect_api_key(client, key):
    with pytest.raises(openai.AuthenticationError) as caught:
        client.with_options(api_key=key).models.list()
    assert caught.value.status_code == 401
    assert caught.value.body == {"message": "Incorrect API key provided",
                                 "type": "incorrect_api_key_error"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": ""}, {"Authorization": "Bearer "},
                                     {"Authorization": "Bearer"}])
def test_a_missing_or_empty_authorization_is_an_incorrect_api_key(http, headers):
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO}, headers=headers)
    assert reply.status_code == 401
    assert envelope(reply) == {"message": "Incorrect API key provided",
                               "type": "incorrect_api_key_error"}


@pytest.mark.parametrize("settings", [Settings(clock="virtual", api_key=("sk-good",))])
def test_a_key_the_mock_does_not_know_is_invalid_authentication(client):
    with pytest.raises(openai.AuthenticationError) as caught:
        client.with_options(api_key="sk-someone-else").chat.completions.create(
            model="kimi-k2.6", messages=HELLO)
    assert caught.value.body == {"message": "Invalid Authentication",
                                 "type": "invalid_authentication_error"}
    assert caught.value.type == "invalid_authentication_error"
    assert client.with_options(api_key="sk-good").models.list().data


# --- unknown models, paths and methods ----------------------------------------------------------


@pytest.mark.parametrize("model", ["kimi-not-exist", "kimi-thinking-preview", "gpt-4o"])
def test_an_unknown_model_is_not_found(client, model):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=model, messages=HELLO)
    assert caught.value.status_code == 404
    assert caught.value.body == {"message": f"Not found the model {model} or Permission denied",
                                 "type": "resource_not_found_error"}


def test_a_missing_model_is_a_schema_error_naming_the_field(http, auth):
    reply = http.post(CHAT, json={"messages": HELLO}, headers=auth)
    assert reply.status_code == 400
    error = envelope(reply)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid request: ")
    assert "model" in error["message"] and "None" not in error["message"]


@pytest.mark.parametrize("path", ["/v1/nope", "/v2/chat/completions", "/v1/models/extra/x"])
def test_an_unknown_path_is_404_in_the_envelope(http, auth, path):
    reply = http.get(path, headers=auth)
    assert reply.status_code == 404
    assert envelope(reply)["type"] == "resource_not_found_error"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", CHAT, "POST"),
    ("DELETE", "/v1/models", "GET"),
    ("PUT", "/v1/users/me/balance", "GET"),
])
def test_a_wrong_method_is_405_in_the_envelope(http, auth, method, path, allowed):
    reply = http.request(method, path, headers=auth)
    assert reply.status_code == 405
    error = envelope(reply)
    assert error["type"] == "invalid_request_error"
    assert method in error["message"] and path in error["message"]
    assert allowed in reply.headers["allow"]


# --- bodies the SDK cannot send ---------------------------------------------------------------


@pytest.mark.parametrize(("content", "headers", "says"), [
    (b'{"model": "kimi-k2.6", "messages": [', JSON, "not valid JSON"),
    (b'[{"model": "kimi-k2.6"}]', JSON, "must be a JSON object, not an array"),
    (b'"just a string"', JSON, "must be a JSON object"),
    (b'{"model": "kimi-k2.6"}', {"content-type": "text/plain"}, "unsupported content type"),
    (b'{"model": "kimi-\xff\xfe"}', JSON, "not valid UTF-8"),
    (b"", JSON, "empty"),
    (b"   \n", JSON, "empty"),
])
def test_a_broken_body_is_a_clear_400(http, auth, content, headers, says):
    reply = http.post(CHAT, content=content, headers={**auth, **headers})
    assert reply.status_code == 400
    error = envelope(reply)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("Invalid request: ")
    assert says in error["message"]


def test_a_seed_header_that_is_not_a_number_is_400(http, auth):
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO},
                      headers={**auth, "X-Mockshot-Seed": "abc"})
    assert reply.status_code == 400
    assert envelope(reply) == {"type": "invalid_request_error", "message":
                               "Invalid request: X-Mockshot-Seed must be an integer, got 'abc'"}


@pytest.mark.parametrize("settings", [Settings(clock="virtual", max_body_bytes=1000)])
@pytest.mark.parametrize("size", [1001, 5000, 200_000])
def test_a_body_over_the_size_limit_is_400(http, auth, size):
    filler = "x" * size
    reply = http.post(CHAT, json={"model": "kimi-k2.6", "messages": HELLO, "user": filler},
                      headers=auth)
    assert reply.status_code == 400
    error = envelope(reply)
    assert error["type"] == "invalid_request_error"
    sent = len(reply.request.content)
    assert error["message"].endswith(f"total message size {sent} exceeds limit 1000")


@pytest.mark.parametrize("settings", [Settings(clock="virtual", max_body_bytes=1000)])
def test_a_body_within_the_size_limit_is_served(client):
    assert client.chat.completions.create(model="kimi-k2.6", messages=HELLO).choices


# --- schema violations name the field (§7.1 `Invalid request: {error_details}`) --------------


@pytest.mark.parametrize(("extra", "field"), [
    ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
    ({"messages": [HELLO[0], {"role": "user", "content": 42}]}, "messages[1].content"),
    ({"messages": "Hello"}, "messages"),
    ({"temperature": 1.5}, "temperature"),
    ({"temperature": -0.1}, "temperature"),
    ({"top_p": 2}, "top_p"),
    ({"n": 6}, "n"),
    ({"n": 0}, "n"),
    ({"presence_penalty": 2.5}, "presence_penalty"),
    ({"max_completion_tokens": "many"}, "max_completion_tokens"),
    ({"response_format": {"type": "xml"}}, "response_format.type"),
    ({"stop": ["a", "b", "c", "d", "e", "f"]}, "stop"),
    ({"stream": "yes"}, "stream"),
])
def test_a_schema_violation_names_the_field(client, extra, field):
    body = {"model": "moonshot-v1-8k", "messages": HELLO, **extra}
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**body)
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"].startswith(f"Invalid request: {field}: ")


def test_too_many_stop_words_says_what_the_limit_is(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="moonshot-v1-8k", messages=HELLO,
                                       stop=["a", "b", "c", "d", "e", "f"])
    message = caught.value.body["message"]
    assert message.startswith("Invalid request: stop: ")
    assert "5" in message  # §15: at most 5 stop strings; an array is the right type
    assert "expected a null or a string or an array" not in message


# --- a failed request changes nothing but the journal ------------------------------------------


FAILURES = [
    ({"model": "kimi-k2.6", "messages": []}, 400),
    ({"model": "kimi-k2.6", "messages": HELLO, "temperature": 0.3}, 400),
    ({"model": "kimi-nope", "messages": HELLO}, 404),
    ({"model": "moonshot-v1-8k", "messages": HELLO, "max_completion_tokens": 9000}, 400),
]


@pytest.mark.parametrize(("body", "status"), FAILURES)
def test_a_failed_request_leaves_the_balance_alone_and_is_journalled(http, auth, mock, body,
                                                                      status):
    reply = http.post(CHAT, json=body, headers=auth)
    assert reply.status_code == status
    assert mock.balance("sk-test").cash == 1000.0
    (entry,) = mock.journal()
    assert entry.operation == "POST /v1/chat/completions"
    assert entry.status == status
    assert entry.body == body


def test_a_broken_body_is_journalled_too(http, auth, mock):
    http.post(CHAT, content=b"{oops", headers={**auth, **JSON})
    (entry,) = mock.journal()
    assert entry.status == 400


def test_an_empty_account_is_refused_with_429_and_not_charged(client, mock):
    mock.set_balance("sk-test", 0.0)
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=HELLO)
    assert caught.value.body["type"] == "exceeded_current_quota_error"
    assert caught.value.body["message"].startswith("Your account org-")
    assert caught.value.body["message"].endswith(
        "is suspended due to insufficient balance, please recharge your account or check "
        "your plan and billing details")
    assert mock.balance("sk-test").cash == 0.0


def test_a_refused_request_does_not_warm_the_prompt_cache(client, mock):
    mock.set_balance("sk-test", 0.0)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="kimi-k2.6", messages=HELLO)
    mock.set_balance("sk-test", 100.0)
    reply = client.chat.completions.create(model="kimi-k2.6", messages=HELLO)
    assert "cached_tokens" not in reply.usage.model_extra  # the first call that was served
    assert reply.usage.prompt_tokens_details is None


# --- content parts: the error names the part's own field ------------------------------------


@pytest.mark.parametrize(("content", "says"), [
    ([{"type": "text"}], 'messages[0].content[0].text: "text" is a required property'),
    ([{"type": "image_url", "image_url": {}}],
     'messages[0].content[0].image_url.url: "url" is a required property'),
    ([{"type": "text", "text": 5}], "messages[0].content[0].text: 5 is not of type"),
])
def test_a_broken_content_part_names_its_own_field(http, auth, content, says):
    body = {"model": "kimi-k2.6", "messages": [{"role": "user", "content": content}]}
    reply = http.post(CHAT, json=body, headers=auth)
    assert reply.status_code == 400
    assert envelope(reply)["message"].startswith(f"Invalid request: {says}")
