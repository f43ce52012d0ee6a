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
