from __future__ import annotations

import numpy as np
import pytest

from training.metrics import category_recall_at_1, recall_at_k


def test_recall_at_k_on_a_hand_checked_case():
    # cosines: q1 -> A 1.0, B .8, C 0 | q2 -> C 1.0, B .6, A 0 | q3 -> B .96, C .8, A .6
    queries = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)
    gallery = np.array([[1, 0], [0.8, 0.6], [0, 1]], np.float32)
    got = recall_at_k(queries, ["A", "B", "C"], gallery, ["A", "B", "C"], ks=(1, 2, 3))
    assert got == pytest.approx({"recall@1": 1 / 3, "recall@2": 1.0, "recall@3": 1.0})


def test_query_without_its_item_in_the_gallery_never_hits():
    got = recall_at_k(np.eye(2, dtype=np.float32), ["A", "Z"], np.eye(2, dtype=np.float32), ["A", "B"], ks=(1, 2))
    assert got == {"recall@1": 0.5, "recall@2": 0.5}


def test_category_recall_is_leave_one_out():
    vectors = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], np.float32)
    # nearest other: 0 -> 1 (a=a), 1 -> 0 (a=a), 2 -> 1 (b!=a), 3 -> 2 (b=b)
    assert category_recall_at_1(vectors, ["a", "a", "b", "b"]) == 0.75


def test_empty_inputs_are_refused():
    with pytest.raises(ValueError):
        recall_at_k(np.zeros((0, 2)), [], np.eye(2), ["a", "b"])
