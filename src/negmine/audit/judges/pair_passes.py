"""Cross-encoder scores that do not depend on the pairs scored with them (on the CPU).

sentence-transformers' ``CrossEncoder.predict`` pads each batch to its longest pair, and a pair's score moved in
its last bits with the pairs that shared its batch: a score cached by one run differed from a cold run's, and
``--cross-encoder-batch-size`` or the set of candidates could flip a flag at a threshold's edge. Padding is not
the only cause. Measured 2026-12-05 on the 2-core Intel Xeon (MKL, torch 2.13), random BERT cross-encoders run
on passes of equal token length (no padding) against each pair alone:

- the encoder's hidden states were bit-identical only while the matrix products of both runs fell in the same
  MKL regime, which depends on the rows in the product (pairs x tokens), the layer sizes and the thread count:
  at hidden size 384 (FFN 768) rows below 16 differed from more; at 384/1536 with 2 threads 60-192 rows differed
  from 16-48 and from 200 up; at 768/3072 with 2 threads up to about 400 rows differed (1 thread: below 16 only);
- the classification head (pooler and one-output layer, one row per pair) differed from the pair alone for
  nearly every pass of 2 or more pairs (55-63 of 64 pairs at hidden size 384, any token count);
- torch's vectorised sigmoid (the default activation) gave some logits of a pass of 10 or 32 other last bits than
  the same logit alone.

So passes of equal length alone (the bi-encoder's fix) left 16 of 200 scores different from the pair scored alone
(hidden size 384, 6 layers), and no threshold on a pass's size holds for every model and machine. Here every
``torch.nn.Linear`` of the model runs one pair at a time (:func:`linears_per_pair`): each matrix product has the
rows and the bytes it has when the pair is scored alone, while the embeddings, attention and layer norms still
run on the whole pass (they do not mix pairs), and the model's activation function is applied to one pair's
logits at a time (:func:`row_by_row`). A pair's score is then the bits ``model.predict([pair])`` gives, whatever
else is in the call and whatever the batch size (the score of ``--cross-encoder-batch-size 1`` before): checked on
hidden sizes 32 to 768, 1 and 2 threads. Each pass goes through ``model.predict`` itself, so the activation
function, upcasting, squeezing and label handling are the model's own. The cost is about batch size 1's (the linears
are most of the work); with pairs of many token counts it was below the padded batches' (docs/mining.md). Off the
CPU passes are of equal length but the linears run batched (a GPU's kernels give no such guarantee, and one pair
per product would waste it).
"""

from __future__ import annotations

import contextlib
from typing import Sequence

import numpy as np

from negmine.encode.sentence_transformer import TOKENIZE_CHUNK, equal_length_batches


def batch_independent(model) -> bool:
    """Whether ``model`` is a sentence-transformers (6) ``CrossEncoder`` this module can run: a torch module with
    ``preprocess`` (the tokenization ``predict`` uses). Other objects (a score cache, a test double, sentence-
    transformers 5's CrossEncoder) are asked through their own ``predict``."""
    return callable(getattr(model, "preprocess", None)) and callable(getattr(model, "modules", None))


def pair_token_lengths(model, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Tokens of each pair as ``model.predict`` feeds it to the model (special tokens in, truncated as the model's
    max length says)."""
    lengths = np.empty(len(pairs), dtype=np.int64)
    for start in range(0, len(pairs), TOKENIZE_CHUNK):
        chunk = list(pairs[start : start + TOKENIZE_CHUNK])
        lengths[start : start + len(chunk)] = model.preprocess(chunk)["attention_mask"].sum(dim=1).numpy()
    return lengths


def _one_pair_at_a_time(linear, rows: int):
    import torch
    import torch.nn.functional as F

    def forward(x):
        if rows == 1 or x.dim() < 2 or x.shape[0] != rows:
            return F.linear(x, linear.weight, linear.bias)
        return torch.cat([F.linear(x[i : i + 1], linear.weight, linear.bias) for i in range(rows)])

    return forward


def row_by_row(activation_fn):
    """``activation_fn`` applied to one pair's scores at a time (None stays None): torch's vectorised sigmoid gave
    some of 32 logits other last bits than the same logit alone (4 of 100 scores, hidden size 384, passes of 32 and
    10 pairs of 128 tokens, whose logits were bit-identical)."""
    if activation_fn is None:
        return None

    def apply(scores):
        import torch

        if scores.dim() == 0 or scores.shape[0] <= 1:
            return activation_fn(scores)
        return torch.cat([activation_fn(scores[i : i + 1]) for i in range(scores.shape[0])])

    return apply


@contextlib.contextmanager
def linears_per_pair(model, rows: int):
    """Within the block, every ``torch.nn.Linear`` of ``model`` (one whose forward is Linear's) given an input of
    ``rows`` pairs (first dimension) runs on one pair's slice at a time and concatenates the results; inputs of
    another first dimension (a model that flattens its tokens) run as they are. Put back afterwards."""
    import torch

    linears = [m for m in model.modules() if type(m).forward is torch.nn.Linear.forward]
    try:
        for linear in linears:
            linear.forward = _one_pair_at_a_time(linear, rows)
        yield
    finally:
        for linear in linears:
            linear.__dict__.pop("forward", None)


def predict_pairs(model, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
    """``model.predict(pairs)`` scores, in input order, each pair's independent of the other pairs and of
    ``batch_size`` on the CPU (see the module docstring): passes of at most ``batch_size`` pairs of equal token
    length (:func:`equal_length_batches`), each through ``model.predict`` with its linears and its activation run one
    pair at a time; the pairs whose token count no other pair shares go through one ``predict`` call at batch size 1
    (a call per pass cost the tiny model 1.5x the time of batch size 1 on 11-pair calls, ``--denoise``'s).
    A model :func:`batch_independent` does not accept is asked ``model.predict(pairs, batch_size=...)``."""
    pairs = list(pairs)
    if not batch_independent(model):
        return np.asarray(model.predict(pairs, batch_size=batch_size, show_progress_bar=False))
    if not pairs:
        return np.zeros(0, dtype=np.float32)
    on_cpu = getattr(getattr(model, "device", None), "type", "cpu") == "cpu"
    passes = equal_length_batches(pair_token_lengths(model, pairs), batch_size)
    singles = [rows for rows in passes if len(rows) == 1]
    scored = [(rows, _predict(model, [pairs[int(i)] for i in rows], len(rows), on_cpu))
              for rows in passes if len(rows) > 1]
    if singles:
        rows = np.concatenate(singles)
        scored.append((rows, _predict(model, [pairs[int(i)] for i in rows], 1, False)))
    out = np.empty((len(pairs), *scored[0][1].shape[1:]), dtype=scored[0][1].dtype)
    for rows, got in scored:
        out[rows] = got
    return out


def _predict(model, batch: list, batch_size: int, split: bool) -> np.ndarray:
    """``model.predict(batch)`` in passes of ``batch_size``; ``split``: the linears and the activation run one pair
    at a time (a pass of several pairs on the CPU)."""
    split = split and batch_size > 1
    with linears_per_pair(model, batch_size) if split else contextlib.nullcontext():
        activation = row_by_row(getattr(model, "activation_fn", None)) if split else None
        return np.asarray(model.predict(batch, batch_size=batch_size, show_progress_bar=False,
                                        activation_fn=activation))
