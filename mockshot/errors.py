"""Errors are values: one type carrying (status, type, message), rendered in one place.

Every failure mockshot reports, from a bad key to a scripted fault, is an `APIError`.
The surfaces render it: the OpenAI-compatible one as `{"error": {"message", "type"}}`
(Moonshot sends no `code`), the Anthropic-compatible one in its own envelope.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = ["APIError", "Violation", "clip", "invalid_request", "model_not_found"]

ECHO_LIMIT = 300  # characters of a client's value that a message repeats
MESSAGE_LIMIT = 4096  # characters of any error message


def clip(text: str, most: int = ECHO_LIMIT) -> str:
    """`text`, or its start and end around a note of how much was cut. Messages repeat
    what the client sent, and a 10,000-item `stop` list must not come back as an 89 KB
    message; the end is kept because it says what was expected."""
    if len(text) <= most:
        return text
    tail = most // 4
    head = most - tail
    return f"{text[:head]}…[{len(text) - most} characters cut]…{text[len(text) - tail:]}"


@dataclass(frozen=True, slots=True)
class Violation:
    """Why a request broke the contract, for the journal and the coverage report: where
    (a JSON pointer into the body), which rule (a schema keyword such as `enum`, or the
    name of a rule the schema cannot say), and what was expected."""

    pointer: str
    rule: str
    expected: Any = None

    def as_dict(self, message: str = "") -> dict:
        return {"pointer": self.pointer, "rule": self.rule, "expected": self.expected,
                "message": message}


@dataclass(slots=True)
class APIError(Exception):
    """A failure with the HTTP status, Moonshot error `type` and message the client sees."""

    status: int
    type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    violation: Violation | None = None  # set where a request broke the contract

    def __post_init__(self) -> None:
        if len(self.message) > MESSAGE_LIMIT:  # a backstop: echoes are clipped where made
            self.message = clip(self.message, MESSAGE_LIMIT)

    def body(self) -> dict:
        """The Moonshot envelope, as the real service sends it."""
        return {"error": {"message": self.message, "type": self.type}}

    def to_json(self) -> bytes:
        return orjson.dumps(self.body())

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.message}"


def invalid_request(details: str, *, prefixed: bool = True, pointer: str | None = None,
                    rule: str | None = None, expected: Any = None) -> APIError:
    """400 `invalid_request_error`; most real texts read `Invalid request: <details>`.
    `pointer`/`rule`/`expected` say which contract rule the request broke."""
    message = f"Invalid request: {details}" if prefixed else details
    violation = Violation(pointer or "", rule, expected) if rule else None
    return APIError(400, "invalid_request_error", message, violation=violation)


def model_not_found(model: object) -> APIError:
    return APIError(
        404, "resource_not_found_error",
        f"Not found the model {clip(str(model), 100)} or Permission denied"
    )


def incorrect_api_key() -> APIError:
    return APIError(401, "incorrect_api_key_error", "Incorrect API key provided")


def invalid_authentication() -> APIError:
    return APIError(401, "invalid_authentication_error", "Invalid Authentication")


def not_found_path(method: str, path: str) -> APIError:
    return APIError(404, "resource_not_found_error", f"Not found: {method} {path}")


def method_not_allowed(method: str, path: str, allowed: list[str]) -> APIError:
    return APIError(
        405,
        "invalid_request_error",
        f"Method {method} is not allowed for {path}; allowed: {', '.join(allowed)}",
        {"Allow": ", ".join(allowed)},
    )


# Status and real message of each error type, for scripted errors that name only a type.
# {account} and {key} are filled with the caller's org label and key id (reference §7).
DEFAULTS: dict[str, tuple[int, str]] = {
    "invalid_request_error": (400, "Invalid request: rejected by a mockshot scenario"),
    "content_filter": (400, "The request was rejected because it was considered high risk"),
    "incorrect_api_key_error": (401, "Incorrect API key provided"),
    "invalid_authentication_error": (401, "Invalid Authentication"),
    "permission_denied_error": (403, "The API you are accessing is not open"),
    "resource_not_found_error": (404, "Not found the model {model} or Permission denied"),
    "rate_limit_reached_error": (
        429,
        "Your account {account}<{key}> request reached organization max RPM: 3, "
        "please try again after {wait} seconds",
    ),
    "engine_overloaded_error": (429, "The engine is currently overloaded, please try again later"),
    "exceeded_current_quota_error": (
        429,
        "Your account {account} is suspended due to insufficient balance, please recharge "
        "your account or check your plan and billing details",
    ),
    "server_error": (500, "The server had an error while processing your request"),
    "unexpected_output": (500, "invalid state transition"),
}


def scripted(kind: str, status: int | None = None, message: str | None = None,
             retry_after: float | None = None, **fill: str) -> APIError:
    """The error a scenario asks for: its type, with the real status and text by default."""
    default_status, template = DEFAULTS.get(kind, (500, f"scripted {kind}"))
    fill.setdefault("wait", f"{retry_after:g}" if retry_after is not None else "1")
    text = message if message is not None else template.format_map(_Fill(fill))
    headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
    return APIError(status or default_status, kind, text, headers)


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# Labels the service's messages carry for the caller (never the key itself).


def account_label(key: str) -> str:
    """An org-style label for messages: a stable short hash, never the key itself."""
    return "org-" + hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def key_id(key: str) -> str:
    """A key id for messages, like the service's `cak-…` (never the key itself)."""
    return "cak-" + hashlib.blake2b(b"key" + key.encode(), digest_size=6).hexdigest()
