"""Documents that must never be a negative for a query: its positives, their duplicates and the query itself.

A candidate that is a judged positive of the query (any of them, not only the pair's), a text-level
duplicate of one, or a copy of the query text would teach the model to push away a relevant document.
Duplicates are found by exact equality of :func:`normalize_text`, compared through 8-byte hashes so the
index costs 8 bytes per corpus document (plus 8 for the sort order) and never keeps texts.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Iterable, NamedTuple

import numpy as np

from negmine.io.records import Dataset
from negmine.retrieve.bm25_words import strip_format


def _is_edge_char(char: str) -> bool:
    """Whitespace or Unicode punctuation (categories P*), stripped from both ends of a normalised text."""
    return char.isspace() or unicodedata.category(char).startswith("P")


def normalize_text(text: str) -> str:
    """NFKC-normalise, drop format characters (zero-width, soft hyphen, BOM, bidi marks), casefold, collapse
    whitespace runs to one space, strip surrounding punctuation/space.

    ``"  Hello,\\tWORLD! "`` and ``"hello, world"`` both become ``"hello, world"``; inner punctuation stays.
    """
    collapsed = " ".join(strip_format(unicodedata.normalize("NFKC", text)).casefold().split())
    start, end = 0, len(collapsed)
    while start < end and _is_edge_char(collapsed[start]):
        start += 1
    while end > start and _is_edge_char(collapsed[end - 1]):
        end -= 1
    return collapsed[start:end]


def text_hash(text: str) -> int:
    """Signed 64-bit BLAKE2b hash of ``normalize_text(text)``; stable across processes (unlike ``hash``)."""
    digest = hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def corpus_hashes(corpus_texts: Iterable[str]) -> np.ndarray:
    """:func:`text_hash` of every text, streaming (int64, row i = i-th text)."""
    return np.fromiter((text_hash(t) for t in corpus_texts), dtype=np.int64)


class ExclusionIndex(NamedTuple):
    """Normalised-text hash per corpus row, with a sort order for duplicate look-ups.

    ``hashes[row]`` is the hash of corpus row ``row``; ``order`` sorts ``hashes`` (stable), so the rows
    sharing a hash are one contiguous slice of ``order`` found by binary search. A 64-bit collision between
    two different texts is possible in principle (probability ~ n^2 / 2^65 over the whole corpus) and would
    only ever exclude a document, never admit a positive.
    """

    hashes: np.ndarray  # int64, one per corpus row
    order: np.ndarray  # int64, argsort of hashes
    sorted_hashes: np.ndarray  # int64, hashes[order]

    @classmethod
    def build(cls, corpus_texts: Iterable[str]) -> "ExclusionIndex":
        """Hash every corpus text once, streaming over ``corpus_texts`` (row i = i-th text)."""
        return cls.from_hashes(corpus_hashes(corpus_texts))

    @classmethod
    def from_hashes(cls, hashes: np.ndarray) -> "ExclusionIndex":
        """The index of the corpus whose :func:`corpus_hashes` are ``hashes`` (kept, not copied)."""
        order = np.argsort(hashes, kind="stable").astype(np.int64, copy=False)
        return cls(hashes, order, hashes[order])

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    def rows_with_hash(self, hashes: np.ndarray) -> np.ndarray:
        """All corpus rows whose normalised-text hash is in ``hashes`` (int64 array, ascending)."""
        left = np.searchsorted(self.sorted_hashes, hashes, side="left")
        right = np.searchsorted(self.sorted_hashes, hashes, side="right")
        parts = [self.order[lo:hi] for lo, hi in zip(left.tolist(), right.tolist()) if hi > lo]
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)

    def excluded_rows(self, positive_rows: Iterable[int], query_text: str) -> set[int]:
        """Rows that may never be a negative for this query.

        ``positive_rows`` must be ALL judged positives of the query (multi-positive queries: a sibling
        positive is not a negative for the other pair). Returned: those rows, every row whose normalised
        text equals a positive's, and every row whose normalised text equals the query's.
        """
        positives = np.fromiter((int(r) for r in positive_rows), dtype=np.int64)
        if positives.size and (positives.min() < 0 or positives.max() >= len(self)):
            raise IndexError(f"positive row out of range for a corpus of {len(self)} documents: {positives.tolist()}")
        wanted = np.append(self.hashes[positives], np.int64(text_hash(query_text)))
        duplicates = self.rows_with_hash(np.unique(wanted))
        return set(positives.tolist()) | set(duplicates.tolist())


def positives_by_query_text(dataset: Dataset) -> dict[str, list[int]]:
    """Corpus rows of every positive of each query, pooled over queries whose normalised text is the same.

    Datasets repeat query texts under different ids (SciFact train has two such pairs); a positive of the
    twin query is a positive of this one too and must never become its negative.
    """
    corpus, queries = dataset.corpus, dataset.queries
    by_text: dict[str, list[int]] = {}
    for query_id in dataset.qrels.query_ids():
        rows = by_text.setdefault(normalize_text(queries.text(query_id)), [])
        rows.extend(corpus.index[d] for d in dataset.qrels.positives(query_id))
    return {q: by_text[normalize_text(queries.text(q))] for q in dataset.qrels.query_ids()}
