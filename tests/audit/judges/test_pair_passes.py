from __future__ import annotations

import random

import numpy as np
import pytest

from negmine.audit.judges.pair_passes import linears_per_pair, pair_token_lengths, predict_pairs, row_by_row
from negmine.testing.tiny_models import build_tiny_cross_encoder

WORDS = "alpha beta gamma delta protein cell gene tumour cancer mouse human study".split()


def mixed_pairs(n: int, seed: int = 0, long: int = 0) -> list[tuple[str, str]]:
    """``n`` pairs of 10 to ~60 tokens, several sharing a token count, then ``long`` pairs cut at the model's max
    length (one pass of many pairs), shuffled."""
    rng = random.Random(seed)
    pairs = [(" ".join(rng.choices(WORDS, k=rng.randint(3, 12))), " ".join(rng.choices(WORDS, k=rng.randint(5, 25))))
             for _ in range(n)]
    pairs += [(" ".join(rng.choices(WORDS, k=5)), " ".join(rng.choices(WORDS, k=200))) for _ in range(long)]
    rng.shuffle(pairs)
    return pairs


@pytest.fixture(scope="module")
def wide_ce(tmp_path_factory):
    """Hidden size 384: the default tiny model (32) is too narrow to show padded batches' drift in most pairs. Max
    length 64 (the model takes 128): the long pairs, cut there, are passes of many pairs of one token count at half
    the cost; with the old code put back, more scores differ than at 128 (2026-12-06, 2-core Xeon, 100 pairs at
    batch sizes 32 / 5: padded batches 14 / 9 (at 128: 14 / 12), equal-length passes with batched linears 11 / 7
    (6 / 3))."""
    from sentence_transformers import CrossEncoder

    path = build_tiny_cross_encoder(tmp_path_factory.mktemp("ce384"), hidden=384, layers=2)
    model = CrossEncoder(str(path), device="cpu")
    model.max_seq_length = 64
    return model


def alone(model, pairs) -> np.ndarray:
    return np.stack([model.predict([p], batch_size=1, show_progress_bar=False)[0] for p in pairs])


def test_a_pairs_score_is_its_score_alone_whatever_else_is_scored_and_at_any_batch_size(wide_ce):
    """On the old code (padded batches of ``CrossEncoder.predict``) 20-30 of these 100 scores differed from the
    pair scored alone in their last bits, and differed between batch sizes 32 and 5. The 40 long pairs: passes of
    32 and 8, where a vectorised sigmoid moved some scores."""
    pairs = mixed_pairs(60, long=40)
    reference = alone(wide_ce, pairs)
    for batch_size in (32, 5):
        got = predict_pairs(wide_ce, pairs, batch_size)
        assert got.dtype == np.float32 and np.array_equal(got, reference), (batch_size, int((got != reference).sum()))
    halves = [predict_pairs(wide_ce, pairs[:45], 32), predict_pairs(wide_ce, pairs[45:], 32)]
    assert np.array_equal(np.concatenate(halves), reference)


def test_scores_come_back_in_input_order(wide_ce):
    pairs = mixed_pairs(40, seed=1)
    lengths = pair_token_lengths(wide_ce, pairs)
    assert len(set(lengths.tolist())) > 5 and np.bincount(lengths).max() > 1, "several passes, some of several pairs"
    got = predict_pairs(wide_ce, pairs, 4)
    order = np.random.default_rng(0).permutation(len(pairs))
    assert np.array_equal(predict_pairs(wide_ce, [pairs[i] for i in order], 4), got[order])
    assert np.array_equal(got, alone(wide_ce, pairs))


def test_token_lengths_are_the_models_own_truncated_at_its_max_length(wide_ce):
    short, long = ("gene", "cell"), ("gene", " ".join(["cell"] * 500))
    assert pair_token_lengths(wide_ce, [short, long]).tolist() == [5, wide_ce.max_seq_length]


def test_the_models_activation_and_several_labels_are_kept(tmp_path):
    """``predict``'s own activation (sigmoid by default, identity when set) and a 2-label model's (n, 2) scores."""
    import torch
    from sentence_transformers import CrossEncoder
    from transformers import BertForSequenceClassification

    from negmine.testing.tiny_models import _save_bert

    pairs = mixed_pairs(12, seed=2)
    one = CrossEncoder(str(build_tiny_cross_encoder(tmp_path / "one", hidden=64)), device="cpu")
    sigmoid = predict_pairs(one, pairs, 8)
    assert np.array_equal(sigmoid, alone(one, pairs)) and ((sigmoid > 0) & (sigmoid < 1)).all()
    one.activation_fn = torch.nn.Identity()
    logits = predict_pairs(one, pairs, 8)
    assert np.array_equal(logits, alone(one, pairs))
    np.testing.assert_allclose(1 / (1 + np.exp(-logits.astype(np.float64))), sigmoid, rtol=1e-6)
    two = CrossEncoder(str(_save_bert(tmp_path / "two", BertForSequenceClassification, 0, 64, 2, num_labels=2)),
                       device="cpu")
    got = predict_pairs(two, pairs, 8)
    assert got.shape == (12, 2) and np.array_equal(got, alone(two, pairs))


def test_the_activation_runs_on_one_pairs_logits_at_a_time():
    """torch's vectorised sigmoid gave 54 of these 1,000 logits other last bits than each logit alone (2-core Intel
    Xeon, torch 2.13); a pass's scores must be the pairs' scores alone."""
    import torch

    torch.manual_seed(0)
    logits = torch.randn(1000, 1) * 0.5
    alone = torch.cat([torch.sigmoid(logits[i : i + 1]) for i in range(len(logits))])
    assert torch.equal(row_by_row(torch.sigmoid)(logits), alone)
    assert row_by_row(None) is None


def test_the_models_linear_layers_are_put_back_also_after_an_error(wide_ce):
    import torch

    linears = [m for m in wide_ce.modules() if isinstance(m, torch.nn.Linear)]
    with pytest.raises(RuntimeError, match="stop"):
        with linears_per_pair(wide_ce, 3):
            assert all("forward" in m.__dict__ for m in linears)
            raise RuntimeError("stop")
    assert linears and not any("forward" in m.__dict__ for m in linears)


def test_an_object_that_is_no_cross_encoder_is_asked_through_its_own_predict():
    class Fake:
        def predict(self, pairs, batch_size=32, show_progress_bar=False):
            self.asked = (list(pairs), batch_size)
            return np.arange(len(pairs), dtype=np.float32)

    fake = Fake()
    assert predict_pairs(fake, [("q", "a"), ("q", "b")], 7).tolist() == [0.0, 1.0]
    assert fake.asked == ([("q", "a"), ("q", "b")], 7)
    assert predict_pairs(fake, [], 7).shape == (0,)
