"""``train(config) -> TrainResult``: fine-tune a bi-encoder on mined hard negatives.

Built on sentence-transformers' trainer: the dataset comes from :mod:`negmine.train.dataset`, the loss
from :mod:`negmine.train.losses`, batches from :mod:`negmine.train.samplers.no_duplicates` (no repeated texts,
every row once per epoch) or the TAS-B :mod:`negmine.train.samplers.topic` sampler, and ANCE re-mining from
:mod:`negmine.train.remine`.

Output directory layout: the final model (loadable with ``SentenceTransformer(output_dir)``),
``checkpoints/`` (trainer checkpoints for ``resume``, and the settings the run started with, which a resume must
repeat: :mod:`negmine.train.run_settings`), ``remine/`` (re-mined files) and
``negmine_train.json`` (the summary, written last: its presence marks a finished run; with a dev split, the
dev metrics of every evaluation, judged@10 among them, the number of queries each scored and the checkpoint kept).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from transformers import TrainerCallback

from negmine.config import TrainConfig
from negmine.config_path import within
from negmine.encode.max_length import set_max_length
from negmine.io.atomic import atomic_write
from negmine.train import SUMMARY_NAME, TRAINING_VERSION
from negmine.train.attention_dropout import apply_attention_dropout, model_attention_dropout
from negmine.train.dataset import TrainData, load_train_data
from negmine.train.preflight import (
    CHECKPOINT_DIR, check_settings, refuse_remine_that_never_runs, refuse_single_warmup_step,
    refuse_topic_clusters_beyond_queries, resume_point,
    training_outputs, warn_one_short_batch,
)
from negmine.train.dev_eval import (
    DevEvaluator, EvaluateAtEnd, EvaluateEpochBeforeCheckpoint, MeasuringTrainer, dev_history, use_negmine_progress,
    load_dev_data, remove_if_empty, warn_if_start_was_best,
)
from negmine.train.loss_log import last_window, loss_history, mean_loss
from negmine.train.mask_warning import WarnWhenMarginMasksMost
from negmine.train.model_card_resume import ModelCardLogsOnResume, RunArgumentsOnCard, WholeRunTimeOnCard
from negmine.train.remine import Miner, RemineCallback, TrainingModelEmbedder
from negmine.train.remine_vectors import remove_training_vectors
from negmine.train.run_settings import cadence_changes, cadence_log_entry, record_run_settings

if TYPE_CHECKING:
    from negmine.io.pairs import CheckedPairs
    from negmine.train.losses.mnrl import MaskStats

REMINE_DIR = "remine"

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What a training run produced and how it went (also written to ``negmine_train.json``)."""

    output_dir: Path
    global_step: int
    epochs: float
    final_loss: float | None
    """The trainer's last logged loss: the mean over the steps :attr:`final_loss_steps` names (the trainer logs the
    mean of the steps since its previous entry), not the last step's loss unless that window is one step
    (``logging_steps 1``, or a last step right after a logged one). :attr:`mean_loss` is the whole run's mean."""
    mean_loss: float | None
    """The mean loss per step over every step of the run (:func:`negmine.train.loss_log.mean_loss`)."""
    precision: str
    attention_dropout: float | str = "model"
    """The attention dropout the run trained with: the probability set, or ``"model"`` for the model's own
    (``TrainConfig.attention_dropout`` resolved, ``auto`` to 0 on a CPU; :func:`apply_attention_dropout`)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage. A resumed run's are the sums over :attr:`timings_parts` that were recorded. ``remine``
    and ``evaluate`` (the dev evaluations', as the model card counts them), when the run did either, are parts of
    ``train``."""
    timings_parts: list[dict | None] = field(default_factory=list)
    """A resumed run's parts in order (empty for a run never resumed), each ``{"until_step", "seconds"}``: an
    earlier part's seconds up to its log at the checkpoint the next part went on from (the work it did after that
    checkpoint was lost and redone), the last part's to the end; None for a part whose checkpoint was saved by a
    negmine that did not record them (:class:`PartTimingsInLog`)."""
    data: dict[str, int] = field(default_factory=dict)
    final_loss_steps: list[int] | None = None
    """``[first, last]``: the steps whose mean loss is :attr:`final_loss` (``[24, 24]``: the last step alone)."""
    masked_fraction: float | None = None
    loss_history: list[dict] = field(default_factory=list)
    remine: list[dict] = field(default_factory=list)
    resumed_from: str | None = None
    resume_changes: list[str] = field(default_factory=list)
    """The cadence the resumes changed, each value in order (``"logging_steps 10 -> 5 -> 1"``: the run's first
    value, then each resume's whose steps the run kept; :func:`negmine.train.run_settings.cadence_changes`)."""
    dev: list[dict] = field(default_factory=list)
    """Each dev evaluation's scores (:data:`negmine.train.dev_eval.DEV_METRICS`, judged@10 among them), oldest first."""
    dev_queries_evaluated: int | None = None
    """How many queries each dev evaluation scored (the split's with a relevant judgment, as ``negmine eval``'s
    ``queries_evaluated``); None without a dev split."""
    best_checkpoint: str | None = None
    remine_vectors: dict | None = None
    """What the finished run removed of its re-minings' vectors from the embedding cache
    (:func:`negmine.train.remine_vectors.remove_training_vectors`): ``{"removed", "bytes_freed", "kept_in_use"}``
    in namespaces; None without re-mining, or when no re-mining recorded a cache (mining with ``--no-cache``)."""

    def as_dict(self) -> dict:
        out = asdict(self)
        out["output_dir"] = str(self.output_dir)
        return out


def load_model(config: TrainConfig):
    """The starting model (bundled default, local path or hub name) via negmine's encoder loader; its
    "Loading weights" bar only with ``show_progress``."""
    from negmine.config import EncoderConfig
    from negmine.encode.sentence_transformer import load_sentence_transformer

    return load_sentence_transformer(EncoderConfig(model=config.model, show_progress=config.show_progress,
                                                   device=config.device))


def topic_sampler(model, data: TrainData, config: TrainConfig, precision: str):
    """TAS-B: cluster the distinct training queries with the starting model; a sampler factory per row."""
    import numpy as np

    from negmine.train.samplers.cluster_count import default_num_clusters
    from negmine.train.samplers.topic import TopicBatchSampler, kmeans_topics

    anchors = data.dataset["anchor"]
    distinct = sorted(set(anchors))
    embedder = TrainingModelEmbedder(model, step=0, batch_size=max(config.batch_size, 32), precision=precision)
    vectors = embedder.encode(distinct, prompt=config.query_prompt)
    k = config.topic_clusters or default_num_clusters(len(distinct), config.batch_size)
    cluster_of = dict(zip(distinct, kmeans_topics(vectors, k, seed=config.seed).tolist()))
    topics = np.array([cluster_of[a] for a in anchors], dtype=np.int64)
    return partial(TopicBatchSampler, topics=topics)


def training_arguments(config: TrainConfig, bf16: bool, batch_sampler):
    """Map TrainConfig onto SentenceTransformerTrainingArguments (checkpoints under ``checkpoints/``).

    ``device``: ``use_cpu`` for ``cpu``; otherwise the trainer picks the device itself (``cuda:0``, or ``mps``),
    which :func:`negmine.config._check_train_device` made the one asked for (a single visible GPU)."""
    from sentence_transformers import SentenceTransformerTrainingArguments

    prompts = _prompts(config)
    schedule = {
        "save_strategy": "steps" if config.checkpoint_steps else "no", "save_steps": config.checkpoint_steps or 500,
        **_dev_schedule(config),
    }
    return SentenceTransformerTrainingArguments(
        output_dir=str(Path(config.output_dir) / CHECKPOINT_DIR),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps or -1,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        **warmup_argument(config.warmup_ratio),
        weight_decay=config.weight_decay,
        seed=config.seed,
        data_seed=config.seed,
        bf16=bf16,
        use_cpu=config.device == "cpu",
        batch_sampler=batch_sampler,
        save_total_limit=2,
        logging_steps=config.logging_steps,
        logging_first_step=True,
        report_to="none",
        disable_tqdm=not config.show_progress,
        dataloader_num_workers=0,
        prompts=prompts or None,
        **schedule,
    )


def check_trainer_device(args, device: str) -> None:
    """ConfigError unless the trainer set up by ``args`` trains on ``device`` alone (not e.g. on the CPU for
    ``cuda`` because ACCELERATE_USE_CPU is set, nor over several GPUs with DataParallel)."""
    import torch

    from negmine.errors import ConfigError

    if args.device.type != torch.device(device).type or args.n_gpu > 1:
        raise ConfigError(f"--device {device}: transformers' Trainer set itself up on {args.device} with {args.n_gpu} "
                          "GPU(s) (check ACCELERATE_USE_CPU and CUDA_VISIBLE_DEVICES); negmine train runs on one "
                          "device: the one --device names")


def warmup_argument(ratio: float) -> dict:
    """The warm-up share as the installed transformers reads it: 5.x takes a share below 1 in ``warmup_steps``
    and has no ``warmup_ratio``; 4.x has ``warmup_ratio`` and wants an int in ``warmup_steps`` (0.0 fails)."""
    from transformers import TrainingArguments

    if "warmup_ratio" in TrainingArguments.__dataclass_fields__:
        return {"warmup_ratio": ratio}
    return {"warmup_steps": ratio}


def _dev_schedule(config: TrainConfig) -> dict:
    """Evaluation arguments: before the first step, every ``dev.steps`` steps (or epoch) and at the end;
    with ``keep_best`` a checkpoint at each evaluation and the best one loaded at the end."""
    if config.dev is None:
        return {}
    from negmine.train.dev_eval import best_metric_key

    strategy = "steps" if config.dev.steps else "epoch"
    # a resumed run has its earlier evaluations in the restored trainer state: no second one at its first step
    schedule = {"eval_strategy": strategy, "eval_steps": config.dev.steps, "eval_on_start": not config.resume}
    if config.dev.keep_best:
        schedule.update(save_strategy=strategy, save_steps=config.dev.steps or 500, load_best_model_at_end=True,
                        metric_for_best_model=best_metric_key(), greater_is_better=True)
    return schedule


def resumed_arguments(config: TrainConfig) -> dict:
    """The training arguments a resume of ``config``'s run sets otherwise than the run started with, at the run's
    values (``{"eval_on_start": True}`` with a dev split: the resume does not evaluate its first step again)."""
    started, resumed = _dev_schedule(replace(config, resume=False)), _dev_schedule(replace(config, resume=True))
    return {key: value for key, value in started.items() if resumed.get(key) != value}


def _prompts(config: TrainConfig) -> dict[str, str]:
    prompts = {}
    if config.query_prompt:
        prompts["anchor"] = config.query_prompt
    if config.document_prompt:
        prompts["positive"] = config.document_prompt
        prompts.update({f"negative_{k + 1}": config.document_prompt for k in range(config.num_negatives)})
    return prompts


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")
"""The names of a saved model's top-level weight files (and of a sharded save's index), moved into place last."""


def save_model(model, output_dir: Path) -> None:
    """Save into a temp folder inside ``output_dir``, then move each entry into place (rename per file), the
    weights last: a save stopped midway (Ctrl-C, ``kill -9``) leaves a folder that does not load, never one
    whose weights load without the tokenizer or config files that had not been moved yet. A run killed while
    saving (``kill -9`` removes nothing) left its temp folder, a copy of the weights: removed here, when the
    resumed run saves (one run trains into a folder at a time)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for stale in output_dir.glob(".model-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=".model-", dir=output_dir))
    try:
        model.save(str(tmp))
        for entry in sorted(tmp.iterdir(), key=lambda e: (e.name.endswith(WEIGHT_SUFFIXES), e.name)):
            target = output_dir / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(entry, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class LogCheckpointsAndEnd(TrainerCallback):
    """Log the loss at every checkpoint and at the last step too, not only every ``logging_steps``: the log then
    accounts for every step (:func:`negmine.train.loss_log.mean_loss`), also across an interruption and
    ``--resume``."""

    def on_step_end(self, args, state, control, **kwargs):
        if control.should_save or state.global_step >= state.max_steps:
            control.should_log = True
        return control


class _PlannedEndReached(Exception):
    """Raised by :class:`StopAtPlannedEnd` before a step the run's plan does not have."""


class StopAtPlannedEnd(TrainerCallback):
    """End a resumed run before a step past its last (``state.max_steps``). transformers' trainer checks the step
    limit only after a step, so a run resumed from a checkpoint at its last step (killed while saving the final
    model) trained one step more when that checkpoint was inside an epoch (measured: ``--max-steps 8`` on the demo,
    5 batches an epoch, resumed from checkpoint-8: global step 9, a 9th loss in the log and another mean loss;
    the weights stayed the same only because the learning rate had decayed to 0)."""

    def on_step_begin(self, args, state, control, **kwargs):
        if state.max_steps and state.global_step >= state.max_steps:
            raise _PlannedEndReached
        return control


def finish_at_checkpoint(trainer) -> None:
    """What the trainer does after its last step, for a run stopped by :class:`StopAtPlannedEnd` (the checkpoint's
    weights and state are loaded already): go back to the best checkpoint under ``--keep-best``, and end."""
    if trainer.args.load_best_model_at_end and trainer.state.best_model_checkpoint is not None:
        trainer._load_best_model()
    trainer.control = trainer.callback_handler.on_train_end(trainer.args, trainer.state, trainer.control)


class ResumedCadence(TrainerCallback):
    """Save and log at this run's ``--checkpoint-steps`` and ``--logging-steps``: a resumed trainer takes both
    from the checkpoint's trainer state, so a resume that changed them (which :mod:`negmine.train.run_settings`
    allows: they do not change the weights) went on at the old cadence (measured: a run started with checkpoints
    every 2 steps and the loss logged every 3, resumed at step 4 with 1 and 1, saved and logged at steps 6, 8, 9)."""

    def on_train_begin(self, args, state, control, **kwargs):
        state.logging_steps, state.save_steps = args.logging_steps, args.save_steps
        return control


CHECKPOINT_ARGS_WARNING = "Warning: The following arguments do not match the ones in the `trainer_state.json`"
"""How transformers' ``compare_trainer_and_checkpoint_args`` warning starts (logging, saving, evaluation steps and
batch size of the resumed checkpoint against the new arguments)."""


@contextlib.contextmanager
def checkpoint_args_warning_dropped() -> Iterator[None]:
    """Drop transformers' resume warning that the logging and save steps differ from the checkpoint's: negmine
    allows those to change and applies them (:class:`ResumedCadence`), and refuses every other setting it
    compares (the batch size, the evaluation steps) before training (:mod:`negmine.train.run_settings`)."""
    source = logging.getLogger("transformers.trainer_utils")
    drop = _MessageDropped(CHECKPOINT_ARGS_WARNING)
    source.addFilter(drop)
    try:
        yield
    finally:
        source.removeFilter(drop)


class _MessageDropped(logging.Filter):
    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.prefix)


class CadenceInLog(TrainerCallback):
    """Write this run's ``--checkpoint-steps`` and ``--logging-steps`` into each training-loss entry of the
    trainer's log, which every checkpoint saves: a run resumed several times, each at another cadence, then
    names every value in order (:func:`negmine.train.run_settings.cadence_changes`), not only its first and last."""

    def __init__(self, config: TrainConfig) -> None:
        self.entry = cadence_log_entry(config)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.log_history and "loss" in state.log_history[-1]:
            state.log_history[-1].update(self.entry)


class MaskStatsInLog(TrainerCallback):
    """Write the loss's running mask counts into each training-loss entry of the trainer's log, which every
    checkpoint saves, and take them back from a resumed run's restored log: ``masked_fraction`` then covers the
    whole run across an interruption and ``--resume``, as :func:`negmine.train.loss_log.mean_loss` does."""

    def __init__(self, stats: MaskStats) -> None:
        self.stats = stats

    def on_train_begin(self, args, state, control, **kwargs):
        self.stats.restore(state.log_history)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.log_history and "loss" in state.log_history[-1]:
            state.log_history[-1].update(self.stats.log_entry())


class PartTimingsInLog(TrainerCallback):
    """Write this part's seconds per stage so far, after those of the earlier parts of the run, into each
    training-loss entry of the trainer's log, which every checkpoint saves, and take the earlier parts back from
    a resumed run's restored log: the summary's timings then cover the whole run, as :class:`MaskStatsInLog` does
    for the mask counts (they covered only the resumed part: its ``total`` ignored the steps before the
    checkpoint). A resumed log without them (an older negmine's checkpoint) gives one unrecorded part, None."""

    KEY = "negmine_timings"

    def __init__(self, seconds: Callable[[], dict[str, float]], resumed: bool) -> None:
        self.seconds, self.resumed = seconds, resumed
        self.earlier: list[dict | None] = []

    def on_train_begin(self, args, state, control, **kwargs):
        last = next((entry for entry in reversed(state.log_history) if self.KEY in entry), None)
        self.earlier = (list(last[self.KEY]) if last is not None else [None]) if self.resumed else []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.log_history and "loss" in state.log_history[-1]:
            state.log_history[-1][self.KEY] = self.parts(state.global_step, self.seconds())

    def parts(self, step: int, seconds: dict[str, float]) -> list[dict | None]:
        """The earlier parts and this one, at ``step`` with ``seconds``."""
        return [*self.earlier, {"until_step": step, "seconds": seconds}]


def whole_run_timings(parts: Sequence[dict | None]) -> dict[str, float]:
    """Seconds per stage summed over the recorded ``parts`` (:attr:`TrainResult.timings_parts`)."""
    total: dict[str, float] = {}
    for part in parts:
        for stage, seconds in (part or {}).get("seconds", {}).items():
            total[stage] = round(total.get(stage, 0.0) + seconds, 3)
    return total


def recorded_config(config: TrainConfig) -> dict:
    """``config`` as ``negmine_train.json`` records it: as JSON, its re-mining configuration (``mine``) without
    the settings that say how the mining run ran, not which rows it mined (progress bars, device, cache and work
    folders, workers, output files: :data:`negmine.pipeline.recorded_config.RUN_ONLY_FIELDS`)."""
    from negmine.pipeline.recorded_config import recorded_train_config

    return recorded_train_config(config)


def _write_summary(result: TrainResult, config: TrainConfig) -> None:
    payload = {"result": result.as_dict(), "config": recorded_config(config), "training_version": TRAINING_VERSION}
    with atomic_write(Path(config.output_dir) / SUMMARY_NAME) as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")


def train(config: TrainConfig, miner: Miner | None = None, callbacks: Sequence = (),
          remine_pairs: CheckedPairs | None = None) -> TrainResult:
    """Train as configured and save the model to ``config.output_dir``. See the module docstring.

    ``miner(embedder, output_path) -> path`` mines with ``embedder`` and writes native JSONL when re-mining;
    None (the default) runs the mining pipeline with ``config.mine``
    (:func:`negmine.train.pipeline_miner.pipeline_miner`), as ``negmine train`` does.
    ``callbacks`` are extra ``transformers.TrainerCallback`` objects (early stopping, custom logging).
    ``remine_pairs``: the rows of ``config.mine.data.pairs`` read as the mining summary was
    (:func:`negmine.pipeline.recorded_config.read_mine_summary`, as ``negmine train`` does), which that pipeline's
    load takes rather than read the pairs again.
    The run seeds Python's, NumPy's and torch's global random generators from ``config.seed``; the caller's
    generator states are put back when it returns or fails. Another run training into ``config.output_dir``
    meanwhile is refused at once (:mod:`negmine.io.output_lock`). A re-mining judge given by a cached hub name loads
    the commit the check before any model loads compared with the training file's judge, in every round, online
    too (:func:`negmine.encode.hub.pinned_snapshots`); any other hub name the run loads is pinned by its first
    load to the commit that load used (:func:`negmine.encode.hub.pin_loaded`).
    """
    from negmine.io.output_lock import hold_outputs

    from negmine.config import check_config_type
    from negmine.encode.hub import pinned_snapshots

    start = time.perf_counter()
    check_config_type(config, TrainConfig, "train")
    pins = check_settings(config)  # a re-mining judge by hub name: the cached snapshot checked, which it loads
    with hold_outputs({}, training_outputs(config)), pinned_snapshots(pins):  # no other run writes the folder
        return _train(config, miner, callbacks, resume_point(config), start, remine_pairs)


def _train(config: TrainConfig, miner: Miner | None, callbacks: Sequence, checkpoint: str | None,
           start: float, remine_pairs: CheckedPairs | None) -> TrainResult:
    """:func:`train` once the settings are checked, the output's lock is held and the checkpoint to resume from
    (None: none) is known."""
    timings: dict[str, float] = {}
    changes = cadence_changes(config, Path(config.output_dir) / CHECKPOINT_DIR, checkpoint) if checkpoint else []
    if changes:
        logger.info("resuming %s at another cadence (the weights are those of the run without it): %s",
                    checkpoint, "; ".join(changes))
    if config.remine and miner is None:
        from negmine.train.pipeline_miner import pipeline_miner

        # the run's progress setting: the recorded mining config has none (type: validate() checked mine is set)
        with within(config, "mine"):  # its messages, its rounds' too, name mine.<field>
            miner = pipeline_miner(config.remine_config(), config.show_progress,  # type: ignore[arg-type]
                                   remine_pairs)
    data = load_train_data(config.train_file, config.num_negatives,
                           config.distill_from if config.distill != "none" else None)
    if config.distill != "none":
        from negmine.train.teacher_scores import warn_flat_teacher

        warn_flat_teacher(data, config)
    # ``negmine train`` refused these before the trainer's import (preflight.check_training_file); ``train`` called
    # from Python gets here without that preflight
    refuse_single_warmup_step(config, len(data.dataset))
    refuse_remine_that_never_runs(config, len(data.dataset))
    refuse_topic_clusters_beyond_queries(config, len(set(data.dataset["anchor"])))
    warn_one_short_batch(config, len(data.dataset))  # said by the preflight too: the command line prints it once
    dev_data = load_dev_data(config.dev) if config.dev is not None else None
    timings["load_data"] = time.perf_counter() - start
    from negmine.encode.sentence_transformer import transformers_bars

    with global_rng_restored(), transformers_bars(config.show_progress):
        run = _TrainRun(config, data, miner, timings, dev_data, start=start)
        if checkpoint is None:  # once the inputs have loaded (a run refused for them creates no folder)
            # which --resume must repeat
            record_run_settings(config, Path(config.output_dir) / CHECKPOINT_DIR, run.attention_dropout_facts)
        run.fit(checkpoint, callbacks)
        remove_if_empty(Path(config.output_dir) / CHECKPOINT_DIR / "eval")  # one a killed run's evaluation left
        t0 = time.perf_counter()
        run.model.max_seq_length = run.max_seq_length
        save_model(run.model, Path(config.output_dir))
        timings["save"] = time.perf_counter() - t0
    vectors = remove_training_vectors(Path(config.output_dir) / REMINE_DIR) if config.remine else None
    timings["total"] = time.perf_counter() - start
    result = run.result(checkpoint, changes)
    result.remine_vectors = vectors
    if config.dev is not None and config.dev.keep_best:
        warn_if_start_was_best(result.dev, result.best_checkpoint)
    _write_summary(result, config)
    return result


@contextlib.contextmanager
def global_rng_restored() -> Iterator[None]:
    """Run the block, then put Python's, NumPy's and torch's global random generators (CUDA's too, once
    initialised) back as they were: the run's ``set_seed`` (ours and the trainer's) must not reseed the
    caller's own random streams."""
    import random

    import numpy as np
    import torch

    saved = random.getstate(), np.random.get_state(), torch.random.get_rng_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.random.set_rng_state(saved[2])
        if cuda is not None:
            torch.cuda.set_rng_state_all(cuda)


class _TrainRun:
    """One training run's model, loss, trainer and callbacks (kept small so each step is testable)."""

    def __init__(
        self, config: TrainConfig, data: TrainData, miner: Miner | None, timings: dict[str, float], dev_data=None,
        start: float | None = None,
    ):
        from transformers import set_seed

        from negmine.encode.precision import resolve_precision
        from negmine.train.losses import build_loss
        from negmine.train.samplers.no_duplicates import EveryRowNoDuplicatesBatchSampler

        self.config, self.data, self.timings = config, data, timings
        self.start = time.perf_counter() if start is None else start
        self.train_start: float | None = None
        self.precision = resolve_precision(config.precision, config.device.split(":")[0])
        set_seed(config.seed)
        t0 = time.perf_counter()
        self.model = load_model(config)
        self.max_seq_length = self.model.max_seq_length
        set_max_length(self.model, config.max_length, config.model)  # training only; the saved model keeps its own
        own = model_attention_dropout(self.model)  # before it is set: recorded for --resume (run_settings)
        # the modules only: the saved config keeps the model's own
        self.attention_dropout = apply_attention_dropout(self.model, config.attention_dropout, config.device)
        self.attention_dropout_facts = {"trained": self.attention_dropout, **own}
        self.loss = build_loss(self.model, config)
        self.remine = self._remine_callback(miner)
        sampler = EveryRowNoDuplicatesBatchSampler
        if config.batching == "topic":
            sampler = topic_sampler(self.model, data, config, self.precision)
        if self.remine:  # compares the re-mined negatives swapped in before each epoch's start
            sampler = partial(sampler, negatives=self.remine.overlay.batching)
        timings["setup"] = time.perf_counter() - t0
        self.evaluator = None
        if dev_data is not None:
            self.evaluator = DevEvaluator(dev_data, self.max_seq_length, self.precision, max(config.batch_size, 32),
                                          config.query_prompt, config.document_prompt, config.show_progress)
        self.args = training_arguments(config, self.precision == "bf16", sampler)
        check_trainer_device(self.args, config.device)

    def _remine_callback(self, miner: Miner | None) -> RemineCallback | None:
        if not self.config.remine:
            return None
        mined_length = self.config.mine.encoder.max_length if self.config.mine is not None else None
        return RemineCallback(
            self.data, miner, Path(self.config.output_dir) / REMINE_DIR, every_epoch=self.config.remine_every_epoch,
            every_steps=self.config.remine_steps, precision=self.precision,
            max_length=mined_length or self.max_seq_length,  # as mined: not --max-length's training truncation
            show_progress=self.config.show_progress, cache=remine_cache(self.config),
        )

    def fit(self, checkpoint: str | None, extra_callbacks: Sequence = ()):
        callbacks = [ResumedCadence(), CadenceInLog(self.config), LogCheckpointsAndEnd()]
        callbacks += [self.remine] if self.remine else []
        stats = getattr(self.loss, "mask_stats", None)
        callbacks += [MaskStatsInLog(stats)] if stats is not None else []
        if stats is not None and self.config.fn_mask and self.config.fn_margin is not None:
            callbacks += [WarnWhenMarginMasksMost(stats, self.config.fn_margin)]
        callbacks += [EvaluateAtEnd(), EvaluateEpochBeforeCheckpoint()] if self.evaluator else []
        resumed = checkpoint is not None
        self.part_timings = PartTimingsInLog(self.seconds_so_far, resumed=resumed)
        whole_run = WholeRunTimeOnCard(resumed, lambda step: self.part_timings.parts(step, self.seconds_so_far()))
        callbacks += [self.part_timings, ModelCardLogsOnResume(resumed, self.evaluator), whole_run, *extra_callbacks]
        # built inside train()'s transformers_bars block: sentence-transformers' "Computing widget examples" bar,
        # drawn here by the model card, is off (negmine.library_bars)
        trainer = MeasuringTrainer(
            model=self.model, args=self.args, train_dataset=self.data.dataset, loss=self.loss,
            callbacks=callbacks, evaluator=self.evaluator,
        )
        trainer.add_callback(RunArgumentsOnCard(resumed_arguments(self.config) if resumed else {}))  # after the card's
        if not self.config.show_progress:
            quiet_log(trainer)
        else:
            use_negmine_progress(trainer, self.evaluator.queries_evaluated if self.evaluator else None)
        if self.remine and checkpoint:
            self.remine.restore(_checkpoint_step(checkpoint), mid_epoch=_mid_epoch(checkpoint))
        self.train_start = time.perf_counter()
        if checkpoint is not None:
            trainer.add_callback(StopAtPlannedEnd())
        with checkpoint_args_warning_dropped():
            try:
                trainer.train(resume_from_checkpoint=checkpoint)
            except _PlannedEndReached:  # resumed from the run's last checkpoint: nothing left to train
                finish_at_checkpoint(trainer)
        self.timings["train"] = time.perf_counter() - self.train_start
        self.trainer = trainer

    def seconds_so_far(self) -> dict[str, float]:
        """This part's seconds per stage up to now (while training, ``train`` and ``total`` so far)."""
        now = time.perf_counter()
        seconds = dict(self.timings)
        if self.train_start is not None and "train" not in seconds:
            seconds["train"] = now - self.train_start
        remine = sum(e.get("seconds", 0.0) for e in self.remine.events) if self.remine else 0.0
        if remine:
            seconds["remine"] = remine
        evaluate = getattr(getattr(self.model, "model_card_data", None), "evaluation_duration", 0.0)
        if evaluate:  # the dev evaluations' (within train), as the model card counts them
            seconds["evaluate"] = evaluate
        seconds.setdefault("total", now - self.start)
        return {stage: round(value, 3) for stage, value in seconds.items()}

    def result(self, checkpoint: str | None, resume_changes: Sequence[str] = ()) -> TrainResult:
        state = self.trainer.state
        history = loss_history(state.log_history)
        stats = getattr(self.loss, "mask_stats", None)
        timings = self.seconds_so_far()
        parts = self.part_timings.parts(state.global_step, timings) if checkpoint else []
        return TrainResult(
            output_dir=Path(self.config.output_dir),
            global_step=state.global_step,
            epochs=float(state.epoch or 0.0),
            final_loss=history[-1]["loss"] if history else None,
            final_loss_steps=last_window(history),
            mean_loss=mean_loss(history),
            precision=self.precision,
            attention_dropout=self.attention_dropout,
            timings=whole_run_timings(parts) if parts else timings,
            timings_parts=parts,
            data=self.data.stats.as_dict(),
            masked_fraction=stats.fraction() if stats is not None and self.config.fn_mask else None,
            loss_history=history,
            remine=list(self.remine.events) if self.remine else [],
            resumed_from=checkpoint,
            resume_changes=list(resume_changes),
            dev=dev_history(state.log_history),
            dev_queries_evaluated=self.evaluator.queries_evaluated if self.evaluator else None,
            best_checkpoint=state.best_model_checkpoint if self.args.load_best_model_at_end else None,
        )


def remine_cache(config: TrainConfig) -> Path | None:
    """The embedding cache folder re-mining writes to: its mining config's (``--cache-dir``, else ``$NEGMINE_CACHE``
    or ``~/.cache/negmine``, as mining's own), None with ``--no-cache``; a ``miner=`` without ``config.mine``: the
    default folder, where ``negmine.mine`` caches (only this run's namespaces are ever removed from it)."""
    from negmine.encode.cache import default_cache_dir

    encoder = config.mine.encoder if config.mine is not None else None
    if encoder is not None and not encoder.use_cache:
        return None
    return Path(encoder.cache_dir if encoder is not None and encoder.cache_dir else default_cache_dir()).absolute()


def quiet_log(trainer) -> None:
    """Take out the PrinterCallback transformers' trainer adds when its tqdm bars are off (``--no-progress``): it
    prints every log entry (``{'loss': ..., 'grad_norm': ...}``, the dev metrics, the closing ``train_runtime``),
    so a run asked to be quiet printed a line per logged step. The entries stay in the trainer's log, which the
    summary's ``loss_history`` and ``dev`` read."""
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)


def _checkpoint_step(checkpoint: str) -> int:
    return int(Path(checkpoint).name.rsplit("-", 1)[-1])


def _mid_epoch(checkpoint: str) -> bool:
    """Whether the checkpoint was saved inside an epoch (its trainer state's epoch is not a whole number)."""
    state = json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))
    return not float(state.get("epoch") or 0.0).is_integer()
