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

Two more parts of the card came from the last part alone, so the card of a run resumed with a dev split differed from
the uninterrupted run's (the tiny test model, 7 steps, dev every 2, checkpoint-7 kept by a run killed while saving
the final model): its "Evaluation" section and the ``model-index`` metrics are the card's last dev evaluation,
and a run resumed from its last checkpoint makes none, so the card had neither (:func:`card_dev_metrics` puts the
checkpoint's back, which a later evaluation replaces as it would have); and its hyperparameters listed
``eval_on_start: False``, the resume's own setting (it must not evaluate its first step again), for the run's True
(:class:`RunArgumentsOnCard`).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from transformers import TrainerCallback

from negmine.train.dev_eval import DEV_METRICS, NAME, PRIMARY


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


def card_dev_metrics(log_history: list[dict]) -> dict[str, float] | None:
    """The last dev evaluation of ``log_history`` as the dev evaluator hands it to the card (``dev_ndcg@10``, ...,
    the trainer's ``eval_dev_ndcg@10`` without its ``eval_``), None when the log has none."""
    last = next((entry for entry in reversed(log_history) if f"eval_{NAME}_{PRIMARY}" in entry), None)
    if last is None:
        return None
    return {f"{NAME}_{metric}": last[f"eval_{NAME}_{metric}"] for metric in DEV_METRICS
            if f"eval_{NAME}_{metric}" in last}


class ModelCardLogsOnResume(TrainerCallback):
    """At the start of a resumed run, the restored log's entries go in front of the card's training logs, and its
    last dev evaluation (``evaluator``'s) becomes the card's evaluation results, as the uninterrupted run's card
    held them at that step."""

    def __init__(self, resumed: bool, evaluator=None) -> None:
        self.resumed, self.evaluator = resumed, evaluator

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        card = getattr(model, "model_card_data", None)
        if not self.resumed or card is None or not hasattr(card, "training_logs"):
            return
        step = state.global_step  # the checkpoint's: entries after it (none are restored) are this part's own
        card.training_logs[:0] = [row for row in card_log_entries(state.log_history) if row["Step"] <= step]
        metrics = card_dev_metrics(state.log_history)
        if self.evaluator is not None and metrics is not None and hasattr(card, "eval_results_dict"):
            card.eval_results_dict[self.evaluator] = metrics


class RunArgumentsOnCard(TrainerCallback):
    """A resumed run's card lists the training arguments the run started with where the resume sets its own
    (``started``: ``{"eval_on_start": True}`` for a run with a dev split), in its hyperparameters and, when the
    value is not the default, among the non-default ones, in the card's order. Added after the trainer is built:
    sentence-transformers' card callback fills both lists at the same event, and this one must come after it."""

    def __init__(self, started: Mapping[str, Any]) -> None:
        self.started = dict(started)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        card = getattr(model, "model_card_data", None)
        if not self.started or card is None or not hasattr(card, "all_hyperparameters"):
            return
        listed = card.all_hyperparameters
        for key in self.started.keys() & listed.keys():
            listed[key] = self.started[key]
        fields = type(args).__dataclass_fields__
        changed = {key for key in self.started if key in fields and self.started[key] != fields[key].default}
        kept = card.non_default_hyperparameters.keys() - self.started.keys()
        card.non_default_hyperparameters = {key: value for key, value in listed.items() if key in kept | changed}


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
