from __future__ import annotations

import re
import unicodedata

import numpy as np
import pytest

from negmine.retrieve.bm25_words import bm25_words, strip_format, units

BM25S_DEFAULT = re.compile(r"(?u)\b\w\w+\b")  # bm25s' default splitter


def test_text_without_marks_or_unspaced_scripts_splits_as_bm25s_default():
    rng = np.random.default_rng(0)
    alphabet = list("abcXYZ019_ -.,;:'\"()\t\n/") + ["é", "ß", "ж", "λ", "ع", "한"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet, rng.integers(0, 40)))
        assert bm25_words(text) == BM25S_DEFAULT.findall(text), text


@pytest.mark.parametrize("text, words", [
    ("机器学习", ["机器", "器学", "学习"]),  # Chinese: overlapping bigrams, as Lucene's CJKBigramFilter
    ("猫", ["猫"]),  # a lone character is its own token
    ("什么是机器学习？", ["什么", "么是", "是机", "机器", "器学", "学习"]),
    ("東京は日本", ["東京", "京は", "は日", "日本"]),  # Japanese kanji and kana alike
    ("gpt模型 is fun", ["gpt", "模型", "is", "fun"]),  # a Latin word before Chinese is its own word
    ("ไม่มี", ["ไม่", "ม่มี"]),  # Thai: tone mark and vowel sign stay with their consonant
    ("हिन्दी भारत की", ["हिन्दी", "भारत", "की"]),  # Devanagari vowel signs are marks: words stay whole
    ("தமிழ் மொழி", ["தமிழ்", "மொழி"]),
])
def test_scripts_without_spaces_and_combining_marks(text, words):
    assert bm25_words(text) == words


def test_canonically_equal_forms_and_invisible_characters_give_the_same_words():
    composed = "café crème"
    assert bm25_words(unicodedata.normalize("NFD", composed)) == bm25_words(composed) == ["café", "crème"]
    assert bm25_words("ｈｅｌｌｏ　ｗｏｒｌｄ１２") == ["hello", "world12"]  # full-width forms (NFKC)
    assert bm25_words("infor\u00admation re\u200btrie\u200dval\ufeff") == ["information", "retrieval"]


@pytest.mark.parametrize("text", ["？！。", "!!! ???", "😀😀 👍", "x + y = z", "∑ ≤ ∞", ""])
def test_punctuation_symbols_emoji_and_one_letter_words_have_no_words(text):
    assert bm25_words(text) == []


def test_units_split_unspaced_scripts_into_characters_and_keep_words():
    assert units("GPT模型 हिन्दी x") == ["GPT", "模", "型", "हिन्दी", "x"]
    assert units("ไม่มี") == ["ไ", "ม่", "มี"]
    assert units("lear\u00adning ！") == ["learning"]


def test_strip_format_removes_only_format_characters():
    assert strip_format("\ufeffinfor\u00adma\u200btion\u200e") == "information"
    assert strip_format("plain ASCII, kept as is") == "plain ASCII, kept as is"
    assert strip_format("caf\u00e9 \u0928\u093f \u6a5f\u5668") == "caf\u00e9 \u0928\u093f \u6a5f\u5668"  # marks and CJK stay
