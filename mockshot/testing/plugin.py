"""The pytest plugin (registered by the package's `pytest11` entry point): the `mockshot`
and `mockshot_server` fixtures, the `mockshot` marker, `--mockshot-seed`, per-test
cassettes (`cassette=` on the marker; `--mockshot-record`, `--mockshot-upstream`,
`--mockshot-cassettes`), and a report section with the seed and the journal's tail when
a test fails.

The only module of mockshot that imports pytest; everything it hands out is built in
fixture.py, markers.py and checks.py, which any runner can use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ..mock import Mock
from ..recording import MODES, CassetteError, cassette_path, use_cassette
from ..server import ServedMock
from ..settings import Settings
from .fixture import MockFixture, ServedFixture
from .markers import FIXTURE_DEFAULTS, MarkerError, Options, options_from

USED = pytest.StashKey[list]()  # the fixtures a test is using, for its failure report
DESCRIBED = pytest.StashKey[list]()  # their descriptions, kept once they are gone
CALL_FAILED = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockshot")
    group.addoption("--mockshot-seed", type=int, default=None, metavar="SEED",
                    help="seed of every mockshot fixture (a marker's seed wins); a failed "
                         "test's report shows the seed to replay it with")
    group.addoption("--mockshot-record", choices=MODES, default=None, metavar="MODE",
                    help="the mode of every cassette test, over its marker's: once, replay "
                         "(CI: never the network), record (again), new")
    group.addoption("--mockshot-upstream", default=None, metavar="URL",
                    help="where cassette tests record from (default: $MOCKSHOT_UPSTREAM)")
    group.addoption("--mockshot-cassettes", default=None, metavar="DIR",
                    help="where each test's cassette is kept (default: <rootdir>/cassettes), "
                         "one file per test named from its node id")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mockshot(**settings): settings of the test's mockshot fixtures (any "
                   "mockshot Settings field, e.g. seed, strict, scenario, plus "
                   "assert_all_used and cassette=True or a mode); the closest marker wins")


def _options(request: pytest.FixtureRequest) -> Options:
    markers = []
    for mark in request.node.iter_markers("mockshot"):
        if mark.args:
            pytest.fail("@pytest.mark.mockshot takes keywords only, e.g. "
                        "@pytest.mark.mockshot(seed=7)", pytrace=False)
        markers.append(mark.kwargs)
    try:
        return options_from(markers, request.config.getoption("mockshot_seed"),
                            request.node.path.parent)
    except MarkerError as exc:
        pytest.fail(str(exc), pytrace=False)


def _cassette(request: pytest.FixtureRequest, mock: Mock, options: Options) -> None:
    """Put the test's cassette on its mock when the marker asks for one."""
    if options.cassette is None:
        return
    config = request.config
    root = config.getoption("mockshot_cassettes") or config.rootpath / "cassettes"
    upstream = config.getoption("mockshot_upstream") or os.environ.get("MOCKSHOT_UPSTREAM")
    mode = config.getoption("mockshot_record") or options.cassette
    try:
        use_cassette(mock, cassette_path(root, request.node.nodeid), mode, upstream=upstream,
                     strict=options.settings.strict)
    except CassetteError as exc:
        pytest.fail(f"mockshot: {exc} (--mockshot-upstream URL, or $MOCKSHOT_UPSTREAM)",
                    pytrace=False)


def _finish(request: pytest.FixtureRequest, fixture: MockFixture | ServedFixture) -> None:
    """Close the fixture and check what the test left unused. The item lets go of the
    fixture here: a session holding a thousand finished mocks pays for them in GC."""
    stash = request.node.stash
    try:
        fixture.close()
        if not stash.get(CALL_FAILED, False):
            fixture.verify()  # a failed test already says what went wrong
    except BaseException:
        stash.setdefault(DESCRIBED, []).append(_section(fixture))
        raise
    finally:
        stash[USED].remove(fixture)


def _section(fixture: MockFixture | ServedFixture) -> tuple[str, str]:
    return f"mockshot ({type(fixture).__name__})", fixture.describe()


@pytest.fixture
def mockshot(request: pytest.FixtureRequest) -> Iterator[MockFixture]:
    """A mock for this test, in-process (no socket): `.client`, `.on(...)`, `.calls`."""
    options = _options(request)
    fixture = MockFixture(options.settings, assert_all_used=options.assert_all_used,
                          test_id=request.node.nodeid)
    _cassette(request, fixture.mock, options)
    request.node.stash.setdefault(USED, []).append(fixture)
    yield fixture
    _finish(request, fixture)


@pytest.fixture
def mockshot_mock(mockshot: MockFixture) -> MockFixture:
    """The `mockshot` fixture under a name that does not shadow the package."""
    return mockshot


@pytest.fixture(scope="session")
def mockshot_served(pytestconfig: pytest.Config) -> Iterator[ServedMock]:
    """One served mock per test session (per xdist worker), on a free loopback port."""
    seed = pytestconfig.getoption("mockshot_seed")
    settings = Settings(port=0, **FIXTURE_DEFAULTS, **({"seed": seed} if seed is not None
                                                       else {}))
    with ServedMock(settings) as served:
        yield served


@pytest.fixture
def mockshot_server(request: pytest.FixtureRequest,
                    mockshot_served: ServedMock) -> Iterator[ServedFixture]:
    """This test's partition of the session's served mock: `.url`, `.base_url`,
    `.headers`, `.env()`, `.client`, `.on(...)`, `.calls`; reset when the test ends."""
    options = _options(request)
    settings = options.settings.updated({"port": 0})
    fixture = ServedFixture(mockshot_served.mock, mockshot_served.url, request.node.nodeid,
                            settings, assert_all_used=options.assert_all_used)
    _cassette(request, fixture.mock, options)
    request.node.stash.setdefault(USED, []).append(fixture)
    try:
        yield fixture
        _finish(request, fixture)
    finally:
        fixture.end()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        item.stash[CALL_FAILED] = True
    if report.failed and report.when == "call":
        report.sections.extend(_section(fixture) for fixture in item.stash.get(USED, []))
    if report.failed and report.when == "teardown":
        report.sections.extend(item.stash.get(DESCRIBED, []))
