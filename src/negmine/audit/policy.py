"""Apply the per-finding policies to a native row and describe each finding as a flags-file record.

False negatives: ``drop`` (removed; ids kept in ``false_negative_ids`` so training can still mask them
in-batch), ``promote`` (removed from the negatives and added to ``extra_positive_ids``) or ``mark`` (kept;
``negative_flags[i] = "false_negative"``, ids in ``false_negative_ids``). Noisy positives: ``drop`` (no
row) or ``mark`` (row kept). Every kept row gets its ``confidence``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from negmine.audit.findings import PairFindings
from negmine.export.native import FALSE_NEGATIVE_FLAG as FLAG, make_row


def apply_policy(row: Mapping, findings: PairFindings, fn_policy: str, positive_policy: str) -> dict | None:
    """The cleaned row, or None when a noisy positive's row is dropped."""
    if findings.noisy_positive and positive_policy == "drop":
        return None
    n = len(row["negative_ids"])
    fn = np.zeros(n, dtype=bool)
    fn[: len(findings.false_negative)] = findings.false_negative
    flagged_ids = [row["negative_ids"][i] for i in np.flatnonzero(fn)]
    keep = np.flatnonzero(~fn) if fn_policy in ("drop", "promote") else np.arange(n)
    lists = {k: [row[k][i] for i in keep] for k in ("negative_ids", "negatives", "negative_scores", "negative_ranks")}
    extra = dict(
        negative_flags=[FLAG if fn[i] else None for i in keep] if fn_policy == "mark" else None,
        false_negative_ids=_merge(row.get("false_negative_ids"), flagged_ids if fn_policy != "promote" else []),
        extra_positive_ids=_merge(row.get("extra_positive_ids"), flagged_ids if fn_policy == "promote" else []),
    )
    return make_row(
        query_id=row["query_id"], query=row["query"], positive_id=row["positive_id"], positive=row["positive"],
        positive_score=row["positive_score"], **lists, candidate_score_sd=row.get("candidate_score_sd"), **extra,
        confidence=findings.confidence,
    )


def _merge(existing, new: list[str]) -> list[str] | None:
    merged = list(dict.fromkeys([*(existing or []), *new]))
    return merged or None


def flag_records(findings: PairFindings, fn_action: str, positive_action: str | None) -> list[dict]:
    """One record per flagged candidate and one for a noisy positive, with scores, reasons and texts."""
    item = findings.item
    base = {"query_id": item.query_id, "positive_id": item.positive_id}
    out = []
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
