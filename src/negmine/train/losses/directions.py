"""Extra contrastive directions for InfoNCE with false-negative masking (GTE's "improved contrastive loss").

Li et al. 2023 (GTE, Eq. 3) add to the usual query -> document softmax the reverse and same-side pairs of
the batch: for row ``i`` with query ``q_i`` and positive ``p_i`` the partition function ``Z_i`` sums
``exp(scale * s)`` over

- ``query_to_doc``: ``s(q_i, d_c)`` for every candidate document (positives and hard negatives of the batch),
- ``query_to_query``: ``s(q_i, q_j)``, ``j != i`` and ``q_j`` not the text of ``q_i`` (a sibling row of the
  same query, e.g. another of its positives, is not a negative of it),
- ``doc_to_query``: ``s(q_j, p_i)`` for every query of the batch (``j = i`` included, as in sentence-transformers),
- ``doc_to_doc``: ``s(p_i, d_c)`` for the candidates that are not row ``i``'s own documents,

and the loss is ``-log(exp(scale * s(q_i, p_i)) / Z_i)`` (``joint``), or the mean over directions of each
direction's own log-partition (``per_direction``). This is what sentence-transformers'
``MultipleNegativesRankingLoss(directions=..., partition_mode=...)`` computes; negmine recomputes it here
only so the extra directions get the same false-negative masking as ``query_to_doc``
(:mod:`negmine.train.losses.masking`): a candidate that is a known positive of ``q_i`` is not a negative of
``p_i`` either (``doc_to_doc``), and a query ``q_j`` that knows ``p_i`` as one of its positives is not a
negative of ``p_i`` (``doc_to_query``), nor is a query with ``q_i``'s text.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from negmine.train.labels import PAD_KEY, split_label
from negmine.train.losses.additive_margin import POSITIVE_DIRECTIONS, lower_positives
from negmine.train.losses.masking import candidate_keys, known_positive_mask


class BatchView:
    """One (mini-)batch of rows ``rows`` against the whole batch: embeddings plus the label parts, if any."""

    def __init__(self, queries: Tensor, docs: Tensor, rows: Tensor, labels: Tensor | None, num_negatives: int,
                 use_labels: bool) -> None:
        self.queries, self.docs, self.rows = queries, docs, rows
        self.labels, self.num_negatives = labels, num_negatives
        self.batch_size = queries.size(0)
        self.parts = split_label(labels, num_negatives) if use_labels and labels is not None else None

    def own_columns(self) -> Tensor:
        """``(R, C)``: the candidate columns of each row's own documents (``k * B + r``)."""
        columns = self.docs.size(0)
        own = torch.zeros(len(self.rows), columns, dtype=torch.bool, device=self.docs.device)
        local = torch.arange(len(self.rows), device=self.docs.device)
        for k in range(columns // self.batch_size):
            own[local, k * self.batch_size + self.rows] = True
        return own


def _same_query(view: BatchView) -> Tensor:
    """``(R, B)``: query ``q_j`` has the text of row ``r``'s query (a sibling row: the query with another positive)."""
    keys = view.parts.query_keys
    return (keys[view.rows].unsqueeze(1) == keys.unsqueeze(0)) & (keys != PAD_KEY).unsqueeze(0)


def _query_to_query(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor]:
    sim = similarity(view.queries[view.rows], view.queries)
    mask = torch.zeros_like(sim, dtype=torch.bool)
    if view.parts is not None:
        mask |= _same_query(view)
    mask[torch.arange(len(view.rows), device=sim.device), view.rows] = True
    return sim, mask


def _doc_to_query(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor]:
    positives = view.docs[: view.batch_size]
    sim = similarity(view.queries, positives[view.rows]).T
    mask = torch.zeros_like(sim, dtype=torch.bool)
    if view.parts is not None:
        pos_keys = view.parts.doc_keys[:, 0]
        mask |= known_positive_mask(pos_keys[view.rows], view.parts.known).T  # (R, B): q_j knows p_r
        mask |= _same_query(view)  # q_j is q_r's text under another id
        mask[torch.arange(len(view.rows), device=sim.device), view.rows] = False
    return sim, mask


def _doc_to_doc(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor]:
    positives = view.docs[: view.batch_size]
    sim = similarity(positives[view.rows], view.docs)
    mask = view.own_columns()
    if view.parts is not None:
        mask |= known_positive_mask(candidate_keys(view.parts.doc_keys), view.parts.known[view.rows])
    return sim, mask


_EXTRA = {"query_to_query": _query_to_query, "doc_to_query": _doc_to_query, "doc_to_doc": _doc_to_doc}


def extra_direction_logits(view: BatchView, directions: tuple[str, ...], similarity: Callable,
                           scale: float, margin: float = 0.0) -> list[Tensor]:
    """Scaled logits ``(R, *)`` of each direction other than ``query_to_doc``, masked entries at -inf; ``margin``
    (logit units) lowers the positive pair's entry where a direction holds it
    (:mod:`negmine.train.losses.additive_margin`)."""
    logits = []
    for name in directions:
        if name == "query_to_doc":
            continue
        sim, mask = _EXTRA[name](view, similarity)
        block = (sim * scale).masked_fill(mask, float("-inf"))
        logits.append(lower_positives(block, view.rows, margin) if name in POSITIVE_DIRECTIONS else block)
    return logits


def multi_direction_loss(query_to_doc: Tensor, positive_columns: Tensor, extra: list[Tensor],
                         partition_mode: str) -> Tensor:
    """Per-row ``log Z - positive logit`` over ``query_to_doc`` (already scaled and masked) plus ``extra``.

    With no extra direction this is the cross-entropy of ``query_to_doc``.
    """
    positive = query_to_doc[torch.arange(len(positive_columns), device=query_to_doc.device), positive_columns]
    blocks = [query_to_doc, *extra]
    if partition_mode == "joint":
        log_z = torch.logsumexp(torch.cat(blocks, dim=1), dim=1)
    else:
        log_z = torch.stack([torch.logsumexp(block, dim=1) for block in blocks]).mean(dim=0)
    return log_z - positive
