import json

import pytest

from negmine.config import EXPORT_FILE_TYPES, OutputConfig
from negmine.errors import ConfigError
from negmine.export import sinks
from negmine.export.base import text_columns
from negmine.export.registry import EXPORTERS, export_file


def test_file_types_agree_with_the_config():
    assert tuple(sinks.SUFFIXES) == EXPORT_FILE_TYPES
    assert [sinks.file_type(f"x{suffix}") for suffix in sinks.SUFFIXES.values()] == list(EXPORT_FILE_TYPES)
    assert sinks.file_type("x.PARQUET") == "parquet" and sinks.file_type("x.json") == "jsonl"


def test_bad_export_as_names_the_allowed_values_and_the_flag():
    with pytest.raises(ConfigError) as info:
        OutputConfig(export_as="csv").validate()
    assert str(info.value) == "unknown export file type 'csv'; allowed: jsonl, parquet (use e.g. export_as='parquet' (--export-as parquet))"


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_parquet_holds_the_same_records_as_jsonl(fmt, native_file, tmp_path):
    import pyarrow.parquet as pq

    jsonl, parquet = tmp_path / "e.jsonl", tmp_path / "e.parquet"
    stats_j = export_file(native_file, fmt, jsonl)
    stats_p = export_file(native_file, fmt, parquet)
    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    table = pq.read_table(parquet)
    assert table.to_pylist() == records and len(records) == stats_p.records_out == stats_j.records_out > 0
    assert table.schema == EXPORTERS[fmt].arrow_schema(_shape(native_file, fmt))
    assert parquet.read_bytes()[:4] == b"PAR1"


def _shape(native_file, fmt):
    from negmine.export.base import ExportShape, scan_shape
    from negmine.export.native import read_native

    return scan_shape(read_native(native_file)) if EXPORTERS[fmt].needs_scan else ExportShape()


@pytest.mark.parametrize("fmt", sorted(EXPORTERS))
def test_parquet_bytes_are_deterministic(fmt, native_file, tmp_path):
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    export_file(native_file, fmt, a)
    export_file(native_file, fmt, b)
    assert a.read_bytes() == b.read_bytes()


def test_an_export_without_records_keeps_its_columns(tmp_path):
    import pyarrow.parquet as pq

    native = tmp_path / "n.jsonl"
    native.write_text("")
    export_file(native, "n-tuple", tmp_path / "t.parquet")
    table = pq.read_table(tmp_path / "t.parquet")
    assert table.num_rows == 0 and table.column_names == ["anchor", "positive"]


def test_row_groups_bound_the_buffer(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    monkeypatch.setattr(sinks, "ROW_GROUP_RECORDS", 2)
    with sinks.open_sink(tmp_path / "x.parquet", text_columns("a")) as write:
        for i in range(5):
            write({"a": str(i)})
    meta = pq.ParquetFile(tmp_path / "x.parquet").metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [2, 2, 1]
    assert pq.read_table(tmp_path / "x.parquet").column("a").to_pylist() == ["0", "1", "2", "3", "4"]


def test_a_record_off_the_schema_fails_and_leaves_no_file(tmp_path):
    target = tmp_path / "x.parquet"
    with pytest.raises(ValueError, match=r"record columns \['b'\] do not match the export schema \['a'\]"):
        with sinks.open_sink(target, text_columns("a")) as write:
            write({"b": "1"})
    assert list(tmp_path.iterdir()) == []


def test_a_failure_keeps_the_previous_parquet_file(native_file, tmp_path):
    out = tmp_path / "t.parquet"
    export_file(native_file, "triplet", out)
    before = out.read_bytes()
    with native_file.open("a") as handle:
        handle.write('{"query_id": "q4"}\n')
    with pytest.raises(Exception, match="negatives.jsonl:4"):
        export_file(native_file, "triplet", out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["negatives.jsonl", "t.parquet"]


def test_sentence_transformers_datasets_load_the_parquet_n_tuple(native_file, tmp_path):
    from datasets import load_dataset

    export_file(native_file, "n-tuple", tmp_path / "t.parquet")
    data = load_dataset("parquet", data_files=str(tmp_path / "t.parquet"), split="train",
                        cache_dir=str(tmp_path / "hf"))
    assert data.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    assert data.num_rows == 2  # q2 has 2 negatives, not the file's 3: skipped, as in JSONL
