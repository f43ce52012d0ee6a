"""Run statistics of an audit in bounded memory: exact counts plus fixed-size score samples.

Score lists are kept as uniform reservoir samples (Vitter's algorithm R, seeded, so reruns give the same
sample) of at most ``size`` values, which is what the report's histograms need.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Iterable

import numpy as np

from negmine.audit.findings import PairFindings


class Reservoir:
    """Uniform sample of at most ``size`` values from a stream; ``seen`` counts every value offered."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seen = 0
        self.values: list[float] = []
        self._rng = np.random.default_rng(seed)

    def extend(self, values: Iterable[float]) -> None:
        for value in values:
            self.seen += 1
            if len(self.values) < self.size:
                self.values.append(float(value))
                continue
            j = int(self._rng.integers(0, self.seen))
            if j < self.size:
                self.values[j] = float(value)


SAMPLES = ("positive_scores", "negative_scores", "flagged_scores", "kept_margins", "flagged_margins", "confidence")


class AuditStats:
    """Counts per judge, their agreement and the actions taken, with score samples for the plots."""

    def __init__(self, judges: list[str], sample_size: int = 50000, seed: int = 42) -> None:
        self.judges = judges
        self.counts: Counter = Counter()
        self.judge_flags: Counter = Counter()
        self.pair_agreement: Counter = Counter()
        self.votes: Counter = Counter()
        self.samples = {name: Reservoir(sample_size, seed + i) for i, name in enumerate(SAMPLES)}

    def add(self, f: PairFindings, row_kept: bool) -> None:
        self.counts["pairs"] += 1
        self.counts["candidates_judged"] += len(f.item)
        self.counts["false_negatives"] += int(f.false_negative.sum())
        self.counts["noisy_positives"] += int(f.noisy_positive)
        # flags of a noisy positive's row, left without policy (negmine.audit.policy.acted_on)
        self.counts["false_negatives_of_noisy_positives"] += int(f.false_negative.sum()) if f.noisy_positive else 0
        self.counts["rows_written"] += int(row_kept)
        if not len(f.item):  # a row without negatives: nothing to judge (counted only when there is one)
            self.counts["pairs_without_negatives"] += 1
        flags = {j.judge: np.asarray(j.flags, dtype=bool) for j in f.judgements}
        for name, fl in flags.items():
            self.judge_flags[name] += int(fl.sum())
        for a, b in combinations(sorted(flags), 2):
            self.pair_agreement[f"{a} & {b}"] += int((flags[a] & flags[b]).sum())
        self.votes.update(int(v) for v in f.votes.tolist())
        self._sample(f)

    def add_sibling_false_negatives(self, n: int) -> None:
        """Negatives of a written row that got the false-negative policy because a sibling row of the same query
        (another positive) flagged them, not the row's own judges."""
        self.counts["sibling_false_negatives"] += n

    def add_labelled_positives(self, n: int) -> None:
        """Negatives of a written row that are labelled positives of its query (removed whatever the policy)."""
        self.counts["labelled_positives_removed"] += n

    def add_earlier_false_negatives(self, n: int) -> None:
        """Negatives of a written row that got the false-negative policy only because an earlier audit had marked
        them (``negative_flags``/``false_negative_ids`` of the input row)."""
        self.counts["earlier_false_negatives"] += n

    def _sample(self, f: PairFindings) -> None:
        scores = np.asarray(f.item.scores, dtype=np.float64)
        fn = f.false_negative
        margins = f.item.positive_score - scores
        self.samples["positive_scores"].extend([f.item.positive_score])
        self.samples["negative_scores"].extend(scores[~fn].tolist())
        self.samples["flagged_scores"].extend(scores[fn].tolist())
        self.samples["kept_margins"].extend(margins[~fn].tolist())
        self.samples["flagged_margins"].extend(margins[fn].tolist())
        self.samples["confidence"].extend([f.confidence])

    def summary(self) -> dict:
        return {
            "counts": dict(sorted(self.counts.items())),
            "judges": list(self.judges),
            "flags_per_judge": {j: self.judge_flags.get(j, 0) for j in self.judges},
            "judge_agreement": dict(sorted(self.pair_agreement.items())),
            "votes_per_candidate": {str(k): v for k, v in sorted(self.votes.items())},
            "samples": {k: {"seen": r.seen, "values": [round(v, 6) for v in r.values]} for k, r in self.samples.items()},
        }
