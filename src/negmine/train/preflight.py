"""The checks of a training run that need no model and no trainer: the config, the training file (its existence;
:func:`check_training_file` reads its rows), the output folder and its checkpoints, and the Matryoshka dims against
the dimension a local model folder states in its JSON files (no weight is loaded). Light to import (no
transformers, no torch), so ``negmine train`` runs them before it imports the trainer (seconds) and a mistake
fails at once."""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

from negmine.config import TrainConfig
from negmine.config_path import field_path, option_of, path_option, within
from negmine.encode.folder_dimension import folder_dimension
from negmine.errors import (ConfigError, InputError, NegmineWarning, caller_stacklevel, counted, field_option,
                             field_setting)
from negmine.io.files import BYTE_ORDER_MARK, dangling_link_note
from negmine.io.jsonl import json_type
from negmine.io.outputs import check_output_dir
from negmine.train import SUMMARY_NAME
from negmine.train.judge_provenance import check_remining_judge_matches_file
from negmine.train.run_settings import check_resume_settings


CHECKPOINT_DIR = "checkpoints"
PREFIX_CHECKPOINT_DIR = "checkpoint"
"""transformers' ``trainer_utils.PREFIX_CHECKPOINT_DIR`` (``checkpoint-<step>`` folders; a test keeps the two equal)."""


def refuse_finished_run(output_dir: Path) -> None:
    """A folder holding a finished run (its summary is written last) is neither overwritten nor extended."""
    summary = output_dir / SUMMARY_NAME
    if not summary.is_file():
        return
    try:
        step = json.loads(summary.read_text(encoding="utf-8-sig"))["result"]["global_step"]
    except (OSError, ValueError, KeyError, TypeError):
        step = "?"
    raise ConfigError(
        f"{output_dir} already holds a finished training run ({SUMMARY_NAME}, step {step}); choose a new --output "
        "directory, or delete this one to train it again (a finished run cannot be resumed or extended)"
    )


def last_complete_checkpoint(ckpt_dir: Path, resume: bool = True) -> str | None:
    """The highest-step ``checkpoint-N`` folder of ``ckpt_dir`` that was written to the end: the trainer writes
    ``trainer_state.json`` last, so a run killed while saving leaves a folder without a readable one. Such
    folders are skipped, with a warning that says what the run does instead (``resume``: whether it goes on from
    a checkpoint); the trainer writes them again when it gets back to their step."""
    skipped, found = _complete_checkpoint(ckpt_dir)
    if found is not None:
        instead = f"resuming from {Path(found).name} instead" if resume else "skipped"
    else:
        instead = "no complete checkpoint: this run starts from step 0" if not resume else "no complete checkpoint"
    for folder in skipped:
        warnings.warn(f"{folder} was not saved to the end (killed while writing it?); {instead}", NegmineWarning,
                      stacklevel=caller_stacklevel())
    return found


def _complete_checkpoint(ckpt_dir: Path) -> tuple[list[Path], str | None]:
    """``(skipped, found)``: the checkpoint folders above the last complete one, which were not saved to the end,
    and that one (None: none). A state starting with a byte-order mark was saved to the end, then by an editor: its
    checkpoint is found here and refused for the mark on resume (:func:`_check_trainer_state`). It was skipped as
    "not saved to the end", and the run went on from the checkpoint before it, or from step 0."""
    if not ckpt_dir.is_dir():
        return [], None
    steps = {int(p.name.rsplit("-", 1)[1]): p for p in ckpt_dir.iterdir()
             if p.is_dir() and re.fullmatch(rf"{PREFIX_CHECKPOINT_DIR}-\d+", p.name)}
    skipped = []
    for step in sorted(steps, reverse=True):
        try:
            json.loads((steps[step] / "trainer_state.json").read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            skipped.append(steps[step])
            continue
        return skipped, str(steps[step])
    return skipped, None


def resume_checkpoint(ckpt_dir: Path) -> Path | None:
    """The checkpoint ``--resume`` goes on from (or refuses, when its state starts with a byte-order mark:
    :func:`marked_state`): the highest one saved to the end. ``negmine report`` names it for an unfinished run, so
    the two agree."""
    _, found = _complete_checkpoint(Path(ckpt_dir))
    return None if found is None else Path(found)


def marked_state(checkpoint: Path) -> str | None:
    """Why ``--resume`` refuses ``checkpoint`` and the fix (:data:`MARKED_STATE`) when its ``trainer_state.json``
    starts with a byte-order mark; None when it does not."""
    path = Path(checkpoint) / "trainer_state.json"
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            marked = handle.read(1) == BYTE_ORDER_MARK
    except OSError:
        return None
    before = f"delete {checkpoint} to resume from the checkpoint before it"
    return f"{path}: {MARKED_STATE.format(path=path, before=before)}" if marked else None


def interrupted_hint(output_dir: Path) -> str:
    """How to go on after a training run was stopped (Ctrl-C): rerun with ``--resume`` when a complete checkpoint
    is there, else rerun as it was (``--resume`` would be refused: no checkpoint)."""
    _, found = _complete_checkpoint(Path(output_dir) / CHECKPOINT_DIR)
    if found is None:
        return "no checkpoint was saved yet: rerun the same command, without --resume, to start again"
    return f"rerun the same command with --resume to continue from {Path(found).name}"


def find_checkpoint(output_dir: Path, resume: bool) -> str | None:
    """The last complete checkpoint to resume from; refuses to silently restart over an earlier run's
    checkpoints."""
    refuse_finished_run(output_dir)
    ckpt_dir = output_dir / CHECKPOINT_DIR
    last = last_complete_checkpoint(ckpt_dir, resume)
    if resume and last is None:
        raise ConfigError(f"{field_setting('resume', True)}: no checkpoint found in {ckpt_dir}; run again with "
                          f"{field_setting('resume', False, cli='no --resume')} to start afresh")
    if not resume and last is not None:
        raise ConfigError(
            f"{output_dir} already holds checkpoints of an earlier run (e.g. {Path(last).name}); set "
            f"{field_setting('resume', True)} to continue it, or choose a new {field_option('output_dir', '--output')} "
            "directory"
        )
    if last is not None:
        _check_trainer_state(Path(last))
    return last


def _check_trainer_state(checkpoint: Path) -> None:
    """InputError when the ``trainer_state.json`` of the checkpoint to resume from is JSON (a file cut short is not,
    and its checkpoint is skipped as not saved to the end) but not what the trainer wrote: starting with a byte-order
    mark (:data:`MARKED_STATE`), not an object, or an ``epoch`` that is not a number. A resume that re-mines read its epoch with an AttributeError or ValueError
    traceback, and transformers read a state not an object with a TypeError one."""
    path = checkpoint / "trainer_state.json"
    text = path.read_text(encoding="utf-8")  # JSON after any mark: :func:`_complete_checkpoint` parsed it
    before = f"delete {checkpoint} to resume from the checkpoint before it"
    if text.startswith(BYTE_ORDER_MARK):
        raise InputError(path, None, None, MARKED_STATE.format(path=path, before=before))
    state = json.loads(text)
    fix = f"; transformers wrote it when it saved the checkpoint, so it was edited: restore it, or {before}"
    if not isinstance(state, dict):
        raise InputError(path, None, None, f"must hold a JSON object, got {json_type(state)}{fix}")
    epoch = state.get("epoch")
    if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, (int, float))):
        raise InputError(path, None, "epoch", f"must be a number, got {json.dumps(epoch)}{fix}")


MARKED_STATE = (
    "starts with a byte-order mark (U+FEFF), which transformers cannot read (it refuses the file with 'Unexpected "
    "UTF-8 BOM'): an editor saved it with one. The checkpoint itself was saved to the end; remove the mark, e.g. "
    "sed -i '1s/^\\xEF\\xBB\\xBF//' {path}, and resume again, or {before}"
)
"""transformers writes ``trainer_state.json`` without a mark and reads it with ``json.loads``, which refuses one."""


def refuse_dims_beyond(config: TrainConfig, dim: int) -> None:
    """ConfigError naming the Matryoshka dims of ``config`` above the model's embedding dimension ``dim``, with
    dims that fit (sorted largest first, the model's own included) as the example, and with them the
    ``--matryoshka-weights`` and ``--matryoshka-dims-per-step`` that the example needs when the user set them:
    the example can have fewer dims than given, and following it alone then failed on the weights' count."""
    dims = tuple(config.matryoshka_dims or ())
    too_big = [d for d in dims if d > dim]
    if not too_big:
        return
    fitting = sorted({dim, *(d for d in dims if 0 < d <= dim)}, reverse=True)
    verb = "exceeds" if len(too_big) == 1 else "exceed"
    example = f"--matryoshka-dims {','.join(map(str, fitting))}" + _matching_options(config, fitting, too_big[0])
    raise ConfigError(f"matryoshka_dims {dims!r}: {', '.join(map(str, too_big))} {verb} the embedding dimension "
                      f"{dim} of the model {config.model!r}; use dims up to {dim}, e.g. {example}")


def _matching_options(config: TrainConfig, fitting: list[int], replaced: int) -> str:
    """The weights (each kept dim keeps its own; the model's dimension, when new, takes the weight of the first
    dim too large, which it replaces) and dims per step (at most the dims left) that go with ``fitting``."""
    dims, weights, extra = tuple(config.matryoshka_dims or ()), config.matryoshka_weights, ""
    if (isinstance(weights, tuple) and len(weights) == len(dims)
            and all(isinstance(w, (int, float)) and w > 0 for w in weights)):  # else ``validate`` refuses them
        by_dim = dict(zip(dims, weights))
        kept = [by_dim.get(d, by_dim[replaced]) for d in fitting]
        extra += f" --matryoshka-weights {','.join(f'{w:g}' for w in kept)}"
    per_step = config.matryoshka_dims_per_step
    if isinstance(per_step, int) and per_step > len(fitting):
        extra += f" --matryoshka-dims-per-step {len(fitting)}"
    return extra


def check_matryoshka_dims_early(config: TrainConfig) -> None:
    """Matryoshka dims above the model's dimension, refused before the model loads when a local folder (the
    bundled default included) states the dimension in its JSON files
    (:func:`negmine.encode.folder_dimension.folder_dimension`); otherwise once it has loaded
    (:func:`negmine.train.losses.matryoshka.check_model_dimension`). Run before ``validate``, whose message for
    dims out of order (``384,500``) could only say to sort them: this one names the model's dimension."""
    dims = config.matryoshka_dims
    if not isinstance(dims, tuple) or not dims or not all(type(d) is int for d in dims):
        return  # None, or a type ``validate`` refuses
    dim = folder_dimension(config.model)
    if dim is not None:
        refuse_dims_beyond(config, dim)


def warn_checkpoint_steps_unused(config: TrainConfig) -> None:
    """A NegmineWarning when ``checkpoint_steps`` is set off its default with ``--keep-best``: the trainer has one
    save schedule, and returning to the best evaluation needs a checkpoint at each, so checkpoints are saved at
    every evaluation and at no other step. The value went silently unused (measured: ``--checkpoint-steps 2
    --eval-steps 5 --keep-best`` saved steps 5 and 9 only), and the summary and the training report still show it,
    so a run stopped between two evaluations lost more steps than it said. A warning, not an error: a resume may
    name another cadence (:mod:`negmine.train.run_settings`), which changes nothing here either."""
    import warnings

    from negmine.errors import NegmineWarning

    if config.dev is None or not config.dev.keep_best or config.checkpoint_steps in (None, TrainConfig.checkpoint_steps):
        return
    with within(config, "dev"):  # dev.steps (--eval-steps), dev.keep_best (--keep-best)
        steps, keep_best = path_option("steps"), path_option("keep_best")
        every = "every step" if config.dev.steps == 1 else f"every {config.dev.steps} steps"
        when = f"{every} ({field_path('steps')}, {option_of('steps')})" if config.dev.steps else "each epoch"
    warnings.warn(
        f"{field_setting('checkpoint_steps', config.checkpoint_steps)} is not used with {keep_best}: a checkpoint is "
        f"saved at every evaluation, {when}, and at no other step; set {steps} to the cadence you want checkpoints at, "
        "or leave checkpoint_steps at its default (drop --checkpoint-steps)", NegmineWarning,
        stacklevel=caller_stacklevel(),
    )


def warn_negative_fn_margin(config: TrainConfig) -> None:
    """A NegmineWarning for a negative ``fn_margin``: it masks candidates the model scores *below* the positive
    (down to ``|fn_margin|`` below it), the hardest negatives, which carry the training signal (the threshold is
    meant above the positive: :mod:`negmine.train.losses.masking`). ``--fn-margin -1`` was accepted (the range is
    [-2, 2]) and masked 98.7% of a tiny run's candidates, every step at loss 0, with nothing said. A warning, not
    an error: the range stays as it was, and :mod:`negmine.train.mask_warning` says so again, with the share
    masked, if a step loses most of its negatives. The message names the sign convention: sentence-transformers'
    GISTEmbedLoss subtracts its margin (with a separate guide model), so a user coming from it may type -0.1."""
    if not config.fn_mask or config.fn_margin is None or config.fn_margin >= 0:
        return
    warnings.warn(
        f"{field_setting('fn_margin', config.fn_margin)} is negative: it masks every candidate the model scores above "
        f"the positive's score - {-config.fn_margin!r}, so also those scored just below the positive, the hardest "
        "negatives, which carry the training signal (fn_margin is added to the positive's score, and the model being "
        "trained scores; sentence-transformers' GISTEmbedLoss subtracts its margin and scores with a separate guide "
        "model); use a margin above 0 "
        f"(e.g. {field_setting('fn_margin', 0.1)}: candidates scored 0.1 above the positive) or none "
        f"({field_setting('fn_margin', None, cli='--no-fn-margin')}, the default)", NegmineWarning, stacklevel=caller_stacklevel(),
    )


def warn_prompts_unlike_mining(config: TrainConfig) -> None:
    """A NegmineWarning when the training file was mined by the model being trained with other
    ``--query-prompt``/``--document-prompt`` than it trains with (read from the mining summary next to it, or
    ``config.mine``): an E5 model mined with ``'query: '``/``'passage: '`` and trained without them learned
    inputs it is not used with, with nothing said, and re-mining went on with the mined file's prompts. Only
    for the same model: another model may well take other prompts."""
    import warnings

    from negmine.errors import NegmineWarning

    mined = Path(config.train_file)
    summary = mined.with_name(f"{mined.stem}.summary.json")
    if config.mine is not None:
        encoder = {"model": config.mine.encoder.model, "query_prompt": config.mine.encoder.query_prompt,
                   "document_prompt": config.mine.encoder.document_prompt}
    else:
        try:
            encoder = json.loads(summary.read_text(encoding="utf-8-sig"))["config"]["encoder"]
        except (OSError, ValueError, KeyError, TypeError):
            return
    if not isinstance(encoder, dict) or encoder.get("model") != config.model:
        return
    mined_with = (encoder.get("query_prompt") or "", encoder.get("document_prompt") or "")
    if mined_with != (config.query_prompt, config.document_prompt):
        warnings.warn(
            f"{mined} was mined by {config.model!r} with query_prompt {mined_with[0]!r} and document_prompt "
            f"{mined_with[1]!r} (--query-prompt, --document-prompt; "
            f"{'the re-mining configuration' if config.mine is not None else summary}), but is "
            f"trained with {config.query_prompt!r} and {config.document_prompt!r}; give the mining prompts to "
            "negmine train (TrainConfig.query_prompt, document_prompt) unless the change is meant", NegmineWarning,
            stacklevel=caller_stacklevel(),
        )


def check_model_folder(config: TrainConfig) -> None:
    """ConfigError when a local ``--model`` cannot be a model (a missing path, a file, a folder with neither
    ``modules.json`` nor ``config.json``, an unfinished ``negmine train`` output:
    :func:`~negmine.encode.sentence_transformer.check_model_source`), before the data loads and the trainer is
    imported: it was found only when the model loaded (the demo, a missing folder: exit 2 after 32 s). A hub name
    is left to the load (``hub="none"``), as the hub is not asked before a run here."""
    from negmine.encode.sentence_transformer import check_model_source

    check_model_source(config.model, hub="none")


_DROPPED = {"SparseEncoder": "its masked-language-model head and sparse pooling"}
"""What sentence-transformers drops of a model type other than SentenceTransformer it converts, for the warning."""


def warn_model_not_a_bi_encoder(config: TrainConfig) -> None:
    """A NegmineWarning when ``--model`` is a local cross-encoder folder (a transformers sequence classifier or a
    CrossEncoder save) or another non-dense sentence-transformers model (a SparseEncoder): sentence-transformers
    loads its transformer layers with mean pooling and drops its head, and the run said nothing (the only sign a
    transformers 'UNEXPECTED classifier' load report). Not an error, unlike ``--model`` of mine and eval, which use
    the vectors as they are: nothing is random (the backbone is loaded whole, mean pooling has no weights) and
    training makes a bi-encoder of it as of any backbone (bert-base-uncased itself is a BertForMaskedLM), so
    starting from a re-ranker's layers can be meant; but a user who took it for a bi-encoder should know."""
    import os

    from negmine.encode.sentence_transformer import cross_encoder_kind, other_model_type

    folder = Path(os.path.expanduser(config.model))
    kind, dropped = cross_encoder_kind(folder), "its scoring head"
    if kind is None:
        model_type = other_model_type(folder)
        if model_type is None:
            return
        kind = f"a {model_type} model (sentence-transformers)"
        dropped = _DROPPED.get(model_type, "the modules after its transformer layers")
    warnings.warn(
        f"--model {config.model!r} is {kind}, not a bi-encoder: sentence-transformers loads its transformer layers "
        f"with mean pooling and drops {dropped}, so training starts from those layers as from a plain backbone "
        "(bert-base-uncased, say), not from a model that encodes a text alone; to fine-tune a bi-encoder, pass one "
        "as --model (a sentence-transformers folder, e.g. the folder `negmine train -o DIR` wrote, or a hub name); "
        "go on if starting from this backbone is meant", NegmineWarning, stacklevel=caller_stacklevel())


def check_before_work(config: TrainConfig) -> str | None:
    """Every check that needs no model or data (a resume's settings against those its run started with
    included, and no other run writing ``--output`` now); returns the checkpoint to resume from. (Re-mining
    needs ``config.mine``, which ``validate`` checks; ``train`` builds the miner from it unless given one.)"""
    from negmine.io.output_lock import check_not_busy

    check_settings(config)
    check_not_busy({}, training_outputs(config))  # ``train`` holds the lock for the run; this fails before imports
    return resume_point(config)


def check_training_file(config: TrainConfig) -> None:
    """Read the whole training file as training reads it, before the trainer is imported: every row validated
    (:func:`negmine.export.native.read_native_lines`, one text per id included). ``negmine train`` found a malformed
    row only once the trainer's import had taken seconds (7-10 s measured on the demo data with a tiny model, 2
    busy cores). The file is read a second time as the data loads, which also warns about repeated rows and rows
    with fewer than ``num_negatives`` negatives. With ``distill`` on, every row must hold the teacher's scores it
    trains on (:func:`negmine.train.teacher_scores.check_teacher_scores`). Refused here too, as ``train`` refuses
    them once the data has loaded: a file with no row of ``num_negatives`` negatives (none at all: an empty file),
    a run of one step at learning rate 0 (:func:`refuse_single_warmup_step`) and re-mining that would never run
    (:func:`refuse_remine_that_never_runs`), both counted on the pairs the data load makes
    (:class:`negmine.train.dataset.PairCount`). They came after the trainer's import: on the demo, 8 s for an empty
    file, 6-7 s for the other two; about 1 s now. Light: no transformers, no torch."""
    from negmine.export.native import read_native_lines
    from negmine.train.dataset import PairCount, TrainDataStats, nothing_kept
    from negmine.train.teacher_scores import check_teacher_scores

    stats, pairs = TrainDataStats(), PairCount(config.num_negatives)
    for line, row in read_native_lines(config.train_file, warn_repeats=False, check_ids=True):
        if config.distill != "none":
            check_teacher_scores(row, config.distill_from, config.train_file, line)
        stats.rows_read += 1
        stats.max_negatives_seen = max(stats.max_negatives_seen, len(row["negatives"]))
        pairs.add(row)
    if stats.max_negatives_seen < config.num_negatives or stats.rows_read == 0:
        raise ConfigError(nothing_kept(str(config.train_file), stats, config.num_negatives))
    refuse_single_warmup_step(config, pairs.pairs)
    refuse_remine_that_never_runs(config, pairs.pairs)
    refuse_topic_clusters_beyond_queries(config, pairs.queries)
    warn_one_short_batch(config, pairs.pairs)  # after the refusals: a refused run gets no warning before its error


def check_settings(config: TrainConfig) -> dict:
    """The checks of :func:`check_before_work` that do not read the output folder's checkpoints. Returns the hub
    snapshots they checked, which the run loads (:func:`negmine.encode.hub.pinned_snapshots`; ``{}``: none): the
    re-mining judge's, distilling from the judge's scores
    (:func:`~negmine.train.judge_provenance.check_remining_judge_matches_file`)."""
    from negmine.encode.max_length_early import check_max_length_early
    from negmine.progress_interval import check_progress_interval

    check_matryoshka_dims_early(config)
    config.validate()
    check_progress_interval(config.show_progress)  # the first bar opens once the data and the model have loaded
    check_max_length_early(config.model, config.max_length)  # before the file is read and the model loads
    if Path(config.train_file).is_dir():
        raise ConfigError(f"training file {config.train_file} is a directory; pass the mined native JSONL file "
                          "(`negmine mine -o FILE` or `negmine audit -o FILE`)")
    if not Path(config.train_file).is_file():
        raise ConfigError(f"training file {config.train_file} not found{dangling_link_note(config.train_file)}; mine "
                          "it first with `negmine mine`")
    pins = check_remining_judge_matches_file(config)  # distilling with re-mining: the file's judge is the re-mining's
    check_output_dir(config.output_dir, "--output")
    refuse_output_over_model(config)
    check_model_folder(config)
    warn_checkpoint_steps_unused(config)
    warn_negative_fn_margin(config)
    warn_prompts_unlike_mining(config)
    warn_model_not_a_bi_encoder(config)
    return pins


def refuse_single_warmup_step(config: TrainConfig, rows: int) -> None:
    """ConfigError when the run would be one step at learning rate 0: every row fits in one batch, so one epoch
    is one step (either sampler), and a linear warm-up runs its first step at learning rate 0. The model was saved
    unchanged, bit for bit, with nothing said (measured: the demo's 70 rows at ``--batch-size 128``). The same
    rule as ``max_steps 1`` in :meth:`TrainConfig.validate`, which cannot see the number of rows."""
    if config.max_steps is not None or config.epochs > 1 or rows > config.batch_size or config.warmup_ratio == 0:
        return
    raise ConfigError(
        f"{config.train_file}: its {rows} training rows fit in one batch (batch_size {config.batch_size}), so "
        f"epochs 1 is a single step, and with warmup_ratio {config.warmup_ratio!r} a linear warm-up runs that step at "
        f"learning rate 0: the model would be saved unchanged; use a --batch-size below {rows}, --epochs 2 or more, "
        "or --warmup-ratio 0"
    )


def warn_one_short_batch(config: TrainConfig, rows: int) -> None:
    """A NegmineWarning when the training rows are fewer than ``batch_size``: every batch is all the rows, so each
    query's in-batch negatives come from fewer rows than the batch size suggests, an epoch is one step, and every
    step of the run trains on that same batch. ``--batch-size 64`` on the 38 rows the tiny model mines from the demo
    trained 5 steps (``--max-steps 5``) on one batch of 38 without a word. A warning, not an error, also when the
    steps repeat the batch: that run does train (full-batch steps, as on a few rows to check a setup), and a run that
    would change nothing (one step at learning rate 0) is refused by :func:`refuse_single_warmup_step`, checked first."""
    if rows >= config.batch_size:
        return
    _, total = planned_steps(config, rows)
    how = field_setting("max_steps", config.max_steps) if config.max_steps else field_setting("epochs", config.epochs)
    repeat = f"; the run's {total} steps ({how}) all train on that same batch" if total > 1 else ""
    fixes = ([f"use a --batch-size below {rows}"] if rows > 1 else []) + ["train on more rows (mine more pairs)"]
    held, whole = ("its one training row is", "only it") if rows == 1 else (f"its {rows} training rows are", f"all {rows}")
    others = "no other row" if rows == 1 else counted(rows - 1, "other row")
    warnings.warn(
        f"{config.train_file}: {held} fewer than {field_setting('batch_size', config.batch_size)},"
        f" so each batch holds {whole}: a query's in-batch negatives come from {others}, not the "
        f"{config.batch_size - 1} the batch size suggests, and an epoch is 1 step{repeat}; for several batches an "
        f"epoch, each with other in-batch negatives, {' or '.join(fixes)}, or set --batch-size {rows} if one batch "
        "of every row is meant", NegmineWarning, stacklevel=caller_stacklevel())


def planned_steps(config: TrainConfig, rows: int) -> tuple[int, int]:
    """``(steps per epoch, total steps)``: both samplers put ``rows`` into ``ceil(rows / batch_size)`` batches per
    epoch (the topic sampler's leftovers are pooled, so its count is the same), and ``max_steps`` overrides
    ``epochs`` as in transformers' Trainer."""
    per_epoch = -(-rows // config.batch_size)
    return per_epoch, config.max_steps or config.epochs * per_epoch


def refuse_remine_that_never_runs(config: TrainConfig, rows: int) -> None:
    """ConfigError when re-mining is asked for and would never run: it skips the last step (nothing trains on its
    negatives), so ``--remine-every-epoch`` with one epoch and ``--remine-steps N`` with N >= the run's steps
    re-mined nothing, said nothing, and the summary's ``remine`` was ``[]`` (measured on the demo's 70 rows at
    ``--batch-size 8``: 9 steps, ``--remine-every-epoch`` and ``--remine-steps 50``)."""
    if not config.remine:
        return
    per_epoch, total = planned_steps(config, rows)
    if (config.remine_every_epoch and per_epoch < total) or (config.remine_steps and config.remine_steps < total):
        return
    asked = " and ".join(
        ([f"{field_setting('remine_every_epoch', True)} (epochs of {counted(per_epoch, 'step')})"] if config.remine_every_epoch
         else []) + ([field_setting("remine_steps", config.remine_steps)] if config.remine_steps else []))
    raise ConfigError(
        f"re-mining would never run: the run is {counted(total, 'step')} ({counted(rows, 'row')}, batch_size "
        f"{config.batch_size}), and "
        f"{asked} re-mines only before the last step; use {field_option('remine_steps')} below {total}, more "
        f"{field_option('epochs')} or {field_option('max_steps')}, or drop the re-mining options"
    )


def refuse_output_over_model(config: TrainConfig) -> None:
    """ConfigError when ``--output`` is the local folder of ``--model``: the run saved the trained weights over the
    starting model's (exit 0; measured with a tiny model folder), so the model it started from was gone, and a run
    stopped while saving left neither."""
    model = Path(os.path.expanduser(str(config.model)))
    if not model.is_dir() or not Path(config.output_dir).is_dir():
        return
    if os.path.samefile(model, config.output_dir):
        raise ConfigError(f"{field_option('output_dir', '--output')} {config.output_dir} is the folder of "
                          f"{field_option('model')} {config.model}: training would save over the model it starts from; "
                          "choose a new output directory")


def training_outputs(config: TrainConfig) -> dict[str, Path]:
    """The folders a training run writes, for their lock (:mod:`negmine.io.output_lock`): the ``--output``
    folder (checkpoints, re-mined files, model, summary), locked as a whole."""
    return {"--output": Path(config.output_dir)}


def resume_point(config: TrainConfig) -> str | None:
    """The checkpoint to resume from (None: start afresh), its run's settings checked against ``config``."""
    checkpoint = find_checkpoint(Path(config.output_dir), config.resume)
    if checkpoint is not None:
        check_resume_settings(config, Path(config.output_dir) / CHECKPOINT_DIR)
    return checkpoint


def refuse_topic_clusters_beyond_queries(config: TrainConfig, queries: int) -> None:
    """ConfigError for ``--topic-clusters`` above the file's ``queries`` distinct queries (of the rows training
    keeps): k-means makes at most one cluster per query, so the count was cut to theirs without a word (measured:
    ``--topic-clusters 500`` on the demo's 60 distinct training queries ran with 60). ``negmine train`` refuses it
    before the trainer's import (:func:`check_training_file`); it came after it (~6 s on the demo)."""
    from negmine.errors import ConfigError, field_setting
    from negmine.train.samplers.cluster_count import default_num_clusters

    if config.batching != "topic" or config.topic_clusters is None:
        return
    if config.topic_clusters > queries:
        raise ConfigError(
            f"{field_setting('topic_clusters', config.topic_clusters)} is more than the {queries} distinct queries of "
            f"{config.train_file}, and k-means makes at most one cluster per query; use "
            f"{field_setting('topic_clusters', queries)} or fewer, or leave it unset (here {default_num_clusters(queries, config.batch_size)}: about two batches of "
            "queries per cluster)"
        )
