"""Extra contrastive directions for InfoNCE with false-negative masking (GTE's "improved contrastive loss").

Li et al. 2023 (GTE, Eq. 3) add to the usual query -> document softmax the reverse and same-side pairs of
the batch: for row ``i`` with query ``q_i`` and positive ``p_i`` the partition function ``Z_i`` sums
``exp(scale * s)`` over

- ``query_to_doc``: ``s(q_i, d_c)`` for every candidate document (positives and hard negatives of the batch),
- ``query_to_query``: ``s(q_i, q_j)``, ``j != i``, ``q_j`` not the text of ``q_i`` (a sibling row of the same
  query, e.g. another of its positives, is not a negative of it) and sharing no known positive with ``q_i``:
  neither ``q_j``'s known positives hold ``p_i``'s text nor ``q_i``'s ``p_j``'s (both are pulled towards that
  document in ``query_to_doc``, e.g. SciFact's supporting and contradicting claims citing one abstract),
- ``doc_to_query``: ``s(q_j, p_i)`` for every query of the batch (``j = i`` included, as in sentence-transformers),
- ``doc_to_doc``: ``s(p_i, d_c)`` for the candidates that are not row ``i``'s own documents,

and the loss is ``-log(exp(scale * s(q_i, p_i)) / Z_i)`` (``joint``), or the mean over directions of each
direction's own log-partition (``per_direction``). This is what sentence-transformers'
``MultipleNegativesRankingLoss(directions=..., partition_mode=...)`` computes; negmine recomputes it here
only so the extra directions get the same false-negative masking as ``query_to_doc``
(:mod:`negmine.train.losses.masking`): a candidate that is a known positive of ``q_i`` is not a negative of
``p_i`` either (``doc_to_doc``), and a query ``q_j`` that knows ``p_i`` as one of its positives is not a
negative of ``p_i`` (``doc_to_query``), nor is a query with ``q_i``'s text; nor, in ``query_to_query``, is a
query that knows ``p_i`` a negative of ``q_i``, or one whose positive ``q_i`` knows (SciFact train, qrels only,
100 random batches of 32 rows: 1.80 such ordered pairs ``(i, j)`` a batch, 0.18% of the direction's candidates;
0.46 when no two rows of a batch share a query or positive text, as no-duplicates batching builds them).

With a score margin ``M`` (``fn_margin``; :class:`MarginMasks`), query -> document masks each candidate ``d_c``
with ``s(q_i, d_c) > s(q_i, p_i) + M``: an unlabelled positive of ``q_i`` by the model's scores. The extra
directions mask by the same rule, read as the labels are read:

- ``doc_to_query``: the pair ``(q_j, p_i)`` when it scores ``M`` above either labelled pair it is compared with:
  ``q_i``'s, in this softmax (``s(q_j, p_i) > s(q_i, p_i) + M``, the query -> document rule within ``p_i``'s
  softmax over the queries), or ``q_j``'s (``s(q_j, p_i) > s(q_j, p_j) + M``: the margin takes ``p_i`` for an
  unlabelled positive of ``q_j`` and masks it in ``q_j``'s query -> document row, as a query that knows ``p_i``);
  the pair ``(q_i, p_i)`` itself never;
- ``doc_to_doc``: the documents the margin masks in ``q_i``'s query -> document row (taken for unlabelled positives
  of ``q_i``, they are no negatives of ``p_i``, as known positives are not); not by comparing ``s(p_i, d_c)``
  with ``s(q_i, p_i)``: a document-document cosine is no relevance score to ``q_i`` and sits on another scale
  (all-MiniLM-L6-v2 on SciFact, ``M = 0.1``: that comparison masked 0.27% of the candidates, 7x query ->
  document's share, at a median cosine of 0.45 to ``p_i`` in rows whose positive scored 0.28, and ``q_i`` itself
  scored 1 of those 87 documents above ``s(q_i, p_i) + M``);
- ``query_to_query``: nothing; its labels mask a query with ``q_i``'s text or sharing a known positive with it,
  and a query-query cosine says nothing about that against ``s(q_i, p_i)`` (the same comparison masked 12 queries
  there, at a median cosine of 0.69 to ``q_i``: claims on the same topic, other queries all the same, the kind this
  direction is there to push apart; a claim and its negation citing one abstract, e.g. SciFact's 1372/1373 "...
  (did not) improve lung function", are masked by the labels instead, as they share a positive).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

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


def _shared_positive(view: BatchView) -> Tensor:
    """``(R, B)``: query ``q_j`` knows row ``r``'s positive, or ``q_r`` knows ``q_j``'s (a text key in the other's
    known positives): both are pulled towards that document in query -> document."""
    pos_keys = view.parts.doc_keys[:, 0]
    j_knows_r = known_positive_mask(pos_keys[view.rows], view.parts.known).T
    r_knows_j = known_positive_mask(pos_keys, view.parts.known[view.rows])
    return j_knows_r | r_knows_j


def _query_to_query(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor, Tensor]:
    sim = similarity(view.queries[view.rows], view.queries)
    excluded = torch.zeros_like(sim, dtype=torch.bool)
    excluded[torch.arange(len(view.rows), device=sim.device), view.rows] = True
    masked = torch.zeros_like(excluded)
    if view.parts is not None:
        masked |= _same_query(view) | _shared_positive(view)
    return sim, excluded, masked


def _doc_to_query(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor, Tensor]:
    positives = view.docs[: view.batch_size]
    sim = similarity(view.queries, positives[view.rows]).T
    masked = torch.zeros_like(sim, dtype=torch.bool)
    if view.parts is not None:
        pos_keys = view.parts.doc_keys[:, 0]
        masked |= known_positive_mask(pos_keys[view.rows], view.parts.known).T  # (R, B): q_j knows p_r
        masked |= _same_query(view)  # q_j is q_r's text under another id
    return sim, torch.zeros_like(masked), masked


def _doc_to_doc(view: BatchView, similarity: Callable) -> tuple[Tensor, Tensor, Tensor]:
    positives = view.docs[: view.batch_size]
    sim = similarity(positives[view.rows], view.docs)
    masked = torch.zeros_like(sim, dtype=torch.bool)
    if view.parts is not None:
        masked |= known_positive_mask(candidate_keys(view.parts.doc_keys), view.parts.known[view.rows])
    return sim, view.own_columns(), masked


_EXTRA = {"query_to_query": _query_to_query, "doc_to_query": _doc_to_query, "doc_to_doc": _doc_to_doc}


class MarginMasks(NamedTuple):
    """What ``fn_margin`` masked in query -> document for the view's rows, which the extra directions read."""

    margin: float
    threshold: Tensor  # (R, 1): s(q_r, p_r) + margin (negmine.train.losses.masking.margin_threshold)
    query_to_doc: Tensor  # (R, C): s(q_r, d_c) above it


def _doc_to_query_margin(view: BatchView, sim: Tensor, fn_margin: MarginMasks, similarity: Callable) -> Tensor:
    """``(R, B)``: ``s(q_j, p_r)`` above ``s(q_r, p_r) + M`` or above ``s(q_j, p_j) + M`` (see the module)."""
    with torch.no_grad():
        own = similarity(view.queries, view.docs[: view.batch_size]).diagonal()  # s(q_j, p_j), every query
    return sim.detach() > torch.minimum(fn_margin.threshold, own.unsqueeze(0) + fn_margin.margin)


def _doc_to_doc_margin(view: BatchView, sim: Tensor, fn_margin: MarginMasks, similarity: Callable) -> Tensor:
    return fn_margin.query_to_doc  # the same columns: every candidate document


_BY_MARGIN = {"doc_to_query": _doc_to_query_margin, "doc_to_doc": _doc_to_doc_margin}
"""The extra directions ``fn_margin`` masks in (``query_to_query``: none, see the module)."""


def direction_block(view: BatchView, name: str, similarity: Callable,
                    fn_margin: MarginMasks | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Direction ``name``'s ``(R, *)`` similarities, the entries that are no candidate of it (the row's own query
    in ``query_to_query``, its own documents in ``doc_to_doc``) and the false negatives masked among the others:
    known (with labels) and, with ``fn_margin``, those its score rule masks (see the module). The positive pair
    ``(q_r, p_r)`` of ``doc_to_query`` is never masked."""
    sim, excluded, masked = _EXTRA[name](view, similarity)
    if fn_margin is not None and name in _BY_MARGIN:
        masked = masked | _BY_MARGIN[name](view, sim, fn_margin, similarity)
    if name in POSITIVE_DIRECTIONS:
        masked[torch.arange(len(view.rows), device=sim.device), view.rows] = False
    return sim, excluded, masked & ~excluded


def extra_direction_logits(view: BatchView, directions: tuple[str, ...], similarity: Callable,
                           scale: float, margin: float = 0.0, fn_margin: MarginMasks | None = None,
                           stats=None) -> list[Tensor]:
    """Scaled logits ``(R, *)`` of each direction other than ``query_to_doc``, masked entries at -inf; ``margin``
    (logit units) lowers the positive pair's entry where a direction holds it
    (:mod:`negmine.train.losses.additive_margin`); ``fn_margin`` masks by score (:func:`direction_block`).
    ``stats`` (a :class:`~negmine.train.losses.mnrl.MaskStats`, when the view masks with labels) counts each
    direction's candidates and masked false negatives, as the query -> document mask is counted."""
    logits = []
    for name in directions:
        if name == "query_to_doc":
            continue
        sim, excluded, masked = direction_block(view, name, similarity, fn_margin)
        if stats is not None:
            stats.add(masked, excluded=excluded, positives=len(view.rows) if name in POSITIVE_DIRECTIONS else 0)
        block = (sim * scale).masked_fill(excluded | masked, float("-inf"))
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
