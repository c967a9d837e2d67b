"""The bounds on what a client may send, each kept here once and named in its message.

A served mock is shared by a whole CI run, so one request that stalls the event loop or
breaks a later reply fails every other test. Each bound is applied once, where its input is
read: nesting depth where bodies and documents are read (http.py, scenarios/documents.py),
document size where scenario documents are checked (scenarios/checks.py), waits where
pacing and faults are parsed, the clock's range in the clock itself. The generator's own
bounds live in `schemagen` (which imports nothing outside itself) and the slow-client
deadline is the `request_timeout` setting.
"""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_VALUES", "MAX_WAIT_MS"]

# Levels of nesting in a JSON body or a scenario document. Below the compiled validator's
# and orjson's limits (~255), so no request reaches them; a tool schema that MFJS allows
# (30 levels) nests about 70.
MAX_DEPTH = 100

# Values in one scenario document, a YAML alias counted each time it is used (a 700-byte
# "billion laughs" document expands to ~10^9). Checking costs ~20 µs a value.
MAX_DOCUMENT_VALUES = 100_000

# The longest wait a fault (`ms`, `max_ms`) or a pacing value (time to first token, one
# token at the slowest speed) may ask for: one day.
MAX_WAIT_MS = 86_400_000
