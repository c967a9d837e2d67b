"""`mockshot serve --workers N`: N processes answering on one port, sharing one state.

The parent binds the socket, recovers the state once (what a killed server left half
done), then starts N worker processes that each build their own mock over the shared
store and accept on the inherited socket; a worker that dies is started again. Everything
that must behave as one service lives in the store (accounts, limits' windows, debits,
call counts and rule uses, scenario states, the journal, files and batches) or beside it
(the virtual clock's time, a file in the state directory, or a key in Redis), so a 100 RPM
limit admits 100 calls whichever worker answers. On a Redis store (`--store`) the state
is shared by hosts too; the files' bytes are then in `--state-dir`'s `files/`, or in a
temporary directory this host's workers share. What stays per worker: test partitions
(`X-Mockshot-Test`), whose state is in the answering worker's memory.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import socket
import tempfile
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from .settings import Settings, SettingsError

__all__ = ["serve_workers"]

RESTART_PAUSE = 0.5  # seconds between checks that every worker is alive


def _shared_settings(settings: Settings) -> None:
    if not settings.state_dir and not settings.store:
        raise SettingsError(f"setting workers: {settings.workers} workers need state they "
                            "share; give --state-dir DIR or --store redis://HOST:PORT/DB")
    if settings.record_upstream:  # a recording is one file each worker would rewrite
        raise SettingsError("setting workers: record with one worker; each of "
                            f"{settings.workers} would write the recording over the others'")


def _files_place(settings: Settings, stack: contextlib.ExitStack) -> dict[str, Any]:
    """Workers on a Redis store without a state directory still share one place for the
    files' bytes: a temporary directory of this host's, removed when the workers stop."""
    if settings.state_dir:
        return {}
    return {"state_dir": stack.enter_context(tempfile.TemporaryDirectory(
        prefix="mockshot-files-"))}


def _recover(settings: Settings) -> None:
    """Open the state once in the parent, recovering it, before any worker runs."""
    from .billing.plans import load_accounts
    from .mock import make_store

    store = make_store(settings, load_accounts(settings), recover=True)
    close = getattr(store, "close", None)
    if close is not None:
        close()


def _run_worker(values: dict[str, Any], sock: socket.socket) -> None:
    """One worker: its own mock over the shared store, uvicorn on the parent's socket."""
    import uvicorn

    from .app import create_app
    from .connections import server_config
    from .mock import Mock

    settings = Settings().updated(values)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    mock = Mock(settings, recover=False)
    uvicorn.Server(server_config(create_app(mock=mock), settings)).run(sockets=[sock])


def _start(context: Any, values: dict, sock: socket.socket) -> multiprocessing.Process:
    process = context.Process(target=_run_worker, args=(values, sock), daemon=True,
                              name="mockshot-worker")
    process.start()
    return process


def serve_workers(settings: Settings, sock: socket.socket,
                  announce: Callable[[str], None], url: str) -> None:
    """Run `settings.workers` workers on `sock` until SIGINT/SIGTERM."""
    _shared_settings(settings)
    _recover(settings)
    with contextlib.ExitStack() as stack:
        values = {k: v for k, v in asdict(settings).items() if k != "config"}
        _run_all(settings.workers, {**values, **_files_place(settings, stack)}, sock,
                 announce, url)


def _run_all(count: int, values: dict[str, Any], sock: socket.socket,
             announce: Callable[[str], None], url: str) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [_start(context, values, sock) for _ in range(count)]
    announce(url)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(RESTART_PAUSE):
        workers = [w if w.is_alive() else _start(context, values, sock) for w in workers]
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(5)
