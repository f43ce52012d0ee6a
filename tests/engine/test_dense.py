from __future__ import annotations

from pathlib import Path

import pytest

from negmine.config import DataConfig, EncoderConfig, EngineConfig, MineConfig, OutputConfig, SelectConfig
from negmine.engine.dense import ann_info
from negmine.engine.search import SearchOutcome
from negmine.pipeline.mine import mine
from negmine.testing.beir import write_beir
from negmine.testing.hash_embedder import HashEmbedder

from .conftest import word_corpus


def outcome(breadths, refines, recalls) -> SearchOutcome:
    return SearchOutcome(None, len(breadths), breadths, refines, recalls)


def test_ann_info_names_the_breadth_of_each_index():
    searched = outcome([0, 64], [0, 1], [1.0, 0.93])
    assert ann_info(EngineConfig(index="flat"), searched) == {}
    assert ann_info(EngineConfig(index="ivf", target_recall=None), searched) == {"ann_nprobe_per_shard": [0, 64]}
    assert ann_info(EngineConfig(index="hnsw"), searched) == {
        "ann_ef_search_per_shard": [0, 64], "ann_target_recall": 0.9, "ann_sample_recall_per_shard": [1.0, 0.93]}
    pq = ann_info(EngineConfig(index="ivfpq"), outcome([100], [16], [0.91]))
    assert pq["ann_nprobe_per_shard"] == [100] and pq["ann_refine_per_shard"] == [16]


# word_corpus repeats its texts past 144 queries: the repeated pairs do not matter to the breadth checked here
@pytest.mark.filterwarnings(r"ignore:.* \(query, positive\) pairs repeat an earlier pair:negmine.errors.NegmineWarning")
@pytest.mark.parametrize("target", [0.95, None])
def test_mine_summary_reports_the_calibrated_breadth(tmp_path, target):
    corpus, queries, qrels = word_corpus(n_docs=10_400, n_queries=300)
    beir = write_beir(tmp_path / "beir", corpus, queries, qrels)
    config = MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(use_cache=False, show_progress=False),
        engine=EngineConfig(index="ivf", nprobe=1, target_recall=target, work_dir=tmp_path / "work"),
        select=SelectConfig(num_negatives=3), output=OutputConfig(path=Path(tmp_path / "neg.jsonl")),
    )
    engine = mine(config, embedder=HashEmbedder(32)).summary["engine"]
    assert engine["index"] == "ivf" and engine["search_shards"] == 1
    if target is None:
        assert engine["ann_nprobe_per_shard"] == [1] and "ann_sample_recall_per_shard" not in engine
    else:
        assert engine["ann_nprobe_per_shard"][0] > 1 and engine["ann_sample_recall_per_shard"][0] >= target
