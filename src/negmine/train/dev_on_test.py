"""The warning for a training whose dev evaluation scores the test split (``negmine train --eval-split test``).

The dev evaluation's figures go to the training log, the summary and the report, and with ``keep_best`` they pick the
checkpoint the run ends with (transformers' ``load_best_model_at_end``): on the test split, the model is then chosen
by its test score, and a later ``negmine eval`` on that split overstates it. Without ``keep_best`` negmine selects
nothing by them, but a step count, learning rate or run picked by watching them is chosen on the test queries too.
A warning, not an error: the demo has no dev split, and a run may mean to watch the test split
(:class:`negmine.errors.DevOnTestSplitWarning` silences it alone).
"""

from __future__ import annotations

import warnings

from negmine.config import DevEvalConfig
from negmine.config_path import path_option, path_setting
from negmine.errors import DevOnTestSplitWarning, caller_stacklevel

TEST_SPLIT = "test"

SILENCE = ("if that is meant (no figure on this split is reported as a held-out result), silence this warning: "
           "PYTHONWARNINGS='ignore:dev evaluation on the test split' for the command, "
           "warnings.filterwarnings('ignore', category=DevOnTestSplitWarning) from Python")


def warn_dev_on_test(config: DevEvalConfig) -> None:
    """A :class:`DevOnTestSplitWarning` when ``config.split`` is the test split (any case). Called where the dev
    split has loaded, within the TrainConfig's ``dev`` (:func:`negmine.train.dev_eval.load_dev_data`), so it names
    ``dev.split (--eval-split)``."""
    if str(config.split).casefold() != TEST_SPLIT:
        return
    if config.keep_best:
        use = (f"with {path_option('keep_best')} it picks the checkpoint the run ends with by its test score, so a "
               "later negmine eval on that split overstates the model")
    else:
        use = ("its figures are test scores: a step count, learning rate or run chosen by them is chosen on the test "
               "queries, and a later negmine eval on that split overstates it")
    warnings.warn(
        f"dev evaluation on the test split ({path_setting('split', config.split)}): {use}; evaluate on a dev split "
        f"(a BEIR dev.tsv, or training queries held out of the mined file) and keep the test split for the final "
        f"negmine eval, or {SILENCE}", DevOnTestSplitWarning, stacklevel=caller_stacklevel(),
    )
