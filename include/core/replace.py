"""Replace a whole prefix (one batch) by writing the new one aside, verifying it, then switching it into place.

A rerun of a date must never lose the stored batch when it fails half-way. :func:`replace_prefix` therefore:

1. writes every new file under a staging prefix ``staging/<prefix><token>/`` (outside every area readers list),
   the file named ``last`` (the manifest: what readers gate on) written last;
2. reads each one back and checks its sha256;
3. switches: on a local lake one ``renameat2(RENAME_EXCHANGE)`` swaps the staged folder and the live one (a
   plain rename when there is no live one; rename-aside-then-rename where the kernel lacks the exchange), then
   the old batch is deleted; on S3 the stale keys of the old batch are deleted (its ``validation.json`` must
   not vouch for new rows), the new files are copied server-side, ``last`` last, and the staging keys dropped.

A failure in steps 1-2 leaves the previous batch untouched and readable (the staging keys are cleared on the next
attempt). On a local lake the switch itself is atomic; on S3 readers see the old manifest until the new one lands.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path

from include.core.hashing import sha256_hex
from include.core.lake import Lake, LakeError, LocalLake, S3Lake, check_key

log = logging.getLogger(__name__)
STAGING = "staging/"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def staging_prefix(prefix: str, token: str | None = None) -> str:
    """Where a new version of ``prefix`` is written before the switch (every attempt: ``staging_prefix(p)``)."""
    base = STAGING + prefix
    return base if token is None else f"{base}{token}/"


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with ``renameat2(RENAME_EXCHANGE)``; False where the call is unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (38, 22, 95):  # ENOSYS, EINVAL (file system without exchange), EOPNOTSUPP
        return False
    raise OSError(err, os.strerror(err), str(b))


def _switch_local(lake: LocalLake, staged: str, prefix: str) -> None:
    src, dst = lake._path(staged), lake._path(prefix)
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.rename(src, dst)
        return
    if not _exchange(src, dst):  # fallback: the batch is missing (never half-written) for one rename
        aside = src.with_name(src.name + "-old")
        os.rename(dst, aside)
        os.rename(src, dst)
        src = aside
    shutil.rmtree(src)  # the old batch, now at the staging path


def _switch_copy(lake: Lake, staged: str, prefix: str, names: list[str], last: str) -> None:
    stale = [k for k in lake.list(prefix) if k[len(prefix) :] not in names]
    for key in stale:  # first: an old validation.json must never vouch for the new rows
        lake.delete_prefix(key)
    for name in [n for n in names if n != last] + [last]:
        if isinstance(lake, S3Lake):
            source = {"Bucket": lake.bucket, "Key": lake._key(staged + name)}
            lake.client.copy_object(Bucket=lake.bucket, Key=lake._key(prefix + name), CopySource=source)
        else:
            lake.write_bytes(prefix + name, lake.read_bytes(staged + name))
    lake.delete_prefix(staged)


def replace_prefix(lake: Lake, prefix: str, files: Mapping[str, bytes], last: str) -> str:
    """Make ``files`` (name -> bytes) the whole content of ``prefix``, write-new-then-switch.

    Args:
        lake: The lake.
        prefix: The prefix replaced (ends with ``/``), e.g. one batch.
        files: Every file of the new version, by name relative to ``prefix``.
        last: The name written last (the one readers gate on, e.g. ``manifest.parquet``).

    Returns:
        The URI of ``prefix``.

    Raises:
        LakeError: a staged file read back differently; the previous content of ``prefix`` is untouched.
        OSError, botocore errors: a write failed; the previous content is untouched unless the switch failed.
    """
    check_key(prefix)
    if not prefix.endswith("/") or last not in files:
        raise LakeError(f"replace_prefix needs a prefix ending in / and {last!r} among the files")
    for name in files:
        check_key(prefix + name)
    lake.delete_prefix(staging_prefix(prefix))  # leftovers of an attempt that died
    staged = staging_prefix(prefix, uuid.uuid4().hex[:12])
    names = sorted(n for n in files if n != last) + [last]
    for name in names:
        lake.write_bytes(staged + name, files[name])
    for name in names:
        if sha256_hex(lake.read_bytes(staged + name)) != sha256_hex(files[name]):
            raise LakeError(f"{lake.uri(staged + name)} read back differently; {prefix} left as it was")
    if isinstance(lake, LocalLake):
        _switch_local(lake, staged, prefix)
    else:
        _switch_copy(lake, staged, prefix, names, last)
    log.info("replaced %s (%d files)", lake.uri(prefix), len(files))
    return lake.uri(prefix)
