"""The batch object at a moment, in the keys and order of the docs' example (reference
§11.1): each `*_at` set once its state is reached, `expires_at` from the start,
`request_counts` with the lines' total once validation passed, `metadata` `{}` when none.
A batch that failed validation also carries `errors` (OpenAI's shape: `{"object": "list",
"data": [{code, message, param, line}]}`; the service's own is not captured)."""

from __future__ import annotations

from ...state.records import BatchRecord, status_at

__all__ = ["batch_body", "batch_list", "timeline"]


def timeline(batch: BatchRecord) -> list[tuple[str, float]]:
    """Every state the batch goes through and when, from its schedule and its cancel."""
    schedule = batch.schedule
    end, how = schedule.end(bool(batch.errors))
    stop = end if batch.cancelling_at is None else min(end, batch.cancelling_at)
    events = [("validating", schedule.created_at)]
    events += [(state, at) for state, at in (("in_progress", schedule.validated_at),
                                             ("finalizing", schedule.finalizing_at))
               if at < stop]
    if batch.cancelling_at is None:
        return [*events, (how, end)]
    return [*events, ("cancelling", batch.cancelling_at),
            ("cancelled", batch.cancelled_at or batch.cancelling_at)]


def batch_body(batch: BatchRecord, now: float) -> dict:
    """What `GET /v1/batches/{id}` shows at `now`."""
    reached = {state: int(at) for state, at in timeline(batch) if at <= now}
    body = {
        "id": batch.id, "object": "batch", "endpoint": batch.endpoint,
        "input_file_id": batch.input_file_id, "completion_window": batch.completion_window,
        "status": status_at(batch, now), "output_file_id": batch.output_file_id,
        "error_file_id": batch.error_file_id, "created_at": int(batch.schedule.created_at),
        "in_progress_at": reached.get("in_progress"),
        "expires_at": int(batch.schedule.expires_at),
        "finalizing_at": reached.get("finalizing"), "completed_at": reached.get("completed"),
        "failed_at": reached.get("failed"), "cancelling_at": reached.get("cancelling"),
        "cancelled_at": reached.get("cancelled"),
        "request_counts": {"total": batch.lines if "in_progress" in reached else 0,
                           "completed": batch.completed, "failed": batch.failed},
        "metadata": dict(batch.metadata or {}),
    }
    if batch.errors and "failed" in reached:
        body["errors"] = {"object": "list", "data": [dict(e) for e in batch.errors]}
    return body


def batch_list(bodies: list[dict], has_more: bool) -> dict:
    """`GET /v1/batches`: the page and has_more, with first and last ids as the files list
    has them (optional in the docs)."""
    first, last = (bodies[0]["id"], bodies[-1]["id"]) if bodies else ("", "")
    return {"object": "list", "data": bodies, "first_id": first, "last_id": last,
            "has_more": has_more}
