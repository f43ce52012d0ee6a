from __future__ import annotations

import json
from pathlib import Path

import pytest

from negmine.errors import ConfigError, InputError
from negmine.io.beir import check_qrels_docs, load_beir, load_beir_files, resolve_unknown_docs
from negmine.io.records import Qrels
from negmine.testing.beir import write_beir

HEADER = "query-id\tcorpus-id\tscore\n"


@pytest.fixture
def beir(tmp_path) -> Path:
    return write_beir(
        tmp_path / "mini",
        corpus={"d1": ("A Title", "first text"), "d2": "second text", "d3": ("  Only title ", "  ")},
        queries={"q1": "first?", "q2": "second?", "q3": "no positives"},
        qrels=[("q1", "d1", 1), ("q2", "d2", 2), ("q1", "d3", 1), ("q3", "d2", 0)],
    )


def _rewrite(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def _error(call, *args) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args)
    return info.value


# --- valid data -------------------------------------------------------------------------------------------


def test_load_beir_reads_texts_ids_and_qrels_in_file_order(beir):
    data = load_beir(beir, "train")
    assert data.name == "mini"
    assert data.corpus.ids == ["d1", "d2", "d3"]
    assert data.corpus.texts == ["A Title first text", "second text", "Only title"]
    assert data.queries.ids == ["q1", "q2", "q3"]
    assert data.qrels.judgments == {"q1": {"d1": 1, "d3": 1}, "q2": {"d2": 2}, "q3": {"d2": 0}}
    assert data.pairs() == [("q1", "d1"), ("q1", "d3"), ("q2", "d2")]
    assert data.qrels.query_ids() == ["q1", "q2"]  # q3 is judged only with score 0: allowed, no pairs
    assert data.corpus.source == str(beir / "corpus.jsonl")
    assert data.qrels.source == str(beir / "qrels" / "train.tsv")


def test_integer_ids_become_strings_and_extra_fields_are_ignored(tmp_path):
    folder = tmp_path / "ints"
    (folder / "qrels").mkdir(parents=True)
    _rewrite(folder / "corpus.jsonl", [{"_id": 10, "title": None, "text": " body ", "metadata": {"x": 1}}])
    _rewrite(folder / "queries.jsonl", ["", {"_id": 7, "text": "q"}, ""])
    (folder / "qrels" / "test.tsv").write_text(HEADER + "7\t10\t1\n\n")
    data = load_beir(folder, split="test")
    assert data.corpus.ids == ["10"] and data.corpus.texts == ["body"]
    assert data.queries.ids == ["7"]
    assert data.pairs() == [("7", "10")]


def test_load_beir_files_takes_explicit_paths(beir):
    data = load_beir_files(beir / "corpus.jsonl", beir / "queries.jsonl", beir / "qrels" / "train.tsv")
    assert len(data.corpus) == 3 and len(data.qrels) == 4
    assert data.name == "mini"
    named = load_beir_files(str(beir / "corpus.jsonl"), beir / "queries.jsonl", beir / "qrels" / "train.tsv", name="x")
    assert named.name == "x"


# --- corpus / queries rows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"title": "t", "text": "x"}, "_id", "missing"),
        ({"_id": 1.5, "text": "x"}, "_id", "must be a string (or an integer), got number"),
        ({"_id": True, "text": "x"}, "_id", "must be a string (or an integer), got boolean"),
        ({"_id": None, "text": "x"}, "_id", "must be a string (or an integer), got null"),
        ({"_id": ["a"], "text": "x"}, "_id", "must be a string (or an integer), got array"),
        ({"_id": "  ", "text": "x"}, "_id", "is empty"),
        ({"_id": "d10 ", "text": "x"}, "_id", "id 'd10 ' has whitespace at its start or end; ids are matched exactly"),
        ({"id": "d10", "text": "x"}, "_id", "missing (the row has 'id'; BEIR names the id field '_id')"),
        ({"_id": "d\t10", "text": "x"}, "_id", "id 'd\\t10' holds a tab at character 2, which a qrels TSV line "
         "cannot hold, so no judgment could name this id; remove it or replace it (e.g. with '-'), here and wherever "
         "the id is used"),
        ({"_id": "d1\n0", "text": "x"}, "_id", "id 'd1\\n0' holds a newline at character 3, which a qrels TSV line"),
        ({"_id": "d9", "title": "t"}, "text", "missing"),
        ({"_id": "d9", "text": None}, "text", "must be a string, got null"),
        ({"_id": "d9", "text": 5}, "text", "must be a string, got number"),
        ({"_id": "d9", "title": ["t"], "text": "x"}, "title", "must be a string, got array"),
        ({"_id": "d9", "title": " ", "text": " \n "}, "text", "empty text ('title' and 'text' are both empty"),
    ],
)
def test_bad_corpus_rows_name_file_line_and_field(beir, row, field, problem):
    path = _rewrite(beir / "corpus.jsonl", [{"_id": "d1", "text": "a"}, "", row])
    err = _error(load_beir, beir)
    assert (err.path, err.line, err.field) == (str(path), 3, field)
    assert str(err).startswith(f"{path}:3: field '{field}': {problem}")


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"title": "t", "text": "x"}, "_id", "missing; a BEIR line is {\"_id\": ..., \"text\": ...}: give each line an "
         "'_id' (unique in the file), in every line of the file"),
        ({"id": "d10", "text": "x"}, "_id", "missing (the row has 'id'; BEIR names the id field '_id'); a BEIR line is "
         "{\"_id\": ..., \"text\": ...}: rename its 'id' to '_id', in every line of the file"),
        ({"_id": 7.5, "text": "x"}, "_id", "must be a string (or an integer), got number 7.5; write the id as a JSON "
         "string, e.g. \"_id\": \"7.5\", and use the same id in the qrels"),
        ({"_id": None, "text": "x"}, "_id", "must be a string (or an integer), got null; write the id as a JSON "
         "string, e.g. \"_id\": \"d1\", and use the same id in the qrels"),
        ({"_id": ["a"], "text": "x"}, "_id", "must be a string (or an integer), got array [\"a\"]; write the id as a "
         "JSON string, e.g. \"_id\": \"d1\", and use the same id in the qrels"),
        ({"_id": "  ", "text": "x"}, "_id", "is empty (only whitespace); give line 3 its _id, or delete the line"),
        ({"_id": "", "text": "x"}, "_id", "is empty; give line 3 its _id, or delete the line"),
        ({"_id": "d9", "text": 5}, "text", "must be a string, got number 5; write the text as a JSON string "
         "(\"text\": \"...\")"),
        ({"_id": "d9", "title": ["t"], "text": "x"}, "title", "must be a string, got array [\"t\"]; write the title as "
         "a JSON string (\"title\": \"...\", or null or no key for none)"),
    ],
)
def test_bad_id_and_text_values_are_shown_with_the_fix(beir, row, field, problem):
    """The value as the line holds it and what to write instead: these read "missing", "must be a string (or an
    integer), got number", "is empty" alone."""
    path = _rewrite(beir / "corpus.jsonl", [{"_id": "d1", "text": "a"}, "", row])
    assert str(_error(load_beir, beir)) == f"{path}:3: field '{field}': {problem}"


def test_empty_qrels_id_says_what_to_do(beir):
    path = _qrels(beir, "query-id\tcorpus-id\tscore\nq1\td1\t1\n \td2\t1\n")
    assert str(_error(load_beir, beir)) == f"{path}:3: field 'query-id': is empty (only whitespace); give line 3 its query-id, or delete the line"


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"text": "q"}, "_id", "missing"),
        ({"_id": {"a": 1}, "text": "q"}, "_id", "must be a string (or an integer), got object"),
        ({"_id": "q\n9", "text": "q"}, "_id", "id 'q\\n9' holds a newline at character 2, which a qrels TSV line "
         "cannot hold, so no judgment could name this id"),
        ({"_id": "q9"}, "text", "missing"),
        ({"_id": "q9", "text": False}, "text", "must be a string, got boolean"),
        ({"_id": "q9", "text": "   "}, "text", "empty text"),
    ],
)
def test_bad_query_rows_name_file_line_and_field(beir, row, field, problem):
    path = _rewrite(beir / "queries.jsonl", [{"_id": "q1", "text": "a"}, row])
    err = _error(load_beir, beir)
    assert str(err).startswith(f"{path}:2: field '{field}': {problem}")


def test_malformed_json_in_corpus(beir):
    path = _rewrite(beir / "corpus.jsonl", [{"_id": "d1", "text": "a"}, '{"_id": "d2", "text": "b"'])
    assert str(_error(load_beir, beir)).startswith(f"{path}:2: invalid JSON: ")


def test_non_object_row_in_queries(beir):
    path = _rewrite(beir / "queries.jsonl", [["q1", "text"]])
    assert str(_error(load_beir, beir)) == (f"{path}:1: expected a JSON object per line, got array [\"q1\", \"text\"]; "
                                            'each line must be one JSON object ({"key": value, ...}): fix line 1 or '
                                            "delete it")


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl"])
def test_duplicate_ids_name_both_lines(beir, name):
    first = {"_id": "dup", "text": "one"}
    path = _rewrite(beir / name, [first, "", {"_id": "other", "text": "x"}, {"_id": "dup", "text": "two"}])
    err = _error(load_beir, beir)
    assert str(err) == (f"{path}:4: field '_id': duplicate id 'dup' (first at line 1); give each of the two lines "
                        "its own id, or delete one of them")


def test_integer_and_string_ids_collide(beir):
    path = _rewrite(beir / "corpus.jsonl", [{"_id": 5, "text": "a"}, {"_id": "5", "text": "b"}])
    assert str(_error(load_beir, beir)) == (f"{path}:2: field '_id': duplicate id '5' (first at line 1); give "
                                            "each of the two lines its own id, or delete one of them")


def test_empty_corpus_file(beir):
    path = beir / "corpus.jsonl"
    path.write_text("\n\n")
    assert str(_error(load_beir, beir)) == f"{path}: no documents in the file; expected one JSON object per line"


# --- qrels -------------------------------------------------------------------------------------------------


def _qrels(beir: Path, text: str) -> Path:
    path = beir / "qrels" / "train.tsv"
    path.write_text(text)
    return path


def test_qrels_missing_header(beir):
    path = _qrels(beir, "q1\td1\t1\n")
    assert str(_error(load_beir, beir)) == (
        f"{path}:1: missing header: the first line must be 'query-id<TAB>corpus-id<TAB>score' "
        "but looks like a judgment: 'q1\\td1\\t1'; insert that header as a new first line"
    )


@pytest.mark.parametrize(("first", "problem"), [
    ("query-id corpus-id score", "the header 'query-id corpus-id score' has spaces between its columns, and qrels "
     "files are tab-separated: put a tab between the columns, in every line"),
    ("q1  d1 1", "missing header: the first line 'q1  d1 1' looks like a judgment with spaces between its columns; "
     "qrels files are tab-separated: put a tab between the columns, in every line, and start the file with the "
     "header 'query-id<TAB>corpus-id<TAB>score'"),
])
def test_qrels_with_spaces_for_tabs_say_so(beir, first, problem):
    """A qrels file whose tabs an editor turned into spaces read 'wrong header 'query-id corpus-id score'; expected
    'query-id<TAB>corpus-id<TAB>score'': right names, and the separator left for the reader to spot."""
    path = _qrels(beir, first + "\nq1 d1 1\n")
    assert str(_error(load_beir, beir)) == f"{path}:1: {problem}"


@pytest.mark.parametrize(("header", "fix"), [
    ("qid\tdocid\tscore", "; if the columns are the query id, the document id and the relevance score, in that order, "
     "replace the first line with that header (BEIR's loader skips it unread; negmine checks it, since columns in "
     "another order would pair the wrong ids)"),
    ("query-id;corpus-id;score", ""),
    ("query-id\tcorpus-id", ""),
])
def test_qrels_wrong_header(beir, header, fix):
    """A three-column header under other names (an own-data 'qid docid relevance') says how to fix it."""
    path = _qrels(beir, header + "\nq1\td1\t1\n")
    expected = f"{path}:1: wrong header {header!r}; expected 'query-id<TAB>corpus-id<TAB>score'{fix}"
    assert str(_error(load_beir, beir)) == expected


def test_qrels_empty_file(beir):
    path = _qrels(beir, "")
    assert str(_error(load_beir, beir)).startswith(f"{path}: empty file; expected the header 'query-id<TAB>corpus-id<TAB>score'")


def test_qrels_header_only_gives_no_judgments(beir):
    _qrels(beir, HEADER)
    assert load_beir(beir).pairs() == []


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("q1\td1\t1\textra", "expected 3 tab-separated columns (query-id, corpus-id, score), got 4 ('q1\\td1\\t1\\textra'); "
         "keep the three columns query-id, corpus-id, score (in that order) and drop the others"),
        ("q1\td1", "expected 3 tab-separated columns (query-id, corpus-id, score), got 2 ('q1\\td1'); give each line a "
         "query-id, a corpus-id and a score, separated by tabs, or delete the line"),
        ("q1 d1 1", "expected 3 tab-separated columns (query-id, corpus-id, score), got 1; columns must be separated by tabs"),
        ("q1\t0\td1\t1", "expected 3 tab-separated columns (query-id, corpus-id, score), got 4; this looks like TREC "
                         "qrels (query-id, iteration, corpus-id, score): drop the second column and start the file "
                         "with the header 'query-id<TAB>corpus-id<TAB>score'"),
    ],
)
def test_qrels_wrong_column_count(beir, row, problem):
    """The line and which columns to keep: a line of 2 or of 4 columns (not TREC's) stopped at the count."""
    path = _qrels(beir, HEADER + "q1\td1\t1\n\n" + row + "\n")
    assert str(_error(load_beir, beir)) == f"{path}:4: {problem}"


@pytest.mark.parametrize("score", ["0.5", "yes", "", "1_0", "\u0661", "1e3"])
def test_qrels_non_integer_score(beir, score):
    """``1_0`` and ``\u0661`` (an Arabic-Indic one) passed: ``int()`` read them as 10 and 1. The message says what to
    write (it stopped at "must be an integer, got 'yes'")."""
    path = _qrels(beir, HEADER + f"q1\td1\t{score}\n")
    assert str(_error(load_beir, beir)) == (f"{path}:2: field 'score': must be an integer, got {score!r}; a relevance "
                                            "score is written with the digits 0-9 (BEIR's: 0 not relevant, 1 or 2 "
                                            "relevant; a graded score rounded to an integer): e.g. 1 for a relevant "
                                            "document")


@pytest.mark.parametrize("score", ["+1", " 2", "-1"])
def test_qrels_integer_scores_with_a_sign_or_spaces_are_read(beir, score):
    _qrels(beir, HEADER + f"q1\td1\t1\nq2\td2\t{score}\n")
    assert load_beir(beir).qrels.judgments["q2"] == {"d2": int(score)}


def test_a_qrels_score_beyond_64_bits_is_named_at_its_line(beir):
    """The evaluation stored it in a 64-bit integer: an OverflowError traceback."""
    path = _qrels(beir, HEADER + "q1\td1\t1\nq2\td2\t-99999999999999999999999\n")
    assert str(_error(load_beir, beir)) == (
        f"{path}:3: field 'score': -99999999999999999999999 is out of range: relevance scores are small integers "
        "(BEIR's are 0, 1 and 2), at most 9223372036854775807 in magnitude")


@pytest.mark.parametrize(("row", "field", "value"), [("q1 \td1\t1", "query-id", "q1 "), ("q1\t d1\t1", "corpus-id", " d1")])
def test_qrels_ids_with_surrounding_whitespace_are_refused_not_silently_missed(beir, row, field, value):
    path = _qrels(beir, HEADER + row + "\n")
    assert str(_error(load_beir, beir)).startswith(
        f"{path}:2: field '{field}': id {value!r} has whitespace at its start or end; ids are matched exactly"
    )


MARK = ("holds a byte-order mark (U+FEFF) at character {at}, an invisible character that only the start of a file "
        "may hold (left by joining files saved with one, e.g. with cat, or by pasting from one); ids are matched "
        "exactly across the corpus, queries, qrels and mined files, so {bare!r} would not match it: remove the mark "
        "(the bytes EF BB BF, or the JSON escape \\ufeff) from the id, here and wherever the id is used")


@pytest.mark.parametrize("escaped", [True, False])  # written as the escape \ufeff, or as the raw bytes EF BB BF
@pytest.mark.parametrize(("name", "value", "at"), [("queries.jsonl", "\ufeffq1", 1), ("corpus.jsonl", "d1\ufeff", 3)])
def test_an_id_holding_a_byte_order_mark_is_refused_at_its_line(beir, name, value, at, escaped):
    """Accepted before: 'q1' and '\ufeffq1' were two ids, and only writing a TREC run (after encoding) refused one."""
    row = json.dumps({"_id": value, "text": "x"}, ensure_ascii=escaped)
    path = beir / name
    path.write_text(json.dumps({"_id": "x1", "text": "a"}) + "\n" + row + "\n", encoding="utf-8")
    err = _error(load_beir, beir)
    assert (err.path, err.line, err.field) == (str(path), 2, "_id")
    assert str(err) == f"{path}:2: field '_id': id {value!r} " + MARK.format(at=at, bare=value.replace("\ufeff", ""))


@pytest.mark.parametrize(("row", "field", "value"), [("q\ufeff1\td1\t1", "query-id", "q\ufeff1"),
                                                     ("q1\td1\ufeff\t1", "corpus-id", "d1\ufeff")])
def test_a_qrels_id_holding_a_byte_order_mark_is_refused_at_its_line(beir, row, field, value):
    """A mark at a line's start was refused already (below); inside a line it was part of the id."""
    path = _qrels(beir, HEADER + "q1\td1\t1\n" + row + "\n")
    assert str(_error(load_beir, beir)) == (f"{path}:3: field '{field}': id {value!r} "
                                            + MARK.format(at=value.index("\ufeff") + 1, bare=value.replace("\ufeff", "")))


@pytest.mark.parametrize("value", ["\u200b", "\u2060 \u200d"])
def test_an_id_of_invisible_characters_only_is_refused(beir, value):
    """``str.strip`` keeps format characters, so such an id was not "empty" and was read."""
    path = _rewrite(beir / "corpus.jsonl", [{"_id": "d1", "text": "a"}, {"_id": value, "text": "x"}])
    codes = ", ".join(sorted(f"U+{ord(c):04X}" for c in set(value) if not c.isspace()))
    assert str(_error(load_beir, beir)) == (f"{path}:2: field '_id': id {value!r} has no visible character (only "
                                            f"whitespace and the invisible characters {codes}); give the row a visible id")


def test_other_format_characters_inside_an_id_are_kept(beir):
    """Zero-width joiners spell Persian words and emoji sequences, a soft hyphen comes with a copied title: ids
    that are right, and no sign of a broken file as a byte-order mark is."""
    ids = ["\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\U0001f469\u200d\U0001f4bb", "Ba\u00adsel"]
    _rewrite(beir / "corpus.jsonl", [{"_id": i, "text": "x"} for i in ids])
    _qrels(beir, HEADER + "".join(f"q1\t{i}\t1\n" for i in ids))
    assert list(load_beir(beir).corpus.ids) == ids


def test_a_qrels_line_starting_with_a_byte_order_mark_is_refused_at_its_line(beir):
    """Dropped before at any line's start (the file's own mark, at the header, still is)."""
    path = _qrels(beir, "\ufeff" + HEADER + "q1\td1\t1\n\ufeffq2\td2\t1\n")
    assert str(_error(load_beir, beir)).startswith(
        f"{path}:3: field 'query-id': starts with a byte-order mark (U+FEFF), which only the start of a file may hold"
    )


def test_qrels_unknown_query_id(beir):
    path = _qrels(beir, HEADER + "q1\td1\t1\nq404\td1\t1\n")
    assert str(_error(load_beir, beir)) == (
        f"{path}:3: field 'query-id': unknown query id 'q404' (not in {beir / 'queries.jsonl'}); add that query to "
        f"{beir / 'queries.jsonl'}, or delete this line of train.tsv"
    )


SWAPPED = ("were the corpus and queries files swapped? give the documents as corpus (--corpus) and the queries as "
           "queries (--queries)")


def test_corpus_and_queries_files_given_the_other_way_round_are_named_as_swapped(beir):
    """The error was accurate (unknown query id) but gave no hint that the two files had been swapped."""
    corpus, queries, qrels = beir / "corpus.jsonl", beir / "queries.jsonl", beir / "qrels" / "train.tsv"
    _rewrite(corpus, [{"_id": d, "title": "t", "text": "x"} for d in ("d1", "d2", "d3")])  # each with a text
    assert str(_error(load_beir_files, queries, corpus, qrels)) == (
        f"{qrels}:2: field 'query-id': unknown query id 'q1' (not in {corpus}); its corpus id 'd1' is an id of that "
        f"file, which looks like the corpus: {SWAPPED}")
    assert str(_error(load_beir_files, queries, queries, qrels)) == (  # the queries given as the corpus too
        f"{qrels}:2: field 'corpus-id': unknown corpus id 'd1' (not in {queries}); its query id 'q1' is an id of that "
        f"file, which looks like the queries: {SWAPPED}")


def test_qrels_unknown_corpus_id_reports_first_in_file_order_and_the_opt_out(beir):
    path = _qrels(beir, HEADER + "q2\td2\t1\nq1\td1\t1\nq2\tzzz\t0\nq1\td404\t1\n")
    err = _error(load_beir, beir)
    assert str(err) == (
        f"{path}:4: field 'corpus-id': unknown corpus id 'zzz' (not in {beir / 'corpus.jsonl'}); if the dataset "
        "judges documents missing from its corpus, set unknown_qrels='skip' (--unknown-qrels skip) to drop such rows"
    )
    assert (err.path, err.line, err.field) == (str(path), 4, "corpus-id")
    assert str(_error(load_beir, beir, "train", "error")) == str(err), "error is the explicit default"


# --- unknown_qrels="skip" ----------------------------------------------------------------------------------


def test_skip_drops_exactly_the_rows_of_missing_documents_and_counts_them(beir):
    _qrels(beir, HEADER + "q1\td1\t1\nq1\tgone1\t1\nq2\td2\t1\nq2\tgone2\t0\nq1\td3\t2\nq2\tgone1\t1\n")
    data = load_beir(beir, "train", "skip")
    assert data.qrels.judgments == {"q1": {"d1": 1, "d3": 2}, "q2": {"d2": 1}}
    assert data.pairs() == [("q1", "d1"), ("q1", "d3"), ("q2", "d2")]
    assert data.all_qrels is not None and len(data.all_qrels) == 6, "every row as read is kept aside"
    assert data.judged_qrels().judgments["q2"] == {"d2": 1, "gone2": 0, "gone1": 1}
    assert data.skipped_qrels() == {
        "skipped": 3, "relevant_skipped": 2, "example_ids": ["gone1", "gone2"],
        "queries_without_positive": 0, "example_queries": [],
    }


def test_skip_counts_a_query_left_without_a_known_positive(beir):
    _qrels(beir, HEADER + "q1\tgone\t1\nq2\td2\t1\nq3\tgone\t0\nq3\td1\t0\nq1\talso-gone\t2\n")
    data = load_beir(beir, "train", "skip")
    assert data.qrels.judgments == {"q2": {"d2": 1}, "q3": {"d1": 0}}, "q1 has no judgment left at all"
    assert data.qrels.query_ids() == ["q2"] and data.pairs() == [("q2", "d2")]
    assert data.judged_qrels().query_ids() == ["q1", "q2"]
    report = data.skipped_qrels()
    assert (report["skipped"], report["relevant_skipped"]) == (3, 2)
    assert (report["queries_without_positive"], report["example_queries"]) == (1, ["q1"])
    assert report["example_ids"] == ["gone", "also-gone"]


def test_skip_with_every_document_known_changes_nothing(beir):
    skipped, strict = load_beir(beir, "train", "skip"), load_beir(beir)
    assert skipped.all_qrels is None and skipped.qrels == strict.qrels
    assert skipped.skipped_qrels()["skipped"] == 0 and skipped.judged_qrels() is skipped.qrels


def test_skip_keeps_unknown_query_ids_an_error(beir):
    path = _qrels(beir, HEADER + "q1\tgone\t1\nq404\td1\t1\n")
    err = _error(load_beir, beir, "train", "skip")
    assert str(err) == (f"{path}:3: field 'query-id': unknown query id 'q404' (not in {beir / 'queries.jsonl'}); add "
                        f"that query to {beir / 'queries.jsonl'}, or delete this line of train.tsv")


def test_unknown_policy_is_a_config_error_before_any_file_is_read(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown unknown-qrels policy 'drop'; allowed: error, skip \(unknown_qrels='skip' \(--unknown-qrels skip\)"):
        load_beir_files(tmp_path / "no.jsonl", tmp_path / "no.jsonl", tmp_path / "no.tsv", unknown_qrels="drop")


def test_check_qrels_docs_on_in_memory_qrels_names_the_document(beir):
    data = load_beir(beir)
    qrels = Qrels({"q1": {"d1": 1, "nowhere": 1}})
    with pytest.raises(InputError, match=r"^<memory>: field 'corpus-id': unknown corpus id 'nowhere'") as info:
        check_qrels_docs(qrels, data.corpus)
    assert info.value.line is None
    kept, all_qrels = resolve_unknown_docs(qrels, data.corpus, "skip")
    assert kept.judgments == {"q1": {"d1": 1}} and all_qrels is qrels


def test_qrels_duplicate_judgment_names_first_line(beir):
    path = _qrels(beir, HEADER + "q1\td1\t1\nq2\td2\t1\nq1\td1\t0\n")
    assert str(_error(load_beir, beir)) == (
        f"{path}:4: field 'corpus-id': duplicate judgment for query 'q1' and document 'd1' (first at line 2); judge "
        "each (query, document) once: delete one of the two lines"
    )


@pytest.mark.parametrize("field", ["query-id", "corpus-id"])
def test_a_long_unknown_qrels_id_is_cut(beir, field):
    """A 5 MB id (a broken file) was printed whole: the message was 5 MB."""
    long_id = "x" * 5_000_000
    row = f"{long_id}\td1\t1" if field == "query-id" else f"q1\t{long_id}\t1"
    path = _qrels(beir, HEADER + row + "\n")
    err = _error(load_beir, beir)
    assert len(str(err)) < 1000
    what = "query" if field == "query-id" else "corpus"
    assert str(err).startswith(f"{path}:2: field '{field}': unknown {what} id '{'x' * 80}'... (5000000 characters) "
                               "(not in ")


def test_qrels_are_checked_before_the_corpus_is_read(beir):
    _rewrite(beir / "corpus.jsonl", ["{broken"])
    path = _qrels(beir, HEADER + "q404\td1\t1\n")
    assert str(_error(load_beir, beir)).startswith(f"{path}:2: field 'query-id': unknown query id 'q404'")


# --- files and directories ---------------------------------------------------------------------------------


def test_missing_split_lists_available_splits(beir):
    (beir / "qrels" / "test.tsv").write_text(HEADER)
    err = _error(load_beir, beir, "dev")
    assert str(err) == (f"{beir / 'qrels' / 'dev.tsv'}: split 'dev' not found; available splits: test, train; pick "
                        "one, e.g. split='test' (--split test)")


@pytest.mark.parametrize("split", ["trian", "Train", "tran"])
def test_a_typo_of_a_split_is_told_the_split_it_is_close_to(beir, split):
    """`negmine mine DEMO --split trian` was offered 'e.g. split='test'', not the split the typo meant."""
    (beir / "qrels" / "test.tsv").write_text(HEADER)
    err = _error(load_beir, beir, split)
    assert str(err) == (f"{beir / 'qrels' / (split + '.tsv')}: split {split!r} not found; available splits: test, "
                        "train; did you mean split='train' (--split train)?")


@pytest.mark.parametrize("split", ["train.tsv", "qrels/train.tsv"])
def test_a_split_given_as_its_file_name_is_told_the_splits_name(beir, split):
    """`negmine mine DEMO --split train.tsv` looked for qrels/train.tsv.tsv and listed the splits without
    saying that the name was the file's."""
    err = _error(load_beir, beir, split)
    assert str(err) == (f"{beir / 'qrels' / (split + '.tsv')}: split {split!r} not found; available splits: train; "
                        "give the split's name, split='train' (--split train)")


def test_missing_split_with_no_qrels_files(beir):
    (beir / "qrels" / "train.tsv").unlink()
    assert str(_error(load_beir, beir, "train")).endswith(f"available splits: none (no .tsv files in {beir / 'qrels'})")


def test_missing_qrels_directory(beir):
    (beir / "qrels" / "train.tsv").unlink()
    (beir / "qrels").rmdir()
    assert str(_error(load_beir, beir)) == (
        f"{beir / 'qrels'}: qrels directory not found; a BEIR directory holds qrels/<split>.tsv"
    )


def test_missing_directory_and_file_instead_of_directory(tmp_path, beir):
    assert str(_error(load_beir, tmp_path / "absent")) == (
        f"{tmp_path / 'absent'}: BEIR directory not found; check the path: a BEIR directory holds corpus.jsonl, "
        "queries.jsonl and qrels/<split>.tsv")
    assert "expected a BEIR directory" in str(_error(load_beir, beir / "corpus.jsonl"))


def test_a_missing_directory_is_told_the_beir_directory_beside_it_it_is_close_to(tmp_path, beir, monkeypatch):
    """'BEIR directory not found' gave no fix: a typo of a BEIR directory beside it ('minii' for 'mini') is told
    that one; a relative path, the folder it is read from. A folder without corpus.jsonl is no suggestion."""
    (tmp_path / "plain").mkdir()
    holds = "a BEIR directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv"
    assert str(_error(load_beir, tmp_path / "minii")) == (
        f"{tmp_path / 'minii'}: BEIR directory not found; did you mean {str(beir)!r}? ({holds})")
    assert str(_error(load_beir, tmp_path / "plan")) == (
        f"{tmp_path / 'plan'}: BEIR directory not found; check the path: {holds}")
    monkeypatch.chdir(tmp_path)
    assert str(_error(load_beir, "mni")) == "mni: BEIR directory not found; did you mean 'mini'? (" + holds + ")"
    assert str(_error(load_beir, "other/mini")) == (
        f"other/mini: BEIR directory not found; check the path (a relative path is read from the current folder, "
        f"{tmp_path}): {holds}")


def test_a_missing_directory_names_the_field_that_gave_it(tmp_path):
    """A run's missing BEIR directory names the field (and option) that gave it, at its path in the config the user
    built: a train run has the training data's and the dev split's folders. It named none; a bare path (load_beir)
    still names none."""
    import negmine
    from negmine.config import DataConfig, DevEvalConfig, EvalConfig, MineConfig, OutputConfig
    from negmine.train.dev_eval import load_dev_data

    holds = "check the path: a BEIR directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv"
    absent = tmp_path / "absent"
    output = OutputConfig(path=tmp_path / "out.jsonl")
    for run, field in [(lambda: negmine.mine(MineConfig(data=DataConfig(data_dir=absent), output=output)),
                        "data.data_dir (the DATA_DIR argument)"),
                       (lambda: negmine.evaluate(EvalConfig(data_dir=absent, models=("bm25",))),
                        "data_dir (the DATA_DIR argument)"),
                       (lambda: load_dev_data(DevEvalConfig(absent)), "dev.data_dir (--eval-data)")]:
        assert str(_error(run)) == f"{absent}: BEIR directory not found, given as {field}; {holds}"
    assert str(_error(load_beir, absent)) == f"{absent}: BEIR directory not found; {holds}"


def test_a_file_or_a_folder_without_qrels_names_the_field_that_gave_it(tmp_path):
    """Like a missing directory: a file given as the directory and a directory without qrels/ name the field (and
    option) that gave it; they named none. A bare path (load_beir) still names none."""
    import negmine
    from negmine.config import DataConfig, EvalConfig, MineConfig, OutputConfig

    a_file = tmp_path / "notes.txt"
    a_file.write_text("x\n")
    no_qrels = tmp_path / "no-qrels"
    no_qrels.mkdir()
    (no_qrels / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (no_qrels / "queries.jsonl").write_text('{"_id": "q1", "text": "y"}\n')
    output = OutputConfig(path=tmp_path / "out.jsonl")
    for folder, start in [(a_file, f"{a_file}: expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a "
                                   "file, given as "),
                          (no_qrels, f"{no_qrels / 'qrels'}: qrels directory not found in the directory, given as ")]:
        for run, field in [(lambda: negmine.mine(MineConfig(data=DataConfig(data_dir=folder), output=output)),
                            "data.data_dir (the DATA_DIR argument)"),
                           (lambda: negmine.evaluate(EvalConfig(data_dir=folder, models=("bm25",))),
                            "data_dir (the DATA_DIR argument)")]:
            assert str(_error(run)).startswith(start + field), str(_error(run))
    assert str(_error(load_beir, a_file)) == (
        f"{a_file}: expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a file")
    assert str(_error(load_beir, no_qrels)) == (
        f"{no_qrels / 'qrels'}: qrels directory not found; a BEIR directory holds qrels/<split>.tsv")


@pytest.mark.parametrize(("name", "what"), [("corpus.jsonl", "corpus file"), ("queries.jsonl", "queries file")])
def test_missing_corpus_or_queries_file(beir, name, what):
    (beir / name).unlink()
    assert str(_error(load_beir, beir)) == f"{beir / name}: {what} not found"


def test_load_beir_files_missing_qrels(beir):
    err = _error(load_beir_files, beir / "corpus.jsonl", beir / "queries.jsonl", beir / "nope.tsv")
    assert str(err) == f"{beir / 'nope.tsv'}: qrels file not found"


# --- real data ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_scifact_counts(scifact_dir):
    train = load_beir(scifact_dir, "train")
    assert (len(train.corpus), len(train.queries)) == (5183, 1109)
    assert len(train.pairs()) == 919
    assert len(train.qrels.query_ids()) == 809
    test = load_beir(scifact_dir, "test")
    assert len(test.qrels) == 339 and len(test.qrels.query_ids()) == 300
    assert all(text and text == text.strip() for text in train.corpus.texts)
    assert train.corpus.ids[0] == "4983"
    assert train.corpus.texts[0].startswith("Microstructural development of human newborn cerebral white matter")


def test_large_corpus_texts_spill_to_a_memory_mapped_column(beir, monkeypatch, tmp_path):
    from negmine.io import text_column
    from negmine.io.beir import read_corpus

    monkeypatch.setattr(text_column, "SPILL_BYTES", 0)  # any text spills
    monkeypatch.setattr(text_column, "BATCH_ROWS", 2)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "spill"))
    (tmp_path / "spill").mkdir()
    monkeypatch.setattr("tempfile.tempdir", None)  # re-read TMPDIR
    corpus = read_corpus(beir / "corpus.jsonl")
    assert corpus.texts.spilled and list(corpus.texts) == ["A Title first text", "second text", "Only title"]
    assert corpus.text("d2") == "second text"
    assert list((tmp_path / "spill").iterdir()) == []


# --- text that cannot be stored, text with nothing visible, TREC qrels without header --------------------------


@pytest.mark.parametrize(
    ("name", "row", "field"),
    [
        ("corpus.jsonl", {"_id": "d9", "text": "bad \ud800 text"}, "text"),
        ("corpus.jsonl", {"_id": "d9", "title": "\udc00", "text": "x"}, "title"),
        ("corpus.jsonl", {"_id": "d\ud83d", "text": "x"}, "_id"),
        ("queries.jsonl", {"_id": "q9", "text": "why \ud83d?"}, "text"),
    ],
)
def test_lone_surrogate_escape_names_file_line_and_field(beir, name, row, field):
    path = _rewrite(beir / name, [{"_id": "x1", "text": "a"}, row])  # json.dumps writes "\ud800" as an escape
    err = _error(load_beir, beir)
    assert (err.path, err.line, err.field) == (str(path), 2, field)
    assert "lone UTF-16 surrogate" in err.problem and "fix or remove that escape" in err.problem


@pytest.mark.parametrize(
    ("name", "row", "problem"),
    [
        ("queries.jsonl", {"_id": "q9", "text": "\u200b\u200c\u2060"},
         "empty text (nothing left after stripping whitespace and the invisible characters U+200B, U+200C, U+2060); "
         "give the query a text, or delete this line (and its qrels lines)"),
        ("corpus.jsonl", {"_id": "d9", "title": "\u200b", "text": "\u2063\ufeff"},
         "empty text ('title' and 'text' are both empty after stripping whitespace and the invisible characters "
         "U+200B, U+2063, U+FEFF); give the document a text, or delete this line (and any qrels line naming its id)"),
    ],
)
def test_text_of_only_invisible_characters_is_empty(beir, name, row, problem):
    path = _rewrite(beir / name, [{"_id": "x1", "text": "a"}, row])
    assert str(_error(load_beir, beir)) == f"{path}:2: field 'text': {problem}"


def test_visible_text_with_format_characters_is_kept_as_is(beir):
    _rewrite(beir / "queries.jsonl", [{"_id": "q1", "text": "\u200bfirst?\u2060"}, {"_id": "q2", "text": "x"},
                                      {"_id": "q3", "text": "y"}])
    assert load_beir(beir).queries.texts[0] == "\u200bfirst?\u2060"


def test_qrels_trec_file_without_header_gets_the_trec_hint(beir):
    path = _qrels(beir, "q1\t0\td1\t1\nq2\t0\td2\t1\n")
    assert str(_error(load_beir, beir)) == (
        f"{path}:1: missing header: the first line 'q1\\t0\\td1\\t1' looks like TREC qrels (query-id, iteration, "
        "corpus-id, score): drop the second column and start the file with the header 'query-id<TAB>corpus-id<TAB>score'"
    )


@pytest.mark.parametrize(("name", "row", "problem"), [
    ("queries.jsonl", {"_id": "q1", "query": "first?"},
     "missing (the line has '_id', 'query'); a BEIR line is {\"_id\": ..., \"text\": ...} (a corpus line may add "
     "\"title\"): rename its 'query' to 'text', in every line of the file"),
    ("corpus.jsonl", {"_id": "d1", "title": "A Title"},
     "missing (the line has '_id', 'title'); a BEIR line is {\"_id\": ..., \"text\": ...} (a corpus line may add "
     "\"title\"): give each line a 'text' holding its text, in every line of the file"),
])
def test_a_row_without_text_names_its_keys_and_the_fix(beir, name, row, problem):
    """A queries file of {"_id", "query"} rows read "field 'text': missing" alone."""
    path = beir / name
    lines = path.read_text().splitlines(True)
    path.write_text(json.dumps(row) + "\n" + "".join(lines[1:]))
    assert str(_error(load_beir, beir)) == f"{path}:1: field 'text': {problem}"


def test_space_separated_trec_qrels_get_a_command_that_converts_them(beir):
    """TREC qrels as trec_eval reads them (``q1 0 d1 1``, spaces) read 'wrong header ...; expected ...' with no fix
    (only tab-separated TREC rows got the TREC hint); the message's command, run as printed, makes the file load."""
    import subprocess

    path = _qrels(beir, "q1 0 d1 1\nq2 0 d2 1\n")
    message = str(_error(load_beir, beir))
    assert message.startswith(f"{path}:1: missing header: the first line 'q1 0 d1 1' looks like TREC qrels (query-id, "
                              "iteration, corpus-id, score), separated by spaces; BEIR qrels are "
                              "'query-id<TAB>corpus-id<TAB>score': convert the file, e.g. awk ")
    subprocess.run(["bash", "-c", message.split("e.g. ", 1)[1]], check=True, cwd=beir)
    assert path.read_text() == "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n"
    assert load_beir(beir).qrels is not None


def test_the_dataset_records_each_file_read_with_its_sha256(beir, tmp_path):
    """``origin`` (the mining summary's ``beir_input``): per file its resolved path, size and sha256, the file's own
    (a byte-order mark, blank lines and CRLF line ends included), computed by the reading pass; one changed corpus
    line changes the corpus's record only."""
    import hashlib

    corpus = beir / "corpus.jsonl"
    corpus.write_bytes(b"\xef\xbb\xbf" + corpus.read_bytes().replace(b"\n", b"\r\n", 1) + b"\n\n")
    files = {"corpus": corpus, "queries": beir / "queries.jsonl", "qrels": beir / "qrels" / "train.tsv"}

    def record(path):
        return {"path": str(path.resolve()), "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}

    first = load_beir(beir).origin
    assert first == {"kind": "beir", **{role: record(path) for role, path in files.items()}}
    assert load_beir_files(*files.values()).origin == first
    corpus.write_bytes(corpus.read_bytes().replace(b"second text", b"second texts"))
    changed = load_beir(beir).origin
    assert changed["corpus"] == record(corpus) != first["corpus"]
    assert (changed["queries"], changed["qrels"]) == (first["queries"], first["qrels"])


# --- files in other encodings and compressed files -----------------------------------------------------------

TEXTS = {
    "corpus.jsonl": '{"_id": "d1", "title": "", "text": "caf\u00e9 au lait"}\n{"_id": "d2", "text": "tea"}\n',
    "queries.jsonl": '{"_id": "q1", "text": "caf\u00e9?"}\n',
    "train.tsv": HEADER + "q1\td\u00e91\t1\n",
}
LATIN1_TSV = "t\u00edtulo\ttexto\nd1\tcaf\u00e9 au lait\n".encode("latin-1")
"""A Latin-1 TSV whose first line is not ASCII: given for a JSON Lines file, it got the iconv fix from Latin-1."""


def _read(path: Path) -> None:
    from negmine.io.beir import iter_qrels, read_corpus, read_queries

    reader = {"corpus.jsonl": read_corpus, "queries.jsonl": read_queries, "train.tsv": iter_qrels}[path.name]
    list(reader(path))


def _fix(name: str, source: str) -> str:
    return f"save the file as UTF-8 (e.g. iconv -f {source} -t utf-8 {name} > utf8-{name})"


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize(("order", "byte"), [("le", 2), ("be", 1)])
def test_beir_files_in_utf16_without_a_mark_get_the_fix_for_their_byte_order(tmp_path, name, order, byte):
    """Said 'not valid UTF-8 (byte 79 of the line)' with the Latin-1 fix (corpus, queries) or 'wrong header
    'q\\x00u\\x00e\\x00...'' (qrels)."""
    path = tmp_path / name
    path.write_bytes(TEXTS[name].encode(f"utf-16-{order}"))
    assert str(_error(_read, path)) == (
        f"{path}:1: UTF-16{order.upper()} text without a byte-order mark (byte {byte} is 0x00, as is every second "
        f"byte of its ASCII characters), not UTF-8; {_fix(name, f'utf-16{order}')}")


@pytest.mark.parametrize(("order", "byte"), [("le", 2), ("be", 1)])
def test_a_chinese_corpus_in_utf16_without_a_mark_gets_the_fix_not_the_binary_file_message(tmp_path, order, byte):
    """Its texts hold few ASCII characters, so few 0x00 bytes, and U+xx00 characters (一, 需, 言, 最) hold 0x00 at the
    other parity: it was 'a binary file, not text (byte 2 of the file is 0x00 ...); check the path'."""
    import subprocess

    from negmine.io.beir import read_corpus

    text = "机器学习是人工智能的一个分支，需要更多的数据。深度学习使用多层神经网络来提取特征，自然语言处理研究计算机与人类语言之间的交互。" * 4
    rows = "".join(json.dumps({"_id": f"d{i}", "title": "", "text": text}, ensure_ascii=False) + "\n" for i in range(9))
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(rows.encode(f"utf-16-{order}"))
    assert str(_error(_read, path)) == (
        f"{path}:1: UTF-16{order.upper()} text without a byte-order mark (byte {byte} is 0x00, as is every second "
        f"byte of its ASCII characters), not UTF-8; {_fix('corpus.jsonl', f'utf-16{order}')}")
    subprocess.run(["bash", "-c", f"iconv -f utf-16{order} -t utf-8 corpus.jsonl > utf8-corpus.jsonl"], check=True,
                   cwd=tmp_path)
    assert len(read_corpus(tmp_path / "utf8-corpus.jsonl")) == 9, "the command makes a file that reads"


@pytest.mark.parametrize("name", list(TEXTS))
@pytest.mark.parametrize("order", ["le", "be"])
def test_beir_files_in_utf16_with_a_mark_keep_the_utf16_fix(tmp_path, name, order):
    path = tmp_path / name
    path.write_bytes(("\ufeff" + TEXTS[name]).encode(f"utf-16-{order}"))
    assert str(_error(_read, path)) == f"{path}:1: not valid UTF-8 (byte 1 of the line); {_fix(name, 'utf-16')}"


@pytest.mark.parametrize(("name", "line", "byte"), [("corpus.jsonl", 1, 40), ("queries.jsonl", 1, 27),
                                                    ("train.tsv", 2, 5)])
def test_beir_files_saved_as_latin1_keep_the_latin1_fix(tmp_path, name, line, byte):
    path = tmp_path / name
    path.write_bytes(TEXTS[name].encode("latin-1"))
    assert str(_error(_read, path)) == (f"{path}:{line}: not valid UTF-8 (byte {byte} of the line); "
                                        f"{_fix(name, 'latin1')}")


@pytest.mark.parametrize("name", ["corpus.jsonl", "queries.jsonl"])
def test_a_latin1_tsv_given_for_a_jsonl_file_is_no_json_as_its_utf8_copy_is(tmp_path, name):
    """Got the Latin-1 fix, after which the file is still no JSON Lines."""
    path = tmp_path / name
    path.write_bytes(LATIN1_TSV)
    assert str(_error(_read, path)) == (
        f"{path}:1: invalid JSON: Expecting value (column 1, where json stopped: '' <here> 'título\\ttex'...); "
        'each line must be one complete JSON object ({"key": value, ...}): fix line 1 or delete it')


def test_a_latin1_tsv_given_for_qrels_keeps_the_latin1_fix(tmp_path):
    """A qrels file is a TSV: converted, the header is what is wrong, as in any UTF-8 file."""
    path = tmp_path / "train.tsv"
    path.write_bytes(LATIN1_TSV)
    assert str(_error(_read, path)) == f"{path}:1: not valid UTF-8 (byte 2 of the line); {_fix('train.tsv', 'latin1')}"


@pytest.mark.parametrize("name", list(TEXTS))
def test_gzip_and_binary_beir_files_are_not_taken_for_utf16(tmp_path, name):
    import gzip
    import random

    path = tmp_path / name
    path.write_bytes(gzip.compress(TEXTS[name].encode("utf-16-le")))
    assert str(_error(_read, path)) == f"{path}: gzip-compressed; decompress it first, e.g. gunzip -k {path}"
    path.write_bytes(b"\x00\x01" + random.Random(0).randbytes(400))  # 0x00 at both parities, control characters
    message = str(_error(_read, path))
    assert message == (f"{path}: a binary file, not text (byte 1 of the file is 0x00, which no UTF-8 text file "
                       "holds); check the path: a UTF-8 text file is read here")  # not the Latin-1 fix: no text


def test_a_split_file_that_is_a_directory_or_a_link_leading_nowhere_is_named_as_such(beir):
    """qrels/train.tsv as a folder, or as a link in a loop, read "split 'train' not found; available splits: ...",
    sending the user to the split names."""
    path = beir / "qrels" / "train.tsv"
    path.unlink()
    path.mkdir()
    assert str(_error(load_beir, beir)) == f"{path}: expected a qrels file, found a directory"
    path.rmdir()
    path.symlink_to("train.tsv.loop")
    path.with_name("train.tsv.loop").symlink_to("train.tsv")
    assert str(_error(load_beir, beir)) == (f"{path}: qrels file not found (it is a symbolic link in a loop: following "
                                            f"it leads back to itself, {path} -> train.tsv.loop; point it at the file)")

