"""(c) cold start: launch of `python -m mockshot serve` to the first 200 of GET /v1/models,
plus `-X importtime`'s slowest imports to explain it."""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

from common import ROOT, Row, free_port, http_request, mockshot_cmd, running, section, verdict


def cold_start_once() -> float:
    """Seconds from Popen to the first 200 of GET /v1/models, polled every 5 ms."""
    port = free_port()
    ready = http_request("GET", "/v1/models", port)
    start = time.perf_counter()
    with running(mockshot_cmd(port), port, ready):
        return time.perf_counter() - start


def slowest_imports(count: int = 5) -> tuple[int, list[tuple[int, int, str]]]:
    """Total µs of `import mockshot.app`, and (cumulative µs, self µs, module) of its
    slowest imports. The roots (`mockshot`, `mockshot.app`) are the total, so they are left
    out of the list; a module listed twice (re-imported name) keeps its larger entry."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mockshot.app"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stderr
    found: dict[str, tuple[int, int, str]] = {}
    for line in out.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)", line)
        if match:
            row = (int(match.group(2)), int(match.group(1)), match.group(3))
            found[row[2]] = max(found.get(row[2], row), row)
    total = max(found.values())[0]
    rest = [row for name, row in found.items() if name not in ("mockshot", "mockshot.app")]
    return total, sorted(rest, reverse=True)[:count]


STARTUP_PROBE = """import time
t0 = time.perf_counter()
import mockshot.app, mockshot.cli, mockshot.server
t1 = time.perf_counter()
mockshot.app.create_app(mockshot.Settings(log_level="warning"))
print(t1 - t0, time.perf_counter() - t1)
"""


def startup_parts(runs: int = 3) -> dict[str, float]:
    """Median seconds for interpreter start, `serve`'s imports and create_app(): the parts
    of a cold start that are not uvicorn binding and answering."""
    bare, imports, build = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare.append(time.perf_counter() - start)
        out = subprocess.run([sys.executable, "-c", STARTUP_PROBE], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout.split()
        imports.append(float(out[0]))
        build.append(float(out[1]))
    return {"interpreter start (`python -c pass`)": statistics.median(bare),
            "import mockshot.app + cli + server": statistics.median(imports),
            "create_app() (Mock: spec, schemas, catalog, tokenizer)": statistics.median(build)}


def bench_coldstart(args: argparse.Namespace) -> list[Row]:
    """(c): how long a CI job or `docker run` waits before the mock answers."""
    section("(c) cold start: `python -m mockshot serve --port <free>` → first 200 /v1/models")
    runs = [cold_start_once() for _ in range(args.runs)]
    med = statistics.median(runs)
    print(f"- {args.runs} runs (ms): " + ", ".join(f"{r * 1000:.0f}" for r in runs))
    print(f"- median {med * 1000:.0f} ms\n\nWhere it goes (median of 3, separate processes):\n")
    for part, seconds in startup_parts().items():
        print(f"- {part}: {seconds * 1000:.0f} ms")
    total, slowest = slowest_imports()
    print(f"\n`python -X importtime -c \"import mockshot.app\"`: {total / 1000:.0f} ms in all; "
          "the 5 slowest imports under it, by cumulative time:\n")
    print("| module | cumulative ms | self ms |\n|---|---:|---:|")
    for cumulative, own, module in slowest:
        print(f"| {module} | {cumulative / 1000:.1f} | {own / 1000:.1f} |")
    return [Row(f"cold start to first 200, median of {args.runs} (ms)", f"{med * 1000:.0f}",
                "—", "—", "≤ 1000 ms", verdict(med <= 1.0))]

