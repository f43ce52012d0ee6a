"""Zero-shot dense retrieval run of one embedder over a dataset split (BEIR protocol).

The corpus is encoded once and the split's queries once, through the embedding cache, so comparing
several models encodes each corpus once per model, and re-evaluating a model encodes nothing. Scores
are inner products of L2-normalised embeddings (cosine), searched exactly by
:func:`negmine.retrieve.dense.dense_search` in bounded memory: the corpus' vectors go to a scratch ``.npy`` file
in the temp folder and are read back memory-mapped (the file is unlinked as soon as it is mapped), so resident
memory does not grow with corpus x dimension (mapped pages are page cache the kernel can drop).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from negmine.encode.base import Embedder
from negmine.evaluate.metrics import evaluated_query_ids
from negmine.evaluate.run import Run
from negmine.io.records import Dataset


@dataclass(frozen=True)
class SplitEmbeddings:
    """Embeddings of the evaluated queries (row i = ``query_ids[i]``) and of the whole corpus."""

    query_ids: list[str]
    queries: np.ndarray
    documents: np.ndarray
    n_encoded: int
    n_cached: int


def encode_split(
    embedder: Embedder, dataset: Dataset, cache=None, query_prompt: str = "", document_prompt: str = "",
    truncate_dim: int | None = None, label: str = "",
) -> SplitEmbeddings:
    """Encode the corpus and the queries of the qrels split that have a relevant judgment.

    Judgments skipped for a document missing from the corpus count (``Dataset.judged_qrels``): a query whose
    only relevant documents are missing is still run and evaluated, as in BEIR. ``truncate_dim``: every vector
    cut to its first ``truncate_dim`` components and re-normalised, after the cache (which keeps full vectors).
    ``label`` ends the bars' labels, saying which model or split (``encode corpus (out/model)``).
    """
    from negmine.encode.embed import embed_texts

    query_ids = evaluated_query_ids(dataset.judged_qrels())
    query_texts = [dataset.queries.text(q) for q in query_ids]
    docs = corpus_vectors(embedder, dataset.corpus.texts, document_prompt, cache, truncate_dim, label)
    queries = embed_texts(embedder, query_texts, prompt=query_prompt, cache=cache, desc=_desc("queries", label),
                          truncate_dim=truncate_dim)
    return SplitEmbeddings(
        query_ids, queries.vectors, docs.vectors, docs.n_encoded + queries.n_encoded, docs.n_cached + queries.n_cached
    )


SCRATCH_PREFIX = "negmine-eval-vectors-"


def _desc(texts: str, label: str) -> str:
    return f"encode {texts} ({label})" if label else f"encode {texts}"


def corpus_vectors(embedder: Embedder, texts: Sequence[str], prompt: str = "", cache=None,
                   truncate_dim: int | None = None, label: str = ""):
    """``embed_texts_to_memmap`` of the corpus into a scratch folder under the temp folder, named after this
    process (:func:`negmine.io.atomic.owned_prefix`; those of killed processes are swept first) and removed once
    the file is mapped: an :class:`~negmine.encode.embed.EmbedResult` whose vectors are a read-only memory map."""
    from negmine.encode.embed import embed_texts_to_memmap
    from negmine.io.atomic import owned_prefix, remove_dead_owners

    parent = Path(tempfile.gettempdir())
    remove_dead_owners(parent, SCRATCH_PREFIX)
    # a platform that cannot delete a mapped file leaves the folder to the next run's sweep
    scratch = tempfile.TemporaryDirectory(prefix=owned_prefix(SCRATCH_PREFIX), dir=parent, ignore_cleanup_errors=True)
    with scratch as folder:
        return embed_texts_to_memmap(embedder, texts, Path(folder) / "corpus.npy", prompt, cache,
                                     desc=_desc("corpus", label), truncate_dim=truncate_dim)


def search_run(embeddings: SplitEmbeddings, doc_ids: Sequence[str], depth: int, name: str = "run") -> Run:
    """Top-``depth`` documents per query by cosine similarity.

    When a query id is also a corpus id (Quora, ArguAna, ...), one extra document is retrieved and the
    query's own id dropped (BEIR ``ignore_identical_ids``), so every query still gets ``depth`` documents.
    """
    from negmine.retrieve.dense import dense_search

    query_ids = set(embeddings.query_ids)  # the small side: the corpus ids are streamed, never copied
    overlap = any(d in query_ids for d in doc_ids)
    k = min(depth + int(overlap), len(doc_ids))
    candidates = dense_search(embeddings.queries, embeddings.documents, k)
    run = Run.from_candidates(candidates, embeddings.query_ids, doc_ids, name)
    return run.without_identical_ids().truncated(depth) if overlap else run


def retrieve_run(
    embedder: Embedder,
    dataset: Dataset,
    depth: int = 100,
    cache=None,
    query_prompt: str = "",
    document_prompt: str = "",
    name: str = "run",
    label: str = "",
) -> Run:
    """Dense run of ``embedder`` on ``dataset``'s split: encode (cached), search, rank. ``label``: see
    :func:`encode_split`."""
    embeddings = encode_split(embedder, dataset, cache, query_prompt, document_prompt, label=label)
    return search_run(embeddings, dataset.corpus.ids, depth, name)
