"""(a) in-process: µs per openai SDK chat call over `mockshot.http_client(app)`, the way
test suites use mockshot, beside the bare app behind the same transport; and --profile."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from common import HERE, KEY, MESSAGES, MODEL, Row, section, times, verdict

BLOCK = 200  # in-process calls per app before switching, so drift hits both alike


def load_bare_app() -> Any:
    """bench/bare_app.py by file path, so the script works from any working directory."""
    spec = importlib.util.spec_from_file_location("bare_app", HERE / "bare_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def sdk_client(app: Any) -> Any:
    """The openai SDK as a test suite would hold it: in-process transport, no retries."""
    import openai

    from mockshot import http_client

    return openai.OpenAI(api_key=KEY, base_url="http://mockshot.local/v1",
                         http_client=http_client(app), max_retries=0)


def chat(client: Any) -> Any:
    """The one call every in-process number is about (the brief's exact request)."""
    return client.chat.completions.create(model=MODEL, messages=MESSAGES)


def time_calls(client: Any, count: int) -> list[float]:
    """µs per call, one sample per call (perf_counter_ns around the SDK call only)."""
    samples = []
    for _ in range(count):
        start = time.perf_counter_ns()
        chat(client)
        samples.append((time.perf_counter_ns() - start) / 1000)
    return samples


def mockshot_app() -> Any:
    """mockshot as a test suite builds it: virtual clock (no waiting), quiet logs."""
    from mockshot import Settings, create_app

    return create_app(Settings(clock="virtual", log_level="warning"))


def inprocess_apps() -> dict[str, Any]:
    """Both apps, each to be driven through the same in-process transport."""
    return {"mockshot": mockshot_app(), "bare": load_bare_app()}


def interleaved(clients: dict[str, Any], calls: int) -> dict[str, list[float]]:
    """Alternate blocks of calls between the apps, so neither gets the quieter minute."""
    samples: dict[str, list[float]] = {name: [] for name in clients}
    done = 0
    while done < calls:
        count = min(BLOCK, calls - done)
        for name, client in clients.items():
            samples[name] += time_calls(client, count)
        done += count
    return samples


def check_reply(name: str, reply: Any) -> None:
    """Refuse to time an app whose reply the SDK does not parse as a completion."""
    if reply.object != "chat.completion" or not reply.choices[0].message.content:
        raise SystemExit(f"{name}: not a chat.completion: {reply!r}")


def p90(values: list[float]) -> float:
    """The 90th percentile: how bad the slow tail of a test suite's calls gets."""
    return statistics.quantiles(values, n=10)[-1]


def bench_inprocess(args: argparse.Namespace) -> list[Row]:
    """(a): the per-call price a test suite pays for mockshot's realism, SDK included."""
    section("(a) in-process: openai SDK → mockshot.http_client(app)")
    clients = {name: sdk_client(app) for name, app in inprocess_apps().items()}
    for name, client in clients.items():
        check_reply(name, chat(client))
        time_calls(client, args.warmup)
    samples = interleaved(clients, args.calls)
    med = {name: statistics.median(s) for name, s in samples.items()}
    tail = {name: p90(s) for name, s in samples.items()}
    print(f"{args.calls} timed calls per app after {args.warmup} warm-up calls, "
          f"interleaved in blocks of {BLOCK}; sync SDK, max_retries=0.")
    for name in clients:
        print(f"- {name}: median {med[name]:.0f} µs, p90 {tail[name]:.0f} µs, "
              f"min {min(samples[name]):.0f} µs")
    ratio, ratio90 = med["mockshot"] / med["bare"], tail["mockshot"] / tail["bare"]
    return [
        Row("in-process chat, median µs/call", f"{med['mockshot']:.0f}", f"{med['bare']:.0f}",
            times(ratio), "≤ 1.5\N{MULTIPLICATION SIGN}", verdict(ratio <= 1.5)),
        Row("in-process chat, p90 µs/call", f"{tail['mockshot']:.0f}", f"{tail['bare']:.0f}",
            times(ratio90), "—", verdict(None)),
    ]


class OnLoop:
    """ASGI wrapper remembering the loop the app runs on. The sync transport runs the app
    on its own thread and cProfile only sees the thread that enabled it, so the profiler
    has to be switched on over there too."""

    def __init__(self, app: Any) -> None:
        self.app, self.loop = app, None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app(scope, receive, send)

    def run(self, fn: Callable[[], Any]) -> None:
        async def call() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(call(), self.loop).result()


LOOP_PLUMBING = r"^(?!.*(asyncio/|selectors\.py|_contextvars|epoll))"  # idle loop, not the app


def print_profile(title: str, profiler: cProfile.Profile, *only: str) -> None:
    """Top 15 by cumulative time; `only` are pstats regexes applied first (to hide the
    loop thread's idle epoll wait, which would otherwise fill the list)."""
    print(f"\n### {title}\n\n```")
    stats = pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative")
    stats.print_stats(*only, 15)
    print("```")


def profile_inprocess(args: argparse.Namespace) -> None:
    """--profile: where an in-process mockshot chat call spends its time, per thread."""
    section(f"cProfile: {args.calls} in-process mockshot chat calls, top 15 cumulative")
    app = OnLoop(mockshot_app())
    client = sdk_client(app)
    time_calls(client, args.warmup)
    sdk_side, app_side = cProfile.Profile(), cProfile.Profile()
    app.run(app_side.enable)
    sdk_side.runcall(time_calls, client, args.calls)
    app.run(app_side.disable)
    print_profile("caller thread: openai SDK + httpx + sync transport", sdk_side)
    print_profile("loop thread: transport exchange + Starlette + mockshot "
                  "(asyncio plumbing hidden)", app_side, LOOP_PLUMBING)
    print("\ncProfile counts each resumption of a coroutine as a call, so ncalls of async "
          "functions can exceed the number of requests.")
