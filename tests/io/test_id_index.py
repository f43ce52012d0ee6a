import numpy as np
import pytest

from negmine.io.id_index import Duplicate, IdIndex, id_hash
from negmine.io.text_column import TextColumn

IDS = ["d1", "q7", "doc-é", "42", "", "d10"]


@pytest.mark.parametrize("ids", [IDS, TextColumn.from_texts(IDS)], ids=["list", "column"])
def test_lookups_match_a_dict(ids):
    index = IdIndex(ids)
    expected = {item_id: row for row, item_id in enumerate(IDS)}
    assert len(index) == len(IDS)
    assert all(index[i] == row for i, row in expected.items())
    assert all(i in index for i in IDS)
    assert "d2" not in index and 3 not in index and index.get("d2") is None and index.get("d2", -1) == -1
    assert index.rows(["42", "d1"]).tolist() == [3, 0]
    with pytest.raises(KeyError, match="'nope'"):
        index["nope"]
    assert index.first_duplicate() is None


def test_hash_collisions_never_return_a_wrong_row(monkeypatch):
    monkeypatch.setattr("negmine.io.id_index.id_hash", lambda item_id: 0)  # every id collides
    index = IdIndex(["a", "b", "c", "b", "a"])
    assert [index[i] for i in "abc"] == [0, 1, 2]
    assert "z" not in index
    assert index.first_duplicate() == Duplicate("b", 1, 3)  # b repeats before a does


def test_first_duplicate_is_the_earliest_repeat_in_file_order():
    assert IdIndex(["x", "y", "z", "y", "x", "y"]).first_duplicate() == Duplicate("y", 1, 3)
    assert IdIndex(["x", "x", "x"]).first_duplicate() == Duplicate("x", 0, 1)
    assert IdIndex(["x", "x", "x"])["x"] == 0  # a repeated id resolves to its first row


def test_hash_is_stable_across_processes_and_hashes_must_fit():
    assert id_hash("d1") == 2878387810984711164  # blake2b: the same in every process (hash() is salted per process)
    assert id_hash("d1") == id_hash("d1") and id_hash("d1") != id_hash("d2")
    with pytest.raises(ValueError, match="2 hashes for 3 ids"):
        IdIndex(["a", "b", "c"], hashes=np.zeros(2, dtype=np.int64))
