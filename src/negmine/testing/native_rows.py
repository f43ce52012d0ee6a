"""Small native mined files for tests: one row per (query, positive) pair with made-up texts, so an export or
reader test states only the ids and scores it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence


def pair_row(qid: str, pid: str, pscore: float, negatives: Sequence[tuple[str, float]], **extra):
    """A native row of query ``qid`` ("query <qid>") with positive ``pid`` ("text <pid>") scored ``pscore``;
    ``negatives`` are (id, score) pairs ("text <id>", ranks from 2); ``extra`` goes to
    :func:`negmine.export.native.make_row` (e.g. ``negative_flags``)."""
    from negmine.export.native import make_row

    return make_row(query_id=qid, query=f"query {qid}", positive_id=pid, positive=f"text {pid}", positive_score=pscore,
                    negative_ids=[d for d, _ in negatives], negatives=[f"text {d}" for d, _ in negatives],
                    negative_scores=[s for _, s in negatives], negative_ranks=list(range(2, 2 + len(negatives))),
                    **extra)


def write_native(path: str | Path, rows) -> Path:
    """``rows`` as a native JSONL file at ``path`` (returned)."""
    from negmine.export.native import dumps_row

    path = Path(path)
    path.write_text("".join(dumps_row(r) for r in rows), encoding="utf-8")
    return path
