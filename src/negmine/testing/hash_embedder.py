"""A deterministic bag-of-words hashing embedder: instant, no model, lexical similarity.

Useful in tests of stages that need *some* embedder whose neighbours are predictable: texts sharing
words get high cosine similarity. Implements the :class:`negmine.encode.base.Embedder` protocol.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_TOKEN = re.compile(r"\w+")


class HashEmbedder:
    def __init__(self, dim: int = 256) -> None:
        self.dim = dim
        self.fingerprint = f"hash-bow-{dim}"
        self.calls = 0
        self.texts_encoded = 0

    def _bucket(self, token: str) -> int:
        return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little") % self.dim

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in _TOKEN.findall((prompt + text).lower()):
                out[row, self._bucket(token)] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)
