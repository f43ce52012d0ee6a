from __future__ import annotations

import numpy as np

from negmine.audit.minhash import signatures
from negmine.audit.near_dup import SignatureMemo, max_cosine, near_dup_reason, near_duplicates
from negmine.config import NearDupConfig

from .conftest import NEAR_COPY, POSITIVE


def test_cosine_test_uses_the_best_positive():
    cands = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    positives = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert np.allclose(max_cosine(cands, positives), [1.0, 1.0, 0.8])
    ev = near_duplicates(NearDupConfig(cosine=0.9, overlap=None), 3, vectors=(cands, positives))
    assert ev.flags.tolist() == [True, True, False]
    assert np.isnan(ev.overlap).all()


def test_overlap_test_flags_reordered_copy_but_not_unrelated_text():
    config = NearDupConfig(cosine=None, overlap=0.5)
    cands = signatures([NEAR_COPY, "Lithium battery cathode voltage and charge cycles."])
    pos = signatures([POSITIVE])
    ev = near_duplicates(config, 2, sigs=(cands, pos))
    assert ev.flags.tolist() == [True, False]
    assert "shingle overlap" in near_dup_reason(config, ev.cosine[0], ev.overlap[0])
    assert near_dup_reason(config, ev.cosine[1], ev.overlap[1]) == ""


def test_switched_off_tests_flag_nothing():
    cands = np.ones((2, 2), dtype=np.float32) / np.sqrt(2)
    ev = near_duplicates(NearDupConfig(cosine=None, overlap=None), 2, vectors=(cands, cands))
    assert not ev.flags.any()


def test_signature_memo_computes_each_key_once():
    memo = SignatureMemo(NearDupConfig())
    calls = []

    def text_of(key):
        calls.append(key)
        return f"text number {key} with some words"

    first = memo.lookup([3, 1, 3], text_of)
    second = memo.lookup([1], text_of)
    assert calls == [3, 1]
    assert np.array_equal(first.values[1], second.values[0])
    assert np.array_equal(first.values[0], first.values[2])


def test_short_texts_differing_in_a_word_are_not_copies():
    config = NearDupConfig(cosine=None, overlap=0.5, min_shared=5)
    cands = signatures(["iphone 12 case in red", "iphone 12 case in blue with a strap and a stand"])
    pos = signatures(["iphone 12 case in blue with a strap and a stand for the desk"])
    ev = near_duplicates(config, 2, sigs=(cands, pos))
    assert ev.flags.tolist() == [False, True]
    loose = near_duplicates(NearDupConfig(cosine=None, overlap=0.5, min_shared=0), 2, sigs=(cands, pos))
    assert loose.flags.tolist() == [True, True]


def test_prefetch_fills_the_memo_in_processes_with_the_values_lookups_compute(monkeypatch):
    import negmine.audit.near_dup as near_dup

    def text_of(key):
        return f"text number {key} with some words about topic {key % 5}" if key % 11 else "short"

    keys = list(range(40))
    assert SignatureMemo(NearDupConfig()).prefetch(keys, text_of, workers=2) == 0, "few texts: left to lookups"
    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 10)
    monkeypatch.setattr(near_dup, "PARALLEL_CHUNK", 7)
    memo = SignatureMemo(NearDupConfig())
    assert memo.prefetch(keys + [3], text_of, workers=2) == 40
    assert memo.prefetch(keys, text_of, workers=2) == 0, "memoised: nothing left to compute"
    assert SignatureMemo(NearDupConfig()).prefetch(keys, text_of, workers=1) == 0, "one worker: lookups do it"

    def fail(key):
        raise AssertionError(f"{key} computed again")

    got = memo.lookup(keys, fail)
    want = SignatureMemo(NearDupConfig()).lookup(keys, text_of)
    assert np.array_equal(got.values, want.values) and np.array_equal(got.sizes, want.sizes)
    assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(got.exact, want.exact))


def test_mean_vector_sums_in_float64_without_a_float64_copy_of_a_block(monkeypatch) -> None:
    """The mean is accumulated in float64 (same bits as summing a float64 copy), but no (block, dim) float64 copy
    is made: at 65,536 rows x 384 dimensions that copy was 192 MiB, the peak of a mining run's hook set-up."""
    from negmine.audit.near_dup import mean_vector

    vectors = np.random.default_rng(3).standard_normal((1000, 48)).astype(np.float32)
    expected = np.zeros(48)
    for start in range(0, 1000, 300):
        expected += np.asarray(vectors[start : start + 300], dtype=np.float64).sum(axis=0)
    copies = []
    plain = np.asarray

    def recording(a, dtype=None, *args, **kwargs):
        out = plain(a, dtype, *args, **kwargs)
        if out.ndim == 2 and out.dtype == np.float64:
            copies.append(out.shape)
        return out

    monkeypatch.setattr(np, "asarray", recording)
    mean = mean_vector(vectors, block=300)
    monkeypatch.undo()
    assert copies == []
    np.testing.assert_array_equal(mean, expected / 1000)


def test_signature_memo_with_max_entries_stays_bounded_and_returns_the_same_signatures() -> None:
    texts = [f"document number {i} about sleep and coffee, item {i % 7}" for i in range(40)]
    config = NearDupConfig()
    bounded, unbounded = SignatureMemo(config, max_entries=8), SignatureMemo(config)
    sizes = []
    for start in range(0, 40, 3):
        keys = list(range(start, min(40, start + 3))) + [0]  # row 0 comes back in every call
        got = bounded.lookup(keys, texts.__getitem__, positives=start % 2 == 0)
        want = unbounded.lookup(keys, texts.__getitem__, positives=start % 2 == 0)
        np.testing.assert_array_equal(got.values, want.values)
        np.testing.assert_array_equal(got.sizes, want.sizes)
        sizes.append(len(bounded._memo))
    assert max(sizes) <= 8 and len(unbounded._memo) == 40


def test_bounded_memo_keeps_a_prefetch_larger_than_its_bound_for_the_lookups_that_follow(monkeypatch) -> None:
    """A prefetched block (e.g. 4,096 audited rows' candidates) may pass ``max_entries``: its lookups must still find
    it, not empty the memo and sign the block again one row at a time."""
    from negmine.audit import near_dup
    from negmine.audit.minhash import signatures as sign

    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 1)
    monkeypatch.setattr(near_dup, "parallel_signatures", lambda chunks, *a: (sign(c, *a[:3]) for c in chunks))
    computed = []
    monkeypatch.setattr(near_dup, "signatures", lambda texts, *a: computed.append(len(texts)) or sign(texts, *a))
    texts = [f"candidate text number {i} of the block" for i in range(30)] + ["a positive, signed on lookup"]
    memo = SignatureMemo(NearDupConfig(), max_entries=4)
    assert memo.prefetch(list(range(30)), texts.__getitem__, workers=2) == 30
    for row in range(30):
        memo.lookup([row], texts.__getitem__)
        memo.lookup([30], texts.__getitem__, positives=True)  # the row's positive: not prefetched
    assert computed == [1]  # the positive, once; no candidate of the block twice


def test_a_bounded_memo_keeps_what_the_next_window_shares_with_the_last(monkeypatch) -> None:
    """Windows of pairs overlap (a document is a candidate of many queries): making room for the next window
    drops only the entries it does not ask for, so a shared document is signed once."""
    from negmine.audit import near_dup
    from negmine.audit.minhash import signatures as sign

    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 1)
    computed = []

    def parallel(chunks, *args):
        for chunk in chunks:
            computed.extend(chunk)
            yield sign(chunk, *args[:3])

    monkeypatch.setattr(near_dup, "parallel_signatures", parallel)
    texts = [f"candidate text number {i} of a window" for i in range(40)]
    memo, unbounded = SignatureMemo(NearDupConfig(), max_entries=20), SignatureMemo(NearDupConfig())
    windows = [list(range(0, 20)), list(range(10, 30)), list(range(20, 40))]  # each shares 10 with the last
    for window in windows:
        memo.prefetch(window, texts.__getitem__, workers=2)
        assert set(memo._memo) == set(window)
        got = memo.lookup(window, texts.__getitem__)
        np.testing.assert_array_equal(got.values, unbounded.lookup(window, texts.__getitem__).values)
    assert sorted(computed) == sorted(texts)  # 40 signatures, not 60
