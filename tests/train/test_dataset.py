import pytest

from negmine.errors import ConfigError, NegmineWarning
from negmine.train.dataset import choose_negatives, known_positive_keys, rows_to_train_data
from negmine.train.labels import split_label, text_key


def _dropped(count: int, total: int, num_negatives: int):
    """Expects the NegmineWarning of rows with too few negatives (rows given as a list: no file name)."""
    has, are, them = ("has", "is", "it") if count == 1 else ("have", "are", "them")
    return pytest.warns(NegmineWarning, match=rf"^<rows>: {count} of {total} rows {has} fewer than {num_negatives} "
                                              rf"negatives and {are} left out of training \(dropped_few_negatives in the "
                                              rf"summary\); lower num_negatives \(--num-negatives\) to keep {them}$")


def _row(qid, pid, negs, flags=None, **extra):
    row = {
        "query_id": qid, "query": f"query {qid}", "positive_id": pid, "positive": f"doc {pid}",
        "positive_score": 0.9, "negative_ids": list(negs), "negatives": [f"doc {n}" for n in negs],
        "negative_scores": [0.5] * len(negs), "negative_ranks": list(range(1, len(negs) + 1)),
    }
    if flags is not None:
        row["negative_flags"] = flags
    row.update(extra)
    return row


def test_columns_in_loss_order_and_short_rows_dropped():
    rows = [_row("q1", "d1", ["d5", "d6", "d7"]), _row("q2", "d2", ["d8"]), _row("q3", "d3", ["d9", "d10"])]
    with _dropped(1, 3, 2):
        data = rows_to_train_data(rows, num_negatives=2)
    assert data.dataset.column_names == ["anchor", "positive", "negative_1", "negative_2", "label"]
    assert data.dataset["anchor"] == ["query q1", "query q3"]
    assert data.dataset["negative_2"] == ["doc d6", "doc d10"]
    assert data.stats.rows_read == 3 and data.stats.rows_kept == 2 and data.stats.dropped_few_negatives == 1
    assert data.row_of_pair == {("q1", "d1"): 0, ("q3", "d3"): 1}


def test_zero_negatives_gives_pairs():
    data = rows_to_train_data([_row("q1", "d1", [])], num_negatives=0)
    assert data.dataset.column_names == ["anchor", "positive", "label"]


def test_unflagged_negatives_are_preferred_and_flagged_ones_marked():
    assert choose_negatives([None, "false_negative", None, None], 2) == [0, 2]
    assert choose_negatives(["false_negative", None], 2) == [1, 0]
    row = _row("q1", "d1", ["d5", "d6", "d7"], flags=["false_negative", None, None])
    data = rows_to_train_data([row, _row("q2", "d2", ["d5", "d8"], flags=["false_negative", None])], 2)
    assert data.dataset["negative_1"] == ["doc d6", "doc d8"]
    assert data.dataset["negative_2"] == ["doc d7", "doc d5"]
    import torch

    parts = split_label(torch.tensor(data.dataset["label"]), 2)
    assert parts.flags.tolist() == [[0, 0], [0, 1]]
    assert data.stats.flagged_negatives_kept == 1


def test_label_carries_row_keys_and_all_known_positives_of_the_query():
    rows = [
        _row("q1", "d1", ["d5"], extra_positive_ids=["d5"]),
        _row("q1", "d2", ["d6"], false_negative_ids=["d9"]),
        _row("q2", "d3", ["d9"], extra_positive_ids=["unknown-id"]),
    ]
    data = rows_to_train_data(rows, 1)
    import torch

    parts = split_label(torch.tensor(data.dataset["label"]), 1)
    assert parts.rows.tolist() == [0, 1, 2]
    assert parts.doc_keys[0].tolist() == [text_key("doc d1"), text_key("doc d5")]
    q1_known = sorted(text_key(f"doc {d}") for d in ("d1", "d2", "d5", "d9"))
    assert parts.known[0].tolist() == q1_known and parts.known[1].tolist() == q1_known
    # q2 knows only d3 (the unknown id has no text in the file); padded with 0 to the widest row
    assert parts.known[2].tolist() == [text_key("doc d3"), 0, 0, 0]
    assert data.known_keys["q2"] == [text_key("doc d3")]


def test_identical_texts_share_a_key():
    rows = [_row("q1", "d1", ["d5"]), _row("q2", "d2", ["d6"])]
    rows[1]["negatives"] = ["doc d1"]  # a duplicate of q1's positive under another id
    keys = known_positive_keys(rows)
    assert keys["q1"] == [text_key("doc d1")]
    assert text_key("doc d1") == text_key("doc d1") != text_key("doc d12")


def test_queries_with_one_text_pool_their_known_positives_and_variants_of_a_positive_are_masked():
    """Mining pools the positives of queries with the same normalised text and never takes a case or spacing
    variant of a positive for a negative; training masks the same documents in a batch."""
    import torch

    from negmine.train.losses.masking import candidate_keys, known_positive_mask

    rows = [_row("q1", "d1", ["d5"]), _row("q1", "d2", ["d6"]), _row("q9", "d9", ["d7"]), _row("q3", "d3", ["d8"])]
    rows[2].update(query="QUERY  q1", positive="DOC  d2")  # q1 asked again (other case, spacing), d2 re-typed
    rows[3]["positive"] = "Doc d1"  # another query's positive: d1 in other case
    data = rows_to_train_data(rows, 1)
    assert data.known_ids["q9"] == data.known_ids["q1"] == {"d1", "d2", "d9"}
    parts = split_label(torch.tensor(data.dataset["label"]), 1)
    mask = known_positive_mask(candidate_keys(parts.doc_keys), parts.known)
    positives = mask[:, :4].tolist()  # the columns of the four rows' positives
    assert positives[0] == [True, True, True, True], "q1 masks its siblings, the re-asked query's and d1's copy"
    assert positives[2] == [True, True, True, True], "the re-asked query masks q1's positives"
    assert positives[3] == [True, False, False, True], "q3's positive is d1's text: d1 is never q3's negative"


def test_no_usable_row_is_a_config_error_naming_file_and_fix():
    rows = [_row("q1", "d1", ["d5"]), _row("q2", "d2", ["d6", "d7"])]
    with pytest.raises(ConfigError, match=r"mined\.jsonl: no row has at least 3 negatives .* lower num_negatives \(--num-negatives\) to 2"):
        rows_to_train_data(rows, 3, source="mined.jsonl")
    with pytest.raises(ConfigError, match="no rows"):
        rows_to_train_data([], 1, source="empty.jsonl")
    with pytest.raises(ConfigError, match=r"mined\.jsonl: no row has at least 1 negative \(the most"):  # not '1 negatives'
        rows_to_train_data([_row("q1", "d1", [])], 1, source="mined.jsonl")


def _promoted(row, *docs):
    """``row`` after an audit promoted ``docs`` (ids) out of some other negatives: texts "doc <id>"."""
    return {**row, "extra_positive_ids": list(docs), "extra_positives": [f"doc {d}" for d in docs],
            "extra_positive_scores": [0.8] * len(docs)}


def test_promoted_documents_become_extra_pairs_with_the_row_s_negatives_once_per_query():
    rows = [
        _promoted(_row("q1", "d1", ["d5", "d6", "d7"], flags=[None, "false_negative", None]), "p1", "p2"),
        _promoted(_row("q1", "d2", ["d5", "d7"]), "p1"),  # p1 again: one pair per query
        _promoted(_row("q2", "d3", ["d8"]), "p3"),  # too few negatives: dropped with its promotion
    ]
    with _dropped(1, 3, 2):
        data = rows_to_train_data(rows, 2)
    ds = data.dataset
    assert ds["positive"] == ["doc d1", "doc p1", "doc p2", "doc d2"]
    assert ds["anchor"] == ["query q1"] * 4
    assert ds["negative_1"] == ["doc d5", "doc d5", "doc d5", "doc d5"]
    assert ds["negative_2"] == ["doc d7", "doc d7", "doc d7", "doc d7"]
    assert (data.stats.rows_kept, data.stats.promoted_pairs, data.stats.dropped_few_negatives) == (2, 2, 1)
    assert data.row_of_pair == {("q1", "d1"): 0, ("q1", "d2"): 3}, "re-mining swaps the mined pairs only"
    import torch

    parts = split_label(torch.tensor(ds["label"]), 2)
    assert parts.rows.tolist() == [0, 1, 2, 3]
    assert parts.doc_keys[1].tolist() == [text_key("doc p1"), text_key("doc d5"), text_key("doc d7")]
    q1_known = sorted(text_key(f"doc {d}") for d in ("d1", "d2", "p1", "p2"))
    assert all(k == q1_known for k in parts.known.tolist())


def test_promoted_documents_are_known_positives_even_when_their_text_is_nowhere_else():
    """Promotion removes a document from every negative list of its query: its text is only in extra_positives."""
    rows = [_promoted(_row("q1", "d1", ["d5"]), "p9"), _row("q2", "d2", ["d6"])]
    assert known_positive_keys(rows)["q1"] == sorted([text_key("doc d1"), text_key("doc p9")])


def test_in_batch_the_promoted_pair_and_its_row_mask_each_other_s_positive():
    import torch

    from negmine.train.losses.masking import false_negative_mask

    rows = [_promoted(_row("q1", "d1", ["d5"]), "p9"), _row("q2", "d2", ["d6"])]
    labels = torch.tensor(rows_to_train_data(rows, 1).dataset["label"])  # rows: q1/d1, q1/p9, q2/d2
    sim = torch.zeros(3, 6)  # candidates: positives d1, p9, d2; negatives d5, d5, d6
    mask = false_negative_mask(sim, labels, torch.arange(3), 1, margin=None)
    assert mask.tolist() == [
        [False, True, False, False, False, False],
        [True, False, False, False, False, False],
        [False, False, False, False, False, False],
    ]


def test_no_duplicates_batching_yields_every_row_and_never_a_pair_with_its_row():
    from sentence_transformers.base.sampler import NoDuplicatesBatchSampler

    rows = [_promoted(_row(f"q{i}", f"d{i}", [f"n{i}a", f"n{i}b"]), f"p{i}", f"r{i}") for i in range(6)]
    data = rows_to_train_data(rows, 2)
    assert len(data.dataset) == 18
    sampler = NoDuplicatesBatchSampler(data.dataset, batch_size=4, drop_last=False, valid_label_columns=["label"])
    batches = list(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(18))
    anchors = data.dataset["anchor"]
    assert all(len({anchors[i] for i in batch}) == len(batch) for batch in batches)


def test_a_mined_file_with_a_repeated_row_trains_on_the_pair_once_with_a_warning(tmp_path):
    """`negmine train` read a file with the same (query, positive) row twice in full, without a word: the pair
    was trained on twice (and, in one batch, the copy's positive was an in-batch negative of the other)."""
    import json

    from negmine.train.dataset import load_train_data

    rows = [_row("q1", "d1", ["d5", "d6"]), _row("q2", "d2", ["d7", "d8"])]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, rows[0]]), encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        data = load_train_data(path, num_negatives=2)
    assert data.dataset["anchor"] == ["query q1", "query q2"] and data.stats.rows_read == 2
    [shown] = [str(w.message) for w in caught if "repeated" in str(w.message)]
    assert shown.startswith(f"{path}: 1 repeated (query_id, positive_id) row skipped")
    assert "(line 3 repeats line 1)" in shown


def test_rows_left_out_for_too_few_negatives_are_named_in_a_warning():
    """They were counted in the summary only: a file whose rows an audit shortened trained on part of itself."""
    import warnings

    from negmine.errors import NegmineWarning

    rows = [_row("q1", "d1", ["d5", "d6", "d7"]), _row("q2", "d2", ["d8"]), _row("q3", "d3", ["d9"])]
    with pytest.warns(NegmineWarning, match=r"^m.jsonl: 2 of 3 rows have fewer than 2 negatives and are left out of "
                                            r"training \(dropped_few_negatives in the summary\); lower num_negatives "
                                            r"\(--num-negatives\) to keep them$"):
        rows_to_train_data(rows, num_negatives=2, source="m.jsonl")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rows_to_train_data(rows, num_negatives=1, source="m.jsonl")


def test_warnings_reading_a_mined_file_point_at_the_callers_line(tmp_path):
    """train() reads its file with load_train_data; its warnings (a repeated row, rows with too few negatives)
    pointed at lines inside negmine (export/native.py, train/dataset.py), not at the user's call."""
    import json
    import warnings

    from negmine.train.dataset import load_train_data

    rows = [_row("q1", "d1", ["d5", "d6"]), _row("q2", "d2", ["d7"])]
    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*rows, rows[0]]), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_train_data(path, num_negatives=2)
    ours = [w for w in caught if issubclass(w.category, NegmineWarning)]
    starts = (f"{path}: 1 repeated (query_id, positive_id) row skipped", f"{path}: 1 of 2 rows has fewer than 2 ")
    assert [str(w.message).startswith(start) for w, start in zip(ours, starts)] == [True, True], ours
    assert [w.filename for w in ours] == [__file__, __file__]
