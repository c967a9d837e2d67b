"""The plugin as a user meets it, in a pytest run of its own (pytester): what a failure
says, how markers merge, and xdist workers that share nothing."""

from __future__ import annotations

from mockshot import ServedMock, Settings

FIVE_LINES = '''
def test_hello(mockshot):
    mockshot.on(contains="hello").reply("Hi there!")
    reply = mockshot.client.chat.completions.create(
        model="kimi-k2.6", messages=[{"role": "user", "content": "hello"}])
    assert reply.choices[0].message.content == "Hi there!"
'''


def test_a_five_line_test_passes_with_the_plugin_registered_by_its_entry_point(pytester):
    pytester.makepyfile(FIVE_LINES)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_failure_shows_the_seed_and_the_journal_tail(pytester):
    pytester.makepyfile('''
        import pytest

        @pytest.mark.mockshot(seed=41)
        def test_fails(mockshot):
            mockshot.client.chat.completions.create(
                model="kimi-k2.6", messages=[{"role": "user", "content": "remember me"}])
            assert False, "the code under test went wrong"
    ''')
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*mockshot (MockFixture)*",
        "seed 41: replay with --mockshot-seed 41*",
        "last 1 of 1 calls:",
        "  #1 POST /v1/chat/completions -> 200 model=kimi-k2.6 seed=41 'remember me'",
    ])


def test_an_unused_reply_errors_at_teardown_with_how_to_relax_it(pytester):
    pytester.makepyfile('''
        import pytest

        def test_forgets(mockshot):
            mockshot.on(contains="weather").reply("Sunny")

        @pytest.mark.mockshot(assert_all_used=False)
        def test_relaxed(mockshot):
            mockshot.on(contains="weather").reply("Sunny")
    ''')
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*TeardownError: mockshot: 1 scripted reply was never used: "
                                 "'default:on#1'*@pytest.mark.mockshot(assert_all_used=False)*"])


def test_markers_merge_closest_wins_over_the_command_line(pytester):
    pytester.makepyfile('''
        import pytest

        pytestmark = pytest.mark.mockshot(seed=1, strict=True)

        class TestSome:
            pytestmark = pytest.mark.mockshot(seed=2)

            @pytest.mark.mockshot(seed=3)
            def test_function_wins(self, mockshot):
                assert (mockshot.seed, mockshot.mock.settings.strict) == (3, True)

            def test_class_wins(self, mockshot):
                assert mockshot.seed == 2

        def test_module_wins(mockshot):
            assert mockshot.seed == 1

        @pytest.mark.mockshot(tiers_of_cake=3)
        def test_unknown_setting(mockshot):
            pass
    ''')
    result = pytester.runpytest("--mockshot-seed", "99")
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.mockshot: unknown setting(s): tiers_of_cake; the "
                                 "marker takes: *seed*strict*tier*"])


def test_xdist_workers_each_get_their_own_partition_of_one_served_mock(pytester):
    """Four tests on two workers against one externally served mock, each through its own
    X-Mockshot-Test partition: every test sees only its own calls and rules."""
    with ServedMock(Settings(port=0, clock="virtual", log_level="warning")) as served:
        pytester.makepyfile(f'''
            import openai, pytest

            @pytest.mark.parametrize("n", range(4))
            def test_isolated(n, request):
                header = {{"X-Mockshot-Test": request.node.nodeid}}
                client = openai.OpenAI(api_key="sk-x", base_url="{served.url}/v1",
                                       default_headers=header, max_retries=0)
                for _ in range(n + 1):
                    client.models.list()
                journal = client.get("/../_mockshot/journal", cast_to=object,
                                     options={{"headers": header}})
                assert len(journal["data"]) == n + 1
        ''')
        result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=4)
        assert len(served.mock.partitions.names()) == 4
        assert served.mock.journal() == []


def test_both_fixtures_give_fresh_state_under_xdist(pytester):
    pytester.makepyfile('''
        import pytest

        @pytest.mark.parametrize("n", range(3))
        @pytest.mark.parametrize("name", ["mockshot", "mockshot_server"])
        def test_fresh_state(n, name, request):
            mock = request.getfixturevalue(name)
            mock.on(nth=1).reply(f"first of test {n}")
            reply = mock.client.chat.completions.create(
                model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}])
            assert reply.choices[0].message.content == f"first of test {n}"
            assert len(mock.calls) == 1
    ''')
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
