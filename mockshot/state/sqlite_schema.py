"""The SQLite store's tables, and opening a state file safely.

One file, `state.db` in the state directory, in WAL mode: writers of several worker
processes take turns (`BEGIN IMMEDIATE`, a busy timeout), readers never wait, and a
process killed mid-write leaves the last committed state (SQLite's own atomic commit).
A file that is not a healthy mockshot state file is reported, never silently replaced.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "StateFileError", "open_state"]

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY, cash REAL NOT NULL, voucher REAL NOT NULL, tier INTEGER,
    inflight INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS requests (account TEXT NOT NULL, at REAL NOT NULL,
    tokens INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS requests_by_account ON requests (account, at);
CREATE TABLE IF NOT EXISTS daily (account TEXT NOT NULL, minute INTEGER NOT NULL,
    tokens INTEGER NOT NULL, PRIMARY KEY (account, minute));
CREATE TABLE IF NOT EXISTS calls (operation TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ordinals (fingerprint BLOB PRIMARY KEY, n INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS prefixes (key BLOB PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS uses (rule TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS states (scenario TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rules (name TEXT PRIMARY KEY, position INTEGER NOT NULL,
    document TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (id INTEGER PRIMARY KEY, entry TEXT NOT NULL,
    request BLOB);
"""


class StateFileError(RuntimeError):
    """The state file cannot be used; the message says which file and why."""


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                 timeout=BUSY_TIMEOUT_MS / 1000)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")  # a killed process loses nothing
    return connection


def _check(connection: sqlite3.Connection, path: Path) -> None:
    verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    if verdict != "ok":
        raise StateFileError(f"{path}: the state file is damaged ({verdict}); move it away "
                             "to start afresh, or restore a copy")
    names = {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if names and "meta" not in names:
        raise StateFileError(f"{path}: not a mockshot state file (tables: "
                             f"{', '.join(sorted(names))})")
    if "meta" in names:
        found = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if found is not None and int(found[0]) != SCHEMA_VERSION:
            raise StateFileError(f"{path}: state schema {found[0]}, this mockshot reads "
                                 f"{SCHEMA_VERSION}")


def open_state(directory: str | Path) -> sqlite3.Connection:
    """Open (or create) `directory/state.db`, checked; StateFileError when unusable."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "state.db"
        connection = _connect(path)
        _check(connection, path)
        connection.executescript(TABLES)
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)",
                           (str(SCHEMA_VERSION),))
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('rules_version', '0')")
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('strict', '0')")
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('journal_id', '0')")
        connection.execute("INSERT OR IGNORE INTO meta VALUES ('seq', '0')")
    except sqlite3.DatabaseError as exc:
        raise StateFileError(f"{folder / 'state.db'}: cannot be used as a state file "
                             f"({exc})") from None
    except OSError as exc:
        raise StateFileError(f"{folder}: cannot hold the state ({exc.strerror})") from None
    return connection
