"""Separate the rows of a batch that share a text by swapping rows between batches (topic batching's
no-duplicates repair, :mod:`negmine.train.samplers.topic`).

Each batch in turn, each row that shares a text (:func:`negmine.train.samplers.row_texts.clashes`) with a row
before it in its batch is swapped with a row of another batch, so that neither one shares a text with its new
batch: with a row of the same cluster, so that every batch keeps its clusters; else, when the cut filled the row's
batch with several clusters (from the clusters' pooled leftovers), with a row of another such batch. A batch of one
cluster never takes a row of another: topic purity, the point of TAS-B, comes first. (Swapping with any batch
removed every repeat on SciFact train but left 0-16% of the rows in single-cluster batches instead of 77-83%, at
batch 32, 3 epochs, mined densely and with BM25: within a cluster, similar queries share many mined negatives.)
Candidates are tried in batch order, the batch's rows in order, so the result depends on the batches alone.
Each swap removes a clash and adds none; a row that no swap frees stays where it is and repeats a text (e.g. a
query with more positives than its cluster has batches, or a negative shared by more of a cluster's rows than
that). Batch count and sizes never change, nor does the set of rows.
"""

from __future__ import annotations

from typing import Sequence

from negmine.train.samplers.row_texts import Values, clashes


def swap_clashing_rows(batches: list[list[int]], values: Values, topics: Sequence[int]) -> int:
    """Repair ``batches`` in place (see the module docstring); returns the rows left sharing a text in their batch."""
    where = {row: k for k, batch in enumerate(batches) for row in batch}
    members: dict[int, list[int]] = {}
    for row in where:
        members.setdefault(int(topics[row]), []).append(row)
    mixed = dict.fromkeys(o for o, batch in enumerate(batches) if len({int(topics[row]) for row in batch}) > 1)
    left = 0
    for k, batch in enumerate(batches):
        if not _repeats_a_text(batch, values):
            continue
        for i, row in enumerate(batch):
            if clashes(row, batch[:i], values):
                left += not _swap_out(k, i, batches, values, topics, members, where, mixed)
    return left


def _repeats_a_text(batch: list[int], values: Values) -> bool:
    texts = [values[row] for row in batch]
    return len(set().union(*texts)) < sum(len(t) for t in texts)


def _swap_out(k: int, i: int, batches: list[list[int]], values: Values, topics: Sequence[int],
              members: dict[int, list[int]], where: dict[int, int], mixed: dict[int, None]) -> bool:
    """Swap ``batches[k][i]`` with a row of another batch that frees both (same cluster first, else between two
    of the ``mixed`` batches, those the cut filled with several clusters); False if none."""
    batch, row = batches[k], batches[k][i]
    rest = batch[:i] + batch[i + 1:]
    topic = int(topics[row])
    same_cluster = sorted({where[m] for m in members[topic]} - {k})
    others = mixed if k in mixed else {}
    for candidates, wanted in ((same_cluster, topic), (others, None)):
        for o in candidates:
            other = batches[o]
            for j in _room(row, other, values) if o != k else ():
                partner = other[j]
                if (wanted is None or int(topics[partner]) == wanted) and not clashes(partner, rest, values):
                    batch[i], other[j] = partner, row
                    where[partner], where[row] = k, o
                    return True
    return False


def _room(row: int, batch: list[int], values: Values) -> list[int]:
    """Positions in ``batch`` whose row, taken out, lets ``row`` in without a shared text."""
    clashing = clashes(row, batch, values)
    if len(clashing) > 1:
        return []
    return [batch.index(clashing[0])] if clashing else list(range(len(batch)))
