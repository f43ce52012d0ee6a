from datasets import Dataset

from negmine.train.samplers.row_texts import RowValues, clashes, without_labels


def _dataset():
    return Dataset.from_dict({"anchor": ["q", "q", "r"], "positive": ["a", "b", "c"], "negative_1": ["n", "c", "m"],
                              "label": [[0], [0], [1]]})


def test_read_all_reads_what_row_by_row_reads():
    dataset = without_labels(_dataset(), ["label", "score"])
    assert dataset.column_names == ["anchor", "positive", "negative_1"]
    lazy = RowValues(dataset)
    assert dict(RowValues(dataset).read_all()) == {row: lazy[row] for row in range(3)}
    assert lazy[1] == {"q", "b", "c"}


def test_labels_are_kept_only_when_the_trainer_names_no_label_column():
    assert without_labels(_dataset(), None).column_names == _dataset().column_names


def test_clashes_are_the_batch_rows_sharing_a_text():
    values = RowValues(without_labels(_dataset(), ["label"])).read_all()
    assert clashes(1, [0, 2], values) == [0, 2]  # "q" with row 0, "c" (a positive, here a negative) with row 2
    assert clashes(0, [2], values) == []
