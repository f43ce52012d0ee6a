"""Apply the per-finding policies to a native row and describe each finding as a flags-file record.

False negatives: ``drop`` (removed; ids kept in ``false_negative_ids`` so training can still mask them
in-batch), ``promote`` (removed from the negatives; ids, texts and mining scores added to the parallel
``extra_positive_ids``/``extra_positives``/``extra_positive_scores``, which the exports and ``negmine train`` use
as positives; with judge scores, the relevance judge's of each in ``judge_extra_positive_scores``) or ``mark``
(kept; ``negative_flags[i] = "false_negative"``, ids in ``false_negative_ids``).
Promotions of an earlier audit are kept, first; ids an older audit promoted without their texts cannot join
those lists once something new is promoted, and move to ``false_negative_ids`` (still masked in training).
Negatives an earlier audit marked get the policy again, whatever the new judges find.
Noisy positives: ``drop`` (no row) or ``mark`` (row kept). Every kept row gets its ``confidence``.

A false negative is a finding about the query, not the pair: a document flagged in one row of a query gets
the same policy in every row of that query (:class:`QueryFalseNegatives` collects them over the whole file
first), so it is never a positive (or a flagged negative) in one row and an ordinary hard negative in another.
Flags of a row whose positive is noisy are the exception: no policy acts on them (:func:`acted_on`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Collection, Mapping

import numpy as np

from negmine.audit.findings import PairFindings
from negmine.audit.judge_scores import RowJudgeScores
from negmine.export.native import FALSE_NEGATIVE_FLAG as FLAG, make_row

NOT_ACTED_ON = "none"
"""The ``action`` of a false-negative record no policy acts on (its row's positive is noisy)."""


@dataclass(frozen=True, slots=True)
class RowVerdict:
    """What the policies need of one row's findings, small enough to keep for every row of a file."""

    false_negative_ids: tuple[str, ...]
    noisy_positive: bool
    confidence: float
    judge: tuple[float, tuple[float, ...]] | None = None
    """The relevance judge's scores (:mod:`negmine.audit.judge_scores`): the positive's and the judged candidates'
    (the row's first negatives), for the cleaned row; None without such a judge."""

    @classmethod
    def of(cls, findings: PairFindings, scorer: str | None = None) -> RowVerdict:
        """``false_negative_ids`` is empty when the positive is noisy: see :func:`acted_on`. ``scorer``: the
        relevance key whose scores the verdict keeps."""
        ids = findings.item.candidate_ids
        flagged = tuple(ids[i] for i in np.flatnonzero(acted_on(findings)).tolist())
        scores = next((j.relevance[scorer] for j in findings.judgements if scorer in j.relevance), None)
        judge = None if scores is None else (float(scores[0]), tuple(np.asarray(scores[1], dtype=float).tolist()))
        return cls(flagged, bool(findings.noisy_positive), float(findings.confidence), judge)

    def dropped(self, positive_policy: str) -> bool:
        """The row is not written (its positive is noisy and the policy drops such rows)."""
        return self.noisy_positive and positive_policy == "drop"


def acted_on(findings: PairFindings) -> np.ndarray:
    """The false negatives the policy applies to: none when the row's positive is noisy. Such flags are measured
    against a label the audit itself doubts (a wrong positive scores below most candidates, so every candidate
    is flagged); acting on them would drop, mark or promote the candidates in every row of the query, the rows
    of its trusted positives too. They stay in the flags file, with action ``none``."""
    return findings.false_negative & (not findings.noisy_positive)


@dataclass
class QueryFalseNegatives:
    """Every query's false negatives over all its rows (ids in first-flagged order)."""

    by_query: dict[str, dict[str, None]] = field(default_factory=dict)

    def add(self, query_id: str, verdict: RowVerdict) -> None:
        if verdict.false_negative_ids:
            self.by_query.setdefault(query_id, {}).update(dict.fromkeys(verdict.false_negative_ids))

    def of(self, query_id: str) -> Collection[str]:
        return self.by_query.get(query_id, {}).keys()


def apply_policy(
    row: Mapping, findings: PairFindings | RowVerdict, fn_policy: str, positive_policy: str,
    query_false_negatives: Collection[str] = (), query_positives: Collection[str] = (),
    judge_scores: RowJudgeScores | None = None,
) -> dict | None:
    """The cleaned row, or None when a noisy positive's row is dropped. ``query_false_negatives``: the
    documents flagged in any row of the row's query; those among its negatives get the policy too, as do the
    negatives an earlier audit marked (:func:`earlier_false_negatives`). ``query_positives``: the ids of every
    labelled positive of the query; any among the negatives (a file not mined by negmine) is removed, whatever
    the policy: it already has its own row. ``judge_scores``: ``(positive, one per negative)``, the relevance
    judge's (:func:`negmine.audit.judge_scores.row_judge_scores`), kept for the negatives the row keeps and the
    documents it promotes."""
    verdict = findings if isinstance(findings, RowVerdict) else RowVerdict.of(findings)
    if verdict.dropped(positive_policy):
        return None
    flagged_set = {*verdict.false_negative_ids, *query_false_negatives, *earlier_false_negatives(row)}
    labelled = np.array([doc_id in query_positives for doc_id in row["negative_ids"]], dtype=bool)
    fn = np.array([doc_id in flagged_set for doc_id in row["negative_ids"]], dtype=bool) & ~labelled
    flagged_ids = [row["negative_ids"][i] for i in np.flatnonzero(fn)]
    keep = np.flatnonzero(~labelled & ~(fn if fn_policy in ("drop", "promote") else False))
    lists = {k: [row[k][i] for i in keep] for k in ("negative_ids", "negatives", "negative_scores", "negative_ranks")}
    promote = fn_policy == "promote"
    promoted, textless = _promoted(row, np.flatnonzero(fn).tolist() if promote else [], judge_scores)
    extra = dict(
        negative_flags=[FLAG if fn[i] else None for i in keep] if fn_policy == "mark" else None,
        false_negative_ids=_merge(row.get("false_negative_ids"), [*([] if promote else flagged_ids), *textless]),
        **promoted,
    )
    return make_row(
        query_id=row["query_id"], query=row["query"], positive_id=row["positive_id"], positive=row["positive"],
        positive_score=row["positive_score"], **lists, candidate_score_sd=row.get("candidate_score_sd"),
        margin_score=row.get("margin_score"), **extra,
        confidence=verdict.confidence,
        judge_positive_score=None if judge_scores is None else judge_scores.positive,
        judge_negative_scores=None if judge_scores is None else [judge_scores.negatives[i] for i in keep],
    )


def earlier_false_negatives(row: Mapping) -> set[str]:
    """The row's negatives an earlier audit (``--false-negative-policy mark``) or another tool already lists as
    false negatives: flagged in ``negative_flags`` or named in ``false_negative_ids``. A re-audit applies its
    policy to them whatever its own judges find, so their mark never silently turns them back into ordinary
    hard negatives (the exports leave out only the negatives flagged in ``negative_flags``)."""
    known = set(row.get("false_negative_ids") or ())
    flags = row.get("negative_flags") or [None] * len(row["negative_ids"])
    return {d for d, flag in zip(row["negative_ids"], flags) if flag == FLAG or d in known}


def earlier_only(
    row: Mapping, verdict: RowVerdict, query_false_negatives: Collection[str], query_positives: Collection[str] = ()
) -> int:
    """How many of the row's negatives get the false-negative policy only because an earlier audit flagged them
    (neither the row's judges nor a sibling row did, and they are no labelled positive)."""
    now = {*verdict.false_negative_ids, *query_false_negatives, *query_positives}
    return len(earlier_false_negatives(row) - now)


def labelled_positives(row: Mapping, query_positives: Collection[str]) -> int:
    """How many of the row's negatives are labelled positives of its query (removed by :func:`apply_policy`)."""
    return sum(1 for doc_id in row["negative_ids"] if doc_id in query_positives)


def sibling_false_negatives(
    row: Mapping, verdict: RowVerdict, query_false_negatives: Collection[str], query_positives: Collection[str] = ()
) -> int:
    """How many of the row's negatives get the false-negative policy only because a sibling row (same query,
    another positive) flagged them (labelled positives, removed anyway, not counted)."""
    own = {*verdict.false_negative_ids, *query_positives}
    return sum(1 for doc_id in row["negative_ids"] if doc_id in query_false_negatives and doc_id not in own)


def _merge(existing, new: list[str]) -> list[str] | None:
    merged = list(dict.fromkeys([*(existing or []), *new]))
    return merged or None


def _promoted(row: Mapping, new: list[int], judge: RowJudgeScores | None = None) -> tuple[dict, list[str]]:
    """The row's promoted documents after also promoting its negatives ``new`` (indices): ``extra_positive_ids``,
    ``extra_positives``, ``extra_positive_scores`` (earlier promotions first, each document once; None when
    empty or, for ids an older audit promoted without texts and nothing new, texts unknown), and the ids left
    without a text when new texts join them (for ``false_negative_ids``). With the row's ``judge`` scores, also
    ``judge_extra_positive_scores``: a new one's score as a negative, an earlier one's from ``judge.promoted``;
    None when an earlier one has none (its row cannot be exported with judge scores, which says so)."""
    old_ids = row.get("extra_positive_ids") or []
    old_judged = (judge.promoted if judge is not None and judge.promoted is not None
                  else [None] * len(row.get("extra_positives") or ()))
    old = zip(row.get("extra_positives") or [], row.get("extra_positive_scores") or [], old_judged)
    text_of = dict(zip(old_ids, old)) if "extra_positives" in row else {}
    for i in new:
        judged = None if judge is None else judge.negatives[i]
        text_of.setdefault(row["negative_ids"][i], (row["negatives"][i], row["negative_scores"][i], judged))
    ids = list(dict.fromkeys([*old_ids, *(row["negative_ids"][i] for i in new)]))
    if not text_of:
        return dict(extra_positive_ids=ids or None), []
    with_text = [doc_id for doc_id in ids if doc_id in text_of]
    judged = [text_of[d][2] for d in with_text]
    lists = dict(extra_positive_ids=with_text, extra_positives=[text_of[d][0] for d in with_text],
                 extra_positive_scores=[text_of[d][1] for d in with_text],
                 judge_extra_positive_scores=None if judge is None or None in judged else judged)
    return lists, [doc_id for doc_id in ids if doc_id not in text_of]


def flag_records(findings: PairFindings, fn_action: str, positive_action: str | None) -> list[dict]:
    """One record per flagged candidate and one for a noisy positive, with scores, reasons and texts. With a
    ``positive_action`` (an audit), the candidates flagged in a noisy positive's row get action ``none``: no
    policy acts on them (:func:`acted_on`)."""
    item = findings.item
    base = {"query_id": item.query_id, "positive_id": item.positive_id}
    out = []
    if findings.noisy_positive and positive_action is not None:
        fn_action = NOT_ACTED_ON
    for i in np.flatnonzero(findings.false_negative).tolist():
        out.append({
            "kind": "false_negative", **base, "doc_id": item.candidate_ids[i], "rank": int(item.ranks[i]),
            "action": fn_action, "votes": int(findings.votes[i]),
            "judges": [j.judge for j in findings.judgements if j.flags[i]],
            "scores": _scores(findings, i), "reasons": findings.reasons(i),
            "query": item.query, "positive": item.positive, "doc": item.candidates[i],
        })
    if findings.noisy_positive and positive_action is not None:
        out.append({
            "kind": "noisy_positive", **base, "doc_id": item.positive_id, "rank": None, "action": positive_action,
            "votes": len(findings.noisy_reasons), "judges": sorted({r.split(":")[0] for r in findings.noisy_reasons}),
            "scores": {"confidence": round(findings.confidence, 6),
                       **{f"positive_rank:{k}": v for k, v in findings.positive_ranks.items()}},
            "reasons": list(findings.noisy_reasons), "query": item.query, "positive": item.positive, "doc": item.positive,
        })
    return out


def _scores(findings: PairFindings, i: int) -> dict[str, float | None]:
    item = findings.item
    out: dict[str, float | None] = {"model": _r(item.scores[i]), "model:positive": _r(item.positive_score)}
    for j in findings.judgements:
        for name, values in j.evidence.items():
            out[name] = _r(values[i])
        for name, (pos, _) in j.relevance.items():
            out[f"{name}:positive"] = _r(pos)
    return out


def _r(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else round(value, 6)
