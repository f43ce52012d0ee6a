from __future__ import annotations

import re

import numpy as np
import pytest

from negmine.errors import InputError
from negmine.evaluate.run import Run, read_trec_run, write_trec_run
from negmine.retrieve.candidates import Candidates


def test_from_candidates_drops_padding_and_sorts() -> None:
    cands = Candidates(
        indices=np.array([[2, 0, -1], [1, 2, 0]], dtype=np.int64),
        scores=np.array([[0.9, 0.5, -np.inf], [0.7, 0.7, 0.1]], dtype=np.float32),
    )
    run = Run.from_candidates(cands, ["qa", "qb"], ["d0", "d1", "d2"], name="m")
    assert run.name == "m"
    assert run.ranked("qa") == ["d2", "d0"]
    assert run.ranked("qb") == ["d2", "d1", "d0"]  # tie 0.7: doc id descending, as trec_eval
    assert run.scores["qa"]["d2"] == pytest.approx(0.9)
    with pytest.raises(ValueError, match="1 query ids for 2 candidate rows"):
        Run.from_candidates(cands, ["qa"], ["d0", "d1", "d2"])


def test_trec_round_trip_is_exact_and_deterministic(tmp_path) -> None:
    run = Run({"q2": {"b": 0.1, "a": 1 / 3, "c": 1 / 3}, "q1": {"x": -2.5e-7}}, name="my model")
    path = write_trec_run(tmp_path / "out" / "run.trec", run)
    text = path.read_text()
    assert text.splitlines()[:3] == [
        f"q2 Q0 c 1 {1 / 3!r} my_model",  # tied with a: doc id descending, as trec_eval ranks them
        f"q2 Q0 a 2 {1 / 3!r} my_model",
        "q2 Q0 b 3 0.1 my_model",
    ]
    back = read_trec_run(path)
    assert back.scores == run.scores and back.name == "my_model" and back.source == str(path)
    write_trec_run(tmp_path / "again.trec", back, tag="my model")
    assert (tmp_path / "again.trec").read_bytes() == path.read_bytes()
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "run.trec"]  # no temp files left


def test_read_orders_by_score_and_skips_blank_lines(tmp_path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("q1 0 d1 1 0.2 bm25\n\nq1 0 d2 2 0.9 bm25\n")
    run = read_trec_run(path, name="other")
    assert run.ranked("q1") == ["d2", "d1"] and run.name == "other"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4\n", r"r.trec:2: expected 6 columns 'query_id Q0 doc_id rank score tag', got 5"),
        ("q1 Q0 d1 one 0.5 t\n", r"r.trec:1: field 'rank': not an integer: 'one'"),
        ("q1 Q0 d1 1 high t\n", r"r.trec:1: field 'score': not a number: 'high'"),
        ("q1 Q0 d1 1 nan t\n", r"r.trec:1: field 'score': score is NaN \('nan'\); every score must be a finite number"),
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 inf t\n", r"r.trec:2: field 'score': score 'inf' is infinite; every score must "
                                                  r"be a finite number .*: write finite scores, e.g. clip them"),
        ("q1 Q0 d1 1 -inf t\n", r"r.trec:1: field 'score': score '-inf' is infinite; every score must be a finite"),
        ("q1 Q0 d1 1 Infinity t\n", r"r.trec:1: field 'score': score 'Infinity' is infinite; every score must be"),
        ("q1 Q0 d1 1 -Infinity t\n", r"r.trec:1: field 'score': score '-Infinity' is infinite"),
        ("q1 Q0 d1 1 1e400 t\n", r"r.trec:1: field 'score': score '1e400' is beyond the range of a float \(it reads "
                                 r"as infinite\); every score must be a finite number"),
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d1 2 0.4 t\n", r"r.trec:2: field 'doc_id': document 'd1' listed twice for query 'q1'"),
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 1_0 t\n", r"r.trec:2: field 'score': score '1_0' holds an underscore, which Python "
                                                  r"reads as a digit separator \(as 10\.0\) and a TREC run file does not "
                                                  r"have; write the number without it, e.g\. 10 or 1\.5e-3$"),
        ("q1 Q0 d1 1 1e1_0 t\n", r"r.trec:1: field 'score': score '1e1_0' holds an underscore, .* \(as 10000000000\.0\)"),
        ("q1 Q0 d1 1 \uff11.\uff15 t\n", r"r.trec:1: field 'score': score '１\.５' is not a plain decimal number \(Python "
                                          r"reads it as 1\.5\); TREC run scores are written with the digits 0-9, an "
                                          r"optional point and exponent, e.g\. 10 or 1\.5e-3$"),
        ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 1_0 0.4 t\n", r"r.trec:2: field 'rank': rank '1_0' holds an underscore, which "
                                                  r"Python reads as a digit separator \(as 10\); TREC run ranks are "
                                                  r"written with the digits 0-9 alone, e\.g\. 1 or 10$"),
        ("q1 Q0 d1 +1 0.5 t\n", r"r.trec:1: field 'rank': rank '\+1' has a sign \('\+'\), which a rank, a position in "
                                r"the ranking, does not have; TREC run ranks are written with the digits 0-9 alone"),
        ("q1 Q0 d1 -1 0.5 t\n", r"r.trec:1: field 'rank': rank '-1' has a sign \('-'\), which a rank"),
        ("q1 Q0 d1 \uff11 0.5 t\n", r"r.trec:1: field 'rank': rank '１' is not written with the digits 0-9 \(Python "
                                     r"reads it as 1\); TREC run ranks are written with the digits 0-9 alone"),
        ("q1 Q0 d1 \u0663 0.5 t\n", r"r.trec:1: field 'rank': rank '٣' is not written with the digits 0-9 \(Python "
                                     r"reads it as 3\)"),
        ("\n\n", r"r.trec: no run rows"),
    ],
)
def test_malformed_rows_name_file_line_field(tmp_path, content: str, message: str) -> None:
    path = tmp_path / "r.trec"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_trec_run(path)


def test_write_rejects_ids_with_whitespace(tmp_path) -> None:
    with pytest.raises(InputError, match=r"field 'doc_id': id 'a b' is empty or contains whitespace"):
        write_trec_run(tmp_path / "r.trec", Run({"q": {"a b": 1.0}}))
    assert not list(tmp_path.iterdir())


def test_identical_ids_and_truncation() -> None:
    run = Run({"q": {"q": 0.9, "a": 0.8, "b": 0.7}})
    assert run.without_identical_ids().ranked("q") == ["a", "b"]
    assert run.truncated(2).ranked("q") == ["q", "a"]
    assert run.renamed("x").name == "x" and len(run) == 1 and run.query_ids() == ["q"]


def test_read_trec_run_drops_a_byte_order_mark(tmp_path) -> None:
    path = tmp_path / "bom.trec"
    path.write_bytes(b"\xef\xbb\xbfq1 Q0 d1 1 0.5 m\nq2 Q0 d2 1 0.4 m\n")
    assert read_trec_run(path).scores == {"q1": {"d1": 0.5}, "q2": {"d2": 0.4}}


def test_a_query_id_starting_with_a_byte_order_mark_is_refused_by_the_writer_and_the_reader(tmp_path) -> None:
    # Before, the writer wrote '\ufeffq2' and the reader dropped the mark: the run read back with query 'q2'.
    for scores in ({"\ufeffq1": {"d1": 0.5}}, {"q1": {"d1": 0.5}, "\ufeffq2": {"d1": 0.4}}):
        path = tmp_path / "marked.trec"
        with pytest.raises(InputError, match=r"marked\.trec: field 'query_id': id '\\ufeffq\d' starts with a byte-order "
                           r"mark \(U\+FEFF\), which a TREC run row cannot start with: .* remove the mark from the id"):
            write_trec_run(path, Run(scores))
        assert not path.exists()
    path = tmp_path / "joined.trec"
    path.write_bytes("q1 Q0 d1 1 0.5 m\n\ufeffq2 Q0 d2 1 0.4 m\n".encode("utf-8"))
    with pytest.raises(InputError, match=r"joined\.trec:2: field 'query_id': starts with a byte-order mark \(U\+FEFF\)"):
        read_trec_run(path)


@pytest.mark.parametrize(("scores", "name", "field", "value"), [
    ({"q\ud800": {"d1": 0.5}}, "run", "query_id", "q\ud800"),
    ({"q1": {"d1": 0.5, "d\udc00": 0.4}}, "run", "doc_id", "d\udc00"),
])
def test_an_id_holding_a_lone_surrogate_is_refused_before_the_file_is_created(tmp_path, scores, name, field,
                                                                               value) -> None:
    # only a Run built in Python can hold one (the reader refuses invalid UTF-8): a UnicodeEncodeError traceback
    path = tmp_path / "s.trec"
    with pytest.raises(InputError) as info:
        write_trec_run(path, Run(scores, name))
    assert str(info.value).startswith(
        f"{path}: field '{field}': id {value!r} holds the lone UTF-16 surrogate {value[-1]!r} at character 2, which "
        "UTF-8 cannot store, so no file negmine writes (run, mined or results file) can hold it;")
    assert str(info.value).endswith("fix the id there, e.g. decode the bytes with errors='replace'")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match=r"field 'tag': 'r\\ud800' \(the run's name, or the tag given\) holds a lone "
                       r"UTF-16 surrogate, which UTF-8 cannot store; give a name without it"):
        write_trec_run(path, Run({"q": {"d": 1.0}}, "r\ud800"))


def test_read_trec_run_reports_invalid_utf8_and_directories(tmp_path) -> None:
    path = tmp_path / "latin1.trec"
    path.write_bytes(b"q1 Q0 d1 1 0.5 m\nq1 Q0 d\xe99 2 0.4 m\n")
    with pytest.raises(InputError, match=r"latin1\.trec:2: not valid UTF-8 \(byte 8 of the line\)"):
        read_trec_run(path)
    with pytest.raises(InputError, match=r": expected a run file, found a directory$"):
        read_trec_run(tmp_path)
    with pytest.raises(InputError, match=r"absent\.trec: run file not found; give the path of a TREC run file \(lines "
                                         r"'query-id Q0 doc-id rank score tag'\), such as negmine eval --runs-dir DIR "
                                         r"writes$"):  # it said "run file not found" alone
        read_trec_run(tmp_path / "absent.trec")


def test_a_jsonl_line_given_as_a_run_is_cut_and_named(tmp_path) -> None:
    """A mined row is kilobytes long: the message quotes its start and says what the file probably is."""
    path = tmp_path / "r.trec"
    path.write_text('{"query_id": "q1", "query": "' + "x " * 2000 + '"}\n')
    with pytest.raises(InputError) as err:
        read_trec_run(path)
    message = str(err.value)
    assert "r.trec:1: expected 6 columns 'query_id Q0 doc_id rank score tag', got 2004: '{\"query_id\"" in message
    assert message.endswith("... (4031 characters) (a JSON line: is this a mined or JSONL file? --run takes a TREC run file)")
    assert len(message) < 400


def test_a_header_line_is_named_as_one(tmp_path) -> None:
    """The message said only "field 'rank': not an integer: 'rank'"."""
    path = tmp_path / "r.trec"
    path.write_text("qid Q0 docid rank score tag\nq1 Q0 d1 1 0.5 t\n")
    with pytest.raises(InputError) as info:
        read_trec_run(path)
    assert str(info.value) == (f"{path}:1: field 'rank': not an integer: 'rank'; this looks like a header line, which "
                               "TREC run files do not have: delete the first line")
    path.write_text("q1 Q0 d1 1 0.5 t\nqid Q0 docid rank score tag\n")  # a word rank later on: no header guess
    with pytest.raises(InputError) as info:
        read_trec_run(path)
    assert str(info.value) == (f"{path}:2: field 'rank': not an integer: 'rank'; the fourth column is the rank, written "
                               "with the digits 0-9 (1 for a query's first document)")


@pytest.mark.parametrize(("content", "message"), [
    ("q1 Q0 d1 1 high t\n", "1: field 'score': not a number: 'high'; the fifth column is the document's score, a "
     "decimal number such as 12.5 (higher ranks first)"),
    ("q1 Q0 d1 first 0.5 t\n", "1: field 'rank': not an integer: 'first'; the fourth column is the rank, written with "
     "the digits 0-9 (1 for a query's first document)"),
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 0.4 t\nq1 Q0 d1 3 0.3 t\n", "3: field 'doc_id': document 'd1' listed twice for "
     "query 'q1'; a run ranks each document once per query: delete one of the two lines"),
    (f"q1 Q0 {'d' * 100} 1 0.5 t\nq1 Q0 {'d' * 100} 2 0.4 t\n", f"2: field 'doc_id': document '{'d' * 80}'... (100 "
     "characters) listed twice for query 'q1'; a run ranks each document once per query: delete one of the two lines"),
])
def test_bad_rows_say_what_the_column_holds(tmp_path, content, message) -> None:
    """A score, a rank or a repeated document is told what to write instead (they read "not a number: 'high'",
    "not an integer: 'first'", "listed twice for query 'q1'" alone), an id cut to 80 characters."""
    path = tmp_path / "r.trec"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_trec_run(path)
    assert str(info.value) == f"{path}:{message}"


@pytest.mark.parametrize("score, shown", [(float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf")])
def test_write_refuses_a_score_the_reader_refuses_naming_query_and_document(tmp_path, score, shown) -> None:
    """A NaN or infinite score was written (as 'nan', 'inf'), and read_trec_run refused the file negmine wrote."""
    run = Run({"q1": {"d1": 0.5}, "q2": {"d2": 0.4, "d3": score}}, "r")
    with pytest.raises(InputError) as info:
        write_trec_run(tmp_path / "r.trec", run)
    assert str(info.value) == (
        f"{tmp_path / 'r.trec'}: field 'score': query 'q2', document 'd3': score {shown} is not a finite number, "
        "which a TREC run file negmine reads (read_trec_run, negmine eval --run) refuses; give finite scores, e.g. "
        "clip them to a large finite value")
    assert not list(tmp_path.iterdir()), "no file, nor a temporary one, is left"
    big = write_trec_run(tmp_path / "big.trec", Run({"q": {"d": 1.7976931348623157e308, "e": -0.0}}))
    assert read_trec_run(big).scores == {"q": {"d": 1.7976931348623157e308, "e": -0.0}}


def test_every_plain_decimal_score_form_is_read() -> None:
    """The score check refuses Python-only forms (1_0, fullwidth digits), not the decimal forms run files use."""
    from negmine.evaluate.run import _DECIMAL

    for text in ("0.5", "-1", "+2", ".5", "1.", "1e-3", "-1.5E+07", "0", "-0.0", "12345678901234567890"):
        assert _DECIMAL.fullmatch(text), text
    for text in ("1_0", "1e1_0", "\uff11", "\u0663", "1.5.2", "e5", "."):
        assert not _DECIMAL.fullmatch(text), text


def test_plain_ranks_are_read(tmp_path) -> None:
    """The rank check refuses Python-only forms, not the ranks run files use: 1-based, 0 (trec_eval's example row),
    leading zeros, beyond 64 bits (the rank is not used: trec_eval and negmine rank by score)."""
    path = tmp_path / "r.trec"
    path.write_text("q1 Q0 d1 0 0.5 t\nq1 Q0 d2 007 0.4 t\nq1 Q0 d3 12345678901234567890 0.3 t\n", encoding="utf-8")
    assert read_trec_run(path).ranked("q1") == ["d1", "d2", "d3"]


@pytest.mark.parametrize(("content", "line", "field", "problem"), [
    ("q1 Q0 d1 1 0.5 t\nq1 Q0 d\ufeff2 2 0.4 t\n", 2, "doc_id",
     "id 'd\\ufeff2' holds a byte-order mark (U+FEFF) at character 2, an invisible character that only the start of "
     "a file may hold"),
    ("q1 Q0 \ufeffd1 1 0.5 t\n", 1, "doc_id", "id '\\ufeffd1' holds a byte-order mark (U+FEFF) at character 1"),
    ("q1 Q0 d1 1 0.5 t\nq\ufeff2 Q0 d1 1 0.4 t\n", 2, "query_id",
     "id 'q\\ufeff2' holds a byte-order mark (U+FEFF) at character 2"),
    ("q1 Q0 \u200b 1 0.5 t\n", 1, "doc_id", "id '\\u200b' has no visible character (only whitespace and the "
                                           "invisible characters U+200B); give the row a visible id"),
])
def test_the_reader_refuses_the_ids_the_corpus_and_queries_readers_refuse_in_their_words(tmp_path, content, line,
                                                                                          field, problem) -> None:
    """A doc id holding U+FEFF was read, then reported as a document the corpus lacks (the corpus reader refuses
    such an id); the message now says what is wrong with it, as id_problem does for every other file."""
    path = tmp_path / "r.trec"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_trec_run(path)
    assert str(info.value).startswith(f"{path}:{line}: field '{field}': {problem}")
    path.write_text("q1 Q0 d\u200d1 1 0.5 t\n", encoding="utf-8")  # a joiner inside an id is kept, as in a corpus
    assert read_trec_run(path).ranked("q1") == ["d\u200d1"]


@pytest.mark.parametrize(("scores", "field", "value"), [
    ({"q1": {"d1": 0.5, "d\ufeff2": 0.4}}, "doc_id", "d\\ufeff2"),
    ({"q\ufeff1": {"d1": 0.5}}, "query_id", "q\\ufeff1"),
    ({"q1": {"\u200b": 0.5}}, "doc_id", "\\u200b"),
])
def test_the_writer_refuses_the_ids_the_reader_refuses(tmp_path, scores, field, value) -> None:
    """A Run built in Python could hold them: its file was written, then refused by read_trec_run."""
    path = tmp_path / "r.trec"
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}: field '{field}': id '{re.escape(value)}' "):
        write_trec_run(path, Run(scores))
    assert not list(tmp_path.iterdir())


def test_read_trec_run_records_the_file_it_read_hashed_in_that_one_read(tmp_path, monkeypatch) -> None:
    """A run read from a file carries ``origin``, the file's resolved path, size and sha256 (``sha256sum``'s: the
    byte-order mark and the blank lines included), which ``negmine eval`` records; the file is opened once, so the
    hash costs no second read. Renaming, truncating or dropping identical ids keeps it; a Run built in Python has
    none."""
    import builtins
    import hashlib
    import io
    from pathlib import Path

    path = tmp_path / "r.trec"
    path.write_bytes("\ufeffq1 Q0 d1 1 0.9 bm25\n\nq1 Q0 q1 2 0.5 bm25\r\n\n".encode("utf-8"))
    opened = []
    real_open, real_file_io = builtins.open, io.FileIO

    def counted(real):
        def open_(file, *args, **kwargs):
            if not isinstance(file, int):
                opened.append(Path(file))
            return real(file, *args, **kwargs)
        return open_

    monkeypatch.setattr(builtins, "open", counted(real_open))
    monkeypatch.setattr(io, "FileIO", counted(real_file_io))
    (tmp_path / "sub").mkdir()
    run = read_trec_run(tmp_path / "sub" / ".." / "r.trec")  # the record resolves the path
    monkeypatch.undo()
    assert [p.resolve() for p in opened].count(path) == 1
    expected = {"path": str(path.resolve()), "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert run.origin == expected
    assert run.renamed("x").origin == run.truncated(1).origin == run.without_identical_ids().origin == expected
    assert Run({"q1": {"d1": 1.0}}).origin is None


QRELS_HINT = ("; this looks like a qrels file (query-id, corpus-id, relevance), not a run: the evaluation reads the "
              "split's qrels from DATA_DIR/qrels/<split>.tsv, and --run takes a file of ranked documents, such as "
              "negmine eval --runs-dir DIR writes")


@pytest.mark.parametrize(("content", "ending"), [
    ("query-id\tcorpus-id\tscore\nq1\td1\t1\n", QRELS_HINT),  # a BEIR qrels file
    ("q1\td1\t1\n", QRELS_HINT),  # one without its header
    ("q1 0 d1 1\n", QRELS_HINT),  # TREC's four-column qrels
    ("q1 d1 1 0.5 t\n", "; the second column, the literal Q0, is missing: write each row as 'query_id Q0 doc_id rank "
                        "score tag'"),
    ("q1 Q0 my doc 1 0.5 t\n", "; columns are separated by whitespace, so an id or the tag holding a space splits into "
                               "two: write ids and the tag without whitespace (e.g. '_' for a space)"),
    ("q1 Q0 d1 1 0.5\n", "; write each row as 6 whitespace-separated columns: query_id Q0 doc_id rank score tag"),
])
def test_a_row_without_six_columns_says_what_it_looks_like_and_the_fix(tmp_path, content, ending) -> None:
    """The message gave the expected columns alone: a qrels file given as --run, a row without its Q0 or an id with
    a space in it got no word on what the file was or what to change."""
    path = tmp_path / "r.trec"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        read_trec_run(path)
    assert str(err.value).startswith(f"{path}:1: expected 6 columns 'query_id Q0 doc_id rank score tag', got ")
    assert str(err.value).endswith(ending)
