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
seeds 42, 1, 2, 5 epochs: 2,687 such rows in all -> 2,262, batches with a repeated text 263 -> 219). A row that no
swap frees or helps stays where it is and repeats a text (e.g. a query with more positives than its cluster has
batches, or a negative shared by more of a cluster's rows than that). Batch count and sizes never change, nor does
the set of rows.

The pass compares texts as integer ids (:func:`text_ids`: one per distinct text hash, a ``(rows, columns)`` array,
4 bytes a text, made once per pass), a batch's rows at once with numpy, and the candidate batches a chunk at a time
(100,000 synthetic rows: 25 s an epoch when every look-up built a Python set of the row's hashes, 8 s so).
"""

from __future__ import annotations

from typing import Iterator, Sequence

import numpy as np

from negmine.train.samplers.row_texts import Values

FIRST_CHUNK = 4  # candidate batches compared at once, growing 4x per chunk: early exits stay cheap, long scans few
Chunk = tuple[list[int], np.ndarray, np.ndarray, np.ndarray]  # batch numbers, rows' ids, row -> batch, rows that fit


def swap_clashing_rows(batches: list[list[int]], values: Values, topics: Sequence[int]) -> int:
    """Repair ``batches`` in place (see the module docstring); returns the rows left sharing a text with a row before
    them in their batch."""
    ids, topics = text_ids(values, batches), np.asarray(topics)
    where = {row: k for k, batch in enumerate(batches) for row in batch}
    members: dict[int, list[int]] = {}
    for row in where:
        members.setdefault(int(topics[row]), []).append(row)
    mixed = dict.fromkeys(o for o, batch in enumerate(batches) if len({int(topics[row]) for row in batch}) > 1)
    for k, batch in enumerate(batches):
        block = ids[batch]
        late = _later(block)
        for i in range(len(batch)) if late.any() else ():
            if late[i]:
                row_ids, rest_ids = _row_and_rest(block, i)
                chunks, scanned = _scan(k, batch[i], rest_ids, batches, ids, topics, members, where, mixed), []
                if (_swap_out(k, i, row_ids, chunks, scanned, batches, where)
                        or _reduce_clashes(k, i, row_ids, block, scanned, batches, where)):
                    block = ids[batch]
                    late = _later(block)  # batch[i] changed: the rows after it may no longer clash
    return sum(int(_later(ids[batch]).sum()) for batch in batches)


def text_ids(values: Values, batches: list[list[int]]) -> np.ndarray:
    """``(rows, width)`` integer array: row -> an id per distinct text of the row (equal texts, equal ids), -1 padding.
    From :class:`~negmine.train.samplers.row_texts.RowValues`' hash table when it holds one, else read row by row."""
    table = getattr(values, "table", None)
    if table is None:  # a mapping of sets: read the batches' rows
        rows = {row: list(values[row]) for batch in batches for row in batch}
        known: dict = {}
        ids = np.full((max(rows, default=-1) + 1, max(map(len, rows.values()), default=0)), -1, dtype=np.int64)
        for row, texts in rows.items():
            ids[row, :len(texts)] = [known.setdefault(text, len(known)) for text in texts]
        return ids
    order = np.argsort(table, axis=None)  # not np.unique: its inverse holds 5 arrays of the table's size at once
    ordered = table.ravel()[order]
    new_text = np.empty(len(ordered), dtype=bool)
    new_text[:1], new_text[1:] = True, ordered[1:] != ordered[:-1]
    del ordered
    ids = np.empty(table.shape, dtype=np.int32 if table.size < 2**31 else np.int64)
    ids.ravel()[order] = np.cumsum(new_text, dtype=ids.dtype) - 1
    ids.sort(axis=1)
    ids[:, 1:][ids[:, 1:] == ids[:, :-1]] = -1  # a text twice in one row is one text of it
    return ids


def _later(block: np.ndarray) -> np.ndarray:
    """Rows of a batch (``block``: their ids) sharing a text with a row before them."""
    flat = block.ravel()
    order = np.argsort(flat, kind="stable")  # equal ids in row order
    ordered = flat[order]
    repeat = np.zeros(len(flat), dtype=bool)
    repeat[order[1:]] = (ordered[1:] == ordered[:-1]) & (ordered[1:] >= 0)
    return repeat.reshape(block.shape).any(axis=1)


def _shared(block: np.ndarray) -> np.ndarray:
    """Rows of a batch (``block``: their ids) sharing a text with another row of it."""
    flat = block.ravel()
    order = np.argsort(flat, kind="stable")
    ordered = flat[order]
    equal = (ordered[1:] == ordered[:-1]) & (ordered[1:] >= 0)
    repeat = np.zeros(len(flat), dtype=bool)
    repeat[order[1:][equal]] = True
    repeat[order[:-1][equal]] = True
    return repeat.reshape(block.shape).any(axis=1)


def _in(block: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Rows of ``block`` holding one of ``sorted_ids`` (sorted, no -1)."""
    if not len(sorted_ids):
        return np.zeros(len(block), dtype=bool)
    found = sorted_ids[np.minimum(np.searchsorted(sorted_ids, block), len(sorted_ids) - 1)] == block
    return found.any(axis=1)


def _candidates(k: int, row: int, topics: np.ndarray, members: dict[int, list[int]], where: dict[int, int],
                mixed: dict[int, None]) -> list[tuple[Sequence[int], int | None]]:
    """The batches ``batches[k][i] = row`` may swap with, each pass with the cluster its partner must be of (None:
    any): the batches holding the row's cluster, then, if batch ``k`` mixes clusters, the other ``mixed`` ones."""
    topic = int(topics[row])
    same_cluster = sorted({where[m] for m in members[topic]} - {k})
    return [(same_cluster, topic), (list(mixed) if k in mixed else [], None)]


def _scan(k: int, row: int, rest_ids: np.ndarray, batches: list[list[int]], ids: np.ndarray, topics: np.ndarray,
          members: dict[int, list[int]], where: dict[int, int], mixed: dict[int, None]) -> Iterator[Chunk]:
    """The rows ``batches[k][i] = row`` may swap with (:func:`_candidates`, batch ``k`` left out), in order, a chunk of
    batches at a time (growing): (the chunk's batch numbers, their rows' ids, the chunk's batch of each row, the
    rows of the wanted cluster sharing no text with the rest of batch ``k`` (``rest_ids``))."""
    for candidates, wanted in _candidates(k, row, topics, members, where, mixed):
        others = [o for o in candidates if o != k]
        start, size = 0, FIRST_CHUNK
        while start < len(others):
            chunk = others[start:start + size]
            rows = np.asarray([r for o in chunk for r in batches[o]], dtype=np.int64)
            block = ids[rows]
            fits = ~_in(block, rest_ids)
            if wanted is not None:
                fits &= topics[rows] == wanted
            sizes = [len(batches[o]) for o in chunk]
            yield chunk, block, np.repeat(np.arange(len(chunk)), sizes), fits
            start, size = start + size, size * 4


def _swap(k: int, i: int, o: int, j: int, batches: list[list[int]], where: dict[int, int]) -> bool:
    row, partner = batches[k][i], batches[o][j]
    batches[k][i], batches[o][j] = partner, row
    where[partner], where[row] = k, o
    return True


def _swap_out(k: int, i: int, row_ids: np.ndarray, chunks: Iterator[Chunk], scanned: list[Chunk],
              batches: list[list[int]], where: dict[int, int]) -> bool:
    """Swap ``batches[k][i]`` (its texts' ids: ``row_ids``) with the first row of ``chunks`` (:func:`_scan`) that
    frees both, same cluster first, else between two of the ``mixed`` batches (those the cut filled with several
    clusters); False if none. The chunks read are appended to ``scanned``."""
    for chunk, block, of_batch, fits in chunks:
        scanned.append((chunk, block, of_batch, fits))
        hits = (block[:, :, None] == row_ids).any(axis=(1, 2))  # the rows the row shares a text with
        if hits.any():  # one of them may leave for the row, no more
            count = np.bincount(of_batch[hits], minlength=len(chunk))[of_batch]
            fits = fits & ((count == 0) | ((count == 1) & hits))
        if fits.any():
            at = int(np.argmax(fits))
            b = int(of_batch[at])
            return _swap(k, i, chunk[b], at - int(np.searchsorted(of_batch, b)), batches, where)
    return False


def _reduce_clashes(k: int, i: int, row_ids: np.ndarray, block: np.ndarray, scanned: list[Chunk],
                    batches: list[list[int]], where: dict[int, int]) -> bool:
    """Swap ``batches[k][i]`` (``block``: its batch's ids) with the first row of the ``scanned`` chunks that fits in its
    batch without a shared text and whose swap lowers the number of rows sharing a text with a batch mate in the two
    batches together; False if none."""
    freed = None  # rows no longer sharing a text once the row leaves its batch
    for chunk, candidates, of_batch, fits in scanned:
        for b in np.unique(of_batch[fits]).tolist():
            if freed is None:
                freed = int(_shared(block).sum()) - int(_shared(np.delete(block, i, axis=0)).sum())
            at, size = int(np.searchsorted(of_batch, b)), len(batches[chunk[b]])
            lower = fits[at:at + size] & (_gains(candidates[at:at + size], row_ids) < freed)
            if lower.any():
                return _swap(k, i, chunk[b], int(np.argmax(lower)), batches, where)
    return False


def _row_and_rest(block: np.ndarray, i: int) -> tuple[np.ndarray, np.ndarray]:
    """The ids of a batch's row ``i``'s texts and of the other rows' texts (``block``: the batch's ids), sorted,
    without padding."""
    keep = np.ones(len(block), dtype=bool)
    keep[i] = False
    row_ids, rest_ids = np.sort(block[i]), np.sort(block[keep], axis=None)
    return row_ids[row_ids.searchsorted(0):], rest_ids[rest_ids.searchsorted(0):]


def _gains(block: np.ndarray, row_ids: np.ndarray) -> np.ndarray:
    """Per position j of a batch (``block``: its rows' ids), the rows sharing a text with a batch mate once the row
    with ``row_ids`` takes row j's place, minus those now."""
    texts, inverse = np.unique(np.concatenate([block.ravel(), row_ids]), return_inverse=True)
    member = np.zeros((len(block), len(texts)), dtype=np.float32)  # [row, text]: the row holds the text
    member[np.repeat(np.arange(len(block)), block.shape[1]), inverse[:block.size]] = 1
    member[:, texts < 0] = 0
    incoming = np.zeros(len(texts), dtype=np.float32)
    incoming[inverse[block.size:]] = 1
    count = member.sum(axis=0)
    now = int(((member @ (count > 1)) > 0).sum())
    shared = (count - member + incoming) > 1  # [j, text]: the text in two rows or more once the row replaces row j
    meets = shared.astype(np.float32) @ member.T  # [j, r]: texts of row r shared then
    np.fill_diagonal(meets, 0)  # row j has left
    return (meets > 0).sum(axis=1) + (shared @ incoming > 0) - now
