import numpy as np
import pytest

from negmine.train.labels import PAD_KEY, pack_label, split_label, text_key


def test_text_key_is_stable_non_zero_and_63_bit():
    assert text_key("aspirin lowers fever") == text_key("aspirin lowers fever")
    assert text_key("aspirin lowers fever") != text_key("aspirin lowers fevers")
    keys = [text_key(f"text {i}") for i in range(1000)]
    assert all(0 < k < 2**63 for k in keys)
    assert len(set(keys)) == 1000
    # a golden value: keys must not change between versions or processes (PYTHONHASHSEED plays no part)
    assert text_key("aspirin lowers fever") == 4493027432455970038


def test_texts_mining_takes_for_one_document_share_a_key():
    """Mining never makes a case, spacing or NFKC variant of a positive its query's negative; the trainer's masks
    (which compare these keys) recognise the same variants, so an own-data file with both is trained as mined."""
    key = text_key("Aspirin lowers fever.")
    assert text_key("  ASPIRIN   lowers\nfever ") == key
    assert text_key("aspirin lowers fe\u00adver") == key, "a soft hyphen is invisible"
    assert text_key("ｃａｆé") == text_key("cafe\u0301"), "NFKC: full-width letters, a combining accent"
    assert text_key("Aspirin raises fever.") != key


def test_pack_then_split_round_trips_and_pads_known_positives():
    rows = [pack_label(7, 11, [21, 22], [0, 1], [11, 31], width_known=3, query=41),
            pack_label(8, 12, [23, 24], [1, 0], [], width_known=3)]
    assert rows[1][-3:] == [PAD_KEY] * 3
    parts = split_label(np.array(rows), num_negatives=2)
    assert parts.rows.tolist() == [7, 8]
    assert parts.query_keys.tolist() == [41, PAD_KEY]
    assert parts.doc_keys.tolist() == [[11, 21, 22], [12, 23, 24]]
    assert parts.flags.tolist() == [[0, 1], [1, 0]]
    assert parts.known.tolist() == [[11, 31, PAD_KEY], [PAD_KEY] * 3]


def test_pack_label_rejects_mismatched_flags_and_too_many_known_positives():
    with pytest.raises(ValueError, match="2 negative keys but 1 flags"):
        pack_label(0, 1, [2, 3], [0], [], width_known=0)
    with pytest.raises(ValueError, match="3 known positives do not fit in width 2"):
        pack_label(0, 1, [2], [0], [4, 5, 6], width_known=2)


def test_split_label_rejects_a_label_too_narrow_for_the_negatives():
    with pytest.raises(ValueError, match="label width 6 is too small for 2 negatives \\(need at least 7\\)"):
        split_label(np.zeros((1, 6), dtype=np.int64), num_negatives=2)


def test_split_label_accepts_the_narrowest_label_for_the_negatives():
    """``3 + 2N`` columns (no known positive) is enough: row, query, positive, N negatives, N flags."""
    parts = split_label(np.arange(7).reshape(1, 7), num_negatives=2)
    assert parts.doc_keys.tolist() == [[2, 3, 4]] and parts.flags.tolist() == [[5, 6]]
    assert parts.known.shape == (1, 0)


def test_a_text_whose_hash_is_zero_never_gets_the_pad_key(monkeypatch):
    """Key 0 is :data:`PAD_KEY` (padding, matches nothing): a zero digest maps to a non-zero key."""
    import negmine.train.labels as labels

    class ZeroDigest:
        def digest(self):
            return bytes(8)

    monkeypatch.setattr(labels.hashlib, "blake2b", lambda *a, **k: ZeroDigest())
    assert labels.text_key("anything") != PAD_KEY
