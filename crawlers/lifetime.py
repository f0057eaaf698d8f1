"""Crawl processes die with their caller, and two crawls never write one partition.

* The caller (``fti crawl``, the Airflow task) starts the crawl in its **own process group**
  (:func:`run_crawl_process`). A timeout, an exception, SIGTERM of the caller (when nobody else handles it) or
  the Airflow task's ``on_kill`` (:func:`kill_running_crawls`) SIGKILLs the whole group: a crawl told to stop
  writes nothing more (its batch is staged and switched only at the end, :mod:`include.core.replace`).
* The crawl process kills itself when its parent dies, even by ``kill -9`` (:func:`die_with_parent`):
  ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through ctypes on Linux, and a watchdog thread polling ``getppid()``
  every 0.25 s (other systems, or a parent thread that exits).
* :func:`partition_lock` is an exclusive ``flock`` per (lake, source, date), held by the crawl process: a second
  crawl of the same partition waits up to ``FTI_CRAWL_LOCK_WAIT_SECONDS`` then fails with the holder's pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

PARENT_ENV = "FTI_CRAWL_PARENT_PID"
_PR_SET_PDEATHSIG = 1
_running: set[int] = set()  # process groups of this process's running crawls


class CrawlLockedError(RuntimeError):
    """Another crawl holds the partition's lock."""


def kill_group(pgid: int) -> None:
    """SIGKILL the process group ``pgid`` (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_running_crawls() -> int:
    """Kill every crawl this process started and that still runs (the Airflow task's ``on_kill``)."""
    groups = list(_running)
    for pgid in groups:
        kill_group(pgid)
    return len(groups)


def run_crawl_process(cmd: list[str], env: dict[str, str], timeout: float, stderr) -> tuple[int, str]:
    """Run ``cmd`` in its own process group; return (exit status, stdout). Killed on timeout, error or SIGTERM.

    Raises:
        subprocess.TimeoutExpired: after ``timeout`` seconds (the group was killed first).
    """
    proc = subprocess.Popen(cmd, env={**env, PARENT_ENV: str(os.getpid())}, stdout=subprocess.PIPE, stderr=stderr,
                            text=True, start_new_session=True)  # fmt: skip
    _running.add(proc.pid)
    previous = None
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:

        def on_term(signum, frame):  # `fti crawl` terminated: take the crawl with us
            raise SystemExit(128 + signum)

        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except BaseException:
        kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        _running.discard(proc.pid)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def die_with_parent(parent_pid: int | None = None) -> None:
    """In the crawl process: SIGKILL this process group as soon as the parent is gone."""
    if parent_pid is None:
        parent_pid = int(os.environ.get(PARENT_ENV) or 0) or None
    if parent_pid is None:
        return  # run by hand: no caller to follow
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def orphaned() -> bool:
        return os.getppid() != parent_pid

    def suicide() -> None:
        with contextlib.suppress(OSError):
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os._exit(137)

    if orphaned():  # the parent died before prctl took effect
        suicide()

    def watch() -> None:
        while not orphaned():
            time.sleep(0.25)
        suicide()

    threading.Thread(target=watch, name="fti-parent-watchdog", daemon=True).start()


def lock_path(lake_uri: str, source: str, dt: str, lock_dir: str | None = None) -> Path:
    """The lock file of one partition of one lake."""
    base = Path(lock_dir) if lock_dir else Path(tempfile.gettempdir()) / f"fti-locks-{os.getuid()}"
    base.mkdir(parents=True, exist_ok=True)
    lake = hashlib.sha1(lake_uri.encode(), usedforsecurity=False).hexdigest()[:12]
    return base / f"crawl-{lake}-{source}-{dt}.lock"


@contextlib.contextmanager
def partition_lock(path: Path, wait: float = 30.0) -> Iterator[None]:
    """Hold the exclusive lock ``path`` (released when the process dies, whatever kills it)."""
    fh = open(path, "a+")  # noqa: SIM115 (held for the whole crawl)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "?"
                    raise CrawlLockedError(f"another crawl (pid {holder}) holds {path.name}") from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        fh.close()
