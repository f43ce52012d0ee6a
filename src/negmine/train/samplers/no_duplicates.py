"""No-duplicates batching that trains on every row once per epoch.

sentence-transformers' ``NoDuplicatesBatchSampler`` fills each batch with rows whose texts (query, positive,
negatives) are not already in it, deferring a conflicting row to a later batch. Rows of one query (a query
with several positives, a promoted document's pair) and rows sharing a mined negative always conflict, so the
pass ends with a few small batches: more batches than its advertised length, ``ceil(rows / batch_size)``. The
trainer sizes the epoch (and the learning-rate schedule) by that length and stops the epoch there, so the
rows of the extra batches were never trained on (the quickstart's 70-row demo file lost 2 rows at batch 16).

:class:`EveryRowNoDuplicatesBatchSampler` keeps the parent's pass and its length and places the rows of the
extra batches into the kept batches that have room: directly where none of their texts is in the batch, else
by moving a batch's one conflicting-free row into another batch with room, else (rarely; only when no batch
can take it cleanly) into the batch with room where it repeats the fewest texts. Repeated texts there are
sibling rows of a query: their positives are masked as known positives
(:mod:`negmine.train.losses.masking`).

With re-mining, the sampler compares each row's negatives as they are when the epoch starts, which is when it builds
the epoch's batches: the re-mined ones swapped in so far (``negatives``, kept up to date by
:class:`negmine.train.remine.EpochNegatives`), the training file's for the other rows. A re-mining inside an epoch
reaches the check at the next epoch, as the batches it would change are already built.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from sentence_transformers.base.sampler import NoDuplicatesBatchSampler

from negmine.train.samplers.row_texts import RowsWithNegatives, RowValues, Values, clashes


class EveryRowNoDuplicatesBatchSampler(NoDuplicatesBatchSampler):
    """``NoDuplicatesBatchSampler`` whose epoch yields every row exactly once in ``len(self)`` batches. ``negatives``:
    row index -> the negatives to compare instead of the dataset's (re-mined ones; empty or None: the dataset's)."""

    def __init__(self, dataset, batch_size: int, drop_last: bool, *args,
                 negatives: Mapping[int, Sequence[str]] | None = None, **kwargs) -> None:
        super().__init__(dataset, batch_size, drop_last, *args, **kwargs)
        self.file_rows = self.dataset  # the parent's view: the texts alone (no label column)
        self.negatives = negatives

    def __iter__(self):
        # read when the first batch is asked for, at the epoch's start: the parent's pass reads ``self.dataset``
        self.dataset = RowsWithNegatives(self.file_rows, self.negatives) if self.negatives else self.file_rows
        batches = [list(batch) for batch in super().__iter__()]
        limit = len(self)
        if self.drop_last or len(batches) <= limit:
            yield from batches
            return
        kept, overflow = batches[:limit], [row for batch in batches[limit:] for row in batch]
        values = RowValues(self.dataset)
        for row in overflow:
            place_row(row, kept, values, self.batch_size)
        yield from kept


def place_row(row: int, batches: list[list[int]], values: Values, batch_size: int) -> None:
    """Put ``row`` into one of ``batches`` (in place) without exceeding ``batch_size``; see the module docstring."""
    open_batches = [batch for batch in batches if len(batch) < batch_size]
    for batch in open_batches:
        if not clashes(row, batch, values):
            batch.append(row)
            return
    for full in batches:
        clashing = clashes(row, full, values)
        movable = clashing if len(clashing) == 1 else (full if not clashing else [])
        for other in movable:
            target = next((b for b in open_batches if b is not full and not clashes(other, b, values)), None)
            if target is not None:
                full.remove(other)
                target.append(other)
                full.append(row)
                return
    min(open_batches, key=lambda batch: len(clashes(row, batch, values))).append(row)
