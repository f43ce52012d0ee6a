"""Slow end-to-end: default mining on SciFact train with the bundled MiniLM."""

from __future__ import annotations

import json

import pytest

from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig, SelectConfig
from negmine.errors import NegmineWarning
from negmine.io.beir import load_beir
from negmine.pipeline.mine import mine
from negmine.select.exclude import normalize_text

# SciFact train repeats two query texts under other ids (86 and 90 repeat 85 and 89): every mining run says so
VARIANT_PAIRS = r".*train\.tsv: 3 \(query, positive\) pairs repeat an earlier pair up to case, spacing"


@pytest.mark.slow
def test_default_mining_on_scifact_is_clean_cached_and_deterministic(scifact_dir, tmp_path):
    def config(out):
        return MineConfig(
            data=DataConfig(data_dir=scifact_dir, split="train"),
            encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
            select=SelectConfig(num_negatives=10),
            output=OutputConfig(path=out),
        )

    with pytest.warns(NegmineWarning, match=VARIANT_PAIRS):
        first = mine(config(tmp_path / "a.jsonl")).summary
    with pytest.warns(NegmineWarning, match=VARIANT_PAIRS):
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
        assert max(row["negative_scores"]) < row["positive_score"]  # the default sd margin: strictly below
    removed = first["candidates_removed_by_filter"]
    assert removed["sd_margin"] > 10_000 and removed["relative_margin"] == 0  # the default margin did the cutting


@pytest.mark.slow
def test_sharded_bm25_mining_on_scifact_writes_the_bytes_of_one_index(scifact_dir, tmp_path):
    from negmine.config import RetrieveConfig

    outputs = {}
    for shard_size in (1_000_000, 1_000):  # one index; six shards of SciFact's 5,183 abstracts
        out = tmp_path / f"bm25-{shard_size}.jsonl"
        with pytest.warns(NegmineWarning, match=VARIANT_PAIRS):
            summary = mine(MineConfig(
                data=DataConfig(data_dir=scifact_dir, split="train"),
                encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                retrieve=RetrieveConfig(method="bm25", bm25_shard_size=shard_size),
                output=OutputConfig(path=out),
            )).summary
        outputs[shard_size] = out.read_bytes()
        assert summary["pairs_out"] > 800 and summary["embeddings"]["encoded"] == 0  # BM25 encodes nothing
    assert outputs[1_000] == outputs[1_000_000]
    assert not list((tmp_path / "cache" / "runs").glob("bm25-*"))  # resume state removed after the output
