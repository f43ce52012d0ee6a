"""Near-duplicates of positives: embedding cosine and MinHash shingle overlap against every positive.

A candidate c is a near-duplicate of the query's positives P when

    max_p cos(e_c, e_p) >= cosine     or     max_p max(J(c, p), C(c, p)) >= overlap

(the overlap test only for positives sharing at least ``min_shared`` shingles with c, so short texts
that differ in a word or a number, often the hardest true negatives, are not called copies)
with J the MinHash Jaccard estimate and C the containment of c's shingles in p (see :mod:`minhash`):
sentence subsets, truncations and title-only copies have high containment, reordered copies high
Jaccard, and re-encoded copies high cosine. Used by the default mining exclusion and the audit judge.

Cosines are taken after subtracting the corpus mean embedding ``mu`` and re-normalising
(``cos(e_c - mu, e_p - mu)``): many embedding spaces are anisotropic (all documents share a common
direction, e.g. E5 cosines of unrelated texts sit around 0.7-0.8; Ethayarajh 2019; Mu & Viswanath 2018),
so a raw cosine threshold would call unrelated documents duplicates; centred cosines stay near 0 for
unrelated texts and near 1 for copies.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Hashable, NamedTuple, Sequence

import numpy as np

from negmine.audit.minhash import Signatures, TokenHashes, overlap, parallel_signatures, signatures
from negmine.config import NearDupConfig


PARALLEL_MIN = 20_000
"""Fewest missing signatures :meth:`SignatureMemo.prefetch` spreads over processes (~0.1-0.3 ms each)."""
PARALLEL_CHUNK = 2_048
"""Texts per worker task."""


class NearDupEvidence(NamedTuple):
    """Per candidate: best cosine and best shingle overlap with any positive (NaN: not measured), and flags."""

    cosine: np.ndarray  # float64
    overlap: np.ndarray  # float64
    flags: np.ndarray  # bool


class SignatureMemo:
    """MinHash signatures computed once per key (corpus row or text digest) for the whole run.

    Small texts (at most ``num_perm`` shingles, the size of a signature) keep their exact shingle set;
    ``positives=True`` lookups keep it whatever the size (positives are few), so containment of a short
    candidate in a positive is exact.

    ``max_entries`` (None: unbounded) bounds the memo, ~1 KB a text: a lookup or prefetch that would pass it
    first drops the oldest entries it does not ask for, to a quarter below the bound (signatures never depend on
    the memo), so windows of pairs sign the documents they share with recent windows once; lookups may pass it by
    the last prefetch's keys, which they are about to ask for. So it holds at most ``max_entries`` plus one prefetch's or one lookup's keys.
    """

    def __init__(self, config: NearDupConfig, max_entries: int | None = None) -> None:
        self.config = config
        self.max_entries = max_entries
        self._room = 0  # distinct keys of the last prefetch: lookups may pass max_entries by that many
        self._memo: dict[Hashable, tuple[np.ndarray, int, np.ndarray | None]] = {}
        self._tokens = TokenHashes()

    def _missing(self, keys: Sequence[Hashable], positives: bool = False, room: int = 0) -> list[Hashable]:
        """The distinct ``keys`` to compute, after emptying the memo when adding them would pass ``max_entries``
        (plus ``room``)."""
        wanted = dict.fromkeys(keys)
        missing = [k for k in wanted if k not in self._memo or (positives and self._lacks_exact(k))]
        limit = None if self.max_entries is None else self.max_entries + room
        if missing and limit is not None and len(self._memo) + len(missing) > limit:
            self._evict(len(self._memo) + len(missing) - limit * 3 // 4, wanted)
        return missing

    def _evict(self, count: int, wanted: dict) -> None:
        """Drop up to ``count`` entries that ``wanted`` does not ask for, oldest first (to a quarter below the
        bound, so evictions stay rare and cost O(memo) each)."""
        kept = {}
        for key, value in self._memo.items():
            if count > 0 and key not in wanted:
                count -= 1
                continue
            kept[key] = value
        self._memo = kept

    def lookup(self, keys: Sequence[Hashable], text_of: Callable[[Hashable], str], positives: bool = False) -> Signatures:
        missing = self._missing(keys, positives, self._room)
        if missing:
            keep = np.iinfo(np.int64).max if positives else self.config.num_perm
            fresh = signatures([text_of(k) for k in missing], self.config.shingle, self.config.num_perm, keep,
                               self._tokens)
            self._store(missing, fresh)
        values = np.stack([self._memo[k][0] for k in keys]) if keys else np.empty((0, self.config.num_perm), np.uint32)
        sizes = np.asarray([self._memo[k][1] for k in keys], dtype=np.int64)
        return Signatures(values, sizes, tuple(self._memo[k][2] for k in keys))

    def _store(self, keys: Sequence[Hashable], fresh: Signatures) -> None:
        for i, key in enumerate(keys):
            self._memo[key] = (fresh.values[i], int(fresh.sizes[i]), fresh.exact[i])

    def prefetch(
        self, keys: Sequence[Hashable], text_of: Callable[[Hashable], str], workers: int, show_progress: bool = False
    ) -> int:
        """Compute the signatures of the ``keys`` not memoised yet, in ``workers`` processes when there are at
        least :data:`PARALLEL_MIN` of them (below that, process start-up costs more than it saves; the
        lookups compute them as they come); returns how many were computed here. Lookups afterwards find
        them, with the values a lookup would have computed."""
        self._room = len(dict.fromkeys(keys))
        missing = [k for k in dict.fromkeys(keys) if k not in self._memo]
        if workers <= 1 or len(missing) < PARALLEL_MIN:
            return 0
        missing = self._missing(keys)
        from negmine.progress import progress_bar

        starts = range(0, len(missing), PARALLEL_CHUNK)
        texts = ([text_of(k) for k in missing[i : i + PARALLEL_CHUNK]] for i in starts)
        done = parallel_signatures(texts, self.config.shingle, self.config.num_perm, self.config.num_perm, workers)
        with progress_bar(total=len(starts), desc="near-dup signatures", show=show_progress) as bar:
            for start, fresh in zip(starts, done, strict=True):  # strict: reads `done` to its end (pool closed)
                self._store(missing[start : start + PARALLEL_CHUNK], fresh)
                bar.update()
        return len(missing)

    def _lacks_exact(self, key: Hashable) -> bool:
        return self._memo[key][2] is None and self._memo[key][1] > 0

    def for_texts(self, texts: Sequence[str], positives: bool = False) -> Signatures:
        keys = [text_key(t) for t in texts]
        by_key = dict(zip(keys, texts))
        return self.lookup(keys, by_key.__getitem__, positives)

    def prefetch_texts(self, texts: Sequence[str], workers: int) -> int:
        """:meth:`prefetch` for texts keyed as :meth:`for_texts` keys them."""
        by_key = {text_key(t): t for t in texts}
        return self.prefetch(list(by_key), by_key.__getitem__, workers)


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def center(vectors: np.ndarray, mean: np.ndarray | None) -> np.ndarray:
    """``(v - mean) / ||v - mean||`` row-wise in float64 (just float64 rows when ``mean`` is None)."""
    out = np.asarray(vectors, dtype=np.float64)
    if mean is None:
        return out
    out = out - np.asarray(mean, dtype=np.float64)[None, :]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def mean_vector(vectors: np.ndarray, block: int = 65536) -> np.ndarray:
    """Mean row of a (possibly memory-mapped) matrix, accumulated block by block in float64 (numpy casts in small
    buffers: no float64 copy of a block, which at 65,536 rows x 384 dimensions took 192 MiB)."""
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for start in range(0, vectors.shape[0], block):
        total += np.asarray(vectors[start : start + block]).sum(axis=0, dtype=np.float64)
    return total / max(vectors.shape[0], 1)


def max_cosine(candidates: np.ndarray, positives: np.ndarray, mean: np.ndarray | None = None) -> np.ndarray:
    """Row-wise max over positives of the (mean-centred when ``mean`` is given) cosine, float64."""
    if candidates.shape[0] == 0 or positives.shape[0] == 0:
        return np.full(candidates.shape[0], np.nan)
    return (center(candidates, mean) @ center(positives, mean).T).max(axis=1)


def max_overlap(candidates: Signatures, positives: Signatures, min_shared: int = 0) -> np.ndarray:
    """Per candidate, ``max_p max(J(c, p), C(c, p))`` over the positives sharing at least ``min_shared``
    shingles with it (others count 0: two short texts differing in one word are not copies)."""
    best = np.zeros(candidates.values.shape[0], dtype=np.float64)
    for p in range(positives.values.shape[0]):
        j, cont, inter = overlap(candidates, positives, p)
        score = np.maximum(j, cont)
        score[np.rint(inter) < min_shared] = 0.0
        best = np.maximum(best, score)
    return best


def near_duplicates(
    config: NearDupConfig,
    n: int,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
    sigs: tuple[Signatures, Signatures] | None = None,
    mean: np.ndarray | None = None,
) -> NearDupEvidence:
    """Flag near-duplicates among ``n`` candidates. ``vectors``/``sigs`` are (candidates, positives) pairs;
    ``mean`` is the corpus mean embedding cosines are centred on (None: raw cosines)."""
    cos = np.full(n, np.nan)
    over = np.full(n, np.nan)
    flags = np.zeros(n, dtype=bool)
    if config.cosine is not None and vectors is not None:
        cos = max_cosine(*vectors, mean=mean)
        flags |= np.nan_to_num(cos, nan=-np.inf) >= config.cosine
    if config.overlap is not None and sigs is not None:
        over = max_overlap(*sigs, min_shared=config.min_shared)
        flags |= over >= config.overlap
    return NearDupEvidence(cos, over, flags)


def near_dup_reason(config: NearDupConfig, cosine: float, overlap: float) -> str:
    """Why one candidate was flagged, e.g. ``"cosine 0.953 to a positive >= 0.9"``."""
    parts = []
    if config.cosine is not None and not np.isnan(cosine) and cosine >= config.cosine:
        parts.append(f"centred cosine {cosine:.3f} to a positive >= {config.cosine:g}")
    if config.overlap is not None and not np.isnan(overlap) and overlap >= config.overlap:
        parts.append(f"shingle overlap {overlap:.2f} with a positive >= {config.overlap:g}")
    return "near-duplicate of a positive: " + "; ".join(parts) if parts else ""
