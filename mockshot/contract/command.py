"""`mockshot report`: the coverage report of a live mock or of a saved journal, as JSON
(for CI gates, with `--fail-under`) or as a page (Markdown, HTML)."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..spec import load_document
from .coverage import coverage
from .pages import markdown, page

__all__ = ["add_arguments", "run"]


def add_arguments(parser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="a live mock's base URL, e.g. http://127.0.0.1:8000")
    source.add_argument("--journal", help="a saved journal: the JSON of GET "
                                          "/_mockshot/journal?limit=100000")
    parser.add_argument("--test", help="the X-Mockshot-Test partition to report on")
    parser.add_argument("--admin-token", help="the live mock's admin token, if it has one")
    parser.add_argument("--format", choices=("json", "markdown", "html"), default="json")
    parser.add_argument("--output", help="write the report here instead of stdout")
    parser.add_argument("--fail-under", type=float, metavar="PERCENT",
                        help="exit 1 when the covered share is below PERCENT")
    parser.add_argument("--fail-on-violations", action="store_true",
                        help="exit 1 when any request broke the contract")


def fetch(url: str, test: str | None, token: str | None) -> dict:
    """The live mock's JSON report."""
    request = urllib.request.Request(url.rstrip("/") + "/_mockshot/report")
    if test:
        request.add_header("X-Mockshot-Test", test)
    if token:
        request.add_header("X-Mockshot-Admin-Token", token)
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def from_journal(path: str) -> dict:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    views = data["data"] if isinstance(data, dict) else data
    return coverage(views, load_document())


def verdict(report: dict, fail_under: float | None, on_violations: bool) -> list[str]:
    """Why the report fails its gates (empty: it passes)."""
    reasons = []
    percent = report["score"]["percent"]
    if fail_under is not None and percent < fail_under:
        reasons.append(f"coverage {percent}% is under --fail-under {fail_under:g}%")
    if on_violations and report["violations"]:
        reasons.append(f"{len(report['violations'])} request(s) broke the contract")
    return reasons


def run(args: dict) -> int:
    try:
        report = fetch(args["url"], args["test"], args["admin_token"]) if args["url"] \
            else from_journal(args["journal"])
    except (OSError, ValueError, KeyError, urllib.error.URLError) as exc:
        print(f"mockshot report: cannot read the journal: {exc}", file=sys.stderr)
        return 2
    shown = {"json": lambda r: json.dumps(r, indent=2, ensure_ascii=False),
             "markdown": markdown, "html": page}[args["format"]](report)
    if args["output"]:
        Path(args["output"]).write_text(shown + "\n", encoding="utf-8")
    else:
        print(shown)
    reasons = verdict(report, args["fail_under"], args["fail_on_violations"])
    for reason in reasons:
        print(f"mockshot report: {reason}", file=sys.stderr)
    return 1 if reasons else 0
