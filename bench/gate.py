"""The performance gate CI runs: short forms of the sections that compare mockshot with the
bare app in the same run, each ratio checked against bench/baseline.json (the ratios the
README reports). Ratios, not times, because machines differ; a ratio more than 20% worse
than its baseline fails the run.

    .venv/bin/python bench/bench.py --gate
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from common import HERE, Row, section

__all__ = ["gate"]

TOLERANCE = 0.20
SHORT = {"calls": 600, "warmup": 100, "duration": 3.0, "warmup_seconds": 0.5}


def ratio_of(text: str) -> float:
    """'35%' → 0.35, '1.23' followed by a multiplication sign → 1.23."""
    text = text.strip()
    return float(text[:-1]) / 100 if text.endswith("%") else float(text.rstrip("\u00d7"))


def verdicts(rows: list[Row], baseline: dict) -> list[tuple[str, float, float, bool]]:
    """(measurement, measured, baseline, within tolerance) for every gated row."""
    found = []
    for row in rows:
        wanted = baseline.get(row.measurement)
        if wanted is None:
            continue
        measured, base = ratio_of(row.ratio), wanted["ratio"]
        ok = measured <= base * (1 + TOLERANCE) if wanted["better"] == "lower" \
            else measured >= base * (1 - TOLERANCE)
        found.append((row.measurement, measured, base, ok))
    return found


def gate(args: argparse.Namespace, steps: dict[str, Callable]) -> int:
    for name, value in SHORT.items():
        setattr(args, name, value)
    baseline = json.loads((HERE / "baseline.json").read_text(encoding="utf-8"))
    rows = [row for name in ("inprocess", "served", "streaming") for row in steps[name](args)]
    section("gate: ratios against bench/baseline.json (fail beyond 20% worse)")
    results = verdicts(rows, baseline)
    for measurement, measured, base, ok in results:
        print(f"- {measurement}: {measured:.2f} against {base:.2f} — "
              f"{'ok' if ok else 'REGRESSED'}")
    missing = set(baseline) - {"_comment"} - {r[0] for r in results}
    if missing:
        print(f"- not measured: {', '.join(sorted(missing))}")
    return 0 if results and all(r[3] for r in results) and not missing else 1
