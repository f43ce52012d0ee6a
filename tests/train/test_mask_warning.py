import re
import warnings
from types import SimpleNamespace

import pytest
import torch

from negmine.errors import NegmineWarning
from negmine.train.losses.mnrl import MaskStats
from negmine.train.mask_warning import WarnWhenMarginMasksMost


def _step(callback: WarnWhenMarginMasksMost, stats: MaskStats, step: int, masks: list[torch.Tensor]) -> None:
    """One training step: the loss adds ``masks`` (one per mini-batch / Matryoshka dim) between begin and end."""
    state = SimpleNamespace(global_step=step - 1)
    callback.on_step_begin(None, state, None)
    for mask in masks:
        stats.add(mask)
    state.global_step = step
    callback.on_step_end(None, state, None)


def _mask(rows: int, columns: int, masked_per_row: int) -> torch.Tensor:
    """``rows`` rows; row r's own positive is column r (never masked), ``masked_per_row`` others masked."""
    mask = torch.zeros(rows, columns, dtype=torch.bool)
    for r in range(rows):
        others = [c for c in range(columns) if c != r]
        mask[r, others[:masked_per_row]] = True
    return mask


def test_a_step_whose_margin_masked_most_negatives_is_warned_about_once():
    """--fn-margin -1 with a tiny random model masked 98.7% of the candidates, every step's loss and grad_norm 0,
    exit 0, nothing said: the first step that masks more than half its candidate negatives is now named."""
    stats = MaskStats()
    callback = WarnWhenMarginMasksMost(stats, -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _step(callback, stats, 1, [_mask(4, 12, 5)])  # 20 of 44 negatives: under half
        _step(callback, stats, 2, [_mask(2, 12, 11), _mask(2, 12, 0)])  # 22 of 44: half, not more
    with pytest.warns(NegmineWarning) as caught:
        _step(callback, stats, 3, [_mask(4, 12, 11)])  # every negative of the step
    assert len(caught) == 1
    assert str(caught[0].message).startswith(
        "false-negative masking with fn_margin (--fn-margin) -1.0 masked every one of step 3's 44 candidate negatives "
        "(44), so its loss was 0 and the model learned nothing from it")
    assert "use a margin above 0 (e.g. fn_margin=0.1 (--fn-margin 0.1)) or no margin (fn_margin=None " \
           "(--no-fn-margin)" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _step(callback, stats, 4, [_mask(4, 12, 11)])  # said once per run


def test_the_warning_counts_the_steps_share_not_the_runs_and_names_a_positive_margins_fix():
    stats = MaskStats()
    callback = WarnWhenMarginMasksMost(stats, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for step in range(1, 4):
            _step(callback, stats, step, [_mask(4, 12, 0)])
    with pytest.warns(NegmineWarning, match=re.escape(
            "masked 82% of step 4's 44 candidate negatives (36), so its loss was computed against the few left")) as caught:
        _step(callback, stats, 4, [_mask(4, 12, 9)])  # the run's share is 36 of 176
    assert "use a larger margin or no margin" in str(caught[0].message)


def test_mask_stats_count_the_rows_masked():
    stats = MaskStats()
    stats.add(_mask(3, 6, 2))
    stats.add(_mask(1, 6, 0))
    assert (stats.masked, stats.candidates, stats.rows) == (6, 24, 4)


def test_the_warning_counts_the_margins_masks_of_every_direction():
    """--fn-margin 0.1 on a 2-row batch whose row 0 has its positive opposite its query (cosine -1.0, so the margin
    masks each of its 3 query -> document negatives, and row 1 none: 3 of 6, half, no warning), with doc_to_query
    (2 of its 2 negatives masked) and doc_to_doc (2 of 4, the documents row 0 masks): 7 of 12. Before, the margin
    masked query -> document only, and only that was counted."""
    from negmine.testing.loss_batches import circle_embeddings, distinct_labels
    from negmine.train.losses.mnrl import MaskedMultipleNegativesRankingLoss

    embeddings = circle_embeddings({"q": (2.5, 0.2), "p": (-0.7, 1.2), "n": (-1.3, 1.9)})
    loss = MaskedMultipleNegativesRankingLoss(None, fn_margin=0.1, hardness="none",
                                              directions=("query_to_doc", "doc_to_query", "doc_to_doc"))
    callback = WarnWhenMarginMasksMost(loss.mask_stats, 0.1)
    state = SimpleNamespace(global_step=0)
    callback.on_step_begin(None, state, None)
    loss.compute_loss_from_embeddings(embeddings, distinct_labels(2, 1))
    state.global_step = 1
    with pytest.warns(NegmineWarning, match=re.escape("masked 58% of step 1's 12 candidate negatives (7)")):
        callback.on_step_end(None, state, None)
