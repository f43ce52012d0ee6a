import json

import pytest

from negmine.errors import NegmineWarning
from negmine.export.registry import export_file
from negmine.testing.native_rows import pair_row, write_native


def _records(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _two_positive_query(tmp_path):
    """q1 has two rows, apart in the file (q2 between): p1's negative n1 (0.8) scores above q1's weaker positive
    p2 (0.5); n2 is a negative of both rows; n3 (0.3) of p2's only."""
    return write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)]),
        pair_row("q2", "r1", 0.7, [("m1", 0.6)]),
        pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)]),
    ])


def test_one_record_per_query_and_document_positives_first(tmp_path, load_json_dataset):
    """As mine_hard_negatives(output_format="labeled-pair"): per query its positives (label 1), then its negatives
    (label 0), each document once: n2, a negative of both rows, is one record, not two."""
    out = tmp_path / "p.jsonl"
    stats = export_file(_two_positive_query(tmp_path), "labeled-pair", out)
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 7, {})
    ds = load_json_dataset(out)
    assert ds.column_names == ["query", "document", "label"]
    assert [(r["query"], r["document"], r["label"]) for r in ds] == [
        ("query q2", "text r1", 1), ("query q2", "text m1", 0),
        ("query q1", "text p1", 1), ("query q1", "text p2", 1),
        ("query q1", "text n1", 0), ("query q1", "text n2", 0), ("query q1", "text n3", 0),
    ], "queries in the order they complete; n1, which outscores p2, is kept: a pointwise label ranks it against nothing"


def test_with_scores_the_score_column_replaces_the_label(tmp_path):
    """mine_hard_negatives(..., output_scores=True) writes (anchor, document, score): the pair's mining score; the
    shared negative n2 has the same (query, document) score in both rows and is written once."""
    out = tmp_path / "p.jsonl"
    export_file(_two_positive_query(tmp_path), "labeled-pair", out, scores=True)
    records = _records(out)
    assert [list(r) for r in records] == [["query", "document", "score"]] * 7
    assert [(r["document"], r["score"]) for r in records] == [
        ("text r1", 0.7), ("text m1", 0.6), ("text p1", 0.9), ("text p2", 0.5), ("text n1", 0.8), ("text n2", 0.4),
        ("text n3", 0.3),
    ]


def test_no_document_the_query_knows_as_relevant_is_a_negative(tmp_path):
    """A sibling row's positive, a negative another row marked (mark) or dropped (drop) as a false negative, and a
    document with a positive's text under another id are no label 0, whichever row lists them."""
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("p2", 0.85), ("x", 0.8), ("y", 0.7), ("n", 0.6)]),
        pair_row("q1", "p2", 0.85, [("x", 0.8), ("n", 0.6)], negative_flags=["false_negative", None]),
        pair_row("q1", "p3", 0.8, [("n", 0.6)], false_negative_ids=["y"]),
        pair_row("q2", "r1", 0.7, [("twin", 0.65), ("m", 0.5)]),
    ])
    rows = [json.loads(line) for line in native.read_text().splitlines()]
    rows[3]["positive"] = "text of r1"
    rows[3]["negatives"][0] = "text of r1"  # another id, the positive's text
    native.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "p.jsonl"
    stats = export_file(native, "labeled-pair", out)
    assert [(r["query"], r["document"], r["label"]) for r in _records(out)] == [
        ("query q1", "text p1", 1), ("query q1", "text p2", 1), ("query q1", "text p3", 1), ("query q1", "text n", 0),
        ("query q2", "text of r1", 1), ("query q2", "text m", 0),
    ]
    assert stats.flagged_left_out == 1 and stats.skipped == {}


def test_promoted_documents_are_positives_once_per_query(promoted_file, tmp_path):
    out = tmp_path / "p.jsonl"
    export_file(promoted_file, "labeled-pair", out, scores=True)
    q1 = [(r["document"], r["score"]) for r in _records(out) if r["query"] == "query q1"]
    assert q1 == [("positive text for q1 p1", 0.8), ("promoted d1 for q1", 0.75), ("promoted d2 for q1", 0.72),
                  ("positive text for q1 p2", 0.8), ("negative 0 for q1", 0.7), ("negative 1 for q1", 0.6)]
    export_file(promoted_file, "labeled-pair", out)
    assert [r["label"] for r in _records(out) if r["query"] == "query q1"] == [1, 1, 1, 1, 0, 0]


def test_rows_without_negatives_and_queries_left_without_one_are_skipped_and_counted(tmp_path):
    from negmine.export.base import SKIP_NO_NEGATIVES
    from negmine.export.labeled_pair import SKIP_NO_QUERY_NEGATIVE

    native = write_native(tmp_path / "m.jsonl", [pair_row("q1", "p1", 0.9, [("p2", 0.8)]),
                                                 pair_row("q1", "p2", 0.85, [("p1", 0.82)]), pair_row("q2", "r1", 0.7, [])])
    with pytest.warns(NegmineWarning, match="holds no records"):
        stats = export_file(native, "labeled-pair", tmp_path / "p.parquet")
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 0, {SKIP_NO_NEGATIVES: 1, SKIP_NO_QUERY_NEGATIVE: 2})


@pytest.mark.parametrize("scores", [False, True])
def test_parquet_columns_and_types(scores, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = tmp_path / "p.parquet"
    export_file(_two_positive_query(tmp_path), "labeled-pair", out, scores=scores)
    table = pq.read_table(out)
    last = pa.field("score", pa.float64()) if scores else pa.field("label", pa.int64())
    assert table.schema == pa.schema([("query", pa.string()), ("document", pa.string()), last])
    assert table.num_rows == 7


def test_a_cross_encoder_trains_on_it_with_binary_cross_entropy(tmp_path, tiny_cross_encoder_path, load_json_dataset):
    """What the README promises: CrossEncoderTrainer with BinaryCrossEntropyLoss reads (query, document, label)."""
    from sentence_transformers.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss

    out = tmp_path / "p.jsonl"
    export_file(_two_positive_query(tmp_path), "labeled-pair", out)
    dataset = load_json_dataset(out)
    model = CrossEncoder(str(tiny_cross_encoder_path), device="cpu")
    args = CrossEncoderTrainingArguments(output_dir=str(tmp_path / "ce_out"), max_steps=1, report_to=[],
                                         per_device_train_batch_size=len(dataset), save_strategy="no", use_cpu=True,
                                         disable_tqdm=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=dataset, loss=BinaryCrossEntropyLoss(model))
    assert trainer.train().training_loss > 0
