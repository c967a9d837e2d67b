"""The coverage report and request conformance: what a client exercised, served by
`GET /_mockshot/report` and `mockshot report`, and every refused request recorded as a
violation (pointer, rule, expected) while the client still gets the service's own 400."""

from __future__ import annotations

import json

import openai
import pytest

from mockshot import cli

KEY = "sk-report"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}


def say(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize(("body", "pointer", "rule", "expected"), [
    ({"messages": [{"role": "bogus", "content": "x"}]}, "/messages/0/role", "enum",
     ["system", "user", "assistant", "tool"]),
    ({"messages": say("x"), "temperature": 0.3}, "/temperature", "fixed_sampling", 1),
    ({"messages": say("x"), "tools": [WEATHER, WEATHER]}, "/tools/1/function/name",
     "unique_function_names", "a new name"),
    ({"messages": say("x"), "max_completion_tokens": "many"}, "/max_completion_tokens",
     "type", "integer"),
])
def test_a_refused_request_is_answered_as_the_service_would_and_recorded(
        mock, http, auth, body, pointer, rule, expected):
    reply = http.post("/v1/chat/completions", headers=auth, json={"model": "kimi-k2.6", **body})
    assert reply.status_code == 400
    [entry] = mock.journal()
    assert entry.violation["pointer"] == pointer and entry.violation["rule"] == rule
    assert entry.violation["expected"] == expected
    assert entry.violation["message"] == reply.json()["error"]["message"]


def test_an_accepted_request_has_no_violation(mock, client):
    client.chat.completions.create(model="kimi-k2.6", messages=say("hi"))
    assert mock.journal()[0].violation is None


def test_the_report_shows_what_the_client_exercised(mock, client, http):
    mock.on(contains="weather").reply(
        {"tool_calls": [{"name": "get_weather"}, {"name": "get_weather"}]})
    client.chat.completions.create(model="kimi-k2.6", messages=say("weather?"), tools=[WEATHER])
    list(client.chat.completions.create(model="moonshot-v1-8k", messages=say("hi"), stream=True,
                                        stream_options={"include_usage": True}))
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="kimi-k2.6", messages=say("x"), top_p=0.1)
    report = http.get("/_mockshot/report").json()
    assert report["calls"] == 3
    assert report["operations"]["POST /v1/chat/completions"]["calls"] == 3
    assert report["operations"]["GET /v1/models"]["calls"] == 0
    values = report["values"]
    assert values["stream"]["seen"] == {"false": 2, "true": 1}
    assert values["stream_options.include_usage"]["seen"] == {"true": 1}
    assert values["tools"]["seen"] == {"absent": 2, "offered": 1}
    assert "json_schema" in values["response_format.type"]["missing"]
    served = report["responses"]
    assert {"stream", "json", "parallel_tool_calls", "finish:tool_calls"} <= set(served["seen"])
    assert served["errors"] == {"invalid_request_error 400": 1}
    assert "top_p" in report["fields"]["POST /v1/chat/completions"]["used"]
    assert [v["rule"] for v in report["violations"]] == ["fixed_sampling"]
    assert 0 < report["score"]["percent"] < 100


def test_the_report_as_a_page(client, http):
    client.chat.completions.create(model="kimi-k2.6", messages=say("hi"))
    text = http.get("/_mockshot/report?format=markdown").text
    assert text.startswith("# mockshot coverage report") and "| stream | false: 1 |" in text
    page = http.get("/_mockshot/report?format=html")
    assert page.headers["content-type"].startswith("text/html")
    assert "<td>stream</td><td>false: 1</td>" in page.text
    assert http.get("/_mockshot/report?format=pdf").status_code == 400


def test_mockshot_report_from_a_saved_journal_gates_on_a_threshold(client, http, tmp_path,
                                                                  capsys):
    client.chat.completions.create(model="kimi-k2.6", messages=say("hi"))
    saved = tmp_path / "journal.json"
    saved.write_text(http.get("/_mockshot/journal?limit=1000").text)
    assert cli.main(["report", "--journal", str(saved), "--fail-under", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == http.get("/_mockshot/report").json()
    assert cli.main(["report", "--journal", str(saved), "--fail-under", "99"]) == 1
    assert "is under --fail-under 99%" in capsys.readouterr().err


def test_mockshot_report_from_a_live_server(served, served_client, capsys):
    test = {"X-Mockshot-Test": "report-live"}
    with pytest.raises(openai.BadRequestError):
        served_client.chat.completions.create(model="kimi-k2.6", messages=say("x"),
                                              temperature=0, extra_headers=test)
    argv = ["report", "--url", served.url, "--test", "report-live", "--format", "markdown",
            "--fail-on-violations"]
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert "| /temperature | fixed_sampling | 1 |" in out
    assert "1 request(s) broke the contract" in err
