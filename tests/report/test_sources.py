"""`negmine report` given a file that is none of its sources: what the file is not, what report takes, the fix."""

from __future__ import annotations

import gzip
import json
import shutil

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.errors import InputError
from negmine.report.sources import SOURCES, source_kind

runner = CliRunner()
TAKES = f"none of the files negmine report reads; negmine report takes {SOURCES}; give one of them"


def _error(*args) -> str:
    result = runner.invoke(build_app(), ["report", *map(str, args)])
    assert result.exit_code == 2, result.output
    return result.stderr


def test_a_text_file_that_is_not_json_lines_is_named_as_none_of_the_sources(tmp_path):
    """`negmine report README.md` said only 'README.md:1: invalid JSON: Expecting value (column 1)'."""
    readme = tmp_path / "README.md"
    readme.write_text("# negmine\n\nMine hard negatives.\n")
    assert _error(readme) == (f"error: {readme}:1: not JSON Lines (invalid JSON: Expecting value (column 1)): "
                              f"{TAKES}\n")
    tsv = tmp_path / "train.tsv"
    tsv.write_text("\nquery-id\tcorpus-id\tscore\nq1\td1\t1\n")
    assert _error(tsv) == (f"error: {tsv}:2: not JSON Lines (invalid JSON: Expecting value (column 1)): {TAKES}\n")


def test_a_text_file_named_json_that_is_no_json_is_named_as_none_of_the_sources(tmp_path):
    """`negmine report results.json` holding a log or a TSV said only 'results.json:1: invalid JSON: Expecting
    value'; a JSON document cut short keeps its reader's message."""
    log = tmp_path / "results.json"
    log.write_text("\n\nhello world\n")
    assert _error(log) == (f"error: {log}:3: not JSON (its text begins with 'hello', which no JSON document does): "
                           f"{TAKES}\n")
    cut = tmp_path / "cut.json"
    cut.write_text('{"comparison": ')
    assert _error(cut) == f"error: {cut}:1: invalid JSON: Expecting value\n"
    packed = tmp_path / "packed.json"
    packed.write_bytes(gzip.compress(b"{}"))
    # it got the iconv fix of a Latin-1 file ('not valid UTF-8 (byte 2 of the line); ... iconv -f latin1 ...')
    assert _error(packed) == f"error: {packed}: gzip-compressed; decompress it first, e.g. gunzip -k {packed}\n"


def test_a_broken_row_or_a_json_document_still_goes_to_the_flags_reader(tmp_path):
    """A first line that begins a JSON object or array is a cut flags row or a document: its reader names it."""
    broken = tmp_path / "broken.flags.jsonl"
    broken.write_text('{"kind": "false_negative",\n')
    document = tmp_path / "results.txt"
    document.write_text(json.dumps([1, 2], indent=2))
    assert source_kind(broken) == source_kind(document) == "audit"
    assert _error(document).endswith(f"; this file is one JSON document, not JSON Lines; negmine report takes {SOURCES}\n")


@pytest.mark.parametrize(("content", "byte"), [(b"\x00\x01\x02hello", "byte 1 is 0x00"),
                                               (b'{"kind": "x\x07"}\n', "byte 12 is 0x07")])
def test_a_binary_file_is_named_as_such_not_sent_to_iconv(tmp_path, content, byte):
    """Random bytes said 'not valid UTF-8 (byte 1 of the line); save the file as UTF-8 (e.g. iconv -f latin1 ...)'."""
    for path in (tmp_path / "vectors.npy", tmp_path / "results.json"):  # *.json said "invalid JSON: Expecting value"
        path.write_bytes(content)
        assert _error(path) == (f"error: {path}: a binary file ({byte}, which no JSON text holds), not JSON Lines: "
                                f"{TAKES}\n")


def test_gzip_and_utf16_files_keep_the_messages_that_fix_them(tmp_path):
    packed = tmp_path / "m.flags.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"kind": "false_negative"}\n'))
    assert _error(packed) == f"error: {packed}: gzip-compressed; decompress it first, e.g. gunzip -k {packed}\n"
    wide = tmp_path / "m.flags.jsonl"
    wide.write_bytes('{"kind": "false_negative"}\n'.encode("utf-16"))
    assert "not valid UTF-8" in _error(wide) and "iconv -f utf-16 -t utf-8" in _error(wide)


def test_a_file_of_a_training_output_names_its_folder(tmp_path):
    """The model card, the weights and the JSON files of a negmine train output: the folder is the source."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "negmine_train.json").write_text("{}")
    (model / "README.md").write_text("---\nlibrary_name: sentence-transformers\n---\n")
    (model / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    (model / "config.json").write_text(json.dumps({"hidden_size": 32}))
    fix = f"none of the files negmine report reads; this file is in a negmine train output: give its folder, " \
          f"negmine report {model}\n"
    assert _error(model / "README.md") == (f"error: {model / 'README.md'}:1: not JSON Lines (invalid JSON: Expecting "
                                           f"value (column 1)): {fix}")
    assert _error(model / "model.safetensors") == (f"error: {model / 'model.safetensors'}: a binary file (byte 1 is "
                                                   f"0x10, which no JSON text holds), not JSON Lines: {fix}")
    assert _error(model / "config.json") == (f"error: {model / 'config.json'}: this file "
                                             f"is in a negmine train output, not eval results: give its folder, "
                                             f"negmine report {model}\n")


def test_a_json_array_is_named_as_such(tmp_path):
    """A JSON array named *.json said "field 'comparison': missing", as if it were an object lacking it."""
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]\n")
    assert _error(path).startswith(f"error: {path}: a JSON array, not an object; this is not a negmine eval results JSON")


def test_an_empty_file_without_a_summary_says_what_it_could_have_been(tmp_path):
    """It said 'empty.audit-summary.json: audit summary not found (negmine audit writes it next to the flags file)'
    of any empty file, as if it were an audit's."""
    empty = tmp_path / "negatives.jsonl"
    empty.write_text("")
    assert source_kind(empty) == "audit"
    assert _error(empty) == (
        f"error: {empty}: an empty file, with no summary beside it to make it a report source: an audit that flagged "
        "nothing writes an empty flags file and negatives.audit-summary.json, a mining run that kept no row an empty "
        f"file and negatives.summary.json; negmine report takes {SOURCES}; give the summary with --summary, or the "
        "file you meant\n")
    flags = tmp_path / "run.flags.jsonl"
    flags.write_text("\n")
    assert _error(flags) == (
        f"error: {flags}: empty (an audit that flagged nothing writes an empty flags file), and its audit summary "
        "run.audit-summary.json is not beside it: the report is drawn from that summary; give it with --summary, or "
        "run negmine audit again\n")
    from negmine.report.render import report_from_files

    assert source_kind(empty, tmp_path / "absent.json") == "audit"
    with pytest.raises(InputError, match="audit summary not found"):  # a summary given and missing: said as before
        report_from_files(empty, tmp_path / "absent.json")


def test_an_empty_mined_file_with_its_summary_given_is_a_mining_report(tmp_path, mined_demo):
    """With --summary naming the mining summary it went to the audit reader: 'this is not an audit summary'."""
    empty = tmp_path / "kept-nothing.jsonl"
    empty.write_text("")
    summary = tmp_path / "run-summary.json"
    shutil.copy(mined_demo.with_name("mined.summary.json"), summary)
    assert source_kind(empty, summary) == "mined"
    result = runner.invoke(build_app(), ["report", str(empty), "--summary", str(summary)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"report: {tmp_path / 'kept-nothing.mining-report.html'}\n"


@pytest.mark.parametrize("name", ["m.flags.jsonl", "results.json"])
@pytest.mark.parametrize(("order", "byte"), [("le", 2), ("be", 1)])
def test_utf16_without_a_mark_is_not_called_binary_but_gets_the_fix_for_its_byte_order(tmp_path, name, order, byte):
    """Said 'a binary file (byte 2 is 0x00, which no JSON text holds)', naming no way to read it."""
    path = tmp_path / name
    path.write_bytes('{"kind": "false_negative", "query": "caf\u00e9"}\n'.encode(f"utf-16-{order}"))
    assert _error(path) == (f"error: {path}:1: UTF-16{order.upper()} text without a byte-order mark (byte {byte} is "
                            f"0x00, as is every second byte of its ASCII characters), not UTF-8; save the file as "
                            f"UTF-8 (e.g. iconv -f utf-16{order} -t utf-8 {name} > utf8-{name})\n")


def test_a_latin1_tsv_is_named_as_none_of_the_sources_not_sent_to_iconv(tmp_path):
    """Its first line not UTF-8, a Latin-1 TSV got the iconv fix, after which it is still none of the sources."""
    tsv = tmp_path / "m.jsonl"
    tsv.write_bytes("t\u00edtulo\ttexto\nd1\tcaf\u00e9\n".encode("latin-1"))
    assert _error(tsv) == f"error: {tsv}:1: not JSON Lines (invalid JSON: Expecting value (column 1)): {TAKES}\n"
    row = tmp_path / "m2.jsonl"  # a JSON row saved as Latin-1: the reader it goes to gives the fix
    row.write_bytes(b'{"kind": "false_negative", "query": "caf\xe9"}\n')
    assert source_kind(row) == "audit"


@pytest.mark.parametrize(("content", "shown"), [
    ("título\ttexto\nd1\tcafé\n".encode("latin-1"), "título"),  # went on to the reader: the Latin-1 fix
    ("title\ttext\nd1\ttea\n".encode(), "title"),  # 't' may begin JSON (true): 'invalid JSON: Expecting value'
    ("2026-12-06 12:00 started\n".encode(), "2026-12-06"),  # a number may begin JSON
    ("Ébauche\n".encode(), "Ébauche"),  # shown as '\xc3' (its first byte read as Latin-1), not as its character
])
def test_a_json_named_file_whose_text_cannot_begin_json_is_named_as_none_of_the_sources(tmp_path, content, shown):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    assert _error(path) == (f"error: {path}:1: not JSON (its text begins with {shown!r}, which no JSON document does): "
                            f"{TAKES}\n")


@pytest.mark.parametrize("content", [b"true\n", b"-1.5e3\n", b"null", b'"text"', b'  {"comparison": '])
def test_a_json_named_file_that_can_begin_json_goes_to_its_reader(tmp_path, content):
    path = tmp_path / "results.json"
    path.write_bytes(content)
    assert "not JSON (its text begins" not in _error(path)


def test_archives_and_images_stay_binary_files(tmp_path):
    """The UTF-16 check leaves them alone: 0x00 at both parities of their first bytes."""
    import io
    import zipfile

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("m.jsonl", '{"kind": "false_negative"}\n'.encode("utf-16-le"))
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
    for name, data, byte in (("m.jsonl", archive.getvalue(), "byte 3 is 0x03"), ("i.jsonl", image, "byte 7 is 0x1a")):
        path = tmp_path / name
        path.write_bytes(data)
        assert _error(path) == (f"error: {path}: a binary file ({byte}, which no JSON text holds), not JSON Lines: "
                                f"{TAKES}\n")
