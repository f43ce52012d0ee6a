from __future__ import annotations

import pytest

from negmine.io.records import Dataset, Qrels, TextTable


def _dataset(kept: dict, all_qrels: dict | None) -> Dataset:
    docs = TextTable(["d1", "d2"], ["one", "two"])
    queries = TextTable([f"q{i}" for i in range(9)], [f"query {i}" for i in range(9)])
    return Dataset(docs, queries, Qrels(kept), all_qrels=Qrels(all_qrels) if all_qrels is not None else None)


def test_without_skipped_judgments_the_report_is_all_zero():
    data = _dataset({"q1": {"d1": 1}}, None)
    assert data.judged_qrels() is data.qrels
    assert data.skipped_qrels() == {
        "skipped": 0, "relevant_skipped": 0, "example_ids": [], "queries_without_positive": 0, "example_queries": [],
    }


def test_skipped_report_counts_every_row_and_limits_the_examples():
    all_qrels = {f"q{i}": {"d1": 0, f"gone{i}": 1, "shared": 0} for i in range(7)}
    all_qrels["q8"] = {"d2": 1}
    kept = {**{f"q{i}": {"d1": 0} for i in range(7)}, "q8": {"d2": 1}}
    report = _dataset(kept, all_qrels).skipped_qrels(examples=3)
    assert report["skipped"] == 14 and report["relevant_skipped"] == 7
    assert report["example_ids"] == ["gone0", "shared", "gone1"], "distinct ids, first seen first"
    assert report["queries_without_positive"] == 7 and report["example_queries"] == ["q0", "q1", "q2"]


def test_not_relevant_counts_the_judgments_scored_zero_or_below():
    qrels = Qrels({"q1": {"d1": 2, "d2": 0, "d3": 1}, "q2": {"d4": 0}, "q3": {"d5": -1}})
    assert qrels.not_relevant() == 3
    assert [tuple(p) for p in qrels.pairs()] == [("q1", "d1"), ("q1", "d3")], "graded 2 and 1 are both positives"


def test_tables_and_qrels_built_in_python_refuse_an_id_utf8_cannot_store():
    """The readers refuse a lone surrogate at its line; built in Python, such an id failed later, as a
    UnicodeEncodeError traceback when a run, mined or results file holding it was written."""
    from negmine.errors import InputError
    from negmine.io.records import Qrels, TextTable

    with pytest.raises(InputError, match=r"^<memory>: field '_id': id 'd\\udc80' holds the lone UTF-16 surrogate "
                       r"'\\udc80' at character 2, which UTF-8 cannot store"):
        TextTable(["ok", "d\udc80"], ["a", "b"])
    with pytest.raises(InputError, match=r"^qrels: field 'query-id': id 'q\\ud800' holds the lone UTF-16 surrogate"):
        Qrels({"q\ud800": {"d": 1}}, source="qrels")
    with pytest.raises(InputError, match=r"^<memory>: field 'corpus-id': id 'd\\ud800' holds"):
        Qrels({"q": {"d": 1, "d\ud800": 0}})
    assert len(TextTable(["caf\u00e9", "\U0001f600"], ["a", "b"])) == 2  # a paired surrogate is a real character


SURROGATE_TEXT = ("the {table} table's text of id {id!r} holds the lone UTF-16 surrogate {char!r} at character {at}, "
                  "which UTF-8 cannot store, so no model, hash or file can take it; the file readers refuse it, so it "
                  "was built in Python (e.g. from bytes decoded with errors='surrogateescape'): fix the text there, "
                  "e.g. decode the bytes with errors='replace'")


def test_a_dataset_built_in_python_refuses_a_text_utf8_cannot_store_naming_table_id_and_character():
    """``mine(config, dataset=...)`` failed with a UnicodeEncodeError traceback hashing such a text for duplicate
    exclusion (a corpus text: after the corpus was encoded), and ``evaluate`` with a tokenizer's TypeError."""
    from negmine.errors import InputError

    docs, queries = TextTable(["d1", "d2"], ["one", "café"]), TextTable(["q1"], ["query"])
    qrels = Qrels({"q1": {"d1": 1}})
    bad_docs = TextTable(["d1", "d2"], ["one", "caf\u00e9 \ud800 au lait"], source="corpus.jsonl")
    with pytest.raises(InputError) as info:
        Dataset(bad_docs, queries, qrels)
    assert str(info.value) == "corpus.jsonl: field 'text': " + SURROGATE_TEXT.format(table="corpus", id="d2",
                                                                                      char="\ud800", at=6)
    with pytest.raises(InputError) as info:
        Dataset(docs, TextTable(["q1"], ["\udcffquery"]), qrels)
    assert str(info.value) == "<memory>: field 'text': " + SURROGATE_TEXT.format(table="queries", id="q1",
                                                                                  char="\udcff", at=1)
    assert Dataset(docs, TextTable(["q1"], ["\U0001f600 query"]), qrels).queries.texts == ["\U0001f600 query"]
