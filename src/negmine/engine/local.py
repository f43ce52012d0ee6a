"""The local engine: tasks run one after another in this process, items consumed lazily (bounded memory)."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from negmine.engine.base import Setup, Task


class LocalEngine:
    name = "local"
    workers = 1

    def map(self, setup: Setup, task: Task, items: Iterable[tuple[int, Any]], desc: str = "") -> Iterator[tuple[int, Any]]:
        """Build the state once, then run ``task`` on each item in order."""
        state = None
        for key, payload in items:
            if state is None:
                state = setup()
            yield key, task(state, payload)

    def close(self) -> None:
        return None
