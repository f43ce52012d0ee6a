from __future__ import annotations

import numpy as np
import pytest

from negmine.audit.pair_cache import CachedCrossEncoder, cross_encoder_fingerprint, pair_keys
from negmine.audit.resources import load_cross_encoder
from negmine.encode.cache import EmbeddingCache
from negmine.testing.tiny_models import build_tiny_cross_encoder


class CountingCE:
    """Scores a pair by a fixed rule; records every pair the model is asked to score."""

    def __init__(self, die_after_calls: int | None = None, outputs: int = 1) -> None:
        self.asked: list[tuple[str, str]] = []
        self.calls, self.die_after_calls, self.outputs = 0, die_after_calls, outputs

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        if self.die_after_calls is not None and self.calls == self.die_after_calls:
            raise KeyboardInterrupt
        self.calls += 1
        self.asked.extend(pairs)
        scores = np.array([len(q) - 0.5 * len(d) for q, d in pairs], dtype=np.float32)
        return np.repeat(scores[:, None], self.outputs, axis=1) if self.outputs > 1 else scores


PAIRS = [("q1", "doc a"), ("q2", "doc bb"), ("q1", "doc a"), ("q1", "doc ccc"), ("q22", "doc a")]


def _cached(model, root, chunk=2) -> CachedCrossEncoder:
    ce = CachedCrossEncoder(model, EmbeddingCache(root), chunk=chunk)
    return ce


@pytest.fixture(autouse=True)
def _no_fingerprint(monkeypatch):
    import negmine.audit.pair_cache as pair_cache

    real = pair_cache.cross_encoder_fingerprint
    monkeypatch.setattr(pair_cache, "cross_encoder_fingerprint",
                        lambda model: "ce-test" if isinstance(model, CountingCE) else real(model))


def test_scores_follow_the_input_order_and_each_distinct_pair_is_scored_once(tmp_path):
    model = CountingCE()
    ce = _cached(model, tmp_path)
    got = ce.predict(PAIRS)
    np.testing.assert_array_equal(got, CountingCE().predict(PAIRS))
    assert got.dtype == np.float32 and sorted(model.asked) == sorted(set(PAIRS))
    assert (ce.scored, ce.cached) == (4, 0)


def test_a_second_run_reads_every_score_from_disk(tmp_path):
    first = _cached(CountingCE(), tmp_path).predict(PAIRS)
    model = CountingCE()
    again = _cached(model, tmp_path)
    np.testing.assert_array_equal(again.predict(PAIRS[::-1]), first[::-1])
    assert model.asked == [] and (again.scored, again.cached) == (0, 4)


def test_a_killed_run_keeps_its_finished_chunks_and_resumes_after_them(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _cached(CountingCE(die_after_calls=1), tmp_path, chunk=2).predict(PAIRS)  # 4 distinct pairs, 2 chunks
    model = CountingCE()
    resumed = _cached(model, tmp_path, chunk=2)
    np.testing.assert_array_equal(resumed.predict(PAIRS), CountingCE().predict(PAIRS))
    assert len(model.asked) == 2 and (resumed.scored, resumed.cached) == (2, 2)


def test_query_and_document_boundaries_are_part_of_the_key():
    keys = pair_keys([("q1", "doc"), ("q", "1doc"), ("q1", "doc")])
    assert keys.shape == (3, 16) and keys.dtype == np.uint8
    assert not np.array_equal(keys[0], keys[1]) and np.array_equal(keys[0], keys[2])


def test_a_model_with_several_outputs_is_refused_with_the_reason(tmp_path):
    with pytest.raises(ValueError, match="returned 3 scores per pair; the judge needs one"):
        _cached(CountingCE(outputs=3), tmp_path).predict(PAIRS)


def test_empty_input_and_bad_chunk(tmp_path):
    assert _cached(CountingCE(), tmp_path).predict([]).shape == (0,)
    with pytest.raises(ValueError, match="chunk must be a positive integer, got 0"):
        CachedCrossEncoder(CountingCE(), EmbeddingCache(tmp_path), chunk=0)


def test_real_cross_encoders_get_their_own_namespace(tmp_path, tiny_cross_encoder_path):
    one = load_cross_encoder(str(tiny_cross_encoder_path))
    same = load_cross_encoder(str(tiny_cross_encoder_path))
    other = load_cross_encoder(str(build_tiny_cross_encoder(tmp_path / "other", seed=1)))
    assert cross_encoder_fingerprint(one) == cross_encoder_fingerprint(same)
    assert cross_encoder_fingerprint(one) != cross_encoder_fingerprint(other)
    shorter = load_cross_encoder(str(tiny_cross_encoder_path))
    shorter.max_seq_length = 16
    assert cross_encoder_fingerprint(shorter) != cross_encoder_fingerprint(one)
    cached = CachedCrossEncoder(one, EmbeddingCache(tmp_path / "cache"))
    np.testing.assert_allclose(cached.predict(PAIRS), one.predict(PAIRS), rtol=1e-6)


def test_a_gpus_cross_encoder_scores_get_their_own_namespace(tiny_cross_encoder_path):
    """Another device's kernels round differently: a GPU's scores shared the CPU's namespace, unlike the
    bi-encoder's vectors. The CPU's namespace stays what it was (no cache is lost)."""
    model = load_cross_encoder(str(tiny_cross_encoder_path))
    cpu = cross_encoder_fingerprint(model)
    assert cross_encoder_fingerprint(model, device_type="cpu") == cpu
    assert cross_encoder_fingerprint(model, device_type="cuda") != cpu
    assert cross_encoder_fingerprint(model, device_type="mps") not in (cpu, cross_encoder_fingerprint(model, "cuda"))


def test_one_pair_per_call_leaves_a_shard_per_chunk_and_flush_writes_the_rest(tmp_path):
    ce = _cached(CountingCE(), tmp_path, chunk=3)
    pairs = [(f"q{i}", f"doc {i}") for i in range(7)]
    for pair in pairs:
        ce.predict([pair])
    assert len(list(tmp_path.rglob("*.keys.npy"))) == 2, "7 scores: shards at 3 and 6, one waits"
    assert ce.predict(pairs[-1:]) == CountingCE().predict(pairs[-1:]) and ce.cached == 1, "the waiting one is found"
    ce.flush()
    model = CountingCE()
    again = _cached(model, tmp_path, chunk=3)
    again.predict(pairs)
    assert model.asked == [] and again.cached == 7


@pytest.fixture(scope="module")
def wide_pairs(tmp_path_factory):
    """A cross-encoder of hidden size 384 (the default tiny model, 32, is too narrow to show batches' drift at all)
    and 100 pairs of 10 to ~75 tokens."""
    import random

    model = load_cross_encoder(str(build_tiny_cross_encoder(tmp_path_factory.mktemp("ce384"), hidden=384)),
                               show_progress=False)
    rng = random.Random(0)
    words = "alpha beta gamma delta protein cell gene tumour cancer mouse human study".split()
    pairs = [(" ".join(rng.choices(words, k=rng.randint(3, 12))), " ".join(rng.choices(words, k=rng.randint(5, 60))))
             for _ in range(100)]
    return model, pairs


def test_a_warm_cache_gives_the_cold_runs_scores_at_any_batch_size(tmp_path, wide_pairs):
    """Scores were padded batches' (``CrossEncoder.predict``): a cache holding every other pair, whose misses were
    then scored in other batches, gave other last bits than a cold run for 2 of these 100 pairs (hidden size 384),
    and ``--cross-encoder-batch-size 1`` was the documented way out. Now every batch size gives the scores of batch
    size 1: the cache is filled at batch size 1 (that way out; until 2026-12-06 a test of its own checked it cold
    and warm) and its misses are scored at the default batch size, a cold run at 7."""
    model, pairs = wide_pairs
    cold = CachedCrossEncoder(model, EmbeddingCache(tmp_path / "cold")).predict(pairs)
    half = CachedCrossEncoder(model, EmbeddingCache(tmp_path / "warm"))
    half.predict(pairs[::2], batch_size=1)
    half.flush()
    warm = CachedCrossEncoder(model, EmbeddingCache(tmp_path / "warm")).predict(pairs)
    assert int((cold != warm).sum()) == 0
    assert np.array_equal(cold, CachedCrossEncoder(model, EmbeddingCache(tmp_path / "b7")).predict(pairs, batch_size=7))


def test_scores_reach_the_cache_once_the_oldest_has_waited_a_minute(tmp_path):
    """A slow cross-encoder held up to ``chunk`` (4,096) scores in memory until the count was reached; they now go
    out a minute after the oldest was scored, so a killed run (no flush) resumes after them."""
    now = [0.0]
    ce = CachedCrossEncoder(CountingCE(), EmbeddingCache(tmp_path), clock=lambda: now[0])
    ce.predict(PAIRS[:2])
    now[0] = 59.9
    ce.predict(PAIRS[3:4])
    assert list(tmp_path.rglob("*.keys.npy")) == []
    now[0] = 60.0
    ce.predict(PAIRS[4:5])
    model = CountingCE()
    resumed = _cached(model, tmp_path)
    np.testing.assert_array_equal(resumed.predict(PAIRS), CountingCE().predict(PAIRS))
    assert model.asked == [] and resumed.cached == 4
