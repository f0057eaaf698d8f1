"""Run inside ``unshare -rm``: put LAKE on a tmpfs barely larger than its content, run ``fti ARGS``, report JSON.

``python tests/faults/full_disk.py LAKE SLACK_KB ARGS...`` prints {"rc", "last_line", "before", "after", "free_kb"}
where before/after hash ``LAKE/batches`` (what readers see) around the command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.faults.shop import ROOT, tree_hash  # noqa: E402


def main() -> None:
    lake, slack, argv = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    copy = Path(tempfile.mkdtemp()) / "lake"
    shutil.copytree(lake, copy, symlinks=True)
    used = int(subprocess.run(["du", "-sk", str(copy)], capture_output=True, text=True, check=True).stdout.split()[0])
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={used + slack}k", "tmpfs", str(lake)], check=True)
    shutil.copytree(copy, lake, symlinks=True, dirs_exist_ok=True)
    before = tree_hash(lake, "batches")
    proc = subprocess.run([sys.executable, "-m", "include.ops.cli", *argv], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=False)  # fmt: skip
    stat = os.statvfs(lake)
    print(json.dumps({"rc": proc.returncode, "last_line": (proc.stderr.strip().splitlines() or [""])[-1],
                      "before": before, "after": tree_hash(lake, "batches"),
                      "free_kb": stat.f_bavail * stat.f_frsize // 1024}))  # fmt: skip


if __name__ == "__main__":
    main()
