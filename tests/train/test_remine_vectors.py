"""A finished run removes the embedding-cache namespaces its re-minings wrote; a stopped one keeps them."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from negmine.config import DataConfig, EncoderConfig, MineConfig, TrainConfig
from negmine.encode.cache import EmbeddingCache, text_keys
from negmine.encode.cache_contents import cache_entries
from negmine.train.api import train
from negmine.train.remine_vectors import RECORD_NAME, recorded_vectors, remove_training_vectors

from .conftest import InterruptAt


def _caching_miner(mined_file, cache_dir):
    """A miner that encodes texts with the model being trained into ``cache_dir`` (queries with a prompt,
    documents without: two namespaces a re-mining, as mining with prompts writes) and re-writes the mined rows."""
    from negmine.encode.embed import embed_texts

    rows = [json.loads(line) for line in mined_file.read_text().splitlines()]

    def miner(embedder, output_path):
        with EmbeddingCache(cache_dir) as cache:  # mining closes its cache when it returns
            embed_texts(embedder, [r["query"] for r in rows], "query: ", cache=cache)
            embed_texts(embedder, [r["positive"] for r in rows], cache=cache)
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return output_path

    return miner


def _config(tmp_path, mined_file, model, cache_dir, **kw) -> TrainConfig:
    mine = MineConfig(data=DataConfig(data_dir=tmp_path), encoder=EncoderConfig(cache_dir=cache_dir))
    return TrainConfig(train_file=mined_file, output_dir=tmp_path / "out", model=str(model), max_steps=5,
                       batch_size=4, num_negatives=2, show_progress=False, precision="fp32", remine_steps=2,
                       mine=mine, **kw)


def _others(cache_dir) -> list[str]:
    """Namespaces no training run wrote: the starting model's (the mining) and another run's step 2 (another
    digest), which a finished run must leave alone."""
    with EmbeddingCache(cache_dir) as cache:
        for fingerprint in ("st-starting-model", "st-another-run|train-step=2"):
            cache.put(fingerprint, "", text_keys(["cell gene"]), np.ones((1, 32), np.float32))
    return ["st-another-run|train-step=2", "st-starting-model"]


def _fingerprints(cache_dir) -> list[str]:
    return sorted(e.fingerprint for e in cache_entries(cache_dir))


def test_a_finished_run_removes_its_remining_vectors_and_nothing_else(tmp_path, mined_file, tiny_model_path):
    """Measured on the demo (tiny model, --remine-steps 2, --max-steps 6): the run left 2 namespaces `<model>
    being trained, step 2` and `step 4` in the cache for good (3 GB each on a 1M-document corpus at 768 dims)."""
    cache_dir = tmp_path / "cache"
    others = _others(cache_dir)
    result = train(_config(tmp_path, mined_file, tiny_model_path, cache_dir, checkpoint_steps=None),
                   miner=_caching_miner(mined_file, cache_dir))
    assert [e["step"] for e in result.remine] == [2, 4]
    assert result.remine_vectors["removed"] == 4 and result.remine_vectors["kept_in_use"] == 0  # 2 steps x 2 prompts
    assert result.remine_vectors["bytes_freed"] > 0
    assert _fingerprints(cache_dir) == others
    assert not (tmp_path / "out" / "remine" / RECORD_NAME).exists()
    summary = json.loads((tmp_path / "out" / "negmine_train.json").read_text())
    assert summary["result"]["remine_vectors"] == result.remine_vectors


def test_a_stopped_run_keeps_them_and_the_resumed_run_removes_every_parts(tmp_path, mined_file, tiny_model_path):
    """Stopped, the run keeps its re-minings' vectors (a resume that trains the same weights reads them from the
    cache); the resumed run, once finished, removes those the stopped part wrote too."""
    cache_dir = tmp_path / "cache"
    others = _others(cache_dir)
    config = _config(tmp_path, mined_file, tiny_model_path, cache_dir, checkpoint_steps=2)
    with pytest.raises(KeyboardInterrupt):
        train(config, miner=_caching_miner(mined_file, cache_dir), callbacks=[InterruptAt(3)])
    kept = [fp for fp in _fingerprints(cache_dir) if fp not in others]
    assert len(kept) == 2 and kept[0] == kept[1] and kept[0].endswith("|train-step=2")  # its two prompts'
    assert [e["fingerprint"] for e in recorded_vectors(tmp_path / "out" / "remine")] == kept[:1]
    result = train(replace(config, resume=True), miner=_caching_miner(mined_file, cache_dir))
    assert result.resumed_from.endswith("checkpoint-2") and result.remine[0]["restored"] is True
    assert result.remine_vectors["removed"] == 4  # step 2's (the stopped part's) and step 4's
    assert _fingerprints(cache_dir) == others


def test_without_re_mining_the_summary_records_none(tmp_path, mined_file, tiny_model_path):
    result = train(replace(_config(tmp_path, mined_file, tiny_model_path, tmp_path / "cache", checkpoint_steps=None),
                           remine_steps=None, mine=None))
    assert result.remine_vectors is None


def test_a_namespace_another_process_holds_is_kept_and_stays_recorded(tmp_path):
    remine_dir, cache_dir = tmp_path / "remine", tmp_path / "cache"
    from negmine.train.remine_vectors import record_vectors

    with EmbeddingCache(cache_dir) as cache:
        for step in (2, 4):
            cache.put(f"st-x|train-step={step}", "", text_keys(["cell gene"]), np.ones((1, 4), np.float32))
            record_vectors(remine_dir, step, f"st-x|train-step={step}", cache_dir)
    record_vectors(remine_dir, 4, "st-x|train-step=4", cache_dir)  # recorded again by a resumed run: once
    assert len(recorded_vectors(remine_dir)) == 2
    with EmbeddingCache(cache_dir) as reader:  # a run sharing the cache reads step 4's vectors
        reader.get("st-x|train-step=4", "", text_keys(["cell gene"]))
        removed = remove_training_vectors(remine_dir)
    assert removed["removed"] == 1 and removed["bytes_freed"] > 0 and removed["kept_in_use"] == 1
    assert _fingerprints(cache_dir) == ["st-x|train-step=4"]
    assert [e["step"] for e in recorded_vectors(remine_dir)] == [4]


def test_with_no_cache_nothing_is_recorded(tmp_path, mined_file, tiny_model_path):
    """``--no-cache`` mining (``encoder.use_cache`` off) writes no namespace: none is recorded, none removed."""
    config = _config(tmp_path, mined_file, tiny_model_path, None, checkpoint_steps=None)
    config = replace(config, mine=replace(config.mine, encoder=EncoderConfig(use_cache=False)))
    rows = mined_file.read_text()

    def miner(embedder, output_path):
        output_path.parent.mkdir(parents=True, exist_ok=True)
        output_path.write_text(rows)
        return output_path

    result = train(config, miner=miner)
    assert [e["step"] for e in result.remine] == [2, 4] and result.remine_vectors is None


def test_the_prune_command_the_run_names_for_a_kept_namespace_takes_that_one_only(tmp_path):
    """A namespace kept in use is left for `negmine cache prune --cache-dir CACHE --model FINGERPRINT` (both from the
    record, as the run's last line says): that command must take the step named, not step 1000's with step 100's
    (same weights digest: the weights did not move between the two re-minings); until 2026-12-06 it took both."""
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.train.remine_vectors import record_vectors

    remine_dir, cache_dir = tmp_path / "remine", tmp_path / "cache"
    with EmbeddingCache(cache_dir) as cache:
        for step in (100, 1000):
            cache.put(f"st-x|train-step={step}", "", text_keys(["cell gene"]), np.ones((1, 4), np.float32))
            record_vectors(remine_dir, step, f"st-x|train-step={step}", cache_dir)
    with EmbeddingCache(cache_dir) as reader:  # a run sharing the cache reads both until the training run ends
        for step in (100, 1000):
            reader.get(f"st-x|train-step={step}", "", text_keys(["cell gene"]))
        assert remove_training_vectors(remine_dir)["kept_in_use"] == 2
    first = recorded_vectors(remine_dir)[0]
    result = CliRunner().invoke(build_app(), ["cache", "prune", "--cache-dir", first["cache"], "--model",
                                              first["fingerprint"]])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2 and result.stdout.startswith("deleted: embeddings")
    assert _fingerprints(cache_dir) == ["st-x|train-step=1000"]
