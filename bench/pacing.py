"""(e) pacing accuracy: does a paced stream arrive when mockshot says it will?

mockshot runs on the real clock with pacing on, and the client stamps every SSE event
with the time its recv() returned. Per stream:

  TTFT     request sent → first event carrying content or reasoning_content text;
  tokens/s (usage.completion_tokens of the finish chunk - tokens of that first delta)
           / (last text delta - first text delta).

The first delta's tokens are counted with mockshot's own tokenizer (the default one the
server uses), and every stream's deltas are checked to add up to completion_tokens, so a
miscount cannot pass for a pacing error. Medians are compared with the configured values:
the `X-Mockshot-Pacing` header's, and kimi-k2.6's own (models.json) without the header.
Streams run one at a time, then several at once (the server then interleaves its sleeps).
"""

from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
from chunked import DONE, Stream, read_stream
from common import (
    CHAT_BODY,
    CLIENT_CORE,
    MODEL,
    SERVER_CORE,
    Row,
    free_port,
    http_request,
    mockshot_cmd,
    pinned_to,
    running,
    section,
    verdict,
)
from streamed import BALANCE, PATH, stream_request

HEADER = {"ttft_ms": 300.0, "tokens_per_second": 100.0, "jitter": 0.1}
TOLERANCE = 0.10  # the target: medians within 10% of the configured values


@dataclass
class Paced:
    """One stream's timing as the client measured it (seconds, tokens per second)."""

    ttft: float
    tps: float
    counted: bool  # its deltas' tokens add up to usage.completion_tokens


@dataclass
class Config:
    """One pacing configuration: the header sent (None: the model's own timing) and the
    TTFT (ms) and tokens/s it should produce."""

    label: str
    header: dict[str, str] | None
    ttft_ms: float
    tps: float


def header_config() -> Config:
    """The brief's explicit pacing: ttft_ms=300, tokens_per_second=100, jitter=0.1."""
    value = ",".join(f"{key}={number:g}" for key, number in HEADER.items())
    return Config("header", {"X-Mockshot-Pacing": value}, HEADER["ttft_ms"],
                  HEADER["tokens_per_second"])


def model_config() -> Config:
    """kimi-k2.6 with no header: its time_to_first_token_ms and tokens_per_second as the
    catalog resolves them (family defaults plus the model's overrides)."""
    from mockshot.engine.catalog import load_catalog

    spec = load_catalog().get(MODEL)
    return Config(f"{MODEL} default", None, spec.time_to_first_token_ms, spec.tokens_per_second)


def text_deltas(stream: Stream) -> tuple[list[tuple[float, str]], dict]:
    """(arrival, text) of every content/reasoning delta, and the finish chunk's usage."""
    deltas, usage = [], {}
    for at, event in stream.events:
        if event == DONE:
            continue
        choice = orjson.loads(event[len(b"data: "):])["choices"][0]
        text = choice["delta"].get("content") or choice["delta"].get("reasoning_content")
        if text:
            deltas.append((at, text))
        usage = choice.get("usage") or usage
    return deltas, usage


def measure(stream: Stream, tokenizer) -> Paced:
    """TTFT and tokens/s of one stream (see the module docstring)."""
    deltas, usage = text_deltas(stream)
    if stream.status != 200 or len(deltas) < 2 or "completion_tokens" not in usage:
        raise SystemExit(f"not a usable paced stream: {stream.status}, {len(deltas)} deltas")
    (first, first_text), last = deltas[0], deltas[-1][0]
    total = usage["completion_tokens"]
    counted = sum(len(tokenizer.pieces(text)) for _, text in deltas) == total
    return Paced(first - stream.sent, (total - len(tokenizer.pieces(first_text))) / (last - first),
                 counted)


def run_streams(port: int, request: bytes, count: int, at_once: int) -> list[Stream]:
    """`count` streams, `at_once` in flight (1: strictly one after another); the client
    threads are pinned to CLIENT_CORE and only read, all parsing happens afterwards."""
    with pinned_to(CLIENT_CORE):
        if at_once == 1:
            return [read_stream(port, request) for _ in range(count)]
        with ThreadPoolExecutor(at_once) as pool:
            return list(pool.map(lambda _: read_stream(port, request), range(count)))


def error(measured: float, configured: float) -> float:
    """Signed relative error: +0.05 is 5% above the configured value."""
    return measured / configured - 1


def rows_for(config: Config, mode: str, samples: list[Paced]) -> list[Row]:
    """Two table rows (median TTFT and tokens/s against the configuration), and a line of
    spread and the token-count check for the section."""
    ttfts, rates = sorted(p.ttft * 1000 for p in samples), sorted(p.tps for p in samples)
    ttft, tps = statistics.median(ttfts), statistics.median(rates)
    print(f"- {config.label}, {mode}: TTFT median {ttft:.0f} ms (min {ttfts[0]:.0f}, max "
          f"{ttfts[-1]:.0f}); tokens/s median {tps:.1f} (min {rates[0]:.1f}, max "
          f"{rates[-1]:.1f}); deltas add up to completion_tokens in "
          f"{sum(p.counted for p in samples)}/{len(samples)} streams", flush=True)
    out = []
    for what, value, want, unit in (("TTFT ms", ttft, config.ttft_ms, "ms"),
                                    ("tokens/s", tps, config.tps, "tok/s")):
        off = error(value, want)
        out.append(Row(f"paced {what} median ({config.label}, {mode})",
                       f"{value:.1f}" if unit == "tok/s" else f"{value:.0f}", "—",
                       f"{off:+.1%}", f"{want:g} {unit} ± 10%", verdict(abs(off) <= TOLERANCE)))
    return out


def plans(args: argparse.Namespace) -> list[tuple[Config, str, int, int]]:
    """(config, mode label, streams, at once): the header one at a time and concurrently,
    then the model's slower defaults with fewer streams to keep the run short."""
    n, c = args.paced, args.paced_concurrency
    few = max(3, n // 4)
    header, model = header_config(), model_config()
    return [(header, f"sequential, n={n}", n, 1),
            (header, f"{c} at once, n={2 * c}", 2 * c, c),
            (model, f"sequential, n={few}", few, 1),
            (model, f"{c} at once, n={c}", c, c)]


def bench_pacing(args: argparse.Namespace) -> list[Row]:
    """(e): TTFT and tokens/s as a client sees them, against what was configured."""
    from mockshot.engine.tokens import load_tokenizer

    section("(e) pacing accuracy: `mockshot serve --clock real`, client-side timing")
    print(f"- header: `X-Mockshot-Pacing: {header_config().header['X-Mockshot-Pacing']}`; "
          f"{MODEL} default: no header, the catalog's timing for the model")
    print("- TTFT: request sent → first content/reasoning delta; tokens/s: (completion_tokens "
          "- first delta's tokens) / (last delta - first delta); medians vs configured\n")
    port, tokenizer, rows = free_port(), load_tokenizer(None), []
    ready = http_request("POST", PATH, port, CHAT_BODY)
    cmd = mockshot_cmd(port, "--log-level", "warning", "--clock", "real")
    with running(cmd, port, ready, core=SERVER_CORE, env=BALANCE):
        for config, mode, count, at_once in plans(args):
            request = stream_request(port, pacing=config.header or {})
            streams = run_streams(port, request, count, at_once)
            rows += rows_for(config, mode, [measure(s, tokenizer) for s in streams])
    return rows
