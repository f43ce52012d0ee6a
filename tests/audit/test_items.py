from __future__ import annotations

import pytest

from negmine.audit.items import AuditItem, item_from_row

from .conftest import sample_rows


def test_item_from_row_puts_own_positive_first_and_head_truncates():
    item = item_from_row(sample_rows()[0], (("p2", "other"), ("p1", "ignored duplicate")))
    assert item.positives[0][0] == "p1" and item.positives[1] == ("p2", "other") and len(item.positives) == 2
    head = item.head(2)
    assert head.candidate_ids == ("n-copy", "n-coffee") and head.scores.tolist() == [0.7, 0.3]
    assert item.head(None) is item and item.head(10) is item


def test_mismatched_lists_are_rejected():
    import numpy as np

    with pytest.raises(ValueError, match="candidate lists differ in length"):
        AuditItem("q", "q", "p", "p", 1.0, ("a",), (), np.zeros(1), np.zeros(1))
