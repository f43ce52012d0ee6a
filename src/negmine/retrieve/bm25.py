"""BM25 candidate pools over ``bm25s`` (Lù, 2024: eager sparse BM25 scoring).

Scoring is the Lucene variant of Okapi BM25 (Robertson & Zaragoza, 2009; Kamphuis et al., ECIR 2020)::

    score(D, Q) = sum_{t in Q} IDF(t) * tf(t, D) / (tf(t, D) + k1 * (1 - b + b * |D| / avgdl))
    IDF(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

with ``tf`` the term's count in D, ``|D|`` the document length in tokens, ``avgdl`` the mean length,
``N`` the number of documents and ``df`` the number containing t; defaults k1 = 1.5, b = 0.75.
Tokens: bm25s' ``Tokenizer`` with :func:`negmine.retrieve.bm25_words.bm25_words` as its splitter (lower-cased
words of two or more characters, as bm25s' default ``\\w\\w+``, with combining marks kept in their word and
character bigrams for Chinese, Japanese, Thai and other scripts written without spaces; stopwords removed,
optional stemmer), streamed
over the corpus into a flat int32 array (:class:`TokenIds`), so indexing never holds the texts or a token list
per document.

Documents sharing no term with a query score 0 and are not candidates: such rows are padded (-1, -inf)
rather than filled with arbitrary zero-score documents.
"""

from __future__ import annotations

from typing import Callable, Iterable, Iterator, NamedTuple, Sequence, Sized

import numpy as np

from negmine.errors import caller_stacklevel
from negmine.retrieve.candidates import PAD_INDEX, Candidates
from negmine.retrieve.topk import pad_to, topk_vector

QUERY_CHUNK = 256
"""Queries per task when :meth:`BM25Retriever.search` runs in worker processes."""
PARALLEL_SEARCH_MIN = 200_000_000
"""Queries x documents from which :meth:`BM25Retriever.search` uses its worker processes: ~1 s of search on one
CPU (SciFact's 1,109 claims over its 5,183 abstracts: 0.09 s in one process, 0.17 s with two workers, the fork of
a process holding torch costing more than it saves; 50,000 claims: 4.9 s -> 3.0 s)."""


class TokenIds(Sequence):
    """Token ids of a tokenised corpus, stored flat: one int32 array of every document's ids plus offsets.

    A ``Sequence`` of ``list[int]`` (one per document, built on access), which is what ``bm25s`` iterates
    while indexing; 4 bytes per token instead of a Python list of strings per document.
    """

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = offsets

    @classmethod
    def from_chunks(cls, chunks: Iterable[tuple[np.ndarray, np.ndarray]]) -> "TokenIds":
        """Concatenate (flat ids, per-document lengths) chunks (see :mod:`negmine.retrieve.bm25_tokenize`)."""
        flats, lengths = [np.empty(0, dtype=np.int32)], [np.empty(0, dtype=np.int64)]
        for flat, length in chunks:
            flats.append(np.asarray(flat, dtype=np.int32))
            lengths.append(np.asarray(length, dtype=np.int64))
        offsets = np.zeros(sum(len(x) for x in lengths) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
        return cls(np.concatenate(flats), offsets)

    @classmethod
    def from_stream(cls, docs: Iterable[list[int]], batch: int = 65_536) -> "TokenIds":
        """Collect a stream of per-document id lists, ``batch`` documents at a time."""
        parts, lengths, pending, pending_lengths = [], [], [], []
        for ids in docs:
            pending.extend(ids)
            pending_lengths.append(len(ids))
            if len(pending_lengths) == batch:
                parts.append(np.asarray(pending, dtype=np.int32))
                lengths.append(np.asarray(pending_lengths, dtype=np.int64))
                pending, pending_lengths = [], []
        parts.append(np.asarray(pending, dtype=np.int32))
        lengths.append(np.asarray(pending_lengths, dtype=np.int64))
        offsets = np.zeros(sum(len(x) for x in lengths) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(lengths), out=offsets[1:])
        return cls(np.concatenate(parts), offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if not -len(self) <= row < len(self):
            raise IndexError(f"document row {row} out of range for {len(self)} documents")
        row %= len(self)
        return self.flat[self.offsets[row]:self.offsets[row + 1]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        for start, end in zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist()):
            yield self.flat[start:end].tolist()


class _Tokenized(NamedTuple):
    """What ``bm25s.BM25.index`` accepts as pre-tokenised input (its ``ids`` / ``vocab`` object form)."""

    ids: TokenIds
    vocab: dict[str, int]


class BM25Retriever:
    """A bm25s index over a corpus; row ``j`` of the corpus is document index ``j``."""

    def __init__(self, model, n_docs: int, tokenizer, search_workers: int = 1) -> None:
        if not isinstance(search_workers, (int, np.integer)) or search_workers < 1:
            raise ValueError(f"search_workers must be a positive integer, got {search_workers!r}")
        self.model = model
        self.n_docs = n_docs
        self.tokenizer = tokenizer
        self.search_workers = int(search_workers)  # processes :meth:`search` splits the queries over
        self.tokenless_rows = np.empty(0, dtype=np.int64)  # the last search's queries without a BM25 token
        self._last: tuple[str, np.ndarray] | None = None

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        stopwords: str | list[str] | None = "en",
        stemmer: Callable[[str], str] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        show_progress: bool = False,
        workers: int = 1,
    ) -> "BM25Retriever":
        """Tokenise and index ``texts``, streamed: no copy of the texts and no per-document token lists are
        kept (``stopwords``: a bm25s language code, a list, or None; ``stemmer``: word -> stem, or an object
        with a ``stemWord`` method such as PyStemmer's). ``workers`` > 1 tokenises a large corpus in that many
        processes, with the same ids (:mod:`negmine.retrieve.bm25_tokenize`), and :meth:`search` splits the
        queries over that many (checked first: a bad ``workers`` failed after the whole corpus was tokenised and
        indexed, named ``search_workers``)."""
        if not isinstance(workers, (int, np.integer)) or workers < 1:
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        import bm25s
        from bm25s.tokenization import Tokenizer

        from negmine.progress import library_bars_shown, progress_bar

        from negmine.retrieve.bm25_tokenize import token_id_chunks
        from negmine.retrieve.bm25_words import bm25_words

        tokenizer = Tokenizer(splitter=bm25_words, stopwords=stopwords or [], stemmer=stemmer)
        total = len(texts) if isinstance(texts, Sized) else None
        texts = progress_bar(texts, desc="bm25 tokenise", unit="doc", total=total, show=show_progress)
        ids = TokenIds.from_chunks(token_id_chunks(tokenizer, texts, workers))
        if not len(ids):
            raise ValueError("cannot build a BM25 index over an empty corpus")
        require_tokens(len(ids.flat), len(ids))
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        # bm25s' own bars (its counting and scoring) are another library's: drawn where those are (negmine.progress)
        model.index(_Tokenized(ids, tokenizer.get_vocab_dict()), show_progress=library_bars_shown(show_progress))
        return cls(model, len(ids), tokenizer, search_workers=workers)

    def token_ids(self, text: str) -> list[int]:
        """Vocabulary ids of ``text``'s tokens (one per occurrence; words the corpus never had are dropped)."""
        return next(self.tokenizer.streaming_tokenize([text], update_vocab=False, allow_empty=False))

    def query_scores(self, query_text: str) -> np.ndarray:
        """BM25 score of every document for ``query_text`` (float32, length ``n_docs``)."""
        if self._last is not None and self._last[0] == query_text:
            return self._last[1]
        ids = self.token_ids(query_text)
        if ids:
            scores = np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)
        else:
            scores = np.zeros(self.n_docs, dtype=np.float32)
        self._last = (query_text, scores)
        return scores

    def search(self, query_texts: Sequence[str], depth: int, show_progress: bool = False) -> Candidates:
        """Top-``depth`` documents per query by BM25 (score desc, ties by lower index; zero scores dropped).

        With ``search_workers`` > 1, workers that fork (Linux) and enough work (:data:`PARALLEL_SEARCH_MIN`),
        chunks of :data:`QUERY_CHUNK` queries are searched in that many processes, which share this index's
        memory instead of copying it: the same candidates, bit for bit. Otherwise the queries run one after
        another here."""
        from negmine.progress import progress_bar

        from negmine.engine.processes import ordered_process_map, workers_fork

        if not isinstance(depth, (int, np.integer)) or depth < 1:
            raise ValueError(f"depth must be a positive integer, got {depth!r}")
        queries = TokenIds.from_stream(self.token_ids(text) for text in query_texts)
        self.tokenless_rows = warn_tokenless(queries, query_texts)
        starts = range(0, len(queries), QUERY_CHUNK)
        chunks = ([queries[j] for j in range(i, min(i + QUERY_CHUNK, len(queries)))] for i in starts)
        worth_it = workers_fork() and len(queries) * self.n_docs >= PARALLEL_SEARCH_MIN
        workers = min(self.search_workers, len(starts)) if worth_it else 1
        if workers > 1:
            found = ordered_process_map(search_chunk, chunks, workers, shared=(self.model, int(depth)))
        else:
            found = (top_documents(self.model, chunk, int(depth)) for chunk in chunks)
        indices = np.full((len(queries), depth), PAD_INDEX, dtype=np.int64)
        scores = np.full((len(queries), depth), -np.inf, dtype=np.float32)
        with progress_bar(total=len(queries), desc="bm25 search", unit="query", show=show_progress) as bar:
            for start, (chunk_indices, chunk_scores) in zip(starts, found, strict=True):
                indices[start:start + len(chunk_indices)] = chunk_indices
                scores[start:start + len(chunk_indices)] = chunk_scores
                bar.update(len(chunk_indices))
        return Candidates(indices, scores)

    def score(self, query_text: str, doc_rows: np.ndarray) -> np.ndarray:
        """BM25 scores of documents ``doc_rows`` for one query (float32, same length as ``doc_rows``)."""
        doc_rows = np.asarray(doc_rows, dtype=np.int64)
        if len(doc_rows) and (doc_rows.min() < 0 or doc_rows.max() >= self.n_docs):
            raise IndexError(f"document row out of range [0, {self.n_docs}): {doc_rows.min()}..{doc_rows.max()}")
        return self.query_scores(query_text)[doc_rows]


def require_tokens(n_tokens: int, n_docs: int) -> None:
    """ConfigError when a corpus of ``n_docs`` documents has no BM25 token at all (bm25s cannot index it)."""
    from negmine.errors import ConfigError

    if n_tokens == 0:
        which = "its one document has no word" if n_docs == 1 else f"none of its {n_docs} documents has a word"
        raise ConfigError(
            f"BM25 cannot index this corpus: {which} of two or more letters or digits (only punctuation, symbols, emoji or one-letter words), so every BM25 score would be 0; use "
            "the dense retriever (--retriever dense; in eval, a dense --model) instead")


def warn_tokenless(queries: TokenIds, query_texts: Sequence[str]) -> np.ndarray:
    """Warn when some queries have no BM25 token (BM25 retrieves nothing for them); returns their rows."""
    empty = np.flatnonzero(np.diff(queries.offsets) == 0)
    if len(empty):
        import warnings

        from negmine.errors import NegmineWarning, counted

        example = str(query_texts[int(empty[0])])
        example = repr(example) if len(example) <= 60 else f"{example[:60]!r}..."
        one = len(empty) == 1
        warnings.warn(
            f"{len(empty)} of {counted(len(queries), 'query', 'queries')} {'has' if one else 'have'} no BM25 token (no "
            f"word of two or more letters or digits that the corpus has), e.g. {example}: BM25 retrieves no document "
            f"for {'it' if one else 'them'} (mining with method='bm25' (--retriever bm25) gives {'its' if one else 'their'} "
            "pairs no negatives; method='dense' or 'hybrid' (--retriever dense or hybrid) does)", NegmineWarning,
            stacklevel=caller_stacklevel())
    return empty


def top_documents(model, queries: Iterable[Sequence[int]], depth: int, offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Top-``depth`` documents of a bm25s ``model`` for each query given as token ids: ``(indices, scores)``,
    ``(n_queries, depth)``, score desc with ties by lower index, ``offset`` added to the indices (a shard's
    first corpus row), zero scores (no shared term) dropped and rows padded with (-1, -inf)."""
    queries = list(queries)
    indices = np.full((len(queries), depth), PAD_INDEX, dtype=np.int64)
    scores = np.full((len(queries), depth), -np.inf, dtype=np.float32)
    for i, query in enumerate(queries):
        if not query:
            continue
        idx, sc = topk_vector(np.asarray(model.get_scores_from_ids(query), dtype=np.float32), depth)
        keep = sc > 0
        row_idx, row_sc = pad_to(idx[keep][None, :] + offset, sc[keep][None, :], depth)
        indices[i], scores[i] = row_idx[0], row_sc[0]
    return indices, scores


def search_chunk(shared: tuple[object, int], queries: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """One task of :meth:`BM25Retriever.search` in a worker: ``shared`` is the (bm25s model, depth)."""
    model, depth = shared
    return top_documents(model, queries, depth)
