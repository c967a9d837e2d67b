"""The coverage report as a page a person reads: Markdown, or the same as HTML."""

from __future__ import annotations

import html
import json

__all__ = ["markdown", "page"]


def _table(head: tuple[str, ...], rows: list[tuple]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*lines, ""]


def _counts(seen: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in seen.items()) or "—"


def markdown(report: dict) -> str:
    score = report["score"]
    lines = ["# mockshot coverage report", "",
             f"{report['calls']} calls; features and reply kinds covered: "
             f"{score['covered']} of {score['total']} ({score['percent']}%).", "",
             "## Operations", ""]
    lines += _table(("operation", "calls"), [(route, op["calls"]) for route, op in
                                              report["operations"].items()])
    lines += ["## Request fields", ""]
    lines += _table(("operation", "used", "unused", "not in the spec"), [
        (route, ", ".join(f["used"]) or "—", ", ".join(f["unused"]) or "—",
         ", ".join(f["not_in_spec"]) or "—") for route, f in report["fields"].items()])
    lines += ["## Request features", ""]
    lines += _table(("feature", "seen", "never sent"), [
        (name, _counts(v["seen"]), ", ".join(v["missing"]) or "—")
        for name, v in report["values"].items()])
    served = report["responses"]
    lines += ["## Replies served", "",
              f"- kinds: {_counts(served['seen'])}",
              f"- never served: {', '.join(served['missing']) or '—'}",
              f"- errors: {_counts(served['errors'])}",
              f"- faults: {_counts(served['faults'])}",
              f"- conformance variants: {_counts(served['variants'])}",
              f"- streams the client hung up on: {served['hung_up']}", "",
              "## Violations", ""]
    if report["violations"]:
        lines += _table(("call", "operation", "pointer", "rule", "expected", "message"), [
            (v["call"], v["operation"], v["pointer"] or "/", v["rule"],
             json.dumps(v["expected"], ensure_ascii=False), v["message"])
            for v in report["violations"]])
    else:
        lines += ["None.", ""]
    return "\n".join(lines)


def page(report: dict) -> str:
    """A self-contained HTML page: the Markdown report's tables as HTML tables."""
    body, table = [], []
    for line in markdown(report).splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            body.append(_html_table(table))
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            body.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("- "):
            body.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            body.append(f"<p>{html.escape(line)}</p>")
    if table:
        body.append(_html_table(table))
    style = ("body{font-family:sans-serif;max-width:70em;margin:2em auto}"
             "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
             "table{border-collapse:collapse}")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>mockshot coverage"
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>")


def _html_table(lines: list[str]) -> str:
    def cells(line: str) -> list[str]:
        parts = line.strip().strip("|").replace("\\|", "\0").split("|")
        return [html.escape(p.strip().replace("\0", "|")) for p in parts]

    head, rows = cells(lines[0]), [cells(line) for line in lines[2:]]
    out = "<table><tr>" + "".join(f"<th>{c}</th>" for c in head) + "</tr>"
    out += "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return out + "</table>"
