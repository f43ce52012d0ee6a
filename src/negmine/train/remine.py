"""ANCE-style re-mining during training (Xiong et al. 2021, "Approximate Nearest Neighbor Negative
Contrastive Learning for Dense Text Retrieval").

Hard negatives mined with the starting model go stale as the model learns. Every epoch and/or every
``remine_steps`` optimizer steps, :class:`RemineCallback` wraps the model being trained as an
:class:`~negmine.encode.base.Embedder` (its fingerprint holds the step and a digest of the current
weights, so the embedding cache never mixes models), calls an injected ``miner`` (normally the mining
pipeline with the run's MineConfig) and swaps each training row's negatives for the freshly mined ones.

The swap keeps the dataset's rows, order and length (so the batch sampler and the learning-rate
schedule stay valid): rows are matched by ``(query_id, positive_id)``; a row whose new negatives are
fewer than ``num_negatives`` keeps its previous ones. It is applied through ``Dataset.set_transform``,
which the trainer's data loader reads on every batch. accelerate's loader already holds the next batch
when a step ends, so a swap after step k reaches training from step k + 2 (like ANCE's asynchronous
index refresh, the negatives lag the model slightly). The no-duplicates batch sampler builds an epoch's batches
when the epoch starts, comparing each row's negatives as they are then (:class:`EpochNegatives`): a swap inside an
epoch reaches its duplicate check at the next epoch.

Distilling from a relevance judge's scores (``TrainConfig.distill``, ``distill_from`` ``judge``), re-mining must
denoise with a judge that scores (a cross-encoder, or one teacher: checked with the config), so each re-mined row
holds the judge's scores of its positive and new negatives; a swapped row's label carries those, parallel to the
negatives it takes (:func:`overlay_rows`), and a row that keeps its negatives keeps its scores.
"""

from __future__ import annotations

import contextlib
import sys
import time
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
from transformers import TrainerCallback

from negmine.encode.base import Embedder
from negmine.errors import InputError, field_setting
from negmine.export.native import FALSE_NEGATIVE_FLAG, JUDGE_KEYS
from negmine.train.dataset import TrainData, encode_row, row_flags
from negmine.train.labels import PAD_KEY, text_key
from negmine.train.remine_vectors import record_vectors
from negmine.train.teacher_scores import teacher_scores

Miner = Callable[[Embedder, Path], Path]
"""``miner(embedder, output_path) -> path`` mines with ``embedder`` and writes native JSONL to ``output_path``."""


class TrainingModelEmbedder:
    """The model being trained as an Embedder (negmine's SentenceTransformerEmbedder around it).

    The fingerprint is the encoder's content fingerprint (sampled weights, so every update changes it)
    plus the training step. ``max_length``: the token length to encode at (None: the model's current
    ``max_seq_length``, which ``--max-length`` lowers for training); the model keeps its training length
    outside :meth:`encode`. Encoding leaves the model in the train/eval mode it found it in.
    """

    def __init__(self, model, step: int, batch_size: int = 64, precision: str = "fp32", show_progress: bool = False,
                 max_length: int | None = None) -> None:
        from negmine.config import EncoderConfig
        from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

        self.model = model
        self.step = step
        self.show_progress = show_progress
        config = EncoderConfig(batch_size=batch_size, precision=precision, show_progress=show_progress,
                               max_length=max_length)
        with _training_length_kept(model):  # the embedder sets config.max_length on the model it wraps
            self.inner = SentenceTransformerEmbedder.from_model(model, config)
        self.max_length = self.inner.max_length
        self.dim = self.inner.dim
        self.fingerprint = f"{self.inner.fingerprint}|train-step={step}"
        # the cache's meta.json, which `negmine cache list` shows: the model these vectors came from, in training
        self.model_name = f"{self.inner.model_name or 'the model'} being trained, step {step}"

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        was_training = self.model.training
        try:
            with _training_length_kept(self.model):
                self.model.max_seq_length = self.max_length
                return self.inner.encode(texts, prompt)
        finally:
            self.model.train(was_training)


@contextlib.contextmanager
def _training_length_kept(model) -> Iterator[None]:
    """Run the block, then put the model's ``max_seq_length`` back as it was."""
    saved = model.max_seq_length
    try:
        yield
    finally:
        model.max_seq_length = saved


class EpochNegatives(dict):
    """Row index -> the negatives the no-duplicates batch sampler compares for the row instead of the training file's
    (:class:`negmine.train.samplers.no_duplicates.EveryRowNoDuplicatesBatchSampler`): those swapped in at or before
    the step the current epoch started at. The sampler builds an epoch's batches when the epoch starts, so a swap
    (:meth:`swap`, with its step) joins at the first epoch that starts at or after its step (:meth:`epoch_started`):
    a resumed run, which re-applies every re-mined file up to its checkpoint, builds the batches of the epoch it
    resumes in from the files of the steps before that epoch, as the uninterrupted run did.

    Pickled empty: the sampler factory holding it is part of the trainer's arguments, which every checkpoint saves
    (``training_args.bin``), and a resumed run rebuilds it from the re-mined files (:meth:`RemineCallback.restore`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[int, int, list[str]]] = []  # (step, row, negatives), in the order swapped

    def swap(self, step: int, row: int, negatives: list[str]) -> None:
        self.pending.append((step, row, negatives))

    def epoch_started(self, step: int) -> None:
        """Take in the swaps made at or before ``step``, the step the epoch starting now starts at."""
        for swapped_at, row, negatives in self.pending:
            if swapped_at <= step:
                self[row] = negatives
        self.pending = [swap for swap in self.pending if swap[0] > step]

    def __reduce__(self):
        return type(self), ()


def epoch_start_step(global_step: int, batches_per_epoch: int, accumulation: int) -> int:
    """The optimizer step the current epoch started at, counted as the trainer counts a resumed run's epochs
    (``global_step // update steps per epoch``)."""
    per_epoch = max(-(-batches_per_epoch // accumulation), 1)
    return global_step - global_step % per_epoch


class NegativeOverlay:
    """Replacement negatives/labels per row index, applied to batches by ``Dataset.set_transform``; ``known``:
    replacement known-positive keys (the label's tail, padded) per row index, applied to every row of a query
    whose known positives re-mining extended (sibling rows and promoted pairs too, re-mined or not); ``batching``:
    the replacement negatives as the no-duplicates batch sampler sees them (:class:`EpochNegatives`)."""

    def __init__(self, num_negatives: int) -> None:
        self.num_negatives = num_negatives
        self.rows: dict[int, tuple[list[str], list[int]]] = {}
        self.known: dict[int, list[int]] = {}
        self.batching = EpochNegatives()
        self.after_next_batch: Callable[[], None] | None = None
        """Run once the next training batch is built (a resumed run's swap that the loader's held batch missed)."""

    def __call__(self, batch: dict) -> dict:
        if "label" not in batch:  # a view without the label column (e.g. a sampler's duplicate check)
            return batch
        batch = self._overlaid(batch)
        if self.after_next_batch is not None:
            pending, self.after_next_batch = self.after_next_batch, None
            pending()
        return batch

    def _overlaid(self, batch: dict) -> dict:
        start = 3 + 2 * self.num_negatives  # [row, query, positive, negatives, flags] then the known keys
        for i, label in enumerate(batch["label"]):
            row = int(label[0])
            if row in self.rows:
                negatives, label = self.rows[row]
                for k, text in enumerate(negatives):
                    batch[f"negative_{k + 1}"][i] = text
            if row in self.known:  # the known keys replaced; the teacher's scores after them (distilling) kept
                known = self.known[row]
                label = [*label[:start], *known, *label[start + len(known):]]
            batch["label"][i] = label
        return batch


def learn_known_texts(data: TrainData, rows: Sequence[Mapping]) -> set[str]:
    """Add to ``data.known_keys`` the text keys of re-mined negatives whose id the training file knows as
    relevant to the query (a dropped false negative's text the file no longer had); the queries that got one.

    The keys go to every query with the same text (``data.same_text_queries``), whose known positives the file's
    masking pools: added to the re-mined row's query alone, a twin query's row took the text for an in-batch
    negative although it is that query's own false negative."""
    extended = set()
    for row in rows:
        ids = data.known_ids.get(row["query_id"], set())
        keys = set(data.known_keys.get(row["query_id"], ()))
        new = {text_key(text) for doc_id, text in zip(row["negative_ids"], row["negatives"]) if doc_id in ids} - keys
        if not new:
            continue
        for query_id in data.same_text_queries.get(row["query_id"], [row["query_id"]]):
            data.known_keys[query_id] = sorted(set(data.known_keys.get(query_id, ())) | new)
            extended.add(query_id)
    return extended


def overlay_rows(data: TrainData, rows: Iterable[Mapping], overlay: NegativeOverlay, step: int = 0) -> int:
    """Put freshly mined ``rows`` into ``overlay`` for the matching training rows; return how many. ``step``: the
    optimizer step re-mined at, from which the no-duplicates batching sees them (:class:`EpochNegatives`).

    A re-mined negative the file knows as relevant to its query is masked like a first-round false negative:
    its text joins the query's known positives, so it is masked in every row of the query (as another row's hard
    or in-batch negative too), not only in the row that drew it. Distilling (``data.distill_from``), a swapped
    row's label ends with the re-mined row's teacher scores, of its positive and of the negatives chosen, which
    ``rows`` must hold (:func:`remined_rows` checks); a row that keeps its negatives keeps its scores."""
    rows = list(rows)
    extended = learn_known_texts(data, rows)
    width = data.stats.known_positive_width
    for index, query_id in enumerate(data.row_queries):
        if query_id in extended:
            keys = data.known_keys[query_id]
            overlay.known[index] = [*keys, *[PAD_KEY] * (width - len(keys))]
    n = data.num_negatives
    updated = 0
    for row in rows:
        index = data.row_of_pair.get((row["query_id"], row["positive_id"]))
        if index is None or len(row["negatives"]) < n:
            continue
        encoded = encode_row(_known_flagged(row, data), index, n, data.known_keys, data.stats.known_positive_width,
                             teacher=_teacher(row, data.distill_from))
        overlay.rows[index] = (encoded.negatives, encoded.label)
        overlay.batching.swap(step, index, encoded.negatives)
        updated += 1
    return updated


def _teacher(row: Mapping, source: str | None) -> tuple[float, list[float]] | None:
    """The re-mined row's teacher scores as :func:`negmine.train.dataset.encode_row` takes them: its positive's,
    and one per negative (None when not distilling)."""
    if source is None:
        return None
    scores = teacher_scores(row, source)
    return scores.positives[0], scores.negatives


def remined_rows(path: Path, source: str | None) -> Iterator[Mapping]:
    """The rows of the re-mined file ``path``; distilling from the judge's scores (``source`` ``judge``), an
    InputError naming the file, the line and the fix for a row without them, raised before any row is swapped.

    Failing, not masking the row's negatives out of the distillation term: the pipeline miner writes them for every
    row whenever its MineConfig denoises with a relevance judge, which :meth:`negmine.config.TrainConfig.validate`
    asks of a distilling run that re-mines, so a row without them comes from a ``miner=`` function (or an edited
    mining summary) that does not score, and training on would mix rows with and without a teacher unseen."""
    from negmine.export.native import read_native_lines

    for line, row in read_native_lines(path):
        if source == "judge" and JUDGE_KEYS[0] not in row:
            raise InputError(path, line, JUDGE_KEYS[0], (
                f"re-mined row ({row['query_id']}, {row['positive_id']}) has no judge scores, and "
                f"{field_setting('distill_from', 'judge')} with re-mining trains a re-mined row on the judge's "
                "scores of its new negatives; re-mine with a relevance judge: a TrainConfig.mine that denoises with "
                "a cross-encoder (or one teacher), or a miner= that writes judge_positive_score and "
                "judge_negative_scores"))
        yield row


def _known_flagged(row: Mapping, data: TrainData) -> Mapping:
    """The re-mined ``row`` with each negative the training file knows as relevant to its query flagged.

    Mining excludes only the qrels' positives, so it can bring back what the audit took out of the negatives:
    a promoted document, or a dropped false negative whose text was nowhere else in the file (so no text key
    masks it). Flagged, such a negative is taken only when the row has too few others, and is then masked.
    """
    known_ids = data.known_ids.get(row["query_id"], set())
    known_keys = set(data.known_keys.get(row["query_id"], ()))
    flags = [
        FALSE_NEGATIVE_FLAG if flag is not None or doc_id in known_ids or text_key(text) in known_keys else None
        for flag, doc_id, text in zip(row_flags(row), row["negative_ids"], row["negatives"])
    ]
    return {**row, "negative_flags": flags}


class RemineCallback(TrainerCallback):
    """Re-mine with the current model every epoch (``every_epoch``) and/or every ``every_steps`` steps, encoding
    at ``max_length`` tokens (the mining length, not ``--max-length``'s training truncation). ``cache``: the
    embedding cache folder the miner writes to, where each re-mining's namespace is recorded
    (:mod:`negmine.train.remine_vectors`: the finished run removes them)."""

    def __init__(self, data: TrainData, miner: Miner, output_dir: Path, every_epoch: bool = False,
                 every_steps: int | None = None, precision: str = "fp32", batch_size: int = 64,
                 max_length: int | None = None, show_progress: bool = False, cache: Path | None = None) -> None:
        self.data = data
        self.miner = miner
        self.output_dir = Path(output_dir)
        self.every_epoch = every_epoch
        self.every_steps = every_steps
        self.precision = precision
        self.batch_size = batch_size
        self.max_length = max_length
        self.show_progress = show_progress  # the bar of the corpus encoding, the long part of a re-mining
        self.cache = cache  # the embedding cache folder the miner writes to (None: none), for remine_vectors
        self.overlay = NegativeOverlay(data.num_negatives)
        self.events: list[dict] = []
        self._installed = False
        self._epoch_end_step: int | None = None  # a resume's checkpoint at an epoch end (see :meth:`restore`)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        step = state.global_step
        if self.every_steps and step % self.every_steps == 0 and step < state.max_steps:
            self.remine(model, step)

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        if self.every_epoch and state.global_step < state.max_steps:
            self.remine(model, state.global_step)

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs):
        """The sampler builds this epoch's batches next: it compares the negatives swapped in before the epoch's start
        (a resumed run's epoch started before its checkpoint: a file re-mined inside it waits for the next epoch)."""
        start = epoch_start_step(state.global_step, len(train_dataloader), args.gradient_accumulation_steps)
        self.overlay.batching.epoch_started(start)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        """A run resumed from a checkpoint at an epoch's end re-mines that epoch now unless a re-mined file of its
        step was restored (:meth:`restore`): the checkpoint weights are loaded and the next epoch's batches not
        built yet, as when the uninterrupted run re-mined there."""
        step = self._epoch_end_step
        if step is not None and state.global_step == step and step < state.max_steps:
            self.remine(model, step)

    def remine(self, model, step: int) -> None:
        """Mine with ``model`` as it is at ``step`` and swap the training negatives (once per step)."""
        if any(event["step"] == step for event in self.events):
            return
        start = time.perf_counter()
        if self.show_progress:
            _announce(step)
        embedder = TrainingModelEmbedder(model, step, batch_size=self.batch_size, precision=self.precision,
                                         show_progress=self.show_progress, max_length=self.max_length)
        if self.cache is not None:  # before mining: a namespace a stop cuts short is recorded too
            record_vectors(self.output_dir, step, embedder.fingerprint, self.cache)
        path = self.miner(embedder, self.output_dir / f"step-{step:07d}.jsonl")
        self._apply(path, step, time.perf_counter() - start)

    def restore(self, step: int, mid_epoch: bool = False) -> None:
        """On resume: re-apply every re-mined file written at or before ``step``, in step order, as the run did:
        a row a later file left short keeps the negatives of an earlier one (and the known texts they taught).
        Mid-epoch, the run re-mined at ``step`` after accelerate's loader had built step ``step + 1``'s batch, which
        trained on the negatives before: so the resumed run swaps in the file of ``step`` once it has built that
        batch (it swapped at once, and a run resumed from a checkpoint at a re-mining step trained other weights).
        At an epoch's end the trainer saves a step checkpoint before the epoch-end callbacks, so ``every_epoch``
        re-mined after the checkpoint: a run stopped while re-mining (mining writes its file atomically: none is
        left) resumed without that epoch's re-mining, trained the next epoch on older negatives and listed no event;
        :meth:`on_train_begin` re-mines it."""
        if self.every_epoch and not mid_epoch and step > 0:
            self._epoch_end_step = step
        done = sorted((p for p in self.output_dir.glob("step-*.jsonl") if _file_step(p) <= step), key=_file_step)
        for path in done:
            if mid_epoch and _file_step(path) == step:
                self._install()
                self.overlay.after_next_batch = partial(self._apply, path, step, 0.0, restored=True)
            else:
                self._apply(path, _file_step(path), 0.0, restored=True)

    def _install(self) -> None:
        if not self._installed:
            self.data.dataset.set_transform(self.overlay)
            self._installed = True

    def _apply(self, path: Path, step: int, seconds: float, restored: bool = False) -> None:
        updated = overlay_rows(self.data, remined_rows(path, self.data.distill_from), self.overlay, step)
        self._install()
        self.events.append({"step": step, "file": str(path), "rows_updated": updated,
                            "rows_total": len(self.data.dataset), "seconds": round(seconds, 3),
                            "restored": restored})


def _announce(step: int) -> None:
    """One line when a re-mining starts: its encoding bar is nested in the trainer's, and a nested bar is drawn on
    a terminal only (:func:`negmine.progress.bar_shown`), so in a log (``negmine train ... 2>log``) the training
    bar stood still for the whole corpus encoding (14 s on minifacts) and nothing said why. ``tqdm.write`` puts
    the line above any bar on a terminal."""
    from tqdm.auto import tqdm

    tqdm.write(f"re-mining at step {step}: encoding the corpus with the model being trained", file=sys.stderr)


def _file_step(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[-1])
