"""The per-row ``label`` vector that carries masking information through the trainer to the loss.

sentence-transformers' data collator tokenizes every column except the label column, which it stacks
into a tensor and hands to the loss. negmine packs one fixed-width int64 vector per training row::

    [row, key(query), key(positive), key(negative_1..N), flag(negative_1..N), key(known positive_1..P)]

- ``row``: the row's index in the training dataset (re-mining uses it to swap a row's negatives).
- ``key(query)``: the query text's key, so the query-side directions tell a sibling row (the same query with
  another positive) from another query (:data:`PAD_KEY` when unknown: then it matches nothing).
- ``key(text)``: a 63-bit BLAKE2b hash of the text after mining's normalisation (NFKC, case-folded, whitespace
  collapsed, invisible format characters and surrounding punctuation dropped:
  :func:`negmine.select.exclude.normalize_text`), never 0. Equal keys mean texts mining takes for one document,
  so duplicated documents under different ids, or in other case or spacing, are recognised as the same
  document, as mining's exclusions recognise them (a copy of a positive is never its query's negative there).
- ``flag``: 1 when the audit marked the negative as a false negative (keep the column, mask it).
- known positives: keys of every document known to be relevant to the row's query (all its positives
  in the file, ``extra_positive_ids``, ``false_negative_ids``), padded with 0 to the dataset's widest row.

With distillation on (``TrainConfig.distill``), ``1 + N`` more entries end the vector: the teacher's scores of the
positive and of negative_1..N, each float64's bits as an int64 (:func:`pack_scores`); the losses take them off
before reading the rest (:func:`negmine.train.losses.distill.split_teacher`).
"""

from __future__ import annotations

import hashlib
import struct
from typing import NamedTuple, Sequence

from negmine.select.exclude import normalize_text

PAD_KEY = 0


def text_key(text: str) -> int:
    """Stable non-zero 63-bit key of ``normalize_text(text)`` (same text -> same key in every run and process;
    texts that differ only in case, spacing or invisible characters share it, as in mining's exclusions)."""
    digest = hashlib.blake2b(normalize_text(text).encode("utf-8"), digest_size=8).digest()
    key = int.from_bytes(digest, "big") >> 1
    return key or 1


def pack_label(row: int, positive: int, negatives: Sequence[int], flags: Sequence[int], known: Sequence[int],
               width_known: int, query: int = PAD_KEY) -> list[int]:
    """Build one label vector; ``known`` is padded with :data:`PAD_KEY` to ``width_known`` entries."""
    if len(negatives) != len(flags):
        raise ValueError(f"{len(negatives)} negative keys but {len(flags)} flags")
    if len(known) > width_known:
        raise ValueError(f"{len(known)} known positives do not fit in width {width_known}")
    return [row, query, positive, *negatives, *flags, *known, *([PAD_KEY] * (width_known - len(known)))]


def pack_scores(scores: Sequence[float]) -> list[int]:
    """Each score's float64 bits as a signed int64 (the label vector is int64; read back exactly with
    ``tensor.view(torch.float64)``)."""
    return [struct.unpack("<q", struct.pack("<d", float(score)))[0] for score in scores]


class LabelParts(NamedTuple):
    """Views into a ``(batch, width)`` label tensor (or a single list) for ``num_negatives`` columns."""

    rows: object
    query_keys: object  # (batch,)
    doc_keys: object  # (batch, 1 + N): positive key, then negative keys, in dataset column order
    flags: object  # (batch, N)
    known: object  # (batch, P)


def split_label(labels, num_negatives: int) -> LabelParts:
    """Slice a label tensor/array of shape ``(batch, 3 + 2N + P)`` into its parts."""
    n = num_negatives
    width = labels.shape[1]
    if width < 3 + 2 * n:
        raise ValueError(f"label width {width} is too small for {n} negatives (need at least {3 + 2 * n})")
    return LabelParts(labels[:, 0], labels[:, 1], labels[:, 2 : 3 + n], labels[:, 3 + n : 3 + 2 * n],
                      labels[:, 3 + 2 * n :])
