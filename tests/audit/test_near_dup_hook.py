from __future__ import annotations

import json
from collections import Counter

import numpy as np

from negmine.audit.near_dup_hook import REMOVED_KEY, NearDuplicateHook
from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, NearDupConfig, OutputConfig, SelectConfig
from negmine.io.records import Corpus, Dataset, Pair, Qrels, Queries
from negmine.pipeline.mine import mine
from negmine.select.pool import Pool
from negmine.testing.hash_embedder import HashEmbedder

from .conftest import TOPIC_DOCS


def config(beir, out, near_dup=NearDupConfig()):
    return MineConfig(
        data=DataConfig(data_dir=beir), encoder=EncoderConfig(cache_dir=out.parent / "cache", show_progress=False),
        filters=FilterConfig(sd_margin=None), select=SelectConfig(num_negatives=3), output=OutputConfig(out),
        near_dup=near_dup,
    )


def negatives(path, query_id="q"):
    return next(json.loads(x) for x in path.read_text().splitlines() if json.loads(x)["query_id"] == query_id)["negative_ids"]


def test_default_mining_excludes_near_copies_and_counts_them(topic_beir, tmp_path):
    off = mine(config(topic_beir, tmp_path / "off.jsonl", NearDupConfig(cosine=None, overlap=None)), embedder=HashEmbedder())
    assert {"copy", "title"} <= set(negatives(tmp_path / "off.jsonl")), "without the exclusion both copies leak"
    assert REMOVED_KEY not in off.summary["candidates_removed_by_filter"]
    on = mine(config(topic_beir, tmp_path / "on.jsonl"), embedder=HashEmbedder())
    kept = negatives(tmp_path / "on.jsonl")
    assert not {"copy", "title"} & set(kept) and len(kept) == 3, "refilled to N from the next candidates"
    assert on.summary["candidates_removed_by_filter"][REMOVED_KEY] == 2
    assert on.summary["config"]["near_dup"]["cosine"] == 0.9


def dataset():
    ids = ["pos", "copy", "title", "other"]
    texts = [TOPIC_DOCS["pos"], TOPIC_DOCS["copy"], TOPIC_DOCS["title"], "pressure cooker recipes"]
    return Dataset(Corpus(ids, texts), Queries(["q"], ["coffee"]), Qrels({"q": {"pos": 1}}))


def pool(rows):
    n = len(rows)
    return Pool(np.asarray(rows, np.int64), np.linspace(0.9, 0.5, n, dtype=np.float32), np.arange(2, 2 + n), 0.95)


def test_each_test_alone_and_exact_counts():
    removed = Counter()
    overlap_only = NearDuplicateHook(NearDupConfig(cosine=None, overlap=0.5), dataset(), None, removed)
    out = overlap_only(Pair("q", "pos"), pool([1, 2, 3]))
    assert out.indices.tolist() == [3] and removed[REMOVED_KEY] == 2
    # the positive's score passes through unchanged (pool() gives the float 0.95; comparing it with np.float32(0.95)
    # held only under NumPy 2's scalar promotion, not on the numpy 1.24 floor)
    assert out.ranks.tolist() == [4] and out.positive_score == 0.95
    vectors = np.array([[1, 0, 0], [0.99, 0.141, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    cosine_only = NearDuplicateHook(NearDupConfig(cosine=0.9, overlap=None), dataset(), vectors, Counter())
    assert cosine_only(Pair("q", "pos"), pool([1, 2, 3])).indices.tolist() == [2, 3]
    assert len(cosine_only(Pair("q", "pos"), pool([]))) == 0


def test_signatures_computed_in_worker_processes_give_the_same_file(topic_beir, tmp_path, monkeypatch):
    import dataclasses

    import negmine.audit.near_dup as near_dup
    from negmine.config import EngineConfig

    def run(name, workers):
        base = config(topic_beir, tmp_path / f"{name}.jsonl")
        return mine(dataclasses.replace(base, engine=EngineConfig(workers=workers)), embedder=HashEmbedder())

    one = run("one", 1)
    calls = []
    real = near_dup.parallel_signatures
    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 1)
    monkeypatch.setattr(near_dup, "parallel_signatures", lambda *a, **k: calls.append(k) or real(*a, **k))
    two = run("two", 2)
    assert calls, "the pools' signatures were computed in worker processes"
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert one.summary["candidates_removed_by_filter"] == two.summary["candidates_removed_by_filter"]


def test_pool_rows_are_gathered_only_when_signatures_will_be_computed_in_workers():
    from negmine.audit.mine_hooks import MineHooks

    def rows():
        raise AssertionError("pool rows gathered for nothing")

    cosine_only = NearDuplicateHook(NearDupConfig(cosine=0.9, overlap=None), dataset(), None, Counter())
    MineHooks([cosine_only]).prefetch(rows, workers=4)
    shingles = NearDuplicateHook(NearDupConfig(cosine=None, overlap=0.5), dataset(), None, Counter())
    MineHooks([shingles]).prefetch(rows, workers=1)
    asked = []
    MineHooks([shingles]).prefetch(lambda: asked.append(1) or np.arange(4), workers=2)
    assert asked == [1]


def test_near_copies_of_a_text_twin_querys_positive_are_dropped_too():
    # "q" and "Q!" normalise to the same text: the twin's positive is a positive of q, and so are its near-copies
    ids = ["pos", "copy", "title", "other", "twin-pos"]
    texts = [TOPIC_DOCS["pos"], TOPIC_DOCS["copy"], TOPIC_DOCS["title"], "pressure cooker recipes", "unrelated text"]
    data = Dataset(Corpus(ids, texts), Queries(["q", "twin"], ["coffee", "Coffee!"]),
                   Qrels({"q": {"other": 1}, "twin": {"pos": 1}}))
    hook = NearDuplicateHook(NearDupConfig(cosine=None, overlap=0.5), data, None, Counter())
    assert hook(Pair("q", "other"), pool([1, 2, 4])).indices.tolist() == [4]


def test_mining_computes_signatures_window_by_window_in_a_bounded_memo(tmp_path, monkeypatch):
    """The signature memo holds at most MEMO_ENTRIES plus one window's rows, whatever the corpus: mining
    prefetches per window of pairs and the memo empties itself; the mined file is the same as in one window."""
    import dataclasses

    import negmine.audit.near_dup as near_dup
    import negmine.audit.near_dup_hook as hook_module
    from negmine.config import EngineConfig
    from negmine.demo import demo_path

    sizes, prefetched = [], []
    real_lookup, real_prefetch = near_dup.SignatureMemo.lookup, near_dup.SignatureMemo.prefetch

    def lookup(self, *args, **kwargs):
        out = real_lookup(self, *args, **kwargs)
        sizes.append(len(self._memo))
        return out

    def prefetch(self, keys, *args, **kwargs):
        prefetched.append(len(keys))
        return real_prefetch(self, keys, *args, **kwargs)

    monkeypatch.setattr(near_dup, "PARALLEL_MIN", 1)
    monkeypatch.setattr(near_dup.SignatureMemo, "lookup", lookup)
    monkeypatch.setattr(near_dup.SignatureMemo, "prefetch", prefetch)

    def run(name):
        sizes.clear(), prefetched.clear()
        base = config(demo_path(), tmp_path / f"{name}.jsonl")
        result = mine(dataclasses.replace(base, engine=EngineConfig(workers=2)), embedder=HashEmbedder())
        return result, max(sizes), list(prefetched)

    whole, whole_peak, whole_prefetch = run("whole")
    assert len(whole_prefetch) == 1, "the demo's pools fit one window at the real cap"
    monkeypatch.setattr(hook_module, "MEMO_ENTRIES", 120)  # depth 100: windows of 1 pair
    windowed, peak, windows = run("windowed")
    assert len(windows) == whole.summary["pairs_in"] and max(windows) <= 100, "a prefetch per pair's pool"
    assert peak <= 120 + 100 < whole_peak == 300, "the cap plus one window's rows, below the whole corpus"
    assert (tmp_path / "whole.jsonl").read_bytes() == (tmp_path / "windowed.jsonl").read_bytes()
    assert whole.summary["candidates_removed_by_filter"] == windowed.summary["candidates_removed_by_filter"]


def test_chinese_near_copies_of_a_positive_are_excluded_by_shingle_overlap():
    positive = "机器学习是人工智能的一个分支，它使计算机能够从数据中学习而无需明确编程。深度学习使用具有多层的神经网络。"
    texts = [positive, positive.replace("多层", "许多层"), "气候变化影响全球的农业生产和粮食安全，各国需要共同应对。"]
    data = Dataset(Corpus(["pos", "copy", "other"], texts), Queries(["q"], ["什么是机器学习"]), Qrels({"q": {"pos": 1}}))
    removed = Counter()
    hook = NearDuplicateHook(NearDupConfig(cosine=None, overlap=0.5), data, None, removed)
    assert hook(Pair("q", "pos"), pool([1, 2])).indices.tolist() == [2] and removed[REMOVED_KEY] == 1
