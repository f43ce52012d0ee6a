"""Slow end-to-end: default mining on SciFact train with the bundled MiniLM."""

from __future__ import annotations

import json

import pytest

from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig, SelectConfig
from negmine.io.beir import load_beir
from negmine.pipeline.mine import mine
from negmine.select.exclude import normalize_text


@pytest.mark.slow
def test_default_mining_on_scifact_is_clean_cached_and_deterministic(scifact_dir, tmp_path):
    def config(out):
        return MineConfig(
            data=DataConfig(data_dir=scifact_dir, split="train"),
            encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
            select=SelectConfig(num_negatives=10),
            output=OutputConfig(path=out),
        )

    first = mine(config(tmp_path / "a.jsonl")).summary
    second = mine(config(tmp_path / "b.jsonl")).summary
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert second["embeddings"]["encoded"] == 0 and first["embeddings"]["encoded"] > 5000
    assert first["pairs_in"] == 919
    assert first["pairs_out"] + sum(first["pairs_skipped"].values()) == 919
    assert first["pairs_out"] > 800
    data = load_beir(scifact_dir, "train")
    positives_by_text: dict[str, set[str]] = {}
    for pair in data.pairs():
        positives_by_text.setdefault(normalize_text(data.queries.text(pair.query_id)), set()).add(pair.positive_id)
    for line in (tmp_path / "a.jsonl").read_text().splitlines():
        row = json.loads(line)
        assert len(row["negative_ids"]) == 10
        assert not positives_by_text[normalize_text(row["query"])] & set(row["negative_ids"])
        assert max(row["negative_scores"]) < row["positive_score"] - 0.05 * abs(row["positive_score"]) + 1e-6
