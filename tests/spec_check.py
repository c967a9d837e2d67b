"""The reply checker now ships with the package (`mockshot.testing`); these names keep
the suite's older spelling working."""

from mockshot.testing.replies import SpecViolation, async_hook, hook
from mockshot.testing.replies import check_reply as check
from mockshot.testing.replies import validate as _validate

__all__ = ["SpecViolation", "_validate", "async_hook", "check", "hook"]
