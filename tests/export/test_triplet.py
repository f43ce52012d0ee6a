import json

from negmine.export.base import SKIP_NO_NEGATIVES, ExportShape
from negmine.export.registry import export_file
from negmine.export.triplet import TripletExporter


def test_one_record_per_negative(native_file, tmp_path, load_json_dataset):
    out = tmp_path / "t.jsonl"
    stats = export_file(native_file, "triplet", out)
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 8, {})
    ds = load_json_dataset(out)
    assert ds.column_names == ["anchor", "positive", "negative"]  # MNRL / TripletLoss column order
    assert ds.num_rows == 8
    assert ds[0] == {"anchor": "query q1", "positive": "positive text for q1", "negative": "negative 0 for q1"}
    assert [r["negative"] for r in ds if r["anchor"] == "query q2"] == ["negative 0 for q2", "negative 1 for q2"]


def test_row_without_negatives_skipped(native_file):
    row = json.loads(native_file.read_text().splitlines()[0])
    row.update(negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[])
    assert TripletExporter().skip_reason(row, ExportShape()) == SKIP_NO_NEGATIVES


def test_trains_with_multiple_negatives_ranking_loss(native_file, tmp_path, load_json_dataset, mnrl_train_step):
    import math

    out = tmp_path / "t.jsonl"
    export_file(native_file, "triplet", out)
    loss = mnrl_train_step(load_json_dataset(out))
    assert math.isfinite(loss) and loss > 0


def test_each_promoted_document_adds_records_after_the_row_s_own_once_per_query(promoted_file, tmp_path):
    out = tmp_path / "t.jsonl"
    stats = export_file(promoted_file, "triplet", out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert (stats.rows_in, stats.records_out) == (3, 10)
    negatives = ["negative 0 for q1", "negative 1 for q1"]
    q1 = [(r["positive"], r["negative"]) for r in records if r["anchor"] == "query q1"]
    assert q1 == [(p, n) for p in ("positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1",
                                   "positive text for q1 p2") for n in negatives], "d1 once, with p1's row"
    assert not any(r["negative"].startswith("promoted") for r in records)
