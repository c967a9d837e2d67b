"""The 429s a tier's limits give, in the service's words (reference §7.1, §7.2), with a
`Retry-After` that is the true wait: the mock-clock seconds until the call would be
admitted, in the client's seconds (a scaled real clock shortens them)."""

from __future__ import annotations

import math

from ..errors import APIError, account_label, key_id
from ..state.accounts import LimitHit

__all__ = ["limit_error"]

TEMPLATES = {
    "concurrency": "Your account {account}<{key}> request reached max concurrency: {limit}, "
                   "please try again after {wait} seconds",
    "rpm": "Your account {account}<{key}> request reached organization max RPM: {limit}, "
           "please try again after {wait} seconds",
    "tpm": "Your account {account}<{key}> request reached TPM rate limit, current:{current}, "
           "limit:{limit}",
    "tpd": "Your account {account}<{key}> request reached TPD rate limit,current:{current}, "
           "limit:{limit}",
}


def limit_error(hit: LimitHit, account: str, key: str, speed: float = 1.0) -> APIError:
    """429 `rate_limit_reached_error` for `hit`; `speed` is how much faster than real
    time the mock's clock runs (1 for a virtual clock, whose seconds a test advances)."""
    wait = max(math.ceil(hit.retry_after / speed - 1e-9), 1)
    message = TEMPLATES[hit.dimension].format(account=account_label(account), key=key_id(key),
                                              limit=hit.limit, current=hit.current, wait=wait)
    return APIError(429, "rate_limit_reached_error", message, {"Retry-After": str(wait)})
