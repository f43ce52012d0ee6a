"""Build the configured embedder: sentence-transformers on torch, or its ONNX Runtime export."""

from __future__ import annotations

from typing import Callable

from negmine.config import EncoderConfig
from negmine.encode.base import Embedder
from negmine.errors import unknown_choice


def _torch(config: EncoderConfig) -> Embedder:
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(config)


def _onnx(config: EncoderConfig) -> Embedder:
    from negmine.encode.onnx import OnnxEmbedder

    return OnnxEmbedder(config)


BACKENDS: dict[str, Callable[[EncoderConfig], Embedder]] = {"torch": _torch, "onnx": _onnx}


def make_embedder(config: EncoderConfig) -> Embedder:
    """The embedder ``config.backend`` names (``torch``: precision applies; ``onnx``: quantize applies)."""
    if config.backend not in BACKENDS:  # an EncoderConfig not validated; the field at its path (encoder.backend)
        from negmine.config_path import field_path, given_option

        raise unknown_choice("backend", config.backend, BACKENDS, field_path("backend"),
                             given_option("backend", "--backend"))
    return BACKENDS[config.backend](config)
