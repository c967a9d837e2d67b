"""`X-Mockshot-Test` partitions: one served mock, many tests, none seeing another's state."""

from __future__ import annotations

import urllib.parse

from mockshot import Mock, Settings, create_app, http_client

AUTH = {"Authorization": "Bearer sk-part"}


def chat(http, test: str | None, text: str = "hi"):
    headers = {**AUTH, **({"X-Mockshot-Test": test} if test else {})}
    return http.post("/v1/chat/completions", headers=headers, json={
        "model": "moonshot-v1-8k", "messages": [{"role": "user", "content": text}]})


def test_each_test_id_has_its_own_journal_rules_counts_and_accounts(mock, http):
    a, b = {"X-Mockshot-Test": "tests/a.py::one"}, {"X-Mockshot-Test": "tests/b.py::two"}
    http.post("/_mockshot/rules", headers=a, json={"match": {"nth": 1}, "reply": {
        "content": "first of a"}})
    assert chat(http, a["X-Mockshot-Test"]).json()["choices"][0]["message"]["content"] == \
        "first of a"
    assert chat(http, b["X-Mockshot-Test"]).json()["choices"][0]["message"]["content"] != \
        "first of a"
    http.put("/_mockshot/accounts/sk-part", headers=b, json={"cash": 0})
    assert chat(http, b["X-Mockshot-Test"]).status_code == 429
    assert chat(http, a["X-Mockshot-Test"]).status_code == 200
    assert len(http.get("/_mockshot/journal", headers=a).json()["data"]) == 2
    assert len(http.get("/_mockshot/journal", headers=b).json()["data"]) == 2
    assert mock.journal() == [] and mock.rules() == []  # the root saw nothing


def test_the_same_calls_give_the_same_bytes_in_any_partition(http):
    """A partition is a fresh mock from the same settings: a test's replies do not depend
    on what other tests did before it."""
    chat(http, "warm-up", "hi")
    assert chat(http, "x", "hi").json() == chat(http, "y", "hi").json()


def test_delete_drops_a_partition_and_its_state(mock, http):
    test = "tests/test_x.py::test_y[a/b]"
    chat(http, test)
    assert test in http.get("/_mockshot/tests").json()["data"]
    dropped = http.delete("/_mockshot/tests/" + urllib.parse.quote(test, safe=""))
    assert dropped.json() == {"id": test, "deleted": True}
    assert http.get("/_mockshot/journal", headers={"X-Mockshot-Test": test}).json()["data"] == []
    assert http.delete("/_mockshot/tests/nothing").status_code == 404


def test_partitions_are_bounded_least_recently_used_first():
    mock = Mock(Settings(clock="virtual", max_partitions=2))
    with http_client(create_app(mock=mock)) as http:
        for test in ("one", "two", "one", "three"):
            chat(http, test)
        listed = http.get("/_mockshot/tests").json()
    assert listed["data"] == ["one", "three"] and listed["evicted"] == 1


def test_a_test_id_too_long_is_a_400_that_changes_nothing(mock, http):
    assert chat(http, "x" * 2000).status_code == 400
    assert mock.root.partitions.names() == []
