"""Near-duplicate judge: a candidate that is a near-copy of any positive of the query is a false negative.

Embedding cosine uses the mining model's document vectors (corpus rows when mining, else the texts
encoded through :class:`negmine.audit.vectors.TextVectors`), centred on the mean document vector
(``mean``: the corpus mean when mining, the mean of a sample of the audited file's documents otherwise);
shingle overlap uses MinHash (see :mod:`negmine.audit.near_dup`).
"""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement, reasons_for
from negmine.audit.near_dup import SignatureMemo, mean_vector, near_dup_reason, near_duplicates
from negmine.config import JudgeConfig, NearDupConfig


MEMO_ENTRIES = 200_000
"""MinHash signatures the judge keeps (~1 KB each, ~200 MB): past it its memo is emptied (the same findings; texts
seen again are signed again), so auditing a long file does not hold one signature per distinct text it holds."""


class NearDuplicateJudge:
    name: ClassVar[str] = "near-duplicate"

    def __init__(
        self,
        config: NearDupConfig,
        text_vectors: Callable[[Sequence[str]], np.ndarray] | None = None,
        row_vectors: np.ndarray | None = None,
        mean: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.text_vectors = text_vectors
        self.row_vectors = row_vectors
        self.mean = mean
        self.memo = SignatureMemo(config, MEMO_ENTRIES)

    @classmethod
    def from_config(cls, config: JudgeConfig, resources) -> "NearDuplicateJudge":
        mean = resources.doc_mean
        if mean is None and resources.row_vectors is not None and config.near_dup.cosine is not None:
            mean = mean_vector(resources.row_vectors)
        return cls(config.near_dup, resources.doc_vectors, resources.row_vectors, mean)

    def prefetch(self, items: Sequence[AuditItem], workers: int) -> int:
        """MinHash signatures of every candidate of ``items``, computed in ``workers`` processes ahead of
        :meth:`judge` (see :meth:`SignatureMemo.prefetch`); returns how many were computed."""
        if self.config.overlap is None:
            return 0
        return self.memo.prefetch_texts([text for item in items for text in item.candidates], workers)

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]:
        vectors = self._text_vectors(items)
        return [self._one(item, vectors) for item in items]

    def _text_vectors(self, items: Sequence[AuditItem]) -> dict[str, np.ndarray]:
        """Vectors of every text that has no corpus row, encoded in one batch."""
        if self.config.cosine is None or self.text_vectors is None:
            return {}
        wanted = []
        for item in items:
            if not self._by_row(item):
                wanted.extend(item.candidates)
                wanted.extend(text for _, text in item.positives)
        unique = list(dict.fromkeys(wanted))
        return dict(zip(unique, self.text_vectors(unique))) if unique else {}

    def _by_row(self, item: AuditItem) -> bool:
        return self.row_vectors is not None and item.rows is not None and item.positive_rows is not None

    def _one(self, item: AuditItem, vectors: dict[str, np.ndarray]) -> Judgement:
        pos_texts = [text for _, text in item.positives]
        vecs = None
        if self._by_row(item):
            vecs = (self.row_vectors[item.rows], self.row_vectors[item.positive_rows])
        elif vectors:
            vecs = (np.stack([vectors[t] for t in item.candidates]) if len(item) else np.empty((0, 1)),
                    np.stack([vectors[t] for t in pos_texts]))
        sigs = None
        if self.config.overlap is not None:
            sigs = (self.memo.for_texts(list(item.candidates)), self.memo.for_texts(pos_texts, positives=True))
        ev = near_duplicates(self.config, len(item), vecs, sigs, self.mean)
        reasons = reasons_for(ev.flags, lambda i: near_dup_reason(self.config, ev.cosine[i], ev.overlap[i]))
        return Judgement(self.name, ev.flags, reasons, {"cosine_to_positive": ev.cosine, "overlap_with_positive": ev.overlap})
