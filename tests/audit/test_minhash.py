from __future__ import annotations

import numpy as np

from negmine.audit.minhash import containment, jaccard, shingles, signatures

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
