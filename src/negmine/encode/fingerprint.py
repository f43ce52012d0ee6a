"""Content identity of a loaded sentence-transformers model, for the embedding cache key.

The identity is taken from the model in memory, not from where it was loaded: module classes and their configs, the
tokenizer's class, size, lower-casing and padding side, and every weight tensor (name, dtype, shape and all its
bytes). So the same weights loaded from a local folder, a hub name or passed in as an object share one fingerprint;
moving or re-installing the folder (new path or mtime) keeps it; and any change to any weight changes it (a re-mined
or re-saved model never hits its predecessor's cache). Until 2026-12-03 only 4,096 evenly spaced elements of each
tensor were hashed: a model re-saved with one token's embedding row changed kept its fingerprint and was served its
predecessor's vectors. Hashing all bytes (blake2b) took 0.39 s for all-MiniLM-L6-v2's 91 MB on a loaded 2-core
machine, less than the sampling did (0.87 s); it grows with the weights (about 0.4 s per 100 MB).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

FINGERPRINT_VERSION = 4
"""Bumped when the same model and settings start giving other vectors: 2 = unpadded equal-length batches
(2026-12-03; version-1 vectors came from padded batches and differ in their last bits); 3 = CPU passes of one
shape per token count (2026-12-04, :func:`negmine.encode.sentence_transformer.fixed_shape_batches`); 4 = CPU
passes padded to a multiple of 16 tokens, one shape per padded length (2026-12-06,
:func:`negmine.encode.sentence_transformer.pass_length`; last bits move; a tokenizer that pads on the left runs
unpadded passes of one token count, :func:`negmine.encode.sentence_transformer.pass_bucket`, so the tokenizer's
padding side is part of the identity). Old caches are not mixed with new vectors."""

def tensor_digest(state_dict: dict[str, Any]) -> str:
    """blake2b over (name, dtype, shape, every byte) of every tensor, in name order."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(state_dict):
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor):
            continue
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        if tensor.numel():
            digest.update(_tensor_bytes(tensor))
    return digest.hexdigest()


def _tensor_bytes(tensor) -> memoryview:
    """The tensor's elements as bytes (row-major, on the CPU), without a copy when it is already there."""
    import torch

    flat = tensor.detach().contiguous().reshape(-1).cpu()
    if flat.is_quantized:
        flat = flat.dequantize()
    return memoryview(flat.view(torch.uint8).numpy())


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def model_identity(model) -> dict:
    """A JSON-able description of a SentenceTransformer's architecture, tokenizer and weights."""
    modules = []
    for module in model:
        config = module.get_config_dict() if hasattr(module, "get_config_dict") else {}
        modules.append([type(module).__name__, _jsonable(config)])
    tokenizer = getattr(model, "tokenizer", None)
    return {
        "modules": modules,
        "tokenizer": [type(tokenizer).__name__, len(tokenizer) if tokenizer is not None else 0,
                      getattr(tokenizer, "do_lower_case", None), getattr(tokenizer, "padding_side", None)],
        "weights": tensor_digest(model.state_dict()),
    }


def model_fingerprint(
    model, max_length: int | None, precision: str, device_type: str = "cpu", batch_size: int | None = None,
) -> str:
    """``"st-<sha256>"`` of the model identity plus the settings that change vectors. Another device's kernels
    give other last bits, so a GPU's vectors are cached apart from the CPU's. ``batch_size`` (the torch
    backend's) sets the shape of the passes a text is encoded in, which moves last bits too (on the CPU for
    texts whose pass length is under ``TOKENS_PER_PASS / batch_size`` tokens)."""
    payload = {
        "version": FINGERPRINT_VERSION,
        "model": model_identity(model),
        "max_length": max_length,
        "precision": precision,
    }
    if batch_size is not None:
        payload["batch_size"] = batch_size
    if device_type != "cpu":
        payload["device"] = device_type
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "st-" + hashlib.sha256(text.encode()).hexdigest()
