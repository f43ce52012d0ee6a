"""Ordered map over local worker processes, for CPU-bound per-document work that is pure Python.

Used where the work is independent per chunk of documents and a thread pool would be held by the GIL
(MinHash signatures, BM25 tokenisation). Workers come from a fresh interpreter (``forkserver``, or ``spawn``
where there is none), never a fork of a process that may hold torch / OpenMP threads; results come back in
input order whatever the order in which workers finish, so callers stay deterministic.
"""

from __future__ import annotations

from collections import deque
from typing import Callable, Iterable, Iterator, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def ordered_process_map(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``function(item)`` for each item, computed in ``workers`` processes and yielded in input order.

    Items are read as results are taken, at most ``2 * workers`` ahead, so memory stays bounded by the chunk
    size whatever the input length. ``function`` must be importable (a module-level function) and items and
    results picklable."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")  # spawn: Windows
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
