from __future__ import annotations

import numpy as np
import pytest

from negmine.audit.items import item_from_row
from negmine.audit.judges.cross_encoder import CrossEncoderJudge
from negmine.audit.resources import load_cross_encoder
from negmine.errors import ConfigError

from ..conftest import sample_rows


class FakeCE:
    def __init__(self, table):
        self.table = table
        self.calls = 0

    def predict(self, pairs, batch_size=32, show_progress_bar=False):
        self.calls += 1
        return np.array([self.table.get(doc, 0.0) for _, doc in pairs], dtype=np.float32)


def test_flags_candidates_the_cross_encoder_scores_like_the_positive():
    rows = sample_rows()
    items = [item_from_row(rows[0]), item_from_row(rows[2])]
    table = {rows[0]["positive"]: 0.9, rows[0]["negatives"][2]: 0.95, rows[0]["negatives"][0]: 0.8,
             rows[2]["positive"]: 0.5, rows[2]["negatives"][1]: 0.49}
    model = FakeCE(table)
    out = CrossEncoderJudge(model, margin=0.02).judge(items)
    assert model.calls == 1, "one batched predict for all items"
    assert out[0].flags.tolist() == [False, False, True, False]
    assert out[1].flags.tolist() == [False, True, False]
    assert out[0].relevance["cross-encoder"][0] == pytest.approx(0.9)
    assert "positive 0.9000" in out[0].reasons[2]


def test_threshold_flags_confident_candidates_even_below_the_positive():
    item = item_from_row(sample_rows()[0])
    model = FakeCE({item.positive: 0.99, item.candidates[0]: 0.9})
    j = CrossEncoderJudge(model, threshold=0.85).judge([item])[0]
    assert j.flags.tolist() == [True, False, False, False]
    assert "threshold 0.85" in j.reasons[0]


def test_a_real_local_cross_encoder_loads_by_path_and_scores(tiny_cross_encoder_path):
    model = load_cross_encoder(str(tiny_cross_encoder_path))
    item = item_from_row(sample_rows()[0])
    j = CrossEncoderJudge(model).judge([item])[0]
    pos, cand = j.relevance["cross-encoder"]
    assert cand.shape == (4,) and np.isfinite(cand).all() and np.isfinite(pos)
    assert j.flags.tolist() == (cand >= pos).tolist()


def test_unknown_cross_encoder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot load cross-encoder"):
        load_cross_encoder(str(tmp_path / "missing-model"))


def test_a_cross_encoder_with_several_labels_is_refused_at_load(tmp_path):
    """Before, such a model loaded and the audit (after mining a BEIR directory's candidates) stopped at its first
    batch with a ValueError traceback."""
    import torch
    from transformers import BertForSequenceClassification

    from negmine.testing.tiny_models import _bert_config, _write_tokenizer

    torch.manual_seed(0)
    config = _bert_config(32, 2)
    config.num_labels = 2
    BertForSequenceClassification(config).save_pretrained(str(tmp_path / "nli"))
    _write_tokenizer(tmp_path / "nli")
    with pytest.raises(ConfigError, match=r"has 2 output labels; the judge needs a relevance re-ranker with exactly 1"):
        load_cross_encoder(str(tmp_path / "nli"))


def test_a_cross_encoder_with_a_cut_short_weights_file_is_a_config_error_naming_it(tiny_cross_encoder_path, tmp_path):
    import shutil
    from pathlib import Path

    folder = Path(shutil.copytree(tiny_cross_encoder_path, tmp_path / "cut"))
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ConfigError) as info:
        load_cross_encoder(str(folder), show_progress=False)
    assert str(info.value) == (
        f"could not load cross-encoder '{folder}': its weights file is damaged or cut short (SafetensorError: Error "
        "while deserializing header: invalid header length); copy, download or save the model again")


def test_a_candidates_score_does_not_depend_on_the_other_candidates_nor_the_batch_size(tmp_path):
    """The judge scored pairs with ``CrossEncoder.predict``'s padded batches: 8 of these 40 scores (hidden size 384,
    batch size 32) differed in their last bits from the candidate scored alone, so a cached score differed from a
    cold run's and ``--cross-encoder-batch-size`` could flip a flag at a threshold's edge."""
    import random

    from negmine.testing.tiny_models import build_tiny_cross_encoder

    model = load_cross_encoder(str(build_tiny_cross_encoder(tmp_path / "ce", hidden=384)), show_progress=False)
    rng = random.Random(3)
    words = "alpha beta gamma delta protein cell gene tumour cancer mouse human study".split()
    query = "does the protein raise cancer risk in mouse cells"
    docs = [" ".join(rng.choices(words, k=rng.randint(4, 40))) for _ in range(40)]
    alone = [CrossEncoderJudge(model, batch_size=32).relevance(query, [d])[0] for d in docs]
    for batch_size in (32, 5):
        got = CrossEncoderJudge(model, batch_size=batch_size).relevance(query, docs)
        assert got.tolist() == alone, (batch_size, sum(g != a for g, a in zip(got, alone)))
