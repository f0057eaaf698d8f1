"""One writer per Milvus Lite file: a process-level lock for every caller, Airflow or not.

Milvus Lite lets one process open a ``.db`` at a time and keeps it until that process releases its server. In
Airflow the pool ``fti_milvus`` (one slot) already runs the Milvus tasks one after the other; this lock makes the
same true for anything else (the CLI, a notebook, a second scheduler): :func:`milvus_lock` takes an exclusive
``fcntl.flock`` on ``<db>.lock`` and waits for it, and :func:`release` stops this process's Milvus Lite server
for the file before the lock is let go, so the next process finds the file free. The lock is re-entrant within
a process (several handles on the same file share one server). A Milvus server URI needs no lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

_guard = threading.Lock()
_held: dict[str, list[int]] = {}  # absolute db path -> [fd, holders in this process]


class MilvusLockTimeout(TimeoutError):
    """Another process kept the Milvus Lite file longer than the timeout."""


def is_lite(uri: str) -> bool:
    """True for a Milvus Lite file (no scheme), False for a server URI (``http://host:19530``)."""
    return "://" not in uri


def lock_path(uri: str) -> Path:
    """The lock file beside a Milvus Lite ``.db``."""
    path = Path(os.path.abspath(uri))
    return path.with_name(path.name + ".lock")


def acquire(uri: str, timeout: float = 1800.0, poll: float = 0.2) -> None:
    """Take the process-level writer lock of a Milvus Lite file (no-op for a server URI).

    Raises:
        MilvusLockTimeout: another process held it for ``timeout`` seconds.
    """
    if not is_lite(uri):
        return
    key = os.path.abspath(uri)
    with _guard:
        if key in _held:
            _held[key][1] += 1
            return
    path = lock_path(uri)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not waited:
                log.info("waiting for the Milvus Lite writer lock %s (another process holds it)", path)
                waited = True
            if time.monotonic() > deadline:
                os.close(fd)
                raise MilvusLockTimeout(
                    f"Milvus Lite file {key} is held by another process for more than {timeout:.0f} s "
                    f"(lock {path}); Milvus Lite allows one process per file"
                ) from None
            time.sleep(poll)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    with _guard:
        _held[key] = [fd, 1]


def release(uri: str) -> None:
    """Drop one hold; the last one stops this process's Milvus Lite server for the file, then unlocks it."""
    if not is_lite(uri):
        return
    key = os.path.abspath(uri)
    with _guard:
        entry = _held.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[key]
    try:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(key)
    finally:
        fcntl.flock(entry[0], fcntl.LOCK_UN)
        os.close(entry[0])
