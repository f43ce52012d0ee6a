"""Telling UTF-16 text saved without a byte-order mark (as some Windows tools write it: ``Out-File``,
``Export-Csv`` in older PowerShell, ``reg export``) from UTF-8 and from binary files, by its first bytes.

Text mostly of ASCII characters (JSON's keys and punctuation, TSV ids, digits) is, in UTF-16, one byte of the
character and one 0x00: in UTF-16LE every odd byte (counting from 0) is 0x00, in UTF-16BE every even one. Such a
file read as UTF-8 was called a binary file (a NUL byte no JSON holds), a malformed line (``{\\x00"\\x00...``) or,
at its first non-ASCII character, Latin-1 text, with an ``iconv -f latin1`` fix that makes no readable file.

Text of few ASCII characters (Chinese, Japanese, Korean: JSON Lines whose texts are long next to their keys) holds
too few 0x00 bytes for that share, and its characters U+xx00 (``一``, ``需``, ``言``, ``最``) put more at the other
parity: such a file was called a binary file. It is told by how it opens instead: with a JSON object or array
(``{"`` is ``{\x00"\x00`` in UTF-16LE) or with :data:`LEAD_ASCII_UNITS` ASCII characters (a header line), which no
UTF-8 file (it holds no 0x00) and no binary format opens with, and its head decoding to text.

Text whose first line opens with such characters (a TSV or text file whose first field is Greek, Chinese: few 0x00,
no JSON opening, no ASCII header) was still called a binary file. It is told by its head decoding, in one byte
order only, to text that holds a line end or tab and no character a text file holds not: a control character other
than tab, line ends and form feed, a private-use one, or one the Unicode standard leaves unassigned in the Basic
Multilingual Plane (:func:`_reads_as_lines`). A line end or tab is the code unit 0x000A, 0x000D or 0x0009, which
read in the other order is U+0A00 (unassigned), U+0D00 or U+0900 and no line end; UTF-8 and other 8-bit text hold
no 0x00 and so no such unit; binary data decodes to control characters, lone surrogates or unassigned characters.
"""

from __future__ import annotations

HEAD_BYTES = 4096
"""Bytes from the start of a file :func:`utf16_without_mark` looks at."""

MIN_ZERO_SHARE = 0.25
"""The least share of 0x00 among the bytes at one parity (odd for LE, even for BE) for UTF-16 text."""

MAX_OTHER_ZERO_RATIO = 0.25
"""The most 0x00 bytes at the other parity, per 0x00 at the heavy one: only a character U+xx00 puts one there
(``一`` U+4E00; the second half DE00 of the surrogate pair of 😀, one code unit in 9 of "emoji 😀 " repeated), while
binary files (archives, images, weights, arrays of integers) hold 0x00 at both; those that hold fewer decode to
control characters."""

LEAD_ASCII_UNITS = 8
"""ASCII characters (printable, tab, line ends) at the start of a head that tell UTF-16 text of any share of 0x00
(a TSV or CSV header line, ``query-id\tcorpus-id``); a JSON opening tells it in two (:func:`_opens_as_text`)."""

_TEXT_CONTROLS = frozenset("\t\n\r\f")
_JSON_OPENERS = frozenset("{[")
_JSON_SECOND = frozenset('"{[ \t\r\n')


def utf16_without_mark(head: bytes) -> str | None:
    """``"utf-16le"`` or ``"utf-16be"`` when ``head`` (a file's first bytes) is UTF-16 text without a byte-order
    mark, else None: a UTF-16 mark (the reader's message names ``utf-16`` then), UTF-8 or other 8-bit text (no 0x00),
    and binary data (0x00 at both parities, or a control character other than tab, line ends and form feed once
    decoded). Needs 4 bytes at least."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    size = min(len(head), HEAD_BYTES) & ~1
    if size < 4:
        return None
    units = size // 2
    even, odd = head[0:size:2].count(0), head[1:size:2].count(0)
    for encoding, zeros, others in (("utf-16le", odd, even), ("utf-16be", even, odd)):
        if zeros >= MIN_ZERO_SHARE * units and others <= MAX_OTHER_ZERO_RATIO * zeros:
            return encoding if _decodes_to_text(head[:size], encoding) else None
    for encoding in ("utf-16le", "utf-16be"):  # text of few ASCII characters: told by how it opens
        if _opens_as_text(head[:size], encoding) and _decodes_to_text(head[:size], encoding):
            return encoding
    lines = [encoding for encoding in ("utf-16le", "utf-16be") if _reads_as_lines(head[:size], encoding)]
    return lines[0] if len(lines) == 1 else None  # ... or by reading as lines of text in one byte order only


def _opens_as_text(head: bytes, encoding: str) -> bool:
    """Whether ``head`` opens, in ``encoding``, with a JSON object or array (``{`` or ``[`` then ``"``, ``{``,
    ``[`` or a space or line end) or with :data:`LEAD_ASCII_UNITS` ASCII characters."""
    lead = _ascii_lead(head, encoding)
    if len(lead) >= 2 and lead[0] in _JSON_OPENERS and lead[1] in _JSON_SECOND:
        return True
    return len(lead) >= LEAD_ASCII_UNITS


def _ascii_lead(head: bytes, encoding: str) -> str:
    """The ASCII characters (printable, tab, line ends) ``head`` starts with in ``encoding``, at most
    :data:`LEAD_ASCII_UNITS`: code units of one 0x00 byte and one such character."""
    low, high = (0, 1) if encoding == "utf-16le" else (1, 0)
    lead = []
    for at in range(0, min(len(head) - 1, 2 * LEAD_ASCII_UNITS), 2):
        char = chr(head[at + low])
        if head[at + high] != 0 or not (" " <= char <= "~" or char in "\t\r\n"):
            break
        lead.append(char)
    return "".join(lead)


def _decoded(head: bytes, encoding: str) -> str | None:
    """``head`` decoded in ``encoding`` (its last unit may be half a surrogate pair the head cut), or None."""
    for end in (len(head), len(head) - 2):
        try:
            return head[:end].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _decodes_to_text(head: bytes, encoding: str) -> bool:
    """Whether ``head`` decodes in ``encoding`` to text without control characters other than tab, line ends and
    form feed."""
    text = _decoded(head, encoding)
    return text is not None and not any(char < " " and char not in _TEXT_CONTROLS for char in text)


_LINE_MARKS = frozenset("\t\n\r")
_NOT_TEXT = frozenset({"Cc", "Co", "Cs"})
"""Unicode categories no text file holds (control, private use, surrogate), but :data:`_TEXT_CONTROLS`."""


def _reads_as_lines(head: bytes, encoding: str) -> bool:
    """Whether ``head`` decodes in ``encoding`` to text holding a line end or tab, without a character of
    :data:`_NOT_TEXT` (but tab, line ends and form feed) or one unassigned in the Basic Multilingual Plane (an
    astral one may be newer than this Python's Unicode tables: an emoji)."""
    import unicodedata

    text = _decoded(head, encoding)
    if text is None or not _LINE_MARKS.intersection(text):
        return False
    for char in set(text) - _TEXT_CONTROLS:
        category = unicodedata.category(char)
        if category in _NOT_TEXT or (category == "Cn" and ord(char) < 0x10000):
            return False
    return True


def utf16_problem(name: str, head: bytes, encoding: str) -> str:
    """The problem of a file ``name`` whose first bytes ``head`` are UTF-16 text in ``encoding`` without a mark, and
    the ``iconv`` command that converts it, naming the byte order: ``-f utf-16`` reads a file without a mark in the
    machine's own order (glibc 2.36 on x86: little-endian), which turns UTF-16BE text into other characters."""
    first = next(i for i, byte in enumerate(head) if byte == 0)
    return (f"UTF-16{encoding[-2:].upper()} text without a byte-order mark (byte {first + 1} is 0x00, as is every "
            f"second byte of its ASCII characters), not UTF-8; save the file as UTF-8 (e.g. iconv -f {encoding} -t "
            f"utf-8 {name} > utf8-{name})")
