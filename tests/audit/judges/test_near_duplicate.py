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
