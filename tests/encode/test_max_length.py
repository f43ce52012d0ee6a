"""--max-length against the model's position embeddings (mine, eval and audit encode with it; train trains with it)."""

from __future__ import annotations

import pytest
from torch import nn

from negmine.config import EncoderConfig
from negmine.encode.max_length import position_limit, set_max_length
from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
from negmine.errors import ConfigError

LONG = " ".join(["immune response to virus infection in mice"] * 40)  # ~280 tokens with the tiny vocabulary


def test_a_max_length_beyond_the_position_embeddings_is_refused_before_any_text(tiny_model_path):
    # it was set, and the first long text failed inside the model: RuntimeError "The size of tensor a (300) must
    # match the size of tensor b (128)", a traceback with no hint
    with pytest.raises(ConfigError, match=r"^max_length=300 \(--max-length 300\) is more than the model '.*model' can "
                                          r"take: its position embeddings hold 128 tokens, so a longer text would fail "
                                          r"inside the model; use max_length=128 \(--max-length 128\) or less, or leave "
                                          r"it unset \(the model's own 64\)$"):
        SentenceTransformerEmbedder(EncoderConfig(model=str(tiny_model_path), max_length=300, precision="fp32"))
    embedder = SentenceTransformerEmbedder(EncoderConfig(model=str(tiny_model_path), max_length=128, precision="fp32"))
    assert embedder.max_length == 128 and embedder.encode([LONG]).shape == (1, 32)


class _Stub(list):
    """A SentenceTransformer stand-in: a list of modules whose first has an ``auto_model``."""

    max_seq_length = 128


def _stub(embeddings) -> _Stub:
    first = nn.Module()
    first.auto_model = nn.Module()
    first.auto_model.embeddings = embeddings
    return _Stub([first])


def test_roberta_positions_start_after_the_padding_index_and_models_without_a_table_are_not_checked():
    roberta = nn.Module()
    roberta.position_embeddings, roberta.padding_idx = nn.Embedding(514, 4), 1  # RobertaEmbeddings' layout
    assert position_limit(_stub(roberta)) == 512
    bert = nn.Module()
    bert.position_embeddings = nn.Embedding(512, 4)
    assert position_limit(_stub(bert)) == 512
    assert position_limit(_stub(nn.Module())) is None  # rotary or relative positions: no table
    model = _stub(nn.Module())
    set_max_length(model, 100_000, "rotary")
    assert model.max_seq_length == 100_000
    with pytest.raises(ConfigError, match=r"its position embeddings hold 512 tokens"):
        set_max_length(_stub(roberta), 513, "roberta")
