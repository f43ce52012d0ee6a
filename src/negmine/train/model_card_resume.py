"""A resumed run's model card (the saved model's ``README.md``) lists the whole run's training logs and time.

sentence-transformers' model card collects its "Training Logs" table as the trainer logs, in the process that
trains (``model_card_data.training_logs``), and a checkpoint does not keep it: a SciFact run stopped after
checkpoint-10 and resumed (``--checkpoint-steps 5 --max-steps 30``) saved the same weights as the run without the
stop, byte for byte, but its card's table began at step 15, where the uninterrupted run's began at step 1. The
trainer's own log (``state.log_history``), which every checkpoint saves and a resume restores, holds the earlier
entries: :class:`ModelCardLogsOnResume` puts their training losses and dev scores back in front of the card's
table when a resumed run begins, as the card's callback writes them.

The card's "Training Time" was the last part's alone, the same way (the card times the process that trains): the
tiny test model stopped after checkpoint-2 of 5 steps and resumed said 7.6 seconds of the run's 12.6. Each part's
seconds are in the checkpoint's log (:class:`negmine.train.api.PartTimingsInLog`): :class:`WholeRunTimeOnCard` has
a resumed run's card show their sums, as ``negmine_train.json``'s ``timings`` do, and say how many parts they sum
(:func:`card_training_time`).
"""

from __future__ import annotations

from typing import Callable, Sequence

from transformers import TrainerCallback

from negmine.train.dev_eval import NAME, PRIMARY


def card_log_entries(log_history: list[dict]) -> list[dict]:
    """The model card's training-log rows for ``log_history``'s entries: ``Epoch``, ``Step``, ``Training Loss``
    (a loss entry) and the dev evaluation's primary score under the evaluator's name (``dev_ndcg@10``), one row per
    step, as sentence-transformers' card callback and evaluator write them."""
    dev_key = f"{NAME}_{PRIMARY}"
    rows: list[dict] = []
    for entry in log_history:
        values = {}
        if "loss" in entry:
            values["Training Loss"] = entry["loss"]
        if f"eval_{dev_key}" in entry:
            values[dev_key] = entry[f"eval_{dev_key}"]
        if not values:
            continue
        if rows and rows[-1]["Step"] == entry.get("step"):
            rows[-1].update(values)
        else:
            rows.append({"Epoch": entry.get("epoch"), "Step": entry.get("step"), **values})
    return rows


class ModelCardLogsOnResume(TrainerCallback):
    """At the start of a resumed run, the restored log's entries go in front of the card's training logs."""

    def __init__(self, resumed: bool) -> None:
        self.resumed = resumed

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        card = getattr(model, "model_card_data", None)
        if not self.resumed or card is None or not hasattr(card, "training_logs"):
            return
        step = state.global_step  # the checkpoint's: entries after it (none are restored) are this part's own
        card.training_logs[:0] = [row for row in card_log_entries(state.log_history) if row["Step"] <= step]


def card_training_time(parts: Sequence[dict | None]) -> dict[str, str | None]:
    """The card's "Training Time" lines (``training_time``, ``evaluation_time``, ``total_time``, as
    sentence-transformers' card fills them) for a run of ``parts``
    (:attr:`negmine.train.api.TrainResult.timings_parts`: each ``{"until_step", "seconds"}``, None for a part an
    older negmine's checkpoint did not record): the parts' ``train`` seconds summed, the dev evaluations' among them
    (``evaluate``) apart, as the card shows one run's."""
    try:
        from sentence_transformers.base.model_card import format_duration
    except ImportError:  # before sentence-transformers moved it (negmine.library_bars names both places)
        from sentence_transformers.model_card import format_duration

    recorded = [part["seconds"] for part in parts if part is not None]
    train = sum(seconds.get("train", 0.0) for seconds in recorded)
    evaluate = sum(seconds.get("evaluate", 0.0) for seconds in recorded)
    over = f"{len(parts)} parts"
    if len(recorded) < len(parts):
        over = f"the {len(recorded)} of {over} recorded"
    note = f" over {over} (a resumed run; a part counted to the checkpoint the next one went on from)"
    return {"training_time": format_duration(train - evaluate) + note,
            "evaluation_time": format_duration(evaluate) if evaluate else None,
            "total_time": format_duration(train) if evaluate else None}


class WholeRunTimeOnCard(TrainerCallback):
    """A resumed run's card shows the training time of all its parts (:func:`card_training_time`); ``parts(step)``
    gives them, this one's up to now at ``step``. A run never resumed keeps the card's own."""

    def __init__(self, resumed: bool, parts: Callable[[int], Sequence[dict | None]]) -> None:
        self.resumed, self.parts = resumed, parts

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        card = getattr(model, "model_card_data", None)
        if not self.resumed or card is None or not hasattr(card, "get_training_duration_data"):
            return
        # the card calls it as it renders (each checkpoint's, the final model's): an instance attribute wins
        card.get_training_duration_data = lambda: card_training_time(self.parts(state.global_step))
