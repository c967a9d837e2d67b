"""The floor mockshot is measured against: a bare Starlette app with one fixed reply.

It does nothing mockshot does (no auth, no body read, no validation, no tokenizer, no
journal): one `Route` answering every chat call with the same `chat.completion` bytes,
serialised once with orjson at import. Shaped and sized like a real Moonshot reply from
kimi-k2.6 (thinking on), so both apps write similar bodies and the SDK parses similar JSON.

With `?chunks=N&chunk_bytes=B` it streams instead (Starlette's StreamingResponse): N
identical `data: {chat.completion.chunk}\n\n` events of B bytes each, then `data: [DONE]`.
The benchmark measures N and B from mockshot's own streams first, so both servers write
the same number of events and bytes; a plain request never looks at the query.

    uvicorn bench.bare_app:app --loop uvloop --http httptools --no-access-log
    python bench/bare_app.py --port 8001          # the same stack, by file path
"""

from __future__ import annotations

import argparse
from functools import lru_cache

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

__all__ = ["BODY", "COMPLETION", "app", "chunk_event"]

COMPLETION = {
    "id": "chatcmpl-6955b900314af5cde6ab6e0f",
    "object": "chat.completion",
    "created": 1767225600,
    "model": "kimi-k2.6",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": (
                    "The capital of France is Paris. It sits on the Seine in the north of the "
                    "country and has been the seat of French government for most of the last "
                    "thousand years; it is also France's largest city and its cultural centre."
                ),
                "reasoning_content": (
                    "The user asks a simple factual question about geography. The capital of "
                    "France is Paris. I should answer directly and briefly, perhaps with one "
                    "line of context about where it is and why it matters, without padding. "
                    "No tools are needed and there is nothing ambiguous in the question."
                ),
            },
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 22,
        "completion_tokens": 99,
        "total_tokens": 121,
        "completion_tokens_details": {"reasoning_tokens": 58},
    },
}
BODY = orjson.dumps(COMPLETION)
DONE = b"data: [DONE]\n\n"
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}  # as mockshot sends


def _chunk(content: str) -> bytes:
    chunk = {"id": COMPLETION["id"], "object": "chat.completion.chunk",
             "created": COMPLETION["created"], "model": COMPLETION["model"],
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
             "system_fingerprint": "fpv0_1c3effa9"}
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


@lru_cache(maxsize=8)
def chunk_event(size: int) -> bytes:
    """One SSE event of exactly `size` bytes, `data:` to blank line (the content delta
    padded with letters), or the shortest such event when `size` is smaller."""
    return _chunk("x" * max(0, size - len(_chunk(""))))


def stream(chunks: int, size: int) -> StreamingResponse:
    """`chunks` copies of one prebuilt event, then [DONE]: the floor of an SSE reply."""
    event = chunk_event(size)

    async def events():
        for _ in range(chunks):
            yield event
        yield DONE

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


async def chat_completions(request: Request) -> Response:
    """Answer without looking at the body: the cost of Starlette + the server alone. The
    raw query string is tested first so a plain request pays nothing for streaming."""
    if request.scope["query_string"]:
        query = request.query_params
        return stream(int(query["chunks"]), int(query.get("chunk_bytes", 0)))
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/v1/chat/completions", chat_completions, methods=["POST"])])


def main() -> None:
    """Serve with the stack `mockshot serve` uses, so a served comparison is like for like."""
    import uvicorn

    parser = argparse.ArgumentParser(description="serve the bare Starlette baseline")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                access_log=False, log_level="warning", lifespan="off", server_header=False)


if __name__ == "__main__":
    main()
