import json
import re
import warnings

import pytest

from negmine.errors import InputError, NegmineWarning
from negmine.export.native import REQUIRED_KEYS, dumps_row, make_row, read_native, read_native_lines, validate_row

BASE = dict(
    query_id="q1",
    query="what is x?",
    positive_id="d1",
    positive="x is y",
    positive_score=0.812345678,
    negative_ids=["d2", "d3"],
    negatives=["x is z", "y is x"],
    negative_scores=[0.70000001, 0.1234567890123],
    negative_ranks=[2, 5],
)


def refused_on_line_2(tmp_path, change: dict, field: str, problem: str) -> None:
    """A file whose second row is a good row with ``change`` applied fails there, naming ``field``."""
    good = make_row(**BASE)
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(good), json.dumps({**good, **change})])
    with pytest.raises(InputError, match=f"n.jsonl:2: field '{field}': {problem}"):
        list(read_native(path))


def test_make_row_key_order_and_rounding():
    row = make_row(**BASE)
    assert list(row) == list(REQUIRED_KEYS)
    assert row["positive_score"] == 0.812346
    assert row["negative_scores"] == [0.7, 0.123457]
    assert row["negative_ranks"] == [2, 5]


def test_make_row_stable_bytes_from_float32():
    import numpy as np

    a = make_row(**{**BASE, "negative_scores": list(np.asarray([0.7, 0.123457], dtype=np.float32))})
    b = make_row(**{**BASE, "negative_scores": [0.7, 0.123457]})
    assert dumps_row(a) == dumps_row(b)
    assert dumps_row(a).endswith("\n") and "\n" not in dumps_row(a)[:-1]


def test_make_row_optional_keys_only_when_given():
    row = make_row(**BASE, negative_flags=["ok", "fn"], false_negative_ids=["d3"], confidence=0.91234567)
    assert list(row)[len(REQUIRED_KEYS):] == ["negative_flags", "false_negative_ids", "confidence"]
    assert row["confidence"] == 0.912346
    assert "extra_positive_ids" not in row


def test_make_row_rejects_mismatch_and_nan():
    with pytest.raises(ValueError, match="differ in length"):
        make_row(**{**BASE, "negative_ranks": [2]})
    with pytest.raises(ValueError, match="differ in length"):
        make_row(**BASE, negative_flags=["ok"])
    with pytest.raises(ValueError, match="finite"):
        make_row(**{**BASE, "positive_score": float("nan")})


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_read_native_roundtrip(tmp_path):
    rows = [make_row(**BASE), make_row(**{**BASE, "query_id": "q2"}, extra_positive_ids=["d9"])]
    path = tmp_path / "n.jsonl"
    path.write_text(dumps_row(rows[0]) + "\n" + dumps_row(rows[1]), encoding="utf-8")  # blank line skipped
    assert list(read_native(path)) == rows


def test_missing_file_fails_immediately(tmp_path):
    with pytest.raises(InputError, match="missing.jsonl: native negatives file not found"):
        read_native(tmp_path / "missing.jsonl")


def test_missing_key_names_file_line_field(tmp_path):
    bad = dict(make_row(**BASE))
    del bad["negative_scores"]
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(make_row(**BASE)), json.dumps(bad)])
    with pytest.raises(InputError) as err:
        list(read_native(path))
    assert str(err.value).startswith(f"{path}:2: field 'negative_scores': missing required key")
    assert err.value.line == 2 and err.value.field == "negative_scores"


def test_length_mismatch(tmp_path):
    bad = dict(make_row(**BASE))
    bad["negative_ranks"] = [2, 5, 9]
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(bad)])
    with pytest.raises(InputError, match=r":1: field 'negative_ranks': has 3 entries but negative_ids has 2"):
        list(read_native(path))
    bad = dict(make_row(**BASE), negative_flags=["ok"])
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(bad)])
    with pytest.raises(InputError, match=r"field 'negative_flags': has 1 entry"):
        list(read_native(path))


@pytest.mark.parametrize(
    "field, value, problem",
    [
        ("query_id", 7, "must be a string"),
        ("positive_score", "high", "must be a finite number"),
        ("negative_scores", [0.1, None], "must be a list of finite numbers"),
        ("negative_ranks", [1.5, 2], "must be a list of integers"),
        ("negatives", "not a list", "must be a list of strings"),
        ("confidence", True, "must be a finite number"),
        ("margin_score", "low", "must be a finite number"),
    ],
)
def test_wrong_types(tmp_path, field, value, problem):
    bad = dict(make_row(**BASE))
    bad[field] = value
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(bad)])
    with pytest.raises(InputError, match=f"field '{field}': {problem}"):
        list(read_native(path))


@pytest.mark.parametrize(("line", "shown"), [("null", "null"), ("42", "number 42"), ('"hello"', 'string "hello"'),
                                           ("[1, 2]", "array [1, 2]")])
def test_a_line_that_is_no_object_is_shown_with_the_fix(tmp_path, line, shown):
    """JSON's names and the value, and what a line must hold: it read "expected a JSON object, got NoneType"
    (Python's type names) and no fix."""
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(make_row(**BASE)), line])
    with pytest.raises(InputError) as info:
        list(read_native(path))
    assert str(info.value) == (f"{path}:2: expected a JSON object, got {shown}; each line of a native negatives file "
                               "is one row, a JSON object with the keys query_id, query, positive_id, positive, "
                               "positive_score, negative_ids, negatives, negative_scores, negative_ranks (as `negmine "
                               "mine -o FILE` writes): fix line 2 or delete it")


def test_invalid_json_and_non_object(tmp_path):
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(make_row(**BASE)), "{not json"])
    with pytest.raises(InputError, match=r"n.jsonl:2: invalid JSON"):
        list(read_native(path))
    path = write_lines(tmp_path / "n.jsonl", ["[1, 2]"])
    with pytest.raises(InputError, match=r"n.jsonl:1: expected a JSON object, got array \[1, 2\]; "):
        list(read_native(path))
    path.write_bytes(b'{"query_id": "\xff"}\n')
    with pytest.raises(InputError, match=r"n.jsonl:1: not UTF-8 text"):
        list(read_native(path))


def test_a_cut_short_row_names_its_real_column_and_the_text_before_it(tmp_path):
    """A line cut short read "(column 1)": json stopped after the line's newline, which the reader keeps."""
    line = json.dumps(make_row(**BASE))
    cut = line[:line.index(', "negative_ranks"')]
    path = write_lines(tmp_path / "n.jsonl", [line, cut])
    with pytest.raises(InputError) as info:
        list(read_native(path))
    assert str(info.value).startswith(
        f"{path}:2: invalid JSON: Expecting ',' delimiter (column {len(cut) + 1}, where json stopped: "
        f"{'...' + cut[-40:]!r} <here> (the line ends)); expected a native negatives file")


def test_a_key_given_twice_in_a_row_is_refused_naming_line_and_key(tmp_path):
    """JSON keeps the last value of a repeated key: the row was silently trained on or audited with the other query."""
    row = json.dumps(make_row(**BASE), separators=(",", ":")).replace('{"query_id":', '{"query":"another","query_id":', 1)
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(make_row(**BASE)), row])
    with pytest.raises(InputError) as info:
        list(read_native(path))
    assert str(info.value) == (f"{path}:2: field 'query': given twice in one JSON object (again at column 36); JSON "
                               "readers keep only the last value, so the other would be dropped without a word: keep "
                               "one of them")


def test_candidate_score_sd_comes_first_of_the_optional_keys_rounded_and_checked():
    row = make_row(**BASE, candidate_score_sd=0.0812345678, confidence=0.5)
    assert list(row)[len(REQUIRED_KEYS):] == ["candidate_score_sd", "confidence"]
    assert row["candidate_score_sd"] == 0.081235
    assert "candidate_score_sd" not in make_row(**BASE)
    assert validate_row(row)["candidate_score_sd"] == 0.081235
    with pytest.raises(InputError, match=r"m.jsonl:3: field 'candidate_score_sd': must be a finite number >= 0, got -0.1"):
        validate_row({**row, "candidate_score_sd": -0.1}, "m.jsonl", 3)


def test_margin_score_follows_the_spread_rounded_and_only_when_given():
    row = make_row(**BASE, candidate_score_sd=0.1, margin_score=0.41234567, confidence=0.5)
    assert list(row)[len(REQUIRED_KEYS):] == ["candidate_score_sd", "margin_score", "confidence"]
    assert row["margin_score"] == 0.412346
    assert "margin_score" not in make_row(**BASE, candidate_score_sd=0.1)
    assert validate_row(row)["margin_score"] == 0.412346


def test_read_native_lines_gives_file_line_numbers(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(dumps_row(make_row(**BASE)) + "\n" + dumps_row(make_row(**{**BASE, "query_id": "q2"})))
    assert [(n, r["query_id"]) for n, r in read_native_lines(path)] == [(1, "q1"), (3, "q2")]
    assert [r["query_id"] for r in read_native(path)] == ["q1", "q2"]
    with pytest.raises(InputError, match="native negatives file not found"):
        read_native(tmp_path / "missing.jsonl")


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"positive": "  "}, "positive", "is empty; every id and text of a native row must be non-empty"),
        ({"query": ""}, "query", "is empty"),
        ({"query_id": ""}, "query_id", "is empty"),
        ({"negatives": ["x is z", ""]}, "negatives", "entry 1 is empty"),
        ({"negative_ids": ["d2", " "]}, "negative_ids", "entry 1 is empty"),
        ({"negative_ids": ["d2", "d2"]}, "negative_ids", "'d2' appears twice \\(entries 0 and 1\\); list each negative once"),
        ({"negative_ids": ["d2", "d1"]}, "negative_ids", "entry 1 is the row's positive_id 'd1'; a positive is never its own negative"),
    ],
)
def test_empty_texts_and_repeated_or_positive_negatives_are_refused(tmp_path, change, field, problem):
    refused_on_line_2(tmp_path, change, field, problem)


def test_a_byte_order_mark_at_the_start_is_accepted(tmp_path):
    row = make_row(**BASE)
    path = tmp_path / "n.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + dumps_row(row).encode("utf-8") + b"\n")
    assert list(read_native(path)) == [row]


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [  # read before: 'd1 ' missed document d1 without a word (the BEIR and table readers refuse such ids)
        ({"query_id": "q1 "}, "query_id", r"id 'q1 ' has whitespace at its start or end; ids are matched exactly "
                                          r"across the corpus, queries, qrels and mined files, so remove it"),
        ({"positive_id": "\td1"}, "positive_id", r"id '\\td1' has whitespace at its start or end"),
        ({"negative_ids": ["d2", "d\t3"]}, "negative_ids", r"entry 1: id 'd\\t3' holds a tab at character 2, which a "
                                                         r"qrels TSV line cannot hold, so no judgment could name this id"),
        ({"negative_ids": ["d\n2", "d3"]}, "negative_ids", r"entry 0: id 'd\\n2' holds a newline at character 2"),
        ({"extra_positive_ids": ["d7", " d8"], "extra_positives": ["a", "b"], "extra_positive_scores": [0.1, 0.2]},
         "extra_positive_ids", r"entry 1: id ' d8' has whitespace at its start or end"),
        ({"false_negative_ids": ["d2 "]}, "false_negative_ids", r"entry 0: id 'd2 ' has whitespace at its start"),
        # a byte-order mark inside an id (files joined, or pasted from one): read before, 'q1' missed '\ufeffq1'
        ({"query_id": "\ufeffq1"}, "query_id", r"id '\\ufeffq1' holds a byte-order mark \(U\+FEFF\) at character 1, "
         r"an invisible character that only the start of a file may hold .* so 'q1' would not match it: remove the "
         r"mark \(the bytes EF BB BF, or the JSON escape \\ufeff\) from the id"),
        ({"negative_ids": ["d2", "d\ufeff3"]}, "negative_ids", r"entry 1: id 'd\\ufeff3' holds a byte-order mark "
         r"\(U\+FEFF\) at character 2"),
    ],
)
def test_ids_a_reader_of_user_ids_refuses_are_refused_at_their_line(tmp_path, change, field, problem):
    refused_on_line_2(tmp_path, change, field, problem)


def test_a_byte_order_mark_on_a_later_line_is_refused_at_its_line(tmp_path):
    # a mark alone on the first line is the file's; one on a later line (two files joined) is named, where the
    # message was json's "Unexpected UTF-8 BOM (decode using utf-8-sig)"
    row = dumps_row(make_row(**BASE)).encode("utf-8")
    path = tmp_path / "n.jsonl"
    path.write_bytes(b"\xef\xbb\xbf\n" + row)  # dumps_row ends the line
    assert len(list(read_native(path))) == 1
    path.write_bytes(row + b"\xef\xbb\xbf" + row)
    with pytest.raises(InputError, match=r"n\.jsonl:2: the line starts with a byte-order mark \(U\+FEFF\), which only "
                       r"the start of a file may hold"):
        list(read_native(path))


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        # json.dumps escapes a lone surrogate ("\ud83d", half an emoji), which json.loads accepts but UTF-8
        # cannot store: exports, audit and train crashed with UnicodeEncodeError instead of naming the line
        ({"query": "broken \ud83d emoji"}, "query", "holds the lone UTF-16 surrogate '\\\\ud83d' at character 8"),
        ({"negatives": ["x is z", "half \udc00"]}, "negatives", "entry 1 holds the lone UTF-16 surrogate"),
        ({"positive_id": "d\ud800"}, "positive_id", "holds the lone UTF-16 surrogate"),
        # only invisible format characters (zero-width space, word joiner): as blank as "" to a trainer
        ({"negatives": ["x is z", "\u200b\u2060 "]}, "negatives", "entry 1 is empty \\(only whitespace and the invisible characters U\\+200B, U\\+2060\\); every"),
        ({"query": "\ufeff"}, "query", "is empty"),
    ],
)
def test_texts_utf8_cannot_store_or_without_a_visible_character_are_refused(tmp_path, change, field, problem):
    refused_on_line_2(tmp_path, change, field, problem)


def test_an_export_of_a_row_utf8_cannot_store_names_the_line_and_writes_nothing(tmp_path):
    from negmine.export.registry import export_file

    good = make_row(**BASE)
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(good), json.dumps({**good, "query": "q \ud83d"})])
    for target in (tmp_path / "n.triplet.jsonl", tmp_path / "n.triplet.parquet"):
        with pytest.raises(InputError, match="n.jsonl:2: field 'query': holds the lone UTF-16 surrogate"):
            export_file(path, "triplet", target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.jsonl"]


def test_a_parquet_export_given_as_the_native_file_is_named_as_such(tmp_path):
    """`negmine train out/negatives.n-tuple.parquet` said "not UTF-8 text: invalid continuation byte at byte 7"."""
    from negmine.export.registry import export_file

    native = tmp_path / "n.jsonl"
    native.write_text(dumps_row(make_row(**BASE)), encoding="utf-8")
    parquet = tmp_path / "n.n-tuple.parquet"
    export_file(native, "n-tuple", parquet)
    with pytest.raises(InputError, match=rf"n.n-tuple.parquet:1: a Parquet file, not JSON Lines: .* the native JSONL .*"
                                         rf"\(`negmine mine -o FILE` / `negmine audit -o FILE`\), e.g. {native}$"):
        list(read_native(parquet))
    renamed = parquet.rename(tmp_path / "train.parquet")
    with pytest.raises(InputError, match=r"train.parquet:1: a Parquet file, .*audit -o FILE`\)$"):
        list(read_native(renamed))


def test_a_scores_export_under_another_name_is_named_by_its_columns(native_file, tmp_path):
    from negmine.export.registry import export_file

    renamed = tmp_path / "train.jsonl"
    export_file(native_file, "flagembedding-scores", renamed)
    with pytest.raises(InputError, match=r"this is a row of the flagembedding-scores export, which holds texts only: "
                                         r"pass the native file it was exported from \(`negmine mine -o FILE`\)$"):
        list(read_native(renamed))


PROMOTED = dict(extra_positive_ids=["d7", "d8"], extra_positives=["x is x", "x equals y"],
                extra_positive_scores=[0.90000001, 0.6543219])


def test_a_row_without_promotion_keeps_its_exact_bytes():
    expected = (
        '{"query_id":"q1","query":"what is x?","positive_id":"d1","positive":"x is y","positive_score":0.812346,'
        '"negative_ids":["d2","d3"],"negatives":["x is z","y is x"],"negative_scores":[0.7,0.123457],'
        '"negative_ranks":[2,5],"false_negative_ids":["d4"],"confidence":0.5}\n'
    )
    assert dumps_row(make_row(**BASE, false_negative_ids=["d4"], confidence=0.5)) == expected
    assert dumps_row(make_row(**BASE, false_negative_ids=["d4"], extra_positives=None, extra_positive_scores=None,
                              confidence=0.5)) == expected


def test_promoted_texts_and_scores_follow_their_ids_rounded_and_validated():
    row = make_row(**BASE, candidate_score_sd=0.1, false_negative_ids=["d4"], **PROMOTED, confidence=0.5)
    assert list(row)[len(REQUIRED_KEYS):] == [
        "candidate_score_sd", "false_negative_ids", "extra_positive_ids", "extra_positives", "extra_positive_scores",
        "confidence",
    ]
    assert row["extra_positives"] == ["x is x", "x equals y"] and row["extra_positive_scores"] == [0.9, 0.654322]
    assert validate_row(json.loads(dumps_row(row))) == row


def test_make_row_refuses_promoted_lists_of_other_lengths():
    with pytest.raises(ValueError, match="promoted lists of query 'q1' differ in length"):
        make_row(**BASE, **{**PROMOTED, "extra_positives": ["x is x"]})
    with pytest.raises(ValueError, match="promoted lists of query 'q1' differ in length"):
        make_row(**BASE, extra_positive_ids=["d7"], extra_positives=["x is x"])


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"extra_positives": ["x is x"]}, "extra_positives",
         "has 1 entry but extra_positive_ids has 2; the lists are parallel"),
        ({"extra_positive_scores": [0.9, 0.6, 0.1]}, "extra_positive_scores",
         "has 3 entries but extra_positive_ids has 2; the lists are parallel"),
        ({"extra_positive_scores": None}, "extra_positive_scores",
         "missing; it comes with extra_positives \\(the promoted documents' scores\\)"),
        ({"extra_positives": None}, "extra_positives",
         "missing; it comes with extra_positive_scores \\(the promoted documents' texts\\)"),
        ({"extra_positive_ids": None}, "extra_positive_ids",
         "missing; extra_positives and extra_positive_scores are parallel to it"),
        ({"extra_positives": ["x is x", " "]}, "extra_positives", "entry 1 is empty"),
        ({"extra_positives": ["x is x", 3]}, "extra_positives", "must be a list of strings"),
        ({"extra_positive_scores": [0.9, "high"]}, "extra_positive_scores", "must be a list of finite numbers"),
        ({"extra_positive_ids": ["d7", "d3"]}, "extra_positive_ids",
         "entry 1 'd3' is also a negative of the row; a promoted document is a positive"),
        ({"extra_positive_ids": ["d7", "d1"]}, "extra_positive_ids", "entry 1 is the row's positive_id 'd1'"),
        ({"extra_positive_ids": ["d7", "d7"]}, "extra_positive_ids", "'d7' appears twice \\(entries 0 and 1\\)"),
    ],
)
def test_bad_promoted_lists_name_file_line_and_field(tmp_path, change, field, problem):
    good = make_row(**BASE, **PROMOTED)
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(good), json.dumps(bad)])
    with pytest.raises(InputError, match=f"n.jsonl:2: field '{field}': {problem}"):
        list(read_native(path))


def test_ids_promoted_by_an_earlier_version_without_texts_are_still_read():
    row = make_row(**BASE, extra_positive_ids=["d3", "d9"])  # d3 is also a negative: not checked without texts
    assert validate_row(json.loads(dumps_row(row))) == row


def negmine_messages(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)]


def test_a_repeated_query_positive_row_is_skipped_with_a_warning_naming_the_lines(tmp_path):
    """A mined file with the same (query_id, positive_id) row twice (e.g. two files concatenated) was read in full
    without a word: the pair was trained on, judged and written out twice. The first row of each pair is used."""
    first, other = make_row(**BASE), make_row(**{**BASE, "query_id": "q2"})
    changed = make_row(**{**BASE, "negative_ids": ["d4", "d3"]})  # the same pair with other negatives
    path = tmp_path / "m.jsonl"
    path.write_text("".join(dumps_row(r) for r in (first, other, first, changed)), encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        assert list(read_native_lines(path)) == [(1, first), (2, other)]
    assert negmine_messages(caught) == [
        f"{path}: 2 repeated (query_id, positive_id) rows skipped, the first row of each pair is used (line 3 "
        "repeats line 1, line 4 repeats line 1); remove the repeats (e.g. a file concatenated twice) to silence this"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegmineWarning)
        assert list(read_native(path, warn_repeats=False)) == [first, other]


def test_the_warning_names_the_first_ten_repeats(tmp_path):
    row = make_row(**BASE)
    path = tmp_path / "m.jsonl"
    path.write_text(dumps_row(row) * 13, encoding="utf-8")
    with pytest.warns(NegmineWarning) as caught:
        assert list(read_native(path)) == [row]
    [message] = negmine_messages(caught)
    assert "12 repeated (query_id, positive_id) rows skipped" in message
    assert "line 11 repeats line 1 and 2 more);" in message and "line 12 " not in message


@pytest.mark.parametrize("fmt", ["n-tuple", "triplet", "labeled-list", "labeled-list-by-query", "labeled-pair",
                                 "flagembedding", "flagembedding-scores"])
def test_an_export_given_as_the_native_file_is_named_with_the_file_to_pass(native_file, fmt):
    """The quickstart writes negatives.jsonl and negatives.n-tuple.jsonl side by side; `negmine train` on the export
    said only that 'query_id' was missing. A format sharing another's columns is named by the file name (the
    flagembedding-scores and labeled-list-by-query exports were called flagembedding and labeled-list)."""
    name = fmt
    from negmine.export.registry import export_file, export_path

    exported = export_path(native_file, fmt)
    export_file(native_file, fmt, exported)
    with pytest.raises(InputError, match=rf"^{exported}:1: field '\w+': missing required key \(a native row needs "
                                         rf".*\); this is a row of the {name} export, which holds texts only: pass "
                                         rf"the native file it was exported from \(`negmine mine -o FILE`\), e.g. "
                                         rf"{native_file}$"):
        list(read_native(exported))


def test_a_flags_row_names_the_file_to_pass_instead(tmp_path):
    """`negmine train out/audit/audit.flags.jsonl` (a file the quickstart's audit writes beside audit.clean.jsonl)
    said only that 'positive_score' was missing."""
    flag = {"kind": "false_negative", "query_id": "q1", "positive_id": "d1", "doc_id": "d2", "action": "drop",
            "query": "q", "positive": "p", "doc": "d"}
    flags = write_lines(tmp_path / "audit.flags.jsonl", [json.dumps(flag)])
    head = rf"^{re.escape(str(flags))}:1: field 'positive_score': missing required key \(a native row needs [^)]*\)"
    with pytest.raises(InputError, match=head + r"; this is a row of a negmine audit's flags \(one finding per line, "
                                               r"not a mined row\): pass the cleaned file the audit wrote \(its -o "
                                               r"FILE\)$"):
        list(read_native(flags))
    write_lines(tmp_path / "audit.clean.jsonl", [])
    with pytest.raises(InputError, match=r"pass the cleaned file the audit wrote \(its -o FILE\), e.g. "
                                         rf"{re.escape(str(tmp_path / 'audit.clean.jsonl'))}$"):
        list(read_native(flags))
    denoise = write_lines(tmp_path / "neg.denoise.flags.jsonl", [json.dumps(flag)])
    write_lines(tmp_path / "neg.jsonl", [])
    with pytest.raises(InputError, match=r"; this is a row of mine --denoise's evidence \(one finding per line, not a "
                                         r"mined row\): pass the mined file \(`negmine mine -o FILE`\), e.g. "
                                         rf"{re.escape(str(tmp_path / 'neg.jsonl'))}$"):
        list(read_native(denoise))


@pytest.mark.parametrize(("name", "rows", "command", "what"), [
    ("negatives.summary.json", "negatives.jsonl", "negmine mine", "the mined file"),
    ("audit.audit-summary.json", "audit.clean.jsonl", "negmine audit", "the cleaned file the audit wrote"),
])
def test_a_summary_given_as_the_native_file_names_the_rows_beside_it(tmp_path, name, rows, command, what):
    """`negmine train out/negatives.summary.json` (the file tab completion offers beside negatives.jsonl) said only
    'invalid JSON: Expecting property name enclosed in double quotes'."""
    summary = write_lines(tmp_path / name, ["{", '  "pairs_out": 70', "}"])
    head = (rf"^{re.escape(str(summary))}:1: invalid JSON: .*; expected a native negatives file \(JSON Lines, one row "
            rf"per line, as `negmine mine -o FILE` writes\); this is the summary {command} writes beside its rows \(one "
            rf"JSON document\): pass {what}")
    with pytest.raises(InputError, match=head + "$"):
        list(read_native(summary))
    write_lines(tmp_path / rows, [])
    with pytest.raises(InputError, match=head + rf", e\.g\. {re.escape(str(tmp_path / rows))}$"):
        list(read_native(summary))


def test_other_json_documents_get_no_summary_hint(tmp_path):
    other = write_lines(tmp_path / "config.json", ["{", '  "a": 1', "}"])
    with pytest.raises(InputError, match=r"as `negmine mine -o FILE` writes\)$"):
        list(read_native(other))


@pytest.mark.parametrize("row", [{"_id": "d1", "text": "t"}, {"query": "q", "doc": "d"},
                                 {"query_id": "q1", "query": "q", "positive": "p"}])
def test_other_rows_missing_a_key_get_no_export_hint(row):
    with pytest.raises(InputError, match=r"missing required key \(a native row needs [^)]*\)$"):
        validate_row(row, "x.jsonl", 1)


@pytest.mark.parametrize("row", [{"query": "q", "positive": "p"}, {"anchor": "q", "positive": "p"},
                                 {"question": "q", "answer": "a", "label": 1}])
def test_a_pairs_row_given_as_a_native_row_is_told_to_be_mined_first(row):
    """`negmine train pairs.jsonl` (a user's own pairs, before any mining) said only that 'query_id' was missing."""
    with pytest.raises(InputError, match=r"^x\.jsonl:1: field 'query_id': missing required key \(a native row needs "
                                         r"[^)]*\); this is a row of a \(query, positive\) pairs file, which holds no "
                                         r"negatives: mine them first, `negmine mine --pairs x\.jsonl -o "
                                         r"negatives\.jsonl`, and pass that file$"):
        validate_row(row, "x.jsonl", 1)


def test_an_integer_score_beyond_a_floats_range_is_refused_as_not_finite(tmp_path):
    """``1`` with 400 zeros is a JSON number that ``math.isfinite`` cannot take (OverflowError: a traceback)."""
    huge = json.dumps(make_row(**BASE)).replace('"positive_score": 0.812346', '"positive_score": 1' + "0" * 400)
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(make_row(**BASE)), huge])
    with pytest.raises(InputError, match=r"n\.jsonl:2: field 'positive_score': must be a finite number, got 10000"):
        list(read_native(path))


def test_an_integer_beyond_pythons_digit_limit_is_invalid_json_at_its_line(tmp_path):
    row = json.dumps(make_row(**BASE)).replace("[2, 5]", "[2, " + "5" * 5000 + "]")
    path = write_lines(tmp_path / "n.jsonl", [row])
    with pytest.raises(InputError, match=r"n\.jsonl:1: invalid JSON: an integer of 5000 digits, longer than the 4300 "
                                         r"Python reads \(no id, score or count is that long\) \(column \d+, where json stopped: "):
        list(read_native(path))


@pytest.mark.parametrize("ranks", [[0, 2], [1, -3], [1, 2**63]])
def test_a_rank_below_1_or_beyond_64_bits_is_refused_at_its_line(tmp_path, ranks):
    """Ranks are 1-based; 2**63 made the audit's rank array overflow (a traceback after the model had loaded)."""
    refused_on_line_2(tmp_path, {"negative_ranks": ranks}, "negative_ranks",
                      re.escape(f"must be a list of integers from 1 to 2**63-1 (1-based ranks), got {json.dumps(ranks)}"))


@pytest.mark.parametrize("flag", [True, "fn", 1, "False_Negative"])
def test_a_negative_flag_other_than_the_audits_mark_or_null_is_refused_at_its_line(tmp_path, flag):
    """Every reader took such an entry for "not flagged": a negative meant as a false negative was trained on."""
    refused_on_line_2(tmp_path, {"negative_flags": [None, flag]}, "negative_flags",
                      re.escape(f"entry 1 must be 'false_negative' (a false negative the audit marked) or null, got "
                                f"{json.dumps(flag)}"))


def test_a_gzip_compressed_native_file_is_named_as_such_and_bytes_count_from_1(tmp_path):
    """A gzipped mined file said "not UTF-8 text: invalid start byte at byte 1" (the BEIR and run readers say to
    decompress it), and byte positions counted from 0 (``at byte 0`` for a line's first byte)."""
    import gzip

    path = tmp_path / "n.jsonl"
    path.write_bytes(gzip.compress(json.dumps(make_row(**BASE)).encode() + b"\n"))
    with pytest.raises(InputError) as info:
        list(read_native(path))
    assert str(info.value) == f"{path}: gzip-compressed; decompress it first, e.g. gunzip -k {path}"
    path.write_bytes(json.dumps(make_row(**BASE)).encode() + b'\n{"query_id": "\xff"}\n')  # JSON read as Latin-1
    with pytest.raises(InputError) as info:
        list(read_native(path))
    assert str(info.value) == (f"{path}:2: not UTF-8 text: invalid start byte at byte 15 of the line; save the file "
                               "as UTF-8 (e.g. iconv -f latin1 -t utf-8 n.jsonl > utf8-n.jsonl)")


def two_rows(tmp_path, second: dict):
    """A file of BASE's row then a row of another query id (q2) with ``second`` applied."""
    path = tmp_path / "m.jsonl"
    rows = (make_row(**BASE), make_row(**{**BASE, "query_id": "q2", **second}))
    path.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    return path


SAME_ID_FIX = ("; every reader matches rows by id (training masks a query's known positives, the audit pools its "
               "verdicts), so one id must keep one text: fix the file (mined from another corpus, or rows of two "
               "files joined?) or give each text its own id")


@pytest.mark.parametrize("second, where", [
    ({"positive": "x is w"}, "field 'positive': document id 'd1' has another text than at line 1 (positive)"),
    ({"positive_id": "d3", "negative_ids": ["d2", "d4"]},  # d3 was a negative of line 1, as 'y is x'
     "field 'positive': document id 'd3' has another text than at line 1 (negatives entry 1)"),
    ({"negatives": ["x is z", "y is w"]},
     "field 'negatives': entry 1: document id 'd3' has another text than at line 1 (negatives entry 1)"),
    ({"negative_ids": ["d2", "d9"], "extra_positive_ids": ["d3"], "extra_positives": ["y is w"],
      "extra_positive_scores": [0.5]},
     "field 'extra_positives': entry 0: document id 'd3' has another text than at line 1 (negatives entry 1)"),
])
def test_a_document_id_with_two_texts_across_rows_is_refused_naming_both_lines(tmp_path, second, where):
    """Training resolves a known positive's id to one text and masks that text only, and the audit applies a
    document's verdict by id: an id given two texts (a file mined from another corpus joined to this one) was read
    without a word, and the other text trained as an in-batch negative of a query it answers."""
    path = two_rows(tmp_path, second)
    with pytest.raises(InputError) as caught:
        list(read_native(path))
    assert str(caught.value) == f"{path}:2: {where}{SAME_ID_FIX}"


def test_a_query_id_with_two_texts_across_rows_is_refused_naming_both_lines(tmp_path):
    path = tmp_path / "m.jsonl"
    rows = (make_row(**BASE), make_row(**{**BASE, "positive_id": "d9"}), make_row(**{**BASE, "positive_id": "d8",
                                                                                     "query": "what is X?"}))
    path.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(read_native_lines(path))
    assert str(caught.value) == f"{path}:3: field 'query': query_id 'q1' has another text than at line 1 (query)" + SAME_ID_FIX


def test_ids_keep_their_texts_across_rows_and_texts_may_share_ids(tmp_path):
    """The same text under two ids (a document stored twice in the corpus, one query asked under two ids) is no
    conflict, nor is an id that keeps its text."""
    path = two_rows(tmp_path, {"query_id": "q2", "positive_id": "d7", "negative_ids": ["d3", "d8"],
                               "negatives": ["y is x", "x is y"]})
    assert [row["query_id"] for row in read_native(path)] == ["q1", "q2"]


JUDGED = dict(judge_positive_score=4.123456789, judge_negative_scores=[3.5, -1.0000004])


def test_judge_scores_come_last_rounded_and_together():
    row = make_row(**BASE, confidence=0.5, **JUDGED)
    assert list(row)[-3:] == ["confidence", "judge_positive_score", "judge_negative_scores"]
    assert (row["judge_positive_score"], row["judge_negative_scores"]) == (4.123457, [3.5, -1.0])
    assert "judge_positive_score" not in make_row(**BASE), "no judge, no key"
    for bad in ({"judge_positive_score": 1.0}, {"judge_negative_scores": [1.0, 2.0]},
                {"judge_positive_score": 1.0, "judge_negative_scores": [1.0]}):
        with pytest.raises(ValueError, match="judge_positive_score, judge_negative_scores come together, the second "
                                             "parallel to negative_ids"):
            make_row(**BASE, **bad)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"judge_negative_scores": [0.1]}, "judge_negative_scores",
         "has 1 entry but negative_ids has 2; the lists are parallel"),
        ({"judge_negative_scores": [0.1, "high"]}, "judge_negative_scores", "must be a list of finite numbers"),
        ({"judge_positive_score": None}, "judge_positive_score",
         "missing; it comes with judge_negative_scores \\(the relevance judge's scores of the positive and of each "
         "negative\\)"),
        ({"judge_negative_scores": None}, "judge_negative_scores", "missing; it comes with judge_positive_score"),
    ],
)
def test_bad_judge_scores_name_file_line_and_field(tmp_path, change, field, problem):
    good = make_row(**BASE, **JUDGED)
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(good), json.dumps(bad)])
    with pytest.raises(InputError, match=f"n.jsonl:2: field '{field}': {problem}"):
        list(read_native(path))


JUDGED_PROMOTED = dict(**JUDGED, judge_extra_positive_scores=[5.0000004, -2.25])


def test_promoted_documents_judge_scores_come_last_rounded_with_the_other_judge_scores_and_texts():
    """``judge_extra_positive_scores``: the relevance judge's scores of the promoted documents, parallel to
    ``extra_positive_ids``; the row's key order otherwise unchanged (it comes last)."""
    row = make_row(**BASE, **PROMOTED, confidence=0.5, **JUDGED_PROMOTED)
    assert list(row)[-4:] == ["confidence", "judge_positive_score", "judge_negative_scores",
                              "judge_extra_positive_scores"]
    assert row["judge_extra_positive_scores"] == [5.0, -2.25]
    assert validate_row(json.loads(dumps_row(row))) == row
    for bad in ({**PROMOTED, "judge_extra_positive_scores": [1.0, 2.0]},  # without the row's judge scores
                {**PROMOTED, **JUDGED, "judge_extra_positive_scores": [1.0]},  # not parallel
                {**JUDGED, "judge_extra_positive_scores": [1.0, 2.0]}):  # nothing promoted
        with pytest.raises(ValueError, match="judge_extra_positive_scores comes with judge_positive_score and "
                                             "extra_positives, parallel to extra_positive_ids"):
            make_row(**BASE, **bad)


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"judge_extra_positive_scores": [0.1]}, "judge_extra_positive_scores",
         "has 1 entry but extra_positive_ids has 2; the lists are parallel"),
        ({"judge_extra_positive_scores": [0.1, "high"]}, "judge_extra_positive_scores",
         "must be a list of finite numbers"),
        ({"judge_positive_score": None, "judge_negative_scores": None}, "judge_positive_score",
         "missing; judge_extra_positive_scores comes with it \\(the relevance judge's scores of the positive, each "
         "negative and each promoted document\\)"),
        ({"extra_positives": None, "extra_positive_scores": None}, "extra_positives",
         "missing; judge_extra_positive_scores is parallel to the promoted documents, which come with their texts"),
    ],
)
def test_bad_promoted_judge_scores_name_file_line_and_field(tmp_path, change, field, problem):
    good = make_row(**BASE, **PROMOTED, **JUDGED_PROMOTED)
    bad = {k: v for k, v in {**good, **change}.items() if v is not None}
    path = write_lines(tmp_path / "n.jsonl", [json.dumps(good), json.dumps(bad)])
    with pytest.raises(InputError, match=f"n.jsonl:2: field '{field}': {problem}"):
        list(read_native(path))


def _native_error(path) -> str:
    with pytest.raises(InputError) as info:
        list(read_native(path))
    return str(info.value)


@pytest.mark.parametrize(("encoding", "problem"), [
    ("utf-16-le", "UTF-16LE text without a byte-order mark (byte 2 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16le -t utf-8 n.jsonl > "
                  "utf8-n.jsonl)"),
    ("utf-16-be", "UTF-16BE text without a byte-order mark (byte 1 is 0x00, as is every second byte of its ASCII "
                  "characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16be -t utf-8 n.jsonl > "
                  "utf8-n.jsonl)"),
    ("utf-16", "not valid UTF-8 (byte 1 of the line); save the file as UTF-8 (e.g. iconv -f utf-16 -t utf-8 n.jsonl "
               "> utf8-n.jsonl)"),
])
def test_a_mined_file_saved_as_utf16_gets_the_fix_for_utf16(tmp_path, encoding, problem):
    """Said "not UTF-8 text: invalid continuation byte at byte 65 of the line" (no fix) at its first non-ASCII
    character, or "invalid start byte at byte 1" after a mark."""
    path = tmp_path / "n.jsonl"
    path.write_bytes((json.dumps(make_row(**BASE), ensure_ascii=False) + "\n").encode(encoding))
    assert _native_error(path) == f"{path}:1: {problem}"


def test_a_latin1_tsv_given_for_a_mined_file_is_no_json_as_its_utf8_copy_is(tmp_path):
    """Said "not UTF-8 text: invalid continuation byte at byte 2 of the line"; converted, it is still no JSON."""
    path = tmp_path / "n.jsonl"
    path.write_bytes("t\u00edtulo\ttexto\nd1\tcaf\u00e9\n".encode("latin-1"))
    assert _native_error(path) == (
        f"{path}:1: invalid JSON: Expecting value (column 1, where json stopped: '' <here> 'título\\ttex'...); "
        "expected a native negatives file (JSON Lines, one row per line, as `negmine mine -o FILE` writes)")


def test_a_mined_file_that_is_binary_is_not_taken_for_utf16(tmp_path):
    import random

    path = tmp_path / "n.jsonl"
    path.write_bytes(b"\x00\x01" + random.Random(0).randbytes(400))
    message = _native_error(path)
    assert message == (f"{path}: a binary file, not text (byte 1 of the file is 0x00, which no UTF-8 text file "
                       "holds); check the path: a UTF-8 text file is read here")
