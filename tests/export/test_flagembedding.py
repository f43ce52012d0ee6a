import pytest

from negmine.export.registry import export_file


def test_query_pos_neg(native_file, tmp_path, load_json_dataset):
    out = tmp_path / "f.jsonl"
    stats = export_file(native_file, "flagembedding", out)
    assert (stats.rows_in, stats.records_out) == (3, 3)
    ds = load_json_dataset(out)
    assert ds.column_names == ["query", "pos", "neg"]
    assert ds[0] == {
        "query": "query q1",
        "pos": ["positive text for q1"],
        "neg": ["negative 0 for q1", "negative 1 for q1", "negative 2 for q1"],
    }


def test_with_scores_parallel_to_texts(native_file, tmp_path, load_json_dataset):
    out = tmp_path / "fs.jsonl"
    export_file(native_file, "flagembedding-scores", out)
    ds = load_json_dataset(out)
    assert ds.column_names == ["query", "pos", "neg", "pos_scores", "neg_scores"]
    assert ds[0]["pos_scores"] == pytest.approx([0.8])
    assert ds[0]["neg_scores"] == pytest.approx([0.7, 0.6, 0.5])
    assert all(len(r["neg"]) == len(r["neg_scores"]) for r in ds)
