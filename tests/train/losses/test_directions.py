import math

import pytest
import torch
import torch.nn.functional as F
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim

from negmine.testing.loss_batches import circle_embeddings
from negmine.train.labels import pack_label
from negmine.train.losses.directions import BatchView, extra_direction_logits, multi_direction_loss
from negmine.train.losses.hardness import hardness_penalty
from negmine.train.losses.masking import false_negative_mask, masked_logits
from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

GTE = ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")


def _embeddings(seed: int = 0, batch: int = 4, negatives: int = 2, dim: int = 8) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [F.normalize(torch.randn(batch, dim, generator=gen), dim=-1) for _ in range(2 + negatives)]


def _labels(batch: int = 4, negatives: int = 2, known_extra: dict[int, int] | None = None) -> torch.Tensor:
    """Positive of row r has key 100 + r, negative k of row r 1000 * (k + 1) + r; ``known_extra`` adds a known key."""
    known_extra = known_extra or {}
    rows = []
    for r in range(batch):
        known = [100 + r] + ([known_extra[r]] if r in known_extra else [])
        rows.append(pack_label(r, 100 + r, [1000 * (k + 1) + r for k in range(negatives)], [0] * negatives, known, 2))
    return torch.tensor(rows)


@pytest.mark.parametrize("directions, partition", [
    (("query_to_doc", "doc_to_query"), "joint"), (("query_to_doc", "doc_to_query"), "per_direction"),
    (GTE, "joint"), (("query_to_doc", "doc_to_doc"), "joint"),
])
@pytest.mark.parametrize("hardness", ["none", "hard-negatives"])
def test_with_nothing_to_mask_equals_sentence_transformers_directions(directions, partition, hardness):
    emb = _embeddings()
    strength = 5.0 if hardness != "none" else 0.0
    reference = MultipleNegativesRankingLoss(
        None, directions=directions, partition_mode=partition,
        hardness_mode=None if hardness == "none" else "hard_negatives", hardness_strength=strength,
    ).compute_loss_from_embeddings(emb, None)
    masked = MaskedMultipleNegativesRankingLoss(None, directions=directions, partition_mode=partition,
                                                hardness=hardness, hardness_strength=strength)
    assert masked.compute_loss_from_embeddings(emb, _labels()).item() == pytest.approx(reference.item(), rel=1e-5)
    assert masked.mask_stats.masked == 0


def test_extra_directions_change_the_loss():
    emb = _embeddings()
    plain = MaskedMultipleNegativesRankingLoss(None).compute_loss_from_embeddings(emb, _labels())
    gte = MaskedMultipleNegativesRankingLoss(None, directions=GTE).compute_loss_from_embeddings(emb, _labels())
    assert gte.item() > plain.item()  # more terms in the partition function


def _logits(directions, labels, seed: int = 0):
    emb = _embeddings(seed)
    view = BatchView(emb[0], torch.cat(emb[1:]), torch.arange(4), labels, 2, use_labels=True)
    return extra_direction_logits(view, directions, cos_sim, 20.0)


def test_doc_to_query_masks_queries_that_know_the_positive():
    # query 0 also knows row 2's positive (key 102): q_0 is not a negative of p_2
    (logits,) = _logits(("query_to_doc", "doc_to_query"), _labels(known_extra={0: 102}))
    masked = torch.isinf(logits).nonzero().tolist()
    assert masked == [[2, 0]]
    assert torch.isfinite(logits.diagonal()).all()  # the pair itself stays (q_i, p_i)


def test_doc_to_doc_masks_own_documents_and_known_positives():
    (logits,) = _logits(("query_to_doc", "doc_to_doc"), _labels(known_extra={0: 102}))
    masked = {tuple(x) for x in torch.isinf(logits).nonzero().tolist()}
    own = {(r, k * 4 + r) for r in range(4) for k in range(3)}
    assert masked == own | {(0, 2)}  # row 0: row 2's positive is a known positive of q_0


def test_query_to_query_masks_only_the_query_itself():
    (logits,) = _logits(("query_to_doc", "query_to_query"), _labels())
    assert torch.isinf(logits).nonzero().tolist() == [[r, r] for r in range(4)]


def test_query_to_query_masks_queries_that_share_a_known_positive_both_ways():
    """q_0 also knows row 2's positive (key 102): both are pulled towards p_2 in query -> document, so neither is a
    negative of the other. Before, only the diagonal was masked: q_2 was pushed from q_0 and q_0 from q_2."""
    (logits,) = _logits(("query_to_doc", "query_to_query"), _labels(known_extra={0: 102}))
    masked = {tuple(x) for x in torch.isinf(logits).nonzero().tolist()}
    assert masked == {(r, r) for r in range(4)} | {(0, 2), (2, 0)}


def test_query_to_query_does_not_mask_a_query_that_knows_another_rows_negative():
    """Only positives are shared: q_0 knowing row 2's hard negative (key 1002) masks no query."""
    (logits,) = _logits(("query_to_doc", "query_to_query"), _labels(known_extra={0: 1002}))
    assert torch.isinf(logits).nonzero().tolist() == [[r, r] for r in range(4)]


def test_query_to_query_masks_two_query_texts_with_one_positive():
    """SciFact-like: a supporting and a contradicting claim cite the same abstract (two query texts, one positive
    text); row 2's query cites another. Built through the dataset's labels."""
    from negmine.train.dataset import rows_to_train_data

    rows = [_native("q0", "drug x lowers blood pressure", "a"),
            _native("q1", "drug x does not lower blood pressure", "a"),
            _native("q2", "gene y causes cancer", "c"), _native("q3", "cell gene", "d")]
    labels = torch.tensor(rows_to_train_data(rows, 2).dataset["label"])
    emb = _embeddings()
    view = BatchView(emb[0], torch.cat(emb[1:]), torch.arange(4), labels, 2, use_labels=True)
    (logits,) = extra_direction_logits(view, ("query_to_doc", "query_to_query"), cos_sim, 20.0)
    masked = {tuple(x) for x in torch.isinf(logits).nonzero().tolist()}
    assert masked == {(r, r) for r in range(4)} | {(0, 1), (1, 0)}


def test_query_to_query_shared_positive_masks_are_counted():
    """query -> document masks p_2 in row 0 (1 of 48 candidates); query_to_query q_2 in row 0 and q_0 in row 2 (2 of
    12: the row's own query is no candidate)."""
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="none", directions=("query_to_doc", "query_to_query"))
    loss.compute_loss_from_embeddings(_embeddings(), _labels(known_extra={0: 102}))
    assert (loss.mask_stats.masked, loss.mask_stats.candidates, loss.mask_stats.rows) == (3, 60, 4)


@pytest.mark.parametrize("directions", [("query_to_doc", "query_to_query"), GTE])
def test_query_to_query_without_fn_mask_masks_nothing(directions):
    """fn_mask off: the shared positive masks nothing, the loss is sentence-transformers'."""
    emb, labels = _embeddings(), _labels(known_extra={0: 102})
    reference = MultipleNegativesRankingLoss(None, directions=directions).compute_loss_from_embeddings(emb, None)
    loss = MaskedMultipleNegativesRankingLoss(None, fn_mask=False, hardness="none", directions=directions)
    assert loss.compute_loss_from_embeddings(emb, labels).item() == pytest.approx(reference.item(), rel=1e-5)
    assert loss.mask_stats.masked == 0


def test_without_labels_only_structural_entries_are_masked():
    emb = _embeddings()
    view = BatchView(emb[0], torch.cat(emb[1:]), torch.arange(4), None, 2, use_labels=True)
    to_query, to_doc = extra_direction_logits(view, ("query_to_doc", "doc_to_query", "doc_to_doc"), cos_sim, 20.0)
    assert not torch.isinf(to_query).any() and int(torch.isinf(to_doc).sum()) == 12


def test_multi_direction_loss_without_extra_is_cross_entropy():
    scores = torch.randn(3, 9)
    rows = torch.arange(3)
    for mode in ("joint", "per_direction"):
        expected = F.cross_entropy(scores, rows, reduction="none")
        assert torch.allclose(multi_direction_loss(scores, rows, [], mode), expected, atol=1e-6)


def test_masked_entries_get_no_gradient():
    emb = [e.clone().requires_grad_(True) for e in _embeddings()]
    loss = MaskedMultipleNegativesRankingLoss(None, directions=("query_to_doc", "doc_to_query"))
    loss.compute_loss_from_embeddings(emb, _labels(known_extra={0: 102})).backward()
    assert all(torch.isfinite(e.grad).all() for e in emb)



def _native(query_id: str, query: str, positive_id: str) -> dict:
    return {"query_id": query_id, "query": query, "positive_id": positive_id, "positive": f"doc {positive_id}",
            "positive_score": 0.9, "negative_ids": [f"n-{positive_id}-{k}" for k in range(2)],
            "negatives": [f"negative {positive_id} {k}" for k in range(2)], "negative_scores": [0.5, 0.4],
            "negative_ranks": [1, 2]}


def _sibling_batch() -> tuple[list[torch.Tensor], torch.Tensor]:
    """Rows 0 and 1: one query with two positives (sibling rows; topic batching puts them in one batch);
    row 2: the same query text under another id; row 3: another query. Embeddings and dataset labels."""
    from negmine.train.dataset import rows_to_train_data

    rows = [_native("q0", "heart disease risk", "a"), _native("q0", "heart disease risk", "b"),
            _native("q9", "heart disease risk", "c"), _native("q1", "cell gene", "d")]
    labels = torch.tensor(rows_to_train_data(rows, 2).dataset["label"])
    emb = _embeddings(batch=4)
    emb[0][1] = emb[0][2] = emb[0][0]  # identical texts, identical embeddings
    return emb, labels


def _sibling_logits(directions) -> torch.Tensor:
    emb, labels = _sibling_batch()
    view = BatchView(emb[0], torch.cat(emb[1:]), torch.arange(4), labels, 2, use_labels=True)
    (logits,) = extra_direction_logits(view, directions, cos_sim, 20.0)
    return logits


def test_query_to_query_masks_sibling_rows_and_the_same_query_text():
    """Before, only the diagonal was masked: a multi-positive query's other row (cosine 1 to itself) was the
    hardest 'negative' of its sibling in the query -> query direction."""
    logits = _sibling_logits(("query_to_doc", "query_to_query"))
    masked = {tuple(x) for x in torch.isinf(logits).nonzero().tolist()}
    assert masked == {(i, j) for i in range(3) for j in range(3)} | {(3, 3)}


def test_doc_to_query_masks_a_query_with_the_rows_query_text():
    logits = _sibling_logits(("query_to_doc", "doc_to_query"))
    masked = {tuple(x) for x in torch.isinf(logits).nonzero().tolist()}
    # rows 0 and 1 know each other's positive (one query); q9 has their text; each pair itself is kept
    assert masked == {(i, j) for i in range(3) for j in range(3) if i != j}



MARGIN_ANGLES = {"q": (0.0, 0.5), "p": (0.9, 0.35), "n": (-1.5, 2.6)}
"""Two rows on the unit circle, one hard negative each (radians). Row 0's positive scores cos 0.9 = 0.622, row 1's
0.989, so with fn_margin 0.1 the thresholds are 0.722 and 1.089. Query -> document masks p_1 in row 0 (q_0 scores it
0.939). In doc_to_query, p_0's softmax masks q_1 (0.921: above row 0's 0.722) and p_1's masks q_0 (0.939: under row
1's 1.089, but above q_0's own 0.722, the pair query -> document masks in row 0); doc_to_doc masks p_1 in row 0 (the
document query -> document masks there), not p_0 in row 1 (0.853 to p_1, but q_1 scores it 0.921, under 1.089);
query_to_query masks nothing (q_1 is 0.878 to q_0)."""


def _cos(side_a: str, a: int, side_b: str, b: int) -> float:
    return math.cos(MARGIN_ANGLES[side_a][a] - MARGIN_ANGLES[side_b][b])


def _lse(values: list[float]) -> float:
    return math.log(sum(math.exp(v) for v in values))


def _margin_blocks() -> dict[str, list[list[float]]]:
    """Each row's logits (scale 20) per direction with the entries fn_margin 0.1 masks left out, written out."""
    s = lambda *pair: 20 * _cos(*pair)  # noqa: E731
    return {
        "pos": [[s("q", 0, "p", 0)], [s("q", 1, "p", 1)]],
        "query_to_doc": [[s("q", 0, "n", 0), s("q", 0, "n", 1)],  # row 0: p_1 masked
                         [s("q", 1, "p", 0), s("q", 1, "n", 0), s("q", 1, "n", 1)]],
        "doc_to_query": [[s("q", 0, "p", 0)], [s("q", 1, "p", 1)]],  # q_1 masked for p_0, q_0 for p_1
        "query_to_query": [[s("q", 0, "q", 1)], [s("q", 1, "q", 0)]],
        "doc_to_doc": [[s("p", 0, "n", 1)], [s("p", 1, "p", 0), s("p", 1, "n", 0)]],  # row 0: p_1 masked
    }


@pytest.mark.parametrize("directions, partition", [
    (("query_to_doc", "doc_to_query"), "joint"), (("query_to_doc", "doc_to_query"), "per_direction"), (GTE, "joint"),
])
def test_fn_margin_masks_the_extra_directions_by_hand(directions, partition):
    """--fn-margin masked only query -> document: q_1, which scores p_0 0.3 above p_0's own query, stayed a negative
    of p_0 in doc_to_query, q_0 stayed one of p_1 although its own row masks p_1, and p_0 was pushed from p_1 in
    doc_to_doc, a document its query's row masks as a presumed positive."""
    blocks = _margin_blocks()
    rows = []
    for r in range(2):
        q2d = blocks["pos"][r] + blocks["query_to_doc"][r]
        extra = [blocks[name][r] for name in directions[1:]]
        if partition == "joint":
            rows.append(_lse(q2d + [v for block in extra for v in block]) - blocks["pos"][r][0])
        else:
            rows.append((_lse(q2d) + sum(_lse(block) for block in extra)) / (1 + len(extra)) - blocks["pos"][r][0])
    loss = MaskedMultipleNegativesRankingLoss(None, fn_margin=0.1, hardness="none", directions=directions,
                                              partition_mode=partition)
    got = loss.compute_loss_from_embeddings(circle_embeddings(MARGIN_ANGLES), _labels(2, 1))
    assert got.item() == pytest.approx(sum(rows) / 2, rel=1e-5)
    # counted: query -> document 8 candidates (2 positives), doc_to_query 4 (2), query_to_query 2, doc_to_doc 4
    sizes = {"doc_to_query": (2, 4, 2), "query_to_query": (0, 2, 0), "doc_to_doc": (1, 4, 0)}
    expected = [sum(part) for part in zip((1, 8, 2), *(sizes[name] for name in directions[1:]))]
    assert [loss.mask_stats.masked, loss.mask_stats.candidates, loss.mask_stats.rows] == expected


def test_without_fn_margin_the_same_batch_masks_nothing_and_counts_every_directions_candidates():
    """The masks of the test above come from the margin: the labels alone mask no entry of that batch. Before, only
    query -> document's 8 candidates were counted."""
    loss = MaskedMultipleNegativesRankingLoss(None, hardness="none", directions=GTE)
    loss.compute_loss_from_embeddings(circle_embeddings(MARGIN_ANGLES), _labels(2, 1))
    assert (loss.mask_stats.masked, loss.mask_stats.candidates, loss.mask_stats.rows) == (0, 18, 4)


def test_fn_margin_never_masks_the_positive_pair_in_doc_to_query():
    """A margin below every gap masks every other query of doc_to_query; the pair (q_r, p_r) stays."""
    loss = MaskedMultipleNegativesRankingLoss(None, fn_margin=-5.0, directions=("query_to_doc", "doc_to_query"))
    loss.compute_loss_from_embeddings(_embeddings(seed=3), _labels())
    assert (loss.mask_stats.masked, loss.mask_stats.candidates, loss.mask_stats.rows) == (4 * 11 + 4 * 3, 48 + 16, 8)


@pytest.mark.parametrize("hardness", ["none", "all"])
@pytest.mark.parametrize("margin", [None, 0.1, -0.2])
def test_without_extra_directions_the_loss_is_the_query_to_document_one_bit_for_bit(hardness, margin):
    """With query -> document alone the loss is the masked cross-entropy of today's code path (mask, hardness weights,
    masked logits): equal values and gradients, not close ones, and the same counts."""
    emb = [e.clone().requires_grad_(True) for e in _embeddings(seed=5)]
    labels = _labels(known_extra={0: 102})
    loss_fn = MaskedMultipleNegativesRankingLoss(None, fn_margin=margin, hardness=hardness, hardness_strength=5.0)
    loss = loss_fn.compute_loss_from_embeddings(emb, labels)
    grads = torch.autograd.grad(loss, emb)
    rows = torch.arange(4)
    sim = cos_sim(emb[0], torch.cat(emb[1:]))
    mask = false_negative_mask(sim, labels, rows, 2, margin)
    logits = masked_logits(sim, mask, 20.0, hardness_penalty(sim, rows, 4, hardness, 5.0))
    expected = multi_direction_loss(logits, rows, [], "joint").mean()
    assert torch.equal(loss, expected)
    assert all(torch.equal(a, b) for a, b in zip(grads, torch.autograd.grad(expected, emb)))
    assert (loss_fn.mask_stats.masked, loss_fn.mask_stats.candidates) == (int(mask.sum()), 48)
