"""Cross-encoder scores cached on disk by (model, query, document).

A cross-encoder reads every (query, candidate) pair through the whole model, the slowest step of an audit or of
``negmine mine --denoise``. :class:`CachedCrossEncoder` keeps each score in the embedding cache
(:mod:`negmine.encode.cache`) as a 1-wide float32 vector, so a killed run resumes without scoring a pair twice
and a second audit of the same file with other margins, thresholds or judges makes no model calls.

- Namespace: ``ce-<sha256>`` of the model's identity (modules, tokenizer, sampled weights:
  :func:`negmine.encode.fingerprint.model_identity`), its maximum sequence length and activation function;
  fine-tuning the judge or changing how it truncates starts a new namespace.
- Key: blake2b-128 of ``query + "\\0" + document`` (the texts as the model reads them).
- Missing pairs are scored ``chunk`` at a time, each pair's score independent of the others scored with it on
  the CPU (:func:`negmine.audit.judges.pair_passes.predict_pairs`); new scores are written (atomically,
  through :class:`~negmine.encode.buffered_shelf.BufferedShelf`) once ``chunk`` of them wait or the oldest has
  waited ``flush_seconds`` (:data:`~negmine.encode.buffered_shelf.FLUSH_SECONDS`), and by
  :meth:`CachedCrossEncoder.flush` at the end of a run, so the judges' pair-at-a-time calls leave a few large
  shards (at most one a minute), not one per call: a kill loses at most the last ``chunk`` scores or the last
  minute of scoring.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Callable, Sequence

import numpy as np

from negmine.encode.buffered_shelf import FLUSH_SECONDS, BufferedShelf

FINGERPRINT_VERSION = 2
"""Bumped when the same model and settings start giving other scores: 2 = passes of equal token length with the
linear layers run one pair at a time (2026-12-06, :mod:`negmine.audit.judges.pair_passes`). Version-1 scores came
from ``CrossEncoder.predict``'s padded batches and differ in their last bits with the pairs they were scored with
(28 of 200 at hidden size 384 against the pair alone); mixed into a new run's cache they would bring back the
dependence on earlier runs' batches. Only ``--cross-encoder-batch-size 1`` scores would have been the same bits."""
CHUNK = 4096


def cross_encoder_fingerprint(model, device_type: str | None = None) -> str:
    """``"ce-<sha256>"`` of the model identity, maximum sequence length, activation function and, off the CPU, the
    device type (default: the model's). Another device's kernels round differently, so a GPU's scores are cached
    apart from the CPU's, as the bi-encoder's vectors are (:func:`negmine.encode.fingerprint.model_fingerprint`);
    a CPU namespace is the one it was before the device counted."""
    from negmine.encode.fingerprint import model_identity

    payload = {
        "version": FINGERPRINT_VERSION,
        "model": model_identity(model),
        "max_length": getattr(model, "max_seq_length", None),
        "activation": type(getattr(model, "activation_fn", None)).__name__,
    }
    device_type = device_type or getattr(getattr(model, "device", None), "type", "cpu")
    if device_type != "cpu":
        payload["device"] = device_type
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return "ce-" + hashlib.sha256(text.encode()).hexdigest()


def pair_keys(pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """``(n, 16)`` uint8 keys: blake2b-128 of ``query + "\\0" + document`` per pair."""
    joined = b"".join(
        hashlib.blake2b(f"{q}\0{d}".encode("utf-8", "surrogatepass"), digest_size=16).digest() for q, d in pairs
    )
    return np.frombuffer(joined, dtype=np.uint8).reshape(-1, 16).copy()


class CachedCrossEncoder:
    """``predict(pairs)`` of a sentence-transformers ``CrossEncoder``, each distinct pair scored once ever.

    ``scored`` / ``cached`` count the distinct pairs scored by the model and read from the cache."""

    def __init__(self, model, cache, chunk: int = CHUNK, name: str | None = None,
                 flush_seconds: float | None = FLUSH_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        """``chunk``: pairs per model call and most scores held in memory; ``flush_seconds`` and ``clock``: the
        time bound on the scores held (:class:`~negmine.encode.buffered_shelf.BufferedShelf`)."""
        if not isinstance(chunk, int) or chunk < 1:
            raise ValueError(f"chunk must be a positive integer, got {chunk!r}")
        self.model, self.cache, self.chunk = model, cache, chunk
        self.fingerprint = cross_encoder_fingerprint(model)
        self.scored = self.cached = 0
        from negmine.encode.sentence_transformer import loaded_from

        # ``name``: what the model was loaded from, recorded in the cache's meta.json for ``negmine cache list``
        shelf = cache.shelf(self.fingerprint, "", name or loaded_from(model))
        self._store = BufferedShelf(shelf, chunk, flush_seconds, clock)

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32,
                show_progress_bar: bool | None = False) -> np.ndarray:
        """float32 scores, one per pair, in input order."""
        from negmine.audit.judges.pair_passes import predict_pairs
        from negmine.encode.embed import unique_rows

        pairs = list(pairs)
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        keys = pair_keys(pairs)
        first, inverse = unique_rows(keys)
        found, vectors = self._store.get(keys[first])
        scores = np.empty(len(first), dtype=np.float32)
        scores[found] = vectors[:, 0] if len(vectors) else []
        missing = np.flatnonzero(~found)
        for start in range(0, len(missing), self.chunk):
            rows = missing[start:start + self.chunk]
            got = np.asarray(predict_pairs(self.model, [pairs[int(first[r])] for r in rows], batch_size),
                             dtype=np.float32)
            got = got.reshape(len(rows), -1)
            if got.shape[1] != 1:
                raise ValueError(f"cross-encoder returned {got.shape[1]} scores per pair; the judge needs one "
                                 "(a model with a single output label, e.g. a MS MARCO re-ranker)")
            self._store.put(keys[first[rows]], got)
            scores[rows] = got[:, 0]
        self.scored += len(missing)
        self.cached += int(found.sum())
        return scores[inverse]

    def flush(self) -> None:
        """Write the scores computed since the last flush to the on-disk cache."""
        self._store.flush()
