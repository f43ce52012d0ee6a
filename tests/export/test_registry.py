import pytest

from negmine.errors import ConfigError, InputError
from negmine.export.registry import EXPORTERS, export_file, get_exporter


def test_registry_keys_match_names():
    assert set(EXPORTERS) == {"triplet", "n-tuple", "labeled-list", "flagembedding", "flagembedding-scores"}
    assert all(exporter.name == key for key, exporter in EXPORTERS.items())


def test_unknown_format_lists_keys(native_file, tmp_path):
    with pytest.raises(ConfigError) as err:
        export_file(native_file, "csv", tmp_path / "x.jsonl")
    assert str(err.value) == (
        "unknown export format 'csv'; allowed: flagembedding, flagembedding-scores, labeled-list, n-tuple, triplet"
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
