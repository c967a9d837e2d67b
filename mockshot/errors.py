"""Errors are values: one type carrying (status, type, message), rendered in one place.

Every failure mockshot reports, from a bad key to a scripted fault, is an `APIError`.
The surfaces render it: the OpenAI-compatible one as `{"error": {"message", "type"}}`
(Moonshot sends no `code`), the Anthropic-compatible one in its own envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

__all__ = ["APIError", "invalid_request", "model_not_found"]


@dataclass(slots=True)
class APIError(Exception):
    """A failure with the HTTP status, Moonshot error `type` and message the client sees."""

    status: int
    type: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict:
        """The Moonshot envelope, as the real service sends it."""
        return {"error": {"message": self.message, "type": self.type}}

    def to_json(self) -> bytes:
        return orjson.dumps(self.body())

    def __str__(self) -> str:
        return f"{self.status} {self.type}: {self.message}"


def invalid_request(details: str, *, prefixed: bool = True) -> APIError:
    """400 `invalid_request_error`; most real texts read `Invalid request: <details>`."""
    message = f"Invalid request: {details}" if prefixed else details
    return APIError(400, "invalid_request_error", message)


def model_not_found(model: object) -> APIError:
    return APIError(
        404, "resource_not_found_error", f"Not found the model {model} or Permission denied"
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


def quota_exceeded(account: str) -> APIError:
    return APIError(
        429,
        "exceeded_current_quota_error",
        f"Your account {account} is suspended due to insufficient balance, "
        "please recharge your account or check your plan and billing details",
    )
