"""Content identity of a loaded sentence-transformers model, for the embedding cache key.

The identity is taken from the model in memory, not from where it was loaded: module classes and their
configs, the tokenizer's class and size, and a sample of every weight tensor (name, dtype, shape and
4,096 evenly spaced elements). So the same weights loaded from a local folder, a hub name or passed in
as an object share one fingerprint; moving or re-installing the folder (new path or mtime) keeps it;
and any fine-tuning step, which changes the trained tensors, changes it (a re-mined model never hits
its predecessor's cache). Sampling keeps the cost at milliseconds regardless of model size.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

FINGERPRINT_VERSION = 2
"""Bumped when the same model and settings start giving other vectors: 2 = unpadded equal-length batches
(2026-12-03; version-1 vectors came from padded batches and differ in their last bits), so old caches are not
mixed with new vectors."""
SAMPLES_PER_TENSOR = 4096


def tensor_digest(state_dict: dict[str, Any], samples: int = SAMPLES_PER_TENSOR) -> str:
    """blake2b over (name, dtype, shape, evenly spaced sample) of every tensor, in name order."""
    import torch

    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(state_dict):
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor):
            continue
        flat = tensor.detach().reshape(-1)
        count = int(flat.numel())
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        if count:
            index = torch.from_numpy(np.unique(np.linspace(0, count - 1, min(count, samples)).astype(np.int64)))
            sample = flat[index.to(flat.device)].to(torch.float32).cpu().numpy()
            digest.update(np.ascontiguousarray(sample).tobytes())
    return digest.hexdigest()


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
                      getattr(tokenizer, "do_lower_case", None)],
        "weights": tensor_digest(model.state_dict()),
    }


def model_fingerprint(model, max_length: int | None, precision: str) -> str:
    """``"st-<sha256>"`` of the model identity plus the settings that change vectors."""
    payload = {
        "version": FINGERPRINT_VERSION,
        "model": model_identity(model),
        "max_length": max_length,
        "precision": precision,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return "st-" + hashlib.sha256(text.encode()).hexdigest()
