"""Models, balance and token estimation: the account-level endpoints."""

from __future__ import annotations

from starlette.responses import Response

from ..engine.chat_rules import check_messages
from ..engine.media import check_media
from ..errors import invalid_request
from ..http import json_response
from ..incoming import Incoming
from ..mock import Mock
from ..road import scripted_step
from ..surfaces.chat import prompt_tokens_of

__all__ = ["balance", "estimate_token_count", "list_models"]


async def list_models(mock: Mock, incoming: Incoming) -> Response:
    return json_response(mock.catalog.listing_body)


async def balance(mock: Mock, incoming: Incoming) -> Response:
    return json_response((await mock.store.balance(incoming.account)).body())


async def estimate_token_count(mock: Mock, incoming: Incoming) -> Response:
    """The same count chat usage reports as `prompt_tokens` for these messages; scenario
    rules and faults apply once the request is known to be valid."""
    body = incoming.body
    if "model" not in body:
        raise invalid_request('model: "model" is a required property')
    model = mock.model(body.get("model"))
    incoming.entry.model = model.id
    mock.spec.validator("post", "/v1/tokenizers/estimate-token-count").check(body)
    if not body["messages"]:
        raise invalid_request("messages must not be empty")
    check_messages(body["messages"], reasoning_required=False)
    check_media(body["messages"], model, incoming.files)
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    total = prompt_tokens_of(mock, model, body["messages"], tools, body.get("thinking"))[2]
    await scripted_step(mock, incoming)
    return json_response({"data": {"total_tokens": total}})
