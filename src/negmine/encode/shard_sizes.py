"""The vector size of an embedding-cache folder when the caller does not know its model's: the one most of its files
give.

A shelf told the model's size (``EmbeddingCache.shelf(..., dim=...)``) checks its shards against it, and a
``meta.json`` recording another size is taken for edited or damaged: it only records the size. Without a size
(``EmbeddingCache.get`` or ``put`` called directly, the audit's cross-encoder score cache) the shards were checked
against ``meta.json``: one edited to another size made every shard of the folder count as damaged, removed and
encoded again. The shards are the better witness: each complete one and ``meta.json`` give one vote (a shard's size
read from its ``.npy`` header, a few hundred bytes), the size with the most votes wins and ``meta.json`` wins a tie
(one shard against the file: which of the two was damaged cannot be told, and encoding one shard again is the safe
side, as before).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Callable, Iterable


def most_held_size(vector_files: Iterable[Path], recorded: int | None,
                   read_shape: Callable[[Path], tuple[int, int]]) -> tuple[int | None, int]:
    """``(size, shards)``: the vector size most of ``vector_files`` (complete shards' ``.vecs.npy``) and
    ``recorded`` (``meta.json``'s size, None when unreadable or missing) give, ``recorded`` winning a tie (else the
    first file's size among those tied: the size the lowest shard set before), and how many shards hold it;
    ``(None, 0)`` when neither gives one. A file ``read_shape`` refuses has no vote (the shard is found damaged when
    read)."""
    votes: Counter = Counter()
    for path in vector_files:
        try:
            votes[read_shape(path)[1]] += 1
        except (ValueError, EOFError, OSError):
            continue
    shards = dict(votes)
    if recorded is not None:
        votes[recorded] += 1
    if not votes:
        return None, 0
    best = max(votes.values())
    size = recorded if votes.get(recorded) == best else next(s for s, n in votes.items() if n == best)
    return size, shards.get(size, 0)
