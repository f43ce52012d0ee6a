"""BM25 candidate pools over ``bm25s`` (Lù, 2024: eager sparse BM25 scoring).

Scoring is the Lucene variant of Okapi BM25 (Robertson & Zaragoza, 2009; Kamphuis et al., ECIR 2020)::

    score(D, Q) = sum_{t in Q} IDF(t) * tf(t, D) / (tf(t, D) + k1 * (1 - b + b * |D| / avgdl))
    IDF(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

with ``tf`` the term's count in D, ``|D|`` the document length in tokens, ``avgdl`` the mean length,
``N`` the number of documents and ``df`` the number containing t; defaults k1 = 1.5, b = 0.75.
Tokens: bm25s' tokenizer (lower-cased ``\\w\\w+`` words, stopwords removed, optional stemmer).

Documents sharing no term with a query score 0 and are not candidates: such rows are padded (-1, -inf)
rather than filled with arbitrary zero-score documents.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from negmine.retrieve.candidates import Candidates
from negmine.retrieve.topk import pad_to, topk_vector


class BM25Retriever:
    """A bm25s index over a corpus; row ``j`` of the corpus is document index ``j``."""

    def __init__(self, model, n_docs: int, stopwords: str | list[str] | None, stemmer: Callable | None) -> None:
        self.model = model
        self.n_docs = n_docs
        self.stopwords = stopwords
        self.stemmer = stemmer
        self._last: tuple[str, np.ndarray] | None = None

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        stopwords: str | list[str] | None = "en",
        stemmer: Callable | None = None,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> "BM25Retriever":
        """Tokenise and index ``texts`` (``stopwords``: a bm25s language code, a list, or None)."""
        import bm25s

        texts = list(texts)
        if not texts:
            raise ValueError("cannot build a BM25 index over an empty corpus")
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever = cls(model, len(texts), stopwords, stemmer)
        model.index(retriever.tokenize(texts), show_progress=False)
        return retriever

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Token lists of ``texts`` with this index's stopwords and stemmer."""
        import bm25s

        return bm25s.tokenize(
            list(texts), stopwords=self.stopwords, stemmer=self.stemmer, return_ids=False, show_progress=False
        )

    def query_scores(self, query_text: str) -> np.ndarray:
        """BM25 score of every document for ``query_text`` (float32, length ``n_docs``)."""
        if self._last is not None and self._last[0] == query_text:
            return self._last[1]
        ids = self.model.get_tokens_ids(self.tokenize([query_text])[0])
        if ids:
            scores = np.asarray(self.model.get_scores_from_ids(ids), dtype=np.float32)
        else:
            scores = np.zeros(self.n_docs, dtype=np.float32)
        self._last = (query_text, scores)
        return scores

    def search(self, query_texts: Sequence[str], depth: int, show_progress: bool = False) -> Candidates:
        """Top-``depth`` documents per query by BM25 (score desc, ties by lower index; zero scores dropped)."""
        from tqdm.auto import tqdm

        if not isinstance(depth, (int, np.integer)) or depth < 1:
            raise ValueError(f"depth must be a positive integer, got {depth!r}")
        indices = np.full((len(query_texts), depth), -1, dtype=np.int64)
        scores = np.full((len(query_texts), depth), -np.inf, dtype=np.float32)
        for i, text in enumerate(tqdm(query_texts, desc="bm25 search", unit="query", disable=not show_progress)):
            idx, sc = topk_vector(self.query_scores(text), depth)
            keep = sc > 0
            row_idx, row_sc = pad_to(idx[keep][None, :], sc[keep][None, :], depth)
            indices[i], scores[i] = row_idx[0], row_sc[0]
        return Candidates(indices, scores)

    def score(self, query_text: str, doc_rows: np.ndarray) -> np.ndarray:
        """BM25 scores of documents ``doc_rows`` for one query (float32, same length as ``doc_rows``)."""
        doc_rows = np.asarray(doc_rows, dtype=np.int64)
        if len(doc_rows) and (doc_rows.min() < 0 or doc_rows.max() >= self.n_docs):
            raise IndexError(f"document row out of range [0, {self.n_docs}): {doc_rows.min()}..{doc_rows.max()}")
        return self.query_scores(query_text)[doc_rows]
