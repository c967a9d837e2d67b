"""Batches through the openai SDK: create, poll through every state, download the output
and error files with every line accounted for; cancel and expiry; accounts apart; every
malformed request refused and every malformed input file a failed batch."""

from __future__ import annotations

import asyncio
import json
import time

import openai
import pytest

from mockshot import Mock, ServedMock, Settings, create_app, http_client
from mockshot.transport import httpx_module

from . import spec_check
from .batches import request_line, results, start, upload
from .conftest import KEY
from .test_files_endpoints import other_client

STATES = ["validating", "in_progress", "in_progress", "finalizing", "completed"]


def poll(client, mock, batch_id: str, steps: list[float]) -> list:
    seen = []
    for step in steps:
        mock.clock.advance(step)
        seen.append(client.batches.retrieve(batch_id))
    return seen


def test_a_batch_goes_through_every_state_and_accounts_for_every_line(client, mock):
    lines = [request_line(f"req-{i}", f"Question {i}") for i in range(10)]
    lines[3]["body"]["temperature"] = 0.3  # the live endpoint refuses this
    lines[7]["body"]["messages"] = "not a list"  # fails the chat schema
    batch = start(client, lines, metadata={"job": "nightly"})
    assert (batch.status, batch.request_counts.total, batch.metadata) == (
        "validating", 0, {"job": "nightly"})
    assert batch.expires_at == batch.created_at + 86400
    seen = poll(client, mock, batch.id, [0.5, 0.5, 1.0, 1.0, 1.0])
    assert [b.status for b in seen] == STATES
    assert [b.request_counts.completed + b.request_counts.failed for b in seen] == [
        0, 0, 5, 10, 10]
    done = seen[-1]
    assert (done.in_progress_at, done.finalizing_at, done.completed_at) == (
        batch.created_at + 1, batch.created_at + 3, batch.created_at + 4)
    assert (done.request_counts.completed, done.request_counts.failed) == (8, 2)
    output, errors = results(client, done.output_file_id), results(client, done.error_file_id)
    assert sorted(line["custom_id"] for line in output + errors) == sorted(
        f"req-{i}" for i in range(10))
    assert {line["custom_id"] for line in errors} == {"req-3", "req-7"}
    for line in output:
        assert list(line) == ["id", "custom_id", "response", "error"]
        assert (line["id"], line["error"]) == (line["custom_id"], None)
        assert (line["response"]["status_code"], line["response"]["request_id"]) == (200, "")
        spec_check._validate({"$ref": "#/components/schemas/ChatCompletionResponse"},
                             line["response"]["body"], line["custom_id"])
    refused = next(line for line in errors if line["custom_id"] == "req-3")["response"]
    assert refused == {"status_code": 400, "request_id": "", "body": {"error": {
        "message": "invalid temperature: only 1 is allowed for this model",
        "type": "invalid_request_error"}}}


def test_the_result_files_are_batch_output_jsonl_files_of_the_account(client, mock):
    batch = start(client, [request_line("a"), request_line("b", temperature=0.2)])
    done = poll(client, mock, batch.id, [10])[0]
    output = client.files.retrieve(done.output_file_id)
    assert (output.purpose, output.filename, output.file_type) == (
        "batch_output", f"{batch.id}_output.jsonl", "text/plain")
    assert output.created_at == done.completed_at
    assert output.bytes == len(client.files.content(output.id).content)
    assert {f.purpose for f in client.files.list()} == {"batch", "batch_output"}


def test_lines_are_answered_by_the_scenario_rules_and_journaled(client, mock):
    mock.on(contains="weather").reply("Sunny in Paris.")
    batch = start(client, [request_line("w", "What is the weather?"), request_line("x")])
    done = poll(client, mock, batch.id, [10])[0]
    by_id = {line["custom_id"]: line for line in results(client, done.output_file_id)}
    assert by_id["w"]["response"]["body"]["choices"][0]["message"]["content"] == \
        "Sunny in Paris."
    lines = [e for e in mock.journal() if e.surface == "batch"]
    assert len(lines) == 2 and {e.rule is not None for e in lines} == {True, False}


def test_a_line_is_billed_at_the_batch_price():
    mock = Mock(Settings(clock="virtual", prompt_cache=False))
    client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", max_retries=0,
                           http_client=_client(mock))
    pinned = {"extra_headers": {"X-Mockshot-Seed": "7"}}  # the same reply both ways
    client.chat.completions.create(**request_line("live", "Price me")["body"], **pinned)
    batch = start(client, [request_line("b", "Price me")], **pinned)
    poll(client, mock, batch.id, [10])
    live, line = (e for e in mock.journal() if e.operation == "POST /v1/chat/completions")
    assert line.surface == "batch" and line.cost == pytest.approx(0.6 * live.cost)
    assert mock.balance(KEY).cash == pytest.approx(1000 - live.cost - line.cost)


def test_a_pinned_seed_at_creation_answers_the_lines_alike(client, mock):
    options = {"extra_headers": {"X-Mockshot-Seed": "7"}}
    first = start(client, [request_line("a")], **options)
    second = start(client, [request_line("a")], **options)
    bodies = []
    for batch in (first, second):
        done = poll(client, mock, batch.id, [10])[0]
        bodies.append(results(client, done.output_file_id)[0]["response"]["body"]["choices"])
    assert bodies[0] == bodies[1]


# --- cancel and expiry ------------------------------------------------------------------------


def test_cancel_keeps_the_lines_answered_and_lists_the_rest_as_cancelled(client, mock):
    batch = start(client, [request_line(f"r{i}") for i in range(10)])
    mock.clock.advance(2.0)  # halfway through in_progress
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at == batch.created_at + 2
    assert cancelling.request_counts.completed == 5
    with pytest.raises(openai.BadRequestError, match="Task status does not allow cancellation"):
        client.batches.cancel(batch.id)
    done = poll(client, mock, batch.id, [0.5, 0.5])
    assert [b.status for b in done] == ["cancelling", "cancelled"]
    assert done[-1].cancelled_at == batch.created_at + 3 and done[-1].completed_at is None
    answered = results(client, done[-1].output_file_id)
    never = results(client, done[-1].error_file_id)
    assert len(answered) == 5 and len(never) == 5
    assert never[0]["response"] is None and never[0]["error"]["code"] == "batch_cancelled"
    assert sorted(line["custom_id"] for line in answered + never) == sorted(
        f"r{i}" for i in range(10))


def test_a_batch_cancelled_while_validating_runs_nothing(client, mock):
    batch = start(client, [request_line("a"), request_line("b")])
    client.batches.cancel(batch.id)
    done = poll(client, mock, batch.id, [5])[0]
    assert (done.status, done.in_progress_at, done.output_file_id) == ("cancelled", None, None)
    assert [line["custom_id"] for line in results(client, done.error_file_id)] == ["a", "b"]
    assert not [e for e in mock.journal() if e.surface == "batch"]


@pytest.mark.parametrize(("lines", "state"), [([request_line("a")], "completed"),
                                             (["not json"], "failed")])
def test_an_ended_batch_cannot_be_cancelled(client, mock, lines, state):
    batch = start(client, lines)
    assert poll(client, mock, batch.id, [10])[0].status == state
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.cancel(batch.id)
    assert refused.value.body == {"message": (
        f"Task status does not allow cancellation: batch {batch.id} is {state}; only "
        "validating, in_progress or finalizing batches can be cancelled"),
        "type": "invalid_request_error"}
    assert client.batches.retrieve(batch.id).cancelling_at is None


def test_the_window_closing_first_expires_the_batch_with_partial_results():
    mock = Mock(Settings(clock="virtual", batch_validating_seconds=0.0,
                         batch_in_progress_seconds=86400.0))  # 4 lines over a day
    client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1", max_retries=0,
                           http_client=_client(mock))
    batch = start(client, [request_line(f"r{i}") for i in range(4)], completion_window="12h")
    mock.clock.advance(21600)  # a quarter of the day: one line
    running = client.batches.retrieve(batch.id)
    assert (running.status, running.request_counts.completed) == ("in_progress", 1)
    mock.clock.advance(30000)  # the 12h window closed at half the day: two lines
    done = client.batches.retrieve(batch.id)
    assert (done.status, done.finalizing_at, done.completed_at) == ("expired", None, None)
    assert done.expires_at == batch.created_at + 43200
    never = results(client, done.error_file_id)
    assert len(results(client, done.output_file_id)) == 2
    assert [line["error"]["code"] for line in never] == ["batch_expired"] * 2
    with pytest.raises(openai.BadRequestError, match="is expired;"):
        client.batches.cancel(batch.id)


def _client(mock: Mock):
    return http_client(create_app(mock=mock), event_hooks={"response": [spec_check.hook]})


# --- malformed input files fail the batch ---------------------------------------------------


FAILING = {
    "a line that is not JSON": (["{not json"], "invalid_json_line", 1, None),
    "a line that is not an object": ([[1, 2]], "invalid_json_line", 1, None),
    "a missing custom_id": ([{"method": "POST", "url": "/v1/chat/completions", "body": {}}],
                            "missing_required_parameter", 1, "custom_id"),
    "duplicate custom_ids": ([request_line("same"), request_line("same")],
                             "duplicate_custom_id", 2, "custom_id"),
    "a GET": ([{**request_line("a"), "method": "GET"}], "invalid_method", 1, "method"),
    "another url": ([{**request_line("a"), "url": "/v1/embeddings"}], "invalid_url", 1, "url"),
    "no body": ([{**request_line("a"), "body": None}], "missing_required_parameter", 1, "body"),
    "no model": ([{**request_line("a"), "body": {"messages": []}}],
                 "missing_required_parameter", 1, "body.model"),
    "two models": ([request_line("a"), request_line("b", model="kimi-k2.5")],
                   "mismatched_model", 2, "body.model"),
    "a model batches do not run": ([request_line("a", model="kimi-k2-0905-preview")],
                                   "model_not_found", 1, "body.model"),
    "blank lines only": (["", "  "], "empty_file", None, None),
}


@pytest.mark.parametrize("case", FAILING)
def test_a_malformed_input_file_fails_the_batch_with_the_reason(client, mock, case):
    lines, code, line, param = FAILING[case]
    batch = start(client, lines)
    assert batch.status == "validating"
    done = poll(client, mock, batch.id, [1.0])[0]
    assert (done.status, done.failed_at, done.in_progress_at) == (
        "failed", batch.created_at + 1, None)
    (found,) = done.errors.data
    assert (found.code, found.line, found.param) == (code, line, param)
    assert (done.output_file_id, done.error_file_id) == (None, None)
    assert poll(client, mock, batch.id, [100])[0].status == "failed"
    assert {f.purpose for f in client.files.list()} == {"batch"}
    assert not [e for e in mock.journal() if e.surface == "batch"]


def test_a_model_the_config_adds_can_be_batched():
    mock = Mock(Settings(clock="virtual"))  # by default kimi-k2.5 and kimi-k2.6 only
    configured = Mock(Settings(clock="virtual", models=(
        {"id": "kimi-k3", "like": "kimi-k2.6"},)))
    for each, status in ((mock, "failed"), (configured, "completed")):
        client = openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                               max_retries=0, http_client=_client(each))
        batch = start(client, [request_line("a", model="kimi-k3")])
        assert poll(client, each, batch.id, [10])[0].status == status


# --- malformed create requests are refused and create nothing ---------------------------------


def refused_create(client, **fields) -> str:
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(**fields)
    return refused.value.body["message"]


@pytest.mark.parametrize(("change", "message"), [
    ({"completion_window": "2h"}, "from 12h to 7d, not 2h"),
    ({"completion_window": "8d"}, "from 12h to 7d, not 8d"),
    ({"completion_window": "24 hours"}, 'completion_window: "24 hours" does not match'),
    ({"endpoint": "/v1/embeddings"}, 'is not one of "/v1/chat/completions"'),
    ({"metadata": {f"k{i}": "v" for i in range(17)}}, "at most 16 key-value pairs"),
    ({"metadata": {"k" * 65: "v"}}, "at most 64 characters"),
    ({"metadata": {"k": "v" * 513}}, "longer than 512 characters"),
    ({"input_file_id": "cu8missing0000000000"}, "Not found the file cu8missing0000000000"),
])
def test_a_bad_create_is_a_400_and_creates_nothing(client, change, message):
    fields = {"input_file_id": upload(client, [request_line("a")]),
              "endpoint": "/v1/chat/completions", "completion_window": "24h", **change}
    assert message in refused_create(client, **fields)
    assert client.batches.list().data == []


@pytest.mark.parametrize("window", ["12h", "1d", "24h", "3d", "7d", "168h"])
def test_every_window_from_12h_to_7d_is_taken(client, window):
    assert start(client, [request_line("a")], completion_window=window).status == "validating"


def test_the_input_must_be_a_batch_file(client):
    other = client.files.create(file=("a.txt", b"x"), purpose="file-extract").id
    assert "has purpose file-extract" in refused_create(
        client, input_file_id=other, endpoint="/v1/chat/completions", completion_window="24h")


def test_deleting_the_input_file_leaves_a_running_batch_whole(client, mock):
    batch = start(client, [request_line("a"), request_line("b")])
    client.files.delete(batch.input_file_id)
    done = poll(client, mock, batch.id, [10])[0]
    assert done.status == "completed" and len(results(client, done.output_file_id)) == 2


# --- lists and accounts --------------------------------------------------------------------------


def test_batches_list_newest_first_with_cursors(client):
    ids = [start(client, [request_line("a")]).id for _ in range(5)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]
    assert [b.id for b in client.batches.list(after=ids[2]).data] == ids[:2][::-1]


def test_another_account_never_sees_cancels_or_batches_your_files(client, app):
    batch = start(client, [request_line("a")])
    other = other_client(app)
    assert other.batches.list().data == []
    for attempt in (other.batches.retrieve, other.batches.cancel):
        with pytest.raises(openai.NotFoundError, match=f"Not found the batch {batch.id}"):
            attempt(batch.id)
    assert "Not found the file" in refused_create(
        other, input_file_id=batch.input_file_id, endpoint="/v1/chat/completions",
        completion_window="24h")
    assert client.batches.retrieve(batch.id).status == "validating"


def test_unknown_batch_ids_are_404(client):
    with pytest.raises(openai.NotFoundError, match="Not found the batch batch_nope"):
        client.batches.retrieve("batch_nope")


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten"])
def test_a_bad_list_limit_is_a_400(http, auth, query):
    assert http.get(f"http://mockshot.local/v1/batches?{query}", headers=auth).status_code == 400


# --- concurrent readers, other clients ---------------------------------------------------------


def test_concurrent_readers_answer_each_line_once(async_client, mock):
    async def run() -> list:
        batch = await async_client.batches.create(
            input_file_id=(await async_client.files.create(
                file=("in.jsonl", b"".join(json.dumps(request_line(f"r{i}")).encode() + b"\n"
                                           for i in range(300))), purpose="batch")).id,
            endpoint="/v1/chat/completions", completion_window="24h")
        mock.clock.advance(10)
        return await asyncio.gather(*(async_client.batches.retrieve(batch.id)
                                      for _ in range(5)))

    seen = asyncio.run(run())
    assert {(b.status, b.request_counts.completed, b.output_file_id) for b in seen} == {
        ("completed", 300, seen[0].output_file_id)}
    assert len([e for e in mock.journal() if e.surface == "batch"]) == 300


def test_a_large_batch_lets_other_requests_through_while_it_is_answered(async_client, mock):
    """A read that answers 2,000 lines yields to the loop between runs: a models call made
    meanwhile is answered before the last line is."""
    batch_id = ""

    def lines_answered() -> int:
        return mock.store.sync(mock.store.batch(KEY, batch_id)).done

    async def run() -> tuple[int, int]:
        nonlocal batch_id
        lines = b"".join(json.dumps(request_line(f"r{i}")).encode() + b"\n" for i in range(2000))
        kept = await async_client.files.create(file=("big.jsonl", lines), purpose="batch")
        batch = await async_client.batches.create(input_file_id=kept.id,
                                                  endpoint="/v1/chat/completions",
                                                  completion_window="24h")
        batch_id = batch.id
        mock.clock.advance(10)

        async def list_models() -> int:
            while lines_answered() == 0:  # the batch read has started answering
                await asyncio.sleep(0)
            await async_client.models.list()
            return lines_answered()

        read, during = await asyncio.gather(async_client.batches.retrieve(batch.id),
                                            list_models())
        return read.request_counts.completed, during

    completed, during = asyncio.run(run())
    assert completed == 2000 and 0 < during < 2000


def test_a_served_mock_on_the_real_clock_shows_every_state_within_seconds():
    settings = Settings(port=0, log_level="warning", clock_speed=4.0)
    with ServedMock(settings) as served:
        httpx = httpx_module()
        client = openai.OpenAI(api_key=KEY, base_url=f"{served.url}/v1", max_retries=0,
                               http_client=httpx.Client(event_hooks={
                                   "response": [spec_check.hook]}))
        batch = start(client, [request_line(f"r{i}") for i in range(20)])
        seen = [batch.status]
        for _ in range(400):
            status = client.batches.retrieve(batch.id).status
            if status != seen[-1]:
                seen.append(status)
            if status == "completed":
                break
            time.sleep(0.02)  # the clock is real: a client polls in real time
    assert seen == ["validating", "in_progress", "finalizing", "completed"]


def test_the_served_fixture_moves_a_batch_with_the_control_clock(served, served_client):
    batch = start(served_client, [request_line("a")])
    httpx = httpx_module()
    httpx.post(f"{served.url}/_mockshot/clock", json={"advance": 10})
    done = served_client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert len(results(served_client, done.output_file_id)) == 1


def test_a_line_may_reference_the_accounts_own_uploaded_image(client, mock, app):
    from .test_files_endpoints import PNG, ask_about

    mine = client.files.create(file=("pixel.png", PNG), purpose="image").id
    other = other_client(app)
    theirs = other.files.create(file=("pixel.png", PNG), purpose="image").id
    lines = [{**request_line(name), "body": {"model": "kimi-k2.6", "messages": ask_about(ref)}}
             for name, ref in (("mine", mine), ("theirs", theirs))]
    done = poll(client, mock, start(client, lines).id, [10])[0]
    assert [line["custom_id"] for line in results(client, done.output_file_id)] == ["mine"]
    (refused,) = results(client, done.error_file_id)
    assert refused["response"]["status_code"] == 404
    assert theirs in refused["response"]["body"]["error"]["message"]


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_a_phase_length_must_be_a_number_of_seconds(value):
    from mockshot.settings import SettingsError

    with pytest.raises(SettingsError, match="batch_finalizing_seconds"):
        Settings.load(environ={"MOCKSHOT_BATCH_FINALIZING_SECONDS": value})
    assert Settings.load(environ={"MOCKSHOT_BATCH_FINALIZING_SECONDS": "0"}) \
        .batch_finalizing_seconds == 0.0
