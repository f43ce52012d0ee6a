"""Matryoshka truncation of stored embeddings: keep the first ``dim`` components and L2-normalise again.

A model trained with Matryoshka representation learning (``negmine train --matryoshka-dims``) packs most of its
information in the leading dimensions, so its vectors cut to the first ``dim`` components and re-normalised are
usable embeddings of that size (cosine = inner product again). The cut is applied to the full-size vectors
after the embedding cache (:func:`negmine.encode.embed.embed_texts` ``truncate_dim``): the cache keeps full
vectors under the model's fingerprint, so evaluating at several dims encodes nothing again.
"""

from __future__ import annotations

import numpy as np

from negmine.errors import ConfigError, field_setting


def truncate_rows(vectors: np.ndarray, dim: int | None) -> np.ndarray:
    """``vectors[:, :dim]`` with each row L2-normalised (a row cut to all zeros stays zero); None: unchanged."""
    if dim is None:
        return vectors
    cut = np.asarray(vectors[:, :dim], dtype=np.float32)
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return cut / np.maximum(norms, 1e-12)


def check_truncate_dim(dim: int | None, model_dim: int, model: str) -> None:
    """ConfigError when ``dim`` exceeds the dimension of ``model``'s embeddings (checked once it has loaded)."""
    if dim is not None and dim > model_dim:
        raise ConfigError(
            f"truncate_dim {dim} exceeds the embedding dimension {model_dim} of the model {model!r}; use "
            f"{field_setting('truncate_dim', model_dim)} or less (e.g. a dim the model was trained at with "
            "matryoshka_dims, --matryoshka-dims), "
            "or leave it unset"
        )
