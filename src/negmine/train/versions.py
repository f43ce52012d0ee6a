"""Which runs each ``TRAINING_VERSION`` bump changed, so a model recorded at an earlier version can be reused.

Since version 5 each bump names the settings whose runs it changes; every other run trains bit for bit as before
(measured on the demo at each bump). A model recorded at 5 or later is what the current code would train when
no bump after its version changed its settings; one recorded before 5 always counts as changed.
"""

from __future__ import annotations

from typing import Callable

from negmine.config import TrainConfig
from negmine.train import TRAINING_VERSION

FIRST_SCOPED_VERSION = 5


def _remines(config: TrainConfig) -> bool:
    return config.remine


def _margin_masks_extra_directions(config: TrainConfig) -> bool:
    return config.fn_mask and config.fn_margin is not None and bool(
        {"doc_to_query", "doc_to_doc"} & set(config.directions))


def _batches_by_topic(config: TrainConfig) -> bool:
    return config.batching == "topic"


def _masks_queries_sharing_a_positive(config: TrainConfig) -> bool:
    return config.fn_mask and "query_to_query" in config.directions


def _weights_rows_by_focal_loss(config: TrainConfig) -> bool:
    return config.focal_gamma > 0


CHANGED_RUNS: dict[int, Callable[[TrainConfig], bool]] = {
    6: _remines,  # re-mining runs' no-duplicates batching compares the re-mined negatives
    7: _margin_masks_extra_directions,  # --fn-margin masks in doc_to_query and doc_to_doc
    8: _batches_by_topic,  # topic batching swaps rows apart that repeat a text (and compares re-mined negatives)
    9: _masks_queries_sharing_a_positive,  # query_to_query masks queries that share a known positive with the row
    10: _batches_by_topic,  # topic batching also swaps where that lowers (not only removes) the rows sharing a text
    11: _weights_rows_by_focal_loss,  # focal weights in log space: equal to float rounding at gamma 1, no underflow
}
"""Version -> whether that bump changed the model ``config`` trains."""


def trains_unchanged(recorded_version: int, config: TrainConfig) -> bool:
    """True when the current code trains ``config`` as ``recorded_version`` did."""
    if recorded_version == TRAINING_VERSION:
        return True
    if recorded_version < FIRST_SCOPED_VERSION or recorded_version > TRAINING_VERSION:
        return False
    return not any(changed(config) for version, changed in CHANGED_RUNS.items() if version > recorded_version)
