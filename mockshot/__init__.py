"""mockshot: a high-fidelity offline mock of the Moonshot AI (Kimi) platform API."""

from .app import create_app
from .clock import RealClock, VirtualClock
from .errors import APIError
from .mock import Mock
from .settings import Settings

__all__ = ["APIError", "Mock", "RealClock", "Settings", "VirtualClock", "create_app"]
__version__ = "0.1.0"
