from negmine.export.registry import export_file


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
