from __future__ import annotations

import pytest

from negmine.config import EncoderConfig


@pytest.fixture
def load_tiny(tiny_model_path):
    """Factory: a freshly loaded tiny SentenceTransformer (tests may mutate it)."""
    from sentence_transformers import SentenceTransformer

    def load():
        return SentenceTransformer(str(tiny_model_path), device="cpu")

    return load


@pytest.fixture
def tiny_embedder(load_tiny):
    """Factory: SentenceTransformerEmbedder over a fresh tiny model, no progress bars."""
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    def make(**overrides):
        config = EncoderConfig(show_progress=False, **overrides)
        return SentenceTransformerEmbedder.from_model(load_tiny(), config)

    return make
