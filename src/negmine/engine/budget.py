"""Shard sizes from a memory budget.

Peak memory of a sharded run is about ``RESERVE`` (interpreter, libraries, model) + ``64 n_docs`` bytes
(per-document bookkeeping: text keys, dedupe plan, duplicate index) + ``36 n_queries depth`` (running,
shard and merged top-k lists) + ``4 n_queries dim`` (query vectors) + ``row_bytes x shard_rows``: one corpus shard read into memory
plus the same again for FAISS's and the merge's working memory (``8 dim``), plus a copy of the vectors
and graph links for an IVF / HNSW index (``12 dim + 256``; IVF-PQ keeps only codes: ``8 dim``).
The search shard takes what the budget leaves; the texts themselves are the caller's and not counted.

A sharded BM25 index (:mod:`negmine.retrieve.bm25_sharded`) holds one shard's index while it is searched,
``BM25_BYTES_PER_DOC`` per document at its peak, plus that shard's top-k lists (``12 n_queries depth``); local
worker processes search several shards at once, so the budget, or without one the memory the machine has
left, caps how many (:func:`bm25_layout`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

from negmine.config import EngineConfig, parse_size
from negmine.config_path import path_option
from negmine.errors import ConfigError, counted

RESERVE = 1 << 30
MIN_SHARD_ROWS = 1024
BM25_BYTES_PER_DOC = 1100  # peak while bm25s builds a shard's index (short documents; see RetrieveConfig)


def row_bytes(dim: int, index: str = "flat") -> int:
    """Working bytes per corpus row of a shard being searched with ``index``."""
    return 12 * dim + 256 if index in ("ivf", "hnsw") else 8 * dim


def budget_shard_rows(budget: int, n_docs: int, dim: int, n_queries: int, depth: int, index: str = "flat") -> int:
    """Rows per search shard that keep the estimated peak within ``budget`` bytes. A budget too small names the
    field at its path in the run's config (:func:`negmine.config_path.path_option`: ``engine.memory_budget`` in a
    MineConfig, ``mine.engine.memory_budget`` in a TrainConfig's re-mining)."""
    fixed = RESERVE + 64 * n_docs + 36 * n_queries * depth + 4 * n_queries * dim
    rows = (budget - fixed) // row_bytes(dim, index)
    smallest = min(MIN_SHARD_ROWS, n_docs)  # a corpus below MIN_SHARD_ROWS needs room for itself only
    if rows < smallest:
        need_mib = -(-(fixed + row_bytes(dim, index) * smallest) // 2**20)  # rounded up: the advice must pass
        raise ConfigError(
            f"memory budget {budget / 2**30:.2f} GiB is too small for {counted(n_docs, 'document')} x "
            f"{counted(n_queries, 'query', 'queries')} "
            f"(dim {dim}, depth {depth}); raise {path_option('memory_budget')} to at least {need_mib}M"
        )
    return int(rows)


def search_shard_rows(
    config: EngineConfig, default: int, n_docs: int, dim: int, n_queries: int, depth: int,
    workers: int | Callable[[], int] = 1,
) -> int:
    """``config.shard_size`` if set, else the budget's shard size, else ``default``; never more than ``n_docs``.

    ``workers`` shards are searched at once on one machine (Ray actors), so the budget's shard shrinks
    by that factor (the fixed costs are counted once, which over-estimates nothing). A callable is asked only
    then: finding the Ray actor pool's size starts Ray.
    """
    if config.shard_size is not None:
        rows = config.shard_size
    elif config.memory_budget is not None:
        budget = parse_size(config.memory_budget)
        workers = workers() if callable(workers) else workers
        rows = budget_shard_rows(budget, n_docs, dim, n_queries, depth, config.index) // max(1, workers)
    else:
        rows = default
    return max(1, min(rows, n_docs))


class BM25Layout(NamedTuple):
    """How a BM25 index is laid out: documents per shard and shards searched at once in local processes."""

    shard_size: int
    search_workers: int


PARALLEL_BM25_MIN = 100_000
"""From this many documents, ``--workers`` > 1 splits a corpus that fits one BM25 shard into one shard per
worker: each process builds and searches a part (same bits, see :mod:`negmine.retrieve.bm25_sharded`), so the
index build and the search, which are one process for a single index, run in parallel at no extra memory."""


def bm25_layout(config: EngineConfig, shard_size: int, n_docs: int, n_queries: int, depth: int) -> BM25Layout:
    """Shard size and local search processes for BM25 over ``n_docs`` documents.

    ``shard_size`` (``--bm25-shard-size``) bounds a shard; with ``config``'s workers > 1 and at least
    :data:`PARALLEL_BM25_MIN` documents, shards shrink to one per worker. Shards searched at once:
    :func:`bm25_searchers`."""
    workers = config.resolved_workers()
    if workers > 1 and n_docs >= PARALLEL_BM25_MIN:
        shard_size = min(shard_size, -(-n_docs // workers))
    return BM25Layout(shard_size, bm25_searchers(config, shard_size, n_docs, n_queries, depth))


def bm25_searchers(config: EngineConfig, shard_size: int, n_docs: int, n_queries: int, depth: int) -> int:
    """Shards of ``shard_size`` searched at once in local processes: the workers, at most one per shard, and
    no more than memory holds, each needing a shard's index at its peak plus its top-k lists: with
    ``memory_budget`` set, what the budget leaves after ``RESERVE``; else what :func:`available_memory` says
    the machine (or container) can still give. At least 1."""
    shards = -(-n_docs // shard_size)
    searchers = min(config.resolved_workers(), max(1, shards))
    each = BM25_BYTES_PER_DOC * min(shard_size, n_docs) + 12 * n_queries * depth
    if config.memory_budget is not None:
        room = parse_size(config.memory_budget) - RESERVE
    else:
        room = available_memory()  # new processes: this one's own memory is already spent
    if room is not None:
        searchers = max(1, min(searchers, room // each))
    return searchers


def available_memory(proc: Path = Path("/proc"), cgroup: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes the machine can still give new processes: the kernel's ``MemAvailable``, capped by the room left
    under a container's cgroup memory limit (v2 ``memory.max``, v1 ``memory.limit_in_bytes``); None where
    neither is readable (not Linux), and then nothing is capped."""
    values = [v for v in (_mem_available(proc / "meminfo"), _cgroup_room(cgroup)) if v is not None]
    return min(values) if values else None


def _mem_available(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room(root: Path) -> int | None:
    for limit_name, usage_name in (("memory.max", "memory.current"),  # cgroup v2
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):  # v1
        try:
            limit = (root / limit_name).read_text().strip()
            usage = int((root / usage_name).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:  # no limit (v1 writes a huge number)
            return None
        return max(0, int(limit) - usage)
    return None
