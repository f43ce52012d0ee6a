import pytest

from negmine.errors import NegmineWarning
from negmine.export.registry import export_file
from negmine.testing.native_rows import pair_row, write_native


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
    assert plain["pos"] == [["positive text for q1 p1", "promoted d1 for q1", "promoted d2 for q1",
                             "positive text for q1 p2"], ["positive text for q2"]], "q1 one record, d1 once"
    assert plain["neg"][0] == ["negative 0 for q1", "negative 1 for q1"]
    export_file(promoted_file, "flagembedding-scores", tmp_path / "fs.jsonl")
    scored = load_json_dataset(tmp_path / "fs.jsonl")
    assert scored["pos"] == plain["pos"]
    assert scored["pos_scores"] == [pytest.approx([0.8, 0.75, 0.72, 0.8]), [0.8]]

def test_a_multi_positive_query_is_one_record_with_every_positive_and_negatives_valid_for_all(tmp_path,
                                                                                             load_json_dataset):
    """FlagEmbedding draws one positive of ``pos`` per step and uses every other passage of the batch as an
    in-batch negative: two records of one query in a batch would push each other's positive away. q1's rows are
    apart in the file (q2 between); p1's row has n1 (0.8), which scores above q1's weaker positive p2 (0.5), so it
    is not a negative of p2 and must not be in q1's shared ``neg``; n3 (0.3) passes both rows' filters."""
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)]),
        pair_row("q2", "r1", 0.7, [("m1", 0.6)]),
        pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)]),
    ])
    stats = export_file(native, "flagembedding-scores", tmp_path / "f.jsonl")
    assert (stats.rows_in, stats.records_out, stats.skipped) == (3, 2, {})
    by_query = {r["query"]: r for r in load_json_dataset(tmp_path / "f.jsonl")}
    assert by_query["query q1"] == {"query": "query q1", "pos": ["text p1", "text p2"], "neg": ["text n2", "text n3"],
                                    "pos_scores": pytest.approx([0.9, 0.5]), "neg_scores": pytest.approx([0.4, 0.3])}
    assert by_query["query q2"]["pos"] == ["text r1"] and by_query["query q2"]["neg"] == ["text m1"]


def test_no_negative_is_a_positive_or_a_flagged_document_of_another_row_of_its_query(tmp_path, load_json_dataset):
    """In a file not mined by negmine a row can list a sibling's positive, or a document another row of the
    query marked as a false negative, among its negatives: neither may be a negative of the query's record."""
    from negmine.export.base import SKIP_NO_NEGATIVES
    from negmine.export.flagembedding import SKIP_NO_SHARED_NEGATIVE

    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("p2", 0.8), ("x", 0.7), ("n", 0.6)], negative_flags=[None, "false_negative", None]),
        pair_row("q1", "p2", 0.85, [("p1", 0.82), ("x", 0.7), ("n", 0.6)]),
        pair_row("q1", "p3", 0.2, []),
    ])
    stats = export_file(native, "flagembedding", tmp_path / "f.jsonl")
    assert (stats.records_out, stats.skipped, stats.flagged_left_out) == (1, {SKIP_NO_NEGATIVES: 1}, 1)
    assert load_json_dataset(tmp_path / "f.jsonl")[0] == {"query": "query q1", "pos": ["text p1", "text p2"],
                                                          "neg": ["text n"]}
    only_positives = write_native(tmp_path / "p.jsonl", [pair_row("q1", "p1", 0.9, [("p2", 0.8)]),
                                                   pair_row("q1", "p2", 0.85, [("p1", 0.82)])])
    with pytest.warns(NegmineWarning, match="holds no records"):
        stats = export_file(only_positives, "flagembedding", tmp_path / "g.jsonl")
    assert (stats.records_out, stats.skipped) == (0, {SKIP_NO_SHARED_NEGATIVE: 2})


def test_judge_scores_fill_pos_and_neg_scores_of_the_same_documents(tmp_path, load_json_dataset):
    """``flagembedding-scores`` with ``scores_from="judge"`` (``--export-scores-from judge``, no ``--export-scores``
    needed): ``pos_scores``/``neg_scores`` are the judge's, promoted documents' included, while the negatives are
    chosen by the mining scores as always. The judge ranks the negatives otherwise (n1 lowest, n3 highest), so a
    choice by its scores would have kept n1 and left out n3."""
    native = write_native(tmp_path / "m.jsonl", [
        pair_row("q1", "p1", 0.9, [("n1", 0.8), ("n2", 0.4)], judge_positive_score=1.0,
                 judge_negative_scores=[-3.0, 4.0], extra_positive_ids=["d9"], extra_positives=["text d9"],
                 extra_positive_scores=[0.85], judge_extra_positive_scores=[8.0]),
        pair_row("q2", "r1", 0.7, [("m1", 0.6)], judge_positive_score=2.0, judge_negative_scores=[0.5]),
        pair_row("q1", "p2", 0.5, [("n2", 0.4), ("n3", 0.3)], judge_positive_score=3.0,
                 judge_negative_scores=[4.0, 6.0]),
    ])
    export_file(native, "flagembedding", tmp_path / "f.jsonl")
    export_file(native, "flagembedding-scores", tmp_path / "fs.jsonl", scores_from="judge")
    plain = {r["query"]: r for r in load_json_dataset(tmp_path / "f.jsonl")}
    judged = {r["query"]: r for r in load_json_dataset(tmp_path / "fs.jsonl")}
    assert judged["query q1"] == {"query": "query q1", "pos": ["text p1", "text d9", "text p2"],
                                  "neg": ["text n2", "text n3"], "pos_scores": [1.0, 8.0, 3.0],
                                  "neg_scores": [4.0, 6.0]}
    assert judged["query q2"]["pos_scores"] == [2.0] and judged["query q2"]["neg_scores"] == [0.5]
    assert all(judged[q]["pos"] == plain[q]["pos"] and judged[q]["neg"] == plain[q]["neg"] for q in plain)
    export_file(native, "flagembedding-scores", tmp_path / "fs.jsonl")
    mining = {r["query"]: r for r in load_json_dataset(tmp_path / "fs.jsonl")}
    assert mining["query q1"]["neg_scores"] == pytest.approx([0.4, 0.3]), "the mining scores by default"


def test_judge_scores_of_a_file_without_them_are_refused_for_flagembedding_scores(native_file, tmp_path):
    from negmine.errors import InputError

    with pytest.raises(InputError, match=r"field 'judge_positive_score': row \(q1, q1-pos\) has no judge scores, so "
                       r"--export-scores-from judge has nothing to write"):
        export_file(native_file, "flagembedding-scores", tmp_path / "fs.jsonl", scores_from="judge")
    assert not (tmp_path / "fs.jsonl").exists()
    export_file(native_file, "flagembedding", tmp_path / "f.jsonl", scores_from="judge")  # writes no scores: unread
