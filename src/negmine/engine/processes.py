"""Ordered map over local worker processes, for CPU-bound per-document work that is pure Python.

Used where the work is independent per chunk of documents and a thread pool would be held by the GIL
(MinHash signatures, BM25 tokenisation). Results come back in input order whatever the order in which
workers finish, so callers stay deterministic.

Workers are forked on Linux, as torch's DataLoader does: they run only negmine's own pure-Python and numpy
functions (no BLAS, torch or OpenMP calls that a fork of a threaded parent could deadlock in), start in
milliseconds, and never re-import the caller's ``__main__`` (so a script without an
``if __name__ == "__main__":`` guard, a notebook or ``python -`` works). Elsewhere they are spawned. If the pool
cannot start or breaks, the remaining items are computed in this process, with a warning: same results.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections import deque
from typing import Any, Callable, Iterable, Iterator, TypeVar

from negmine.errors import WorkerFallbackWarning, caller_stacklevel

T = TypeVar("T")
R = TypeVar("R")

_NOTHING = object()
_shared: Any = _NOTHING
"""In a worker process: the ``shared`` object of the map it serves (set as it starts; never in the caller)."""


def workers_fork() -> bool:
    """Whether :func:`ordered_process_map` forks its workers (Linux): a ``shared`` object then reaches them
    without a copy, its pages shared with this process until one side writes to them."""
    return sys.platform.startswith("linux")


def ordered_process_map(function: Callable[..., R], items: Iterable[T], workers: int,
                        shared: Any = _NOTHING) -> Iterator[R]:
    """``function(item)`` for each item, computed in ``workers`` processes and yielded in input order.

    Items are read as results are taken, at most ``2 * workers`` ahead, so memory stays bounded by the chunk
    size whatever the input length. ``function`` must be importable (a module-level function) and items and
    results picklable. With ``shared`` given, each call is ``function(shared, item)``: ``shared`` (e.g. an index
    every task searches) goes to each worker once as it starts, inherited where workers fork
    (:func:`workers_fork`), pickled once per worker where they are spawned, instead of with every task."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    context = multiprocessing.get_context("fork" if workers_fork() else "spawn")
    items = iter(items)
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker, initargs=(shared, os.getpid()))
    task = function if shared is _NOTHING else functools.partial(with_shared, function)  # run in a worker
    call = function if shared is _NOTHING else functools.partial(function, shared)  # run here, after a failure
    pending: deque = deque()
    try:
        for item in items:
            pending.append((item, None))  # kept for the fallback should submit find the pool broken
            pending[-1] = (item, pool.submit(task, item))
            if len(pending) >= 2 * workers:
                yield pending[0][1].result()
                pending.popleft()
        while pending:
            yield pending[0][1].result()
            pending.popleft()
    except BrokenProcessPool as err:
        warnings.warn(f"worker processes failed ({err}); computing the rest in this process (same results; "
                      "--workers 1 skips the attempt)", WorkerFallbackWarning, stacklevel=caller_stacklevel())
    except BaseException:  # Ctrl-C, an error, or a caller that stopped reading (GeneratorExit)
        if all(future is not None and future.done() for _, future in pending):
            pool.shutdown(wait=True)  # nothing left running (e.g. a zip that stopped after the last result)
        else:
            stop_workers(pool)
        raise
    pool.shutdown(wait=True)
    yield from (call(item) for item, _ in pending)  # empty unless the pool broke
    yield from (call(item) for item in items)


def start_worker(shared: Any, parent: int | None = None) -> None:
    """Run in each worker as it starts: keep ``shared`` for :func:`with_shared`, end with the ``parent`` process
    (:func:`die_with_parent`), and let SIGTERM end the worker again. A forked worker inherits the parent's Python
    signal handlers, and some turn SIGTERM into an exception (Ray's driver installs ``sys.exit`` on ``ray.init``
    and keeps it after ``ray.shutdown``): the worker would report that exception as its task's result and go on
    to the next queued task. SIGINT is ignored: Ctrl-C reaches the whole process group, and a worker that raised
    KeyboardInterrupt printed its own traceback under the run's (about one Ctrl-C in ten); the parent gets the
    KeyboardInterrupt and ends the workers with SIGTERM (:func:`stop_workers`)."""
    import signal

    global _shared
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        die_with_parent(parent)
    _shared = shared


def die_with_parent(parent: int) -> None:
    """Linux: have the kernel SIGKILL this worker when ``parent`` (the process that forked it) dies, and exit now
    if it is gone already. ``kill -9`` of a run, or the OOM killer, reaches the run's process only; its workers
    lived on, blocked on the task queue forever, and as they share the run's open files they held its output
    locks: every rerun was refused as if the killed run still wrote its outputs. Elsewhere: nothing (no
    ``prctl``; workers are spawned there and hold no lock of the parent)."""
    import os
    import signal

    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1  # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # died before the prctl: no signal will come
        os._exit(1)


def with_shared(function: Callable[..., R], item: Any) -> R:
    """A task in a worker: ``function(shared, item)`` with the worker's ``shared`` object."""
    return function(_shared, item)


def stop_workers(pool) -> None:
    """Drop the queued tasks and end the running ones now, instead of waiting for them: a Ctrl-C during a
    search of BM25 shards must not wait minutes for shards nobody will read. Returns once every worker has
    ended and been reaped."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
    else:
        for process in processes:
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():  # a task that blocks SIGTERM in C code: SIGKILL cannot be caught
            process.kill()
            process.join(timeout=5)
    if manager is not None:  # it reaps workers too: until it is done, one it reaped can still look alive here
        manager.join(timeout=5)
