"""Tier limits: concurrency, RPM, TPM and TPD refuse in the service's words with the true
wait, windows follow the clock, and the openai SDK's own retries get through."""

from __future__ import annotations

import threading
import time

import openai
import pytest

from mockshot import Mock, ServedMock, Settings, create_app, http_client
from mockshot.errors import account_label, key_id
from mockshot.state.accounts import LimitHit, Limits, Windows
from mockshot.transport import httpx_module

from . import spec_check

KEY = "sk-limits"
HELLO = [{"role": "user", "content": "Hello there"}]
PREFIX = f"Your account {account_label(KEY)}<{key_id(KEY)}> request reached"


def limited(tier: int = 0, **settings) -> Mock:
    return Mock(Settings(clock="virtual", tier=tier, **settings))


def client_for(mock: Mock, retries: int = 0, checked: bool = True) -> openai.OpenAI:
    """The SDK in-process; `checked` validates each reply against the spec (which reads a
    stream whole before the SDK sees it, so open-stream tests turn it off)."""
    hooks = {"response": [spec_check.hook]} if checked else {}
    inner = http_client(create_app(mock=mock), event_hooks=hooks)
    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", http_client=inner,
                         max_retries=retries)


def chat(client, **body):
    return client.chat.completions.create(
        **{"model": "moonshot-v1-8k", "messages": HELLO, "max_tokens": 10, **body})


def refused(client, **body) -> openai.RateLimitError:
    with pytest.raises(openai.RateLimitError) as caught:
        chat(client, **body)
    assert caught.value.body["type"] == "rate_limit_reached_error"
    return caught.value


# --- each dimension ------------------------------------------------------------------------


def test_by_default_nothing_throttles():
    client = client_for(Mock(Settings(clock="virtual")))
    for _ in range(20):
        chat(client)


def test_rpm_refuses_the_fourth_call_of_a_minute_with_the_true_wait():
    mock = limited(0)  # Tier0: 3 requests a minute
    client = client_for(mock)
    for _ in range(3):
        chat(client)
        mock.clock.advance(10)
    error = refused(client)  # 30 s after the first: it leaves the window in 30 s
    assert error.body["message"] == (f"{PREFIX} organization max RPM: 3, please try again "
                                     "after 30 seconds")
    assert error.response.headers["retry-after"] == "30"
    mock.clock.advance(29.5)
    refused(client)
    mock.clock.advance(0.5)
    chat(client)


def test_tpm_counts_the_prompt_and_the_completion_budget():
    mock = limited(9, tiers=({"tier": 9, "tpm": 1000},))
    client = client_for(mock)
    chat(client, max_tokens=600)
    error = refused(client, max_tokens=600)
    current = int(error.body["message"].split("current:")[1].split(",")[0])
    assert error.body["message"] == (f"{PREFIX} TPM rate limit, current:{current}, "
                                     "limit:1000")
    assert 1200 < current < 1300  # two budgets of 600 plus two short prompts
    chat(client, max_tokens=300)  # what is left of the minute still fits
    assert error.response.headers["retry-after"] == "60"


def test_tpd_is_a_day_window_and_its_message_has_no_space_after_the_comma():
    mock = limited(0, tiers=({"tier": 0, "rpm": None, "tpm": None, "tpd": 100},))
    client = client_for(mock)
    chat(client, max_tokens=80)
    error = refused(client, max_tokens=80)
    assert "request reached TPD rate limit,current:" in error.body["message"]
    mock.clock.advance(86399)
    refused(client, max_tokens=80)
    mock.clock.advance(1)
    chat(client, max_tokens=80)


def one_slot() -> Mock:
    """Concurrency 1, on a real clock: a paced stream really stays open meanwhile."""
    return Mock(Settings(clock="real", tier=0, tiers=({"tier": 0, "rpm": None},)))


def test_an_open_stream_holds_its_concurrency_slot_until_it_ends():
    client = client_for(one_slot(), checked=False)
    stream = chat(client, stream=True, extra_headers={"X-Mockshot-Pacing": "ttft_ms=400"})
    error = refused(client)
    assert error.body["message"] == (f"{PREFIX} max concurrency: 1, please try again after "
                                     "1 seconds")
    list(stream)
    chat(client)  # the slot is free once the stream ended


def test_a_stream_the_client_abandons_frees_its_slot():
    mock = one_slot()
    client = client_for(mock, checked=False)
    stream = chat(client, stream=True, extra_headers={"X-Mockshot-Pacing": "ttft_ms=5000"})
    refused(client)
    stream.close()
    deadline = time.monotonic() + 2
    while mock.store.sync(mock.store.account(KEY, 0)).usage.get("concurrency") and \
            time.monotonic() < deadline:
        time.sleep(0.01)
    chat(client)


def test_limits_are_per_account_across_keys_and_models():
    mock = limited(0, accounts=({"id": "team", "keys": ["sk-t1", "sk-t2"]},))
    app = create_app(mock=mock)

    def team(key: str) -> openai.OpenAI:
        return openai.OpenAI(api_key=key, base_url="http://mockshot.local/v1",
                             http_client=http_client(app), max_retries=0)

    chat(team("sk-t1"))
    chat(team("sk-t2"), model="kimi-k2.6")
    chat(team("sk-t1"), model="kimi-k2.5")
    with pytest.raises(openai.RateLimitError):
        chat(team("sk-t2"))
    chat(team("sk-elsewhere"))  # another account: its own window


def test_a_refused_call_is_neither_billed_nor_counted():
    mock = limited(0)
    client = client_for(mock)
    for _ in range(3):
        chat(client)
    before = mock.balance(KEY).cash
    for _ in range(5):
        refused(client)
    assert mock.balance(KEY).cash == before
    mock.clock.advance(60)
    for _ in range(3):
        chat(client)  # the refusals took no slot of the next minute


def test_the_account_view_shows_the_windows():
    mock = limited(1)
    client = client_for(mock)
    chat(client, max_tokens=10)
    with http_client(create_app(mock=mock)) as admin:
        shown = admin.get(f"/_mockshot/accounts/{KEY}").json()
    assert shown["tier"] == 1 and shown["limits"]["rpm"] == 200
    assert shown["usage"]["rpm"] == 1 and shown["usage"]["tpm"] > 10
    assert shown["usage"]["concurrency"] == 0


# --- the SDK's retries, on a real clock ------------------------------------------------


def test_the_sdk_honours_retry_after_and_then_succeeds():
    """A real clock running 60 times faster: the RPM window is a real second, so the
    SDK's own retry waits the Retry-After it is told and gets through."""
    settings = Settings(port=0, clock="real", clock_speed=60, tier=0, log_level="warning")
    with ServedMock(settings) as served:
        client = openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=3)
        for _ in range(3):
            chat(client)
        started = time.monotonic()
        reply = chat(client)
        waited = time.monotonic() - started
        statuses = [entry.status for entry in served.mock.journal()]
    assert reply.choices[0].message.content
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 200 and 429 in statuses[3:]
    assert waited >= 0.9  # Retry-After: 1 (a mock minute is a real second)


def test_exactly_the_limits_worth_of_sixty_four_concurrent_clients_get_through():
    settings = Settings(port=0, clock="virtual", tier=9, tiers=({"tier": 9, "rpm": 20},),
                        log_level="warning")
    with ServedMock(settings) as served:
        httpx = httpx_module()
        statuses: list[int] = []
        lock = threading.Lock()

        def call() -> None:
            with httpx.Client(base_url=served.url) as http:
                status = http.post("/v1/chat/completions", headers={
                    "Authorization": f"Bearer {KEY}"}, json={
                    "model": "kimi-k2.6", "messages": HELLO}).status_code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=call) for _ in range(64)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        journal = served.mock.journal()
    assert sorted(statuses) == [200] * 20 + [429] * 44
    charged = sum(entry.cost for entry in journal)
    assert served.mock.balance(KEY).cash == pytest.approx(1000.0 - charged, abs=1e-9)
    assert all(entry.cost == 0 for entry in journal if entry.status == 429)


# --- the windows themselves ------------------------------------------------------------


def test_a_window_reports_the_wait_until_enough_leaves_it():
    windows, limits = Windows(), Limits(tpm=100)
    windows.take(0.0, 40, True)
    windows.take(10.0, 40, True)
    assert windows.admit(limits, 20.0, 30) == LimitHit("tpm", 100, 110, 40.0)
    assert windows.admit(limits, 20.0, 101) == LimitHit("tpm", 100, 181, 60.0)  # never fits
    assert windows.admit(limits, 60.0, 30) is None  # the first 40 left at 60 s
