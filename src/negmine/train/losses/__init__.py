"""Training losses, by ``TrainConfig.loss`` name. Each builder takes the model and the config."""

from __future__ import annotations

from typing import Callable

from torch import nn

from negmine.config import TrainConfig
from negmine.errors import unknown_choice


def _mnrl(model, config: TrainConfig) -> nn.Module:
    from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

    return MaskedMultipleNegativesRankingLoss(
        model, scale=config.scale, fn_mask=config.fn_mask, fn_margin=config.fn_margin, hardness=config.hardness,
        hardness_strength=config.hardness_strength, directions=config.directions,
        partition_mode=config.partition_mode, distill=distillation(config), debias_prior=config.debias_prior,
        additive_margin=config.additive_margin, focal_gamma=config.focal_gamma,
    )


def _cached_mnrl(model, config: TrainConfig) -> nn.Module:
    from negmine.train.losses.cached_mnrl import MaskedCachedMultipleNegativesRankingLoss

    return MaskedCachedMultipleNegativesRankingLoss(
        model, scale=config.scale, mini_batch_size=config.mini_batch_size, fn_mask=config.fn_mask,
        fn_margin=config.fn_margin, hardness=config.hardness, hardness_strength=config.hardness_strength,
        directions=config.directions, partition_mode=config.partition_mode, distill=distillation(config),
        debias_prior=config.debias_prior, additive_margin=config.additive_margin, focal_gamma=config.focal_gamma,
    )


def distillation(config: TrainConfig):
    """The distillation term ``config`` asks for (None: off), its teacher temperature resolved
    (:func:`negmine.train.teacher_scores.teacher_temperature`)."""
    from negmine.train.losses.distill import Distillation
    from negmine.train.teacher_scores import teacher_temperature

    if config.distill == "none":
        return None
    return Distillation(config.distill, float(config.distill_weight), teacher_temperature(config),
                        fn_mask=config.fn_mask, fn_margin=config.fn_margin)


LOSSES: dict[str, Callable[[object, TrainConfig], nn.Module]] = {"mnrl": _mnrl, "cached-mnrl": _cached_mnrl}


def build_loss(model, config: TrainConfig) -> nn.Module:
    """The configured loss for ``model``, wrapped in a Matryoshka loss when ``config.matryoshka_dims`` is set
    (:mod:`negmine.train.losses.matryoshka`); unknown names list the registry keys."""
    if config.loss not in LOSSES:
        raise unknown_choice("loss", config.loss, LOSSES, "loss")
    loss = LOSSES[config.loss](model, config)
    if config.matryoshka_dims is None:
        return loss
    from negmine.train.losses.matryoshka import matryoshka_loss

    return matryoshka_loss(model, loss, config)
