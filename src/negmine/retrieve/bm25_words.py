"""Words of any script, for BM25 tokens and MinHash shingles.

bm25s' default splitter (``\\b\\w\\w+\\b``) and a plain ``\\w+`` assume words separated by spaces and made of
``\\w`` characters. Two kinds of script break that:

- Chinese, Japanese, Thai, Lao, Khmer and Myanmar write no spaces between words, so ``\\w+`` gives one
  "word" per clause (``机器学习是人工智能的一个分支``): a query shares no token with any document and BM25 finds
  nothing. Here each character of those scripts is a unit of its own (:func:`units`, for MinHash: word
  3-shingles become character 3-grams), and BM25 gets overlapping character bigrams of each run of them
  (:func:`bm25_words`; ``机器学习`` -> ``机器 器学 学习``, a lone character as itself), as Lucene's ``CJKAnalyzer``
  (``CJKBigramFilter``) and Elasticsearch's ``cjk`` analyzer index CJK text.
- Combining marks (Unicode category M: Devanagari, Tamil and Bengali vowel signs, Thai tone marks, a
  decomposed accent) are not ``\\w``, so ``\\w+`` cuts ``हिन्दी`` into ``ह न द`` and drops every one-letter piece.
  Here a mark belongs to the word (or character) it follows.

The text is NFKC-normalised first (composed and decomposed accents, full-width and ASCII forms, ligatures
give the same words) and format characters (category Cf: zero-width space and joiners, soft hyphen,
byte-order mark, bidirectional marks) are removed, so ``infor\\u00admation`` is ``information``. On text with
none of these (e.g. ASCII) the words are exactly bm25s' default ones. A text of only punctuation, symbols,
emoji or one-letter words has no words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

VERSION = 1
"""Changes whenever :func:`bm25_words` would split some text differently (saved BM25 results carry it)."""

_NO_SPACES = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u30ff\u31f0-\u31ff"  # Hiragana, Katakana (+ phonetic extensions)
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs: extension A, unified, compatibility
    "\U00020000-\U0003134f"  # CJK ideographs: extensions B-G
)
_NO_SPACES_BMP = _NO_SPACES.split("\U00020000")[0]


_PLANES = ((0x0000, 0x20000), (0xE0000, 0xE1000))
"""Where combining marks and format characters are (planes 0, 1 and 14; planes 2-3 hold ideographs only)."""


class _Patterns(NamedTuple):
    special: re.Pattern  # a character that \\w does not handle: unspaced script, combining mark, format character
    formats: re.Pattern  # format characters (removed)
    run: re.Pattern  # a word or a run of unspaced-script characters
    char: re.Pattern  # one unspaced-script character with its marks


@functools.cache
def _patterns() -> _Patterns:
    """Built on first use (~0.1 s)."""
    marks, formats = [], []
    for low, high in _PLANES:
        for code in range(low, high):
            category = unicodedata.category(chr(code))
            if category[0] == "M":
                marks.append(code)
            elif category == "Cf":
                formats.append(code)
    mark, fmt = _class(marks), _class(formats)
    run = f"(?P<chars>(?:[{_NO_SPACES}][{mark}]*)+)|(?P<word>(?:[^\\W{_NO_SPACES}]|[{mark}])+)"
    bmp = _class([c for c in marks + formats if c < 0x10000])  # a class of BMP ranges is a bitmap in re, O(1)
    special = f"[{_NO_SPACES_BMP}{bmp}]|[\\U00010000-\\U0010ffff]"  # astral ranges would be scanned one by one
    return _Patterns(re.compile(special), re.compile(f"[{fmt}]+"), re.compile(run),
                     re.compile(f"[{_NO_SPACES}][{mark}]*"))


def _class(codes: list[int]) -> str:
    """A regex character class body matching the sorted code points ``codes``, as ranges."""
    parts, i = [], 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        parts.append(re.escape(chr(codes[i])) + (f"-{re.escape(chr(codes[j]))}" if j > i else ""))
        i = j + 1
    return "".join(parts)


_PLAIN_WORDS = re.compile(r"(?u)\b\w\w+\b").findall
"""bm25s' default splitter: :func:`bm25_words` of a text without the characters ``_Patterns.special`` finds."""
_PLAIN_UNITS = re.compile(r"\w+").findall
""":func:`units` of such a text."""


def _runs(text: str) -> tuple[str, list[tuple[bool, str]] | None]:
    """(NFKC ``text``, ``(is_unspaced, run)`` for each word or run of unspaced-script characters), the runs None
    when ``\\w`` splits the text right (most text, e.g. all ASCII: several times faster)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        patterns = _patterns()
        if patterns.special.search(text) is not None:
            runs = patterns.run.finditer(patterns.formats.sub("", text))
            return text, [(match.lastgroup == "chars", match.group()) for match in runs]
    return text, None


def strip_format(text: str) -> str:
    """``text`` without format characters (Unicode category Cf: zero-width space and joiners, soft hyphen,
    byte-order mark, bidirectional marks), which change no word: ``"infor\\u00admation"`` -> ``"information"``."""
    return text if text.isascii() else _patterns().formats.sub("", text)


def units(text: str) -> list[str]:
    """Words of ``text``, each character of an unspaced script (with its marks) a word of its own:
    ``"GPT模型 हिन्दी"`` -> ``["GPT", "模", "型", "हिन्दी"]`` (no case folding)."""
    text, runs = _runs(text)
    if runs is None:
        return _PLAIN_UNITS(text)
    out: list[str] = []
    for unspaced, run in runs:
        out.extend(_patterns().char.findall(run) if unspaced else [run])
    return out


def bm25_words(text: str) -> list[str]:
    """BM25 tokens of ``text`` (a bm25s ``Tokenizer`` splitter; bm25s lower-cases before): words of at least
    two characters, as bm25s' default, and overlapping bigrams of each run of unspaced-script characters
    (the character itself when alone): ``"机器学习 is fun"`` -> ``["机器", "器学", "学习", "is", "fun"]``."""
    text, runs = _runs(text)
    if runs is None:
        return _PLAIN_WORDS(text)
    out: list[str] = []
    for unspaced, run in runs:
        if not unspaced:
            if len(run) > 1:
                out.append(run)
            continue
        chars = _patterns().char.findall(run)
        out.extend(chars if len(chars) == 1 else (a + b for a, b in zip(chars, chars[1:])))
    return out
