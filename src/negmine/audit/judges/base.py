"""What a judge returns for one item, and the interface every judge implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Protocol, Sequence

import numpy as np

from negmine.audit.items import AuditItem


@dataclass(frozen=True)
class Judgement:
    """One judge's verdict on one item's candidates.

    ``flags[i]``: candidate i is a likely false negative, ``reasons[i]`` says why ('' when not flagged).
    ``evidence``: named per-candidate numbers (NaN where not measured) written to the flags file.
    ``relevance``: scorers of query relevance this judge ran, ``name -> (positive score, candidate
    scores)``, used for the noisy-positive checks and the confidence.
    """

    judge: str
    flags: np.ndarray
    reasons: tuple[str, ...]
    evidence: dict[str, np.ndarray] = field(default_factory=dict)
    relevance: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.reasons) != len(self.flags):
            raise ValueError(f"judge {self.judge}: {len(self.flags)} flags but {len(self.reasons)} reasons")


class Judge(Protocol):
    """Looks at a batch of items and returns one :class:`Judgement` per item, in order."""

    name: ClassVar[str]

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]: ...


def reasons_for(flags: np.ndarray, explain) -> tuple[str, ...]:
    """``explain(i)`` for flagged candidates, '' for the others."""
    return tuple(explain(i) if flag else "" for i, flag in enumerate(flags.tolist()))
