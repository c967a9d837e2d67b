"""Thinking models through the official openai SDK (reference §1.3 - §1.5, §3, §6, §17;
Mock defaults 4 and 8): who thinks, Preserved Thinking (`thinking.keep`), reasoning inside
the completion budget, the `reasoning_effort` conflict and partial mode with thinking.
"""

from __future__ import annotations

import asyncio

import openai
import pytest

HELLO = [{"role": "user", "content": "Hello"}]
OFF = {"thinking": {"type": "disabled"}}
ON = {"thinking": {"type": "enabled"}}
REASONING = "The user greets me, so I should greet them back warmly and keep it brief."
HISTORY = [
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi! How can I help?", "reasoning_content": REASONING},
    {"role": "user", "content": "Tell me about Paris."},
]


def reasoning(reply) -> str | None:
    """`reasoning_content`, which the SDK keeps as an extra field (None when absent)."""
    return (reply.choices[0].message.model_extra or {}).get("reasoning_content")


def check_thinking_reply(reply) -> None:
    details = reply.usage.completion_tokens_details
    assert reasoning(reply)  # reasoning comes back non-empty in a normal reply
    assert 1 <= details.reasoning_tokens <= reply.usage.completion_tokens
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content


def check_plain_reply(reply) -> None:
    assert reasoning(reply) is None  # "k2.5/k2.6 thinking disabled: omit reasoning_content"
    assert reply.usage.completion_tokens_details is None
    assert reply.choices[0].finish_reason == "stop" and reply.choices[0].message.content


# --- who thinks (§6) -----------------------------------------------------------------------

@pytest.mark.parametrize("model", ["kimi-k2-thinking", "kimi-k2-thinking-turbo"])
def test_the_k2_thinking_models_always_think(client, model):
    for seed in range(4):
        check_thinking_reply(client.chat.completions.create(
            model=model, messages=HELLO, extra_headers={"X-Mockshot-Seed": str(seed)}))


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6"])
@pytest.mark.parametrize("body", [None, ON], ids=["default", "enabled"])
def test_k25_and_k26_think_unless_told_not_to(client, model, body):
    check_thinking_reply(client.chat.completions.create(model=model, messages=HELLO,
                                                        extra_body=body))


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6"])
def test_k25_and_k26_with_thinking_disabled_do_not_think(client, model):
    check_plain_reply(client.chat.completions.create(model=model, messages=HELLO,
                                                     extra_body=OFF))


@pytest.mark.parametrize("model", ["moonshot-v1-8k", "kimi-k2-0905-preview"])
def test_models_without_reasoning_never_think(client, model):
    check_plain_reply(client.chat.completions.create(model=model, messages=HELLO))


def test_thinking_works_async_and_over_a_socket(async_client, served_client):
    async def ask():
        return await async_client.chat.completions.create(model="kimi-k2.6", messages=HELLO)

    check_thinking_reply(asyncio.run(ask()))
    check_thinking_reply(served_client.chat.completions.create(model="kimi-k2-thinking",
                                                               messages=HELLO))


@pytest.mark.parametrize("kwargs", [{}, {"max_completion_tokens": 40}], ids=["whole", "cut"])
def test_a_thinking_stream_sends_reasoning_then_content_as_the_reply_would(client, mock,
                                                                           kwargs):
    whole = client.chat.completions.create(model="kimi-k2.6", messages=HELLO, **kwargs)
    mock.reset()  # the same call again gets the same reply, now streamed
    stream = client.chat.completions.create(model="kimi-k2.6", messages=HELLO, stream=True,
                                            **kwargs)
    kinds, text, thought = [], "", ""
    for chunk in stream:
        for choice in chunk.choices:
            if piece := (choice.delta.model_extra or {}).get("reasoning_content"):
                kinds.append("reasoning")
                thought += piece
            if choice.delta.content:
                kinds.append("content")
                text += choice.delta.content
            if choice.finish_reason:
                finish, usage = choice.finish_reason, choice.model_extra["usage"]
    assert kinds[0] == "reasoning"  # reasoning first, never interleaved with content
    assert kinds == sorted(kinds, key=["reasoning", "content"].index)
    assert (thought, text, finish) == (reasoning(whole), whole.choices[0].message.content,
                                       whole.choices[0].finish_reason)
    assert usage == whole.usage.model_dump(exclude_none=True)  # inside the finish choice


def test_an_empty_reasoning_still_counts_one_reasoning_token(client, mock):
    """§1.1/§1.5: `reasoning_content: ""` comes with `reasoning_tokens: 1` (the live
    k2.6 capture: "IMAGE_OK", completion 5 = 4 + 1), inside completion_tokens."""
    mock.on(contains="IMAGE").reply(content="IMAGE_OK", reasoning="")
    ask = [{"role": "user", "content": "Say IMAGE_OK"}]
    thought = client.chat.completions.create(model="kimi-k2.6", messages=ask)
    plain = client.chat.completions.create(model="kimi-k2.6", messages=ask, extra_body=OFF)
    assert reasoning(thought) == "" and thought.choices[0].message.content == "IMAGE_OK"
    assert thought.usage.completion_tokens_details.reasoning_tokens == 1
    assert thought.usage.completion_tokens == plain.usage.completion_tokens + 1


# --- Preserved Thinking: thinking.keep (§6) ------------------------------------------------

def test_keep_all_counts_historical_reasoning_in_the_prompt(client, mock):
    def prompt(keep: object) -> int:
        return client.chat.completions.create(
            model="kimi-k2.6", messages=HISTORY,
            extra_body={"thinking": {"type": "enabled", "keep": keep}}).usage.prompt_tokens

    ignored, kept = prompt(None), prompt("all")
    assert kept - ignored == mock.tokenizer.count(REASONING)
    plain = client.chat.completions.create(model="kimi-k2.6", messages=HISTORY)
    assert plain.usage.prompt_tokens == ignored  # null is the default: history reasoning off


def test_keep_all_counts_every_assistant_turns_reasoning(client, mock):
    history = [*HISTORY, {"role": "assistant", "content": "Paris is the capital of France.",
                          "reasoning_content": "Short facts first."},
               {"role": "user", "content": "And Lyon?"}]

    def prompt(keep: object) -> int:
        return client.chat.completions.create(
            model="kimi-k2.6", messages=history,
            extra_body={"thinking": {"type": "enabled", "keep": keep}}).usage.prompt_tokens

    extra = mock.tokenizer.count(REASONING) + mock.tokenizer.count("Short facts first.")
    assert prompt("all") - prompt(None) == extra


def test_keep_on_k25_is_refused(client):
    """The spec allows `keep` only on kimi-k2.6 (the service's text is unknown)."""
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k2.5", messages=HISTORY,
                                       extra_body={"thinking": {"type": "enabled",
                                                                "keep": "all"}})
    assert caught.value.body["type"] == "invalid_request_error"
    assert "keep" in caught.value.body["message"]


# --- reasoning spends the completion budget (§1.4, §6) -------------------------------------

@pytest.mark.parametrize("budget", [1, 2, 5, 12])
@pytest.mark.parametrize("model", ["kimi-k2.6", "kimi-k2-thinking"])
def test_a_tiny_budget_ends_inside_the_reasoning(client, model, budget):
    reply = client.chat.completions.create(model=model, messages=HELLO,
                                           max_completion_tokens=budget)
    choice = reply.choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content == ""  # "" (not null) when thinking used the whole budget
    assert reasoning(reply)
    assert reply.usage.completion_tokens == budget
    assert reply.usage.completion_tokens_details.reasoning_tokens == budget


@pytest.mark.parametrize("budget", range(20, 200, 9))
def test_reasoning_and_content_share_one_budget(client, budget):
    reply = client.chat.completions.create(model="kimi-k2.6", messages=HELLO,
                                           max_tokens=budget)
    usage, choice = reply.usage, reply.choices[0]
    assert usage.completion_tokens <= budget
    assert usage.completion_tokens_details.reasoning_tokens <= usage.completion_tokens
    if choice.finish_reason == "length":
        assert usage.completion_tokens == budget
    else:
        assert choice.finish_reason == "stop" and choice.message.content
    if choice.message.content:
        assert usage.completion_tokens_details.reasoning_tokens < usage.completion_tokens


# --- reasoning_effort (§15, §17) -----------------------------------------------------------

@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6"])
@pytest.mark.parametrize("thinking", [ON, OFF], ids=["enabled", "disabled"])
def test_thinking_and_reasoning_effort_together_are_refused(client, model, thinking):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=model, messages=HELLO, reasoning_effort="high",
                                       extra_body=thinking)
    assert caught.value.body == {
        "message": "cannot specify both 'thinking' and 'reasoning_effort'",
        "type": "invalid_request_error"}


def test_reasoning_effort_none_is_refused_on_k26(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="kimi-k2.6", messages=HELLO,
                                       reasoning_effort="none")
    assert caught.value.body["type"] == "invalid_request_error"
    assert "thinking" in caught.value.body["message"]


def test_reasoning_effort_max_alone_is_accepted_on_k26(client):
    check_thinking_reply(client.chat.completions.create(model="kimi-k2.6", messages=HELLO,
                                                        reasoning_effort="max"))


# --- partial mode with thinking (§3; Mock defaults 8) -------------------------------------

PREFIX = "The capital of France is"


@pytest.mark.parametrize("model", ["kimi-k2.5", "kimi-k2.6", "kimi-k2-thinking"])
def test_partial_mode_with_thinking_returns_reasoning_and_the_continuation(client, model):
    messages = [{"role": "user", "content": "What is the capital of France?"},
                {"role": "assistant", "content": PREFIX, "partial": True}]
    reply = client.chat.completions.create(model=model, messages=messages)
    content = reply.choices[0].message.content
    assert reasoning(reply)
    assert content and not content.startswith(PREFIX)  # the continuation only
    assert content[0] == " "  # it goes on from a prefix that ended mid-sentence
    assert PREFIX not in reasoning(reply)


def test_partial_mode_with_thinking_disabled_has_no_reasoning(client):
    messages = [{"role": "user", "content": "What is the capital of France?"},
                {"role": "assistant", "content": PREFIX, "partial": True}]
    reply = client.chat.completions.create(model="kimi-k2.6", messages=messages,
                                           extra_body=OFF)
    assert reasoning(reply) is None
    assert reply.choices[0].message.content.startswith(" ")
