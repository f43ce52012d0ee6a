import pytest

from negmine.errors import NegmineWarning
from negmine.export.native import dumps_row
from negmine.export.ntuple import SKIP_SHORT
from negmine.export.registry import export_file


def test_fixed_width_and_short_rows_skipped(native_file, tmp_path, load_json_dataset):
    out = tmp_path / "n.jsonl"
    stats = export_file(native_file, "n-tuple", out)
    assert (stats.rows_in, stats.records_out) == (3, 2)
    assert stats.skipped == {SKIP_SHORT: 1} and stats.rows_skipped == 1
    ds = load_json_dataset(out)
    assert ds.column_names == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    assert ds["anchor"] == ["query q1", "query q3"]
    assert ds[1]["negative_3"] == "negative 2 for q3"


def test_all_rows_full_width(native_file, tmp_path):
    lines = native_file.read_text().splitlines()
    full = tmp_path / "full.jsonl"
    full.write_text("\n".join([lines[0], lines[2]]) + "\n")
    stats = export_file(full, "n-tuple", tmp_path / "out.jsonl")
    assert (stats.records_out, stats.skipped) == (2, {})


def test_trains_with_multiple_negatives_ranking_loss(native_file, tmp_path, load_json_dataset, mnrl_train_step):
    import math

    out = tmp_path / "n.jsonl"
    export_file(native_file, "n-tuple", out)
    loss = mnrl_train_step(load_json_dataset(out))
    assert math.isfinite(loss) and loss > 0


def test_each_promoted_document_is_an_extra_record_with_the_row_s_negatives(promoted_file, tmp_path,
                                                                           load_json_dataset):
    out = tmp_path / "n.jsonl"
    stats = export_file(promoted_file, "n-tuple", out)
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 5, {})
    ds = load_json_dataset(out)
    assert ds["positive"] == ["positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1",
                              "positive text for q1 p2", "positive text for q2"]
    assert ds[1] == {"anchor": "query q1", "positive": "promoted d1 for q1", "negative_1": "negative 0 for q1",
                     "negative_2": "negative 1 for q1"}


def test_a_short_row_s_promoted_documents_are_skipped_with_it(promoted_file, native_file, tmp_path):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(promoted_file.read_text() + native_file.read_text().splitlines()[0] + "\n")  # 3 negatives
    stats = export_file(mixed, "n-tuple", tmp_path / "n.jsonl")
    assert (stats.records_out, stats.skipped) == (1, {SKIP_SHORT: 3})


def test_a_chosen_width_keeps_the_first_negatives_of_wider_rows_and_skips_narrower_ones(native_file, tmp_path,
                                                                                      load_json_dataset):
    out = tmp_path / "n2.jsonl"
    stats = export_file(native_file, "n-tuple", out, ntuple_negatives=2)  # q1, q3: 3 negatives; q2: 2
    assert (stats.records_out, stats.skipped) == (3, {})
    ds = load_json_dataset(out)
    assert ds.column_names == ["anchor", "positive", "negative_1", "negative_2"]
    assert ds[0]["negative_2"] == "negative 1 for q1" and ds["anchor"] == ["query q1", "query q2", "query q3"]
    with pytest.warns(NegmineWarning, match=r"^ntuple_negatives=4 \(--ntuple-negatives 4\) is above the widest row's 3 "
                                            r"negatives: .* holds no rows; use ntuple_negatives=3 \(--ntuple-negatives 3\) "
                                            r"\(or fewer\)"):
        stats = export_file(native_file, "n-tuple", tmp_path / "n4.jsonl", ntuple_negatives=4)
    assert (stats.records_out, stats.skipped) == (0, {SKIP_SHORT: 3})


def test_an_audited_file_exports_its_narrower_rows_at_a_chosen_width(tmp_path):
    """After an audit drops a negative from some rows, the default width (the widest row) skips exactly those
    rows; --ntuple-negatives keeps them."""
    from negmine.config import OutputConfig

    from .conftest import _row

    path = tmp_path / "clean.jsonl"
    rows = [_row("q1", 5), _row("q2", 4), _row("q3", 4)]  # q2, q3 lost a negative to the audit
    path.write_text("".join(dumps_row(r) for r in rows))
    assert export_file(path, "n-tuple", tmp_path / "a.jsonl").records_out == 1
    assert export_file(path, "n-tuple", tmp_path / "b.jsonl", ntuple_negatives=4).records_out == 3
    OutputConfig(formats=("n-tuple",), ntuple_negatives=4).validate()
