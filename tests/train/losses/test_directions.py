import pytest
import torch
import torch.nn.functional as F
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim

from negmine.train.labels import pack_label
from negmine.train.losses.directions import BatchView, extra_direction_logits, multi_direction_loss
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

