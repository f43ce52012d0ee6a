from __future__ import annotations

import numpy as np

from negmine.audit.items import item_from_row
from negmine.audit.judges.near_duplicate import NearDuplicateJudge
from negmine.audit.vectors import TextVectors
from negmine.config import NearDupConfig

from ..conftest import SIBLING, sample_rows


def test_cosine_and_overlap_flag_the_reordered_copy(hash_embedder):
    item = item_from_row(sample_rows()[0])
    judge = NearDuplicateJudge(NearDupConfig(cosine=0.95, overlap=0.5), TextVectors(hash_embedder))
    j = judge.judge([item])[0]
    assert j.flags.tolist() == [True, False, False, False]
    assert j.evidence["cosine_to_positive"][0] > 0.99, "same bag of words"
    assert "cosine" in j.reasons[0] and "shingle overlap" in j.reasons[0]


def test_near_copy_of_a_sibling_positive_is_flagged_too():
    row = sample_rows()[0]
    config = NearDupConfig(cosine=None, overlap=0.6)
    alone = NearDuplicateJudge(config).judge([item_from_row(row)])[0]
    with_sibling = NearDuplicateJudge(config).judge([item_from_row(row, (("p2", SIBLING),))])[0]
    assert not alone.flags[2]
    assert with_sibling.flags[2], "n-sib is a truncated copy of the query's other positive p2"


def test_corpus_row_vectors_are_used_when_items_carry_rows():
    item = item_from_row(sample_rows()[2])
    vectors = np.eye(4, dtype=np.float32)
    from dataclasses import replace

    item = replace(item, rows=np.array([0, 1, 2]), positive_rows=np.array([1]))
    j = NearDuplicateJudge(NearDupConfig(cosine=0.9, overlap=None), row_vectors=vectors).judge([item])[0]
    assert j.flags.tolist() == [False, True, False]


def test_signature_memo_is_bounded_over_a_long_file(monkeypatch):
    """The judge keeps one MinHash signature (~1 KB) per distinct text it has seen; over a file of millions of
    rows that grew with the file. Its memo is now emptied past ``MEMO_ENTRIES``, with the same findings."""
    from negmine.audit.judges import near_duplicate

    monkeypatch.setattr(near_duplicate, "MEMO_ENTRIES", 6, raising=False)
    config = NearDupConfig(cosine=None, overlap=0.5)
    rows = [dict(r, negatives=[f"{n} variant {i}" for n in r["negatives"]]) for i in range(5) for r in sample_rows()]
    judge, held = NearDuplicateJudge(config), []
    flags = []
    for row in rows:
        flags.append(judge.judge([item_from_row(row)])[0].flags.tolist())
        held.append(len(judge.memo._memo))
    monkeypatch.setattr(near_duplicate, "MEMO_ENTRIES", None, raising=False)
    reference = NearDuplicateJudge(config)
    assert flags == [reference.judge([item_from_row(row)])[0].flags.tolist() for row in rows]
    assert max(held) <= 6 + 5  # the cap plus one row's candidates and positive
