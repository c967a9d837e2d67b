"""Resilience assertions, each against a client that does it right and one that does not.

The right client is the openai SDK as the fixture makes it (its retries wait on the
virtual clock); the wrong ones are small loops that make the classic mistakes."""

from __future__ import annotations

import contextlib

import openai
import pytest

from mockshot import error, fault
from mockshot.testing import (
    assert_backed_off,
    assert_closed_broken_streams,
    assert_honoured_retry_after,
    assert_no_resend_after_success,
)

CHAT = {"model": "moonshot-v1-8k", "messages": [{"role": "user", "content": "hi"}]}


def impatient(client, attempts: int = 3):
    """Retries at once, whatever the service said."""
    for _ in range(attempts):
        with contextlib.suppress(openai.RateLimitError, openai.InternalServerError):
            return client.chat.completions.create(**CHAT)
    return None


def test_retry_after_honoured_by_the_sdk_and_not_by_an_impatient_loop(mockshot):
    mockshot.on(nth=1).reply(error("rate_limit_reached_error", retry_after=3))
    mockshot.client.chat.completions.create(**CHAT)
    assert_honoured_retry_after(mockshot.calls)
    mockshot.mock.reset()
    impatient(mockshot.openai(max_retries=0))
    with pytest.raises(AssertionError, match=r"call #\d+ retried #\d+ after 0 s, but #\d+ was "
                                             r"answered 429 with Retry-After 3 s"):
        assert_honoured_retry_after(mockshot.calls)


def test_retry_after_cannot_pass_without_a_429(mockshot):
    mockshot.client.chat.completions.create(**CHAT)
    with pytest.raises(AssertionError, match="no answer carried Retry-After"):
        assert_honoured_retry_after(mockshot.calls)


def test_backoff_by_the_sdk_and_not_by_an_impatient_loop(mockshot):
    mockshot.on(nth=[1, 2, 3]).reply(error("server_error"))
    mockshot.openai(max_retries=3).chat.completions.create(**CHAT)
    assert [c.status for c in mockshot.calls] == [500, 500, 500, 200]
    assert_backed_off(mockshot.calls)
    mockshot.mock.reset()
    impatient(mockshot.openai(max_retries=0), attempts=4)
    with pytest.raises(AssertionError, match=r"call #\d+ retried #\d+ at once"):
        assert_backed_off(mockshot.calls)


def test_a_broken_stream_closed_and_one_left_open(mockshot):
    mockshot.on(stream=True).reply(fault("malformed_frame", after=2)).cycle()
    client = mockshot.openai(max_retries=0)
    with pytest.raises(ValueError), client.chat.completions.create(**CHAT, stream=True) as s:
        list(s)  # the SDK fails on the bad frame; `with` closes the stream
    assert_closed_broken_streams(mockshot.calls)
    mockshot.mock.reset()
    raw = mockshot.http_client()
    request = raw.build_request("POST", "/v1/chat/completions", json={**CHAT, "stream": True},
                                headers={"Authorization": "Bearer sk-raw"})
    response = raw.send(request, stream=True)
    lines = response.iter_lines()
    for line in lines:  # gives up at the bad frame and keeps the response open
        if line.startswith("data: ") and not line.endswith(("}", "]")):
            break
    with pytest.raises(AssertionError, match=r"left broken stream\(s\) open: #\d+ "
                                             r"\(malformed_frame after"):
        assert_closed_broken_streams(mockshot.calls)
    response.close()


def test_no_resend_after_success(mockshot):
    client = mockshot.openai(max_retries=0)
    client.chat.completions.create(**CHAT)
    assert_no_resend_after_success(mockshot.calls)
    client.chat.completions.create(**CHAT)  # a wrapper that "retries" a good answer
    with pytest.raises(AssertionError, match=r"call #2 resent #1, which had already "
                                             r"succeeded \(200\)"):
        assert_no_resend_after_success(mockshot.calls)
