"""The trainer's loss log read as one run: the logged losses (:func:`loss_history`), their mean over every step
(:func:`mean_loss`), the last window's steps (:func:`last_window`), and the trainer's closing metrics line as a
resumed run prints it (:func:`resumed_metrics_line`).

transformers' closing line, ``{'train_runtime': ..., 'train_loss': ...}``, is of the steps the process trained:
a run resumed from checkpoint-2 of 6 steps printed ``'train_loss': '6.01'``, the mean of steps 3-6, where its
``mean_loss`` (``negmine_train.json``, the printed summary) said 5.934, the mean of steps 1-6 and the uninterrupted
run's ``train_loss``. A resumed run's line says which steps its numbers cover and gives the whole run's mean loss.
"""

from __future__ import annotations

from typing import Mapping, Sequence

LOSS_KEYS = ("step", "epoch", "loss", "learning_rate", "grad_norm", "contrastive_loss", "distill_loss")


def loss_history(log_history: Sequence[Mapping]) -> list[dict]:
    """The trainer's training-loss entries, each with the :data:`LOSS_KEYS` it has."""
    return [{k: entry[k] for k in LOSS_KEYS if k in entry} for entry in log_history if "loss" in entry]


def mean_loss(history: Sequence[Mapping], after: int = 0) -> float | None:
    """Mean training loss per step over the logged windows (of the steps after step ``after``): an entry at step
    s averages the steps since the entry before it, so each counts ``s - previous s`` times.
    :class:`negmine.train.api.LogCheckpointsAndEnd` makes the windows cover every step, and a resumed run's
    restored entries its steps before the checkpoint, at whose step an entry ends a window."""
    total, previous = 0.0, after
    for entry in history:
        if entry["step"] > after:
            total += entry["loss"] * (entry["step"] - previous)
            previous = entry["step"]
    return total / (previous - after) if previous > after else None


def last_window(history: Sequence[Mapping]) -> list[int] | None:
    """``[first, last]`` step of the last logged window of ``history``: the steps after the entry before it."""
    if not history:
        return None
    previous = history[-2]["step"] if len(history) > 1 else 0
    return [previous + 1, history[-1]["step"]]


def resumed_metrics_line(shown: Mapping, resumed_at: int, step: int, log_history: Sequence[Mapping]) -> dict:
    """The trainer's closing metrics (``shown``: ``train_runtime``, ``train_loss``, ...) as a run resumed from
    checkpoint-``resumed_at`` prints them at ``step``: ``train_runtime`` and ``train_loss`` say they cover the
    steps after the checkpoint only, and ``mean_loss`` after ``train_loss`` gives the whole run's mean
    (:func:`mean_loss` of ``log_history``, as ``negmine_train.json`` records it). ``train_loss`` is the mean of
    those steps read from the log, as transformers 5 computes it (transformers 4 divided their summed loss by every
    step of the run, steps before the checkpoint included: the mean of no steps). Other entries and a run never
    resumed (``resumed_at`` 0) are left as they are."""
    if not resumed_at or "train_loss" not in shown:
        return dict(shown)
    part = f"steps {resumed_at + 1}-{step}"
    history = loss_history(log_history)
    whole, own = mean_loss(history), mean_loss(history, after=resumed_at)
    line: dict = {}
    for key, value in shown.items():
        if key == "train_runtime":
            value = f"{_number(value)} ({part})"
        if key == "train_loss":
            value = f"{_number(value if own is None else own)} ({part} only: resumed from checkpoint-{resumed_at})"
        line[key] = value
        if key == "train_loss" and whole is not None:
            line["mean_loss"] = f"{whole:.4g} (steps 1-{history[-1]['step']}: the whole run)"
    return line


def _number(value) -> str:
    """``value`` as the trainer prints a float (4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
