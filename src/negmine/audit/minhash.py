"""Word-shingle MinHash signatures: near-copy detection in O(num_perm) per document pair.

Each text becomes its set S of word w-shingles (w consecutive words of :func:`normalize_text`, split by
:func:`negmine.retrieve.bm25_words.units`: combining marks stay in their word, zero-width and other format
characters are dropped, and each character of Chinese, Japanese, Thai and the other scripts written without
spaces is a word, so their shingles are character w-grams; texts shorter than w give their single shingle of
all words). With ``num_perm`` independent hash functions
h_i, the signature is ``sig_i = min_{s in S} h_i(s)`` and ``P[sig_i(A) = sig_i(B)] = J(A, B)`` (Broder 1997),
so the share of equal entries estimates the Jaccard similarity. The hash family is multiply-shift
(Dietzfelbinger et al. 1997) with seeded odd multipliers over 64-bit shingle hashes: each distinct token is
hashed once per call with 64-bit BLAKE2b, a shingle's tokens t_1..t_w are folded as a polynomial
``(..(t_1 P + t_2) P + ..) + t_w mod 2^64`` and mixed by the splitmix64 finaliser (Steele et al. 2014), all
vectorised over the text's tokens. Deterministic across processes and machines. Containment of A in B follows from J and the set sizes:
``|A ∩ B| = J (|A| + |B|) / (1 + J)``, ``C(A, B) = |A ∩ B| / |A|``.

The estimate's absolute error is about ``1 / sqrt(num_perm)``, far too coarse for a small set inside a
large one (a 10-shingle title in a 250-shingle abstract has J = 0.04). So texts with at most
``keep_exact`` shingles also keep their exact hashed shingle set, and :func:`overlap` computes exact
Jaccard, containment and intersection whenever both sides have one (positives always keep theirs).
"""

from __future__ import annotations

import hashlib
from typing import Iterator, NamedTuple, Sequence

import numpy as np

from negmine.retrieve.bm25_words import units
from negmine.select.exclude import normalize_text
_SEED = 1_000_003


class Signatures(NamedTuple):
    """``values[i]`` is text i's MinHash signature (uint32), ``sizes[i]`` its number of distinct shingles,
    ``exact[i]`` its sorted hashed shingles (uint64) when kept, else None (``exact`` may be empty)."""

    values: np.ndarray  # uint32, (n, num_perm)
    sizes: np.ndarray  # int64, (n,)
    exact: tuple = ()

    def exact_set(self, i: int) -> np.ndarray | None:
        return self.exact[i] if i < len(self.exact) else None


def shingles(text: str, width: int = 3) -> set[str]:
    """Distinct word ``width``-grams of the normalised text (one shingle for shorter texts, none if empty): the
    set :func:`shingle_hashes` hashes, as strings (the readable definition; the hashing path never builds it)."""
    tokens = units(normalize_text(text))
    if not tokens:
        return set()
    if len(tokens) < width:
        return {" ".join(tokens)}
    return {" ".join(tokens[i : i + width]) for i in range(len(tokens) - width + 1)}


_POLY = np.uint64(0x9E3779B97F4A7C15)  # odd base of the token polynomial (2^64 / golden ratio)


class TokenHashes(dict):
    """token -> 64-bit BLAKE2b value, computed on first use and memoised; the memo is emptied when it holds
    ``max_size`` tokens, so memory stays bounded on any vocabulary (~30 MB at the default 200k tokens, token
    strings included; values never depend on the memo)."""

    def __init__(self, max_size: int = 200_000) -> None:
        super().__init__()
        self.max_size = max_size

    def __missing__(self, token: str) -> int:
        if len(self) >= self.max_size:
            self.clear()
        value = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
        self[token] = value
        return value


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def shingle_hashes(text: str, width: int = 3, token_hashes: TokenHashes | None = None) -> np.ndarray:
    """Sorted distinct 64-bit hashes of :func:`shingles` ``(text, width)``, one per shingle (uint64);
    ``token_hashes`` memoises token hashes across calls."""
    tokens = units(normalize_text(text))
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    table = TokenHashes() if token_hashes is None else token_hashes
    values = np.fromiter(map(table.__getitem__, tokens), dtype=np.uint64, count=len(tokens))
    span = min(width, len(tokens))
    count = len(tokens) - span + 1
    folded = values[:count].copy()
    with np.errstate(over="ignore"):
        for k in range(1, span):
            folded = folded * _POLY + values[k : k + count]
        return np.unique(_splitmix64(folded))


def _multipliers(num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_SEED)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


def signatures(
    texts: Sequence[str], width: int = 3, num_perm: int = 64, keep_exact: int = 0, token_hashes: TokenHashes | None = None
) -> Signatures:
    """MinHash signatures of ``texts`` (an empty text gets all-max values and size 0); the exact hashed
    shingle set is kept for texts with at most ``keep_exact`` shingles. Pass one ``token_hashes`` to many
    calls to hash each token once."""
    a, b = _multipliers(num_perm)
    values = np.full((len(texts), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    sizes = np.zeros(len(texts), dtype=np.int64)
    exact: list[np.ndarray | None] = []
    table = TokenHashes() if token_hashes is None else token_hashes
    with np.errstate(over="ignore"):
        for row, text in enumerate(texts):
            hashed = shingle_hashes(text, width, table)
            sizes[row] = hashed.size
            exact.append(hashed if hashed.size <= keep_exact else None)
            if hashed.size:
                mixed = (hashed[:, None] * a[None, :] + b[None, :]) >> np.uint64(32)  # multiply-shift, mod 2^64
                values[row] = mixed.min(axis=0).astype(np.uint32)
    return Signatures(values, sizes, tuple(exact))


_WORKER_TOKENS: TokenHashes | None = None  # one token memo per worker process (parallel_signatures)


def _signature_chunk(args: tuple[list[str], int, int, int]) -> Signatures:
    global _WORKER_TOKENS
    if _WORKER_TOKENS is None:
        _WORKER_TOKENS = TokenHashes()
    texts, width, num_perm, keep_exact = args
    return signatures(texts, width, num_perm, keep_exact, _WORKER_TOKENS)


def parallel_signatures(
    chunks: Iterator[list[str]], width: int = 3, num_perm: int = 64, keep_exact: int = 0, workers: int = 2
) -> Iterator[Signatures]:
    """:func:`signatures` of each chunk of texts, computed in ``workers`` processes, yielded in chunk order
    (identical values: the hash family depends on nothing but the seed; see
    :func:`negmine.engine.processes.ordered_process_map`)."""
    from negmine.engine.processes import ordered_process_map

    return ordered_process_map(_signature_chunk, ((c, width, num_perm, keep_exact) for c in chunks), workers)


def jaccard(candidates: Signatures, reference: Signatures, ref_row: int = 0) -> np.ndarray:
    """Estimated Jaccard of every candidate with ``reference[ref_row]``; 0 when either set is empty."""
    equal = (candidates.values == reference.values[ref_row][None, :]).mean(axis=1)
    empty = (candidates.sizes == 0) | (reference.sizes[ref_row] == 0)
    return np.where(empty, 0.0, equal).astype(np.float64)


def intersection(candidates: Signatures, reference: Signatures, ref_row: int = 0) -> np.ndarray:
    """Estimated number of shingles each candidate shares with ``reference[ref_row]``."""
    j = jaccard(candidates, reference, ref_row)
    return j * (candidates.sizes.astype(np.float64) + float(reference.sizes[ref_row])) / (1.0 + j)


def containment(candidates: Signatures, reference: Signatures, ref_row: int = 0) -> np.ndarray:
    """Estimated share of each candidate's shingles found in ``reference[ref_row]`` (clipped to [0, 1])."""
    inter = intersection(candidates, reference, ref_row)
    sizes = candidates.sizes.astype(np.float64)
    return np.clip(np.divide(inter, sizes, out=np.zeros_like(inter), where=sizes > 0), 0.0, 1.0)


def overlap(candidates: Signatures, reference: Signatures, ref_row: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(jaccard, containment, intersection)`` of every candidate with ``reference[ref_row]``: exact where
    both shingle sets are kept, MinHash estimates otherwise."""
    j = jaccard(candidates, reference, ref_row)
    inter = intersection(candidates, reference, ref_row)
    ref_set = reference.exact_set(ref_row)
    if ref_set is not None:
        rows, shared, own_sizes = exact_intersections(candidates, ref_set)
        inter[rows] = shared
        j[rows] = shared / (own_sizes + ref_set.size - shared)
    sizes = candidates.sizes.astype(np.float64)
    cont = np.clip(np.divide(inter, sizes, out=np.zeros_like(inter), where=sizes > 0), 0.0, 1.0)
    return j, cont, inter


def exact_intersections(candidates: Signatures, ref_set: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, shared, sizes)``: the candidates whose shingle set is kept and not empty, how many shingles each
    shares with ``ref_set`` (exact counts) and its set's size. One ``np.isin`` over the candidates' sets laid end
    to end, counted per candidate, instead of one ``np.intersect1d`` per candidate: the same integers, and
    the per-call overhead of 100 candidates per pair was most of the near-duplicate check's time (measured on
    ``scale_synthetic.py``'s 10k pairs: 990,000 calls, 3.3 s of a 12.7 s hook)."""
    kept = [(i, candidates.exact_set(i)) for i in range(len(candidates.sizes))]
    kept = [(i, own) for i, own in kept if own is not None and own.size]
    if not kept:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.astype(np.float64), empty.astype(np.float64)
    rows = np.fromiter((i for i, _ in kept), dtype=np.int64, count=len(kept))
    sizes = np.fromiter((own.size for _, own in kept), dtype=np.int64, count=len(kept))
    hits = np.isin(np.concatenate([own for _, own in kept]), ref_set)
    shared = np.bincount(np.repeat(np.arange(len(kept)), sizes), weights=hits, minlength=len(kept))
    return rows, shared, sizes.astype(np.float64)
