"""Validated partitions: real ISO dates and registry names only, refused with one clear line."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from include.core.layout import batch_prefix, history_key, matches_key, quarantine_prefix, report_prefix
from include.core.partition import Partition, PartitionError, check_dt, check_source

BAD_DATES = ["2026-13-45", "x/../../source=OTHER/dt=D", "x/../../../..", "2026-02-30", "2026-1-01", "", " 2026-11-01",
             "2026-11-01/..", "2026-11-01\x00", None, 20261101]  # fmt: skip


@pytest.mark.parametrize("bad", BAD_DATES)
def test_bad_dates_are_refused_everywhere_a_key_is_built(bad):
    with pytest.raises(PartitionError, match="invalid date"):
        check_dt(bad)
    for build in (lambda d: batch_prefix("portal", "shop", d), lambda d: quarantine_prefix("social", "ig", d),
                  matches_key, history_key, lambda d: report_prefix(d, "run-1")):  # fmt: skip
        with pytest.raises(PartitionError):
            build(bad)


def test_real_dates_and_names_pass():
    assert check_dt("2028-02-29") == "2028-02-29"
    assert check_dt(date(2026, 11, 1)) == "2026-11-01" and check_dt(datetime(2026, 11, 1, 23, 59)) == "2026-11-01"
    assert batch_prefix("portal", "shop_1", "2026-11-01") == "batches/kind=portal/source=shop_1/dt=2026-11-01/"
    assert Partition.of("shop", "2026-11-01", known=["shop"]) == Partition("shop", "2026-11-01")


@pytest.mark.parametrize("name", ["../x", "Shop", "a/b", "", "shop "])
def test_bad_source_names_are_refused(name):
    with pytest.raises(PartitionError):
        batch_prefix("portal", name, "2026-11-01")
    with pytest.raises(PartitionError):
        check_source(name, known=["shop"])


def test_unknown_source_names_the_known_ones():
    with pytest.raises(PartitionError, match="unknown source 'nope'; known: a, b"):
        check_source("nope", known=["b", "a"])
    with pytest.raises(PartitionError, match="invalid run id"):
        report_prefix("2026-11-01", "..")
