from __future__ import annotations

import numpy as np

from negmine.audit.findings import find
from negmine.audit.items import item_from_row
from negmine.audit.judges.base import Judgement
from negmine.audit.stats import AuditStats, Reservoir
from negmine.config import JudgeConfig

from .conftest import sample_rows


def test_reservoir_is_bounded_uniform_and_deterministic():
    a, b = Reservoir(100, seed=1), Reservoir(100, seed=1)
    a.extend(range(10000))
    b.extend(range(10000))
    assert a.values == b.values and len(a.values) == 100 and a.seen == 10000
    assert 3000 < np.mean(a.values) < 7000


def test_counts_agreement_and_samples():
    row = sample_rows()[0]
    j1 = Judgement("score", np.array([1, 0, 1, 0], bool), ("x", "", "x", ""))
    j2 = Judgement("near-duplicate", np.array([1, 0, 0, 0], bool), ("y", "", "", ""))
    stats = AuditStats(["score", "near-duplicate"], sample_size=10)
    stats.add(find(item_from_row(row), [j1, j2], JudgeConfig()), row_kept=True)
    s = stats.summary()
    assert s["counts"] == {"candidates_judged": 4, "false_negatives": 2, "false_negatives_of_noisy_positives": 0,
                           "noisy_positives": 0, "pairs": 1, "rows_written": 1}
    assert s["flags_per_judge"] == {"score": 2, "near-duplicate": 1}
    assert s["judge_agreement"] == {"near-duplicate & score": 1}
    assert s["votes_per_candidate"] == {"0": 2, "1": 1, "2": 1}
    assert s["samples"]["flagged_scores"]["values"] == [0.7, 0.4]
    assert s["samples"]["kept_margins"]["values"] == [0.5, 0.7]
