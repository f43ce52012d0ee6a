"""A native file's rows grouped by query, streamed: for formats with one record per query (FlagEmbedding's).

A query with several positives has one native row per positive. Mining writes them next to each other, but a file
edited or concatenated by hand may not, so a first pass counts each query's rows and the second holds a query's
rows only until its last one is read: memory stays one query's rows for a file in mining order.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterator

from negmine.export.native import NativeRow, read_native


def rows_by_query(native_path: str | Path) -> Iterator[list[NativeRow]]:
    """Each query's rows (in file order), once its last row is read; queries in the order they complete."""
    remaining = Counter(row["query_id"] for row in read_native(native_path, warn_repeats=False))
    pending: dict[str, list[NativeRow]] = {}
    for row in read_native(native_path):
        qid = row["query_id"]
        pending.setdefault(qid, []).append(row)
        remaining[qid] -= 1
        if remaining[qid] == 0:
            yield pending.pop(qid)
    yield from pending.values()  # only if the file changed between the passes
