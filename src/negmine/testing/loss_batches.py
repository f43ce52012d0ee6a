"""Small batches for testing a masked contrastive loss: random unit embeddings and negmine label rows with
distinct keys, so every masking case can be written by naming rows and columns."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from negmine.train.labels import pack_label

LOSS_SETTING_CASES: list[dict[str, object]] = [
    {},  # the default: masked, hardness-weighted (sentence-transformers' loss when nothing is masked)
    {"fn_mask": False},  # sentence-transformers' own loss
    {"hardness": "none"}, {"hardness": "hard-negatives", "hardness_strength": 5.0},
    {"hardness": "all", "hardness_strength": 5.0, "fn_margin": 0.1},
    {"directions": ("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")},  # GTE's
    {"directions": ("query_to_doc", "doc_to_query"), "partition_mode": "per_direction"},
    {"debias_prior": 0.05, "hardness": "all", "hardness_strength": 5.0},
]
"""Loss settings (TrainConfig fields) a loss option at its zero (off) value must leave unchanged: the cases the
focal and additive-margin loss tests parametrise."""


def random_embeddings(seed: int = 0, batch: int = 4, negatives: int = 2, dim: int = 8,
                      requires_grad: bool = False) -> list[torch.Tensor]:
    """Query, positive and ``negatives`` negative columns of ``batch`` unit vectors each, from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    columns = [F.normalize(torch.randn(batch, dim, generator=gen), dim=-1) for _ in range(2 + negatives)]
    return [c.requires_grad_() for c in columns] if requires_grad else columns


def distinct_labels(batch: int, negatives: int, known_extra: dict[int, int] | None = None,
                    flags: dict[tuple[int, int], int] | None = None) -> torch.Tensor:
    """Label rows with distinct keys: positive of row r = 100 + r, negative k of row r = 1000 * (k + 1) + r;
    ``known_extra`` adds a second known positive key to a row, ``flags`` marks negative (row, k) as flagged."""
    known_extra, flags = known_extra or {}, flags or {}
    rows = []
    for r in range(batch):
        neg = [1000 * (k + 1) + r for k in range(negatives)]
        fl = [flags.get((r, k), 0) for k in range(negatives)]
        known = [100 + r] + ([known_extra[r]] if r in known_extra else [])
        rows.append(pack_label(r, 100 + r, neg, fl, known, width_known=2))
    return torch.tensor(rows)


def circle_embeddings(angles: dict[str, tuple[float, ...]], requires_grad: bool = False) -> list[torch.Tensor]:
    """Query, positive and negative columns of 2-D unit vectors at ``angles["q"]``, ``["p"]``, ``["n"]`` (radians,
    one per row), so each cosine is ``cos(a - b)`` and a test can write its loss out by hand."""
    return [torch.tensor([[math.cos(a), math.sin(a)] for a in angles[side]], requires_grad=requires_grad)
            for side in "qpn"]
