"""Matryoshka representation learning (Kusupati et al. 2022) around negmine's MNRL losses.

sentence-transformers' ``MatryoshkaLoss`` sums the wrapped loss computed on the embeddings cut to their first
``d`` dims and L2-normalised again (``shrink``), for each ``d`` of ``matryoshka_dims`` (largest first), weighted
by ``matryoshka_weights``. It cuts the embeddings where negmine's losses read them, so the false-negative mask,
the hardness weights and the extra directions are all computed from the cut vectors at every dimension:

- ``mnrl``: the model's ``forward`` is wrapped while the loss runs (``ForwardDecorator``): the model runs once,
  its output is cut for each dim, and :meth:`MaskedMultipleNegativesRankingLoss.compute_loss_from_embeddings`
  sees the cut embeddings with the batch's labels;
- ``cached-mnrl``: the loss's ``calculate_loss`` is wrapped (``CachedLossDecorator``): the cached embeddings are
  cut for each dim and :meth:`MaskedCachedMultipleNegativesRankingLoss.calculate_loss` runs on them.

One difference from sentence-transformers' own ``forward``, hence :class:`MaskedMatryoshkaLoss`: it also cuts
the labels to the first ``d`` columns when they are a 2-D tensor as wide as the model's embedding (meant for
distillation losses whose labels are teacher embeddings). negmine's labels are a 2-D row of text keys
(:mod:`negmine.train.labels`) whose width is ``3 + 2N + P``; when that equalled the embedding dimension, the
known positives (and then the negatives' keys and flags) were cut off and no longer masked. The labels reach
the loss whole here.

The mask counts (``mask_stats``) add up the candidates of every dimension, so the reported ``masked_fraction``
is the mean over the dims (the same at each dim unless ``fn_margin`` masks by score).

``matryoshka_dims_per_step`` is sentence-transformers' ``n_dims_per_step``: ``-1`` trains every dim at each step,
``k`` a random sample of ``k`` dims (Python's ``random``, which the trainer seeds and a checkpoint restores).
sentence-transformers' ``CachedLossDecorator`` samples for ``cached-mnrl``; :class:`MaskedMatryoshkaLoss` replaces
its ``forward``, so it samples as that ``forward`` does (largest sampled dim first: the cut reuses the previous).
"""

from __future__ import annotations

import logging
import random
import sys
import warnings
from typing import Iterable

from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss, MatryoshkaLoss
from torch import Tensor, nn

from negmine.config import TrainConfig
from negmine.errors import NegmineWarning, caller_stacklevel
from negmine.train.preflight import refuse_dims_beyond


def embedding_dimension(model) -> int:
    """The dimension of the model's ``forward`` output (the one the loss cuts), whatever its ``truncate_dim``."""
    from negmine.encode.sentence_transformer import embedding_dimension as encoder_dimension

    untruncated = getattr(model, "_get_untruncated_embedding_dimension", None)  # sentence-transformers >= 6
    dim = untruncated() if untruncated is not None else None
    return int(dim) if dim is not None else encoder_dimension(model)


def check_model_dimension(model, config: TrainConfig) -> None:
    """ConfigError when a Matryoshka dim exceeds the loaded model's embedding dimension (checked right after
    the model loads, before any training work; a local folder's is checked before it loads, in
    :func:`negmine.train.preflight.check_matryoshka_dims_early`)."""
    refuse_dims_beyond(config, embedding_dimension(model))


class MaskedMatryoshkaLoss(MatryoshkaLoss):
    """``MatryoshkaLoss`` that hands negmine's label tensor to the wrapped loss uncut (see the module docstring)
    and exposes the wrapped loss's ``mask_stats`` and ``distill_parts``."""

    @property
    def mask_stats(self):
        return getattr(self.loss, "mask_stats", None)

    @property
    def distill_parts(self):
        return getattr(self.loss, "distill_parts", None)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        if isinstance(self.loss, CachedMultipleNegativesRankingLoss):  # calculate_loss is wrapped instead
            return self.loss(sentence_features, labels)
        original_forward = self.model.forward
        decorated = sys.modules[MatryoshkaLoss.__module__].ForwardDecorator(original_forward)
        self.model.forward = decorated
        try:
            loss = 0.0
            for index in self.step_dims():  # largest first: the cut reuses the previous dim's cut output
                decorated.set_dim(self.matryoshka_dims[index])
                loss = loss + self.matryoshka_weights[index] * self.loss(sentence_features, labels)
        finally:
            self.model.forward = original_forward
        return loss

    def step_dims(self) -> list[int]:
        """The indices of the dims this step trains, in order: all, or a sample of ``n_dims_per_step`` of them
        drawn as sentence-transformers' own ``forward`` draws it (the same draws for the same seed)."""
        indices = range(len(self.matryoshka_dims))
        if 0 < self.n_dims_per_step < len(indices):
            return sorted(random.sample(indices, self.n_dims_per_step))
        return list(indices)


def matryoshka_loss(model, loss: nn.Module, config: TrainConfig) -> nn.Module:
    """``loss`` trained at every dim of ``config.matryoshka_dims`` (checked against the model's dimension)."""
    check_model_dimension(model, config)
    warn_full_dimension_left_out(config, embedding_dimension(model))
    weights = list(config.matryoshka_weights) if config.matryoshka_weights is not None else None
    st_logger = logging.getLogger(MatryoshkaLoss.__module__)
    st_logger.addFilter(_same_warning)  # negmine's own warning line says it, with the fix
    try:
        return MaskedMatryoshkaLoss(model, loss, list(config.matryoshka_dims), matryoshka_weights=weights,
                                    n_dims_per_step=config.matryoshka_dims_per_step)
    finally:
        st_logger.removeFilter(_same_warning)


def _same_warning(record: logging.LogRecord) -> bool:
    return "is not included in matryoshka_dims" not in record.getMessage()


def warn_full_dimension_left_out(config: TrainConfig, dim: int) -> None:
    """A NegmineWarning when ``config.matryoshka_dims`` leave out the model's own dimension ``dim``: the full
    vectors are then never trained. sentence-transformers logs this as a raw line of its own, outside negmine's
    ``warning:`` lines and without the option that adds it."""
    dims = tuple(config.matryoshka_dims or ())
    if not dims or dim in dims:
        return
    weights = " (and a weight for it in --matryoshka-weights)" if config.matryoshka_weights is not None else ""
    warnings.warn(
        f"matryoshka_dims {dims!r} leave out the model's embedding dimension {dim}: its full vectors are not trained, "
        f"so the saved model is worse at full size than cut to a trained dim (--truncate-dim); add it, e.g. "
        f"--matryoshka-dims {','.join(map(str, sorted({dim, *dims}, reverse=True)))}{weights}",
        NegmineWarning, stacklevel=caller_stacklevel())
