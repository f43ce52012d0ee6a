"""The sentence-transformers bi-encoder as a negmine :class:`~negmine.encode.base.Embedder`.

- Loads on ``config.device`` (CPU by default); the default model is the bundled all-MiniLM-L6-v2.
- ``precision``: ``fp32``, ``bf16`` (forward pass under ``torch.autocast``), ``auto`` (bf16 where the
  hardware has native bf16); see :mod:`negmine.encode.precision` for the measurements behind the choice.
- Batching by length, then put back in input order. On the CPU a text is padded to its own pass length (the
  next multiple of 16 tokens above its token count, :func:`pass_length`) and every pass of one length has the
  same shape (:func:`fixed_shape_batches`), so a text's vector does not depend on which other texts it was
  encoded with. On a GPU texts are grouped by exact token count and encoded in passes that need no padding.
- Output is always float32 and L2-normalised, whatever the model's last module does.
- ``fingerprint`` is the model's content identity (:mod:`negmine.encode.fingerprint`) plus the effective
  ``max_length``, the precision actually used and the batch size.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from pathlib import Path
from typing import Sequence

import numpy as np

from negmine.config import EncoderConfig
from negmine.encode.damaged_json import damaged_json_error
from negmine.encode.default_model import resolve_model
from negmine.encode.fingerprint import model_fingerprint
from negmine.encode.max_length import set_max_length
from negmine.encode.precision import resolve_precision
from negmine.errors import ConfigError, first_line


def check_model_source(model: str, hub: str = "probe", what: str = "model",
                       organization: str | None = None) -> str:
    """The folder or hub name ``model`` loads from; ConfigError at once, without loading anything, when it cannot
    be a model: a missing path, a file, a folder with neither ``modules.json`` (sentence-transformers) nor
    ``config.json`` (transformers), a ``negmine train`` output folder whose run did not finish (its model
    files, if any, are partial or from no finished run), or a hub name that cannot load. ``hub``: ``"probe"``
    (before it loads: not cached and the hub unreachable, :func:`negmine.encode.hub.check_hub_model`), ``"early"``
    (before a list of models loads: offline and not cached, or unknown to the hub,
    :func:`negmine.encode.hub.check_hub_name`, with sentence-transformers' default ``organization`` of a bare
    name) or ``"none"``."""
    source = resolve_model(model)
    if _missing_local_path(source):
        raise ConfigError(f"{what} path {source!r} does not exist; pass an existing folder or a hub model name")
    folder = Path(os.path.expanduser(source))
    if not folder.exists():
        from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION, check_hub_model, check_hub_name

        if hub == "probe":
            check_hub_model(source)
        elif hub == "early":
            check_hub_name(source, organization or SENTENCE_TRANSFORMERS_ORGANIZATION, what)
    elif not folder.is_dir():
        fix = _folder_kind(what, "a sentence-transformers folder (the folder `negmine train -o DIR` wrote)")
        raise ConfigError(f"{what} {model!r} is a file, not a model folder; pass {fix} or a hub name")
    elif _unfinished_training(folder) and not _has_checkpoints(folder):
        raise ConfigError(f"{what} {model!r} is the output folder of a `negmine train` run that stopped before its "
                          "first checkpoint (it has checkpoints/ but neither a checkpoint-N folder nor "
                          "negmine_train.json), so it holds no model and nothing to resume; run the same "
                          f"`negmine train ... -o {model}` command again, without --resume")
    elif _unfinished_training(folder):
        raise ConfigError(f"{what} {model!r} is the output folder of a `negmine train` run that did not finish (it "
                          "has checkpoints/ but no negmine_train.json), so it holds no finished model; finish the run "
                          f"with the same `negmine train ... -o {model}` command and --resume, or pass one of its "
                          "checkpoints/checkpoint-N folders")
    elif not _holds_model(folder):
        fix = _folder_kind(what, "the folder `negmine train -o DIR` wrote")
        raise ConfigError(f"{what} {model!r} is not a model folder: it has neither modules.json (sentence-transformers) "
                          f"nor config.json (transformers){_beir_note(folder)}; "
                          f"{_subfolder_fix(model, folder) or f'pass {fix}, or a hub name'}")
    return source


def _holds_model(folder: Path) -> bool:
    return (folder / "modules.json").is_file() or (folder / "config.json").is_file()


def _subfolder_fix(model: str, folder: Path, shown: int = 3) -> str:
    """For a folder whose subfolders hold a model (``modules.json`` or ``config.json``, e.g. ``tiny1/model/``): the fix
    naming them as paths to pass (up to ``shown``, in name order), or "". ``--model tiny1`` was refused as 'not a
    model folder' without a word on the model one level down."""
    try:
        found = sorted(child.name for child in folder.iterdir() if child.is_dir() and _holds_model(child))
    except OSError:  # unreadable: the refusal stands with the general fix
        return ""
    paths = ", ".join(repr(os.path.join(model, name)) for name in found[:shown])
    if len(found) == 1:
        return f"its subfolder {paths} holds one: pass that folder"
    more = f" and {len(found) - shown} more" if len(found) > shown else ""
    return f"its subfolders {paths}{more} hold one each: pass one of them" if found else ""


def _beir_note(folder: Path) -> str:
    """For a folder that is a BEIR dataset (``corpus.jsonl`` and ``queries.jsonl``): that it is the data, which
    every command takes as its positional argument, not a model."""
    from negmine.io.beir import CORPUS_FILE, QUERIES_FILE

    if not all((folder / name).is_file() for name in (CORPUS_FILE, QUERIES_FILE)):
        return ""
    return (f"; it is a BEIR dataset folder ({CORPUS_FILE}, {QUERIES_FILE}), the data, which the command takes as "
            "its positional argument")


def check_bi_encoder_folder(model: str, source: str, what: str = "model") -> None:
    """ConfigError when the local folder ``source`` (``model`` as given, a ``what``: ``"model"`` or ``"teacher"``)
    holds a cross-encoder (:func:`cross_encoder_kind`) or a sentence-transformers model of another non-dense type,
    e.g. a SparseEncoder (:func:`other_model_type`), checked before any model loads. sentence-transformers loads
    such a folder as a bi-encoder: its backbone with mean pooling, its own head dropped (the only sign a
    transformers 'UNEXPECTED' load report, and for the sparse model a 'Converting SparseEncoder' log line), so the
    vectors and every score made from them were no trained model's. The mirror of
    :func:`negmine.audit.resources.check_cross_encoder_folder`. A hub name is checked in its cached snapshot (as
    sentence-transformers names it: :func:`model_folder`); one not cached is not looked up."""
    folder = model_folder(source)
    if folder is None:
        return
    option = "--teacher" if what == "teacher" else "--model"
    bi_encoder = (f"pass a bi-encoder as {option} (a sentence-transformers folder, e.g. the folder `negmine train -o "
                  "DIR` wrote, or a hub name)")
    kind = cross_encoder_kind(folder)
    if kind is not None:
        raise ConfigError(
            f"{what} {model!r} is {kind}, not a bi-encoder: it scores a (query, document) pair together and does not "
            "encode a text alone, so sentence-transformers would load its backbone with mean pooling and drop the "
            f"scoring head, and the vectors would be no trained model's; give a re-ranker as --cross-encoder {model} "
            f"(negmine audit, negmine mine --denoise), and {bi_encoder}")
    model_type = other_model_type(folder)
    if model_type is not None:
        raise ConfigError(
            f"{what} {model!r} is a {model_type} model (sentence-transformers), not a dense bi-encoder: "
            f"{_OTHER_TYPES.get(model_type, 'its modules are not a SentenceTransformer')}, so sentence-transformers "
            "would load only its backbone with mean pooling and drop the rest, and the vectors would be no trained "
            f"model's; negmine needs one dense vector per text: {bi_encoder}")


def model_folder(source: str, organization: str | None = None) -> Path | None:
    """The folder whose JSON files say what model ``source`` is: a local folder itself, else a hub name's cached
    snapshot (:func:`negmine.encode.hub.cached_folder`; a bare name also under ``organization``, default
    sentence-transformers' for a bi-encoder); None when neither. A cached hub name (e.g.
    ``cross-encoder/ms-marco-MiniLM-L6-v2`` as ``--model``) passed the kind checks unread."""
    folder = Path(os.path.expanduser(source))
    if folder.is_dir():
        return folder
    from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION, cached_folder

    return cached_folder(source, organization or SENTENCE_TRANSFORMERS_ORGANIZATION)


_OTHER_TYPES = {
    "SparseEncoder": "it encodes a text as a sparse vector over its vocabulary (SPLADE-style: a masked-language-model "
                     "head and sparse pooling)",
    "MultiVectorEncoder": "it encodes a text as one vector per token (ColBERT-style late interaction)",
}
"""How a sentence-transformers model type other than SentenceTransformer and CrossEncoder encodes, for messages."""


def other_model_type(folder: Path) -> str | None:
    """The ``model_type`` a local sentence-transformers ``folder`` (one with ``modules.json``) names in its
    ``config_sentence_transformers.json`` when it is neither SentenceTransformer (also when it names none:
    sentence-transformers' own rule) nor CrossEncoder (:func:`cross_encoder_kind`), e.g. ``SparseEncoder``; None
    otherwise. SentenceTransformer converts any other type by building its default modules (the backbone, mean
    pooling) over the folder. Unreadable files pass: loading reports them."""
    import json

    if not (folder / "modules.json").is_file():
        return None
    try:
        data = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    model_type = data.get("model_type") if isinstance(data, dict) else None
    if not isinstance(model_type, str) or model_type in ("SentenceTransformer", "CrossEncoder"):
        return None
    return model_type


def cross_encoder_kind(folder: Path) -> str | None:
    """What cross-encoder the local ``folder`` holds, for a message (None: none, or not a local folder): a folder
    sentence-transformers' CrossEncoder saved (``config_sentence_transformers.json`` model_type ``CrossEncoder``), or
    a transformers folder (no ``modules.json``) whose ``config.json`` architectures end in
    ForSequenceClassification. Unreadable files pass: loading reports them."""
    import json

    def read(name: str) -> dict:
        try:
            data = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    if not folder.is_dir():
        return None
    if (folder / "modules.json").is_file():
        kind = read("config_sentence_transformers.json").get("model_type")
        return "a CrossEncoder model (sentence-transformers)" if kind == "CrossEncoder" else None
    architectures = read("config.json").get("architectures") or []
    classifiers = [a for a in architectures if isinstance(a, str) and a.endswith("ForSequenceClassification")]
    return f"a sequence classifier ({classifiers[0]}, transformers)" if classifiers else None


def _folder_kind(what: str, default: str) -> str:
    """The model folder a ``what`` (:func:`check_model_source`) should be, for its messages: a cross-encoder was told
    to pass "the folder `negmine train -o DIR` wrote", a bi-encoder, which CrossEncoder loads with a new, untrained
    scoring head."""
    if what == "cross-encoder":
        return ("a cross-encoder folder (a re-ranker saved by sentence-transformers' CrossEncoder, or a transformers "
                "sequence-classification model with one label)")
    return default


def _has_checkpoints(folder: Path) -> bool:
    """Whether a training output folder holds a ``checkpoints/checkpoint-N`` folder (one ``--resume`` can use; the
    message for one without told the user to resume, which then failed with 'no checkpoint found')."""
    from negmine.train.preflight import CHECKPOINT_DIR, PREFIX_CHECKPOINT_DIR

    return any(p.is_dir() for p in (folder / CHECKPOINT_DIR).glob(f"{PREFIX_CHECKPOINT_DIR}-*"))


def _unfinished_training(folder: Path) -> bool:
    from negmine.train import SUMMARY_NAME
    from negmine.train.preflight import CHECKPOINT_DIR

    return (folder / CHECKPOINT_DIR).is_dir() and not (folder / SUMMARY_NAME).is_file()


def load_sentence_transformer(config: EncoderConfig):
    """Load ``config.model`` (bundled default, local path or hub name) on ``config.device``; a source that cannot
    be a model (:func:`check_model_source`) fails before sentence-transformers is imported (seconds), and one whose
    JSON file cannot be read, naming the file (:func:`negmine.encode.damaged_json.damaged_json_error`). A hub name
    pinned to a snapshot (:func:`negmine.encode.hub.pinned_snapshots`: a teacher ``negmine train`` checked, or the
    snapshot its first load in the block used) loads that commit (:func:`negmine.encode.hub.load_pinned`: from its
    snapshot folder, else by ``revision=<commit>``); one loaded unpinned within a block is pinned by that load
    (:func:`negmine.encode.hub.pin_loaded`). A cached snapshot that lacks files (an interrupted download) and could
    not fetch them is refused naming them (:func:`negmine.encode.snapshot_files.incomplete_snapshot_error`)."""
    from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION, load_pinned, pin_loaded

    name = check_model_source(config.model)
    from sentence_transformers import SentenceTransformer

    def load(path: str, **options):
        return SentenceTransformer(os.path.expanduser(path), **options)

    try:
        with transformers_bars(config.show_progress):  # a pinned hub name: its checked commit
            model = load_pinned(load, name, SENTENCE_TRANSFORMERS_ORGANIZATION, device=config.device)
    except (OSError, ValueError) as err:
        raise _load_error(config.model, name, err) from err
    except Exception as err:
        if not damaged_weights(err):
            raise
        raise damaged_weights_error("model", config.model, err) from err
    pin_loaded(name, SENTENCE_TRANSFORMERS_ORGANIZATION, model)  # within a run's block: later loads use this commit
    return model


def _load_error(model: str, name: str, err: BaseException) -> ConfigError:
    """The ConfigError for ``model`` (loaded as ``name``: a folder or hub name) whose load failed with ``err`` (an
    OSError or a ValueError): a JSON file of its folder or cached snapshot that cannot be read, files its cached
    snapshot lacks, else the library's words."""
    from negmine.encode.hub import SENTENCE_TRANSFORMERS_ORGANIZATION
    from negmine.encode.snapshot_files import incomplete_snapshot_error

    return (damaged_json_error("model", model, model_folder(name))
            or incomplete_snapshot_error("model", name, SENTENCE_TRANSFORMERS_ORGANIZATION, err)
            or ConfigError(f"could not load model {model!r} ({err.__class__.__name__}: {err}); pass a local "
                           "sentence-transformers folder, or a hub name when the hub is reachable"))


def damaged_weights(err: BaseException) -> bool:
    """True for the errors a cut-short or corrupt weights file raises while a model loads: safetensors'
    SafetensorError (``model.safetensors``), torch's zip-reader RuntimeError or an unpickling error
    (``pytorch_model.bin``). They are neither OSError nor ValueError, so a damaged folder ended in a traceback."""
    if type(err).__name__ == "SafetensorError":
        return True
    if isinstance(err, (pickle.UnpicklingError, EOFError)):
        return True
    return isinstance(err, RuntimeError) and "PytorchStreamReader" in str(err)


def damaged_weights_error(what: str, name: str, err: BaseException) -> ConfigError:
    """The error for a model folder whose weights file cannot be read (:func:`damaged_weights`)."""
    first = first_line(err, "").split(". ")[0]  # torch's text goes on for 4 sentences
    return ConfigError(
        f"could not load {what} {name!r}: its weights file is damaged or cut short ({err.__class__.__name__}: "
        f"{first}); copy, download or save the model again"
    )


@contextlib.contextmanager
def transformers_bars(show: bool):
    """Around a model's load, save or training: the libraries' own progress bars ("Loading weights", "Writing model
    shards", "Computing widget examples") only when progress is shown on a terminal
    (:func:`negmine.library_bars.library_bars`: ``--no-progress`` or a log file hides them), and, shown, nested in
    another bar only where that draws in place (:func:`negmine.progress.bar_shown`): a checkpoint saved during
    training drew "Writing model shards" under the trainer's bar, which left a cursor move (``ESC[A``) in a log file
    per checkpoint. The libraries' switches and transformers' bar factory are put back as they were."""
    from transformers.utils import logging as hf_logging

    from negmine.library_bars import library_bars

    factory = hf_logging.tqdm
    with library_bars(show):
        hf_logging.tqdm = _NestedBarRule(factory)
        try:
            yield
        finally:
            hf_logging.tqdm = factory


class _NestedBarRule:
    """transformers' bar factory (``transformers.utils.logging.tqdm``) with negmine's rule for nested bars: a bar
    that :func:`negmine.progress.bar_shown` would not draw is opened disabled. Everything else goes to the factory
    (its ``set_lock``/``get_lock``)."""

    def __init__(self, factory) -> None:
        self.factory = factory

    def __call__(self, *args, **kwargs):
        from negmine.progress import bar_shown

        if not bar_shown(not kwargs.get("disable", False)):
            kwargs["disable"] = True
        return self.factory(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.factory, name)


def _missing_local_path(source: str) -> bool:
    """True for a path-like name (``./x``, ``~/x``, ``/x``, ``a/b/c``) that does not exist.

    Hub names (``name`` or ``org/name``) are not path-like and are left to sentence-transformers.
    """
    if os.path.exists(os.path.expanduser(source)):
        return False
    return source.startswith((".", "~", "/", "\\")) or source.count("/") > 1 or "\\" in source


def embedding_dimension(model) -> int:
    """The model's output dimension (asked from the model, else measured on one text)."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    dim = getter()
    if dim is None:
        dim = int(model.encode(["dimension probe"], convert_to_numpy=True).shape[1])
    return int(dim)


def equal_length_batches(token_lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indices in batches of at most ``batch_size`` texts that all have the same token count (longest
    first, input order within a length), so no batch pads.

    Why: padding is what made a text's vector depend on its batch-mates. Measured with all-MiniLM-L6-v2 on a
    2-core AMD EPYC (torch 2.13): padded length-sorted batches moved 29 of 120 demo vectors when the texts were
    encoded in two halves instead of together (up to 1.8e-7 in fp32, 8.9e-4 in bf16: enough to reorder
    near-tied candidates). Unpadded batches of varying size were enough there, not on every CPU: see
    :func:`fixed_shape_batches`.
    """
    lengths = np.asarray(token_lengths, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    starts = np.flatnonzero(np.r_[True, sorted_lengths[1:] != sorted_lengths[:-1]])
    ends = np.r_[starts[1:], len(order)]
    return [
        order[i : min(i + batch_size, end)] for start, end in zip(starts, ends) for i in range(start, end, batch_size)
    ]


TOKENS_PER_PASS = 2048
"""Tokens one forward pass holds on the CPU (rows x pass length, see :func:`rows_per_pass`). Measured
2026-12-04 on the 2-core Intel Xeon, all-MiniLM-L6-v2 in bf16, all 5,183 SciFact abstracts (then with one pass
length per token count): 60.8 s at 2048 (1.15x the tokens, the rest filling short passes), 73.4 s at 1024,
100.0 s at 512, against 60.6-63.7 s for unpadded batches of up to 64 texts; 256-token texts run as fast 8 to a
pass as 64 to a pass, 2 to a pass 1.6x slower."""

BUCKET_TOKENS = 16
"""Pass lengths on the CPU are multiples of this (:func:`pass_length`). Measured 2026-12-06 on the 2-core Intel
Xeon, all-MiniLM-L6-v2 in bf16, SciFact abstracts (title + text) and claims, the machine shared with other jobs
(best of 2 runs): 16 gave 75 docs/s on the first 300 abstracts, 76 on the first 1,000 and 552 claims/s; 8 gave
57 / 76 / 552 (more lengths, more fill), 32 76 / 77 / 545, lengths 16-24-32-48-64-96-128-192-256 79 / 65 / 590;
one pass per token count (bucket 1) 30 / 47 / 294. 16, 32 and the geometric lengths are within the noise, and 16
is the simplest; the tokens it runs: 1.13x the texts' own on the 300 abstracts, 1.02x on all 5,183, 1.64x on the
claims (bucket 1: 2.41x, 1.15x, 2.99x)."""


def pass_length(n_tokens: int, max_length: int | None, bucket: int = BUCKET_TOKENS) -> int:
    """Tokens of every CPU forward pass over a text of ``n_tokens`` tokens (its padding included): the next
    multiple of ``bucket`` above ``n_tokens``, so the text has at least one pad, at most ``max_length``; a text of
    ``max_length`` tokens (cut there) and every text when ``bucket`` is 1 run unpadded, at their own length.

    A function of the text's own token count, so a text always runs at the same length with the same padding.
    At least one pad: transformers (5.x, SDPA) drops the attention mask of a pass in which no token is padding
    (``masking_utils._ignore_bidirectional_mask_sdpa``), which may run another kernel, so a text exactly a
    multiple of ``bucket`` long could get other bits alone than beside a shorter text of its length. On the
    2-core Xeon it made no difference (rounding up to the multiple itself, texts of 16, 32 and 64 tokens were
    bit-identical alone and together, 2026-12-06); the pad keeps the guarantee from resting on that. So every
    pass is either all unpadded texts of one token count or all padded texts of one length
    (:func:`fixed_shape_batches`)."""
    n = max(1, int(n_tokens))
    if bucket <= 1 or (max_length is not None and n >= max_length):
        return n
    length = (n // bucket + 1) * bucket
    return length if max_length is None else min(length, int(max_length))


def rows_per_pass(length: int, batch_size: int) -> int:
    """Rows of every CPU forward pass ``length`` tokens long (:func:`pass_length`): ``TOKENS_PER_PASS //
    length``, at least 1 and at most ``batch_size``. A function of the length alone, so a text is always encoded
    in a pass of the same shape."""
    return max(1, min(batch_size, TOKENS_PER_PASS // max(1, int(length))))


def fixed_shape_batches(token_lengths: np.ndarray, batch_size: int, max_length: int | None = None,
                        bucket: int = BUCKET_TOKENS) -> list[tuple[np.ndarray, int]]:
    """``(rows, width)`` per CPU forward pass: the texts grouped by :func:`pass_length` (padded texts apart from
    unpadded ones of the same length; longest first, input order within a group), cut to :func:`rows_per_pass`
    texts, each pass run ``width`` rows wide (a short last pass is filled with copies of its first text, whose
    vectors are dropped) and padded to its group's length.

    Why one shape: on a 2-core Intel Xeon (MKL, torch 2.13) unpadded equal-length batches of varying size moved 36
    of 120 demo vectors (up to 1.3e-7 in fp32) between the texts encoded together and in two halves, and 77 differed
    from the text encoded alone: the matrix kernels depend on the batch's row count (likely their blocking). With
    every pass over one token count the same shape (2026-12-04), all 380 demo texts were bit-identical together, in
    a random third and the rest, and alone, in fp32 and bf16, with 1 or 2 threads. So which texts a run finds in the
    embedding cache, and with which others it encodes the rest, does not change the mined bytes. The fill costs at
    most ``width - 1`` rows per group present in a call: with one group per exact token count (until 2026-12-06,
    ``bucket`` 1) that was most of the rows for texts of rare lengths: the first 300 SciFact abstracts ran 896 rows
    (596 fill), 30 docs/s in bf16 where sentence-transformers' padded batches of 64 ran 92 (measured idle,
    2026-12-06). Padded to multiples of 16 tokens: 356 rows (56 fill), 75 docs/s; all 5,183 abstracts 66.4 s against
    75.4 s, the 1,109 claims 2.0 s against 3.8 s. The padding changes only last bits: all 687 texts checked (the
    demo's 380, 200 SciFact abstracts, 100 claims, 7 texts exactly a multiple of 16 tokens long and at max_length)
    were bit-identical together and in random thirds, 250 of them alone, 50 with a prompt alone and together, in
    fp32 and bf16, with 1 and 2 threads (and the same with 1 thread as with 2); cosine with the text encoded alone
    unpadded by sentence-transformers >= 0.99999 in fp32, 0.999984 in bf16. nDCG@10 on SciFact test: fp32 0.6451
    before and after; bf16 0.6475 before, 0.6462 after (both vectors 0.99998 from fp32 on average, 0.999999 from
    each other).
    """
    lengths = np.asarray(token_lengths, dtype=np.int64)
    if not len(lengths):
        return []
    shape = np.array([pass_length(n, max_length, bucket) for n in lengths], dtype=np.int64)
    padded = (shape > lengths).astype(np.int64)
    order = np.lexsort((np.arange(len(lengths)), padded, -shape))  # longest first, unpadded first, input order
    key = shape[order] * 2 + padded[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(order)]
    passes = []
    for start, end in zip(starts, ends):
        width = rows_per_pass(shape[order[start]], batch_size)
        passes.extend((order[i : min(i + width, end)], width) for i in range(start, end, width))
    return passes


def pass_bucket(tokenizer) -> int:
    """The :func:`pass_length` bucket for a model's tokenizer: :data:`BUCKET_TOKENS`, or 1 (every text unpadded, at
    its own token count) when the tokenizer pads on the left. Left padding is for last-token pooling models
    (decoders), which number positions from the first token of the pass, pads included, so a left pad would
    shift every position and move the vector by more than last bits; unpadded passes keep their vectors those of
    the text alone."""
    return 1 if getattr(tokenizer, "padding_side", "right") == "left" else BUCKET_TOKENS


def pad_features(features: dict, length: int, tokenizer) -> dict:
    """``features`` (a tokenized batch) padded to ``length`` tokens on the tokenizer's padding side: input ids
    with its pad token, token type ids with its pad type, attention mask with 0. Other entries are kept as
    they are (sentence-transformers 6's ``modality`` and ``prompt_length``)."""
    import torch

    now = features["input_ids"].shape[1]
    if length <= now:
        return features
    fill = {"input_ids": tokenizer.pad_token_id, "attention_mask": 0,
            "token_type_ids": getattr(tokenizer, "pad_token_type_id", 0)}
    out = dict(features)
    for key, value in features.items():
        if not (isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[1] == now):
            continue
        if key not in fill:
            raise ConfigError(f"the model takes an input negmine cannot pad, {key!r} (it pads {', '.join(fill)} to "
                              "a fixed length per CPU pass); encode on a GPU (--device cuda), where passes are not "
                              "padded, or use a model whose tokenizer gives only those inputs")
        pad = torch.full((value.shape[0], length - now), fill[key], dtype=value.dtype, device=value.device)
        parts = [pad, value] if getattr(tokenizer, "padding_side", "right") == "left" else [value, pad]
        out[key] = torch.cat(parts, dim=1)
    return out


TOKENIZE_CHUNK = 1024
"""Texts tokenized at once to count their tokens (bounds the padded id tensors to ~1024 x max_length)."""


def loaded_from(model) -> str | None:
    """The name or path transformers loaded ``model``'s (first module's) weights from, if it says: a model handed
    in already loaded has no config naming it."""
    first = next(iter(model), None) if hasattr(model, "__iter__") else model
    config = getattr(getattr(first, "auto_model", None) or getattr(first, "model", None) or first, "config", None)
    return getattr(config, "_name_or_path", None) or None


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


class SentenceTransformerEmbedder:
    """Embedder over a ``SentenceTransformer``; build from a config or wrap a loaded model.

    The embedder owns the model it wraps: ``config.max_length`` is set on it. Build a new embedder
    after changing the model's weights (the fingerprint is computed once, at construction).
    """

    def __init__(self, config: EncoderConfig | None = None, model=None) -> None:
        config = config or EncoderConfig()
        config.validate()
        self.config = config
        self.model = model if model is not None else load_sentence_transformer(config)
        self.model_name = config.model if model is None else loaded_from(model)  # recorded in the cache's meta.json
        set_max_length(self.model, config.max_length, config.model)
        self.device_type = self.model.device.type
        self.precision = resolve_precision(config.precision, self.device_type)
        self.batch_size = config.batch_size
        self.show_progress = config.show_progress
        self.max_length = self.model.max_seq_length
        self.bucket = pass_bucket(self.tokenizer)
        self.dim = embedding_dimension(self.model)
        self.fingerprint = model_fingerprint(self.model, self.max_length, self.precision, self.device_type,
                                             self.batch_size)

    @classmethod
    def from_model(cls, model, config: EncoderConfig | None = None) -> "SentenceTransformerEmbedder":
        """Wrap an already loaded ``SentenceTransformer`` (``config.model`` and ``device`` are ignored)."""
        return cls(config, model=model)

    def _autocast(self):
        if self.precision != "bf16":
            return contextlib.nullcontext()
        import torch

        return torch.autocast(device_type=self.device_type, dtype=torch.bfloat16)

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """``(len(texts), dim)`` float32 L2-normalised embeddings of ``prompt + text``, in input order."""
        import torch

        from negmine.progress import advance, encode_desc, progress_bar

        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        passes = self._passes(self.token_lengths(texts, prompt))
        with progress_bar(total=len(texts), desc=encode_desc(), unit="text", show=self.show_progress,
                  leave=False) as bar:
            self.model.eval()
            with torch.inference_mode(), self._autocast():
                for rows, width in passes:
                    batch = [texts[i] for i in rows]
                    out[rows] = self._encode_batch(batch + batch[:1] * (width - len(batch)), prompt)[: len(batch)]
                    bar.update(len(rows))
                    advance(len(rows))
        return l2_normalise(out)

    def _passes(self, lengths: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """Fixed-shape passes on the CPU (:func:`fixed_shape_batches`, padded to a multiple of ``self.bucket``
        tokens); on a GPU, equal-length batches of ``batch_size`` run as they come (its kernels give no such
        guarantee, and small passes would waste it)."""
        if self.device_type == "cpu":
            return fixed_shape_batches(lengths, self.batch_size, self.max_length, self.bucket)
        return [(rows, len(rows)) for rows in equal_length_batches(lengths, self.batch_size)]

    def token_lengths(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """Tokens of each ``prompt + text`` as the model sees them (special tokens in, truncated to max length)."""
        lengths = np.empty(len(texts), dtype=np.int64)
        for start in range(0, len(texts), TOKENIZE_CHUNK):
            chunk = list(texts[start : start + TOKENIZE_CHUNK])
            lengths[start : start + len(chunk)] = self._features(chunk, prompt)["attention_mask"].sum(dim=1).numpy()
        return lengths

    def _features(self, texts: list[str], prompt: str) -> dict:
        """The model inputs ``encode`` builds: ``preprocess(texts, prompt=...)`` on sentence-transformers 6,
        ``tokenize(prompt + text)`` before it."""
        if hasattr(self.model, "preprocess"):
            return self.model.preprocess(texts, prompt=prompt or None)
        return self.model.tokenize([prompt + t for t in texts])

    @property
    def tokenizer(self):
        return getattr(self.model, "tokenizer", None)

    def _encode_batch(self, batch: list[str], prompt: str) -> np.ndarray:
        """Vectors of one pass. On the CPU the batch is padded to its :func:`pass_length` and run through the
        model's modules (sentence-transformers' ``encode`` pads to the longest text only); on a GPU, ``encode``."""
        if self.device_type != "cpu":
            emb = self.model.encode(
                batch, prompt=prompt, batch_size=len(batch), convert_to_tensor=True,
                show_progress_bar=False, normalize_embeddings=False,
            )
            return emb.float().cpu().numpy()
        features = self._features(batch, prompt)
        longest = int(features["attention_mask"].sum(dim=1).max())
        features = pad_features(features, pass_length(longest, self.max_length, self.bucket), self.tokenizer)
        emb = self.model(features)["sentence_embedding"]
        truncate_dim = getattr(self.model, "truncate_dim", None)
        return emb[:, :truncate_dim].float().numpy() if truncate_dim else emb.float().numpy()
