"""What the scenario schema cannot say about a recorded reply (`reply.recorded`).

A recording is meant to be committed and hand-edited, so each mistake an edit can make
is named here, with its path, before a replay would send something no server sends: a
recorded reply next to scripted parts, on a rule that does not pin one surface and one
framing, frames and a body at once, a frame that is neither an event nor raw text,
base64 that does not decode, a header the server computes itself or cannot encode.
Problems are (path, message) pairs; checks.py makes them `Problem`s.
"""

from __future__ import annotations

from .recorded import base64_problem

__all__ = ["SURFACE_OPERATIONS", "recorded_problems"]

# one surface's calls (a batch line, on neither surface, is never answered by a recording)
SURFACE_OPERATIONS = {"chat.openai": "chat.openai", "chat.anthropic": "chat.anthropic"}
COMPUTED = ("content-length", "transfer-encoding", "connection")
BODIES = ("body", "body_base64", "frames")

Found = list[tuple[tuple, str]]


def _rule_problems(where: tuple, reply: dict, match: dict, operations: list) -> Found:
    out: Found = []
    others = sorted(set(reply) - {"recorded"})
    if others:
        out.append((where[:-1], f"a recorded reply stands alone; remove {', '.join(others)}"))
    if len(operations) != 1 or operations[0] not in SURFACE_OPERATIONS:
        out.append((where, "a recorded reply is in one surface's framing: the rule's "
                           "match.operation must be chat.openai or chat.anthropic"))
    if not isinstance(match.get("stream"), bool):
        out.append((where, "a recorded reply answers calls of one framing: set match.stream "
                           "to true or false"))
    return out


def _body_problems(where: tuple, recorded: dict, match: dict) -> Found:
    given = [key for key in BODIES if key in recorded]
    if len(given) != 1:
        return [(where, f"a recorded reply has exactly one of {', '.join(BODIES)}"
                        + (f", not {' and '.join(given)}" if given else ""))]
    out: Found = []
    if "frames" in recorded and match.get("stream") is False:
        out.append(((*where, "frames"), "recorded frames answer a stream, and this rule "
                                        "matches calls that do not stream"))
    if "frames" in recorded and "delay_ms" in recorded:
        out.append(((*where, "delay_ms"), "a stream's waits are its frames' delay_ms; "
                                          "delay_ms here is for a whole body"))
    if "body_base64" in recorded and (why := base64_problem(recorded["body_base64"])):
        out.append(((*where, "body_base64"), why))
    return out


def _frame_problems(where: tuple, frames: list) -> Found:
    out: Found = []
    for index, frame in enumerate(frames):
        at = (*where, "frames", index)
        forms = [key for key in ("data", "raw", "base64") if key in frame]
        if len(forms) != 1:
            out.append((at, "a frame has exactly one of data, raw or base64"
                            + (f", not {' and '.join(forms)}" if forms else "")))
        elif "event" in frame and forms != ["data"]:
            out.append(((*at, "event"), "event goes with data; a raw frame holds its own "
                                        "event line"))
        elif forms == ["base64"] and (why := base64_problem(frame["base64"])):
            out.append(((*at, "base64"), why))
    return out


def _header_problems(where: tuple, headers: dict) -> Found:
    out: Found = []
    for name, value in headers.items():
        if str(name).lower() in COMPUTED:
            out.append(((*where, "headers", name), f"{name} is worked out when the reply is "
                                                   "sent; remove it"))
        try:
            str(value).encode("latin-1")
        except UnicodeEncodeError:
            out.append(((*where, "headers", name), "a header value must be Latin-1 text"))
    return out


def recorded_problems(where: tuple, reply: dict, match: dict, operations: list) -> Found:
    """Every mistake in `reply.recorded` (at `where`) and in the rule around it."""
    recorded = reply["recorded"]
    return (_rule_problems(where, reply, match, operations)
            + _body_problems(where, recorded, match)
            + _frame_problems(where, recorded.get("frames") or [])
            + _header_problems(where, recorded.get("headers") or {}))
