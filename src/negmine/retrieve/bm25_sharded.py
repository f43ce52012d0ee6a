"""BM25 over a corpus indexed in shards, scored with the whole corpus' statistics.

One bm25s index over N documents peaks at ~1.1 KB per short document while it is built (1M documents: ~1.1 GB).
:class:`ShardedBM25` tokenises the corpus once (token ids to memory-mapped files, 4 bytes a token, plus each
term's document frequency), then runs one task per shard of ``shard_size`` documents that builds, searches and
frees that shard's index, so the index's memory is bounded by the shard size, not the corpus. Tasks run one
after another in this process, in ``search_workers`` local processes (that many shard indexes in memory at
once), or on any :mod:`negmine.engine` (Ray: in parallel); each finished shard's top-k can be saved, so a killed
search resumes.

Every shard is indexed with the *corpus'* statistics (N, df, avgdl), through bm25s' documented override point
``BM25.build_index_from_ids`` (:class:`CorpusStatsBM25`), so each (term, document) entry is the float32 value one
index over the whole corpus holds, and each document's score the same sum. Merging the shards' top-k lists
therefore gives exactly the top-k of one index, ties included; a Lucene / Elasticsearch shard scores with its
own statistics instead, which makes a score depend on the shard. Lucene BM25 (see :mod:`negmine.retrieve.bm25`)::

    score(D, Q) = sum_{t in Q} IDF(t) * tf / (tf + k1 * (1 - b + b * |D| / avgdl)),
    IDF(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))

:meth:`ShardedBM25.score` (scores of given documents, e.g. positives) evaluates the formula on the stored token
ids with bm25s' arithmetic (float64 terms stored as float32, summed in float32 in query-token order), so it
returns the same bits as :meth:`negmine.retrieve.bm25.BM25Retriever.score`.
"""

from __future__ import annotations

import tempfile
import weakref
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Protocol, Sequence, Sized

import numpy as np

from negmine.retrieve.bm25 import BM25Retriever, TokenIds, _Tokenized, require_tokens, top_documents, warn_tokenless
from negmine.retrieve.candidates import PAD_INDEX, Candidates
from negmine.retrieve.topk import merge_topk


class BM25Index(Protocol):
    """What the pipeline and ``eval`` use of a BM25 index: :class:`BM25Retriever` and :class:`ShardedBM25`."""

    n_docs: int

    def search(self, query_texts: Sequence[str], depth: int, show_progress: bool = False) -> Candidates: ...

    def score(self, query_text: str, doc_rows: np.ndarray) -> np.ndarray: ...


def bm25_index(
    texts: Sequence[str], shard_size: int = 1_000_000, show_progress: bool = False, engine=None,
    workdir: Path | None = None, results_dir: Path | None = None, workers: int = 1, search_workers: int = 1,
) -> BM25Index:
    """One bm25s index (:class:`BM25Retriever`) when ``texts`` fit in a shard, else :class:`ShardedBM25`: the
    same candidates and scores, bit for bit, with memory bounded by the shard size. Shards are searched on
    ``engine`` (:mod:`negmine.engine`; default: one after another in this process), their token files in a
    temporary folder under ``workdir`` (default: the system's; with Ray on several nodes, a shared folder).
    ``results_dir`` keeps each searched shard's top-k, so a rerun of the same search resumes (see
    :meth:`ShardedBM25.search`). ``workers`` processes tokenise a large corpus (same ids, same index);
    ``search_workers`` processes search shards at once when no distributed engine is given (see
    :func:`negmine.engine.budget.bm25_layout`)."""
    if len(texts) <= shard_size:
        return BM25Retriever.from_texts(texts, show_progress=show_progress, workers=workers)
    return ShardedBM25.from_texts(texts, shard_size, show_progress=show_progress, engine=engine, workdir=workdir,
                                  results_dir=results_dir, workers=workers, search_workers=search_workers)


def document_frequencies(ids: TokenIds, vocab_size: int, chunk: int = 65_536) -> np.ndarray:
    """Number of documents of ``ids`` containing each token id (int64, length ``vocab_size``): ``chunk``
    documents at a time as a scipy CSR matrix, whose ``sum_duplicates`` merges a document's repeated tokens
    (18x faster than ``np.unique`` over (document, token) keys on 50k SciFact abstracts)."""
    import scipy.sparse as sp

    df = np.zeros(vocab_size, dtype=np.int64)
    for start in range(0, len(ids), chunk):
        stop = min(start + chunk, len(ids))
        lo, hi = int(ids.offsets[start]), int(ids.offsets[stop])
        indptr = np.asarray(ids.offsets[start:stop + 1], dtype=np.int64) - lo
        matrix = sp.csr_matrix((np.ones(hi - lo, dtype=bool), np.asarray(ids.flat[lo:hi]), indptr),
                               shape=(stop - start, vocab_size))
        matrix.sum_duplicates()
        df += np.bincount(matrix.indices, minlength=vocab_size)
    return df


def corpus_idf(df: np.ndarray, n_docs: int, idf_method: str = "lucene") -> np.ndarray:
    """bm25s' float32 IDF array for corpus document frequencies ``df`` (0 where df is 0, as bm25s leaves it)."""
    from bm25s import scoring

    return scoring._build_idf_array(dict(enumerate(df.tolist())), n_docs, scoring._select_idf_scorer(idf_method),
                                    "float32")


def corpus_stats_bm25(idf: np.ndarray, avgdl: float, k1: float = 1.5, b: float = 0.75):
    """A :class:`CorpusStatsBM25` (built on first use: bm25s is imported lazily)."""
    import bm25s

    class CorpusStatsBM25(bm25s.BM25):
        """``bm25s.BM25`` (Lucene) whose index uses the corpus' IDF array and average length instead of those
        of the documents it indexes: ``build_index_from_ids`` is bm25s' documented override point; the steps
        are its own, with ``idf`` (:func:`corpus_idf`) and ``avgdl`` swapped in."""

        def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True,
                                 leave_progress=False):
            from bm25s import scoring

            if len(unique_token_ids) != len(idf):
                raise ValueError(f"vocabulary of {len(unique_token_ids)} tokens, IDF array of {len(idf)}")
            self.nonoccurrence_array = None  # Lucene BM25 has no non-occurrence term
            local_df = scoring._calculate_doc_freqs(corpus_token_ids, unique_token_ids, show_progress=False)
            values, rows, cols = scoring._build_scores_and_indices_for_matrix(
                corpus_token_ids=corpus_token_ids, idf_array=idf, avg_doc_len=np.float64(avgdl),
                doc_frequencies=local_df, k1=self.k1, b=self.b, delta=self.delta, nonoccurrence_array=None,
                method=self.method, dtype=self.dtype, int_dtype=self.int_dtype, show_progress=False)
            shape = (len(corpus_token_ids), len(unique_token_ids))
            data, indices, indptr = self._np_csc(data=values, rows=rows, cols=cols, shape=shape)
            return {"data": data.astype(self.dtype), "indices": indices, "indptr": indptr, "num_docs": shape[0]}

    return CorpusStatsBM25(k1=k1, b=b, method="lucene")


TOKEN_FOLDER_PREFIX = "negmine-bm25-"


def token_folder(workdir: Path | None = None) -> tempfile.TemporaryDirectory:
    """A temporary folder for a corpus' token files under ``workdir`` (default: the system's), named after this
    host and process (``negmine-bm25-<host>.<pid>.<random>``). It is removed with its index or at exit, but a
    killed process (``kill -9``) removes nothing: the folders that dead processes of this host left in
    ``workdir`` are deleted first, so killed runs do not pile up corpus-sized token files there."""
    from negmine.io.atomic import owned_prefix, remove_dead_owners

    parent = Path(workdir) if workdir is not None else Path(tempfile.gettempdir())
    parent.mkdir(parents=True, exist_ok=True)
    remove_dead_owners(parent, TOKEN_FOLDER_PREFIX)
    return tempfile.TemporaryDirectory(prefix=owned_prefix(TOKEN_FOLDER_PREFIX), dir=parent)


LAYOUT_FILE = "layout.json"
"""In a search's ``results_dir``: the shard size its saved shards (``<shard>.npz``) were searched with."""


def saved_shard_size(results_dir: Path) -> int | None:
    """The shard size of the saved shards in ``results_dir`` (None: nothing saved yet, or saved with other
    tokens), so that a resumed job lays its corpus out as the killed one did, whatever its ``--workers`` now."""
    layout = _saved_layout(results_dir)
    return None if layout is None else int(layout["shard_size"])


def _saved_layout(results_dir: Path) -> dict | None:
    """``layout.json`` of saved shards tokenised as this version tokenises (:data:`bm25_words.VERSION`), or None.

    negmine writes it atomically, so one it cannot read was cut short (a full disk, a copy stopped midway) or
    edited: an InputError naming it, its line and the way out, deleting the folder (its shards are searched again),
    where a corrupt file was a JSONDecodeError traceback and one that was not an object an AttributeError."""
    import json

    from negmine.errors import InputError
    from negmine.io.jsonl import json_type, read_json_file
    from negmine.retrieve.bm25_words import VERSION

    layout = Path(results_dir) / LAYOUT_FILE
    if not layout.is_file() or not any(Path(results_dir).glob("*.npz")):
        return None
    fix = (f"; negmine wrote this file to resume a BM25 search it was stopped in, so it was cut short or edited: "
           f"delete the folder {results_dir} (its saved shards are searched again)")
    try:
        saved = read_json_file(layout)
    except InputError as err:
        raise InputError(err.path, err.line, err.field, err.problem + fix) from None
    if not isinstance(saved, dict):
        raise InputError(layout, None, None, f"must hold a JSON object, got {json_type(saved)}{fix}")
    if saved.get("words") != VERSION:
        return None
    size = saved.get("shard_size")
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(layout, None, "shard_size", f"must be a positive integer, got {json.dumps(size)}{fix}")
    return saved


class ShardSearch(NamedTuple):
    """What searching any shard needs (picklable: an engine ships it to each worker once)."""

    idf: np.ndarray  # float32, the corpus IDF of every vocabulary id
    avgdl: np.float64
    k1: float
    b: float
    queries: TokenIds  # token ids of every query
    depth: int


def shard_worker(spec: ShardSearch) -> tuple[ShardSearch, dict[int, int]]:
    """A worker's state: the spec and the vocabulary bm25s indexes with (its ids are all bm25s reads)."""
    vocab: dict = dict(zip(range(len(spec.idf) - 1), range(len(spec.idf) - 1)))
    vocab[""] = len(spec.idf) - 1  # present, so bm25s does not add its empty token to the dict
    return spec, vocab


def search_shard(state: tuple[ShardSearch, dict[int, int]], shard: tuple[Path, Path, int]):
    """Top-``depth`` documents of every query within one shard, as global corpus rows: ``(indices, scores)``,
    ``(n_queries, depth)``, padded with (-1, -inf); zero scores (no shared term) dropped."""
    spec, vocab = state
    flat, offsets, start = shard
    ids = TokenIds(np.load(flat, mmap_mode="r"), np.load(offsets, mmap_mode="r"))
    if not ids.offsets[-1]:  # every document of the shard is empty: none shares a term with a query
        return top_documents(None, ([] for _ in range(len(spec.queries))), spec.depth)
    model = corpus_stats_bm25(spec.idf, spec.avgdl, spec.k1, spec.b)
    model.index(_Tokenized(ids, vocab), show_progress=False)
    return top_documents(model, spec.queries, spec.depth, offset=start)


def search_shard_alone(spec: ShardSearch, shard: tuple[Path, Path, int]):
    """:func:`search_shard` with the worker state built in place (one task of a local process pool)."""
    return search_shard(shard_worker(spec), shard)


def _token_shards(texts: Iterable[str], shard_size: int, folder: Path, stopwords, stemmer, show_progress: bool,
                  workers: int):
    """``texts`` tokenised, streamed, into token files of ``shard_size`` documents in ``folder``: the tokenizer and
    ``(shards, document frequencies, total length, documents)`` (:meth:`ShardedBM25.from_texts`)."""
    from bm25s.tokenization import Tokenizer

    from negmine.progress import progress_bar

    from negmine.retrieve.bm25_tokenize import rechunk, token_id_chunks
    from negmine.retrieve.bm25_words import bm25_words

    tokenizer = Tokenizer(splitter=bm25_words, stopwords=stopwords or [], stemmer=stemmer)
    total = len(texts) if isinstance(texts, Sized) else None
    texts = progress_bar(texts, desc="bm25 tokenise", unit="doc", total=total, show=show_progress)
    shards, df, total_length, n_docs = [], np.zeros(0, dtype=np.int64), 0, 0
    for chunk in rechunk(token_id_chunks(tokenizer, texts, workers), shard_size):
        ids = TokenIds.from_chunks([chunk])
        paths = (folder / f"shard-{len(shards)}.ids.npy", folder / f"shard-{len(shards)}.offsets.npy")
        np.save(paths[0], ids.flat)
        np.save(paths[1], ids.offsets)
        shards.append(paths)
        shard_df = document_frequencies(ids, len(tokenizer.get_vocab_dict()))  # the vocabulary only grows
        df = np.concatenate([df, np.zeros(len(shard_df) - len(df), dtype=np.int64)]) + shard_df
        total_length += int(ids.offsets[-1])
        n_docs += len(ids)
    return tokenizer, (shards, df, total_length, n_docs)


class ShardedBM25:
    """BM25 candidates and scores over shards of token ids on disk (global statistics; module docstring)."""

    def __init__(self, tokenizer, shards: list[tuple[Path, Path]], df: np.ndarray, total_length: int, n_docs: int,
                 k1: float, b: float, workdir: tempfile.TemporaryDirectory | None = None, engine=None,
                 results_dir: Path | None = None, search_workers: int = 1) -> None:
        self.tokenizer = tokenizer
        self.shards = shards  # (flat ids .npy, offsets .npy) per shard, in corpus order
        self.n_docs = n_docs
        self.avgdl = np.float64(total_length) / n_docs  # the value (and type) of bm25s' lengths.mean()
        self.k1, self.b = k1, b
        self.vocab = tokenizer.get_vocab_dict()
        if "" not in self.vocab:  # bm25s' empty token: a column of its own, as in one index
            self.vocab[""] = len(self.vocab)
        self.engine = engine
        self.results_dir = results_dir  # finished shard searches, for resuming (see search)
        self.tokenless_rows = np.empty(0, dtype=np.int64)  # the last search's queries without a BM25 token
        if not isinstance(search_workers, (int, np.integer)) or search_workers < 1:
            raise ValueError(f"search_workers must be a positive integer, got {search_workers!r}")
        self.search_workers = int(search_workers)  # local processes searching shards (no engine given)
        require_tokens(total_length, n_docs)
        self.idf = corpus_idf(np.concatenate([df, np.zeros(len(self.vocab) - len(df), dtype=np.int64)]), n_docs)
        self._ids: dict[int, TokenIds] = {}
        self.starts = np.cumsum([0] + [len(self._shard_ids(i)) for i in range(len(shards))])
        self.shard_size = int(self.starts[1])  # every shard's size but the last's
        if workdir is not None:
            weakref.finalize(self, workdir.cleanup)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        shard_size: int,
        stopwords: str | list[str] | None = "en",
        stemmer: Callable[[str], str] | None = None,
        k1: float = 1.5,
        b: float = 0.75,
        show_progress: bool = False,
        workdir: Path | None = None,
        engine=None,
        results_dir: Path | None = None,
        workers: int = 1,
        search_workers: int = 1,
    ) -> "ShardedBM25":
        """Tokenise ``texts`` once, streamed, into shards of ``shard_size`` documents (token files in a temporary
        folder under ``workdir``, default the system's, removed with this object) and count document
        frequencies. No index is built yet: :meth:`search` runs one task per shard on ``engine`` and keeps
        finished shards in ``results_dir`` if given. ``workers`` > 1 tokenises in that many processes, with the
        same ids (:mod:`negmine.retrieve.bm25_tokenize`); ``search_workers`` > 1 searches that many shards at
        once in local processes when ``engine`` is None or local. The arguments are checked before the folder is
        made, and a corpus refused once tokenised (empty, no BM25 token) or a stop midway removes it at once: a
        bad ``search_workers`` failed after the whole corpus was tokenised, and the folder was left to the
        garbage collector (a ResourceWarning 'Implicitly cleaning up' under ``python -W default``)."""
        for name, value in (("shard_size", shard_size), ("workers", workers), ("search_workers", search_workers)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        tmp = token_folder(workdir)
        try:
            tokenizer, (shards, df, total_length, n_docs) = _token_shards(texts, shard_size, Path(tmp.name),
                                                                         stopwords, stemmer, show_progress, workers)
            if not shards:
                raise ValueError("cannot build a BM25 index over an empty corpus")
            return cls(tokenizer, shards, df, total_length, n_docs, k1, b, tmp, engine, results_dir, search_workers)
        except BaseException:
            tmp.cleanup()
            raise

    def _shard_ids(self, shard: int) -> TokenIds:
        """A shard's token ids, memory-mapped (pages are read on use and can be dropped by the OS)."""
        if shard not in self._ids:
            flat, offsets = self.shards[shard]
            self._ids[shard] = TokenIds(np.load(flat, mmap_mode="r"), np.load(offsets, mmap_mode="r"))
        return self._ids[shard]

    def token_ids(self, text: str) -> list[int]:
        """Vocabulary ids of ``text``'s tokens (one per occurrence; words the corpus never had are dropped)."""
        return next(self.tokenizer.streaming_tokenize([text], update_vocab=False, allow_empty=False))

    def search(self, query_texts: Sequence[str], depth: int, show_progress: bool = False) -> Candidates:
        """Top-``depth`` documents per query over all shards (score desc, ties by lower index; zero scores
        dropped). Each shard task builds, searches and frees its own index on the engine; the merge does not
        depend on the order in which shards finish. With ``results_dir`` set, each finished shard's top-k is
        saved there (``<shard>.npz``, atomically) and shards already saved are read instead of searched: the
        caller keys the folder by everything the result depends on and removes it once its output is written."""
        from negmine.progress import progress_bar

        if not isinstance(depth, (int, np.integer)) or depth < 1:
            raise ValueError(f"depth must be a positive integer, got {depth!r}")
        queries = TokenIds.from_stream(self.token_ids(t) for t in query_texts)
        self.tokenless_rows = warn_tokenless(queries, query_texts)  # the last search's queries without a token
        spec = ShardSearch(self.idf, self.avgdl, self.k1, self.b, queries, int(depth))
        saved = self._saved_shards()
        items = [(i, (flat, offsets, int(self.starts[i]))) for i, (flat, offsets) in enumerate(self.shards)
                 if i not in saved]
        indices = np.full((len(query_texts), depth), PAD_INDEX, dtype=np.int64)
        scores = np.full((len(query_texts), depth), -np.inf, dtype=np.float32)
        for shard in sorted(saved):
            with np.load(saved[shard]) as found:
                indices, scores = merge_topk(indices, scores, found["indices"], found["scores"], depth)
        results = self._run_shards(spec, items)
        shard_bar = progress_bar(results, desc="bm25 shards", unit="shard", total=len(self.shards),
                                 initial=len(saved), show=show_progress)  # saved: resumed
        for shard, (found, found_scores) in shard_bar:
            self._save_shard(shard, found, found_scores)
            indices, scores = merge_topk(indices, scores, found, found_scores, depth)
        return Candidates(indices, scores)

    def _run_shards(self, spec: ShardSearch, items: list) -> Iterator[tuple[int, tuple[np.ndarray, np.ndarray]]]:
        """``(shard, (indices, scores))`` per item: on a distributed engine; in ``search_workers`` local
        processes (input order); or in this process, one shard after another."""
        import functools

        local = self.engine is None or getattr(self.engine, "name", None) == "local"
        if local and self.search_workers > 1 and len(items) > 1:
            from negmine.engine.processes import ordered_process_map

            found = ordered_process_map(functools.partial(search_shard_alone, spec), [p for _, p in items],
                                        min(self.search_workers, len(items)))
            return ((items[i][0], result) for i, result in enumerate(found))  # drives the pool to its end
        setup = functools.partial(shard_worker, spec)
        if self.engine is not None:
            return self.engine.map(setup, search_shard, items, desc="bm25 shards")
        # in this process, one shard after another (an engine's map, without importing the engine layer)
        return ((shard, search_shard(state, payload)) for state in [setup()] for shard, payload in items)

    def _saved_shards(self) -> dict[int, Path]:
        if self.results_dir is None or not Path(self.results_dir).is_dir():
            return {}
        layout = _saved_layout(self.results_dir)
        if layout is None:  # nothing saved, or shards searched with other tokens: never merged with these
            for stale in [*Path(self.results_dir).glob("*.npz"), Path(self.results_dir) / LAYOUT_FILE]:
                stale.unlink(missing_ok=True)
            return {}
        saved = int(layout["shard_size"])
        if saved != self.shard_size:
            raise ValueError(
                f"{self.results_dir} holds the top-k of shards of {saved} documents, this index has shards of "
                f"{self.shard_size}: build it with shard_size={saved} to resume, or use another results_dir")
        return {int(p.stem): p for p in Path(self.results_dir).glob("*.npz") if p.stem.isdigit()}

    def _save_shard(self, shard: int, indices: np.ndarray, scores: np.ndarray) -> None:
        if self.results_dir is None:
            return
        import json

        from negmine.io.atomic import atomic_write
        from negmine.retrieve.bm25_words import VERSION

        layout = Path(self.results_dir) / LAYOUT_FILE
        if not layout.is_file():  # first: a shard's top-k is only read back with the layout it belongs to
            with atomic_write(layout) as handle:
                json.dump({"shard_size": self.shard_size, "n_docs": self.n_docs, "words": VERSION}, handle)
        with atomic_write(Path(self.results_dir) / f"{shard}.npz", "wb") as handle:
            np.savez(handle, indices=indices, scores=scores)

    def score(self, query_text: str, doc_rows: np.ndarray) -> np.ndarray:
        """BM25 scores of documents ``doc_rows`` for one query (float32), from the stored token ids."""
        doc_rows = np.asarray(doc_rows, dtype=np.int64)
        if len(doc_rows) and (doc_rows.min() < 0 or doc_rows.max() >= self.n_docs):
            raise IndexError(f"document row out of range [0, {self.n_docs}): {doc_rows.min()}..{doc_rows.max()}")
        query = np.asarray(self.token_ids(query_text), dtype=np.int64)
        out = np.zeros(len(doc_rows), dtype=np.float32)
        if not len(query):
            return out
        shards = np.searchsorted(self.starts, doc_rows, side="right") - 1
        for j, (row, shard) in enumerate(zip(doc_rows.tolist(), shards.tolist())):
            ids, local = self._shard_ids(shard), row - int(self.starts[shard])
            out[j] = self._pair_score(query, np.asarray(ids.flat[ids.offsets[local]:ids.offsets[local + 1]]))
        return out

    def _pair_score(self, query: np.ndarray, tokens: np.ndarray) -> np.float32:
        """bm25s' arithmetic for one document: each term ``float32(idf * tf / (k1 (1 - b + b |D| / avgdl) + tf))``
        (float64 inside), summed in float32 in the order of the query's tokens."""
        vocab, counts = np.unique(tokens, return_counts=True)
        tf = counts.astype(np.float32)
        tfc = tf / (self.k1 * ((1 - self.b) + self.b * len(tokens) / self.avgdl) + tf)
        terms = (self.idf[vocab] * tfc).astype(np.float32)
        pos = np.searchsorted(vocab, query)
        total = np.float32(0)
        for token, at in zip(query.tolist(), pos.tolist()):
            if at < len(vocab) and vocab[at] == token:
                total = np.float32(total + terms[at])
        return total
