"""Build the mock's ASGI app: one route per operation of the spec, plus other surfaces.

Routes come from the spec's paths (each answered by its handler, or by `not_served` for
an operation a newer spec adds before mockshot serves it); a path the spec does not have
answers 404 and a method it does not list answers 405, both in Moonshot's envelope.
Uploads (`STREAMED`) get the raw ASGI `receive`: their bodies are never read whole.
"""

from __future__ import annotations

from starlette.responses import Response

from .control import api as admin
from .errors import APIError
from .incoming import Incoming
from .mock import Mock
from .recording.chain import providers_for
from .resources import account
from .resources.batches import handlers as batches
from .resources.files import handlers as files
from .road import Handler, Surface, endpoint, neutral_operation
from .router import MockApp, Route
from .settings import Settings
from .surfaces import anthropic_messages as anthropic
from .surfaces import openai_chat as chat

__all__ = ["create_app"]

HANDLERS: dict[str, Handler] = {
    "GET /v1/models": account.list_models,
    "GET /v1/users/me/balance": account.balance,
    "POST /v1/tokenizers/estimate-token-count": account.estimate_token_count,
    "POST /v1/chat/completions": chat.create_chat_completion,
    "POST /v1/files": files.upload_file,
    "GET /v1/files": files.list_files,
    "GET /v1/files/{file_id}": files.retrieve_file,
    "DELETE /v1/files/{file_id}": files.delete_file,
    "GET /v1/files/{file_id}/content": files.file_content,
    "POST /v1/batches": batches.create,
    "GET /v1/batches": batches.list_batches,
    "GET /v1/batches/{batch_id}": batches.retrieve_batch,
    "POST /v1/batches/{batch_id}/cancel": batches.cancel_batch,
}
STREAMED = frozenset({"POST /v1/files"})  # handlers that read their body as it arrives


async def not_served(mock: Mock, incoming: Incoming) -> Response:
    """Operations of the spec that this version of mockshot does not serve (none today:
    every operation of the vendored spec has a handler)."""
    raise APIError(
        501,
        "not_implemented_error",
        f"mockshot does not serve {incoming.operation} yet",
    )


def extra_routes() -> list[tuple[str, str, Handler, Surface]]:
    """Surfaces beside the spec's own paths (each validated by its own schema)."""
    anthropic.request_validator()  # compiled at start-up, so no request pays for it
    surface = Surface(anthropic.credentials, anthropic.error_response, "anthropic")
    return [("POST", anthropic.PATH, anthropic.create_message, surface),
            ("POST", anthropic.COUNT_PATH, anthropic.count_tokens, surface)]


# Operations whose handler takes the scenario step itself, once the request is known to be
# valid, so a refused call uses no rule and counts for no `nth` (the road's `chat` flag).
SELF_SCRIPTED = ("chat", "estimate")


def create_app(settings: Settings | None = None, *, mock: Mock | None = None) -> MockApp:
    """Build a mock server app; `app.mock` is its `Mock`."""
    mock = mock or Mock(settings)
    if not mock.providers:  # a cassette may have set the chain already
        mock.providers = providers_for(mock.settings)
    routes = admin.routes(mock)
    for op in mock.spec.operations:
        handler = HANDLERS.get(op.name, not_served)
        streamed = op.name in STREAMED
        takes_body = not streamed and mock.spec.operation_schema(op.method, op.path) is not None
        scripted = neutral_operation(op.name) in SELF_SCRIPTED
        run = endpoint(mock, op.name, handler, takes_body, chat=scripted, streamed=streamed)
        routes.append(Route(op.method.upper(), op.path, run))
    extras = extra_routes()
    for method, path, handler, surface in extras:
        name = f"{method} {path}"
        run = endpoint(mock, name, handler, method == "POST", surface,
                       chat=neutral_operation(name) in SELF_SCRIPTED)
        routes.append(Route(method, path, run))
    return MockApp(routes, mock, {f"/{path.split('/')[1]}/": surface.render_error
                                  for _, path, _, surface in extras})
