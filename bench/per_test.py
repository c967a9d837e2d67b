"""(h) fixtures: what a test suite pays for mockshot per test.

  - `Mock(...)` construction, µs (median of 1,000), with the process-wide shared parts
    (compiled spec, catalog, tokenizer; mockshot/parts.py) — and the first, cold one;
  - the `mockshot` fixture's own set-up + teardown (marker merge, a MockFixture, the
    teardown checks), µs, median of 1,000 — without and with its openai client made;
  - a served fixture's per-test reset (a partition made, dropped, the root reset), µs;
  - a 1,000-test pytest suite, each test one chat through the fixture's client, against
    the same suite whose fixture wires the SDK to the bare Starlette app (bench/bare_app.py)
    behind the same in-process transport: wall seconds, best of 3, target at most 1.5 times.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import HERE, MESSAGES, MODEL, Row, section, times, verdict

TESTS = 1000
SUITE = """
import pytest
{fixture}

@pytest.mark.parametrize("n", range({tests}))
def test_one_chat(n, {name}):
    reply = {name}.client.chat.completions.create(model={model!r}, messages={messages!r})
    assert reply.choices[0].message.content
"""
BARE_FIXTURE = """
import importlib.util, openai, mockshot

spec = importlib.util.spec_from_file_location("bare_app", {bare!r})
bare_app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bare_app)

class Stub:
    def __init__(self):
        self.http = mockshot.http_client(bare_app.app)
        self.client = openai.OpenAI(api_key="sk-bench", base_url="http://mockshot.local/v1",
                                    http_client=self.http, max_retries=2)

@pytest.fixture
def stub():
    made = Stub()
    yield made
    made.http.close()
"""


def median_us(run: Callable[[], object], count: int) -> float:
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        run()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return statistics.median(samples)


def fixture_cycle(with_client: bool) -> Callable[[], None]:
    from mockshot.testing import MockFixture
    from mockshot.testing.markers import options_from

    def cycle() -> None:
        options = options_from([], None, None)
        fixture = MockFixture(options.settings, assert_all_used=options.assert_all_used)
        if with_client:
            fixture.client  # noqa: B018 - made as a test that uses it would
        fixture.close()
        fixture.verify()

    return cycle


def served_cycle() -> tuple[Callable[[], None], Callable[[], None]]:
    from mockshot import ServedMock, Settings
    from mockshot.testing import ServedFixture

    served = ServedMock(Settings(port=0, clock="virtual", log_level="warning")).start()
    counter = iter(range(10**9))

    def cycle() -> None:
        fixture = ServedFixture(served.mock, served.url, f"test-{next(counter)}")
        fixture.verify()
        fixture.end()

    return cycle, served.stop


def suite_seconds(directory: Path, name: str) -> float:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-p", "no:randomly", str(directory / f"test_{name}.py")],
                            capture_output=True, text=True, cwd=directory)
    if result.returncode != 0:
        raise SystemExit(f"the {name} suite failed:\n{result.stdout[-2000:]}")
    return time.perf_counter() - start


def write_suites(directory: Path, tests: int) -> None:
    common = {"tests": tests, "model": MODEL, "messages": MESSAGES}
    (directory / "test_mockshot.py").write_text(SUITE.format(fixture="", name="mockshot",
                                                             **common))
    bare = BARE_FIXTURE.format(bare=str(HERE / "bare_app.py"))
    (directory / "test_stub.py").write_text(SUITE.format(fixture=bare, name="stub", **common))


def bench_fixtures(args: argparse.Namespace) -> list[Row]:
    section("(h) fixtures: per-test cost, and a 1,000-test suite")
    from mockshot import Mock, Settings
    from mockshot.parts import _parts

    _parts.cache_clear()
    start = time.perf_counter_ns()
    Mock(Settings(clock="virtual"))
    cold = (time.perf_counter_ns() - start) / 1000
    build = median_us(lambda: Mock(Settings(clock="virtual")), TESTS)
    bare_fixture = median_us(fixture_cycle(False), TESTS)
    with_client = median_us(fixture_cycle(True), TESTS)
    cycle, stop = served_cycle()
    try:
        served = median_us(cycle, TESTS)
    finally:
        stop()
    print(f"- Mock(...): {build:.1f} µs (median of {TESTS}); the first, cold: {cold:.0f} µs")
    print(f"- mockshot fixture set-up + teardown: {bare_fixture:.1f} µs; with its openai "
          f"client made: {with_client:.0f} µs")
    print(f"- served fixture per-test reset (partition made, dropped, root reset): "
          f"{served:.1f} µs")
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        write_suites(directory, TESTS)
        runs = {"mockshot": [], "stub": []}
        for _ in range(3):
            for name in runs:
                runs[name].append(suite_seconds(directory, name))
    best = {name: min(values) for name, values in runs.items()}
    ratio = best["mockshot"] / best["stub"]
    print(f"- {TESTS}-test suite, one chat each: mockshot {best['mockshot']:.2f} s, bare stub "
          f"{best['stub']:.2f} s (best of 3 pytest runs, collection and start-up included)")
    return [
        Row("Mock(...) construction, median µs", f"{build:.1f}", "—", "—", "—", verdict(None)),
        Row("mockshot fixture set-up + teardown, median µs", f"{bare_fixture:.1f}", "—", "—",
            "—", verdict(None)),
        Row("served fixture per-test reset, median µs", f"{served:.1f}", "—", "—", "—",
            verdict(None)),
        Row(f"{TESTS}-test suite, one chat each, s", f"{best['mockshot']:.2f}",
            f"{best['stub']:.2f}", times(ratio), "≤ 1.5\N{MULTIPLICATION SIGN}",
            verdict(ratio <= 1.5)),
    ]
