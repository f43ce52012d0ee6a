from __future__ import annotations

import numpy as np
import pytest

from negmine.config import EncoderConfig
from negmine.encode.precision import resolve_precision
from negmine.encode.sentence_transformer import SentenceTransformerEmbedder, length_order
from negmine.errors import ConfigError

TEXTS = [
    "cancer risk",
    "the protein expression of the gene was increased in human cells",
    "a",
    "immune response to virus infection in mice",
    "blood",
    "heart disease treatment trial with patients and high risk",
]


def _cos(a, b):
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_output_float32_normalised_in_input_order(tiny_embedder):
    emb = tiny_embedder(precision="fp32", batch_size=2)
    out = emb.encode(TEXTS)
    assert out.dtype == np.float32 and out.shape == (len(TEXTS), emb.dim) and emb.dim == 32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    one_by_one = np.vstack([emb.encode([t]) for t in TEXTS])
    np.testing.assert_allclose(out, one_by_one, atol=1e-5)


def test_length_order_is_longest_first_and_stable():
    order = length_order(["aa", "b", "cc", "dddd", ""])
    assert order.tolist() == [3, 0, 2, 1, 4]


def test_unnormalised_model_output_is_normalised(load_tiny):
    from sentence_transformers import SentenceTransformer

    full = load_tiny()
    no_norm = SentenceTransformer(modules=[full[0], full[1]], device="cpu")
    emb = SentenceTransformerEmbedder.from_model(no_norm, EncoderConfig(precision="fp32", show_progress=False))
    raw = no_norm.encode(TEXTS, convert_to_numpy=True)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(emb.encode(TEXTS), axis=1), 1.0, atol=1e-6)


def test_prompt_is_prepended(tiny_embedder):
    emb = tiny_embedder(precision="fp32")
    with_prompt = emb.encode(["cancer risk"], prompt="the study of ")
    np.testing.assert_allclose(with_prompt, emb.encode(["the study of cancer risk"]), atol=1e-5)
    assert not np.allclose(with_prompt, emb.encode(["cancer risk"]), atol=1e-3)


def test_max_length_truncates_and_changes_fingerprint(tiny_embedder):
    full = tiny_embedder(precision="fp32")
    short = tiny_embedder(precision="fp32", max_length=4)
    assert short.model.max_seq_length == 4 and short.max_length == 4
    assert short.fingerprint != full.fingerprint
    a, b = short.encode(["cancer risk study patients", "cancer risk study mice blood"])
    np.testing.assert_allclose(a, b, atol=1e-6)  # [CLS] cancer risk [SEP]: the rest is cut


def test_precision_changes_fingerprint_and_bf16_stays_close(tiny_embedder):
    fp32 = tiny_embedder(precision="fp32")
    bf16 = tiny_embedder(precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert fp32.fingerprint != bf16.fingerprint
    low = bf16.encode(TEXTS)
    assert low.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(low, axis=1), 1.0, atol=1e-6)
    assert _cos(low, fp32.encode(TEXTS)).min() > 0.99


def test_auto_precision_follows_cpu(tiny_embedder):
    assert tiny_embedder(precision="auto").precision == resolve_precision("auto", "cpu")


def test_loading_from_config_matches_passed_model(tiny_model_path, tiny_embedder):
    loaded = SentenceTransformerEmbedder(EncoderConfig(model=str(tiny_model_path), precision="fp32", show_progress=False))
    passed = tiny_embedder(precision="fp32")
    assert loaded.model.device.type == "cpu"
    assert loaded.fingerprint == passed.fingerprint
    np.testing.assert_allclose(loaded.encode(TEXTS), passed.encode(TEXTS), atol=1e-6)


def test_missing_model_path_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"model path '.*nope' does not exist"):
        SentenceTransformerEmbedder(EncoderConfig(model=str(tmp_path / "nope")))


def test_bad_config_rejected_before_loading(load_tiny):
    with pytest.raises(ConfigError, match="batch_size must be a positive integer, got 0"):
        SentenceTransformerEmbedder.from_model(load_tiny(), EncoderConfig(batch_size=0))


def test_empty_input(tiny_embedder):
    emb = tiny_embedder()
    assert emb.encode([]).shape == (0, emb.dim)
