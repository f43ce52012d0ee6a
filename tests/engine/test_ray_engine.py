"""The Ray engine (local Ray instance, 2 CPUs) gives byte-identical output to the local engine."""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np
import pytest

from negmine.config import DataConfig, EncoderConfig, EngineConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_local():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def config(beir, out, engine: EngineConfig) -> MineConfig:
    return MineConfig(
        data=DataConfig(data_dir=beir),
        encoder=EncoderConfig(use_cache=False, show_progress=False),
        engine=engine,
        filters=FilterConfig(sd_margin=None),
        select=SelectConfig(num_negatives=3, strategy="random"),
        output=OutputConfig(path=out),
    )


def test_ray_and_local_engines_write_identical_output(ray_local, word_beir, tmp_path):
    sharding = dict(shard_size=25, encode_shard_size=16)
    local = mine(config(word_beir, tmp_path / "local.jsonl", EngineConfig(work_dir=tmp_path / "wl", **sharding)),
                 embedder=HashEmbedder(64))
    remote = mine(config(word_beir, tmp_path / "ray.jsonl",
                         EngineConfig(name="ray", ray_actors=2, work_dir=tmp_path / "wr", **sharding)),
                  embedder=HashEmbedder(64))
    assert (tmp_path / "local.jsonl").read_bytes() == (tmp_path / "ray.jsonl").read_bytes()
    assert remote.summary["engine"]["engine"] == "ray" and local.summary["engine"]["engine"] == "local"
    assert remote.summary["embeddings"] == local.summary["embeddings"]
    assert remote.summary["engine"]["search_shards_run"] == 5


def test_sharded_bm25_on_ray_writes_the_local_bytes(ray_local, word_beir, tmp_path):
    from negmine.config import RetrieveConfig

    outputs = {}
    for name in ("local", "ray"):
        base = config(word_beir, tmp_path / f"{name}.jsonl", EngineConfig(name=name, ray_actors=2,
                                                                          work_dir=tmp_path / f"w-{name}"))
        sharded = replace(base, retrieve=RetrieveConfig(method="bm25", depth=20, bm25_shard_size=7))
        mine(sharded, embedder=HashEmbedder(64))
        outputs[name] = (tmp_path / f"{name}.jsonl").read_bytes()
        assert not list((tmp_path / f"w-{name}").glob("negmine-bm25-*"))  # token files removed afterwards
    assert outputs["local"] and outputs["local"] == outputs["ray"]
    whole = replace(sharded, retrieve=RetrieveConfig(method="bm25", depth=20), output=OutputConfig(tmp_path / "w.jsonl"))
    mine(whole, embedder=HashEmbedder(64))
    assert (tmp_path / "w.jsonl").read_bytes() == outputs["ray"]  # sharding changes nothing


def _square(state, payload):
    return state * payload


def test_map_runs_every_item_once_on_the_actor_pool(ray_local):
    from negmine.engine.ray_engine import RayEngine

    engine = RayEngine(actors=2)
    got = dict(engine.map(functools.partial(int, 3), _square, [(k, np.arange(k)) for k in range(6)]))
    assert sorted(got) == list(range(6))
    for k, value in got.items():
        assert np.array_equal(value, 3 * np.arange(k))
    engine.close()
    assert ray.is_initialized(), "an engine must not shut down a Ray instance it did not start"
