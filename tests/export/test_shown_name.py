"""An export's warnings name its file, or, inside exports_named_by_format (mine_dataset's temporary file), its
format."""

from __future__ import annotations

import pytest

from negmine.errors import NegmineWarning
from negmine.export.native import dumps_row, make_row
from negmine.export.registry import export_file
from negmine.export.shown_name import export_name, exports_named_by_format


def _native(tmp_path):
    rows = [make_row(query_id=f"q{i}", query="x", positive_id=f"p{i}", positive="y", positive_score=0.5,
                     negative_ids=["n"], negatives=["z"], negative_scores=[0.1], negative_ranks=[1]) for i in range(2)]
    rows.append(make_row(query_id="q9", query="x", positive_id="p9", positive="y", positive_score=0.5,
                         negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[]))
    native = tmp_path / "n.jsonl"
    native.write_text("".join(dumps_row(row) for row in rows[2:]), encoding="utf-8")
    wide = tmp_path / "w.jsonl"
    wide.write_text("".join(dumps_row(row) for row in rows[:2]), encoding="utf-8")
    return native, wide


def test_inside_an_export_is_named_by_its_format_and_no_file_loader_is_mentioned(tmp_path):
    native, wide = _native(tmp_path)
    with exports_named_by_format(), pytest.warns(NegmineWarning) as caught:
        export_file(native, "triplet", tmp_path / "t.jsonl")
        export_file(wide, "n-tuple", tmp_path / "n.parquet", ntuple_negatives=2)
    assert [str(w.message) for w in caught] == [
        "export 'triplet' holds no records: the native file's one row was left out (row has no negatives "
        "(1)), so a trainer has nothing to read",
        "ntuple_negatives=2 (--ntuple-negatives 2) is above the widest row's 1 negative: every row has fewer than 2, "
        "so the n-tuple export 'n-tuple' holds no rows; use ntuple_negatives=1 (--ntuple-negatives 1) (or fewer) to "
        "keep the rows with 1"]


def test_outside_and_after_an_export_is_named_by_its_path(tmp_path):
    native, _ = _native(tmp_path)
    with exports_named_by_format():
        assert export_name("triplet", tmp_path / "t.jsonl") == "'triplet'"
    assert export_name("triplet", tmp_path / "t.jsonl") == str(tmp_path / "t.jsonl")
    with pytest.warns(NegmineWarning, match=rf"^export {tmp_path / 't.jsonl'} holds no records: .*\(StopIteration\)$"):
        export_file(native, "triplet", tmp_path / "t.jsonl")
