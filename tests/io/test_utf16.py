"""Telling UTF-16 text without a byte-order mark from UTF-8 text and from binary files by its first bytes."""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import zipfile

import pytest

from negmine.io.utf16 import HEAD_BYTES, utf16_problem, utf16_without_mark

JSONL = '{"_id": "d1", "text": "café au lait"}\n{"_id": "d2", "text": "tea"}\n'
CJK = '{"_id": "d1", "text": "一二三四五六七八九十一二三四五六七八九十"}\n'  # U+4E00: 0x00 at the other parity too
ZH_TEXT = ("机器学习是人工智能的一个分支，它使计算机能够从数据中学习，而无需明确编程。深度学习使用多层神经网络来提取特征，"
           "自然语言处理研究计算机与人类语言之间的交互。最近的研究表明，需要更多的数据才能训练一个好的语言模型。")
ZH_JSONL = "".join(json.dumps({"_id": f"d{i}", "title": "", "text": (ZH_TEXT[i:] + ZH_TEXT[:i]) * 3},
                              ensure_ascii=False) + "\n" for i in range(40))
"""Chinese JSON Lines: 3-7% of the code units ASCII (a 0x00 byte each), and U+xx00 characters (一, 需, 言, 最)
put more 0x00 bytes at the other parity than the ASCII ones give."""


@pytest.mark.parametrize("text", [JSONL, CJK, "query-id\tcorpus-id\tscore\nq1\td1\t1\n", "{}",
                                  "q1 Q0 d1 1 0.5 run\r\n"])
@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_text_without_a_mark_is_told_with_its_byte_order(text, order):
    assert utf16_without_mark(text.encode(f"utf-16-{order}")) == f"utf-16{order}"


@pytest.mark.parametrize("order", ["le", "be"])
def test_a_head_cut_inside_a_surrogate_pair_or_past_the_bytes_looked_at_is_still_told(order):
    """The head a reader peeks ends anywhere: inside a character outside the BMP (a surrogate pair), or far into a
    long first line."""
    data = ('{"text": "' + "emoji 😀 " * 1000 + '"}\n').encode(f"utf-16-{order}")
    assert len(data) > HEAD_BYTES
    cut = next(end for end in range(40, 80, 2) if data[end - 2:end].decode(f"utf-16-{order}", "replace") == "\ufffd")
    assert utf16_without_mark(data[:cut]) == utf16_without_mark(data) == f"utf-16{order}"


@pytest.mark.parametrize("text", [
    ZH_JSONL,
    "[" + ZH_JSONL.replace("\n", ",", 39).strip() + "]",
    json.dumps({"模型": ZH_TEXT * 3}, ensure_ascii=False, indent=2),  # a JSON document, its key not ASCII
    "query\tpositive\n" + "".join(f"{ZH_TEXT[i:i + 12]}\t{ZH_TEXT * 2}\n" for i in range(20)),  # an ASCII header
], ids=["json lines", "json array", "json document", "tsv"])
@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_text_of_few_ascii_characters_is_told_by_how_it_opens(text, order):
    """Such a file was called a binary file: too few 0x00 bytes for the share, and too many at the other parity."""
    data = text.encode(f"utf-16-{order}")
    assert utf16_without_mark(data[:HEAD_BYTES]) == f"utf-16{order}"


GREEK_TSV = ("Τι είναι η μηχανική μάθηση;\tΗ μηχανική μάθηση είναι κλάδος της τεχνητής νοημοσύνης.\n"
             "Ποιος έγραψε την Οδύσσεια;\tΟ Όμηρος.\n")
CJK_TSV = "什么是机器学习？\t机器学习是人工智能的一个分支。\n谁写了奥德赛？\t荷马。\n"


@pytest.mark.parametrize("text", [
    GREEK_TSV,
    CJK_TSV,
    "".join(f"{ZH_TEXT[i:i + 12]}\t{ZH_TEXT * 2}\n" for i in range(20)),  # past the 4 KiB looked at
    "Οδύσσεια\n" + "μῆνιν ἄειδε θεὰ " * 40 + "\n",  # a text file: its line ends alone
    "一二三四五六七八九十\t言需最\n",  # U+xx00 characters: 0x00 at both parities
], ids=["greek tsv", "chinese tsv", "long chinese tsv", "greek text", "u+xx00 characters"])
@pytest.mark.parametrize("order", ["le", "be"])
def test_utf16_text_whose_first_line_opens_with_other_characters_is_told_by_reading_as_lines(text, order):
    """No JSON opening, no ASCII header and few ASCII characters: it was called a binary file (small leftovers,
    session 58). Its head reads, in its own byte order only, as text holding a line end or tab."""
    data = text.encode(f"utf-16-{order}")
    assert b"\x00" in data[:HEAD_BYTES]
    assert utf16_without_mark(data[:HEAD_BYTES]) == f"utf-16{order}"


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # a fixed date: the same bytes in every process
        archive.writestr(zipfile.ZipInfo("corpus.jsonl", date_time=(1980, 1, 1, 0, 0, 0)), JSONL)
    return buffer.getvalue()


NOT_UTF16 = [
    ("utf-8", JSONL.encode("utf-8")),
    ("latin-1", JSONL.encode("latin-1")),
    ("utf-16 with a mark (its reader names utf-16)", JSONL.encode("utf-16")),
    ("utf-16be with a mark", b"\xfe\xff" + JSONL.encode("utf-16-be")),
    ("gzip", gzip.compress(JSONL.encode("utf-16-le"), mtime=0)),
    ("zip", _zip()),
    ("png", _png()),
    ("safetensors", struct.pack("<Q", 60) + json.dumps({"w": {"dtype": "F32", "shape": [2]}}).encode()),
    ("int16 array of small numbers", struct.pack("<64h", *range(64))),
    ("int64 array", struct.pack("<32q", *range(32))),
    ("random bytes", random.Random(0).randbytes(4096)),
    ("utf-8 chinese json lines", ZH_JSONL.encode("utf-8")),
    ("utf-8 with a 0x00 byte", b'{"_id": "d1", "text": "a\x00b"}\n' + ZH_JSONL.encode("utf-8")),
    ("a utf-16 json opening, then no text", '{"'.encode("utf-16-le") + random.Random(1).randbytes(4092)),
    ("a utf-16 json opening, then zeros", '[{'.encode("utf-16-be") + bytes(200)),
    ("8 ascii characters, then control characters", "query-id".encode("utf-16-le") + struct.pack("<64h", *range(64))),
    ("too short to tell", "{".encode("utf-16-le")),
    ("int16 array holding line-end units", struct.pack("<64h", *([10, 13, 9] * 21 + [0]))),
    ("greek utf-16 text, then a control character", (GREEK_TSV + "\x07").encode("utf-16-le")),
    ("greek utf-16 text, then a private-use character", (GREEK_TSV + "\ue000").encode("utf-16-be")),
    ("utf-8 greek tsv", GREEK_TSV.encode("utf-8")),
]


# ids: the kind alone. The data in a test id made two pytest-xdist workers collect different tests when the zip's
# time stamp (2 s steps) changed between their collections (a fresh-clone run, 2026-12-07)
@pytest.mark.parametrize(("kind", "data"), NOT_UTF16, ids=[kind for kind, _ in NOT_UTF16])
def test_other_text_and_binary_files_are_not_taken_for_utf16(kind, data):
    """A binary file holds 0x00 at both parities, or decodes to control characters; UTF-8 and Latin-1 hold none."""
    assert utf16_without_mark(data) is None, kind


def test_the_problem_names_the_byte_order_the_first_zero_and_the_command_for_that_order():
    assert utf16_problem("c.jsonl", JSONL.encode("utf-16-be"), "utf-16be") == (
        "UTF-16BE text without a byte-order mark (byte 1 is 0x00, as is every second byte of its ASCII characters), "
        "not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16be -t utf-8 c.jsonl > utf8-c.jsonl)")
