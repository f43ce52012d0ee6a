from __future__ import annotations

import numpy as np

from negmine.audit.minhash import TokenHashes, containment, jaccard, shingle_hashes, shingles, signatures

TEXT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"


def exact_jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb)


def test_shingles_are_normalised_word_trigrams_and_short_texts_give_one():
    assert shingles("The  QUICK brown, fox!") == {"the quick brown", "quick brown fox"}
    assert shingles("Two words") == {"two words"}
    assert shingles("  ...  ") == set()


def test_signatures_are_deterministic_and_identical_texts_have_jaccard_one():
    a = signatures([TEXT, TEXT.upper()], num_perm=64)
    b = signatures([TEXT], num_perm=64)
    assert np.array_equal(a.values[0], b.values[0])
    assert jaccard(a, b)[1] == 1.0


def test_estimates_track_exact_jaccard_and_containment():
    words = TEXT.split()
    half = " ".join(words[:8])
    other = " ".join(reversed(words))
    sigs = signatures([TEXT, half, other], num_perm=256)
    est = jaccard(sigs, sigs, 0)
    assert abs(est[1] - exact_jaccard(half, TEXT)) < 0.12
    assert est[2] < 0.1
    cont = containment(sigs, sigs, 0)
    assert cont[1] > 0.85, "a prefix is (almost) fully contained in the full text"
    assert cont[2] < 0.15


def test_empty_text_never_matches():
    sigs = signatures(["", ""], num_perm=16)
    assert jaccard(sigs, sigs, 0).tolist() == [0.0, 0.0]
    assert containment(sigs, sigs, 0).tolist() == [0.0, 0.0]


def test_small_sets_get_exact_containment_in_a_large_positive():
    from negmine.audit.minhash import overlap

    words = [f"w{i}" for i in range(300)]
    positive = " ".join(words)
    title = " ".join(words[100:110])  # 8 shingles, all inside the positive (J = 8/298)
    other = " ".join(words[100:105] + ["x", "y", "z", "u", "v"])  # 3 shared shingles of 8
    cands = signatures([title, other], num_perm=64, keep_exact=64)
    pos = signatures([positive], num_perm=64, keep_exact=10**9)
    j, cont, inter = overlap(cands, pos)
    assert cont.tolist() == [1.0, 3 / 8] and inter.tolist() == [8.0, 3.0]
    assert j[0] == 8 / 298


def test_shingle_hashes_are_one_per_distinct_shingle_and_order_sensitive():
    a = "alpha beta gamma delta epsilon alpha beta gamma zeta"
    b = "zeta alpha beta gamma delta omega gamma beta alpha"
    ha, hb = shingle_hashes(a), shingle_hashes(b)
    assert ha.size == len(shingles(a)) == 6 and hb.size == len(shingles(b))
    assert np.all(np.diff(ha.astype(np.float64)) > 0), "sorted and distinct"
    shared = np.intersect1d(ha, hb).size
    assert shared == len(shingles(a) & shingles(b)) == 2  # "alpha beta gamma", "beta gamma delta"
    assert shingle_hashes("alpha beta gamma")[0] != shingle_hashes("gamma beta alpha")[0]
    assert shingle_hashes("two words").size == 1 and shingle_hashes("...").size == 0


def test_hashes_are_pinned_so_signatures_agree_across_machines_and_releases():
    sig = signatures(["The quick brown fox jumps over the lazy dog"], num_perm=4)
    assert sig.values.tolist() == [[413541227, 427971375, 311707080, 576467524]] and sig.sizes.tolist() == [7]
    assert int(shingle_hashes("quick brown fox")[0]) == 0xF589A76679D7F31E


def test_token_memo_is_bounded_and_never_changes_values():
    texts = [TEXT, "a b c d e f g h", TEXT.upper()]
    small = TokenHashes(max_size=3)
    shared = [signatures([t], token_hashes=small) for t in texts]
    assert len(small) <= 3
    fresh = signatures(texts)
    assert np.array_equal(np.vstack([s.values for s in shared]), fresh.values)


def test_parallel_signatures_equal_the_in_process_ones_chunk_by_chunk():
    from negmine.audit.minhash import parallel_signatures

    texts = [f"claim {i} about protein {i % 7} binding in cells of type {i % 3}" for i in range(50)] + ["", "x"]
    chunks = [texts[i : i + 9] for i in range(0, len(texts), 9)]
    got = list(parallel_signatures(iter(chunks), width=3, num_perm=32, keep_exact=32, workers=2))
    assert len(got) == len(chunks)
    for chunk, sig in zip(chunks, got):
        want = signatures(chunk, 3, 32, 32)
        assert np.array_equal(sig.values, want.values) and np.array_equal(sig.sizes, want.sizes)
        assert all((a is None and b is None) or np.array_equal(a, b) for a, b in zip(sig.exact, want.exact))


ZH_POSITIVE = "机器学习是人工智能的一个分支，它使计算机能够从数据中学习而无需明确编程。深度学习使用具有多层的神经网络。"


def test_chinese_and_japanese_shingle_characters_so_near_copies_overlap():
    """Without spaces, \\w+ made each clause one token: a one-word edit left no shingle in common."""
    from negmine.audit.near_dup import max_overlap

    ja_positive = "機械学習は人工知能の一分野であり、データから学習することを可能にする。"
    cases = [(ZH_POSITIVE, ZH_POSITIVE.replace("多层", "许多层")), (ja_positive, ja_positive.replace("する。", "します。"))]
    for positive, copy in cases:
        assert len(shingles(positive)) > 30  # character trigrams, not one shingle per clause
        score = max_overlap(signatures([copy], keep_exact=64), signatures([positive], keep_exact=10**9), 5)
        assert score[0] > 0.9
    unrelated = signatures(["气候变化影响全球的农业生产和粮食安全，各国需要共同应对。"], keep_exact=64)
    assert max_overlap(unrelated, signatures([ZH_POSITIVE], keep_exact=10**9), 5)[0] == 0.0


def test_invisible_characters_and_combining_marks_do_not_split_words():
    plain = "information retrieval with learned sparse models"
    hidden = "infor\u00admation re\u200btrieval with lear\u200dned sparse\ufeff models"
    assert shingles(hidden) == shingles(plain)
    assert shingles("हिन्दी भारत की राजभाषा") == {"हिन्दी भारत की", "भारत की राजभाषा"}


def test_exact_overlap_counts_equal_one_intersection_per_candidate():
    """The exact counts come from one np.isin over every candidate's set (it was one np.intersect1d per
    candidate, most of the near-duplicate check's time): the same integers and the same Jaccard bits, with
    candidates whose set is not kept (MinHash estimate) or empty left to the estimate."""
    from negmine.audit.minhash import Signatures, intersection, overlap

    rng = np.random.default_rng(3)
    pool = np.arange(400, dtype=np.uint64) * np.uint64(2654435761)

    def a_set(size: int) -> np.ndarray:
        return np.sort(rng.choice(pool, size=size, replace=False))

    exact = [a_set(int(s)) for s in rng.integers(1, 60, size=40)] + [None, np.empty(0, np.uint64), a_set(5)]
    sizes = np.array([len(e) if e is not None else 50 for e in exact], dtype=np.int64)
    values = rng.integers(0, 2**32, size=(len(exact), 16), dtype=np.uint32)
    candidates = Signatures(values, sizes, tuple(exact))
    ref = a_set(80)
    reference = Signatures(values[:1], np.array([ref.size]), (ref,))
    j, cont, inter = overlap(candidates, reference)
    for i, own in enumerate(exact):
        if own is None or not own.size:
            continue
        shared = np.intersect1d(own, ref, assume_unique=True).size
        assert inter[i] == shared
        assert j[i] == shared / (own.size + ref.size - shared)
        assert cont[i] == min(1.0, shared / own.size)
    estimate = intersection(candidates, reference)
    assert inter[40] == estimate[40] and inter[41] == estimate[41]  # no kept set / an empty one: the estimate
