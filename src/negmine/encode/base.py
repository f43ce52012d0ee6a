"""The embedder interface every stage uses. Implementations return float32, L2-normalised rows."""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    """Anything that turns texts into embeddings.

    ``fingerprint`` identifies the weights and settings that change vectors (model id, max length,
    precision); together with the prompt and the text hash it forms the cache key.
    """

    fingerprint: str
    dim: int

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """Return ``(len(texts), dim)`` float32 L2-normalised embeddings of ``prompt + text``."""
        ...
