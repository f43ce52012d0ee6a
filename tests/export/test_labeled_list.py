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
