"""Testing with mockshot: the reply checker, the fixtures' objects, resilience assertions.

    from mockshot.testing import check_reply            # is this reply what the spec says?
    from mockshot.testing import MockFixture            # the `mockshot` fixture, any runner
    from mockshot.testing import assert_honoured_retry_after, ...

The pytest plugin itself is `mockshot.testing.plugin`, registered automatically when
mockshot is installed; this package imports no pytest.
"""

from ..calls import Call, CallList, Request
from .assertions import assert_called_with_tools, assert_not_called, assert_streamed
from .fixture import MockFixture, ServedFixture, TeardownError
from .replies import SpecViolation, async_hook, check_reply, hook, validate
from .resilience import (
    assert_backed_off,
    assert_closed_broken_streams,
    assert_honoured_retry_after,
    assert_no_resend_after_success,
)

__all__ = [
    "Call",
    "CallList",
    "MockFixture",
    "Request",
    "ServedFixture",
    "SpecViolation",
    "TeardownError",
    "assert_backed_off",
    "assert_called_with_tools",
    "assert_closed_broken_streams",
    "assert_honoured_retry_after",
    "assert_no_resend_after_success",
    "assert_not_called",
    "assert_streamed",
    "async_hook",
    "check_reply",
    "hook",
    "validate",
]
