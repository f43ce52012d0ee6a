"""The local engine: tasks run one after another in this process, items consumed lazily (bounded memory)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from negmine.engine.base import Setup, Task


class LocalEngine:
    name = "local"
    workers = 1

    def map(self, setup: Setup, task: Task, items: Iterable[tuple[int, Any]], desc: str = "") -> Iterator[tuple[int, Any]]:
        """Build the state once, then run ``task`` on each item in order."""
        state, built = None, False
        for key, payload in items:
            if not built:  # a flag, not ``state is None``: a setup may return None and must still run once
                state, built = setup(), True
            yield key, task(state, payload)

    def close(self) -> None:
        return None
