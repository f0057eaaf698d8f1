"""Bad dates and source names at every entry (CLI, stage functions, DAG Param, Asset event): refused with one
line before anything is touched, and the lake byte-identical afterwards."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from include.core.partition import PartitionError

HOSTILE = ["2026-13-45", "x/../../source=OTHER/dt=D", "x/../../../.."]
ROOT = Path(__file__).resolve().parents[3]


def tree_hash(root: Path) -> str:
    """sha256 over every path and file content under ``root`` (symlinks and empty dirs included)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def good_lake(tmp_path, monkeypatch):
    """A lake holding a validated batch of two sources, and a registry naming them."""
    from include.core.settings import get_settings

    lake = Path(get_settings().lake)
    for source in ("shop", "other"):
        batch = lake / f"batches/kind=portal/source={source}/dt=D"
        batch.mkdir(parents=True)
        (batch / "manifest.parquet").write_bytes(b"rows of " + source.encode())
        (batch / "validation.json").write_text('{"success": true}')
    (lake / "reports").mkdir()
    (lake / "reports/latest.json").write_text('{"dt": "2026-11-01"}')
    registry = tmp_path / "sources.yaml"
    sources = [{"name": n, "kind": "portal", "spider": "jsonld_product", "args": {}} for n in ("shop", "other")]
    registry.write_text(yaml.safe_dump({"sources": sources}))
    monkeypatch.setenv("FTI_SOURCES_FILE", str(registry))
    get_settings.cache_clear()
    return lake


@pytest.mark.parametrize("bad", HOSTILE)
def test_fti_commands_refuse_hostile_dates_with_exit_2_and_touch_nothing(good_lake, bad, capsys):
    from include.ops.cli import main

    before = tree_hash(good_lake)
    for argv in (["crawl", "shop", "--date", bad], ["validate", "shop", "--date", bad], ["embed", "--date", bad],
                 ["rank", "--date", bad]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2, argv
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and err.startswith(f"fti {argv[0]}: invalid date"), err
    assert tree_hash(good_lake) == before


def test_fti_crawl_as_a_process_exits_2_in_one_line(good_lake):
    before = tree_hash(good_lake)
    for argv in (["crawl", "shop", "--date", HOSTILE[2]], ["crawl", "../shop", "--date", "2026-11-01"],
                 ["crawl", "nope", "--date", "2026-11-01"]):  # fmt: skip
        proc = subprocess.run([sys.executable, "-m", "include.ops.cli", *argv], capture_output=True, text=True,
                              cwd=ROOT, timeout=60, check=False)  # fmt: skip
        assert proc.returncode == 2 and proc.stdout == "", (argv, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert tree_hash(good_lake) == before


@pytest.mark.parametrize("bad", HOSTILE)
def test_stage_functions_refuse_hostile_dates(good_lake, bad):
    from crawlers.crawl import crawl_source
    from embedding.catalog import embed_catalog
    from include.ops.stages import rank_and_publish, validate_source

    before = tree_hash(good_lake)
    for call in (lambda: crawl_source("shop", bad), lambda: validate_source("shop", bad), lambda: embed_catalog(bad),
                 lambda: rank_and_publish(bad)):  # fmt: skip
        with pytest.raises(PartitionError, match="invalid date"):
            call()
    with pytest.raises(PartitionError, match="invalid source name"):
        crawl_source("x/../../other", "2026-11-01")
    assert tree_hash(good_lake) == before


@pytest.mark.parametrize("bad", HOSTILE)
def test_dag_param_and_asset_event_refuse_hostile_dates(bad):
    from types import SimpleNamespace

    from include.ops.airflow_support import run_date

    with pytest.raises(PartitionError):
        run_date({"params": {"date": bad}})
    event = SimpleNamespace(extra={"dt": bad})
    with pytest.raises(PartitionError):
        run_date({"params": {}, "triggering_asset_events": {"fti_catalog_batches": [event]}})
    assert run_date({"params": {"date": "2026-11-01"}}) == "2026-11-01"
