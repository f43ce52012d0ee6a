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
Such a swap removes a clash and adds none. Where none exists, the row is swapped, under the same rules, with the first
row that fits in its batch without a shared text when the other batch then gains fewer rows sharing a text than the
row's batch loses (the rows sharing a text with a batch mate in the two batches fall; on SciFact train, batch 32,
seeds 42, 1, 2, 5 epochs: 2,687 such rows in all -> 2,262, batches with a repeated text 263 -> 219; the sampler
0.02-0.17 -> 0.09-0.15 s per epoch). A row that no swap frees or helps stays where it is and repeats a text (e.g. a
query with more positives than its cluster has batches, or a negative shared by more of a cluster's rows than that).
Batch count and sizes never change, nor does the set of rows.
"""

from __future__ import annotations

from collections import Counter
from typing import AbstractSet, Sequence

from negmine.train.samplers.row_texts import Values, clashes


def swap_clashing_rows(batches: list[list[int]], values: Values, topics: Sequence[int]) -> int:
    """Repair ``batches`` in place (see the module docstring); returns the rows left sharing a text with a row before
    them in their batch."""
    where = {row: k for k, batch in enumerate(batches) for row in batch}
    members: dict[int, list[int]] = {}
    for row in where:
        members.setdefault(int(topics[row]), []).append(row)
    mixed = dict.fromkeys(o for o, batch in enumerate(batches) if len({int(topics[row]) for row in batch}) > 1)
    for k, batch in enumerate(batches):
        if not _repeats_a_text(batch, values):
            continue
        for i, row in enumerate(batch):
            if clashes(row, batch[:i], values) and not _swap_out(k, i, batches, values, topics, members, where, mixed):
                _reduce_clashes(k, i, batches, values, topics, members, where, mixed)
    return sum(bool(clashes(row, batch[:i], values)) for batch in batches if _repeats_a_text(batch, values)
               for i, row in enumerate(batch))


def _repeats_a_text(batch: list[int], values: Values) -> bool:
    texts = [values[row] for row in batch]
    return len(set().union(*texts)) < sum(len(t) for t in texts)


def _candidates(k: int, row: int, topics: Sequence[int], members: dict[int, list[int]], where: dict[int, int],
                mixed: dict[int, None]) -> list[tuple[Sequence[int], int | None]]:
    """The batches ``batches[k][i] = row`` may swap with, each pass with the cluster its partner must be of (None:
    any): the batches holding the row's cluster, then, if batch ``k`` mixes clusters, the other ``mixed`` ones."""
    topic = int(topics[row])
    same_cluster = sorted({where[m] for m in members[topic]} - {k})
    return [(same_cluster, topic), (mixed if k in mixed else {}, None)]


def _swap_out(k: int, i: int, batches: list[list[int]], values: Values, topics: Sequence[int],
              members: dict[int, list[int]], where: dict[int, int], mixed: dict[int, None]) -> bool:
    """Swap ``batches[k][i]`` with a row of another batch that frees both (same cluster first, else between two
    of the ``mixed`` batches, those the cut filled with several clusters); False if none."""
    batch, row = batches[k], batches[k][i]
    rest = batch[:i] + batch[i + 1:]
    for candidates, wanted in _candidates(k, row, topics, members, where, mixed):
        for o in candidates:
            other = batches[o]
            for j in _room(row, other, values) if o != k else ():
                partner = other[j]
                if (wanted is None or int(topics[partner]) == wanted) and not clashes(partner, rest, values):
                    batch[i], other[j] = partner, row
                    where[partner], where[row] = k, o
                    return True
    return False


def _reduce_clashes(k: int, i: int, batches: list[list[int]], values: Values, topics: Sequence[int],
                    members: dict[int, list[int]], where: dict[int, int], mixed: dict[int, None]) -> bool:
    """Swap ``batches[k][i]`` with the first row :func:`_swap_out` may take that fits in its batch without a shared
    text and whose swap lowers the number of rows sharing a text with a batch mate in the two batches together;
    False if none."""
    batch, row = batches[k], batches[k][i]
    rest = [values[r] for r in batch[:i] + batch[i + 1:]]
    rest_texts, texts = set().union(*rest), values[row]
    freed = _clashing_rows([*rest, texts]) - _clashing_rows(rest)  # rows no longer clashing once the row leaves
    for candidates, wanted in _candidates(k, row, topics, members, where, mixed):
        for o in candidates:
            other = batches[o] if o != k else []
            there = [values[r] for r in other]
            clashing_there = _clashing_rows(there)
            for j, partner in enumerate(other):
                if (wanted is None or int(topics[partner]) == wanted) and rest_texts.isdisjoint(there[j]):
                    if _clashing_rows([*there[:j], texts, *there[j + 1:]]) - clashing_there < freed:
                        batch[i], other[j] = partner, row
                        where[partner], where[row] = k, o
                        return True
    return False


def _clashing_rows(texts: list[AbstractSet[int]]) -> int:
    """The number of rows (``texts``: each row's texts) sharing a text with another row."""
    counts = Counter(text for row_texts in texts for text in row_texts)
    return sum(any(counts[text] > 1 for text in row_texts) for row_texts in texts)


def _room(row: int, batch: list[int], values: Values) -> list[int]:
    """Positions in ``batch`` whose row, taken out, lets ``row`` in without a shared text."""
    clashing = clashes(row, batch, values)
    if len(clashing) > 1:
        return []
    return [batch.index(clashing[0])] if clashing else list(range(len(batch)))
