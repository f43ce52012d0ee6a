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


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("corpus.jsonl", JSONL)
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "data"), [
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
    ("too short to tell", "{".encode("utf-16-le")),
])
def test_other_text_and_binary_files_are_not_taken_for_utf16(kind, data):
    """A binary file holds 0x00 at both parities, or decodes to control characters; UTF-8 and Latin-1 hold none."""
    assert utf16_without_mark(data) is None, kind


def test_the_problem_names_the_byte_order_the_first_zero_and_the_command_for_that_order():
    assert utf16_problem("c.jsonl", JSONL.encode("utf-16-be"), "utf-16be") == (
        "UTF-16BE text without a byte-order mark (byte 1 is 0x00, as is every second byte of its ASCII characters), "
        "not UTF-8; save the file as UTF-8 (e.g. iconv -f utf-16be -t utf-8 c.jsonl > utf8-c.jsonl)")
