import pytest

from negmine.errors import ConfigError, InputError
from negmine.export.registry import EXPORTERS, export_file, get_exporter


def test_registry_keys_match_names():
    assert set(EXPORTERS) == {"triplet", "n-tuple", "labeled-list", "labeled-list-by-query", "labeled-pair",
                              "flagembedding", "flagembedding-scores"}
    assert all(exporter.name == key for key, exporter in EXPORTERS.items())


def test_unknown_format_lists_keys(native_file, tmp_path):
    with pytest.raises(ConfigError) as err:
        export_file(native_file, "csv", tmp_path / "x.jsonl")
    assert str(err.value) == (
        "unknown export format 'csv'; allowed: flagembedding, flagembedding-scores, labeled-list, "
        "labeled-list-by-query, labeled-pair, n-tuple, triplet; pick one or more with formats (--export)"
    )
    assert not (tmp_path / "x.jsonl").exists()
    with pytest.raises(ConfigError, match="unknown export format"):
        get_exporter("parquet")


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_deterministic_bytes(fmt, native_file, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    export_file(native_file, fmt, a)
    export_file(native_file, fmt, b)
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 0


def test_bad_row_leaves_previous_output(native_file, tmp_path):
    out = tmp_path / "t.jsonl"
    out.write_text("previous\n")
    with native_file.open("a") as handle:
        handle.write('{"query_id": "q4"}\n')
    with pytest.raises(InputError, match=r"negatives.jsonl:4: field 'query': missing required key"):
        export_file(native_file, "triplet", out)
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".t.jsonl")] == []


def test_refuses_to_overwrite_native(native_file):
    with pytest.raises(ConfigError, match="is the native file itself"):
        export_file(native_file, "triplet", native_file)


def test_non_ascii_text_kept(tmp_path):
    from negmine.export.native import dumps_row, make_row

    native = tmp_path / "n.jsonl"
    row = make_row(
        query_id="q", query="Größe?", positive_id="p", positive="日本語", positive_score=0.5,
        negative_ids=["n"], negatives=["é"], negative_scores=[0.1], negative_ranks=[3],
    )
    native.write_text(dumps_row(row), encoding="utf-8")
    export_file(native, "triplet", tmp_path / "t.jsonl")
    expected = '{"anchor":"Größe?","positive":"日本語","negative":"é"}\n'
    assert (tmp_path / "t.jsonl").read_text(encoding="utf-8") == expected


def test_negatives_marked_as_false_negatives_are_left_out_of_every_format(tmp_path):
    import json

    from negmine.export.native import dumps_row, make_row
    from negmine.export.registry import export_summary

    native = tmp_path / "clean.jsonl"
    rows = [
        make_row(query_id="q1", query="q one", positive_id="p1", positive="pos one", positive_score=0.9,
                 negative_ids=["a", "b", "c"], negatives=["neg a", "neg b", "neg c"], negative_scores=[0.8, 0.7, 0.6],
                 negative_ranks=[2, 3, 4], negative_flags=[None, "false_negative", None]),
        make_row(query_id="q2", query="q two", positive_id="p2", positive="pos two", positive_score=0.9,
                 negative_ids=["d"], negatives=["neg d"], negative_scores=[0.8], negative_ranks=[2],
                 negative_flags=["false_negative"]),
    ]
    native.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    stats = {fmt: export_file(native, fmt, tmp_path / f"clean.{fmt}.jsonl") for fmt in sorted(EXPORTERS)}
    for fmt, st in stats.items():
        text = (tmp_path / f"clean.{fmt}.jsonl").read_text()
        assert "neg b" not in text and "neg d" not in text and "neg a" in text and "neg c" in text, fmt
        assert st.flagged_left_out == 2 and st.skipped == {"row has no negatives": 1}, fmt
    ntuple = [json.loads(line) for line in (tmp_path / "clean.n-tuple.jsonl").read_text().splitlines()]
    assert ntuple == [{"anchor": "q one", "positive": "pos one", "negative_1": "neg a", "negative_2": "neg c"}]
    assert export_summary(stats)["export_flagged_left_out"] == 2


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_texts_with_unicode_line_separators_stay_one_record_per_line(fmt, tmp_path):
    """JSON leaves U+0085, U+2028 and U+2029 raw, and ``str.splitlines()`` splits at them: a reader doing
    ``read_text().splitlines()`` (this suite's own helpers do) got a record cut in two."""
    import json

    from negmine.export.native import dumps_row, make_row

    native = tmp_path / "n.jsonl"
    row = make_row(
        query_id="q", query="a\u2028b", positive_id="p", positive="c\x85d", positive_score=0.5,
        negative_ids=["n"], negatives=["e\u2029f 日本"], negative_scores=[0.1], negative_ranks=[3],
    )
    native.write_text(dumps_row(row), encoding="utf-8")
    out = tmp_path / f"e.{fmt}.jsonl"
    export_file(native, fmt, out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == (2 if fmt == "labeled-pair" else 1)  # labeled-pair: the positive's, the negative's
    texts = json.dumps(records, ensure_ascii=False)
    assert all(text in texts for text in ("a\u2028b", "c\x85d", "e\u2029f 日本"))


def test_an_export_that_left_out_every_row_warns_with_the_reasons(tmp_path):
    """An audit that dropped every row's negatives left empty exports, said only by the summary's "left out" line;
    datasets.load_dataset("json", ...) then failed on the empty file with a bare StopIteration."""
    from negmine.errors import NegmineWarning
    from negmine.export.native import dumps_row, make_row

    native = tmp_path / "n.jsonl"
    row = make_row(query_id="q", query="x", positive_id="p", positive="y", positive_score=0.5, negative_ids=[],
                   negatives=[], negative_scores=[], negative_ranks=[])
    native.write_text(dumps_row(row), encoding="utf-8")
    out = tmp_path / "t.jsonl"
    with pytest.warns(NegmineWarning) as caught:
        export_file(native, "triplet", out)
    assert [str(w.message) for w in caught] == [
        f"export {out} holds no records: the native file's one row was left out (row has no negatives "
        "(1)), so a trainer has nothing to read; datasets.load_dataset(\"json\", ...) fails on the empty file "
        "(StopIteration)"]
    no_loader = r"left out \(row has no negatives \(1\)\), so a trainer has nothing to read$"
    with pytest.warns(NegmineWarning, match=no_loader):
        export_file(native, "labeled-list", tmp_path / "l.parquet")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    export_file(empty, "triplet", tmp_path / "e.jsonl")  # no rows, nothing left out: no warning


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_registered_format_is_written_by_name_and_listed(suffix, native_file, tmp_path):
    from negmine.export.registry import export_format_names, export_format_origin
    from negmine.testing.plugins import QueryNegativeExporter, registered

    with registered(QueryNegativeExporter()):
        assert export_format_names()[-1] == "query-negative"
        stats = export_file(native_file, "query-negative", tmp_path / f"x{suffix}")
        assert export_format_origin("query-negative")["qualname"] == "QueryNegativeExporter"
    assert (stats.rows_in, stats.records_out) == (3, 8)
    records = _records(tmp_path / f"x{suffix}")
    assert records[:2] == [{"query": "query q1", "negative": "negative 0 for q1"},
                           {"query": "query q1", "negative": "negative 1 for q1"}]
    with pytest.raises(ConfigError, match="unknown export format 'query-negative'"):
        get_exporter("query-negative")  # registered for the block only


def test_a_format_name_is_registered_once_and_a_built_in_never_replaced():
    import negmine
    from negmine.testing.plugins import QueryNegativeExporter, registered

    with registered(QueryNegativeExporter()):
        with pytest.raises(ConfigError, match=r"^export format 'query-negative' is already registered \(registered by "
                                              r"register_export_format from module negmine.testing.plugins\); pass "
                                              r"replace=True to register_export_format to replace it"):
            negmine.register_export_format(QueryNegativeExporter())
        again = QueryNegativeExporter()
        assert negmine.register_export_format(again, replace=True) is again and get_exporter("query-negative") is again

        class Triplet(QueryNegativeExporter):
            name = "triplet"

        with pytest.raises(ConfigError, match=r"^export format 'triplet' is built in and cannot be replaced; give "
                                              r"yours another name \(built in: triplet, n-tuple, "):
            negmine.register_export_format(Triplet(), replace=True)


def _records(path):
    import json

    import pyarrow.parquet as pq

    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_stale_exports_are_those_of_every_known_format_and_of_the_formats_the_summary_records(tmp_path):
    import json

    from negmine.export.registry import remove_stale_exports

    native, summary = tmp_path / "neg.jsonl", tmp_path / "neg.summary.json"
    kept = [tmp_path / "neg.clean.jsonl", tmp_path / "other.mine.jsonl", tmp_path / "neg.jsonl"]
    gone = [tmp_path / "neg.triplet.parquet", tmp_path / "neg.mine.jsonl", tmp_path / "neg.mine.parquet"]
    for path in (*kept, *gone):
        path.write_text("x")
    recorded = {"mine": str(tmp_path / "neg.mine.jsonl"), "clean": str(tmp_path / "neg.clean.jsonl.bak"),
                "../other": str(kept[1]), "other": str(kept[1])}
    summary.write_text(json.dumps({"exports": recorded}))
    remove_stale_exports(native, summary)
    assert [p.exists() for p in (*kept, *gone, summary)] == [True] * 3 + [False] * 4
    remove_stale_exports(native, summary)  # no summary any more: nothing recorded, no error
