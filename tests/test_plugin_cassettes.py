"""Per-test cassettes under the pytest plugin: `@pytest.mark.mockshot(cassette=True)`
records each test's calls to its own file the first time (from `--mockshot-upstream`)
and replays them after with no upstream at all, on both fixtures.
"""

from __future__ import annotations

import pytest

from mockshot import ServedMock, Settings
from mockshot.scenarios.files import read_scenario_file

SUITE = '''
import pytest

@pytest.mark.mockshot(cassette=True, seed=5)
@pytest.mark.parametrize("name", ["mockshot", "mockshot_server"])
def test_hello(request, name):
    fixture = request.getfixturevalue(name)
    reply = fixture.client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "Hello"}])
    with open("answers.txt", "a") as out:
        out.write(f"{name} {reply.id} {reply.choices[0].message.content!r}\\n")
'''


@pytest.fixture
def upstream():
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning", seed=99)) as served:
        yield served


def answers(pytester) -> list[str]:
    path = pytester.path / "answers.txt"
    lines = path.read_text().splitlines()
    path.unlink()
    return lines


def test_a_cassette_test_records_once_then_replays_without_the_upstream(pytester, upstream):
    pytester.makepyfile(test_app=SUITE)
    pytester.runpytest("--mockshot-upstream", upstream.url).assert_outcomes(passed=2)
    recorded = answers(pytester)
    assert len(upstream.mock.journal()) == 2
    for name in ("mockshot", "mockshot_server"):
        path = pytester.path / "cassettes" / "test_app" / f"test_hello[{name}].yaml"
        assert read_scenario_file(str(path))["rules"][0]["match"]["conversation"] == {
            "turn": 0, "last_user": "Hello"}
    upstream.stop()  # nothing may reach it now
    pytester.runpytest("--mockshot-record", "replay").assert_outcomes(passed=2)
    assert answers(pytester) == recorded


def test_replay_mode_without_a_cassette_fails_the_test_saying_why(pytester):
    pytester.makepyfile(test_app=SUITE)
    result = pytester.runpytest("--mockshot-record", "replay")
    result.assert_outcomes(failed=2)  # the fixture is asked for inside the test
    result.stdout.fnmatch_lines(["*mockshot: no cassette at *test_hello*mockshot*.yaml to "
                                 "replay: record it first*"])


def test_recording_without_an_upstream_says_where_to_give_one(pytester, monkeypatch):
    monkeypatch.delenv("MOCKSHOT_UPSTREAM", raising=False)
    pytester.makepyfile(test_app=SUITE)
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*needs an upstream URL*--mockshot-upstream URL, or "
                                 "$MOCKSHOT_UPSTREAM*"])


def test_a_cassette_mode_the_plugin_does_not_know_is_refused(pytester):
    pytester.makepyfile('''
        import pytest

        @pytest.mark.mockshot(cassette="sometimes")
        def test_it(mockshot):
            pass
    ''')
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cassette='sometimes' is not a mode; use True or one of "
                                 "once, replay, record, new*"])
