"""BM25 corpus tokenisation in worker processes, with the vocabulary one sequential pass would build.

bm25s' ``Tokenizer.streaming_tokenize(update_vocab=True)`` (no stemmer) gives each new word the next free id
at its first occurrence, so word ids follow first-occurrence order over the stream. Here each worker
tokenises one chunk of documents with a fresh tokenizer of the same settings (ids in first-occurrence order
*within the chunk*), and the caller's tokenizer takes the chunks in corpus order: a chunk's words, in their
chunk-local id order, get their global id or the next free one. A word new to the corpus is therefore
numbered at its first occurrence in the stream, exactly as in one pass: every document gets the same ids,
and the index built from them, its scores and candidates are bit-identical.
"""

from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, Sized

import numpy as np

PARALLEL_MIN = 50_000
"""Fewest documents tokenised in worker processes (below, start-up costs more than it saves)."""
PARALLEL_CHUNK = 8_192
"""Documents per worker task."""


def _flat(docs: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-document id lists as (flat int32 ids, int64 lengths)."""
    flat = np.fromiter((i for doc in docs for i in doc), dtype=np.int32)
    return flat, np.fromiter((len(doc) for doc in docs), dtype=np.int64, count=len(docs))


def _tokenize_chunk(args: tuple[list[str], bool, object, tuple[str, ...]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(flat chunk-local ids int32, per-document lengths int64, the chunk's words in local id order)."""
    from bm25s.tokenization import Tokenizer

    texts, lower, splitter, stopwords = args
    tokenizer = Tokenizer(lower=lower, splitter=splitter, stopwords=list(stopwords), stemmer=None)
    flat, lengths = _flat(list(tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False)))
    return flat, lengths, list(tokenizer.word_to_id)  # insertion order = id order (ids are 0, 1, ...)


def _chunks(texts: Iterable[str], tokenizer) -> Iterator[tuple[list[str], bool, object, tuple[str, ...]]]:
    it = iter(texts)
    stopwords = tuple(tokenizer.stopwords or ())
    while chunk := list(islice(it, PARALLEL_CHUNK)):
        yield chunk, tokenizer.lower, tokenizer.splitter, stopwords


def token_id_chunks(tokenizer, texts: Iterable[str], workers: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The corpus' token ids as (flat int32 ids, int64 per-document lengths), one chunk of documents at a time
    in corpus order, adding new words to ``tokenizer``'s vocabulary: the ids and vocabulary of
    ``tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False)``. Computed in ``workers``
    processes when there are at least :data:`PARALLEL_MIN` texts (``texts`` must then have a length) and
    ``tokenizer`` has no stemmer and an empty vocabulary; else in this process. Chunks stay numpy arrays end
    to end, so this process's share of the work is a merge of each chunk's vocabulary and one array lookup."""
    parallel = (workers > 1 and tokenizer.stemmer is None and not tokenizer.word_to_id
                and isinstance(texts, Sized) and len(texts) >= PARALLEL_MIN)
    if not parallel:
        stream = tokenizer.streaming_tokenize(texts, update_vocab=True, allow_empty=False)
        while docs := list(islice(stream, PARALLEL_CHUNK)):
            yield _flat(docs)
        return
    from negmine.engine.processes import ordered_process_map

    vocab = tokenizer.word_to_id
    for flat, lengths, words in ordered_process_map(_tokenize_chunk, _chunks(texts, tokenizer), workers):
        to_global = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), dtype=np.int32, count=len(words))
        yield to_global[flat], lengths


def rechunk(chunks: Iterable[tuple[np.ndarray, np.ndarray]], size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The same documents regrouped ``size`` per chunk (the last one may hold fewer); each input chunk is
    copied once, whatever ``size``."""
    flats: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    held = 0
    for flat, length in chunks:
        flats.append(flat)
        lengths.append(length)
        held += len(length)
        if held < size:
            continue
        flat, length = np.concatenate(flats), np.concatenate(lengths)
        ends = np.zeros(len(length) + 1, dtype=np.int64)
        np.cumsum(length, out=ends[1:])
        start = 0
        while len(length) - start >= size:
            yield flat[ends[start] : ends[start + size]], length[start : start + size]
            start += size
        flats, lengths, held = [flat[ends[start] :]], [length[start:]], len(length) - start
    if held:
        yield np.concatenate(flats), np.concatenate(lengths)
