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


def test_promoted_documents_join_pos_with_their_mining_scores(promoted_file, tmp_path, load_json_dataset):
    export_file(promoted_file, "flagembedding", tmp_path / "f.jsonl")
    plain = load_json_dataset(tmp_path / "f.jsonl")
    assert plain["pos"] == [["positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1"],
                            ["positive text for q1 p2"], ["positive text for q2"]], "d1 once per query"
    assert plain["neg"][0] == ["negative 0 for q1", "negative 1 for q1"]
    export_file(promoted_file, "flagembedding-scores", tmp_path / "fs.jsonl")
    scored = load_json_dataset(tmp_path / "fs.jsonl")
    assert scored["pos"] == plain["pos"]
    assert scored["pos_scores"] == [pytest.approx([0.8, 0.75, 0.72]), [0.8], [0.8]]
