"""Dev-split evaluation during training, measured exactly as ``negmine eval`` measures.

:class:`DevEvaluator` is a sentence-transformers evaluator (the trainer calls it on its evaluation schedule
and logs ``eval_dev_<metric>``): the model being trained encodes the whole corpus and the split's judged
queries at its full ``max_seq_length`` (training may truncate shorter), retrieves the top 100 by cosine
(:func:`negmine.evaluate.dense_eval.retrieve_run`) and is scored with ranx (:func:`evaluate_run`), so a dev
figure logged here equals what ``negmine eval`` reports for the saved checkpoint. Nothing goes to the
embedding cache: every evaluation sees different weights.

Each evaluation also logs ``judged@10`` (:func:`negmine.evaluate.judged.judged_at_k`, through
:func:`evaluate_run`, as ``negmine eval`` reports it): the share of each query's top 10 with any judgment, which
says whether the other figures can be trusted on partial qrels. How many queries each evaluation scores (the
split's with a relevant judgment) is a fact of the split, the same at every evaluation: said once, in the line
printed as training begins (:class:`DevLineProgress`), the summary's ``dev_queries_evaluated`` and the model
card's evaluation parameters (:meth:`DevEvaluator.get_config_dict`). Checkpoint selection (``--keep-best``)
stays on :data:`PRIMARY`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sentence_transformers import SentenceTransformerTrainer
from sentence_transformers.sentence_transformer.evaluation import SentenceEvaluator
from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback

from negmine.config import DataConfig, DevEvalConfig
from negmine.errors import caller_stacklevel
from negmine.io.records import Dataset, TextTable

DEV_METRICS = ("ndcg@10", "mrr@10", "recall@100", "map", "judged@10")
"""What each dev evaluation scores, as ``negmine eval``'s default metrics (``judged@10`` since 2026-12-07)."""
PRIMARY = "ndcg@10"
NAME = "dev"


def load_dev_data(config: DevEvalConfig) -> Dataset:
    """The validated BEIR split (errors name file, line and field before any model loads). A DevEvalConfig is the
    ``dev`` of a TrainConfig, so the messages name its fields from there, with ``negmine train``'s options
    (:func:`negmine.config_path.within`): ``dev.split (--eval-split)``, ``dev.unknown_qrels='skip' (--unknown-qrels
    skip)``; the DataConfig it loads through has the same field names."""
    from negmine.config import TrainConfig
    from negmine.config_path import within

    from negmine.train.dev_on_test import warn_dev_on_test

    with within(TrainConfig, "dev"):
        dataset = _load_dev_data(config)
        warn_dev_on_test(config)  # once the split has loaded: a missing split is refused first
        return dataset


def _load_dev_data(config: DevEvalConfig) -> Dataset:
    from negmine.errors import ConfigError
    from negmine.io.beir import check_beir_dir, qrels_path
    from negmine.io.load import load_data

    qrels_path(check_beir_dir(config.data_dir), config.split)  # before the corpus loads: the split's fix first
    dataset = load_data(DataConfig(data_dir=Path(config.data_dir), split=config.split,
                                   unknown_qrels=config.unknown_qrels))
    if not dataset.judged_qrels().query_ids():
        raise ConfigError(f"{dataset.qrels.source}: no query has a relevant judgment; nothing to evaluate on")
    if config.max_documents is not None and len(dataset.corpus) > config.max_documents:
        dataset = dataclasses.replace(dataset, corpus=sample_corpus(dataset, config.max_documents))
    return dataset


def sample_corpus(dataset: Dataset, size: int, seed: int = 0) -> TextTable:
    """Every corpus document judged in ``dataset``'s qrels, plus a seeded uniform draw of the others up to
    ``size`` documents (all judged ones even when they are more), in corpus order."""
    import numpy as np

    qrels = dataset.judged_qrels()
    judged = {doc for docs in qrels.judgments.values() for doc in docs}
    keep = np.array([doc_id in judged for doc_id in dataset.corpus.ids])
    others = np.flatnonzero(~keep)
    room = max(size - int(keep.sum()), 0)
    keep[np.random.default_rng(seed).choice(others, size=min(room, len(others)), replace=False)] = True
    rows = np.flatnonzero(keep)
    corpus = dataset.corpus
    return TextTable([corpus.ids[i] for i in rows], [corpus.texts[i] for i in rows],
                     f"{corpus.source} (sample of {len(rows)} of {len(corpus)} documents)")


class DevEvaluator(SentenceEvaluator):
    """``negmine eval``'s dense run and metrics on one dataset, as a trainer evaluator."""

    def __init__(
        self, dataset: Dataset, max_seq_length: int, precision: str = "fp32", batch_size: int = 64,
        query_prompt: str = "", document_prompt: str = "", show_progress: bool = False,
    ) -> None:
        super().__init__()
        self.dataset, self.max_seq_length, self.precision = dataset, max_seq_length, precision
        self.show_progress = show_progress
        self.batch_size, self.query_prompt, self.document_prompt = batch_size, query_prompt, document_prompt
        self.name = NAME
        self.primary_metric = PRIMARY
        self.greater_is_better = True
        self.queries_evaluated = count_evaluated_queries(dataset)

    def get_config_dict(self) -> dict[str, int]:
        """What the model card lists under the dev evaluation's scores: the number of queries each evaluation
        scored (a fact of the split, the same at every evaluation, so not among the logged metrics)."""
        return {"queries_evaluated": self.queries_evaluated}

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        from negmine.evaluate.dense_eval import retrieve_run
        from negmine.evaluate.metrics import evaluate_run
        from negmine.train.remine import TrainingModelEmbedder

        training_length = model.max_seq_length
        model.max_seq_length = self.max_seq_length
        try:
            embedder = TrainingModelEmbedder(model, max(steps, 0), self.batch_size, self.precision, self.show_progress)
            run = retrieve_run(embedder, self.dataset, depth=100, cache=None, query_prompt=self.query_prompt,
                               document_prompt=self.document_prompt, name=f"step-{steps}",
                               label=f"dev split, step {max(steps, 0)}")
        finally:
            model.max_seq_length = training_length
            if output_path is not None:  # also when stopped (Ctrl-C) in the evaluation: see remove_if_empty
                remove_if_empty(Path(output_path))
        scores = evaluate_run(self.dataset.judged_qrels(), run, DEV_METRICS).mean
        metrics = self.prefix_name_to_metrics({k: float(scores[k]) for k in DEV_METRICS}, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics


def count_evaluated_queries(dataset: Dataset) -> int:
    """How many queries a dev evaluation of ``dataset`` scores: its split's queries with a relevant judgment, as
    :func:`evaluate_run` picks them (``negmine eval``'s ``queries_evaluated``)."""
    from negmine.evaluate.metrics import evaluated_query_ids

    return len(evaluated_query_ids(dataset.judged_qrels()))


def dev_queries_line(queries: int) -> str:
    """The line printed once as a run with a dev split begins: how many queries each evaluation scores."""
    counted = "1 query" if queries == 1 else f"{queries} queries"
    return (f"dev evaluation: {counted} scored at each evaluation (the split's queries with a relevant judgment); "
            "judged@10 is the share of their top 10 with any judgment")


def remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` if it is an empty directory. sentence-transformers' trainer creates
    ``<checkpoints>/eval`` before each evaluation, as the ``output_path`` of the evaluator's CSV files; negmine's
    dev evaluator writes none (its scores go to the trainer's log and the summary), so it removes the folder at the
    end of each evaluation. Removed only at the end of the run before, a run stopped by Ctrl-C (or an error) left
    an empty ``checkpoints/eval`` that nothing ever read. A folder that holds anything (a user's file) stays."""
    try:
        folder.rmdir()
    except OSError:  # missing, not empty, or not a directory: nothing to do
        pass


class MeasuringTrainer(SentenceTransformerTrainer):
    """A trainer whose evaluations only measure: what one draws from torch's global generator (the trainer's
    evaluation loop does) is given back, so the run's dropout masks, and with them its weights, are those of
    the same run without a dev split (training on a GPU, its generator too: dropout masks are drawn there)."""

    def evaluate(self, *args, **kwargs):
        import torch

        with torch.random.fork_rng(devices=rng_devices(self.args.device)):
            return super().evaluate(*args, **kwargs)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """A training-loss entry of a distilling run gets the loss's two parts after ``loss``'s own keys
        (:class:`negmine.train.losses.distill.DistillParts`): printed, and kept in the log every checkpoint saves."""
        parts = getattr(self.loss, "distill_parts", None)
        if parts is not None and "loss" in logs:
            logs = {**logs, **parts.log_entry()}
        return super().log(logs, start_time)


EVAL_THROUGHPUT = ("eval_samples_per_second", "eval_steps_per_second")
"""The trainer's throughput keys of an evaluation: it counts the samples of an evaluation dataset, and negmine's
dev evaluation has none (its evaluator encodes the split itself), so they are always 0."""


class DevLineProgress(ProgressCallback):
    """transformers' ProgressCallback (the bars, and each log entry written above them), with three changes.

    Its dev evaluation lines leave out :data:`EVAL_THROUGHPUT`: every dev line printed
    ``'eval_samples_per_second': '0', 'eval_steps_per_second': '0'`` after the scores, figures that read as a broken
    evaluation. The trainer's log (and the summary, :func:`dev_history`) is unchanged; ``eval_runtime`` stays, the
    seconds the evaluation took.

    Its step bar opens through :func:`negmine.progress.progress_bar`, as every negmine bar does: in a log (stderr a
    file or a pipe) it writes lines, at most one every 30 s and the last, where tqdm's bar left a carriage-return
    redraw per step (the demo's 5 steps: 25 carriage returns in the log). On a terminal or in a notebook it is the
    trainer's own bar.

    A resumed run's closing line (``train_runtime``, its throughput and ``train_loss``: the trainer's, of the steps
    this process trained) says it covers the steps after the checkpoint only and gives the whole run's
    ``mean_loss`` (:func:`negmine.train.loss_log.resumed_metrics_line`).

    Given ``dev_queries`` (a run with a dev split), it writes :func:`dev_queries_line` once, above the bar as
    training begins: the count is the same at every evaluation, so the dev lines do not repeat it."""

    resumed_at = 0
    """The step the run went on from (its checkpoint's), 0 for a run that started afresh."""

    def __init__(self, dev_queries: int | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.dev_queries = dev_queries

    def on_train_begin(self, args, state, control, **kwargs):
        from negmine.progress import progress_bar

        if state.is_world_process_zero:
            self.training_bar = progress_bar(total=state.max_steps, show=True, dynamic_ncols=True)
            if self.dev_queries is not None:
                self.training_bar.write(dev_queries_line(self.dev_queries))
        self.current_step = 0
        self.resumed_at = state.global_step  # a resumed trainer's state is the checkpoint's by now

    def on_log(self, args, state, control, logs=None, **kwargs):
        from negmine.train.loss_log import resumed_metrics_line

        shown = {key: value for key, value in (logs or {}).items() if key not in EVAL_THROUGHPUT}
        if self.resumed_at:
            shown = resumed_metrics_line(shown, self.resumed_at, state.global_step, state.log_history,
                                         state.max_steps)
        return super().on_log(args, state, control, logs=shown, **kwargs)


def use_negmine_progress(trainer, dev_queries: int | None = None) -> None:
    """Put :class:`DevLineProgress` in the place of the trainer's ProgressCallback (present when its bars are on),
    with or without a dev split: its step bar is a negmine bar either way. ``dev_queries``: the dev evaluation's
    query count (None: no dev split)."""
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(DevLineProgress(dev_queries))


def rng_devices(device) -> list:
    """The devices besides the CPU whose random generator :meth:`MeasuringTrainer.evaluate` puts back: the
    training GPU (``torch.random.fork_rng`` forks CUDA generators; none when training on the CPU)."""
    return [device] if device.type == "cuda" else []


class EvaluateAtEnd(TrainerCallback):
    """Evaluate the last step when it falls between two evaluations (transformers 5 does so itself; 4.x does not,
    and ``--keep-best`` would then never see the final weights)."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps and args.eval_strategy == "steps" and state.global_step % state.eval_steps:
            control.should_evaluate = True
        return control


class EvaluateEpochBeforeCheckpoint(TrainerCallback):
    """Evaluated every epoch, make the evaluation of an epoch's last step, and of the run's last step, before the
    step checkpoint saved there: the trainer saves a ``--checkpoint-steps`` checkpoint (and one at the last step)
    after the step and evaluates only after the epoch-end callbacks, so that checkpoint's log lacked the
    evaluation, and a run resumed from it (which goes on with the next epoch, or ends at once) listed none at that
    step in ``dev``. The epoch end's own evaluation is then not made again."""

    def __init__(self) -> None:
        self.evaluated_step: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        ends = float(state.epoch or 0.0).is_integer() or state.global_step >= state.max_steps
        if args.eval_strategy == "epoch" and control.should_save and ends:
            control.should_evaluate = True
            self.evaluated_step = state.global_step
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        if self.evaluated_step == state.global_step:
            control.should_evaluate = False
        return control


def dev_history(log_history: list[dict]) -> list[dict]:
    """The trainer's evaluation log entries as ``{"step", "epoch", "ndcg@10", ...}`` (oldest first; ``judged@10``
    missing from an evaluation an older negmine logged, in a checkpoint a run was resumed from)."""
    prefix = f"eval_{NAME}_"
    out = []
    for entry in log_history:
        if f"{prefix}{PRIMARY}" in entry:
            record = {"step": entry.get("step"), "epoch": entry.get("epoch")}
            record.update({m: entry[prefix + m] for m in DEV_METRICS if prefix + m in entry})
            out.append(record)
    return out


def warn_if_start_was_best(dev: list[dict], best_checkpoint: str | None) -> None:
    """A NegmineWarning when ``--keep-best`` ends on a checkpoint that scores below the starting model: the
    evaluation before the first step has no checkpoint to return to, so a run whose training only hurt kept the
    least bad checkpoint, said nothing, and the report's "best dev nDCG@10" card showed the starting model's score
    (measured on the demo, tiny model, ``--lr 0.1``: nDCG@10 0.2004 at step 0, the kept checkpoint-10 0.0448).
    The fields and options it names come from :mod:`negmine.config_path`, at the TrainConfig's place
    (``learning_rate``, ``--lr``) and within its ``dev`` (``dev.keep_best (--keep-best)``), as its other messages."""
    import warnings

    from negmine.config import TrainConfig
    from negmine.config_path import at, field_path, option_of, path_option, where, within
    from negmine.errors import NegmineWarning

    start = next((e for e in dev if e.get("step") == 0), None)
    later = [e for e in dev if e.get("step")]
    if start is None or not later or best_checkpoint is None:
        return
    best = max(later, key=lambda e: e[PRIMARY])
    if start[PRIMARY] > best[PRIMARY]:
        with at(where(TrainConfig)):  # the TrainConfig's own fields: learning_rate, --lr
            rate = f"{field_path('learning_rate')}, {option_of('learning_rate')}"
            with within(TrainConfig, "dev"):  # dev.keep_best (--keep-best), as load_dev_data names the dev fields
                keep_best = path_option("keep_best")
        warnings.warn(
            f"{keep_best}: the starting model scored dev {PRIMARY} {start[PRIMARY]:.4f} before the first step, above "
            f"every checkpoint; the saved model is the best of them, {Path(best_checkpoint).name} ({best[PRIMARY]:.4f} at "
            f"step {best['step']}), so this training lowered the dev score: keep the starting model, or train again with "
            f"other settings (e.g. a lower {rate})", NegmineWarning, stacklevel=caller_stacklevel())


def best_metric_key() -> str:
    """``metric_for_best_model`` of the training arguments."""
    return f"eval_{NAME}_{PRIMARY}"
