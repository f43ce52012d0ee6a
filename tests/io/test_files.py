from __future__ import annotations

from pathlib import Path

import pytest

from negmine.errors import InputError
from negmine.io.files import iter_lines, require_file


def test_iter_lines_numbers_skip_blanks_and_strip_endings(write_text):
    path = write_text("f.txt", "\ufeffa\r\n\n  \nb\tc \nlast")
    assert list(iter_lines(path)) == [(1, "a"), (4, "b\tc "), (5, "last")]


def test_iter_lines_invalid_utf8(write_text):
    path = write_text("f.tsv", b"ok\n\xff\xfe\n")
    with pytest.raises(InputError, match=r"f\.tsv:2: not valid UTF-8 \(byte 1 of the line\)"):
        list(iter_lines(path))


@pytest.mark.parametrize(("encoding", "source"), [("latin-1", "latin1"), ("utf-16", "utf-16")])
def test_a_file_in_another_encoding_gets_the_command_that_converts_it(tmp_path, write_text, encoding, source):
    """A corpus saved as Latin-1 or UTF-16 read "not valid UTF-8 (byte N of the line)" with no fix; the printed
    command, run as printed, makes a file that reads."""
    import subprocess

    path = write_text("corpus.jsonl", '{"_id": "d1", "text": "café"}\n'.encode(encoding))
    with pytest.raises(InputError) as info:
        list(iter_lines(path))
    command = f"iconv -f {source} -t utf-8 corpus.jsonl > utf8-corpus.jsonl"
    assert str(info.value).endswith(f"; save the file as UTF-8 (e.g. {command})")
    subprocess.run(["bash", "-c", command], check=True, cwd=tmp_path)
    assert list(iter_lines(tmp_path / "utf8-corpus.jsonl")) == [(1, '{"_id": "d1", "text": "café"}')]


def _refused_with_the_iconv_fix(path: Path, order: str, byte: int) -> list[tuple[int, str]]:
    """Reading ``path``, UTF-16 text of byte order ``order`` ("le"/"be") without a mark, is refused naming ``byte`` (the
    first 0x00) and the iconv command; the command, run as printed in the file's folder, writes ``utf8-NAME``, whose
    lines this returns."""
    import subprocess

    with pytest.raises(InputError) as info:
        list(iter_lines(path))
    command = f"iconv -f utf-16{order} -t utf-8 {path.name} > utf8-{path.name}"
    assert str(info.value) == (f"{path}:1: UTF-16{order.upper()} text without a byte-order mark (byte {byte} is 0x00, "
                               f"as is every second byte of its ASCII characters), not UTF-8; save the file as UTF-8 "
                               f"(e.g. {command})")
    subprocess.run(["bash", "-c", command], check=True, cwd=path.parent)
    return list(iter_lines(path.parent / f"utf8-{path.name}"))


@pytest.mark.parametrize(("order", "byte"), [("le", 2), ("be", 1)])
def test_utf16_text_without_a_mark_gets_the_command_for_its_byte_order_which_makes_a_file_that_reads(
        write_text, order, byte):
    """A file saved as UTF-16 without a byte-order mark (as some Windows tools write it) read as UTF-8 text with a
    0x00 beside each ASCII character: a qrels header 'q\\x00u\\x00e\\x00...' was a "wrong header", a non-ASCII
    character got the Latin-1 fix, whose output still holds the 0x00 bytes."""
    text = "query-id\tcorpus-id\tscore\nq1\td\u00e91\t1\n"
    path = write_text("train.tsv", text.encode(f"utf-16-{order}"))
    assert _refused_with_the_iconv_fix(path, order, byte) == [(1, "query-id\tcorpus-id\tscore"), (2, "q1\td\u00e91\t1")]


@pytest.mark.parametrize("text", [("Τι είναι η μηχανική μάθηση;\tΗ μηχανική μάθηση είναι κλάδος της "
                                  "τεχνητής νοημοσύνης.\nΠοιος έγραψε την Οδύσσεια;\tΟ Όμηρος.\n"),
                                  "什么是机器学习？\t机器学习是人工智能的一个分支。\n谁写了奥德赛？\t荷马。\n"],
                         ids=["greek", "chinese"])
@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_text_whose_first_line_opens_with_other_characters_gets_the_iconv_fix_not_binary(
        write_text, text, order):
    """A pairs TSV without a header whose first query is Greek or Chinese, saved as UTF-16 without a mark, was
    "a binary file, not text (byte 6 of the file is 0x00 ...); check the path" (small leftovers, session 58)."""
    data = text.encode(f"utf-16-{order}")
    path = write_text("pairs.tsv", data)
    assert [line for _, line in _refused_with_the_iconv_fix(path, order, data.index(0) + 1)] == text.splitlines()


def test_a_binary_file_holding_line_end_units_is_still_named_binary(write_text):
    """The UTF-16 test reading a head as lines needs text throughout: int16 data with 10s, 13s and 9s in it decodes
    to control characters too (its zeros)."""
    import struct

    path = write_text("pairs.tsv", struct.pack("<64h", *([10, 13, 9, 0] * 16)))
    with pytest.raises(InputError, match=r"pairs\.tsv: a binary file, not text \(byte 2 of the file is 0x00"):
        list(iter_lines(path))


def test_a_line_that_is_not_utf8_carries_its_bytes_and_the_encoding_its_fix_converts_from(write_text):
    """A reader expecting JSON reads the bytes as Latin-1 to tell a JSON line from a TSV or log (negmine.io.jsonl)."""
    from negmine.io.files import NotUtf8Error

    path = write_text("c.jsonl", b'{"a": 1}\n{"a": "caf\xe9"}\r\n')
    with pytest.raises(NotUtf8Error) as info:
        list(iter_lines(path))
    assert (info.value.line, info.value.raw, info.value.source) == (2, b'{"a": "caf\xe9"}\r\n', "latin1")
    import pickle

    again = pickle.loads(pickle.dumps(info.value))
    assert (str(again), again.raw, again.source) == (str(info.value), info.value.raw, "latin1")


def test_require_file(tmp_path, write_text):
    assert require_file(str(write_text("x", "1"))) == tmp_path / "x"
    with pytest.raises(InputError, match=r"absent: qrels file not found$"):
        require_file(tmp_path / "absent", "qrels file")
    with pytest.raises(InputError, match="expected a corpus file, found a directory"):
        require_file(tmp_path, "corpus file")


def test_a_byte_order_mark_is_dropped_at_the_files_start_only(write_text):
    # Dropped at every line's start before, so a TREC query id '\ufeffq2' read back as 'q2'; a mark left by
    # joining two files is now refused at its line, naming the field the line starts with when the reader knows it.
    path = write_text("f.tsv", "\ufeffa\n\ufeffb\n")
    with pytest.raises(InputError, match=r"f\.tsv:2: field 'query-id': starts with a byte-order mark \(U\+FEFF\), which "
                       r"only the start of a file may hold \(a file joined to another, e\.g\. with cat\?\); remove it"):
        list(iter_lines(path, "query-id"))
    with pytest.raises(InputError, match=r"f\.tsv:2: the line starts with a byte-order mark \(U\+FEFF\)"):
        list(iter_lines(path))
    assert list(iter_lines(write_text("g.tsv", "\ufeffa\nb\n"))) == [(1, "a"), (2, "b")]
    assert list(iter_lines(write_text("h.tsv", "\ufeff\n\nb\n"))) == [(3, "b")]  # a mark alone on the first line
    with pytest.raises(InputError, match=r"i\.tsv:1: the line starts with a byte-order mark"):  # a mark given twice
        list(iter_lines(write_text("i.tsv", "\ufeff\ufeffa\n")))


def test_gzip_files_are_named_as_such(tmp_path):
    import gzip

    packed = tmp_path / "corpus.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"_id": "d1", "text": "x"}\n'))
    with pytest.raises(InputError, match=r"corpus\.jsonl\.gz: gzip-compressed; decompress it first, e\.g\. gunzip -k "):
        list(iter_lines(packed))
    with pytest.raises(InputError, match=r"corpus\.jsonl: corpus file not found \(found corpus\.jsonl\.gz: decompress it "
                                         r"first, e\.g\. gunzip -k .*corpus\.jsonl\.gz\)"):
        require_file(tmp_path / "corpus.jsonl", "corpus file")


def test_binary_files_are_named_as_such_with_an_archives_extract_command(tmp_path):
    """A NUL in the first bytes: no text file (they got the Latin-1 iconv fix or "invalid JSON")."""
    import zipfile

    archive = tmp_path / "corpus.jsonl"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("corpus.jsonl", '{"_id": "d1", "text": "x"}\n' * 50)
    with pytest.raises(InputError) as info:
        list(iter_lines(archive))
    assert str(info.value) == (f"{archive}: a binary file, not text (byte 6 of the file is 0x00, which no UTF-8 text "
                               f"file holds): a zip archive; extract it first, e.g. unzip {archive}")
    image = tmp_path / "train.tsv"
    image.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(InputError) as info:
        list(iter_lines(image))
    assert str(info.value) == (f"{image}: a binary file, not text (byte 9 of the file is 0x00, which no UTF-8 text "
                               "file holds); check the path: a UTF-8 text file is read here")


def test_utf8_problem_names_a_lone_surrogate_and_accepts_real_text():
    from negmine.io.files import utf8_problem

    assert utf8_problem("plain") is None and utf8_problem("caf\u00e9 \U0001f600") is None
    assert utf8_problem("ab\ud83d") == (
        "holds the lone UTF-16 surrogate '\\ud83d' at character 3, which UTF-8 cannot store (a JSON escape such as "
        "\"\\ud83d\" without its pair); fix or remove that escape"
    )


@pytest.mark.parametrize(
    ("text", "blank", "note"),
    [
        ("", True, ""),
        (" \t\n", True, ""),
        ("\u200b\u200c\u2060", True, " and the invisible characters U+200B, U+200C, U+2060"),
        ("\u2063 \ufeff\u00ad", True, " and the invisible characters U+00AD, U+2063, U+FEFF"),
        ("\u200bx", False, None),
        ("\u00e9", False, None),
    ],
)
def test_is_blank_counts_format_characters_as_invisible(text, blank, note):
    from negmine.io.files import invisible_note, is_blank

    assert is_blank(text) is blank
    if blank:
        assert invisible_note(text) == note


def test_iter_lines_with_a_digest_reads_the_same_lines_and_hashes_every_byte(tmp_path, write_text):
    """The run summary's sha256 of a BEIR file is fed by the reading pass (a hashed buffered reader): the lines read
    are the same, and once read to the end the hash is the file's own, its mark, blank lines and line ends
    included. A file longer than one buffer fill (1 MiB) is hashed whole too."""
    import hashlib

    short = write_text("f.txt", "\ufeffa\r\n\n  \nb\tc \nlast")
    long = tmp_path / "long.txt"
    long.write_bytes(b"".join(b"line %d \xc3\xa9\n" % i for i in range(200_000)))  # 2.6 MB, 3 buffer fills
    for path in (short, long):
        digest = hashlib.sha256()
        assert list(iter_lines(path, digest=digest)) == list(iter_lines(path))
        assert digest.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_file_identity_is_the_resolved_path_and_size(tmp_path, monkeypatch):
    from negmine.io.files import file_identity

    (tmp_path / "p.jsonl").write_bytes(b'{"a": 1}\n')
    monkeypatch.chdir(tmp_path)
    assert file_identity("p.jsonl") == {"path": str((tmp_path / "p.jsonl").resolve()), "bytes": 9}


def test_a_symbolic_link_leading_nowhere_says_so(tmp_path):
    """A link in a loop, or to a file that is gone, read "file not found" alone, while ls lists it."""
    loop, other = tmp_path / "run.trec", tmp_path / "run.trec.loop"
    loop.symlink_to(other.name)
    other.symlink_to(loop.name)
    with pytest.raises(InputError) as info:
        require_file(loop, "run file")
    assert str(info.value) == (f"{loop}: run file not found (it is a symbolic link in a loop: following it leads back "
                               f"to itself, {loop} -> run.trec.loop; point it at the file)")
    dangling = tmp_path / "corpus.jsonl"
    dangling.symlink_to(tmp_path / "gone.jsonl")
    with pytest.raises(InputError) as info:
        require_file(dangling, "corpus file")
    assert str(info.value) == (f"{dangling}: corpus file not found (it is a symbolic link to {tmp_path / 'gone.jsonl'}, "
                               "which does not exist: point it at the file)")
