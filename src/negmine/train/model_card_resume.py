"""A resumed run's model card (the saved model's ``README.md``) lists the whole run's training logs.

sentence-transformers' model card collects its "Training Logs" table as the trainer logs, in the process that
trains (``model_card_data.training_logs``), and a checkpoint does not keep it: a SciFact run stopped after
checkpoint-10 and resumed (``--checkpoint-steps 5 --max-steps 30``) saved the same weights as the run without the
stop, byte for byte, but its card's table began at step 15, where the uninterrupted run's began at step 1. The
trainer's own log (``state.log_history``), which every checkpoint saves and a resume restores, holds the earlier
entries: :class:`ModelCardLogsOnResume` puts their training losses and dev scores back in front of the card's
table when a resumed run begins, as the card's callback writes them.
"""

from __future__ import annotations

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
