from __future__ import annotations

import numpy as np
import pytest

from negmine.config import EncoderConfig
from negmine.encode.factory import BACKENDS, make_embedder
from negmine.errors import ConfigError


def test_unknown_backend_names_the_value_and_the_allowed_ones_before_any_model_loads(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match=r"^unknown backend 'tvm'; allowed: onnx, torch; pick one with backend \(--backend\)$"):
        make_embedder(EncoderConfig(model=str(missing), backend="tvm"))
    with pytest.raises(ConfigError, match=r"^unknown backend 'Torch'; allowed: onnx, torch; did you mean "
                                          r"backend='torch' \(--backend torch\)\?$"):
        make_embedder(EncoderConfig(model=str(missing), backend="Torch"))


def test_unknown_backend_is_named_by_its_field_path(tmp_path):
    """Mining, an audit and eval load their model within encoder. (their validate refuses the name first; a config
    built past it reaches the factory): the fix named the bare backend."""
    from pathlib import Path

    from negmine.config import AuditConfig
    from negmine.config_path import within

    with within(AuditConfig(input=Path("mined.jsonl")), "encoder"):
        with pytest.raises(ConfigError, match=r"^unknown backend 'Torch'; allowed: onnx, torch; did you mean "
                                              r"encoder\.backend='torch' \(--backend torch\)\?$"):
            make_embedder(EncoderConfig(model=str(tmp_path / "no-such-model"), backend="Torch"))


def test_torch_backend_builds_a_sentence_transformer_embedder_from_the_config(tiny_model_path):
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    config = EncoderConfig(model=str(tiny_model_path), backend="torch", max_length=16, batch_size=3,
                           precision="fp32", show_progress=False)
    embedder = make_embedder(config)
    assert type(embedder) is SentenceTransformerEmbedder
    assert embedder.config is config and (embedder.max_length, embedder.batch_size) == (16, 3)
    vectors = embedder.encode(["a cell", "a protein"])
    assert vectors.shape == (2, embedder.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_torch_backend_errors_of_the_loader_reach_the_caller(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ConfigError, match=f"model path '{missing}' does not exist"):
        make_embedder(EncoderConfig(model=str(missing), show_progress=False))


def test_onnx_backend_builds_an_onnx_embedder_from_the_config(monkeypatch):
    """The ONNX export itself is tested in test_onnx.py; here only which class gets which config."""
    import negmine.encode.onnx as onnx

    built = []

    class Recorder:
        def __init__(self, config):
            built.append(config)

    monkeypatch.setattr(onnx, "OnnxEmbedder", Recorder)
    config = EncoderConfig(model="any", backend="onnx", quantize="int8")
    embedder = make_embedder(config)
    assert type(embedder) is Recorder and built == [config] and built[0] is config


def test_every_backend_the_config_accepts_can_be_built():
    from negmine.config import BACKENDS as CONFIG_BACKENDS

    assert sorted(BACKENDS) == sorted(CONFIG_BACKENDS)
