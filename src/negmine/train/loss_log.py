"""The trainer's loss log read as one run: the logged losses (:func:`loss_history`), their mean over every step
(:func:`mean_loss`), the last window's steps (:func:`last_window`), and the trainer's closing metrics line as a
resumed run prints it (:func:`resumed_metrics_line`).

transformers' closing line, ``{'train_runtime': ..., 'train_loss': ...}``, is of the steps the process trained:
a run resumed from checkpoint-2 of 6 steps printed ``'train_loss': '6.01'``, the mean of steps 3-6, where its
``mean_loss`` (``negmine_train.json``, the printed summary) said 5.934, the mean of steps 1-6 and the uninterrupted
run's ``train_loss``. A resumed run's line says which steps its numbers cover and gives the whole run's mean loss.
Its ``train_samples_per_second`` and ``train_steps_per_second`` are of those steps too: the same run, its steps
slowed by 0.3 s, printed ``'train_steps_per_second': '1.752'`` (4 steps over the part's 2.283 seconds) with no word
of it, beside the uninterrupted run's 1.079 (6 steps over 5.561 seconds, its first steps the slowest). The whole
run's seconds are ``negmine_train.json``'s ``timings`` (summed over the parts); negmine records no throughput.
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


PART_FIGURES = ("train_runtime", "train_samples_per_second", "train_steps_per_second")
"""The closing line's figures of the seconds the process trained, which a resumed run's line says are of its part."""


def resumed_metrics_line(shown: Mapping, resumed_at: int, step: int, log_history: Sequence[Mapping],
                         max_steps: int | None = None) -> dict:
    """The trainer's closing metrics (``shown``: ``train_runtime``, ``train_loss``, ...) as a run resumed from
    checkpoint-``resumed_at`` prints them at ``step`` (of ``max_steps``, the run's): :data:`PART_FIGURES` and
    ``train_loss`` say they cover the steps after the checkpoint only, and ``mean_loss`` after ``train_loss`` gives
    the whole run's mean (:func:`mean_loss` of ``log_history``, as ``negmine_train.json`` records it).
    ``train_loss`` is the mean of those steps read from the log, as transformers 5 computes it (transformers 4
    divided their summed loss by every step of the run, steps before the checkpoint included: the mean of no steps);
    the throughput is the part's (:func:`part_throughput`). Other entries and a run never resumed (``resumed_at``
    0) are left as they are."""
    if not resumed_at or "train_loss" not in shown:
        return dict(shown)
    part = f"steps {resumed_at + 1}-{step}"
    history = loss_history(log_history)
    whole, own = mean_loss(history), mean_loss(history, after=resumed_at)
    figures = {**shown, **part_throughput(shown, step - resumed_at, max_steps)}
    line: dict = {}
    for key, value in shown.items():
        if key in PART_FIGURES:
            value = f"{_number(figures[key])} ({part})"
        if key == "train_loss":
            value = f"{_number(value if own is None else own)} ({part} only: resumed from checkpoint-{resumed_at})"
        line[key] = value
        if key == "train_loss" and whole is not None:
            line["mean_loss"] = f"{whole:.4g} (steps 1-{history[-1]['step']}: the whole run)"
    return line


def part_throughput(shown: Mapping, steps: int, max_steps: int | None) -> dict:
    """``shown``'s ``train_samples_per_second`` and ``train_steps_per_second`` as the part of ``steps`` steps
    trained them over its ``train_runtime``. transformers 5 counts the steps this process trained, as they are;
    transformers 4 divided every step of the run (``max_steps``) and its samples by the part's seconds, a
    throughput ``max_steps / steps`` times too high: the steps the trainer counted (its steps per second times
    the runtime) tell which, and those of transformers 4 are scaled to the part's. Empty when ``shown`` lacks a
    figure or the part is the whole run."""
    runtime, rate = shown.get("train_runtime"), shown.get("train_steps_per_second")
    if not runtime or not rate or not max_steps or max_steps == steps:
        return {}
    counted = rate * runtime
    if abs(counted - max_steps) >= abs(counted - steps):
        return {}
    scale = steps / max_steps
    return {key: round(shown[key] * scale, 3) for key in PART_FIGURES[1:] if key in shown}


def _number(value) -> str:
    """``value`` as the trainer prints a float (4 significant digits)."""
    return f"{value:.4g}" if isinstance(value, float) else str(value)
