import pytest

from negmine.errors import NegmineWarning
from negmine.export.registry import export_file
from negmine.testing.native_rows import pair_row, write_native


def test_positive_first_then_negatives(native_file, tmp_path, load_json_dataset):
    out = tmp_path / "l.jsonl"
    stats = export_file(native_file, "labeled-list", out)
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 3, {})
    ds = load_json_dataset(out)
    assert ds.column_names == ["query", "docs", "labels"]
    assert ds[1] == {
        "query": "query q2",
        "docs": ["positive text for q2", "negative 0 for q2", "negative 1 for q2"],
        "labels": [1, 0, 0],
    }
    assert all(len(r["docs"]) == len(r["labels"]) for r in ds)


def test_promoted_documents_are_labelled_relevant_after_the_positive(promoted_file, tmp_path, load_json_dataset):
    out = tmp_path / "l.jsonl"
    export_file(promoted_file, "labeled-list", out)
    ds = load_json_dataset(out)
    assert ds[0] == {
        "query": "query q1",
        "docs": ["positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1", "negative 0 for q1",
                 "negative 1 for q1"],
        "labels": [1, 1, 1, 0, 0],
    }
    assert ds[1]["labels"] == [1, 0, 0], "d1 is exported once per query"


def _two_positive_query(tmp_path):
    """q1 has two rows, apart in the file (q2 between): p1's negative n1 (0.8) scores above q1's weaker positive
    p2 (0.5), so it is no negative of p2; n2 is a negative of both rows; n3 (0.3) passes both rows' filters."""
    return write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)]),
        pair_row("q2", "r1", 0.7, [("m1", 0.6)]),
        pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)]),
    ])


def test_by_query_is_one_list_per_query_with_every_positive_and_negatives_valid_for_all(tmp_path, load_json_dataset):
    """The listwise losses read a list as a query's ranking (ListNetLoss's example labels two documents of a query 1
    in one list): labeled-list gives q1 two lists, each with one of its positives and n2 twice."""
    native = _two_positive_query(tmp_path)
    per_row = export_file(native, "labeled-list", tmp_path / "rows.jsonl")
    assert (per_row.records_out, [r["labels"] for r in load_json_dataset(tmp_path / "rows.jsonl")]) == (
        3, [[1, 0, 0], [1, 0], [1, 0, 0]])
    stats = export_file(native, "labeled-list-by-query", tmp_path / "q.jsonl")
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 2, {})
    ds = load_json_dataset(tmp_path / "q.jsonl")
    assert ds.column_names == ["query", "docs", "labels"]
    assert list(ds) == [
        {"query": "query q2", "docs": ["text r1", "text m1"], "labels": [1, 0]},
        {"query": "query q1", "docs": ["text p1", "text p2", "text n2", "text n3"], "labels": [1, 1, 0, 0]},
    ], "queries in the order they complete; n1 outscores p2 and is left out"


def test_by_query_keeps_promoted_documents_once_as_relevant(promoted_file, tmp_path, load_json_dataset):
    export_file(promoted_file, "labeled-list-by-query", tmp_path / "q.jsonl")
    first = load_json_dataset(tmp_path / "q.jsonl")[0]
    assert first == {
        "query": "query q1",
        "docs": ["positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1", "positive text for q1 p2",
                 "negative 0 for q1", "negative 1 for q1"],
        "labels": [1, 1, 1, 1, 0, 0],
    }


def test_by_query_skips_a_query_without_a_negative_valid_for_all_its_positives(tmp_path):
    from negmine.export.base import SKIP_NO_NEGATIVES
    from negmine.export.flagembedding import SKIP_NO_SHARED_NEGATIVE

    native = write_native(tmp_path / "m.jsonl", [pair_row("q1", "p1", 0.9, [("p2", 0.8)]),
                                           pair_row("q1", "p2", 0.85, [("p1", 0.82)]), pair_row("q2", "r1", 0.7, [])])
    with pytest.warns(NegmineWarning, match="holds no records"):
        stats = export_file(native, "labeled-list-by-query", tmp_path / "q.parquet")
    skipped = {SKIP_NO_NEGATIVES: 1, SKIP_NO_SHARED_NEGATIVE: 2}
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 0, skipped)


def test_by_query_with_judge_scores_lists_the_documents_the_mining_scores_choose(tmp_path, load_json_dataset):
    """``--export-scores --export-scores-from judge``: the judge's scores in place of the labels, for the same
    documents as without scores (as ``flagembedding-scores`` does). The judge ranks q1's negatives otherwise (n1
    lowest, n3 highest): a choice by its scores kept n1, which outscores the weaker positive p2 by the mining
    scores the rows' margins were measured on, and left out n3, a negative every row accepts."""
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)], judge_positive_score=1.0,
                 judge_negative_scores=[-3.0, 4.0]),
        pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)], judge_positive_score=3.0,
                 judge_negative_scores=[4.0, 6.0]),
    ])
    export_file(native, "labeled-list-by-query", tmp_path / "plain.jsonl")
    stats = export_file(native, "labeled-list-by-query", tmp_path / "judged.jsonl", scores=True, scores_from="judge")
    assert (stats.records_out, stats.skipped) == (1, {})
    plain, judged = load_json_dataset(tmp_path / "plain.jsonl")[0], load_json_dataset(tmp_path / "judged.jsonl")[0]
    assert plain["docs"] == ["text p1", "text p2", "text n2", "text n3"]
    assert judged == {"query": "query q1", "docs": plain["docs"], "scores": [1.0, 3.0, 4.0, 6.0]}


@pytest.mark.parametrize("fmt, suffix", [("labeled-list", ".jsonl"), ("labeled-list-by-query", ".parquet")])
def test_a_cross_encoder_trains_on_the_export_with_a_listwise_loss(fmt, suffix, tmp_path, tiny_cross_encoder_path):
    """What the README promises: load the file with datasets and train CrossEncoderTrainer with LambdaLoss on it."""
    from datasets import load_dataset
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import LambdaLoss

    out = tmp_path / f"l{suffix}"
    export_file(_two_positive_query(tmp_path), fmt, out)
    dataset = load_dataset(suffix.lstrip(".").replace("jsonl", "json"), data_files=str(out), split="train",
                           cache_dir=str(tmp_path / "hf_cache"))
    model = CrossEncoder(str(tiny_cross_encoder_path), device="cpu")
    args = CrossEncoderTrainingArguments(output_dir=str(tmp_path / "ce_out"), max_steps=1, report_to=[],
                                         per_device_train_batch_size=len(dataset), save_strategy="no", use_cpu=True,
                                         disable_tqdm=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=LambdaLoss(model))
    assert trainer.train().training_loss > 0
