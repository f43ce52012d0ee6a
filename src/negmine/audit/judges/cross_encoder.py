"""Cross-encoder judge (RocketQA denoising, Qu et al. 2021): rescore (query, candidate) pairs jointly.

A cross-encoder reads query and document together and is far more accurate than the bi-encoder that
mined the candidates. Candidate c is flagged when ``ce(q, c) >= ce(q, p) - margin`` (it looks at least as
relevant as the labelled positive) or, with a threshold set, ``ce(q, c) >= threshold`` (RocketQA drops
negatives the cross-encoder scores as confidently relevant). Any sentence-transformers ``CrossEncoder``
works; the caller loads it (by name or path) and passes it in, usually wrapped in
:class:`negmine.audit.pair_cache.CachedCrossEncoder` so no pair is scored twice. Pairs are scored in passes of
equal token length with the model's linear layers run one pair at a time
(:func:`negmine.audit.judges.pair_passes.predict_pairs`), so on the CPU a pair's score does not depend on the pairs
scored with it nor on the batch size.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement, reasons_for
from negmine.audit.judges.pair_passes import predict_pairs
from negmine.config import JudgeConfig


class CrossEncoderJudge:
    name: ClassVar[str] = "cross-encoder"

    def __init__(
        self, model, label: str = "cross-encoder", margin: float = 0.0, threshold: float | None = None, batch_size: int = 32
    ) -> None:
        self.model = model
        self.label = label
        self.margin = margin
        self.threshold = threshold
        self.batch_size = batch_size
        self.asked = 0

    @classmethod
    def from_config(cls, config: JudgeConfig, resources) -> "CrossEncoderJudge":
        return cls(
            resources.cross_encoder, config.cross_encoder or "cross-encoder", config.cross_encoder_margin,
            config.cross_encoder_threshold, config.cross_encoder_batch_size,
        )

    def usage(self) -> dict[str, int]:
        """Distinct (query, document) pairs scored by the model and read from the score cache so far (pairs
        asked for without a cache, where nothing is deduplicated)."""
        if hasattr(self.model, "scored"):
            return {"pairs_scored": self.model.scored, "pairs_from_cache": self.model.cached}
        return {"pairs_scored": self.asked, "pairs_from_cache": 0}

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]:
        pairs = [(item.query, text) for item in items for text in (item.positive, *item.candidates)]
        if not pairs:
            return []
        scores = self._predict(pairs)
        out, start = [], 0
        for item in items:
            pos, cand = float(scores[start]), scores[start + 1 : start + 1 + len(item)]
            start += 1 + len(item)
            out.append(self._one(pos, cand))
        return out

    def relevance(self, query: str, documents: Sequence[str], key: str = "cross-encoder") -> np.ndarray:
        """The model's score of ``(query, d)`` for each of ``documents``, as :meth:`judge` gets it (through the
        pair cache): the scores of pairs no verdict needed, for the rows' judge scores
        (:mod:`negmine.audit.judge_scores`)."""
        return self._predict([(query, text) for text in documents])

    def _predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        if not pairs:
            return np.zeros(0, dtype=np.float64)
        self.asked += len(pairs)
        return np.asarray(predict_pairs(self.model, pairs, self.batch_size), dtype=np.float64).reshape(len(pairs))

    def _one(self, pos: float, cand: np.ndarray) -> Judgement:
        flags = cand >= pos - self.margin
        if self.threshold is not None:
            flags |= cand >= self.threshold

        def explain(i: int) -> str:
            if cand[i] >= pos - self.margin:
                return f"cross-encoder scores it {cand[i]:.4f}, the positive {pos:.4f} (margin {self.margin:g})"
            return f"cross-encoder score {cand[i]:.4f} >= threshold {self.threshold:g}"

        key = "cross-encoder"
        return Judgement(self.name, flags, reasons_for(flags, explain), {key: cand}, {key: (pos, cand)})
