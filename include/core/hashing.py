"""Content hashes: the lake's keys, manifests' checksums and run ids all use sha256 hex digests."""

from __future__ import annotations

import hashlib


def sha256_hex(data: bytes) -> str:
    """The sha256 hex digest of ``data``."""
    return hashlib.sha256(data).hexdigest()
