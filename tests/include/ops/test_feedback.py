"""Feedback -> labels -> train_embedder: a designer's verdicts on a published report become pairs the trainer reads."""

from __future__ import annotations

import pandas as pd
import pytest

from include.core.lake import LocalLake
from include.ops.feedback import FeedbackError, ingest_feedback
from include.reports.publishing import publish_report
from tests.include.reports.test_publishing import INPUTS, table_for

DT = "2026-11-01"


def test_verdicts_become_pairs_and_negatives_the_trainer_reads(tmp_path):
    from training.data.pairs import load_pairs
    from training.pipeline import plan_training

    lake = LocalLake(tmp_path)
    publish_report(lake, table_for(lake), DT, INPUTS)
    feedback = pd.DataFrame([
        {"dt": DT, "design_id": "a", "post": "https://p/p1", "verdict": "right", "designer": "ana"},
        {"dt": DT, "design_id": "a", "post": "images/full/p2.jpg", "verdict": "Wrong", "designer": "ana"},
    ])  # fmt: skip
    lake.write_bytes("feedback/inbox/one.csv", feedback.to_csv(index=False).encode())
    result = ingest_feedback(lake, "feedback/inbox/one.csv")
    assert (result["rows"], result["pairs"], result["negatives"]) == (2, 1, 1)
    pairs = load_pairs(lake)  # what train_embedder's default data reads
    assert set(pairs.table["image"]) == {"images/full/p1.jpg", "images/full/a.jpg"}
    assert set(pairs.table["item_id"]) == {"a"}
    negatives = pd.read_parquet(tmp_path / result["files"]["negatives"])
    assert negatives.to_dict("records") == [
        {"anchor_image": "images/full/p2.jpg", "negative_image": "images/full/a.jpg", "item_id": "a"}]  # fmt: skip
    plan = plan_training(lake=lake)
    assert plan["skip"] is False and plan["fingerprint"]  # train_embedder trains on them (no champion yet)
    again = ingest_feedback(lake, "feedback/inbox/one.csv")  # the same file twice: the same files, no duplicates
    assert again["files"] == result["files"] and len(lake.list("labels/pairs/")) == 1


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ({"dt": DT, "design_id": "zzz", "post": "https://p/p1", "verdict": "right"}, "design zzz is not in the report"),
        ({"dt": DT, "design_id": "a", "post": "https://p/p9", "verdict": "right"}, "is not evidence of a"),
        ({"dt": DT, "design_id": "a", "post": "https://p/p1", "verdict": "maybe"}, "is not right/wrong"),
        ({"dt": "2026-11-09", "design_id": "a", "post": "https://p/p1", "verdict": "right"}, "no published report"),
    ],
)
def test_bad_feedback_is_refused_and_writes_nothing(tmp_path, row, error):
    lake = LocalLake(tmp_path)
    publish_report(lake, table_for(lake), DT, INPUTS)
    lake.write_bytes("feedback/inbox/bad.csv", pd.DataFrame([row]).to_csv(index=False).encode())
    with pytest.raises(FeedbackError, match=error):
        ingest_feedback(lake, "feedback/inbox/bad.csv")
    assert lake.list("labels/") == []
