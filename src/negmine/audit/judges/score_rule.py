"""Score rule: the mining scores themselves break the positive-aware margins.

Flags c when ``s_c >= s_p - m`` (absolute margin) or ``s_c >= s_p - r |s_p|`` (relative margin,
NV-Retriever TopK-PercPos, Moreira et al. 2024), i.e. exactly the candidates the mining filters with the
same margins would drop. Useful on files mined without margins, or with looser ones.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement, reasons_for
from negmine.config import FilterConfig, JudgeConfig
from negmine.select.filters import filter_masks
from negmine.select.pool import Pool


class ScoreJudge:
    name: ClassVar[str] = "score"

    def __init__(self, relative_margin: float | None = 0.05, absolute_margin: float | None = None) -> None:
        self.filters = FilterConfig(relative_margin=relative_margin, absolute_margin=absolute_margin, sd_margin=None)

    @classmethod
    def from_config(cls, config: JudgeConfig, resources) -> "ScoreJudge":
        return cls(config.relative_margin, config.absolute_margin)

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]:
        return [self._one(item) for item in items]

    def _one(self, item: AuditItem) -> Judgement:
        n = len(item)
        pool = Pool(np.zeros(n, np.int64), item.scores.astype(np.float32), item.ranks, item.positive_score)
        masks = filter_masks(pool, self.filters, None, None)
        flags = ~(masks["absolute_margin"] & masks["relative_margin"])
        s_pos = item.positive_score

        def explain(i: int) -> str:
            return f"mining score {item.scores[i]:.4f} breaks the margin to the positive's {s_pos:.4f} ({self._rule()})"

        margin = s_pos - item.scores.astype(np.float64)
        return Judgement(self.name, flags, reasons_for(flags, explain), {"margin_to_positive": margin})

    def _rule(self) -> str:
        parts = []
        if self.filters.relative_margin is not None:
            parts.append(f"relative margin {self.filters.relative_margin:g}")
        if self.filters.absolute_margin is not None:
            parts.append(f"absolute margin {self.filters.absolute_margin:g}")
        return ", ".join(parts) or "no margin set"
