"""ONNX Runtime backend for a sentence-transformers bi-encoder (``--backend onnx [--quantize int8]``).

sentence-transformers' own ``backend="onnx"`` needs Optimum, whose ONNX exporter pins ``transformers <
4.58`` and so cannot be installed next to sentence-transformers 6 / transformers 5. Instead the model's
transformer is exported here with ``torch.onnx.export`` (TorchScript exporter, dynamic batch and sequence
axes), optionally quantised with ``onnxruntime.quantization.quantize_dynamic`` (int8 weights, activations
quantised at run time with one scale per run: Jacob et al. 2018), and run with ONNX Runtime on the CPU. Tokenisation
uses the model's own tokenizer; pooling (mean / CLS / max, as the model's Pooling module says) and L2
normalisation are done in numpy, so vectors match the torch path up to float rounding (fp32) or
quantisation error (int8). Batches are unpadded, of equal token length, as in the torch embedder. The exporter
traces the model on one sample text, so a graph could compute something else on other inputs: every fp32 export
is compared with the torch model on a few texts (padded, alone, truncated) before it is cached, and refused with
a ConfigError when they differ (:mod:`negmine.encode.onnx_parity`).

Which texts share a batch: in fp32 it does not change a text's vector (ONNX Runtime's kernels gave the same
bits for every batch shape, so the torch CPU path's fixed-shape passes are not needed: see
:func:`onnx_fingerprint`), so fp32 runs batches of up to ``--batch-size`` texts. In int8 it would, since each
pass's activations are quantised with one scale and zero point, set by the smallest and largest value in the
whole pass; so int8 runs one text per pass whatever ``--batch-size`` says (:func:`texts_per_pass`), and a
text's int8 vector depends on the text alone.

Exports are cached under ``<cache dir>/onnx/<model fingerprint>/`` (written atomically, reused by later runs
and by every Ray actor on the same machine); the embedder's fingerprint names the backend and quantisation,
so the embedding cache never mixes their vectors with the torch ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from negmine.config import EncoderConfig
from negmine.encode.sentence_transformer import equal_length_batches, l2_normalise, load_sentence_transformer
from negmine.config_path import path_setting
from negmine.errors import ConfigError, NegmineWarning, caller_stacklevel
from negmine.io.atomic import atomic_path


POOLING = ("mean", "cls", "max")
OPSET = 17


def _require_onnxruntime():
    try:
        import onnxruntime
    except ImportError as err:
        raise ConfigError("--backend onnx needs onnxruntime and onnx: pip install 'negmine[onnx]'") from err
    return onnxruntime


def _require_onnx() -> None:
    """Exporting (torch.onnx.export) and int8 quantisation need the ``onnx`` package, which ONNX Runtime
    does not install; a run whose exports are already cached needs only onnxruntime."""
    try:
        import onnx  # noqa: F401
    except ImportError as err:
        raise ConfigError("--backend onnx exports the model with the onnx package, which is not installed "
                          "(onnxruntime alone runs only exports already cached): pip install 'negmine[onnx]'") from err


ONNX_MODULES = ("Transformer", "Pooling", "Normalize")
"""The module types the ONNX path reproduces: the exported transformer, numpy pooling, L2 normalisation."""


def check_onnx_modules(model) -> None:
    """ConfigError for a model the ONNX path would encode differently from the torch one: a module past the
    pooling that it would skip (a Dense projection changes the vectors and their dimension), or a Pooling that
    leaves the prompt's tokens out (``include_prompt=False``), where the ONNX path pools them in."""
    names = [type(module).__name__ for module in model]
    other = [f"{name} (module {i})" for i, name in enumerate(names) if name not in ONNX_MODULES]
    if other:
        raise ConfigError(
            f"{path_setting('backend', 'onnx')} runs Transformer -> Pooling [-> Normalize] only; this model also has "
            f"{', '.join(other)}, which it would skip (wrong vectors); use {path_setting('backend', 'torch')} for this "
            "model"
        )
    pooling = next((m for m in model if type(m).__name__ == "Pooling"), None)
    if pooling is not None and pooling.get_config_dict().get("include_prompt") is False:
        raise ConfigError(f"{path_setting('backend', 'onnx')} pools every token, but this model's Pooling leaves the "
                          f"prompt out (include_prompt=False); use {path_setting('backend', 'torch')} for this model")


def pooling_mode(model) -> str:
    """The Pooling module's mode of a loaded SentenceTransformer (ConfigError when not mean/cls/max)."""
    for module in model:
        if type(module).__name__ == "Pooling":
            config = module.get_config_dict()
            mode = config.get("pooling_mode") or next(
                (m for m in POOLING if config.get(f"pooling_mode_{m}_tokens") or config.get(f"pooling_mode_{m}_token")),
                None,
            )
            if mode in POOLING:
                return mode
            raise ConfigError(f"--backend onnx supports pooling {', '.join(POOLING)}; this model uses {mode!r}")
    raise ConfigError("--backend onnx needs a model with a Pooling module (Transformer -> Pooling [-> Normalize])")


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """Sentence vectors from token states ``hidden`` (b, t, d) under attention ``mask`` (b, t)."""
    if mode == "cls":
        return hidden[:, 0]
    m = mask[:, :, None].astype(np.float32)
    if mode == "max":
        return np.where(m > 0, hidden, -np.inf).max(axis=1)
    return (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)


def export_transformer(model, path: Path, name: str = "") -> None:
    """Export the model's transformer (ids, mask[, token types] -> last hidden state) to ``path`` atomically,
    once it passed the parity check against the torch model (:mod:`negmine.encode.onnx_parity`): an export
    that fails it is deleted, never cached. ``name`` names the model in the error."""
    with atomic_path(path) as tmp:  # a killed export's temp file is swept by the next one
        _trace_to_onnx(model, tmp)
        check_export(model, tmp, name)


def _trace_to_onnx(model, path: Path) -> None:
    """``torch.onnx.export`` of the transformer, traced on one unpadded sample, dynamic batch and sequence axes.

    The legacy TorchScript exporter (``dynamo=False``) is deprecated since torch 2.9; the torch.export-based one
    (``dynamo=True``) needs the onnxscript package, which negmine does not depend on (tried 2026-12-04, torch
    2.13: ModuleNotFoundError). Its warnings are silenced inside this call only (:func:`_ignore_export_warnings`;
    ``catch_warnings`` puts the filters back when it returns)."""
    import warnings

    import torch

    auto = model[0].auto_model.eval()
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if _uses_token_types(model) else [])
    sample = model.tokenizer(["export sample text"], return_tensors="pt")
    inputs = tuple(sample[n] for n in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"last_hidden_state": {0: "batch", 1: "sequence"}}
    with warnings.catch_warnings(), torch.inference_mode():
        _ignore_export_warnings()
        torch.onnx.export(
            _hidden_state_module(auto), inputs, str(path), input_names=names, output_names=["last_hidden_state"],
            dynamic_axes=axes, opset_version=OPSET, dynamo=False,
        )


def _ignore_export_warnings() -> None:
    """Filter, by category and message, what ``torch.onnx.export(..., dynamo=False)`` printed on every first
    export (torch 2.13, transformers 5.25): the legacy exporter's two deprecation notes, transformers'
    TracerWarnings that a branch traced on the sample text "might not generalize to other inputs"
    (masking_utils, sdpa_attention), and torch's note that ``aten::index`` exports wrong for negative indices.
    Why silence them: each says the graph may compute something else than the model on other inputs, which is
    what :func:`check_export` now tests on every export (other lengths, padding, truncation) before caching it;
    the user could do nothing about them. Call inside ``warnings.catch_warnings()`` only."""
    import warnings

    import torch

    warnings.filterwarnings("ignore", r"You are using the legacy TorchScript-based ONNX export", DeprecationWarning)
    warnings.filterwarnings("ignore", r"The feature will be removed", DeprecationWarning, r"torch\.onnx\.")
    warnings.filterwarnings("ignore", r"Converting a tensor to a Python (boolean|integer|float|index) might cause "
                            r"the trace to be incorrect", torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", r"Exporting aten::index operator of advanced indexing", UserWarning)


def check_export(model, path: Path, name: str) -> None:
    """ConfigError unless the fp32 graph at ``path``, run through negmine's ONNX code path (padded batch,
    numpy pooling, L2 normalisation), gives the parity texts the torch model's vectors
    (:func:`negmine.encode.onnx_parity.check_export_parity`)."""
    from negmine.encode.onnx_parity import check_export_parity

    onnxruntime = _require_onnxruntime()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = _default_threads()
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    mode = pooling_mode(model)

    def onnx_vectors(texts: list[str]) -> np.ndarray:
        return l2_normalise(run_batch(session, inputs, model.tokenizer, texts, model.max_seq_length, mode))

    check_export_parity(name, model, onnx_vectors)


def run_batch(session, inputs: list[str], tokenizer, texts: list[str], max_length: int | None, mode: str) -> np.ndarray:
    """Pooled (not yet normalised) vectors of ``texts`` run through ``session`` as one padded, truncated batch:
    the ONNX path's encoding, shared by :class:`OnnxEmbedder` and :func:`check_export`."""
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="np")
    feed = {name: tokens[name].astype(np.int64) for name in inputs}
    hidden = session.run(["last_hidden_state"], feed)[0]
    return pool(hidden, tokens["attention_mask"], mode)


def _uses_token_types(model) -> bool:
    return "token_type_ids" in model.tokenizer.model_input_names


def _hidden_state_module(auto):
    """Wrap a HF model so the exported graph takes positional inputs and returns only ``last_hidden_state``."""
    import torch

    class HiddenState(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.auto = auto

        def forward(self, *args):
            keys = ["input_ids", "attention_mask", "token_type_ids"][: len(args)]
            return self.auto(**dict(zip(keys, args)), return_dict=True).last_hidden_state

    return HiddenState()


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of ``source`` (weights int8 per channel, activations at run time)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with atomic_path(target) as tmp, _root_log_kept_local():
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)


PREPROCESS_ADVICE = "consider to run pre-processing before quantization"
"""onnxruntime's advice to run its shape-inference pre-processing first, logged on every quantisation: it is for
static quantisation of vision graphs; negmine's dynamic int8 graph runs without it (tests/encode/test_onnx.py)."""


class _RootRecords(logging.Handler):
    """Stands in as the root logger's handler while onnxruntime quantises: passes its records on as
    :class:`NegmineWarning` (negmine's one channel for warnings, so the CLI shows them as its own warning lines and
    a filter on the category covers them), except :data:`PREPROCESS_ADVICE`."""

    relaying = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "py.warnings" or self.relaying:  # a Python warning routed to logging (captureWarnings),
            if logging.lastResort is not None:  # maybe the one relayed just now: shown as without this handler
                logging.lastResort.handle(record)  # (relaying it again recursed without end)
        elif PREPROCESS_ADVICE not in record.getMessage() and not record.name.startswith("negmine"):
            self.relaying = True
            try:
                warnings.warn(f"onnxruntime: {record.getMessage()}", NegmineWarning, stacklevel=caller_stacklevel())
            finally:
                self.relaying = False


@contextlib.contextmanager
def _root_log_kept_local():
    """onnxruntime's quantiser logs through the module-level ``logging.warning``, which calls
    ``logging.basicConfig()`` when the root logger has no handler: that printed ``WARNING:root:Please consider
    ...`` and left a root handler behind for the rest of the process, so every later negmine log warning also
    printed a second time in logging's default format. With a handler on the root logger for the call,
    ``basicConfig`` does nothing; the handler is removed after. A process whose root logger has handlers already
    (the user configured logging) is left alone: its handlers show onnxruntime's lines as it chose."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    handler = _RootRecords(logging.WARNING)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def exported_model(model, fingerprint: str, quantize: str, cache_dir: Path, name: str = "") -> Path:
    """Path of the (cached) ONNX export of ``model`` (called ``name`` in errors); exported, checked against
    torch (fp32: int8 is lossy by design and quantised from the checked fp32 graph) and quantised on first use."""
    folder = Path(cache_dir) / "onnx" / export_folder_name(fingerprint)
    fp32 = folder / "model.onnx"
    if not fp32.exists():
        _require_onnx()
        export_transformer(model, fp32, name)
    if quantize == "none":
        return fp32
    int8 = folder / "model.int8.onnx"
    if not int8.exists():
        _require_onnx()
        quantize_int8(fp32, int8)
    return int8


EXPORT_VERSION = "checked"
"""Part of an export's cache folder name (:func:`export_folder_name`): exports cached before the parity check
(2026-12-04) sit under the plain fingerprint's hash and were never compared with the torch model, so they are
not used; the model is exported (and checked) again, once, which costs seconds."""

ONNX_KEY_VERSION = {"none": "v2", "int8": "v3"}
"""Marks the embedding cache's ONNX keys. int8: ``onnx-int8-<base>`` (to 2026-12-04) and ``onnx-int8-b<N>-<base>``
(2026-12-04) held vectors encoded in batches of up to N texts, which depend on their batch-mates; ``v2`` marked
one text per pass. fp32 ``onnx-none-<base>`` and int8 ``v2`` vectors may come from an export cached before the
parity check (:data:`EXPORT_VERSION`), so vectors of checked exports get keys of their own (fp32 ``v2``, int8
``v3``) and older entries are encoded again, never mixed in."""


def export_folder_name(fingerprint: str) -> str:
    """The cache folder of the exports of the model whose fp32 fingerprint is ``fingerprint`` (fp32 graph and
    its int8 quantisation), versioned by :data:`EXPORT_VERSION`."""
    return hashlib.sha256(f"{EXPORT_VERSION}:{fingerprint}".encode()).hexdigest()[:32]


def texts_per_pass(quantize: str, batch_size: int) -> int:
    """Texts one ONNX Runtime run holds: ``batch_size`` in fp32, 1 in int8.

    Dynamic int8 quantises a pass's activations with one scale set by the whole pass's range, so a text's
    vector moved with the texts encoded alongside it: measured 2026-12-04 on a 2-core Intel Xeon
    (onnxruntime 1.32, bundled all-MiniLM-L6-v2, the demo's 380 texts, batches of 64) 365 of the 380 vectors
    differed alone, 349 in a random half (cosine down to 0.989), and a mine from a half-filled cache differed
    from the cold one in all 70 rows' scores and 25 (another half: 44) rows' negatives. One text per pass: 0 of
    the 380 and 0 of 200 SciFact abstracts differed together, in a random half, alone or with 1 or 2 threads,
    and the half-cached mine was byte-identical to the cold one. Cost on that CPU, loaded (4-6) by other work,
    2 threads: 1,000 SciFact abstracts 0.99-1.17x the time of batches of 64, its 1,109 short claims 1.6-1.9x."""
    return 1 if quantize == "int8" else batch_size


def onnx_fingerprint(base: str, quantize: str) -> str:
    """The embedding cache's key for the ONNX vectors of the model whose fp32 fingerprint is ``base``.

    The batch size is not in it: fp32 vectors do not depend on it (measured 2026-12-04 on a 2-core Intel Xeon,
    onnxruntime 1.32, bundled all-MiniLM-L6-v2, the demo's 380 texts: every vector was bit-identical encoded all
    together, in a random half, alone, at ``--batch-size`` 64, 7 or 1 and with 1 or 2 threads; and 200 SciFact
    abstracts, most at 256 tokens: 0 differed alone or in a random half), where torch on the same CPU moved 36
    of 120 until its passes got a fixed shape; int8 encodes one text per pass whatever the batch size
    (:func:`texts_per_pass`). Keys carry :data:`ONNX_KEY_VERSION`, so vectors of the earlier batched int8 keys
    and of exports cached before the parity check are never served."""
    return f"onnx-{quantize}-{ONNX_KEY_VERSION[quantize]}-{base}"


class OnnxEmbedder:
    """Embedder running an ONNX export of ``config.model`` with ONNX Runtime (fp32 or dynamic int8)."""

    def __init__(self, config: EncoderConfig | None = None, model=None, threads: int | None = None) -> None:
        from negmine.encode.cache import default_cache_dir
        from negmine.encode.fingerprint import model_fingerprint

        config = config or EncoderConfig(backend="onnx")
        config.validate()
        onnxruntime = _require_onnxruntime()
        self.config = config
        self.model = model if model is not None else load_sentence_transformer(config)
        from negmine.encode.sentence_transformer import loaded_from

        self.model_name = config.model if model is None else loaded_from(model)  # recorded in the cache's meta.json
        from negmine.encode.max_length import set_max_length

        set_max_length(self.model, config.max_length, config.model)
        self.max_length = self.model.max_seq_length
        check_onnx_modules(self.model)
        self.pooling = pooling_mode(self.model)
        self.tokenizer = self.model.tokenizer
        self.batch_size = texts_per_pass(config.quantize, config.batch_size)
        self.show_progress = config.show_progress
        base = model_fingerprint(self.model, self.max_length, "fp32")
        self.fingerprint = onnx_fingerprint(base, config.quantize)
        path = exported_model(self.model, base, config.quantize, Path(config.cache_dir or default_cache_dir()),
                              config.model)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or _default_threads()
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.dim = int(self.model[0].auto_model.config.hidden_size)

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """``(len(texts), dim)`` float32 L2-normalised embeddings of ``prompt + text``, in input order."""
        from negmine.progress import advance, encode_desc, progress_bar

        texts = [prompt + t for t in texts]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        with progress_bar(total=len(texts), desc=encode_desc(), unit="text", show=self.show_progress,
                  leave=False) as bar:
            for rows in equal_length_batches(self.token_lengths(texts), self.batch_size):
                out[rows] = self._encode_batch([texts[i] for i in rows])
                bar.update(len(rows))
                advance(len(rows))
        return l2_normalise(out)

    def token_lengths(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens of each text as the exported graph sees them (special tokens in, truncated to max length)."""
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        return np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        return run_batch(self.session, self.inputs, self.tokenizer, batch, self.max_length, self.pooling)


def _default_threads() -> int:
    """``OMP_NUM_THREADS`` when set (Ray sets it per actor), else torch's intra-op thread count."""
    env = os.environ.get("OMP_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    import torch

    return torch.get_num_threads()
