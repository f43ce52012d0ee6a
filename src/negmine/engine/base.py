"""The engine interface: run one task over many shards, wherever the engine decides.

``setup()`` builds a worker's state once (e.g. loads the model); ``task(state, payload)`` processes one
shard. Both must be picklable (module-level functions or ``functools.partial`` of them) so a distributed
engine can ship them to workers. Results come back to the caller, who alone writes to disk.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Protocol

Setup = Callable[[], Any]
Task = Callable[[Any, Any], Any]


class Engine(Protocol):
    name: str
    workers: int  # tasks that run at the same time

    def map(self, setup: Setup, task: Task, items: Iterable[tuple[int, Any]], desc: str = "") -> Iterator[tuple[int, Any]]:
        """Yield ``(key, task(state, payload))`` for every ``(key, payload)`` in ``items``, in any order."""
        ...

    def close(self) -> None:
        """Release what the engine started (workers, a local cluster)."""
        ...
