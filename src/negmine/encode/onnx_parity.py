"""Parity check of a fresh ONNX export against the torch model it was traced from, before it is cached.

Why: ``torch.onnx.export(..., dynamo=False)`` (the TorchScript exporter) records the operations the model runs
on one unpadded sample text. Python branches on tensor values are frozen to that text's outcome (the
TracerWarnings transformers' mask and attention code raises while it is traced say the trace "might not
generalize to other inputs") and ``aten::index`` exports wrong for negative indices. For the bundled
all-MiniLM-L6-v2 the graph was measured equal to torch (same SciFact nDCG@10, batch-invariant vectors), but any
model path can be passed, so every export is run on a few texts of other lengths, padded in a batch and alone,
one of them truncated, and refused unless each vector agrees with the torch one (:data:`MIN_COSINE`).

The texts carry no prompt and no second segment: negmine encodes ``prompt + text`` as one segment, so the graph
only ever gets all-zero token types, as here.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from negmine.config_path import path_setting
from negmine.errors import ConfigError

MIN_COSINE = 0.9999
"""Least cosine between a parity text's ONNX and torch vectors (both fp32, L2-normalised).

Measured 2026-12-04 (2-core Intel Xeon, torch 2.13, onnxruntime 1.32) on the bundled all-MiniLM-L6-v2, a
fine-tune of it, the 2-layer 32-wide tiny test model and the 1-layer 384-wide one: ``1 - cosine`` was within
+-1.2e-7 (float32 rounding) and the largest coordinate difference 1.3e-7, for every parity text padded or alone.
Broken graphs (exports of a wrapper, as in tests/encode/test_onnx.py): one that attends to the padding (what a
trace that froze an all-ones mask computes) gave 0.6025 on MiniLM and 0.9959 on the 384-wide model for the
padded "a" (0.99994 on the 32-wide random one, whose attention is near-uniform: not caught there); weights
moved by noise of 1e-2 gave 0.79-0.91, of 1e-3 0.9977-0.9989, of 1e-4 0.99998-0.99999 (not caught). 0.9999 is about a
thousand times the rounding error, room for deeper or wider models and other CPUs' kernels, and refuses the
other broken graphs."""

UNIT = "the risk of heart disease was reduced in patients with high levels of the protein "
"""Words every tokenizer knows (the tiny test models' vocabulary too), so lengths are about one token a word."""

SHORT = ("a", "gene expression in human cells", UNIT * 2)
"""Run alone and together as one padded batch (the shorter two padded to the third's length)."""

LONGEST = 512
"""Tokens of the long parity text at most: it is truncated where the model's max length is at most this, and
is about this long otherwise (a model with an 8k max length is not run on 8k tokens: the check stays cheap)."""

UNKNOWN_MAX = 128
"""Tokens of the long parity text for a model that states no max length (its position table may be short)."""


def parity_texts(tokenizer, max_length: int | None) -> list[str]:
    """:data:`SHORT` plus one long text: longer than ``max_length`` (so it is truncated) when that is at most
    :data:`LONGEST`, else about :data:`LONGEST` tokens (:data:`UNKNOWN_MAX` when there is no max length)."""
    per_unit = max(1, len(tokenizer(UNIT, add_special_tokens=False)["input_ids"]))
    if max_length and max_length <= LONGEST:
        repeats = max_length // per_unit + 2
    else:
        repeats = max(1, (LONGEST if max_length else UNKNOWN_MAX) // per_unit - 1)
    return [*SHORT, UNIT * repeats]


def torch_vectors(model, texts: Sequence[str]) -> np.ndarray:
    """The torch model's L2-normalised fp32 vectors, one text per pass (no padding: the reference)."""
    from negmine.encode.sentence_transformer import l2_normalise

    vectors = model.encode(list(texts), batch_size=1, convert_to_numpy=True, normalize_embeddings=True,
                           show_progress_bar=False)
    return l2_normalise(np.asarray(vectors, dtype=np.float32))


def check_export_parity(name: str, model, onnx_vectors: Callable[[list[str]], np.ndarray]) -> None:
    """ConfigError unless ``onnx_vectors`` (a padded batch of texts -> L2-normalised vectors, negmine's ONNX
    code path) gives every parity text a vector with cosine >= :data:`MIN_COSINE` to ``model``'s torch vector,
    both with the short texts padded in one batch and with each text alone."""
    texts = parity_texts(model.tokenizer, model.max_seq_length)
    reference = torch_vectors(model, texts)
    padded = onnx_vectors(list(SHORT))
    alone = np.vstack([onnx_vectors([text]) for text in texts])
    cosines = np.concatenate([np.sum(padded * reference[: len(SHORT)], axis=1), np.sum(alone * reference, axis=1)])
    worst = int(np.argmin(np.nan_to_num(cosines, nan=-np.inf)))
    if cosines[worst] >= MIN_COSINE:
        return
    text = (SHORT + tuple(texts))[worst]
    how = f"padded in a batch of {len(SHORT)}" if worst < len(SHORT) else "alone"
    shown = text if len(text) <= 40 else f"{text[:37]}..."
    raise ConfigError(
        f"{path_setting('backend', 'onnx')}: the ONNX export of model {name!r} does not compute what the torch model "
        "computes: "
        f"parity text {shown!r} ({how}) got cosine {cosines[worst]:.6f} to its torch vector (needs >= {MIN_COSINE}); "
        f"the export was not cached; use {path_setting('backend', 'torch')} for this model"
    )
