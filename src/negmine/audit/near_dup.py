"""Near-duplicates of positives: embedding cosine and MinHash shingle overlap against every positive.

A candidate c is a near-duplicate of the query's positives P when

    max_p cos(e_c, e_p) >= cosine     or     max_p max(J(c, p), C(c, p)) >= overlap

with J the MinHash Jaccard estimate and C the containment of c's shingles in p (see :mod:`minhash`):
sentence subsets, truncations and title-only copies have high containment, reordered copies high
Jaccard, and re-encoded copies high cosine. Used by the default mining exclusion and the audit judge.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Hashable, NamedTuple, Sequence

import numpy as np

from negmine.audit.minhash import Signatures, containment, jaccard, signatures
from negmine.config import NearDupConfig


class NearDupEvidence(NamedTuple):
    """Per candidate: best cosine and best shingle overlap with any positive (NaN: not measured), and flags."""

    cosine: np.ndarray  # float64
    overlap: np.ndarray  # float64
    flags: np.ndarray  # bool


class SignatureMemo:
    """MinHash signatures computed once per key (corpus row or text digest) for the whole run."""

    def __init__(self, config: NearDupConfig) -> None:
        self.config = config
        self._memo: dict[Hashable, tuple[np.ndarray, int]] = {}

    def lookup(self, keys: Sequence[Hashable], text_of: Callable[[Hashable], str]) -> Signatures:
        missing = [k for k in dict.fromkeys(keys) if k not in self._memo]
        if missing:
            fresh = signatures([text_of(k) for k in missing], self.config.shingle, self.config.num_perm)
            for i, key in enumerate(missing):
                self._memo[key] = (fresh.values[i], int(fresh.sizes[i]))
        values = np.stack([self._memo[k][0] for k in keys]) if keys else np.empty((0, self.config.num_perm), np.uint32)
        return Signatures(values, np.asarray([self._memo[k][1] for k in keys], dtype=np.int64))

    def for_texts(self, texts: Sequence[str]) -> Signatures:
        keys = [hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts]
        by_key = dict(zip(keys, texts))
        return self.lookup(keys, by_key.__getitem__)


def max_cosine(candidates: np.ndarray, positives: np.ndarray) -> np.ndarray:
    """Row-wise max of ``candidates @ positives.T`` (L2-normalised rows), float64."""
    if candidates.shape[0] == 0 or positives.shape[0] == 0:
        return np.full(candidates.shape[0], np.nan)
    return (candidates.astype(np.float64) @ positives.astype(np.float64).T).max(axis=1)


def max_overlap(candidates: Signatures, positives: Signatures) -> np.ndarray:
    """Per candidate, ``max_p max(J(c, p), C(c, p))`` over the positives."""
    best = np.zeros(candidates.values.shape[0], dtype=np.float64)
    for p in range(positives.values.shape[0]):
        best = np.maximum(best, np.maximum(jaccard(candidates, positives, p), containment(candidates, positives, p)))
    return best


def near_duplicates(
    config: NearDupConfig,
    n: int,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
    sigs: tuple[Signatures, Signatures] | None = None,
) -> NearDupEvidence:
    """Flag near-duplicates among ``n`` candidates. ``vectors``/``sigs`` are (candidates, positives) pairs."""
    cos = np.full(n, np.nan)
    over = np.full(n, np.nan)
    flags = np.zeros(n, dtype=bool)
    if config.cosine is not None and vectors is not None:
        cos = max_cosine(*vectors)
        flags |= np.nan_to_num(cos, nan=-np.inf) >= config.cosine
    if config.overlap is not None and sigs is not None:
        over = max_overlap(*sigs)
        flags |= over >= config.overlap
    return NearDupEvidence(cos, over, flags)


def near_dup_reason(config: NearDupConfig, cosine: float, overlap: float) -> str:
    """Why one candidate was flagged, e.g. ``"cosine 0.953 to a positive >= 0.9"``."""
    parts = []
    if config.cosine is not None and not np.isnan(cosine) and cosine >= config.cosine:
        parts.append(f"cosine {cosine:.3f} to a positive >= {config.cosine:g}")
    if config.overlap is not None and not np.isnan(overlap) and overlap >= config.overlap:
        parts.append(f"shingle overlap {overlap:.2f} with a positive >= {config.overlap:g}")
    return "near-duplicate of a positive: " + "; ".join(parts) if parts else ""
