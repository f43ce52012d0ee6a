"""``negmine train MINED.jsonl --output DIR``: options map one to one onto TrainConfig fields.

Re-mining (``--remine-every-epoch`` / ``--remine-steps``) re-runs the mining pipeline with the
configuration stored in the mined file's summary (``<name>.summary.json``, or ``--mine-summary``): the CLI
reads it into ``TrainConfig.mine`` (:func:`negmine.pipeline.recorded_config.read_mine_summary`), and
``train`` builds the miner from it, as it does for a Python caller, with the pairs rows read as the summary was
checked (``remine_pairs``), so a recorded pairs file is read once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from negmine.cli.common import (
    DEVICE_HELP, OUTPUT_PANEL, DocumentPrompt, MaxLength, Model, Precision, Progress, QueryPrompt, UnknownQrels, choices,
    echo_json, refuse_unused, refuse_unused_config, shared_type, typed_options, user_errors, warn_overridden,
)
from negmine.config import (
    DEFAULT_MODEL, TRAIN_BATCHINGS, TRAIN_DIRECTIONS, TRAIN_DISTILL, TRAIN_DISTILL_SOURCES, TRAIN_HARDNESS,
    TRAIN_LOSSES, TRAIN_PARTITION_MODES,
    DevEvalConfig, TrainConfig, parse_attention_dropout,
)
from negmine.errors import ConfigError
from negmine.pipeline.recorded_config import RecordedMining, read_mine_summary

if TYPE_CHECKING:
    from negmine.io.pairs import CheckedPairs

_OPT = "Optimisation"
_NEG = "Negatives and masking"
_BATCH = "Batching and re-mining"
_DEV = "Dev evaluation while training"
_DISTILL = "Distillation from a teacher's scores"
_OUT = OUTPUT_PANEL

Device = shared_type("device", str, DEVICE_HELP["train"])
TrainFile = Annotated[Path, typer.Argument(help="native mined JSONL written by `negmine mine` / `negmine audit`")]
Output = Annotated[Path, typer.Option("--output", "-o", help="output directory for the model", rich_help_panel=_OUT)]
Epochs = Annotated[int, typer.Option(help="training epochs", rich_help_panel=_OPT)]
MaxSteps = Annotated[Optional[int], typer.Option(help="stop after this many steps (overrides --epochs; default: --epochs decides)", rich_help_panel=_OPT)]
BatchSize = Annotated[int, typer.Option(help="pairs per batch", rich_help_panel=_OPT)]
Lr = Annotated[float, typer.Option("--lr", "--learning-rate", help="peak learning rate (AdamW, linear decay after --warmup-ratio)", rich_help_panel=_OPT)]
WarmupRatio = Annotated[float, typer.Option(help="share of steps for linear warm-up", rich_help_panel=_OPT)]
WeightDecay = Annotated[float, typer.Option(help="AdamW weight decay", rich_help_panel=_OPT)]
Seed = Annotated[int, typer.Option(help="random seed", rich_help_panel=_OPT)]
Loss = Annotated[str, typer.Option(help=choices(TRAIN_LOSSES, {"cached-mnrl": "GradCache: big batches, small memory"}), rich_help_panel=_OPT)]
Scale = Annotated[float, typer.Option(help="similarity scale (1 / temperature)", rich_help_panel=_OPT)]
MiniBatchSize = Annotated[int, typer.Option(help="cached-mnrl: texts embedded at once", rich_help_panel=_OPT)]
AttentionDropout = Annotated[str, typer.Option(help="attention dropout while training: auto (0 on a CPU, where the model's own makes steps ~4x slower; the model's own on a GPU), model (the model's own), or a number in [0, 1)", metavar="auto|model|P", rich_help_panel=_OPT)]
MatryoshkaDims = Annotated[Optional[str], typer.Option(help="Matryoshka: also train the embeddings cut to these leading dims, comma-separated, largest first, e.g. 384,256,128,64 (default: off)", rich_help_panel=_OPT)]
MatryoshkaWeights = Annotated[Optional[str], typer.Option(help="Matryoshka: loss weight of each --matryoshka-dims entry, comma-separated (default: 1 each)", rich_help_panel=_OPT)]
MatryoshkaDimsPerStep = Annotated[int, typer.Option(help="Matryoshka: train a random sample of this many of the --matryoshka-dims at each step (cheaper steps, each dim trained less often); -1: every dim at each step", rich_help_panel=_OPT)]
NumNegatives = Annotated[int, typer.Option(help="hard negatives per pair (rows with fewer are dropped)", rich_help_panel=_NEG)]
FnMask = Annotated[bool, typer.Option("--fn-mask/--no-fn-mask", help="mask false negatives in the softmax", rich_help_panel=_NEG)]
FnMargin = Annotated[Optional[float], typer.Option(help="also mask candidates with s > s_pos + margin (default off: known and flagged false negatives only)", rich_help_panel=_NEG)]
NoFnMargin = Annotated[bool, typer.Option("--no-fn-margin", help="mask only known/flagged false negatives, no margin (the default)", rich_help_panel=_NEG)]
Hardness = Annotated[str, typer.Option(help="weight harder negatives: " + choices(TRAIN_HARDNESS, {"all": "mined and in-batch", "hard-negatives": "mined only"}), rich_help_panel=_NEG)]
HardnessStrength = Annotated[float, typer.Option(help="hardness weight alpha (logit += alpha * cosine)", rich_help_panel=_NEG)]
Direction = Annotated[Optional[list[str]], typer.Option("--direction", help=f"contrastive direction, repeatable: query_to_doc (always; added when not given) and any of {', '.join(d for d in TRAIN_DIRECTIONS if d != 'query_to_doc')} (GTE); default query_to_doc only", rich_help_panel=_NEG)]
DebiasPrior = Annotated[float, typer.Option(help="debiased contrastive loss (Chuang et al. 2020): the expected share tau+ of unlabelled positives among the negatives, in [0, 1); query_to_doc only; 0: off", rich_help_panel=_NEG)]
AdditiveMargin = Annotated[float, typer.Option(help="additive margin softmax (Wang et al. 2018; Yang et al. 2019): subtract M from the positive's cosine before scaling, in every direction that holds it, in [0, 1); 0: off", rich_help_panel=_NEG)]
FocalGamma = Annotated[float, typer.Option(help="focal row weighting (Lin et al. 2017): weight each row's loss l by (1 - exp(-l)) ** gamma, detached, normalised to mean 1 over the batch; a finite number >= 0; not with --debias-prior; 0: off", rich_help_panel=_NEG)]
PartitionMode = Annotated[str, typer.Option(help=choices(TRAIN_PARTITION_MODES, {"joint": "one softmax over all directions"}), rich_help_panel=_NEG)]
Batching = Annotated[str, typer.Option(help=choices(TRAIN_BATCHINGS, {"topic": "TAS-B"}), rich_help_panel=_BATCH)]
TopicClusters = Annotated[Optional[int], typer.Option(help="topic batching: k-means clusters (default n/(2*batch))", rich_help_panel=_BATCH)]
RemineEveryEpoch = Annotated[bool, typer.Option(help="re-mine negatives with the current model each epoch", rich_help_panel=_BATCH)]
RemineSteps = Annotated[Optional[int], typer.Option(help="re-mine every N steps (default: off)", rich_help_panel=_BATCH)]
Distill = Annotated[str, typer.Option(help="add a distillation term over each row's positive and hard negatives: " + choices(TRAIN_DISTILL, {"kl": "teacher's softmax", "margin-mse": "positive-minus-negative margins"}), rich_help_panel=_DISTILL)]
DistillWeight = Annotated[float, typer.Option(help="weight of the distillation term against the contrastive loss (0 adds nothing)", rich_help_panel=_DISTILL)]
DistillFrom = Annotated[str, typer.Option(help="whose scores: " + choices(TRAIN_DISTILL_SOURCES, {"judge": "judge_*_score fields of mine --denoise / audit with a cross-encoder or teacher", "mining": "the mining model's cosines"}), rich_help_panel=_DISTILL)]
DistillTemperature = Annotated[Optional[float], typer.Option(help="the teacher's scores are divided by this before the softmax or margins (default: 1 for judge, 1/--scale for mining)", rich_help_panel=_DISTILL)]
MineSummary = Annotated[Optional[Path], typer.Option(help="mining summary JSON for re-mining (default <mined>.summary.json)", rich_help_panel=_BATCH)]
CheckpointSteps = Annotated[Optional[int], typer.Option(help="save a checkpoint every N steps", rich_help_panel=_OUT)]
NoCheckpoints = Annotated[bool, typer.Option("--no-checkpoints", help="do not save checkpoints", rich_help_panel=_OUT)]
Resume = Annotated[bool, typer.Option("--resume", help="continue from the last checkpoint in --output", rich_help_panel=_OUT)]
LoggingSteps = Annotated[int, typer.Option(help="log the loss every N steps", rich_help_panel=_OUT)]
EvalData = Annotated[Optional[Path], typer.Option(help="BEIR directory to evaluate on while training (as negmine eval scores: nDCG@10, MRR@10, Recall@100, MAP, judged@10); before the first step, every --eval-steps and at the end", rich_help_panel=_DEV)]
EvalSplit = Annotated[str, typer.Option(help="qrels split of --eval-data: qrels/<split>.tsv", rich_help_panel=_DEV)]
EvalSteps = Annotated[Optional[int], typer.Option(help="evaluate every N steps (default: every epoch)", rich_help_panel=_DEV)]
EvalMaxDocuments = Annotated[Optional[int], typer.Option(help="evaluate against a sample of this many documents (every judged one plus a seeded random draw): for corpora too large to encode at every evaluation; scores then run higher than negmine eval's (default: the whole corpus)", rich_help_panel=_DEV)]
KeepBest = Annotated[bool, typer.Option("--keep-best", help="save a checkpoint at every evaluation and end with the one of the best dev nDCG@10 instead of the last", rich_help_panel=_DEV)]


def train_command(
    ctx: typer.Context, train_file: TrainFile, output: Output, model: Model = DEFAULT_MODEL,
    max_length: MaxLength = None, query_prompt: QueryPrompt = "", document_prompt: DocumentPrompt = "",
    precision: Precision = "auto", device: Device = "cpu", epochs: Epochs = 1, max_steps: MaxSteps = None,
    batch_size: BatchSize = 32, lr: Lr = 2e-5, warmup_ratio: WarmupRatio = 0.1, weight_decay: WeightDecay = 0.01,
    seed: Seed = 42, loss: Loss = "mnrl", scale: Scale = 20.0, mini_batch_size: MiniBatchSize = 16,
    attention_dropout: AttentionDropout = "auto", matryoshka_dims: MatryoshkaDims = None,
    matryoshka_weights: MatryoshkaWeights = None, matryoshka_dims_per_step: MatryoshkaDimsPerStep = -1,
    num_negatives: NumNegatives = 3, fn_mask: FnMask = True, fn_margin: FnMargin = None,
    no_fn_margin: NoFnMargin = False, hardness: Hardness = "all", hardness_strength: HardnessStrength = 5.0,
    direction: Direction = None, partition_mode: PartitionMode = "joint", debias_prior: DebiasPrior = 0.0,
    additive_margin: AdditiveMargin = 0.0, focal_gamma: FocalGamma = 0.0, batching: Batching = "no-duplicates",
    topic_clusters: TopicClusters = None, remine_every_epoch: RemineEveryEpoch = False,
    remine_steps: RemineSteps = None, mine_summary: MineSummary = None, checkpoint_steps: CheckpointSteps = 500,
    no_checkpoints: NoCheckpoints = False, resume: Resume = False, logging_steps: LoggingSteps = 10,
    eval_data: EvalData = None, eval_split: EvalSplit = "dev", eval_steps: EvalSteps = None,
    eval_max_documents: EvalMaxDocuments = None, unknown_qrels: UnknownQrels = "error",  # for --eval-data's qrels
    keep_best: KeepBest = False, distill: Distill = "none", distill_weight: DistillWeight = 1.0,
    distill_from: DistillFrom = "judge", distill_temperature: DistillTemperature = None, progress: Progress = True,
) -> None:
    """Fine-tune a bi-encoder on mined hard negatives and save it to --output.

    --max-length truncates texts while training only; the saved model keeps its own limit."""
    warn_overridden(ctx, ("fn_margin", "no_fn_margin"), ("checkpoint_steps", "no_checkpoints"))
    refuse_dev_options_without_eval_data(ctx, eval_data)
    with user_errors(lambda: _interrupted_hint(output)):
        remine = remine_every_epoch or remine_steps is not None
        refuse_mine_summary_without_remining(mine_summary, remine)
        dev = DevEvalConfig(eval_data, eval_split, eval_steps, keep_best, eval_max_documents, unknown_qrels)
        config = TrainConfig(
            train_file=train_file, output_dir=output, model=model, epochs=epochs, max_steps=max_steps,
            batch_size=batch_size, learning_rate=lr, warmup_ratio=warmup_ratio, weight_decay=weight_decay, seed=seed,
            num_negatives=num_negatives, loss=loss, scale=scale, mini_batch_size=mini_batch_size, fn_mask=fn_mask,
            fn_margin=None if no_fn_margin else fn_margin, hardness=hardness, hardness_strength=hardness_strength,
            directions=with_query_to_doc(direction), partition_mode=partition_mode, debias_prior=debias_prior,
            additive_margin=additive_margin, focal_gamma=focal_gamma,
            batching=batching, topic_clusters=topic_clusters,
            remine_every_epoch=remine_every_epoch, remine_steps=remine_steps, mine=None,
            checkpoint_steps=None if no_checkpoints else checkpoint_steps, resume=resume,
            logging_steps=logging_steps, precision=precision, device=device, max_length=max_length, query_prompt=query_prompt,
            document_prompt=document_prompt, show_progress=progress, attention_dropout=parse_attention_dropout(attention_dropout),
            matryoshka_dims=comma_separated(matryoshka_dims, int, "--matryoshka-dims", "384,256,128,64"),
            matryoshka_weights=comma_separated(matryoshka_weights, float, "--matryoshka-weights", "1,1,0.5,0.5"),
            matryoshka_dims_per_step=matryoshka_dims_per_step, distill=distill, distill_weight=distill_weight,
            distill_from=distill_from, distill_temperature=distill_temperature,
            # any dev option given, even at its default, needs --eval-data (DevEvalConfig.validate says so)
            dev=None if dev == DevEvalConfig() and not typed_options(ctx, DEV_OPTIONS) else dev,
        )
        refuse_unused_config(ctx, config, TRAIN_FIELDS)
        recorded = recorded_mining(config, mine_summary)
        config = config if recorded is None else dataclasses.replace(config, mine=recorded.config)
        result = run(config, None if recorded is None else recorded.pairs)
    summary = result.as_dict()
    if summary.get("remine_vectors") is not None:
        typer.echo(removed_vectors_line(summary["remine_vectors"], output), err=True)
    summary.pop("loss_history")
    echo_json(summary)


def removed_vectors_line(removed: dict, output: Path) -> str:
    """The run's last stderr line when it re-mined: the cache namespaces of the model being trained that it removed
    (:mod:`negmine.train.remine_vectors`), the space freed, and those a running process held, kept."""
    from negmine.cli.cache_cmd import human_size
    from negmine.train.remine_vectors import RECORD_NAME

    count = removed["removed"]
    line = (f"re-mining: removed {count} embedding cache {'entry' if count == 1 else 'entries'} of the model being "
            f"trained ({human_size(removed['bytes_freed'])} freed)")
    if removed["kept_in_use"]:
        line += (f"; kept {removed['kept_in_use']} that a running process holds (their cache folders and "
                 f"fingerprints are in {output / 'remine' / RECORD_NAME}: negmine cache prune --cache-dir CACHE "
                 "--model FINGERPRINT once it ends)")
    return line


def refuse_dev_options_without_eval_data(ctx: typer.Context, eval_data: Optional[Path]) -> None:
    """Exit 2 naming each dev-evaluation option given without --eval-data: an error naming only --eval-data made
    ``--unknown-qrels skip`` (meant for the training file, which has no qrels) read as a complaint about a dev
    evaluation the user never asked for."""
    refuse_unused(ctx, [(DEV_OPTIONS, eval_data is None, "no --eval-data is given, and the dev-evaluation options "
                         "apply to its split only (the training file has no qrels)",
                         "add --eval-data DIR")])


def refuse_mine_summary_without_remining(mine_summary: Optional[Path], remine: bool) -> None:
    """Without re-mining, ``--mine-summary`` is refused rather than ignored."""
    if mine_summary is not None and not remine:
        raise ConfigError("--mine-summary is read for re-mining only; add --remine-every-epoch or --remine-steps N, "
                          "or drop --mine-summary")


def recorded_mining(config: TrainConfig, mine_summary: Optional[Path]) -> RecordedMining | None:
    """The mining configuration re-mining runs with (the one the mined file records, or ``--mine-summary``'s) and
    the pairs rows read as it was checked (:func:`~negmine.pipeline.recorded_config.read_mine_summary`); None
    without re-mining. The settings are checked first (:meth:`TrainConfig.validate_settings`): a conflict of options
    (``--distill kl --remine-steps 5``) was reported only after the summary file had been found."""
    if not config.remine:
        return None
    config.validate_settings()
    return read_mine_summary(config.train_file, mine_summary, config.show_progress)


def run(config: TrainConfig, remine_pairs: CheckedPairs | None = None):
    """Check the config and the training file, then train; the TrainResult. The trainer's log lines go to stderr:
    stdout is the JSON only. ``remine_pairs``: the recorded pairs as the summary's check read them
    (:class:`~negmine.pipeline.recorded_config.RecordedMining`), which re-mining's load takes rather than read
    them again (``train(..., remine_pairs=)``)."""
    from negmine.train.preflight import check_before_work, check_training_file

    check_before_work(config)  # before the trainer's import, which takes seconds
    check_training_file(config)  # a malformed row too (last: it reads the whole file)
    from negmine.train.api import train

    with contextlib.redirect_stdout(sys.stderr):  # the trainer prints its log lines: stdout is the JSON only
        return train(config, remine_pairs=remine_pairs)  # re-mining: the mining pipeline with config.mine


def _interrupted_hint(output: Path) -> str:
    """What to rerun after Ctrl-C (:func:`negmine.train.preflight.interrupted_hint`, imported only then)."""
    from negmine.train.preflight import interrupted_hint

    return interrupted_hint(output)


def with_query_to_doc(directions: list[str] | None) -> tuple[str, ...]:
    """The ``--direction`` values with ``query_to_doc`` first when not given: the help and the README offer
    ``--direction doc_to_query`` alone (query_to_doc "always"), which TrainConfig refused for lacking it; the
    default (none given) is query_to_doc only. Duplicates are left for TrainConfig to refuse."""
    if not directions:
        return TrainConfig.directions
    return tuple(directions) if "query_to_doc" in directions else ("query_to_doc", *directions)


def comma_separated(value: str | None, kind: type, option: str, example: str) -> tuple | None:
    """``"384,256"`` -> ``(384, 256)`` (``kind`` each); None stays None; a bad entry is a ConfigError."""
    if value is None:
        return None
    try:
        return tuple(kind(part) for part in value.split(","))
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise ConfigError(f"{option} takes comma-separated {what}, got {value!r}; e.g. {option} {example}") from None


TRAIN_FIELDS = {"hardness": "hardness", "matryoshka_weights": "matryoshka_weights", "matryoshka_dims_per_step": "matryoshka_dims_per_step",
                "hardness_strength": "hardness_strength", "mini_batch_size": "mini_batch_size",
                "topic_clusters": "topic_clusters", "fn_margin": "fn_margin", "partition_mode": "partition_mode",
                "distill_weight": "distill_weight", "distill_from": "distill_from",
                "distill_temperature": "distill_temperature"}
"""Options a mode of the run may leave unused (``--topic-clusters 3`` trained with no-duplicates batching): option
name -> TrainConfig field, refused by the rules TrainConfig applies (:data:`negmine.config_unused.UNUSED`)."""

DEV_OPTIONS = ("eval_split", "eval_steps", "eval_max_documents", "unknown_qrels", "keep_best")
"""The dev-evaluation options: each needs ``--eval-data``, even typed at its default (``--eval-split dev``)."""


def register(app: typer.Typer) -> None:
    app.command("train")(train_command)
