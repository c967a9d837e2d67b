"""The account-level endpoints: the model list, the balance, and token estimation.

Expected values come from /work/shared/reference/moonshot-api.md (§9 balance and prices,
§12 the model list, §13 token estimation), not from mockshot's own catalog.
"""

from __future__ import annotations

import inspect

import openai
import pytest

from mockshot import Settings

CLIENTS = ["client", "async_client", "served_client", "served_async_client"]
HELLO = [{"role": "user", "content": "Hello"}]

# §12: id → (context_length, supports_image_in, supports_video_in, supports_reasoning)
MODELS = {
    "moonshot-v1-8k": (8192, False, False, False),
    "moonshot-v1-32k": (32768, False, False, False),
    "moonshot-v1-128k": (131072, False, False, False),
    "moonshot-v1-auto": (131072, False, False, False),
    "moonshot-v1-8k-vision-preview": (8192, True, False, False),
    "moonshot-v1-32k-vision-preview": (32768, True, False, False),
    "moonshot-v1-128k-vision-preview": (131072, True, False, False),
    "kimi-k2-0711-preview": (131072, False, False, False),
    "kimi-k2-0905-preview": (262144, False, False, False),
    "kimi-k2-turbo-preview": (262144, False, False, False),
    "kimi-k2-thinking": (262144, False, False, True),
    "kimi-k2-thinking-turbo": (262144, False, False, True),
    "kimi-k2.5": (262144, True, True, True),
    "kimi-k2.6": (262144, True, True, True),
}

# §9: USD per 1M tokens (input cache hit, input, output); moonshot-v1 has no cache price.
PRICES = {
    "moonshot-v1-8k": (None, 0.20, 2.00),
    "moonshot-v1-32k": (None, 1.00, 3.00),
    "moonshot-v1-128k": (None, 2.00, 5.00),
    "kimi-k2-thinking": (0.15, 0.60, 2.50),
    "kimi-k2.5": (0.10, 0.60, 3.00),
    "kimi-k2.6": (0.16, 0.95, 4.00),
}

K3 = {"id": "kimi-k3", "like": "kimi-k2.6", "context_length": 1048576, "thinking": "always"}


async def call(result):
    """The same spec for sync and async SDK clients."""
    return await result if inspect.isawaitable(result) else result


@pytest.fixture(params=CLIENTS)
def any_client(request):
    return request.getfixturevalue(request.param)


def price(model: str, usage) -> float:
    """What a reply costs in USD, from the reference's price table."""
    hit, miss, out = PRICES[model]
    cached = (getattr(usage, "cached_tokens", None) or 0) if hit is not None else 0
    return ((usage.prompt_tokens - cached) * miss + cached * (hit or 0)
            + usage.completion_tokens * out) / 1_000_000


# --- GET /v1/models ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_models_lists_every_catalog_model(any_client):
    page = await call(any_client.models.list())
    entries = {m.id: m.model_dump() for m in page.data}
    assert set(entries) == set(MODELS)
    assert len({e["created"] for e in entries.values()}) == 1
    for model_id, entry in entries.items():
        assert entry["object"] == "model"
        assert entry["owned_by"] == "moonshot"
        got = (entry["context_length"], entry["supports_image_in"],
               entry["supports_video_in"], entry["supports_reasoning"])
        assert got == MODELS[model_id], model_id


def test_models_list_is_the_real_wrapper(http, auth):
    body = http.get("/v1/models", headers=auth).json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] != sorted(MODELS)  # not alphabetical, like §12
    assert all(m["permission"] and m["root"] == "" and m["parent"] == "" for m in body["data"])


@pytest.mark.parametrize("settings", [Settings(clock="virtual", models=(K3,))])
def test_a_model_added_by_config_is_listed_and_answers(client):
    listed = {m.id: m.model_dump() for m in client.models.list().data}
    assert listed["kimi-k3"]["context_length"] == 1048576
    assert listed["kimi-k3"]["supports_reasoning"] is True
    assert listed["kimi-k3"]["created"] == listed["kimi-k2.6"]["created"]
    reply = client.chat.completions.create(model="kimi-k3", messages=HELLO)
    assert reply.model == "kimi-k3"
    assert reply.choices[0].message.content
    assert reply.choices[0].message.model_extra["reasoning_content"]


# --- GET /v1/users/me/balance ----------------------------------------------------------------


def test_balance_has_the_real_shape(client):
    body = client.get("/users/me/balance", cast_to=object)
    assert body == {"code": 0, "scode": "0x0", "status": True,
                    "data": {"available_balance": 1000.0, "voucher_balance": 0.0,
                             "cash_balance": 1000.0}}


@pytest.mark.parametrize(("cash", "voucher", "available"), [
    (3.00001, 46.58893, 49.58894),  # the reference's own example (§9)
    (-5.0, 2.0, 2.0),  # arrears: available is the voucher alone
    (7.5, 0.0, 7.5),
])
def test_available_is_voucher_plus_positive_cash(client, mock, cash, voucher, available):
    mock.set_balance("sk-test", cash, voucher)
    data = client.get("/users/me/balance", cast_to=object)["data"]
    assert data == {"available_balance": available, "voucher_balance": voucher,
                    "cash_balance": cash}


@pytest.mark.anyio
async def test_a_chat_costs_the_price_of_its_tokens(any_client):
    before = (await call(any_client.get("/users/me/balance", cast_to=object)))["data"]
    reply = await call(any_client.chat.completions.create(model="moonshot-v1-8k",
                                                          messages=HELLO))
    after = (await call(any_client.get("/users/me/balance", cast_to=object)))["data"]
    cost = price("moonshot-v1-8k", reply.usage)
    assert cost > 0
    assert after["cash_balance"] == pytest.approx(before["cash_balance"] - cost, abs=1.1e-5)
    assert after["available_balance"] == after["cash_balance"]


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "moonshot-v1-128k", "kimi-k2-thinking",
                                   "kimi-k2.5", "kimi-k2.6"])
def test_debit_follows_the_price_table_exactly(client, mock, model):
    conversation = [{"role": "user", "content": "Price me " * 40}]
    first = client.chat.completions.create(model=model, messages=conversation)
    second = client.chat.completions.create(model=model, messages=conversation)
    spent = 1000.0 - mock.balance("sk-test").cash
    assert spent == pytest.approx(price(model, first.usage) + price(model, second.usage),
                                  rel=1e-9)


def test_moonshot_v1_auto_is_billed_as_the_model_it_routes_to(client, mock):
    small = client.chat.completions.create(model="moonshot-v1-auto", messages=HELLO)
    assert 1000.0 - mock.balance("sk-test").cash == pytest.approx(
        price("moonshot-v1-8k", small.usage), rel=1e-9)
    mock.set_balance("sk-test", 100.0)
    long = [{"role": "user", "content": "word " * 7500}]  # + 1024 default > 8192: the 32k
    routed = client.chat.completions.create(model="moonshot-v1-auto", messages=long)
    assert routed.model == "moonshot-v1-auto"
    assert 100.0 - mock.balance("sk-test").cash == pytest.approx(
        price("moonshot-v1-32k", routed.usage), rel=1e-9)


def test_the_voucher_is_spent_before_cash(client, mock):
    mock.set_balance("sk-test", 10.0, 1.0)
    reply = client.chat.completions.create(model="kimi-k2.6", messages=HELLO)
    data = client.get("/users/me/balance", cast_to=object)["data"]
    assert data["cash_balance"] == 10.0
    assert data["voucher_balance"] == pytest.approx(1.0 - price("kimi-k2.6", reply.usage),
                                                    abs=1e-5)


def test_each_key_owns_its_own_account(client):
    other = client.with_options(api_key="sk-other")
    client.chat.completions.create(model="kimi-k2.6", messages=HELLO)
    mine = client.get("/users/me/balance", cast_to=object)["data"]["available_balance"]
    theirs = other.get("/users/me/balance", cast_to=object)["data"]["available_balance"]
    assert mine < 1000.0
    assert theirs == 1000.0


# --- POST /v1/tokenizers/estimate-token-count ------------------------------------------------

CONVERSATIONS = {
    "one word": HELLO,
    "system and user": [{"role": "system", "content": "You are Kimi, made by Moonshot AI."},
                        {"role": "user", "content": "What is 1234567 + 89?"}],
    "chinese": [{"role": "user", "content": "你好，请介绍一下月之暗面公司。"}],  # noqa: RUF001
    "japanese and korean": [{"role": "user", "content": "こんにちは 안녕하세요 world!"}],
    "multi-turn": [{"role": "user", "content": "Name a colour."},
                   {"role": "assistant", "content": "Blue."},
                   {"role": "user", "content": "Another one, longer please: antidisestablish"}],
    "text parts": [{"role": "user", "content": [{"type": "text", "text": "Part one."},
                                                 {"type": "text", "text": "第二部分"}]}],
    "named roles": [{"role": "user", "name": "alice", "content": "Hi from Alice"}],
}


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(CONVERSATIONS))
async def test_estimate_equals_the_prompt_tokens_of_the_chat(any_client, name):
    messages = CONVERSATIONS[name]
    estimate = await call(any_client.post(
        "/tokenizers/estimate-token-count",
        body={"model": "kimi-k2.6", "messages": messages}, cast_to=object))
    assert set(estimate) == {"data"} and set(estimate["data"]) == {"total_tokens"}
    reply = await call(any_client.chat.completions.create(model="kimi-k2.6",
                                                          messages=messages))
    assert estimate["data"]["total_tokens"] == reply.usage.prompt_tokens > 0


def test_estimate_costs_nothing(client, mock):
    client.post("/tokenizers/estimate-token-count",
                body={"model": "kimi-k2.6", "messages": HELLO}, cast_to=object)
    assert mock.balance("sk-test").cash == 1000.0


def test_estimate_for_an_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.post("/tokenizers/estimate-token-count",
                    body={"model": "kimi-not-exist", "messages": HELLO}, cast_to=object)
    assert caught.value.body == {"message": "Not found the model kimi-not-exist or Permission "
                                            "denied", "type": "resource_not_found_error"}


def test_estimate_with_no_messages_is_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/tokenizers/estimate-token-count",
                    body={"model": "kimi-k2.6", "messages": []}, cast_to=object)
    assert caught.value.body == {"message": "Invalid request: messages must not be empty",
                                 "type": "invalid_request_error"}


def test_estimate_without_a_model_names_the_field(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.post("/tokenizers/estimate-token-count", body={"messages": HELLO},
                    cast_to=object)
    assert caught.value.body["type"] == "invalid_request_error"
    assert caught.value.body["message"].startswith("Invalid request: model")


def test_estimate_needs_a_key(http):
    reply = http.post("/v1/tokenizers/estimate-token-count",
                      json={"model": "kimi-k2.6", "messages": HELLO})
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "incorrect_api_key_error"


def test_the_estimate_counts_tools_as_chat_usage_does(client, http, auth):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "assistant", "content": "Hi."},
                {"role": "user", "content": "Weather in Paris?"}]
    estimate = http.post("/v1/tokenizers/estimate-token-count", headers=auth,
                         json={"model": "kimi-k2.6", "messages": messages, "tools": tools})
    reply = client.chat.completions.create(model="kimi-k2.6", messages=messages, tools=tools)
    assert estimate.json()["data"]["total_tokens"] == reply.usage.prompt_tokens
