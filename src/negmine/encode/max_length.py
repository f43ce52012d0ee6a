"""``--max-length`` against the longest input a model's absolute position embeddings take.

A BERT-family encoder has one learned position vector per token position (512 for MiniLM); sentence-transformers
pads and truncates to ``max_seq_length``, so a ``--max-length`` above that table let the tokenizer pass longer
texts and the model failed inside its embedding layer with a bare ``RuntimeError: The size of tensor a (300) must
match the size of tensor b (128)`` traceback: in ``negmine train`` after the model had loaded and the output folder
had been created, in ``negmine mine`` after loading and reading the data. RoBERTa-family embeddings number the
positions from ``padding_idx + 1``, so they take ``num_embeddings - padding_idx - 1`` tokens (514 - 2 = 512).
Models without an absolute position table (rotary or relative positions) have no such limit and are not checked.
"""

from __future__ import annotations

from negmine.config_path import path_setting
from negmine.errors import ConfigError


def position_limit(model) -> int | None:
    """The most tokens ``model`` (a ``SentenceTransformer``) can embed, from its first module's absolute position
    embeddings; None when it has none."""
    first = model[0] if len(model) else None
    embeddings = getattr(getattr(first, "auto_model", None), "embeddings", None)
    table = getattr(embeddings, "position_embeddings", None)
    size = getattr(table, "num_embeddings", None)
    if not isinstance(size, int):
        return None
    padding = getattr(embeddings, "padding_idx", None)
    return size - padding - 1 if isinstance(padding, int) else size


def set_max_length(model, max_length: int | None, model_name: str) -> None:
    """Set ``model.max_seq_length`` to ``max_length`` (None keeps the model's own), refusing a length its position
    embeddings cannot take with a ConfigError naming the value, the model's limit and the fix."""
    if max_length is None:
        return
    limit = position_limit(model)
    if limit is not None and max_length > limit:
        raise too_long(max_length, model_name, limit, model.max_seq_length)
    model.max_seq_length = max_length


def too_long(max_length: int, model_name: str, limit: int, own) -> ConfigError:
    """The refusal of a ``max_length`` beyond the ``limit`` tokens of ``model_name``'s position table (``own``: the
    length the model truncates to unless told), as the loaded model's check and the early one from its files
    (:mod:`negmine.encode.max_length_early`) both give it."""
    return ConfigError(
        f"{path_setting('max_length', max_length)} is more than the model {model_name!r} can take: its position "
        f"embeddings hold {limit} tokens, so a longer text would fail inside the model; use "
        f"{path_setting('max_length', limit)} or less, or leave it unset (the model's own {own})"
    )
