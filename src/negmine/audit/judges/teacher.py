"""Teacher judge: other bi-encoders vote; their agreement marks a candidate as a likely false negative.

Teacher t votes for candidate c when ``t(q, c) >= t(q, p) - r |t(q, p)|`` (a relative margin in the
teacher's own score space, cosine of its L2-normalised embeddings; default r = 0: the teacher prefers c to
the labelled positive, since E5-style teachers compress cosines into a narrow band); c is flagged when at
least ``min_votes`` teachers vote (default: all, i.e. the ensemble agrees). Ensembles of independent
retrievers make fewer correlated mistakes than the mining model judging itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, ClassVar, Sequence

import numpy as np

from negmine.audit.items import AuditItem
from negmine.audit.judges.base import Judgement, reasons_for
from negmine.config import JudgeConfig


@dataclass(frozen=True)
class Teacher:
    """A named teacher: text -> vector functions for queries and for documents (prompts applied inside)."""

    name: str
    queries: Callable[[Sequence[str]], np.ndarray]
    documents: Callable[[Sequence[str]], np.ndarray]


class TeacherJudge:
    name: ClassVar[str] = "teacher"

    def __init__(self, teachers: Sequence[Teacher], relative_margin: float = 0.0, min_votes: int | None = None) -> None:
        if not teachers:
            raise ValueError("TeacherJudge needs at least one teacher")
        self.teachers = list(teachers)
        self.relative_margin = relative_margin
        self.min_votes = len(self.teachers) if min_votes is None else min_votes

    @classmethod
    def from_config(cls, config: JudgeConfig, resources) -> "TeacherJudge":
        return cls(resources.teachers, config.teacher_relative_margin, config.teacher_min_votes)

    def judge(self, items: Sequence[AuditItem]) -> list[Judgement]:
        per_teacher = [self._scores(t, items) for t in self.teachers]
        return [self._one(i, item, per_teacher) for i, item in enumerate(items)]

    def _scores(self, teacher: Teacher, items: Sequence[AuditItem]) -> list[tuple[float, np.ndarray]]:
        """``(t(q, p), t(q, c_1..n))`` per item; every distinct text encoded once for the batch."""
        queries = list(dict.fromkeys(item.query for item in items))
        docs = list(dict.fromkeys(t for item in items for t in (item.positive, *item.candidates)))
        qv = dict(zip(queries, teacher.queries(queries)))
        dv = dict(zip(docs, teacher.documents(docs)))
        out = []
        for item in items:
            q = qv[item.query].astype(np.float64)
            cands = np.asarray([dv[c] for c in item.candidates], dtype=np.float64).reshape(len(item), -1)
            out.append((float(dv[item.positive].astype(np.float64) @ q), cands @ q if len(item) else np.zeros(0)))
        return out

    def relevance(self, query: str, documents: Sequence[str], key: str) -> np.ndarray:
        """Teacher ``key``'s (``teacher:<name>``) cosine of ``query`` with each of ``documents``, computed as
        :meth:`_scores` does: the scores of pairs no verdict needed, for the rows' judge scores
        (:mod:`negmine.audit.judge_scores`)."""
        teacher = next(t for t in self.teachers if f"teacher:{t.name}" == key)
        q = teacher.queries([query])[0].astype(np.float64)
        docs = np.asarray(teacher.documents(list(documents)), dtype=np.float64).reshape(len(documents), -1)
        return docs @ q if len(documents) else np.zeros(0, dtype=np.float64)

    def _one(self, index: int, item: AuditItem, per_teacher: list) -> Judgement:
        votes = np.zeros(len(item), dtype=np.int64)
        evidence, relevance = {}, {}
        for teacher, scores in zip(self.teachers, per_teacher):
            pos, cand = scores[index]
            votes += cand >= pos - self.relative_margin * abs(pos)
            evidence[f"teacher:{teacher.name}"] = cand
            relevance[f"teacher:{teacher.name}"] = (pos, cand)
        flags = votes >= self.min_votes

        def explain(i: int) -> str:
            detail = "; ".join(f"{name.split(':', 1)[1]} {rel[1][i]:.4f} vs positive {rel[0]:.4f}" for name, rel in relevance.items())
            rule = "at least as high as the positive" if self.relative_margin == 0 else (
                f"within {self.relative_margin:g} (relative) of the positive or above")
            return f"{int(votes[i])}/{len(self.teachers)} teachers score it {rule}: {detail}"

        return Judgement(self.name, flags, reasons_for(flags, explain), evidence, relevance)
