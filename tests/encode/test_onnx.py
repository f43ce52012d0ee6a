from __future__ import annotations

import re

import numpy as np
import pytest

from negmine.config import EncoderConfig
from negmine.errors import ConfigError

pytest.importorskip("onnxruntime")

TEXTS = ["a short text", "a somewhat longer text about proteins and cells", "x", "cells " * 40]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx_cache")


def config(model, cache, **kw) -> EncoderConfig:
    kw = {"batch_size": 2, **kw}
    return EncoderConfig(model=str(model), cache_dir=cache, show_progress=False, precision="fp32", **kw)


def test_fp32_export_matches_torch_and_is_cached(tiny_model_path, onnx_cache, monkeypatch):
    from negmine.encode import onnx as onnx_module
    from negmine.encode.onnx import OnnxEmbedder
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    onnx = OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx"))
    torch_vecs = SentenceTransformerEmbedder(config(tiny_model_path, onnx_cache)).encode(TEXTS, prompt="p: ")
    vecs = onnx.encode(TEXTS, prompt="p: ")
    assert vecs.shape == (4, onnx.dim) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(vecs * torch_vecs, axis=1)) > 0.9999
    exported = list(onnx_cache.glob("onnx/*/model.onnx"))
    assert len(exported) == 1
    stamp = exported[0].stat().st_mtime_ns
    exports, export = [], onnx_module.export_transformer
    monkeypatch.setattr(onnx_module, "export_transformer", lambda *a: exports.append(a[1]) or export(*a))
    again = OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx"))
    # counted, not only by the file's time: an export redone within one tick of the file system's clock (a fast
    # machine; a file system keeping whole seconds) kept the time the check compared
    assert exported[0].stat().st_mtime_ns == stamp and exports == [], "the export must be reused, not redone"
    assert again.fingerprint == onnx.fingerprint and onnx.fingerprint.startswith("onnx-none-v2-")


def test_int8_is_close_and_has_its_own_fingerprint(tiny_model_path, onnx_cache):
    from negmine.encode.onnx import OnnxEmbedder

    fp32 = OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx"))
    int8 = OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx", quantize="int8"))
    assert int8.fingerprint.startswith("onnx-int8-") and int8.fingerprint != fp32.fingerprint
    assert list(onnx_cache.glob("onnx/*/model.int8.onnx"))
    assert not list(onnx_cache.glob("onnx/*/.*")), "no temp file left next to the exports"
    cosine = np.sum(fp32.encode(TEXTS) * int8.encode(TEXTS), axis=1)
    assert np.min(cosine) > 0.9 and not np.allclose(cosine, 1.0, atol=1e-7)


def test_pooling_modes():
    from negmine.encode.onnx import pool

    hidden = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    mask = np.array([[1, 1, 0]])
    assert pool(hidden, mask, "cls").tolist() == [[0, 1, 2, 3]]
    assert pool(hidden, mask, "mean").tolist() == [[2, 3, 4, 5]]
    assert pool(hidden, mask, "max").tolist() == [[4, 5, 6, 7]]


def test_quantize_needs_onnx_backend_and_factory_lists_backends():
    from negmine.encode.factory import BACKENDS

    with pytest.raises(ConfigError, match=r"^quantize='int8' \(--quantize int8\) needs backend='onnx' \(--backend onnx\)"):
        EncoderConfig(quantize="int8").validate()
    with pytest.raises(ConfigError, match="unknown backend 'tvm'; allowed: torch, onnx"):
        EncoderConfig(backend="tvm").validate()
    assert set(BACKENDS) == {"torch", "onnx"}


def test_without_the_onnx_package_export_names_the_extra_and_cached_exports_still_run(tiny_model_path, tmp_path,
                                                                                       monkeypatch):
    """onnxruntime installed without onnx (it does not depend on it): the export used to die in torch.onnx with
    'OnnxExporterError: Module onnx is not installed!' and a traceback."""
    import sys

    from negmine.encode.onnx import OnnxEmbedder

    cache = tmp_path / "cache"
    with monkeypatch.context() as hidden:
        hidden.setitem(sys.modules, "onnx", None)  # as if not installed
        with pytest.raises(ConfigError) as err:
            OnnxEmbedder(config(tiny_model_path, cache, backend="onnx"))
        assert str(err.value) == ("--backend onnx exports the model with the onnx package, which is not installed "
                                  "(onnxruntime alone runs only exports already cached): pip install 'negmine[onnx]'")
        assert not list(cache.glob("onnx/*/*.onnx"))
    OnnxEmbedder(config(tiny_model_path, cache, backend="onnx", quantize="int8"))  # export + quantise with onnx
    with monkeypatch.context() as hidden:
        hidden.setitem(sys.modules, "onnx", None)
        cached = OnnxEmbedder(config(tiny_model_path, cache, backend="onnx", quantize="int8"))
        assert cached.encode(TEXTS).shape == (4, cached.dim)


def _variant(load_tiny, folder, *, dense: bool = False, include_prompt: bool = True):
    """The tiny model with a Dense projection after its pooling, or with a Pooling that leaves prompts out."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:  # sentence-transformers 5
        from sentence_transformers import models

    tiny = load_tiny()
    torch.manual_seed(1)
    pooling = models.Pooling(32, pooling_mode="mean", include_prompt=include_prompt)
    extra = [models.Dense(in_features=32, out_features=16, activation_function=torch.nn.Tanh())] if dense else []
    SentenceTransformer(modules=[tiny[0], pooling, *extra, models.Normalize()], device="cpu").save(str(folder))
    return folder


def test_a_model_with_a_dense_layer_after_pooling_is_refused_not_encoded_without_it(load_tiny, tmp_path):
    # the ONNX path exports the transformer and pools in numpy: it skipped the Dense module, so such a model
    # (LaBSE, distiluse-*) gave 32-d vectors of the unprojected pooling where torch gives the 16-d projected ones
    from negmine.encode.onnx import OnnxEmbedder
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    model = _variant(load_tiny, tmp_path / "dense", dense=True)
    assert SentenceTransformerEmbedder(config(model, tmp_path / "cache")).encode(TEXTS).shape == (4, 16)
    with pytest.raises(ConfigError) as info:
        OnnxEmbedder(config(model, tmp_path / "cache", backend="onnx"))
    assert str(info.value) == (
        "backend='onnx' (--backend onnx) runs Transformer -> Pooling [-> Normalize] only; this model also has Dense "
        "(module 2), which it would skip (wrong vectors); use backend='torch' (--backend torch) for this model"
    )
    assert not list((tmp_path / "cache").glob("onnx/*/*.onnx")), "refused before any export"


def test_a_pooling_that_leaves_the_prompt_out_is_refused(load_tiny, tmp_path):
    # include_prompt=False: torch pools the text's tokens only, the ONNX path pooled the prompt's too
    # (cosine to the torch vectors 0.77-0.96 on the tiny model with prompt "query: ")
    from negmine.encode.onnx import OnnxEmbedder

    model = _variant(load_tiny, tmp_path / "no_prompt", include_prompt=False)
    with pytest.raises(ConfigError) as info:
        OnnxEmbedder(config(model, tmp_path / "cache", backend="onnx"))
    assert str(info.value) == ("backend='onnx' (--backend onnx) pools every token, but this model's Pooling leaves the "
                               "prompt out (include_prompt=False); use backend='torch' (--backend torch) for this model")


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    """A random one-layer model 384 wide (MiniLM's width; torch's MKL kernels showed their batch dependence on
    it, the 32-wide tiny model is too small to show it)."""
    from negmine.testing.tiny_models import build_tiny_bi_encoder

    return build_tiny_bi_encoder(tmp_path_factory.mktemp("wide") / "m", hidden=384, layers=1)


WORDY = [f"{word} " * n for n in range(1, 30) for word in ("cell", "gene protein", "risk")]


def _alone_half_together(embedder):
    together = embedder.encode(WORDY)
    alone = np.vstack([embedder.encode([t]) for t in WORDY])
    return together, alone, embedder.encode(WORDY[1::2])


@pytest.mark.parametrize("batch_size", [64, 5])
def test_fp32_vectors_do_not_depend_on_the_texts_encoded_with_them(wide_model, onnx_cache, batch_size):
    """ONNX Runtime's fp32 kernels give a text the same bits in a batch of any size (measured on the bundled
    MiniLM and the demo's 380 texts: 0 differed alone, in a random half, or at batch size 7 or 1 against 64), so
    the ONNX path needs no fixed-shape passes and its cache key leaves the batch size out."""
    from negmine.encode.onnx import OnnxEmbedder

    emb = OnnxEmbedder(config(wide_model, onnx_cache, backend="onnx", batch_size=batch_size))
    together, alone, odd = _alone_half_together(emb)
    assert np.array_equal(together, alone) and np.array_equal(together[1::2], odd)
    assert emb.fingerprint == OnnxEmbedder(config(wide_model, onnx_cache, backend="onnx", batch_size=1)).fingerprint


@pytest.mark.parametrize("batch_size", [64, 5])
def test_int8_vectors_do_not_depend_on_the_texts_encoded_with_them(wide_model, onnx_cache, batch_size):
    """Activations are quantised per ONNX Runtime run (one scale from the run's range), so int8 vectors encoded in
    batches moved with their batch-mates (on the demo with MiniLM 365 of 380 differed alone, 349 in a random half)
    and a partly cached mine differed from the cold one; int8 now runs one text per pass at any --batch-size."""
    from negmine.encode.onnx import OnnxEmbedder

    emb = OnnxEmbedder(config(wide_model, onnx_cache, backend="onnx", quantize="int8", batch_size=batch_size))
    together, alone, odd = _alone_half_together(emb)
    assert np.array_equal(together, alone) and np.array_equal(together[1::2], odd)
    rng = np.random.default_rng(0)
    half = np.sort(rng.choice(len(WORDY), size=len(WORDY) // 2, replace=False))
    assert np.array_equal(together[half], emb.encode([WORDY[i] for i in half]))


def test_int8_vectors_are_the_same_bits_with_one_or_two_threads(wide_model, onnx_cache):
    """Ray actors and OMP_NUM_THREADS change the thread count, which the cache key leaves out. Measured 2026-12-04
    (Intel Xeon, onnxruntime 1.32, bundled MiniLM, one text per pass): 0 of the demo's 380 vectors and 0 of 200
    SciFact abstracts differed between 1 and 2 threads."""
    from negmine.encode.onnx import OnnxEmbedder

    cfg = config(wide_model, onnx_cache, backend="onnx", quantize="int8", batch_size=64)
    assert np.array_equal(OnnxEmbedder(cfg, threads=1).encode(WORDY), OnnxEmbedder(cfg, threads=2).encode(WORDY))


def test_int8_runs_one_text_per_pass_and_fp32_keeps_its_batches():
    from negmine.encode.onnx import texts_per_pass

    assert [texts_per_pass("int8", b) for b in (1, 7, 64)] == [1, 1, 1]
    assert [texts_per_pass("none", b) for b in (1, 7, 64)] == [1, 7, 64]


def test_int8_cache_key_is_one_for_every_batch_size_and_none_of_the_batched_keys(tiny_model_path, onnx_cache):
    """The key named the batch size (onnx-int8-b<N>-...), and before that was onnx-int8-<base>: both held vectors
    that depended on their batch-mates. One-text-per-pass vectors are the same at any batch size, so they share
    one key, a new one, and the old entries are never served."""
    from negmine.encode.onnx import OnnxEmbedder

    prints = {b: OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx", quantize="int8", batch_size=b))
              .fingerprint for b in (1, 7, 64)}
    base = OnnxEmbedder(config(tiny_model_path, onnx_cache, backend="onnx")).fingerprint.removeprefix("onnx-none-v2-")
    assert set(prints.values()) == {f"onnx-int8-v3-{base}"}
    older = {f"onnx-int8-{base}", f"onnx-int8-v2-{base}", *(f"onnx-int8-b{b}-{base}" for b in prints)}
    assert not older & set(prints.values())


def test_an_export_cached_before_the_parity_check_is_not_used_nor_its_vectors(tiny_model_path, tmp_path):
    """Exports cached before the parity check (2026-12-04) were never compared with the torch model, and were
    served to every later run, as were the vectors they encoded. Now they sit in a folder that is not read, and
    the vectors of checked exports have keys of their own."""
    import hashlib

    from negmine.encode.fingerprint import model_fingerprint
    from negmine.encode.onnx import OnnxEmbedder
    from negmine.encode.sentence_transformer import load_sentence_transformer

    cache = tmp_path / "cache"
    model = load_sentence_transformer(config(tiny_model_path, cache))
    base = model_fingerprint(model, model.max_seq_length, "fp32")
    legacy = cache / "onnx" / hashlib.sha256(base.encode()).hexdigest()[:32]
    legacy.mkdir(parents=True)
    for name in ("model.onnx", "model.int8.onnx"):  # what an unchecked, wrong export could hold
        (legacy / name).write_bytes(b"not the model's graph")
    keys = {}
    for quantize in ("none", "int8"):
        embedder = OnnxEmbedder(config(tiny_model_path, cache, backend="onnx", quantize=quantize))
        assert embedder.encode(TEXTS).shape == (4, embedder.dim)
        keys[quantize] = embedder.fingerprint
    assert keys == {"none": f"onnx-none-v2-{base}", "int8": f"onnx-int8-v3-{base}"}
    assert not {f"onnx-none-{base}", f"onnx-int8-v2-{base}"} & set(keys.values()), "the unchecked exports' keys"
    assert (legacy / "model.onnx").read_bytes() == b"not the model's graph", "left alone, not overwritten"
    assert len(list(cache.glob("onnx/*/model.onnx"))) == 2, "a checked export of its own beside the legacy one"


def _graph(auto, ignore_mask: bool = False):
    """``auto`` as the exported module (ids, mask, token types -> last hidden state); ``ignore_mask``: it attends
    to the padding too, as a trace that froze an all-ones mask would."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.auto = auto

        def forward(self, input_ids, attention_mask, token_type_ids):
            mask = torch.ones_like(attention_mask) + 0 * attention_mask if ignore_mask else attention_mask
            return self.auto(input_ids=input_ids, attention_mask=mask, token_type_ids=token_type_ids,
                             return_dict=True).last_hidden_state

    return Graph()


def _mask_ignored(auto):
    return _graph(auto, ignore_mask=True)


def _other_weights(auto):
    """The transformer with its weights moved by noise of 1e-2: the graph of another model."""
    import copy

    import torch

    other = copy.deepcopy(auto)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for weight in other.parameters():
            weight.add_(1e-2 * torch.randn(weight.shape, generator=generator))
    return _graph(other)


@pytest.mark.parametrize(("broken", "quantize", "how", "cosine"), [
    (_mask_ignored, "none", "padded in a batch of 3", 0.99588),
    (_mask_ignored, "int8", "padded in a batch of 3", 0.99588),
    (_other_weights, "none", "alone", 0.88871),
])
def test_an_export_that_computes_something_else_is_refused_and_not_cached(wide_model, tmp_path, monkeypatch,
                                                                          broken, quantize, how, cosine):
    """The TorchScript exporter traces one unpadded sample; nothing checked that the graph computes the torch
    model's vectors on other inputs, and a wrong graph was cached and served to every later run. The 384-wide
    model: on the 32-wide tiny one, attending to the padding moved the vectors to cosine 0.99994 only."""
    import negmine.encode.onnx as onnx

    cache = tmp_path / "cache"
    with monkeypatch.context() as patch:
        patch.setattr(onnx, "_hidden_state_module", broken)
        with pytest.raises(ConfigError) as info:
            onnx.OnnxEmbedder(config(wide_model, cache, backend="onnx", quantize=quantize))
    assert re.fullmatch(
        rf"backend='onnx' \(--backend onnx\): the ONNX export of model '{re.escape(str(wide_model))}' does not compute what the "
        rf"torch model computes: parity text '[^']+' \({how}\) got cosine (0\.\d{{6}}) to its torch vector \(needs >= "
        r"0\.9999\); the export was not cached; use backend='torch' \(--backend torch\) for this model", str(info.value)), str(info.value)
    assert float(re.search(r"cosine (\S+)", str(info.value)).group(1)) == pytest.approx(cosine, abs=1e-4)
    assert [p.name for p in cache.glob("onnx/*/*")] == [], "nothing cached, no temp file left"
    fixed = onnx.OnnxEmbedder(config(wide_model, cache, backend="onnx", quantize=quantize))  # exported again
    assert fixed.encode(TEXTS).shape == (4, fixed.dim)


def test_a_normal_export_passes_the_check_and_prints_none_of_the_exporter_warnings(tiny_model_path, tmp_path,
                                                                                   recwarn):
    """The first export printed torch's legacy-exporter DeprecationWarning, two transformers TracerWarnings (a
    traced branch "might not generalize to other inputs") and the aten::index UserWarning; the parity check
    now tests what they warn about, so they are filtered inside the export call only."""
    import warnings

    from negmine.encode.onnx import OnnxEmbedder

    filters = list(warnings.filters)
    OnnxEmbedder(config(tiny_model_path, tmp_path / "cache", backend="onnx"))
    assert list((tmp_path / "cache").glob("onnx/*/model.onnx")), "the export passed its check and was cached"
    noted = [f"{w.category.__name__}: {w.message}" for w in recwarn]
    exporter = r"TorchScript|TracerWarning|aten::index|feature will be removed"
    assert not [n for n in noted if re.search(exporter, n)], noted
    assert warnings.filters == filters, "the filters are put back after the export"


def test_parity_texts_pad_in_a_batch_and_the_long_one_is_truncated(load_tiny):
    from negmine.encode.onnx_parity import SHORT, parity_texts

    model = load_tiny()
    texts = parity_texts(model.tokenizer, model.max_seq_length)
    assert texts[: len(SHORT)] == list(SHORT)
    lengths = [len(ids) for ids in model.tokenizer(texts)["input_ids"]]
    assert len(set(lengths[: len(SHORT)])) == len(SHORT), "the short texts are padded in their batch"
    assert lengths[-1] > model.max_seq_length == 64, "the long one is truncated"
    assert len(model.tokenizer(parity_texts(model.tokenizer, 8192)[-1])["input_ids"]) <= 512
    assert len(model.tokenizer(parity_texts(model.tokenizer, None)[-1])["input_ids"]) <= 128


def test_a_graph_that_gives_nan_is_refused(load_tiny):
    """NaN compares false with everything: a check written as ``cosine < MIN_COSINE`` would let it through."""
    from negmine.encode.onnx_parity import check_export_parity, torch_vectors

    model = load_tiny()
    with pytest.raises(ConfigError, match=r"parity text 'a' \(padded in a batch of 3\) got cosine nan to its torch "
                                          r"vector \(needs >= 0\.9999\)"):
        check_export_parity("m", model, lambda texts: np.full((len(texts), 32), np.nan, dtype=np.float32))
    check_export_parity("m", model, lambda texts: torch_vectors(model, texts))  # the torch vectors themselves pass


def test_int8_quantisation_leaves_no_root_log_handler_and_hides_the_preprocessing_advice(
    tiny_model_path, tmp_path, capsys, monkeypatch
):
    """onnxruntime's quantiser logs through ``logging.warning``, which ran ``logging.basicConfig()``: it printed
    ``WARNING:root:Please consider to run pre-processing ...`` and left a root handler, so every later negmine
    log warning printed twice on the command line."""
    import logging

    from negmine.encode.onnx import OnnxEmbedder

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a plain process: pytest's own capture handlers set aside
    OnnxEmbedder(config(tiny_model_path, tmp_path, backend="onnx", quantize="int8"))  # a cold cache: quantises
    assert list(tmp_path.glob("onnx/*/model.int8.onnx"))
    assert root.handlers == []
    assert "pre-processing" not in capsys.readouterr().err


def test_onnxruntime_log_warnings_while_quantising_become_negmine_warnings(monkeypatch):
    """They went to a ``negmine.encode.onnx`` logger, which a warnings filter on NegmineWarning missed; the
    preprocessing advice is still dropped."""
    import logging

    from negmine.encode.onnx import PREPROCESS_ADVICE, _root_log_kept_local
    from negmine.errors import NegmineWarning

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # a plain process: pytest's own capture handlers set aside
    with pytest.warns(NegmineWarning) as caught, _root_log_kept_local():
        logging.warning("Please %s.", PREPROCESS_ADVICE)  # as onnxruntime's quantiser logs
        logging.getLogger("onnxruntime.quantization").warning("weight %s is skipped", "w1")
    assert [str(w.message) for w in caught] == ["onnxruntime: weight w1 is skipped"]
    assert root.handlers == []


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # checks the printed warning
def test_the_relay_does_not_loop_when_python_warnings_go_to_logging(monkeypatch, capsys):
    """With ``logging.captureWarnings(True)`` the relayed warning comes back as a ``py.warnings`` log record to the
    same root handler, which relayed it again without end (RecursionError). Such records show as logging shows
    them without a handler (its last-resort handler, on stderr)."""
    import logging

    from negmine.encode.onnx import _root_log_kept_local

    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    logging.captureWarnings(True)
    try:
        with _root_log_kept_local():
            logging.getLogger("onnxruntime.quantization").warning("weight %s is skipped", "w1")
    finally:
        logging.captureWarnings(False)
    assert "NegmineWarning: onnxruntime: weight w1 is skipped" in capsys.readouterr().err
