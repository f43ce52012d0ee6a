import json
import os
import subprocess
import sys

import numpy as np
from datasets import Dataset

from negmine.train.samplers import row_texts
from negmine.train.samplers.row_texts import RowValues, clashes, text_hash, without_labels


def _dataset():
    return Dataset.from_dict({"anchor": ["q", "q", "r"], "positive": ["a", "b", "c"], "negative_1": ["n", "c", "m"],
                              "label": [[0], [0], [1]]})


def test_read_all_reads_what_row_by_row_reads():
    dataset = without_labels(_dataset(), ["label", "score"])
    assert dataset.column_names == ["anchor", "positive", "negative_1"]
    lazy = RowValues(dataset)
    assert dict(RowValues(dataset).read_all()) == {row: lazy[row] for row in range(3)}
    assert lazy[1] == {text_hash("q"), text_hash("b"), text_hash("c")}


def test_labels_are_kept_only_when_the_trainer_names_no_label_column():
    assert without_labels(_dataset(), None).column_names == _dataset().column_names


def test_clashes_are_the_batch_rows_sharing_a_text():
    values = RowValues(without_labels(_dataset(), ["label"])).read_all()
    assert clashes(1, [0, 2], values) == [0, 2]  # "q" with row 0, "c" (a positive, here a negative) with row 2
    assert clashes(0, [2], values) == []


def test_the_values_kept_are_8_byte_hashes_not_the_texts(monkeypatch):
    """Topic batching reads every row at once: it keeps one uint64 per text, not a second copy of the training text."""
    monkeypatch.setattr(row_texts, "CHUNK_ROWS", 2)  # three rows: read in two chunks
    dataset = without_labels(_dataset(), ["label"])
    values = RowValues(dataset).read_all()
    assert values.table.dtype == np.uint64 and values.table.shape == (3, 3)
    assert all(isinstance(value, int) for row in range(3) for value in values[row])
    assert values[1] == RowValues(dataset)[1] == {text_hash(text) for text in ("q", "b", "c")}
    assert values[0] & values[1] == {text_hash("q")} and text_hash("q") != text_hash("b")
    assert text_hash("\ud800") != text_hash("?")  # a lone surrogate (valid JSON) is hashed, not refused


_OTHER_PROCESS = """
import json
import numpy as np
from datasets import Dataset
from negmine.train.samplers.row_texts import RowValues
from negmine.train.samplers.topic import TopicBatchSampler
anchors = [f"q{i // 2}" for i in range(12)]
dataset = Dataset.from_dict({"anchor": anchors, "positive": [f"p{i}" for i in range(12)]})
sampler = TopicBatchSampler(dataset, 3, False, seed=3, topics=np.array([0] * 6 + [1] * 6))
print(json.dumps({"batches": list(sampler), "row_0": sorted(RowValues(dataset)[0])}))
"""


def test_values_and_batches_are_the_same_in_a_process_with_another_hash_seed():
    """Python's ``hash`` of a string changes with PYTHONHASHSEED; the stored hashes and so the batches must not."""
    runs = [subprocess.run([sys.executable, "-c", _OTHER_PROCESS], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "2")]
    first, second = (json.loads(run.stdout.strip().splitlines()[-1]) for run in runs)
    assert first == second
    assert first["row_0"] == sorted({text_hash("q0"), text_hash("p0")})


def test_with_rows_holds_the_given_rows_hashes_and_leaves_the_others():
    """Topic batching's re-mined negatives: rows 0 and 2 read through the overlay, row 2 with one negative more than
    the file has columns, row 0 with a text twice (its set holds it once); the values read before are unchanged."""
    dataset = without_labels(_dataset(), ["label"])
    values = RowValues(dataset).read_all()
    before = dict(values)
    view = RowValues(row_texts.RowsWithNegatives(dataset, {0: ["a"], 2: ["x", "y"]}))
    swapped = values.with_rows({0: view.hashes(0), 2: view.hashes(2)})
    assert swapped[0] == {text_hash("q"), text_hash("a")}
    assert swapped[1] == before[1]
    assert swapped[2] == {text_hash(t) for t in ("r", "c", "x", "y")}
    assert dict(values) == before
