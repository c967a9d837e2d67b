"""The `/v1/batches` endpoints: create, list, retrieve, cancel (reference §11).

Every read brings the batch up to the clock first (`progress.observe`: the lines due are
answered, an ended batch gets its files), so what a client sees is what the schedule says
at that moment. An account sees only its own batches; any other id is the 404
`Not found the batch <id> or Permission denied` (the unknown-model error's words). A cancel
is decided in one store step by the status at that moment: validating, in_progress and
finalizing batches become cancelling, anything else is the 400 the spec describes ("Task
status does not allow cancellation"; the service's exact text is not captured).
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.responses import Response

from ...errors import APIError, invalid_request
from ...http import json_response
from ...incoming import Incoming
from ...mock import Mock
from ...state.records import CANCELLABLE, BatchRecord
from ..files.handlers import page_limit
from .create import create_batch
from .objects import batch_body, batch_list
from .progress import observe

__all__ = ["cancel_batch", "create", "list_batches", "retrieve_batch"]

DEFAULT_PAGE, MAX_PAGE = 20, 100


def batch_not_found(batch_id: str) -> APIError:
    return APIError(404, "resource_not_found_error",
                    f"Not found the batch {batch_id} or Permission denied")


async def shown(mock: Mock, batch: BatchRecord) -> dict:
    now = mock.clock.now()
    return batch_body(await observe(mock, batch, now), now)


async def create(mock: Mock, incoming: Incoming) -> Response:
    return json_response(await shown(mock, await create_batch(mock, incoming)))


async def retrieve_batch(mock: Mock, incoming: Incoming) -> Response:
    batch_id = incoming.path_params["batch_id"]
    found = await mock.store.batch(incoming.account, batch_id)
    if found is None:
        raise batch_not_found(batch_id)
    return json_response(await shown(mock, found))


async def list_batches(mock: Mock, incoming: Incoming) -> Response:
    """Newest first, `limit` 1-100 (default 20), `after` the last id of the previous page."""
    query = parse_qs(incoming.query)
    limit = page_limit((query.get("limit") or [None])[-1], DEFAULT_PAGE, MAX_PAGE)
    after = (query.get("after") or [None])[-1] or None
    page, more = await mock.store.batches(incoming.account, after, limit)
    return json_response(batch_list([await shown(mock, b) for b in page], more))


async def cancel_batch(mock: Mock, incoming: Incoming) -> Response:
    batch_id = incoming.path_params["batch_id"]
    now = mock.clock.now()
    done = await mock.store.cancel_batch(incoming.account, batch_id, now,
                                         now + mock.settings.batch_cancelling_seconds)
    if done is None:
        raise batch_not_found(batch_id)
    if done.batch is None:
        raise invalid_request(f"Task status does not allow cancellation: batch {batch_id} is "
                              f"{done.refused}; only {', '.join(CANCELLABLE[:-1])} or "
                              f"{CANCELLABLE[-1]} batches can be cancelled", prefixed=False)
    return json_response(batch_body(await observe(mock, done.batch, now), now))
