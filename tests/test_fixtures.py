"""The sample inputs in fixtures/ behave as their README says, through the openai SDK."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import openai
import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def look(client, url: str):
    return client.chat.completions.create(model="kimi-k2.6", max_completion_tokens=5, messages=[
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": url}}]}])


def test_the_png_is_accepted_at_the_fixed_image_cost(client, mock):
    reply = look(client, data_url(FIXTURES / "images/pixel.png", "image/png"))
    text_only = mock.prompt_cost(mock.model("kimi-k2.6")).messages(
        [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}])
    assert reply.usage.prompt_tokens == text_only + mock.model("kimi-k2.6").image_tokens


def test_the_svg_is_refused_with_the_real_message(client):
    with pytest.raises(openai.BadRequestError) as caught:
        look(client, data_url(FIXTURES / "images/badge.svg", "image/svg+xml"))
    assert caught.value.body["message"] == (
        "Invalid request: unsupported image format: text/plain; charset=utf-8")


def send(client, request: dict):
    """A fixture request through the SDK (`thinking` is Moonshot's, so it rides extra_body)."""
    request = dict(request)
    extra = {"thinking": request.pop("thinking")} if "thinking" in request else {}
    return client.chat.completions.create(**request, extra_body=extra)


@pytest.mark.parametrize("name", ["tool-loop-kimi-k2.6.json", "web-search-round-2.json"])
def test_each_conversation_is_a_valid_request_that_gets_a_text_answer(client, name):
    request = json.loads((FIXTURES / "conversations" / name).read_text())
    reply = send(client, request)
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.choices[0].message.content
    assert not reply.choices[0].message.tool_calls


def test_the_web_search_receipt_adds_its_tokens_to_the_prompt(client):
    """Renaming the receipt's `usage` key keeps the text's token count but voids the
    receipt, so the difference is exactly the search tokens it declares."""
    request = json.loads((FIXTURES / "conversations/web-search-round-2.json").read_text())
    with_receipt = send(client, request).usage.prompt_tokens
    result = request["messages"][-1]
    result["content"] = result["content"].replace('"usage"', '"spent"')
    voided = send(client, request).usage.prompt_tokens
    assert with_receipt - voided == 4096
