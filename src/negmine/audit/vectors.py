"""Embeddings of texts for the judges: each distinct text is embedded once per run.

An in-memory memo (bounded, keyed by a 16-byte BLAKE2b digest of the text) sits in front of the on-disk
embedding cache of the encode stage, so a positive shared by many pairs or a candidate seen by many
queries is encoded once, and a rerun encodes nothing.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from negmine.encode.base import Embedder


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class TextVectors:
    """``vectors(texts)`` -> ``(len(texts), dim)`` float32 rows of ``embedder`` with ``prompt``."""

    def __init__(self, embedder: Embedder, prompt: str = "", cache=None, max_memo: int = 200_000) -> None:
        self.embedder = embedder
        self.prompt = prompt
        self.cache = cache
        self.max_memo = max_memo
        self.encoded = 0
        self._memo: dict[bytes, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts) if k not in self._memo}
        if missing:
            if len(self._memo) + len(missing) > self.max_memo:
                self._memo.clear()
            fresh = self._embed(list(missing.values()))
            self._memo.update(zip(missing.keys(), fresh))
        if not keys:
            return np.empty((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._memo[k] for k in keys]).astype(np.float32, copy=False)

    def _embed(self, texts: list[str]) -> np.ndarray:
        self.encoded += len(texts)
        if self.cache is None:
            return np.asarray(self.embedder.encode(texts, prompt=self.prompt), dtype=np.float32)
        from negmine.encode.embed import embed_texts

        return embed_texts(self.embedder, texts, prompt=self.prompt, cache=self.cache, desc="audit encode").vectors
