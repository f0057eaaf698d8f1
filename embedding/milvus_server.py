"""A real Milvus standalone on loopback, from the PyPI package ``milvus`` (``milvus-server --data DIR``).

Used by the integration tests and ``make bench-search``; production points ``FTI_MILVUS_URI`` at a deployed
Milvus instead. The server runs in its own process group; :meth:`MilvusServer.stop` sends SIGTERM to the group,
waits a grace period (the server may ignore SIGTERM for ~30 s), then SIGKILLs the group, so no process is left.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from include.core.ports import free_port

log = logging.getLogger(__name__)

PORT = 19530


class MilvusServerUnavailable(RuntimeError):
    """The ``milvus`` package is missing or its server cannot run here (the message says why)."""


class MilvusServerNotAnswering(MilvusServerUnavailable):
    """The server process runs but no client call succeeded within the start timeout (worth one more start)."""


def executable() -> str | None:
    """Path of ``milvus-server`` beside this interpreter, or on PATH."""
    local = Path(sys.executable).with_name("milvus-server")
    return str(local) if local.exists() else shutil.which("milvus-server")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class MilvusServer:
    """Start, probe and stop one ``milvus-server`` (its gRPC proxy on 127.0.0.1:19530, or ``port``).

    Args:
        data_dir: The server's data folder (it also unpacks its ~0.5 GB binary there).
        port: Client port; default 19530, or a free port when 19530 is taken (the package would otherwise
            silently move to the next free one). Its other internal ports are picked free by the package.
        start_timeout: Seconds to wait for the first successful client call, per attempt.
        grace: Seconds between SIGTERM and SIGKILL on stop.
        attempts: Starts to try. The bundled etcd sometimes loses its first leader election on a busy machine
            ("etcdserver: leader changed") and the server then never answers; a second start comes up.
        config: ``milvus.yaml`` settings by dotted key, e.g. ``{"dataCoord.segment.maxSize": 1024}`` (passed as
            ``--extra-config``; a key the server's config does not have is left out by the package).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        port: int | None = None,
        start_timeout: float = 120.0,
        grace: float = 10.0,
        attempts: int = 2,
        config: dict[str, object] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or (PORT if not _port_open(PORT) else free_port())
        self.start_timeout, self.grace, self.attempts = start_timeout, grace, max(1, attempts)
        self.config = dict(config or {})
        self.proc: subprocess.Popen | None = None
        self.uri = f"http://127.0.0.1:{self.port}"

    def start(self) -> MilvusServer:
        """Launch the server and wait until it answers (``attempts`` tries).

        Raises:
            MilvusServerUnavailable: no ``milvus-server``, the port is taken, or it did not come up.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                return self._start_once()
            except MilvusServerNotAnswering:
                if attempt == self.attempts:
                    raise
                log.warning("milvus-server did not come up (attempt %d of %d); retrying", attempt, self.attempts)
        raise AssertionError("unreachable")

    def _start_once(self) -> MilvusServer:
        exe = executable()
        if exe is None:
            raise MilvusServerUnavailable("the PyPI package `milvus` (milvus-server) is not installed")
        if _port_open(self.port):
            raise MilvusServerUnavailable(f"127.0.0.1:{self.port} is already in use")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "server.log"
        with open(self.log_path, "ab") as out:
            cmd = [exe, "--data", str(self.data_dir), "--proxy-port", str(self.port)]
            for key, value in self.config.items():
                cmd += ["--extra-config", f"{key}={value}"]
            self.proc = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + self.start_timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if _port_open(self.port):
                try:
                    from pymilvus import MilvusClient

                    client = MilvusClient(uri=self.uri, timeout=5)
                    client.list_collections()
                    client.close()
                    log.info("Milvus server up at %s (%s)", self.uri, self.data_dir)
                    return self
                except Exception as exc:  # still starting
                    last = exc
            time.sleep(0.5)
        code = self.proc.poll()
        why = f"exited with status {code}" if code is not None else f"not answering after {self.start_timeout:.0f} s"
        logs = sorted((self.data_dir / "logs").glob("milvus-std*.log")) + [self.log_path]
        tail = "\n".join(p.read_text(errors="replace")[-800:] for p in logs if p.exists())
        self.stop()
        error = MilvusServerUnavailable if code is not None else MilvusServerNotAnswering
        raise error(f"milvus-server {why} (last client error: {last}); log tails:\n{tail}")

    def stop(self) -> None:
        """SIGTERM the server's process group, SIGKILL it after the grace period; wait for it."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, wait in ((signal.SIGTERM, self.grace), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(pgid):
                self.proc.poll()
                time.sleep(0.2)
            if not _group_alive(pgid):
                break
        self.proc.wait(timeout=10)
        self.proc = None

    def __enter__(self) -> MilvusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _group_alive(pgid: int) -> bool:
    """True while any process of the group exists (zombies of our own child excepted)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[2]) == pgid and stat[0] != "Z":
                return True
    return False
