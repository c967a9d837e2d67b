"""Accounts and billing: who pays, what a call costs, and an account running dry — through
the openai SDK's own error classes, in-process and over a socket."""

from __future__ import annotations

import re
import threading

import openai
import pytest

from mockshot import Mock, ServedMock, Settings, create_app, http_client
from mockshot.billing.plans import billing_data, load_accounts
from mockshot.billing.prices import BATCH, cost
from mockshot.engine.catalog import load_catalog
from mockshot.engine.completion import ChatCall, Choice, Completion, ToolCall, Usage
from mockshot.errors import account_label
from mockshot.settings import SettingsError
from mockshot.transport import httpx_module

from . import spec_check

HELLO = [{"role": "user", "content": "Hello there"}]
WEB_SEARCH = {"type": "builtin_function", "function": {"name": "$web_search"}}


def client_for(app, key: str = "sk-bill", retries: int = 0) -> openai.OpenAI:
    inner = http_client(app, event_hooks={"response": [spec_check.hook]})
    return openai.OpenAI(api_key=key, base_url="http://mockshot.local/v1", http_client=inner,
                         max_retries=retries)


def chat(client, model: str = "moonshot-v1-8k", **body):
    return client.chat.completions.create(model=model, messages=HELLO, **body)


def available(client) -> float:
    return client.get("/users/me/balance", cast_to=object)["data"]["available_balance"]


# --- accounts -----------------------------------------------------------------------------


GROUPED = Settings(clock="virtual", accounts=(
    {"id": "team-a", "keys": ["sk-a1", "sk-a2"], "balance": 5.0, "voucher": 1.0},
    {"id": "solo", "keys": ["sk-solo"], "balance": 0.0},
))


def test_keys_of_one_account_share_its_balance():
    app = create_app(GROUPED)
    first, second = client_for(app, "sk-a1"), client_for(app, "sk-a2")
    assert available(first) == available(second) == 6.0
    chat(first)
    assert available(second) == available(first) < 6.0
    assert available(client_for(app, "sk-other")) == 1000.0  # a key alone: its own account


def test_an_account_configured_empty_is_refused_from_its_first_call():
    with pytest.raises(openai.RateLimitError) as refused:
        chat(client_for(create_app(GROUPED), "sk-solo"))
    assert refused.value.body["type"] == "exceeded_current_quota_error"
    assert account_label("solo") in refused.value.body["message"]


@pytest.mark.parametrize(("accounts", "message"), [
    (({"keys": ["k"]},), "accounts[0]: id must be a non-empty string"),
    (({"id": "a", "keys": "k"},), "accounts[0]: keys must be a list"),
    (({"id": "a", "keys": ["k"]}, {"id": "b", "keys": ["k"]}), "already belongs to account"),
    (({"id": "a", "tier": 9},), "tier 9 is not in the tier table"),
    (({"id": "a", "voucher": -1},), "voucher must not be negative"),
    (({"id": "a", "credit": 1},), "unknown key(s) credit"),
])
def test_a_bad_accounts_entry_is_a_clear_settings_error(accounts, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_accounts(Settings(accounts=accounts))


def test_accounts_come_from_a_config_file(tmp_path):
    config = tmp_path / "mockshot.toml"
    config.write_text('[[accounts]]\nid = "ops"\nkeys = ["sk-o1", "sk-o2"]\nbalance = 2.5\n'
                      'tier = 1\n', encoding="utf-8")
    accounts = load_accounts(Settings.load({"config": str(config)}, environ={}))
    assert accounts.of("sk-o2") == "ops" and accounts.plans["ops"].cash == 2.5
    assert accounts.plans["ops"].tier == 1


# --- prices -------------------------------------------------------------------------------

# reference §9, USD per million tokens: input cache hit, input (miss), output
REFERENCE_PRICES = {
    "kimi-k2.6": (0.16, 0.95, 4.00), "kimi-k2.5": (0.10, 0.60, 3.00),
    "kimi-k2-0905-preview": (0.15, 0.60, 2.50), "kimi-k2-0711-preview": (0.15, 0.60, 2.50),
    "kimi-k2-turbo-preview": (0.15, 1.15, 8.00), "kimi-k2-thinking": (0.15, 0.60, 2.50),
    "kimi-k2-thinking-turbo": (0.15, 1.15, 8.00), "moonshot-v1-8k": (None, 0.20, 2.00),
    "moonshot-v1-32k": (None, 1.00, 3.00), "moonshot-v1-128k": (None, 2.00, 5.00),
    "moonshot-v1-8k-vision-preview": (None, 0.20, 2.00),
}


@pytest.mark.parametrize("model", sorted(REFERENCE_PRICES))
def test_the_price_table_is_the_references(model):
    price = load_catalog().get(model).price
    assert (price["input_cache_hit"], price["input"], price["output"]) == \
        REFERENCE_PRICES[model]


def test_batch_lines_pay_sixty_percent_and_web_search_its_call_price():
    assert BATCH == 0.6 and billing_data()["tool_call_prices"] == {"$web_search": 0.005}


def test_a_cache_hit_bills_the_cached_prompt_at_the_hit_price():
    mock = Mock(Settings(clock="virtual"))
    client = client_for(create_app(mock=mock))
    first, second = chat(client, "kimi-k2.6"), chat(client, "kimi-k2.6")
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached > 0 and not first.usage.prompt_tokens_details
    charges = [entry.cost for entry in mock.journal()]
    hit, miss, out = REFERENCE_PRICES["kimi-k2.6"]
    expected = ((second.usage.prompt_tokens - cached) * miss + cached * hit
                + second.usage.completion_tokens * out) / 1e6
    assert charges[1] == pytest.approx(expected)


def test_a_web_search_receipt_is_billed_its_call_price_beside_its_tokens():
    mock = Mock(Settings(clock="virtual"))
    reply = chat(client_for(create_app(mock=mock)), "kimi-k2-0905-preview",
                 tools=[WEB_SEARCH])
    assert reply.choices[0].message.tool_calls[0].function.name == "$web_search"
    _, miss, out = REFERENCE_PRICES["kimi-k2-0905-preview"]
    tokens = (reply.usage.prompt_tokens * miss + reply.usage.completion_tokens * out) / 1e6
    assert mock.journal()[-1].cost == pytest.approx(tokens + 0.005)


def test_cost_applies_the_batch_factor_to_tokens_only():
    model = load_catalog().get("kimi-k2-0905-preview")
    call = ChatCall(model=model, messages=HELLO, max_tokens=10, prompt_tokens=1_000_000)
    searched = Completion("id", 0, model.id, [Choice(0, [], None, "tool_calls", [
        ToolCall("$web_search_0", "$web_search", "{}", "builtin_function")])],
        Usage(1_000_000, 0))
    assert cost(call, searched) == pytest.approx(0.60 + 0.005)
    assert cost(call, searched, BATCH) == pytest.approx(0.36 + 0.005)


# --- running dry --------------------------------------------------------------------------


def test_the_balance_drains_to_the_quota_error_and_free_endpoints_keep_working():
    mock = Mock(Settings(clock="virtual", balance=0.0003))
    client = client_for(create_app(mock=mock))
    served = 0
    with pytest.raises(openai.RateLimitError) as refused:
        for _ in range(100):
            chat(client)
            served += 1
    assert served > 0
    assert refused.value.body == {  # the SDK's body is the envelope's `error`
        "type": "exceeded_current_quota_error",
        "message": f"Your account {account_label('sk-bill')} is suspended due to insufficient "
                   "balance, please recharge your account or check your plan and billing "
                   "details"}
    assert available(client) <= 0
    assert client.models.list().data
    spent = sum(entry.cost for entry in mock.journal())
    assert mock.balance("sk-bill").cash == pytest.approx(0.0003 - spent)
    assert mock.journal()[-1].cost == 0  # the refused call paid nothing


def test_a_stream_begun_in_credit_completes_and_may_leave_arrears():
    mock = Mock(Settings(clock="virtual", balance=1e-9))
    client = client_for(create_app(mock=mock))
    chunks = list(chat(client, "kimi-k2.6", stream=True))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert mock.balance("sk-bill").cash < 0
    with pytest.raises(openai.RateLimitError):
        chat(client)


def test_the_voucher_is_spent_before_cash():
    mock = Mock(Settings(clock="virtual", balance=1.0, voucher=0.0001))
    client = client_for(create_app(mock=mock))
    chat(client, "kimi-k2.6")
    balance = mock.balance("sk-bill")
    spent = mock.journal()[-1].cost
    assert spent > 0.0001 and balance.voucher == 0.0
    assert balance.cash == pytest.approx(1.0 - (spent - 0.0001))


# --- exactness under concurrency, over a real socket --------------------------------------


def test_sixty_four_clients_spending_one_balance_lose_no_debit():
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning",
                             balance=0.05)) as served:
        httpx = httpx_module()
        errors: list[BaseException] = []

        def spend() -> None:
            try:
                with httpx.Client(base_url=served.url) as http:
                    for _ in range(5):
                        http.post("/v1/chat/completions", json={
                            "model": "kimi-k2.6", "messages": HELLO},
                            headers={"Authorization": "Bearer sk-shared"})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=spend) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        journal = served.mock.journal()
        assert len(journal) == 320
        charged = sum(entry.cost for entry in journal)
        cash = served.mock.balance("sk-shared").cash
        assert round(0.05 - charged, 8) == round(cash, 8)
        assert {entry.status for entry in journal} <= {200, 429}


def test_the_journal_charges_add_up_to_what_the_balance_shows():
    mock = Mock(Settings(clock="virtual"))
    client = client_for(create_app(mock=mock))
    for model in ("kimi-k2.6", "moonshot-v1-8k", "kimi-k2.5"):
        chat(client, model)
    spent = sum(entry.cost for entry in mock.journal())
    assert spent > 0 and available(client) == pytest.approx(1000.0 - spent, abs=1e-5)
