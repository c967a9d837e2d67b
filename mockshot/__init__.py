"""mockshot: a high-fidelity offline mock of the Moonshot AI (Kimi) platform API."""

from .app import create_app
from .errors import APIError
from .mock import Mock
from .scenarios.scripting import error, fault, tool_call
from .server import ServedMock
from .settings import Settings
from .state.clock import RealClock, VirtualClock
from .transport import async_http_client, http_client

__all__ = [
    "APIError",
    "Mock",
    "RealClock",
    "ServedMock",
    "Settings",
    "VirtualClock",
    "async_http_client",
    "create_app",
    "error",
    "fault",
    "http_client",
    "tool_call",
]
__version__ = "0.1.0"
