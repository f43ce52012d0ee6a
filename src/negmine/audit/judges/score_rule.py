"""Score rule: the mining scores themselves break the positive-aware margins.

Flags c when ``s_c >= s_p - k * sd`` (sd margin, the mining default: sd = the spread of the pair's whole
candidate pool, which ``negmine mine`` writes to each row as ``candidate_score_sd``), ``s_c >= s_p - m``
(absolute margin) or ``s_c >= s_p - r |s_p|`` (relative margin, NV-Retriever TopK-PercPos, Moreira et al.
2024), i.e. exactly the candidates the mining filters with the same margins would drop. ``s_p`` is the row's
``margin_score`` when it has one (mined with ``--margin-from lowest-positive``: the query's lowest positive
score), else its ``positive_score``. Useful on files mined
without margins, or with looser ones; on a file mined with the same margins it flags nothing.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement, reasons_for
from negmine.config import FilterConfig, JudgeConfig
from negmine.select.filters import filter_masks
from negmine.select.pool import Pool

MARGIN_KEYS = ("absolute_margin", "relative_margin", "sd_margin")

NO_SPREAD = (
    "the score judge's sd margin needs the spread of the pair's candidate scores (row field "
    "candidate_score_sd, written by `negmine mine`), and this pair has none; re-mine the file with negmine, "
    "or audit with JudgeConfig(sd_margin=None, relative_margin=0.05) (--no-sd-margin --relative-margin 0.05; "
    "NV-Retriever's 95% rule needs no spread)"
)


class ScoreJudge:
    name: ClassVar[str] = "score"

    def __init__(
        self, relative_margin: float | None = None, absolute_margin: float | None = None, sd_margin: float | None = 0.5
    ) -> None:
        self.filters = FilterConfig(relative_margin=relative_margin, absolute_margin=absolute_margin,
                                    sd_margin=sd_margin)

    @classmethod
    def from_config(cls, config: JudgeConfig, resources) -> "ScoreJudge":
        return cls(config.relative_margin, config.absolute_margin, config.sd_margin)

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]:
        return [self._one(item) for item in items]

    def _one(self, item: AuditItem) -> Judgement:
        if self.filters.sd_margin is not None and item.score_sd is None:
            raise ValueError(f"pair ({item.query_id}, {item.positive_id}): {NO_SPREAD}")
        n = len(item)
        # the file's scores as they are: a cast of the negatives' alone to float32 moved ties with the positive
        pool = Pool(np.zeros(n, np.int64), item.scores.astype(np.float64), item.ranks, item.positive_score,
                    margin_score=item.margin_score)
        masks = filter_masks(pool, self.filters, None, None, spread=item.score_sd)
        flags = ~np.logical_and.reduce([masks[key] for key in MARGIN_KEYS])
        s_pos = item.margin_reference()
        whose = "positive's" if item.margin_score is None else "query's lowest positive's"
        rule = self._rule(item.score_sd)

        def explain(i: int) -> str:
            return f"mining score {item.scores[i]:.4f} breaks the margin to the {whose} {s_pos:.4f} ({rule})"

        margin = item.positive_score - item.scores.astype(np.float64)
        return Judgement(self.name, flags, reasons_for(flags, explain), {"margin_to_positive": margin})

    def _rule(self, score_sd: float | None) -> str:
        f, parts = self.filters, []
        if f.sd_margin is not None:
            parts.append(f"sd margin {f.sd_margin:g} x pool sd {score_sd:.4f} = {f.sd_margin * score_sd:.4f}")
        if f.relative_margin is not None:
            parts.append(f"relative margin {f.relative_margin:g}")
        if f.absolute_margin is not None:
            parts.append(f"absolute margin {f.absolute_margin:g}")
        return ", ".join(parts) or "no margin set"
