from __future__ import annotations

import json
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from negmine.errors import ConfigError, InputError, NegmineWarning
from negmine.io.pairs import check_pairs, load_pairs, read_pairs
from negmine.testing.beir import write_beir

ROWS = [
    {"anchor": "what is sleep", "positive": "Sleep is rest.", "negative": "ignored"},
    {"anchor": "why coffee", "positive": "Caffeine wakes you."},
    {"anchor": " what is sleep ", "positive": "Sleep happens at night."},  # same query after stripping
    {"anchor": "what is sleep", "positive": "Sleep is rest."},  # repeated pair
    {"anchor": "battery?", "positive": "Caffeine wakes you."},  # positive shared by two queries
]


def _error(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def _parquet(path: Path, columns: dict[str, pa.Array]) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


# --- ids, detection, corpus from positives -------------------------------------------------------------------


def test_jsonl_pairs_ids_follow_first_rows(write_rows):
    path = write_rows("train.jsonl", ROWS)
    result = read_pairs(path)
    data = result.dataset
    assert data.name == "train"
    assert data.queries.ids == ["q1", "q2", "q5"]
    assert data.queries.texts == ["what is sleep", "why coffee", "battery?"]
    assert data.corpus.ids == ["d1", "d2", "d3"]
    assert data.corpus.texts == ["Sleep is rest.", "Caffeine wakes you.", "Sleep happens at night."]
    assert data.qrels.judgments == {"q1": {"d1": 1, "d3": 1}, "q2": {"d2": 1}, "q5": {"d2": 1}}
    assert (result.rows, result.distinct_positives, result.duplicate_rows, result.added_positives) == (5, 3, 1, 0)
    assert data.corpus.source == str(path) and data.qrels.source == str(path)


@pytest.mark.filterwarnings(r"ignore:.* 1 repeated \(query, positive\) row kept once:negmine.errors.NegmineWarning")
def test_load_pairs_returns_the_same_dataset(write_rows):
    """ROWS repeats a row: load_pairs warns of it (test_repeated_rows_are_a_warning_naming_the_count), not read_pairs."""
    path = write_rows("train.jsonl", ROWS)
    assert load_pairs(path) == read_pairs(path).dataset


@pytest.mark.parametrize(
    ("query", "positive"),
    [("query", "pos"), ("question", "answer"), ("sentence1", "sentence2"), ("sentence_A", "sentence_B"),
     ("text1", "text2"), ("anchor", "document"), ("query", "passage")],
)
def test_column_auto_detection(write_rows, query, positive):
    path = write_rows("p.jsonl", [{"id": 3, query: "q text", positive: "p text"}])
    data = load_pairs(path)
    assert (data.queries.texts, data.corpus.texts) == (["q text"], ["p text"])


def test_query_alias_order_prefers_query_over_anchor(write_rows):
    path = write_rows("p.jsonl", [{"anchor": "A", "query": "Q", "positive": "P"}])
    assert load_pairs(path).queries.texts == ["Q"]


def test_explicit_columns(write_rows):
    path = write_rows("p.jsonl", [{"title": "T", "body": "B", "query": "ignored", "positive": "ignored"}])
    data = load_pairs(path, query_column="title", positive_column="body")
    assert (data.queries.texts, data.corpus.texts) == (["T"], ["B"])


def test_explicit_column_not_found_lists_columns(write_rows):
    path = write_rows("p.jsonl", [{"query": "q", "positive": "p"}])
    err = _error(load_pairs, path, query_column="question")
    assert str(err) == f"{path}: field 'question': query column not found; available columns: 'query', 'positive'"


def test_a_column_typo_names_the_keyword(write_rows):
    path = write_rows("p.jsonl", [{"query": "q", "answer": "a"}])
    err = _error(load_pairs, path, query_column="Query")
    assert str(err).endswith("available columns: 'query', 'answer'; did you mean query_column='query'?")


def test_undetectable_columns_list_available_ones(write_rows):
    path = write_rows("p.jsonl", [{"q": "x", "positive": "y"}])
    err = _error(load_pairs, path)
    assert str(err) == (
        f"{path}: no query column found (looked for query, anchor, question, sentence1, sentence_A, text1); "
        "available columns: 'q', 'positive'; pass query_column='q'"
    )  # it said "pass query_column (--query-column)", an option a Python caller cannot pass
    path = write_rows("p2.jsonl", [{"query": "x", "doc": "y"}])
    assert "no positive column found (looked for positive, pos, answer," in str(_error(load_pairs, path))
    assert "available columns: 'query', 'doc'; pass positive_column='doc'" in str(_error(load_pairs, path))


def test_same_column_for_query_and_positive_is_a_config_error(write_rows):
    path = write_rows("p.jsonl", [{"a": "x"}])
    with pytest.raises(ConfigError, match="query_column and positive_column are both 'a'"):
        load_pairs(path, query_column="a", positive_column="a")


# --- bad rows ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ({"anchor": "  ", "positive": "p"}, "anchor", "empty text (nothing left after stripping whitespace)"),
        ({"anchor": "q", "positive": ""}, "positive", "empty text (nothing left after stripping whitespace)"),
        ({"anchor": "q"}, "positive", "missing"),
        ({"anchor": None, "positive": "p"}, "anchor", "missing value (null)"),
        ({"anchor": "q", "positive": ["p"]}, "positive", "must be a string, got array; give one text per row: a row "
         "with a list of texts (as FlagEmbedding's 'pos') becomes one row per text, e.g. pandas: df.explode('positive')"),
        ({"anchor": "q", "positive": {"p": 1}}, "positive", "must be a string, got object"),
    ],
)
def test_bad_jsonl_cells_name_line_and_column(write_rows, row, field, problem):
    path = write_rows("p.jsonl", [{"anchor": "q0", "positive": "p0"}, "", row])
    err = _error(load_pairs, path)
    assert str(err) == f"{path}:3: field '{field}': {problem}"


def test_malformed_jsonl_pairs(write_rows):
    path = write_rows("p.jsonl", [{"anchor": "q0", "positive": "p0"}, "{nope"])
    assert str(_error(load_pairs, path)).startswith(f"{path}:2: invalid JSON: ")


def test_empty_pairs_files(write_text):
    jsonl = write_text("p.jsonl", "\n")
    assert str(_error(load_pairs, jsonl)) == f"{jsonl}: no rows in the file; expected one JSON object per line"
    csv = write_text("p.csv", "query,positive\n")
    assert str(_error(load_pairs, csv)) == f"{csv}: no pairs in the file"
    empty = write_text("e.csv", "")
    assert str(_error(load_pairs, empty)) == f"{empty}: malformed CSV: Empty CSV file"


def test_unsupported_extension_and_missing_file(write_text, tmp_path):
    path = write_text("p.txt", "x")
    err = _error(load_pairs, path)
    assert str(err) == f"{path}: unsupported file extension '.txt'; allowed: .jsonl, .ndjson, .csv, .tsv, .parquet, .pq"
    assert str(_error(load_pairs, tmp_path / "no.jsonl")) == f"{tmp_path / 'no.jsonl'}: pairs file not found"


# --- CSV / TSV ----------------------------------------------------------------------------------------------


def test_csv_pairs_keep_texts_verbatim(write_text):
    path = write_text("p.csv", 'question,answer,source\nNA,007,1\n"a, b","line one\nline two",2\nNA,"x ""y""",3\n')
    data = load_pairs(path)
    assert data.queries.ids == ["q1", "q2"] and data.queries.texts == ["NA", "a, b"]
    assert data.corpus.texts == ["007", "line one\nline two", 'x "y"']
    assert data.qrels.judgments == {"q1": {"d1": 1, "d3": 1}, "q2": {"d2": 1}}


def test_tsv_pairs_have_no_quoting(write_text):
    path = write_text("p.tsv", 'query\tpositive\n"quoted\tstart " here\n')
    data = load_pairs(path)
    assert (data.queries.texts, data.corpus.texts) == (['"quoted'], ['start " here'])


def test_csv_empty_text_names_data_row_and_column(write_text):
    path = write_text("p.csv", "query,positive\nq1,p1\nq2,p2\nq3,  \n")
    assert str(_error(load_pairs, path)) == (
        f"{path}: field 'positive': data row 3: empty text (nothing left after stripping whitespace)"
    )


def test_csv_wrong_column_count_names_data_row(write_text):
    path = write_text("p.csv", "query,positive\nq1,p1\nq2,p2,extra\n")
    assert str(_error(load_pairs, path)) == f"{path}: data row 2: expected 2 columns, got 3: 'q2,p2,extra'"


def test_csv_invalid_utf8(write_text):
    path = write_text("p.csv", b"query,positive\nq1,caf\xe9\n")
    assert str(_error(load_pairs, path)) == (f"{path}: field 'positive': data row 1: not valid UTF-8; save the file "
                                             "as UTF-8 (e.g. iconv -f latin1 -t utf-8 p.csv > utf8-p.csv)")


# --- Parquet -------------------------------------------------------------------------------------------------


def test_parquet_pairs_string_large_string_and_dictionary(tmp_path):
    path = _parquet(
        tmp_path / "p.parquet",
        {
            "sentence1": pa.array(["s1", "s2", "s1"], type=pa.large_string()),
            "sentence2": pa.array(["t1", "t2", "t3"]).dictionary_encode(),
            "label": pa.array([1, 1, 1]),  # one value throughout: no row is labelled as not matching
        },
    )
    data = load_pairs(path)
    assert data.queries.ids == ["q1", "q2"]
    assert data.qrels.judgments == {"q1": {"d1": 1, "d3": 1}, "q2": {"d2": 1}}


def test_parquet_null_and_empty_cells_name_data_row(tmp_path):
    path = _parquet(tmp_path / "p.parquet", {"query": ["a", None], "positive": ["x", "y"]})
    assert str(_error(load_pairs, path)) == f"{path}: field 'query': data row 2: missing value (null)"
    path = _parquet(tmp_path / "e.parquet", {"query": ["a", "b"], "positive": ["x", " "]})
    assert "field 'positive': data row 2: empty text" in str(_error(load_pairs, path))


def test_parquet_non_string_column(tmp_path):
    path = _parquet(tmp_path / "p.parquet", {"query": ["a"], "positive": [3]})
    assert str(_error(load_pairs, path)) == f"{path}: field 'positive': column has type int64, expected string"
    path = _parquet(tmp_path / "l.parquet", {"query": ["a"], "pos": [["x", "y"]]})
    message = str(_error(load_pairs, path))  # the list type prints as list<item: ...> or list<element: ...>
    assert message.startswith(f"{path}: field 'pos': column has type list<") and message.endswith(
        "string>, expected string; give one text per row: a row with a list of texts (as FlagEmbedding's 'pos') "
        "becomes one row per text, e.g. pandas: df.explode('pos')"
    )


def test_not_a_parquet_file(write_text):
    path = write_text("p.parquet", "query,positive\n")
    assert str(_error(load_pairs, path)).startswith(f"{path}: not a readable Parquet file: ")


# --- with a corpus file --------------------------------------------------------------------------------------


def negmine_text(caught) -> str:
    return "\n".join(str(w.message) for w in caught if issubclass(w.category, NegmineWarning))


def test_beir_corpus_matches_positives_by_joined_text_and_adds_missing(tmp_path, write_rows):
    folder = write_beir(
        tmp_path / "b", corpus={"c1": ("Sleep", "is rest."), "c2": "Caffeine wakes you.", "c3": "unused"},
        queries={"x": "x"}, qrels=[("x", "c1", 1)],
    )
    path = write_rows("train.jsonl", ROWS)
    with pytest.warns(NegmineWarning) as caught:
        data = load_pairs(path, corpus=folder / "corpus.jsonl")
    assert data.corpus.ids == ["c1", "c2", "c3", "p3"]
    assert data.corpus.texts[-1] == "Sleep happens at night."
    assert data.corpus.source == str(folder / "corpus.jsonl")
    assert data.qrels.judgments == {"q1": {"c1": 1, "p3": 1}, "q2": {"c2": 1}, "q5": {"c2": 1}}
    assert "1 of 3 distinct positives is not in the corpus" in negmine_text(caught)
    assert read_pairs(path, corpus=folder / "corpus.jsonl").added_positives == 1


def test_positives_without_their_titles_are_added_with_a_warning_saying_how_documents_read(tmp_path, write_rows):
    """A pairs file of BEIR ``text`` fields against its corpus.jsonl matched none (72 of 72 added) and the warning
    said only 'exact text match'."""
    folder = write_beir(tmp_path / "b", corpus={"c1": ("Sleep", "is rest.")}, queries={"x": "x"}, qrels=[("x", "c1", 1)])
    path = write_rows("train.jsonl", [{"query": "what is sleep?", "positive": "is rest."}])
    with pytest.warns(NegmineWarning) as caught:
        data = load_pairs(path, corpus=folder / "corpus.jsonl")
    assert data.corpus.ids == ["c1", "p1"]
    assert negmine_text(caught) == (
        f"{path}: 1 of 1 distinct positive is not in the corpus {folder / 'corpus.jsonl'} (exact text match; a "
        "document with a title reads as title + ' ' + text) and was added to it with ids p<row>")


def test_added_positives_that_differ_from_a_document_only_in_whitespace_are_named(tmp_path, write_rows):
    """SciFact's corpus holds a title ending in a space: a positive written as title + ' ' + text kept the two spaces,
    matched no document (the corpus reads title and text stripped) and was added, the warning naming no row."""
    corpus = {"c1": ("Sleep ", "is rest."), "c2": ("Tea", "wakes\tyou."), "c3": "Water is wet."}
    folder = write_beir(tmp_path / "b", corpus=corpus, queries={"x": "x"}, qrels=[("x", "c1", 1)])
    rows = [{"query": "a", "positive": "Tea wakes you."}, {"query": "b", "positive": "Sleep  is rest."},
            {"query": "c", "positive": "Fire is hot."}, {"query": "d", "positive": "Water is wet."}]
    path = write_rows("train.jsonl", rows)
    result = read_pairs(path, corpus=folder / "corpus.jsonl")
    assert result.added_positives == 3 and result.whitespace_matches == (("p1", "c2"), ("p2", "c1"))
    with pytest.warns(NegmineWarning) as caught:
        load_pairs(path, corpus=folder / "corpus.jsonl")
    assert negmine_text(caught) == (
        f"{path}: 3 of 4 distinct positives are not in the corpus {folder / 'corpus.jsonl'} (exact text match; a "
        "document with a title reads as title + ' ' + text) and were added to it with ids p<row>; 2 of them differ "
        "from a corpus document only in whitespace (p1 from 'c2', p2 from 'c1'): the corpus reads a document's title "
        "and text each stripped and joins them with one space; write the positives so, or the corpus as they are "
        "written, for them to match")


def test_the_dataset_carries_the_added_positives_count_for_the_mining_summary(tmp_path, write_rows):
    """The counts of the added-positives warning reached no summary: the Dataset now carries them (set by the
    reader, no global state), with a corpus file only; 0 added is still recorded, no corpus file records nothing."""
    corpus = {"c1": ("Sleep ", "is rest."), "c2": ("Tea", "wakes\tyou."), "c3": "Water is wet."}
    folder = write_beir(tmp_path / "b", corpus=corpus, queries={"x": "x"}, qrels=[("x", "c1", 1)])
    rows = [{"query": "a", "positive": "Tea wakes you."}, {"query": "b", "positive": "Sleep  is rest."},
            {"query": "c", "positive": "Fire is hot."}, {"query": "d", "positive": "Water is wet."}]
    path = write_rows("train.jsonl", rows)
    data = read_pairs(path, corpus=folder / "corpus.jsonl").dataset
    assert data.positives_added == {"added": 3, "distinct_positives": 4, "whitespace_only": 2}
    assert data.added_record() == {"pairs_positives_added_to_corpus": data.positives_added}
    present = write_rows("present.jsonl", [rows[3]])
    assert read_pairs(present, corpus=folder / "corpus.jsonl").dataset.positives_added == {
        "added": 0, "distinct_positives": 1, "whitespace_only": 0}
    alone = read_pairs(path).dataset
    assert alone.positives_added is None and alone.added_record() == {}


def test_one_added_positive_that_differs_only_in_whitespace_is_named_in_the_singular(tmp_path, write_rows):
    folder = write_beir(tmp_path / "b", corpus={"c1": ("Sleep ", "is rest.")}, queries={"x": "x"},
                        qrels=[("x", "c1", 1)])
    path = write_rows("train.jsonl", [{"query": "b", "positive": "Sleep  is rest."}])
    with pytest.warns(NegmineWarning) as caught:
        load_pairs(path, corpus=folder / "corpus.jsonl")
    assert "; 1 of them differs from a corpus document only in whitespace (p1 from 'c1'): " in negmine_text(caught)


def test_no_warning_when_all_positives_are_in_the_corpus(write_rows, write_text):
    corpus = write_text("c.csv", "text\nSleep is rest.\n")
    path = write_rows("p.jsonl", [{"query": "q", "positive": "Sleep is rest."}])
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegmineWarning)
        data = load_pairs(path, corpus=corpus)
    assert data.corpus.ids == ["d1"] and data.pairs() == [("q1", "d1")]


def test_added_ids_avoid_corpus_ids(write_rows, write_text):
    corpus = write_text("c.csv", "id,title,text\np2,,one\np2-1,Head,two\n")
    path = write_rows("p.jsonl", [{"query": "q", "positive": "one"}, {"query": "q", "positive": "new"}])
    result = read_pairs(path, corpus=corpus)
    assert result.dataset.corpus.ids == ["p2", "p2-1", "p2-2"]
    assert result.dataset.corpus.texts == ["one", "Head two", "new"]
    assert result.added_positives == 1


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_corpus_id_a_beir_corpus_refuses_is_refused_in_a_table_corpus_too(write_rows, write_text, tmp_path, suffix):
    """Such ids went into the mined file: 'd1 ' never matched 'd1' there, and a tab no qrels line can hold."""
    path = write_rows("p.jsonl", [{"query": "q", "positive": "one"}])
    corpus = tmp_path / f"c{suffix}"
    if suffix == ".csv":
        write_text(corpus.name, 'id,text\nd1,one\n"d\t2",two\n')
    else:
        _parquet(corpus, {"id": pa.array(["d1", "d\t2"]), "text": pa.array(["one", "two"])})
    assert str(_error(read_pairs, path, corpus=corpus)) == (
        f"{corpus}: field 'id': data row 2: id 'd\\t2' holds a tab at character 2, which a qrels TSV line cannot "
        "hold, so no judgment could name this id; remove it or replace it (e.g. with '-'), here and wherever the id "
        "is used")


def test_corpus_duplicate_texts_match_first_document(write_rows, write_text):
    corpus = write_text("c.jsonl", '{"id": 4, "text": "same"}\n{"id": 5, "text": "same"}\n')
    data = load_pairs(write_rows("p.jsonl", [{"query": "q", "positive": "same"}]), corpus=corpus)
    assert data.corpus.ids == ["4", "5"] and data.pairs() == [("q1", "4")]


def test_pairs_are_validated_before_the_corpus_is_read(write_rows, write_text):
    corpus = write_text("c.jsonl", "{broken\n")
    path = write_rows("p.jsonl", [{"query": "q", "positive": " "}])
    assert str(_error(load_pairs, path, corpus=corpus)).startswith(f"{path}:1: field 'positive': empty text")


def test_missing_corpus_file(write_rows, tmp_path):
    err = _error(load_pairs, write_rows("p.jsonl", [{"query": "q", "positive": "x"}]), corpus=tmp_path / "c.jsonl")
    assert str(err) == f"{tmp_path / 'c.jsonl'}: corpus file not found"


# --- same column, unstorable and invisible texts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query_column", "positive_column", "how"),
    [("positive", None, " (positive_column auto-detected)"), (None, "anchor", " (query_column auto-detected)"),
     ("anchor", "anchor", "")],
)
def test_query_and_positive_column_must_differ_after_detection(write_rows, query_column, positive_column, how):
    path = write_rows("p.jsonl", ROWS)
    with pytest.raises(ConfigError) as info:
        load_pairs(path, query_column=query_column, positive_column=positive_column)
    column = query_column or positive_column
    assert str(info.value) == (
        f"query_column and positive_column are both {column!r}{how}; they must name two different columns: pass "
        "query_column=..., positive_column=... naming the query and the positive column"
    )


def test_lone_surrogate_in_a_pairs_file_names_line_and_column(write_rows):
    path = write_rows("p.jsonl", [{"anchor": "q0", "positive": "p0"}, {"anchor": "q1", "positive": "x \ud83d y"}])
    err = _error(load_pairs, path)
    assert (err.path, err.line, err.field) == (str(path), 2, "positive")
    assert "lone UTF-16 surrogate '\\ud83d' at character 3" in str(err)


def test_invisible_only_query_is_empty(write_rows):
    path = write_rows("p.jsonl", [{"anchor": "q0", "positive": "p0"}, {"anchor": "\u200b\u2060", "positive": "p"}])
    assert str(_error(load_pairs, path)) == (
        f"{path}:2: field 'anchor': empty text (nothing left after stripping whitespace and the invisible characters "
        "U+200B, U+2060)"
    )


def test_repeated_rows_are_a_warning_naming_the_count(write_rows):
    """They were logged at INFO, which the command line does not show: a 73-row pairs file with one repeated row
    printed 'pairs: 72 in' with no word of the row left out."""
    path = write_rows("train.jsonl", ROWS)
    with pytest.warns(NegmineWarning) as caught:
        load_pairs(path)
    assert f"{path}: 1 repeated (query, positive) row kept once" in negmine_text(caught)


# --- pair labels ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,content,where,shown", [
    # a pair-class file (Quora duplicates, SICK): its 0 rows were mined as positives, without a word
    ("p.csv", "sentence1,sentence2,label\na,b,1\nc,d,1\ne,f,0\n", ": field 'label': data row 3", "value '0' differs "
     "from the first row's value '1'"),
    # a pair-score file (STSb), JSONL: the file line is named
    ("p.jsonl", '{"sentence1": "a", "sentence2": "b", "score": 1.0}\n\n{"sentence1": "c", "sentence2": "d", "score": '
     '0.2}\n', ":3: field 'score'", "value 0.2 differs from the first row's value 1.0"),
    ("p.jsonl", '{"query": "a", "positive": "b", "label": 1}\n{"query": "c", "positive": "d"}\n', ":2: field 'label'",
     "a missing value differs from the first row's value 1"),
])
def test_a_pairs_file_with_pair_labels_is_refused(write_text, name, content, where, shown):
    path = write_text(name, content)
    err = str(_error(load_pairs, path))
    column = "score" if "score" in content else "label"
    assert err == (
        f"{path}{where}: {shown}: the rows carry pair labels, but negmine mine --pairs takes every row as a "
        "(query, positive) pair, so a pair labelled as not matching would be mined as a positive; keep the rows of "
        f"matching pairs only and mine that file (e.g. pandas: df[df['{column}'] == MATCH].drop(columns='{column}'), "
        "MATCH being the dataset's value for a match)"
    )


def test_a_label_column_with_one_value_or_named_as_a_text_column_is_accepted(write_text):
    data = load_pairs(write_text("p.csv", "sentence1,sentence2,label\na,b,1\nc,d,1\n"))
    assert data.qrels.judgments == {"q1": {"d1": 1}, "q2": {"d2": 1}}
    data = load_pairs(write_text("s.csv", "query,score\na,b\nc,d\n"), positive_column="score")
    assert data.corpus.texts == ["b", "d"]


# --- the record of the corpus file read ------------------------------------------------------------------------


def _corpus_files(write_text, folder: Path) -> list[Path]:
    """One corpus in each format the reader takes, the JSONL ones with a byte-order mark, CRLF and a blank line
    (the hash is the file's own, all of them included), the CSV one with a quoted comma."""
    texts = ["Sleep is rest.", "Caffeine wakes you.", "Sleep happens at night."]
    beir = "\ufeff" + "".join(json.dumps({"_id": f"d{i}", "text": t}) + "\r\n" for i, t in enumerate(texts)) + "\n"
    plain = "".join(json.dumps({"text": t}) + "\n\n" for t in texts)
    csv = "id,text\n" + "".join(f'd{i},"{t}, ok"\n' for i, t in enumerate(texts))
    tsv = "id\ttext\n" + "".join(f"d{i}\t{t}\n" for i, t in enumerate(texts))
    parquet = _parquet(folder / "c.parquet", {"id": pa.array([f"d{i}" for i in range(3)]), "text": pa.array(texts)})
    return [write_text("beir.jsonl", beir), write_text("plain.jsonl", plain), write_text("c.csv", csv),
            write_text("c.tsv", tsv), parquet]


def test_the_origin_records_the_corpus_file_read(write_rows, write_text, tmp_path):
    """With a corpus file, ``origin`` (the mining summary's ``pairs_input``) described the pairs file only: it now
    also holds the corpus's resolved path, size and sha256 (the file's own, what sha256sum prints), in every format
    the corpus reader takes; nothing of a corpus when none is given."""
    import hashlib

    pairs = write_rows("pairs.jsonl", ROWS)
    assert "corpus" not in read_pairs(pairs).dataset.origin
    for corpus in _corpus_files(write_text, tmp_path):
        origin = read_pairs(pairs, corpus).dataset.origin
        assert origin["corpus"] == {"path": str(corpus.resolve()), "bytes": corpus.stat().st_size,
                                    "sha256": hashlib.sha256(corpus.read_bytes()).hexdigest()}, corpus.name
        assert origin["path"] == str(pairs.resolve())


def test_the_corpus_record_changes_with_one_line(write_rows, write_text, tmp_path):
    """One corpus line changed (same size) gives another ``sha256`` and leaves the rest of the origin as it was."""
    pairs = write_rows("pairs.jsonl", ROWS)
    for corpus in _corpus_files(write_text, tmp_path)[:4]:  # the text formats: one line edited in place
        before = read_pairs(pairs, corpus).dataset.origin
        corpus.write_bytes(corpus.read_bytes().replace(b"Sleep is rest.", b"Sleep is calm."))
        after = read_pairs(pairs, corpus).dataset.origin
        assert after["corpus"]["sha256"] != before["corpus"]["sha256"], corpus.name
        assert after["corpus"]["bytes"] == before["corpus"]["bytes"]
        assert {**after, "corpus": None} == {**before, "corpus": None}


BROKEN_PAIRS = {
    "invalid JSON": '{"query": "a", "positive": "b"}\n{"query": "c", "positive": \n',
    "missing field": '{"query": "a", "positive": "b"}\n{"query": "c", "positive": "d"}\n{"query": "e"}\n',
    "no query column": '{"question_text": "a", "positive": "b"}\n',
    "no pairs": "\n",
}


@pytest.mark.parametrize("case", list(BROKEN_PAIRS))
def test_check_pairs_gives_the_loaders_error_without_loading(tmp_path, case):
    """What a mining summary's recorded pairs file is checked with before re-mining's training loads its model."""
    path = tmp_path / "pairs.jsonl"
    path.write_text(BROKEN_PAIRS[case], encoding="utf-8")
    with pytest.raises((InputError, ConfigError)) as loaded:
        read_pairs(path)
    with pytest.raises(type(loaded.value)) as checked:
        check_pairs(path)
    assert str(checked.value) == str(loaded.value)
    path.write_text('{"q": "a", "p": "b"}\n', encoding="utf-8")
    check_pairs(path, "q", "p")  # the columns a summary records


def _counted_passes(monkeypatch) -> list[Path]:
    """The files a pass over the rows of a pairs file reads, one entry per pass (FileRows.rows)."""
    from negmine.io.row_source import FileRows

    passes: list[Path] = []
    original = FileRows.rows
    monkeypatch.setattr(FileRows, "rows", lambda self, columns: passes.append(self.path) or original(self, columns))
    return passes


def test_read_pairs_takes_the_rows_check_pairs_read_instead_of_reading_the_file_again(write_rows, monkeypatch):
    """Re-mining from a summary read its pairs file twice: once as the summary was checked, once at its load
    (200,000 rows: 2.0-5.3 s more). The load takes the rows the check read and gives what reading the file gives; the
    rows are taken once (not kept beside the Dataset), so a later load with the same check reads the file again."""
    path = write_rows("train.jsonl", ROWS)
    corpus = write_rows("corpus.jsonl", [{"_id": "c1", "text": "Sleep is rest."}, {"_id": "c2", "text": "Other."}])
    expected = read_pairs(path, corpus)
    passes = _counted_passes(monkeypatch)
    checked = check_pairs(path, "anchor")
    assert passes == [path]
    for reads in ([path], [path, path]):  # the rows checked, then (taken) the file again
        loaded = read_pairs(path, corpus, "anchor", checked=checked)
        assert passes == reads
        assert loaded == expected and loaded.dataset.origin == expected.dataset.origin
        assert loaded.dataset.origin["corpus"]["sha256"] and loaded.added_positives == 2


def test_read_pairs_refuses_the_rows_checked_of_other_pairs_or_columns(write_rows):
    path, other = write_rows("train.jsonl", ROWS), write_rows("other.jsonl", ROWS)
    checked = check_pairs(path, "anchor")
    for args in ((other, None, "anchor"), (path, None, None), (path, None, "anchor", "positive")):
        with pytest.raises(ConfigError) as err:
            read_pairs(*args, checked=checked)
        assert str(err.value) == (
            f"the checked pairs given hold the rows of {str(path)!r} (query_column 'anchor', positive_column None), "
            f"not of {str(args[0])!r} (query_column {args[2]!r}, positive_column {(args[3:] or [None])[0]!r}); pass "
            "the rows read with this config (read_mine_summary(...).pairs with its config, check_pairs(path, ...) "
            "with the same columns), or none (they are read again)")
