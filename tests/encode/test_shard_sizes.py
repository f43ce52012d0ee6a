"""The vector size of a cache folder told no model size: the one most of its shards and meta.json give."""

from __future__ import annotations

from pathlib import Path

import pytest

from negmine.encode.shard_sizes import most_held_size


def _shapes(sizes: dict[str, int | None]):
    """Paths named by their size, and a reader giving ``(1, size)`` (None: a file it refuses)."""
    def read(path: Path) -> tuple[int, int]:
        size = sizes[path.name]
        if size is None:
            raise ValueError("cut short")
        return 1, size

    return [Path(name) for name in sizes], read


@pytest.mark.parametrize("sizes, recorded, expected", [
    ({"0": 4, "1": 4}, 16, (4, 2)),  # two shards against meta.json: it was edited
    ({"0": 4}, 16, (16, 0)),  # one against one: meta.json wins the tie (the shard is encoded again)
    ({"0": 4, "1": 5}, 5, (5, 1)),  # mixed shards: meta.json decides between them
    ({"0": 4, "1": 5}, None, (4, 1)),  # no meta.json, a tie: the lowest shard's size, as before
    ({"0": 5, "1": 4, "2": 4}, None, (4, 2)),
    ({"0": None, "1": 4}, 16, (16, 0)),  # an unreadable shard has no vote
    ({}, 8, (8, 0)),
    ({}, None, (None, 0)),
])
def test_the_size_most_files_give_wins_and_meta_json_wins_a_tie(sizes, recorded, expected):
    paths, read = _shapes(sizes)
    assert most_held_size(paths, recorded, read) == expected
