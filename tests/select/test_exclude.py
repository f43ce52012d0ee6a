import hashlib
import re

import numpy as np
import pytest

from negmine.select.exclude import ExclusionIndex, normalize_text, text_hash


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Hello,\tWORLD!  ", "hello, world"),
        ("hello, world", "hello, world"),
        ("\u201cQuoted.\u201d", "quoted"),
        ("ﬁne ＡＢＣ", "fine abc"),  # NFKC: ligature and full-width letters
        ("Straße", "strasse"),  # casefold, not lower
        ("a\n\n  b", "a b"),
        ("...", ""),
        ("e.g. inner.dots stay", "e.g. inner.dots stay"),
        ("infor\u00admation", "information"),  # soft hyphen
        ("\ufeffhel\u200blo wor\u200dld\u200e", "hello world"),  # BOM, zero-width space/joiner, LRM
        ("cafe\u0301", "caf\u00e9"),  # decomposed accent composes (NFKC)
        ("", ""),
        (" \t\n ", ""),  # nothing left after collapsing: the end scan must not read before the text
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_text_hash_is_stable_and_normalised():
    assert text_hash("Hello World.") == text_hash("hello   world")
    assert text_hash("hello world") != text_hash("hello worlds")
    assert isinstance(text_hash("x"), int) and -(2**63) <= text_hash("x") < 2**63
    # process-independent (Python's hash() is salted per process): blake2b-64 of the normalised UTF-8 text
    digest = hashlib.blake2b("hello world".encode(), digest_size=8).digest()
    assert text_hash(" Hello World! ") == int.from_bytes(digest, "little", signed=True)


CORPUS = [
    "The positive document.",  # 0 positive of the pair
    "the   POSITIVE document",  # 1 duplicate of 0
    "A sibling positive",  # 2 second positive of the same query
    "a sibling positive!!",  # 3 duplicate of 2
    "What causes cancer?",  # 4 equal to the query text
    "Unrelated text",  # 5
    "The positive document, extended",  # 6 near but not equal: must stay a candidate
]


def test_excludes_positives_duplicates_and_query():
    index = ExclusionIndex.build(CORPUS)
    excluded = index.excluded_rows([0, 2], "  what causes CANCER ")
    assert excluded == {0, 1, 2, 3, 4}


def test_copy_with_invisible_characters_is_a_duplicate_of_the_positive():
    index = ExclusionIndex.build(["The posi\u00adtive docu\u200bment.", "Unrelated text"])
    assert index.excluded_rows([], "the positive document") == {0}


def test_sibling_positive_only_excluded_when_passed():
    index = ExclusionIndex.build(CORPUS)
    assert index.excluded_rows([0], "query") == {0, 1}


def test_no_positives_only_query_copies():
    index = ExclusionIndex.build(CORPUS)
    assert index.excluded_rows([], "What causes cancer") == {4}
    assert index.excluded_rows(iter([]), "nothing matches") == set()


def test_index_stores_hashes_not_texts():
    index = ExclusionIndex.build(iter(CORPUS))  # streaming input works
    assert len(index) == len(CORPUS)
    assert index.hashes.dtype == np.int64 and index.hashes.nbytes == 8 * len(CORPUS)
    assert all(isinstance(a, np.ndarray) for a in index)


def test_positive_row_out_of_range():
    index = ExclusionIndex.build(CORPUS)
    with pytest.raises(IndexError, match="out of range for a corpus of 7"):
        index.excluded_rows([7], "q")


@pytest.mark.parametrize("rows", [[0, -1], [0, 7], [-1, 7]])
def test_one_bad_positive_row_among_good_ones_is_out_of_range(rows):
    # the lowest row is checked against 0 and the highest against the corpus size: -1 would silently exclude
    # the corpus's last document
    index = ExclusionIndex.build(CORPUS)
    with pytest.raises(IndexError, match=rf"^positive row out of range for a corpus of 7 documents: {re.escape(str(rows))}$"):
        index.excluded_rows(rows, "q")


def test_empty_corpus():
    index = ExclusionIndex.build([])
    assert index.excluded_rows([], "q") == set()
