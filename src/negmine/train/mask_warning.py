"""A warning, once per run, when false-negative margin masking leaves a step little or nothing to learn from.

With ``fn_margin`` set, a candidate the model scores above the positive's score + margin is masked
(:mod:`negmine.train.losses.masking`). A margin at or below 0 masks candidates scored *below* the positive, the
hardest true negatives; with a model whose scores sit close together (any model early on, a random one always)
it masks nearly all of them. Measured: ``--fn-margin -1`` with the tiny random test model masked 98.7% of the
candidates of a demo run, every step logged loss 0 and grad_norm 0 (a softmax over the positive alone), the
model was saved unchanged and the run ended with exit 0, with nothing said.

:class:`WarnWhenMarginMasksMost` compares each step's mask counts (the loss's :class:`MaskStats`, which every
masking loss fills, Matryoshka's dims, cached-mnrl's mini-batches and every ``--direction``'s candidates included:
the margin masks in ``doc_to_query`` and ``doc_to_doc`` too, :mod:`negmine.train.losses.directions`; the
candidates that are a row's own positive, never masked, are left out) and warns at the first step where
more than half of the candidate negatives were masked. Half, because then the loss is computed against fewer
negatives than the step has masked ones: the margin, not the data, decides what the model learns. Known and
audit-flagged false negatives are masked too, but they are a few per row; the warning is given only with a
margin, which is what can mask most of a batch. Once per run: the first such step is enough to act on, and the
same line at every step would bury the log.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from transformers import TrainerCallback

from negmine.errors import NegmineWarning, caller_stacklevel, field_option, field_setting

if TYPE_CHECKING:
    from negmine.train.losses.mnrl import MaskStats

MOST = 0.5
"""Warn when a step masked more than this share of its candidate negatives."""


class WarnWhenMarginMasksMost(TrainerCallback):
    """Warn (:class:`NegmineWarning`, once) at the first step whose mask removed most candidate negatives."""

    def __init__(self, stats: MaskStats, margin: float) -> None:
        self.stats, self.margin = stats, margin
        self.before = (0, 0, 0)
        self.warned = False

    def counts(self) -> tuple[int, int, int]:
        return self.stats.masked, self.stats.candidates, self.stats.rows

    def on_step_begin(self, args, state, control, **kwargs):
        self.before = self.counts()
        return control

    def on_step_end(self, args, state, control, **kwargs):
        masked, candidates, rows = (now - then for now, then in zip(self.counts(), self.before))
        negatives = candidates - rows
        if not self.warned and negatives > 0 and masked > MOST * negatives:
            self.warned = True
            warnings.warn(most_masked_message(self.margin, state.global_step, masked, negatives), NegmineWarning,
                          stacklevel=caller_stacklevel())
        return control


def most_masked_message(margin: float, step: int, masked: int, negatives: int) -> str:
    """What happened at ``step`` (``masked`` of its ``negatives`` candidate negatives), why, and the fix."""
    what = "every one" if masked == negatives else f"{masked / negatives:.0%}"
    effect = ("its loss was 0 and the model learned nothing from it" if masked == negatives
              else "its loss was computed against the few left")
    if margin <= 0:
        why, fix = ("a margin at or below 0 masks candidates scored at or near the positive's score, the hardest "
                    "negatives, which carry the training signal",
                    f"a margin above 0 (e.g. {field_setting('fn_margin', 0.1)})")
    else:
        why, fix = ("the model scores most candidates above its positives (an early or a mismatched model?)",
                    "a larger margin")
    return (
        f"false-negative masking with {field_option('fn_margin')} {margin!r} masked {what} of step {step}'s "
        f"{negatives} candidate negatives ({masked}), so {effect}: a candidate is masked when the model scores it "
        f"above the positive's score + fn_margin, and {why}; use {fix} or no margin "
        f"({field_setting('fn_margin', None, cli='--no-fn-margin')}, the default: known and flagged false negatives "
        "only). Said once per run; masked_fraction in negmine_train.json is the whole run's share"
    )
