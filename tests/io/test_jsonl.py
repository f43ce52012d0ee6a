from __future__ import annotations

import json
import math

import pytest

from negmine.errors import InputError
from negmine.io.jsonl import dumps_row, iter_jsonl, json_type, write_jsonl


def test_iter_jsonl_yields_one_based_lines_and_skips_blank_lines(write_text):
    path = write_text("rows.jsonl", '{"a": 1}\n\n   \n{"b": "x"}\r\n{"c": [1]}')
    assert list(iter_jsonl(path)) == [(1, {"a": 1}), (4, {"b": "x"}), (5, {"c": [1]})]


def test_iter_jsonl_tolerates_byte_order_mark(write_text):
    path = write_text("bom.jsonl", '\ufeff{"a": 1}\n')
    assert list(iter_jsonl(path)) == [(1, {"a": 1})]


def test_iter_jsonl_refuses_a_byte_order_mark_on_a_later_line(write_text):
    # dropped before: a file joined from two files saved with marks read as one, with no word
    path = write_text("joined.jsonl", '\ufeff{"a": 1}\n\ufeff{"a": 2}\n')
    with pytest.raises(InputError, match=r"joined\.jsonl:2: the line starts with a byte-order mark \(U\+FEFF\), which "
                       r"only the start of a file may hold"):
        list(iter_jsonl(path))


def test_malformed_json_names_file_and_line(write_text):
    path = write_text("bad.jsonl", '{"a": 1}\n\n{"a": 1,, "b": 2}\n')
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    err = info.value
    assert (err.path, err.line, err.field) == (str(path), 3, None)
    assert str(err).startswith(f"{path}:3: invalid JSON: ")
    assert "column 9" in str(err)


def test_malformed_json_shows_where_json_stopped_and_the_fix(write_text):
    """A line cut short or missing a comma: the message shows the text json stopped at, so the bad value is seen
    without opening the file, and says what a line must be."""
    path = write_text("corpus.jsonl", '{"_id": "d1", "text": "a"}\n{"_id": "d2" "text": "b"}\n')
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    assert str(info.value) == (
        f"{path}:2: invalid JSON: Expecting ',' delimiter (column 14, where json stopped: '{{\"_id\": \"d2\" ' <here> "
        "'\"text\": \"b'...); each line must be one complete JSON object ({\"key\": value, ...}): fix line 2 or delete it")


@pytest.mark.parametrize(("line", "kind", "shown"), [("[1, 2]", "array", "[1, 2]"), ('"text"', "string", '"text"'),
                                              ("7", "number", "7"), ("null", "null", None),
                                              (f'["{"x" * 80}"]', "array", '["' + "x" * 55 + "...")])
def test_non_object_rows_are_rejected(write_text, line, kind, shown):
    """The line's value (cut to 60 characters) and the fix, as for a line that does not parse: it read "expected a
    JSON object per line, got array" alone."""
    path = write_text("rows.jsonl", '{"ok": true}\n' + line + "\n")
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    value = kind if shown is None else f"{kind} {shown}"  # null alone: "got null null" read as a typo
    assert str(info.value) == (f"{path}:2: expected a JSON object per line, got {value}; each line must be one "
                               'JSON object ({"key": value, ...}): fix line 2 or delete it')


def test_invalid_utf8_names_line(write_text):
    path = write_text("latin.jsonl", b'{"a": 1}\n{"a": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"latin\.jsonl:2: not valid UTF-8 \(byte 11 of the line\)"):
        list(iter_jsonl(path))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: file not found"):
        list(iter_jsonl(tmp_path / "nope.jsonl"))
    with pytest.raises(InputError, match="expected a file, found a directory"):
        list(iter_jsonl(tmp_path))


def test_json_type_names():
    assert [json_type(v) for v in ({}, [], "", 1, 1.5, True, None)] == [
        "object", "array", "string", "number", "number", "boolean", "null"
    ]


def test_write_jsonl_is_compact_unescaped_and_counts_rows(tmp_path):
    path = tmp_path / "out" / "rows.jsonl"
    rows = [{"id": "q1", "text": "café ☕", "scores": [0.5, 1]}, {"b": None, "a": True}]
    assert write_jsonl(path, iter(rows)) == 2
    assert path.read_bytes() == '{"id":"q1","text":"café ☕","scores":[0.5,1]}\n{"b":null,"a":true}\n'.encode()
    assert [row for _, row in iter_jsonl(path)] == rows


def test_write_jsonl_is_deterministic_and_handles_no_rows(tmp_path):
    rows = [{"x": i, "y": str(i) * 3} for i in range(50)]
    write_jsonl(tmp_path / "a.jsonl", rows)
    write_jsonl(tmp_path / "b.jsonl", list(rows))
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert write_jsonl(tmp_path / "empty.jsonl", []) == 0
    assert (tmp_path / "empty.jsonl").read_bytes() == b""


def test_write_jsonl_failure_keeps_previous_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"old": 1}])
    with pytest.raises(ValueError, match="row 2 cannot be written as JSON"):
        write_jsonl(path, [{"a": 1}, {"a": math.nan}])
    with pytest.raises(TypeError, match="row 1 cannot be written as JSON"):
        write_jsonl(path, [{"a": object()}])
    with pytest.raises(TypeError, match="row 2 is a list, expected a mapping"):
        write_jsonl(path, [{"a": 1}, [1, 2]])
    assert path.read_text() == '{"old":1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]


def test_dumps_row_accepts_any_mapping():
    from types import MappingProxyType

    assert dumps_row(MappingProxyType({"k": "v"})) == '{"k":"v"}'
    assert json.loads(dumps_row({"n": 1e-3})) == {"n": 1e-3}


def test_an_integer_beyond_pythons_digit_limit_is_malformed_json_at_its_line_and_column(write_text):
    """Python refuses an integer literal over 4300 digits with a plain ValueError (not a JSONDecodeError): it
    escaped the readers as a traceback."""
    path = write_text("corpus.jsonl", '{"_id": "d1", "text": "a"}\n{"_id": ' + "7" * 5000 + ', "text": "b"}\n')
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    assert (info.value.line, info.value.field) == (2, None)
    assert str(info.value).startswith(f"{path}:2: invalid JSON: an integer of 5000 digits, longer than the 4300 "
                                      "Python reads (no id, score or count is that long) (column 9, where json stopped: "
                                      "'{\"_id\": ' <here> '7777777777'...); each line must be one complete JSON object")


def test_read_json_object_names_an_integer_beyond_the_digit_limit(write_text):
    from negmine.io.jsonl import read_json_object

    path = write_text("s.json", '{\n  "counts": -' + "1" * 4400 + "\n}\n")
    with pytest.raises(InputError, match=r"s\.json:2: invalid JSON: an integer of 4400 digits, longer than the 4300"):
        read_json_object(path, ["counts"], "not found", "not a summary")


def test_read_json_object_reads_past_a_byte_order_mark_and_names_the_line_of_invalid_utf8(write_text):
    from negmine.io.jsonl import read_json_object

    path = write_text("s.json", b'\xef\xbb\xbf{\n  "counts": {}\n}\n')
    assert read_json_object(path, ["counts"], "not found", "not a summary") == {"counts": {}}
    path = write_text("s.json", b'{\n  "counts": {},\n  "input": "caf\xe9"\n}\n')
    with pytest.raises(InputError) as info:
        read_json_object(path, ["counts"], "not found", "not a summary")
    assert str(info.value) == (f"{path}:3: not valid UTF-8 (byte 16 of the line); save the file as UTF-8 (e.g. "
                                f"iconv -f latin1 -t utf-8 {path.name} > utf8-{path.name})")
    path = write_text("s.json", '{"counts": {}}'.encode("utf-16"))
    with pytest.raises(InputError, match=r"s\.json:1: not valid UTF-8 \(byte 1 of the line\); save the file as UTF-8 "
                                         r"\(e\.g\. iconv -f utf-16 -t utf-8 s\.json > utf8-s\.json\)$"):
        read_json_object(path, ["counts"], "not found", "not a summary")


LATIN1_TSV = "t\u00edtulo\ttexto\nd1\tcaf\u00e9 au lait\n".encode("latin-1")
"""A Latin-1 TSV (its header not ASCII): given for a JSON file, it got the iconv fix, after which it is no JSON."""


def test_a_latin1_line_that_is_no_json_gets_the_message_of_its_utf8_copy_not_the_iconv_fix(write_text):
    utf8 = write_text("utf8.jsonl", LATIN1_TSV.decode("latin-1"))
    latin = write_text("latin.jsonl", LATIN1_TSV)
    messages = []
    for path in (utf8, latin):
        with pytest.raises(InputError) as info:
            list(iter_jsonl(path))
        messages.append(str(info.value).removeprefix(str(path)))
    assert messages[0] == messages[1] == (
        ":1: invalid JSON: Expecting value (column 1, where json stopped: '' <here> 'título\\ttex'...); each line "
        'must be one complete JSON object ({"key": value, ...}): fix line 1 or delete it')
    later = write_text("later.jsonl", b'{"a": 1}\n{"a": "caf\xe9"\n')  # a JSON line cut short, saved as Latin-1
    with pytest.raises(InputError, match=r"later\.jsonl:2: invalid JSON: Expecting ',' delimiter \(column 13, "):
        list(iter_jsonl(later))
    twice = write_text("twice.jsonl", b'{"a": "caf\xe9", "a": 2}\n')  # JSON (a key twice): the fix helps first
    with pytest.raises(InputError, match=r"twice\.jsonl:1: not valid UTF-8 \(byte 11 of the line\); save the file as "
                                         r"UTF-8 \(e\.g\. iconv -f latin1 "):
        list(iter_jsonl(twice))


@pytest.mark.parametrize(("order", "byte"), [("le", 2), ("be", 1)])
def test_read_json_file_names_utf16_without_a_mark_with_its_byte_order(write_text, order, byte):
    """A summary saved as UTF-16 without a mark got the Latin-1 fix at its first non-ASCII character's line."""
    from negmine.io.jsonl import read_json_file

    path = write_text("s.json", json.dumps({"counts": {}, "note": "café"}, indent=1, ensure_ascii=False)
                      .encode(f"utf-16-{order}"))
    with pytest.raises(InputError) as info:
        read_json_file(path)
    assert str(info.value) == (f"{path}:1: UTF-16{order.upper()} text without a byte-order mark (byte {byte} is 0x00, "
                               "as is every second byte of its ASCII characters), not UTF-8; save the file as UTF-8 "
                               f"(e.g. iconv -f utf-16{order} -t utf-8 s.json > utf8-s.json)")


def test_read_json_file_gives_a_latin1_text_that_is_no_json_the_message_of_its_utf8_copy(write_text):
    from negmine.io.jsonl import read_json_file

    for name, content in (("utf8.json", LATIN1_TSV.decode("latin-1")), ("latin.json", LATIN1_TSV)):
        path = write_text(name, content)
        with pytest.raises(InputError) as info:
            read_json_file(path)
        assert str(info.value) == f"{path}:1: invalid JSON: Expecting value"
    cut = write_text("cut.json", b'{\n "note": "caf\xe9",\n')  # JSON cut short: its reader's message, at its line
    with pytest.raises(InputError) as info:
        read_json_file(cut)
    assert str(info.value) == f"{cut}:3: invalid JSON: Expecting property name enclosed in double quotes"


def test_read_json_object_says_a_file_of_several_documents_is_not_the_one_it_wants(write_text):
    """A JSON Lines file given for a summary (``negmine report FLAGS --summary mined.jsonl``) said only
    'x.jsonl:2: invalid JSON: Extra data'; a damaged single document keeps json's words and no guess."""
    from negmine.io.jsonl import read_json_object

    path = write_text("x.jsonl", '{"a": 1}\n{"b": 2}\n')
    with pytest.raises(InputError) as info:
        read_json_object(path, ["counts"], "not found", "this is not an audit summary")
    assert str(info.value) == (f"{path}:2: invalid JSON: a second JSON value starts at column 1 after a complete one; "
                               "this file must hold one JSON document (a JSON Lines file, one object per line, is not "
                               "one); this is not an audit summary")
    path = write_text("s.json", '{"counts": ')
    with pytest.raises(InputError) as info:
        read_json_object(path, ["counts"], "not found", "this is not an audit summary")
    assert str(info.value) == f"{path}:1: invalid JSON: Expecting value"


STRAY_MARK = "which only the start of a file may hold"


@pytest.mark.parametrize(("content", "line", "where", "fix"), [
    ('\ufeff\ufeff{"counts": {}}\n', 1, "starts with a byte-order mark (U+FEFF)", r"'s/^\xEF\xBB\xBF//' PATH"),
    ('{"counts": {}}\n\ufeff{"counts": {}}\n', 2, "starts with a byte-order mark (U+FEFF)",  # joined with cat
     r"'s/^\xEF\xBB\xBF//' PATH"),
    ('{\n  \ufeff"counts": {}\n}\n', 2, "holds a byte-order mark (U+FEFF) at character 3", r"'2s/\xEF\xBB\xBF//' PATH"),
    ('{\n  "counts": {},\ufeff\n  "x": 1\n}\n', 2, "holds a byte-order mark (U+FEFF) at character 16",
     r"'2s/\xEF\xBB\xBF//' PATH"),
])
def test_read_json_file_names_a_byte_order_mark_outside_a_string_as_the_line_readers_do(write_text, content, line,
                                                                                          where, fix):
    """json said "Unexpected UTF-8 BOM", "Extra data" or "Expecting property name" of a character no editor shows."""
    from negmine.io.jsonl import read_json_file

    path = write_text("s.json", content)
    with pytest.raises(InputError) as info:
        read_json_file(path)
    assert (info.value.line, info.value.field) == (line, None)
    assert str(info.value).startswith(f"{path}:{line}: the line {where}, {STRAY_MARK} (")
    assert str(info.value).endswith(f"; remove it, e.g. sed -i {fix.replace('PATH', str(path))}")  # runs as printed


def test_read_json_file_drops_the_files_own_mark_and_keeps_one_inside_a_string(write_text):
    from negmine.io.jsonl import read_json_file

    assert read_json_file(write_text("s.json", '\ufeff{\n  "counts": {}\n}\n')) == {"counts": {}}
    assert read_json_file(write_text("s.json", '\ufeff{"name": "\ufeffx"}')) == {"name": "\ufeffx"}


def test_read_json_object_checks_the_types_it_is_given(write_text):
    from negmine.io.jsonl import read_json_object

    path = write_text("s.json", '{"counts": "lots", "judges": []}')
    assert read_json_object(path, ["counts", "judges"], "not found", "not a summary")["counts"] == "lots"
    with pytest.raises(InputError) as info:
        read_json_object(path, {"judges": list, "counts": dict}, "not found", "not a summary (write it with x)")
    assert str(info.value) == f"{path}: field 'counts': must be a JSON object, got string; not a summary (write it with x)"


def test_read_json_object_asks_a_foreign_hint_of_the_document_only_when_it_is_refused(write_text):
    """A reader whose hint depends on what the file holds (the eval results reader names a mining summary by its
    keys) gets the loaded document, and is not asked for a file it accepts."""
    from negmine.io.jsonl import read_json_object

    asked = []

    def hint(document: object) -> str:
        asked.append(document)
        return f"holds {sorted(document)}"

    path = write_text("s.json", '{"counts": "lots", "judges": []}')
    assert read_json_object(path, ["counts"], "not found", hint)["counts"] == "lots" and asked == []
    with pytest.raises(InputError) as info:
        read_json_object(path, ["counts", "samples"], "not found", hint)
    assert str(info.value) == f"{path}: field 'samples': missing; holds ['counts', 'judges']"
    with pytest.raises(InputError) as info:
        read_json_object(path, {"counts": dict}, "not found", hint)
    assert str(info.value) == f"{path}: field 'counts': must be a JSON object, got string; holds ['counts', 'judges']"
    assert len(asked) == 2


REPEAT = "given twice in one JSON object (again at column {}); JSON readers keep only the last value, so the other " \
         "would be dropped without a word: keep one of them"


@pytest.mark.parametrize(("line", "key", "column"), [
    ('{"_id": "a", "_id": "b", "text": "x"}', "_id", 14),
    ('{"_id": "a", "text": "x", "title": "t", "text": "y"}', "text", 41),
    ('{"_id": "a", "text": "x", "meta": {"k": 1, "k": 2}}', "k", 44),  # a nested object too
    ('{"_id": "a", "\\u005fid": "b", "text": "x"}', "_id", 2),  # spelled another way: the column of the first
])
def test_a_key_given_twice_in_a_row_is_refused_naming_file_line_and_key(write_text, line, key, column):
    """``json.loads`` keeps the last value of a repeated key without a word: the document was silently ``b``."""
    path = write_text("corpus.jsonl", '{"_id": "d0", "text": "ok"}\n' + line + "\n")
    with pytest.raises(InputError) as info:
        list(iter_jsonl(path))
    assert (info.value.line, info.value.field) == (2, key)
    assert str(info.value) == f"{path}:2: field '{key}': " + REPEAT.format(column)


def test_read_json_object_refuses_a_key_given_twice_at_its_line(write_text):
    from negmine.io.jsonl import read_json_object

    path = write_text("s.json", '{\n  "counts": {},\n  "judges": [],\n  "counts": {"pairs": 1}\n}\n')
    with pytest.raises(InputError) as info:
        read_json_object(path, ["counts"], "not found", "not a summary")
    assert str(info.value) == f"{path}:4: field 'counts': " + REPEAT.format(3)


def test_loads_raises_a_picklable_json_decode_error_for_a_repeated_key_and_reads_bytes():
    import pickle

    from negmine.io.jsonl import DuplicateKeyError, loads

    assert loads(b'{"a": [1, {"b": 2}], "c": null}') == {"a": [1, {"b": 2}], "c": None}
    with pytest.raises(json.JSONDecodeError) as info:
        loads('{"a": 1, "b": 2, "a": 3}')
    err = info.value
    assert isinstance(err, DuplicateKeyError)
    assert (err.key, err.pos, err.msg) == ("a", 17, "key 'a' appears twice in one object")
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.key, again.pos, str(again)) == (DuplicateKeyError, "a", 17, str(err))
    with pytest.raises(json.JSONDecodeError, match="Unexpected UTF-8 BOM"):  # as json.loads
        loads('\ufeff{"a": 1}')


def test_write_jsonl_names_the_row_holding_a_lone_surrogate(tmp_path):
    # json.dumps(ensure_ascii=False) keeps the surrogate; the write raised a UnicodeEncodeError traceback
    path = tmp_path / "s.jsonl"
    with pytest.raises(ValueError, match=r"write_jsonl: row 2 cannot be written as UTF-8: it holds the lone UTF-16 "
                       r"surrogate '\\ud800' \(in \.\.\.'\{\"b\":\"x\\ud800y\"\}'\.\.\.\); fix that string"):
        write_jsonl(path, [{"a": 1}, {"b": "x\ud800y"}])
    assert not path.exists()
