from __future__ import annotations

import json

import numpy as np
import pytest

from negmine.audit.denoise import REMOVED_KEY, DenoiseHook
from negmine.audit.judges.teacher import Teacher, TeacherJudge
from negmine.audit.mine_hooks import denoise_flags_path
from negmine.audit.vectors import TextVectors
from negmine.config import (
    DataConfig, DenoiseConfig, EncoderConfig, FilterConfig, JudgeConfig, MineConfig, NearDupConfig, OutputConfig,
    SelectConfig,
)
from negmine.errors import ConfigError
from negmine.io.load import load_data
from negmine.pipeline.mine import mine
from negmine.testing.hash_embedder import HashEmbedder

OFF = NearDupConfig(cosine=None, overlap=None)


def config(beir, out, denoise=DenoiseConfig(), n=3):
    return MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(cache_dir=out.parent / "cache", show_progress=False),
        filters=FilterConfig(sd_margin=None), select=SelectConfig(num_negatives=n), output=OutputConfig(out),
        near_dup=OFF, denoise=denoise,
    )


def rows(path):
    return {json.loads(x)["query_id"]: json.loads(x) for x in path.read_text().splitlines()}


class Marked:
    """Teacher embedder: queries and documents containing a marker word share one vector, others are orthogonal."""

    dim = 2
    fingerprint = "marked"

    def __init__(self, marker):
        self.marker = marker

    def encode(self, texts, prompt=""):
        hit = [prompt == "query: " or self.marker in t.lower() for t in texts]
        return np.array([[1.0, 0.0] if h else [0.0, 1.0] for h in hit], np.float32)


def test_denoise_hook_drops_judged_false_negatives_and_refills_to_n(topic_beir, tmp_path):
    base = mine(config(topic_beir, tmp_path / "base.jsonl"), embedder=HashEmbedder())
    before = rows(tmp_path / "base.jsonl")["q"]["negative_ids"]
    assert set(before[:2]) == {"copy", "title"}
    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    emb = Marked("drinking")  # 'copy' and 'title' contain "drinking" (as does the positive)
    teacher = Teacher("marked", TextVectors(emb, "query: "), TextVectors(emb, "passage: "))
    from collections import Counter

    removed = Counter()
    hook = DenoiseHook([TeacherJudge([teacher])], JudgeConfig(), dataset, depth=4,
                       eligible=lambda pool: np.ones(len(pool), bool), removed=removed)
    mine(cfg, embedder=HashEmbedder(), dataset=dataset, hook=hook)
    after = rows(tmp_path / "dn.jsonl")["q"]["negative_ids"]
    assert len(after) == 3 and not {"copy", "title"} & set(after)
    assert after[0] == before[2], "refill starts with the next candidate"
    assert removed[REMOVED_KEY] == len(hook.records)
    assert {r["doc_id"] for r in hook.records if r["query_id"] == "q"} == {"copy", "title"}
    assert sorted(rows(tmp_path / "dn.jsonl")["q"]["false_negative_ids"]) == ["copy", "title"], (
        "dropped false negatives stay in the row so training can mask them in-batch"
    )
    assert "false_negative_ids" not in rows(tmp_path / "base.jsonl")["q"], "no judge, no key"
    assert hook.judged == 4 + 4, "depth 4 for each of the two pairs"
    assert base.summary["pairs_out"] == 2


def test_only_the_top_depth_eligible_candidates_are_judged(topic_beir, tmp_path):
    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    emb = Marked("drinking")
    teacher = Teacher("marked", TextVectors(emb, "query: "), TextVectors(emb, "passage: "))
    from collections import Counter

    hook = DenoiseHook([TeacherJudge([teacher])], JudgeConfig(), dataset, depth=1,
                       eligible=lambda pool: np.arange(len(pool)) >= 1, removed=Counter())
    mine(cfg, embedder=HashEmbedder(), dataset=dataset, hook=hook)
    first, second = rows(tmp_path / "dn.jsonl")["q"]["negative_ids"][:1] + [None]
    judged = [r["doc_id"] for r in hook.records if r["query_id"] == "q"]
    assert len(judged) == 1 and judged[0] in ("copy", "title"), "position 0 not eligible, depth 1: only position 1"
    assert first in ("copy", "title") and first != judged[0], "the ineligible top candidate was not judged"


def test_denoise_from_config_with_a_local_cross_encoder(topic_beir, tmp_path, tiny_cross_encoder_path):
    denoise = DenoiseConfig(True, JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.5), 5)
    out = tmp_path / "ce.jsonl"
    result = mine(config(topic_beir, out, denoise), embedder=HashEmbedder())
    flags = [json.loads(x) for x in denoise_flags_path(out).read_text().splitlines()]
    removed = result.summary["candidates_removed_by_filter"][REMOVED_KEY]
    assert removed == len(flags) == result.summary["denoise"]["false_negatives_removed"] > 0
    assert result.summary["denoise"]["candidates_judged"] == 10
    for row in rows(out).values():
        flagged = [f["doc_id"] for f in flags if f["query_id"] == row["query_id"]]
        assert len(row["negative_ids"]) == 3
        assert not set(flagged) & set(row["negative_ids"])
        assert row.get("false_negative_ids", []) == flagged, "flags file and row agree, in judging order"
    assert all(f["judges"] == ["cross-encoder"] and "cross-encoder" in f["scores"] for f in flags)
    usage = result.summary["denoise"]["model_usage"]["cross-encoder"]
    assert usage["pairs_scored"] > 0 and usage["pairs_from_cache"] == 0
    first = out.read_bytes()
    again = mine(config(topic_beir, out, denoise), embedder=HashEmbedder())
    assert again.summary["denoise"]["model_usage"]["cross-encoder"] == {
        "pairs_scored": 0, "pairs_from_cache": usage["pairs_scored"]}, "a rerun reads every score from the cache"
    assert out.read_bytes() == first


def test_denoise_with_a_sentence_transformers_teacher_by_path(topic_beir, tmp_path, tiny_model_path):
    denoise = DenoiseConfig(True, JudgeConfig(teachers=(str(tiny_model_path),), teacher_relative_margin=0.5), 4)
    result = mine(config(topic_beir, tmp_path / "t.jsonl", denoise), embedder=HashEmbedder())
    assert result.summary["denoise"]["candidates_judged"] == 8
    assert result.summary["pairs_out"] + sum(result.summary["pairs_skipped"].values()) == 2


def test_bad_cross_encoder_fails_before_encoding(topic_beir, tmp_path):
    embedder = HashEmbedder()
    denoise = DenoiseConfig(True, JudgeConfig(cross_encoder=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="cannot load cross-encoder"):
        mine(config(topic_beir, tmp_path / "x.jsonl", denoise), embedder=embedder)
    assert embedder.calls == 0


def test_judges_see_the_whole_pools_spread_and_the_row_records_it(topic_beir, tmp_path):
    from collections import Counter

    from negmine.select.filters import score_spread

    class Recorder:
        name = "recorder"

        def __init__(self):
            self.items = []

        def judge(self, items):
            from negmine.audit.judges.base import Judgement

            self.items.extend(items)
            return [Judgement(self.name, np.zeros(len(i), bool), [""] * len(i), {}) for i in items]

    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    pools = []
    recorder = Recorder()
    hook = DenoiseHook([recorder], JudgeConfig(), dataset, depth=2, eligible=lambda pool: np.ones(len(pool), bool),
                       removed=Counter())

    def watch(pair, pool):
        pools.append(pool)
        return hook(pair, pool)

    mine(cfg, embedder=HashEmbedder(), dataset=dataset, hook=watch)
    assert [len(i) for i in recorder.items] == [2, 2] and len(pools[0]) > 2
    for item, pool in zip(recorder.items, pools):
        assert item.score_sd == score_spread(pool.scores) != score_spread(item.scores)
    mined = rows(tmp_path / "dn.jsonl")
    assert mined[recorder.items[0].query_id]["candidate_score_sd"] == round(recorder.items[0].score_sd, 6)
