import hashlib
import json
import os
import re
from dataclasses import asdict, replace

import pytest

from negmine.config import TrainConfig
from negmine.errors import ConfigError, NegmineWarning
from negmine.train.run_settings import (
    SETTINGS_NAME, TRAIN_FILE_FACTS, check_resume_settings, differences, file_facts, record_run_settings,
    run_settings,
)


def test_differences_name_the_nested_setting_and_count_an_unrecorded_one_at_its_default():
    old = {"lr": 1, "dev": {"steps": 10, "split": "dev"}, "mine": None}
    new = {"lr": 1, "dev": {"steps": 20, "split": "dev"}, "mine": {"k": 1}, "device": "cpu", "dims": [8]}
    assert differences(old, new, {"device": "cpu", "dims": None}) == [
        "dev.steps 10 -> 20", "dims None -> [8]", "mine None -> {'k': 1}"]


def test_the_recorded_settings_leave_out_what_may_change_and_name_the_training_file_by_its_bytes(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text('{"a": 1}\n')
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "out", show_progress=False, resume=True)
    settings = run_settings(config)
    assert not {"resume", "show_progress", "output_dir"} & set(settings)
    assert settings["train_file"] == "sha256:" + hashlib.sha256(b'{"a": 1}\n').hexdigest()
    record_run_settings(config, tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / SETTINGS_NAME).read_text()) == {**settings, TRAIN_FILE_FACTS: file_facts(mined)}
    check_resume_settings(config, tmp_path / "ckpt")  # the same settings: no error


def test_a_resume_on_another_training_file_names_it_now_and_then_in_rows_bytes_and_time(tmp_path):
    """The refusal showed two sha256 digests (train_file 'sha256:27d6...' -> 'sha256:7ce4...'): nothing a person can
    check against the file. It names the file, its rows, bytes and modification time now and when the run started
    (recorded since; a record without them says so), and the two ways on."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text('{"a": 1}\n{"a": 2}\n\n', encoding="utf-8")
    os.utime(mined, (0, 1_700_000_000))
    config = TrainConfig(train_file=mined)
    record_run_settings(config, tmp_path / "ckpt")
    assert json.loads((tmp_path / "ckpt" / SETTINGS_NAME).read_text())[TRAIN_FILE_FACTS] == {
        "path": str(mined.resolve()), "rows": 2, "bytes": 19, "modified": "2023-11-14 22:13:20 UTC"}
    before = hashlib.sha256(mined.read_bytes()).hexdigest()[:12]
    mined.write_text('{"a": 1}\n', encoding="utf-8")
    os.utime(mined, (0, 1_700_000_060))
    after = hashlib.sha256(mined.read_bytes()).hexdigest()[:12]
    now = f"now 1 row, 9 bytes, modified 2023-11-14 22:14:20 UTC, sha256 {after}; then "
    way_on = "; restore that file and resume, or train on this one afresh, without --resume, into a new -o folder. "
    with pytest.raises(ConfigError, match=re.escape(
            f"(recorded in {SETTINGS_NAME}; the checkpoint's -> now): train_file {mined.resolve()} is not the file the "
            f"run started with: {now}2 rows, 19 bytes, modified 2023-11-14 22:13:20 UTC, sha256 {before}{way_on}")):
        check_resume_settings(config, tmp_path / "ckpt")
    recorded = json.loads((tmp_path / "ckpt" / SETTINGS_NAME).read_text())
    del recorded[TRAIN_FILE_FACTS]  # recorded by a negmine before them: still read
    (tmp_path / "ckpt" / SETTINGS_NAME).write_text(json.dumps(recorded))
    with pytest.raises(ConfigError, match=re.escape(
            f"train_file {mined.resolve()} is not the file the run started with: {now}sha256 {before} (its rows, "
            f"bytes and time were not recorded: the run started under an older negmine){way_on}")):
        check_resume_settings(config, tmp_path / "ckpt")
    mined.write_text('{"a": 1}\n{"a": 2}\n\n', encoding="utf-8")  # restored: resumes
    check_resume_settings(config, tmp_path / "ckpt")


def test_checkpoints_without_recorded_settings_resume_with_a_warning(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    with pytest.warns(NegmineWarning) as caught:
        check_resume_settings(TrainConfig(train_file=mined), tmp_path)
    expected = f"{tmp_path / SETTINGS_NAME} not found: the settings of the run being resumed cannot be checked"
    assert [str(w.message) for w in caught if issubclass(w.category, NegmineWarning)] == [expected]


def test_a_resume_on_another_device_is_refused_saying_why_and_what_to_do(tmp_path):
    """The refusal named only ``device 'cuda' -> 'cpu'``, with the generic fix; resuming a GPU run on the CPU (its
    machine gone) is the likely case, and the user needs to know it would give other weights."""
    import pytest

    from negmine.errors import ConfigError

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    record_run_settings(TrainConfig(train_file=mined, device="cuda"), tmp_path)
    message = (r"^--resume: 1 setting\(s\) differ .*: device 'cuda' -> 'cpu'\. The run trained on cuda: on cpu the "
               r"same steps compute with other kernels \(other rounding, another precision under --precision auto\) "
               r"and draw dropout masks from another random generator, so the weights would be those of no single run\. "
               r"Resume on cuda \(--device cuda\), or start a new run on cpu with another --output directory\. Resume "
               r"with the run's own settings, or choose a new --output directory to train with these \(only "
               r"--checkpoint-steps, --no-checkpoints, --logging-steps and --no-progress may change\)$")
    with pytest.raises(ConfigError, match=message):
        check_resume_settings(TrainConfig(train_file=mined, device="cpu"), tmp_path)


def test_the_checkpoint_and_logging_cadence_may_change_on_resume_and_are_named(tmp_path):
    from negmine.train.run_settings import cadence_changes

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, checkpoint_steps=500, logging_steps=10)
    record_run_settings(config, tmp_path)
    again = replace(config, checkpoint_steps=None, logging_steps=1)
    check_resume_settings(again, tmp_path)  # no error
    assert cadence_changes(again, tmp_path) == ["checkpoint_steps 500 -> None", "logging_steps 10 -> 1"]
    assert cadence_changes(config, tmp_path) == []


def test_a_resume_may_not_change_the_matryoshka_dims_per_step_and_runs_recorded_before_it_trained_all(tmp_path):
    """Sampling other dims per step trains other weights, so it is compared on resume like the dims; a run
    recorded before the setting existed trained every dim at each step (-1)."""
    import pytest

    from negmine.errors import ConfigError

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, matryoshka_dims=(32, 16, 8), matryoshka_dims_per_step=2)
    record_run_settings(config, tmp_path)
    assert json.loads((tmp_path / SETTINGS_NAME).read_text())["matryoshka_dims_per_step"] == 2
    check_resume_settings(config, tmp_path)  # the same: no error
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: matryoshka_dims_per_step 2 -> -1\. "):
        check_resume_settings(replace(config, matryoshka_dims_per_step=-1), tmp_path)
    recorded = json.loads((tmp_path / SETTINGS_NAME).read_text())
    del recorded["matryoshka_dims_per_step"]
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(recorded))
    check_resume_settings(replace(config, matryoshka_dims_per_step=-1), tmp_path)
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: matryoshka_dims_per_step -1 -> 2\. "):
        check_resume_settings(config, tmp_path)


def test_the_cadence_changes_name_every_value_a_checkpoints_log_holds_in_order(tmp_path):
    """Comparing the run's first value with the last resume's lost those in between (``10 -> 1`` for a run resumed
    at 5, then at 1), and named no change for ``10 -> 5 -> 10``."""
    from negmine.train.run_settings import CADENCE_LOG_KEYS, cadence_changes

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, checkpoint_steps=500, logging_steps=10)
    record_run_settings(config, tmp_path)

    def logged(checkpoint_steps, logging_steps, step):
        return {"loss": 1.0, "step": step, CADENCE_LOG_KEYS["checkpoint_steps"]: checkpoint_steps,
                CADENCE_LOG_KEYS["logging_steps"]: logging_steps}

    checkpoint = tmp_path / "checkpoint-30"
    checkpoint.mkdir()
    history = [{"loss": 2.0, "step": 1},  # logged by a negmine that did not record the cadence: skipped
               logged(500, 10, 10), {"eval_dev_ndcg@10": 0.5, "step": 10}, logged(500, 5, 15), logged(500, 5, 20),
               logged(None, 10, 30)]
    (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": 30, "log_history": history}))
    now = replace(config, checkpoint_steps=7, logging_steps=1)
    assert cadence_changes(now, tmp_path, checkpoint) == ["checkpoint_steps 500 -> None -> 7",
                                                          "logging_steps 10 -> 5 -> 10 -> 1"]
    assert cadence_changes(replace(config, checkpoint_steps=None), tmp_path, checkpoint) == [
        "checkpoint_steps 500 -> None", "logging_steps 10 -> 5 -> 10"]
    assert cadence_changes(now, tmp_path) == ["checkpoint_steps 500 -> 7", "logging_steps 10 -> 1"]  # no log read
    (checkpoint / "trainer_state.json").write_text('{"global_step": 30, "log_hi')  # unreadable: the first value
    assert cadence_changes(now, tmp_path, checkpoint) == ["checkpoint_steps 500 -> 7", "logging_steps 10 -> 1"]


def test_under_keep_best_a_checkpoint_steps_change_is_not_named_it_saved_nothing(tmp_path):
    """With --keep-best a checkpoint is saved at every evaluation and nowhere else: a resume with another
    --checkpoint-steps changed nothing, yet ``resume_changes`` listed ``checkpoint_steps 500 -> 2``."""
    from negmine.config import DevEvalConfig
    from negmine.train.run_settings import cadence_changes

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, checkpoint_steps=500, logging_steps=10,
                         dev=DevEvalConfig(data_dir=tmp_path, steps=5, keep_best=True))
    record_run_settings(config, tmp_path)
    assert cadence_changes(replace(config, checkpoint_steps=2), tmp_path) == []
    assert cadence_changes(replace(config, checkpoint_steps=2, logging_steps=1), tmp_path) == ["logging_steps 10 -> 1"]
    without = replace(config, dev=replace(config.dev, keep_best=False))
    record_run_settings(without, tmp_path)
    assert cadence_changes(replace(without, checkpoint_steps=2), tmp_path) == ["checkpoint_steps 500 -> 2"]


def test_settings_recorded_with_precision_auto_compare_as_what_auto_resolves_to(tmp_path, monkeypatch):
    """Settings recorded before the precision was resolved hold ``auto``: taken as what it resolves to here on the
    run's device, so ``--precision auto`` still resumes them, as does the precision it resolves to; not another."""
    import pytest

    import negmine.encode.precision as precision
    from negmine.errors import ConfigError

    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda *a, **k: True)
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined, precision="auto")
    record_run_settings(config, tmp_path)
    assert json.loads((tmp_path / SETTINGS_NAME).read_text())["precision"] == "bf16"
    older = json.loads((tmp_path / SETTINGS_NAME).read_text())
    (tmp_path / SETTINGS_NAME).write_text(json.dumps({**older, "precision": "auto"}))
    check_resume_settings(config, tmp_path)
    check_resume_settings(replace(config, precision="bf16"), tmp_path)
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: precision 'bf16' -> 'fp32'\. Resume with"):
        check_resume_settings(replace(config, precision="fp32"), tmp_path)


@pytest.mark.parametrize(("content", "problem"), [
    (b'{"batch_size": 4,\n', r":2: invalid JSON: Expecting property name enclosed in double quotes$"),
    (b'{"note": "caf\xe9"}', r":1: not valid UTF-8 \(byte 14 of the line\); save the file as UTF-8 \(e\.g\. iconv -f "
                             r"latin1 -t utf-8 negmine_run_settings\.json > utf8-negmine_run_settings\.json\)$"),
    (b"[1, 2]", r": must hold a JSON object \(the settings negmine train recorded when the run started\), got array; "
                r"restore it, or train into a new --output directory$"),
])
def test_recorded_settings_that_cannot_be_read_are_named_not_a_traceback(tmp_path, content, problem):
    """A settings file cut short, saved in another encoding or replaced ended a resume in a JSONDecodeError,
    UnicodeDecodeError or AttributeError traceback."""
    from negmine.errors import InputError

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    (tmp_path / SETTINGS_NAME).write_bytes(content)
    with pytest.raises(InputError, match="^" + re.escape(str(tmp_path / SETTINGS_NAME)) + problem):
        check_resume_settings(TrainConfig(train_file=mined), tmp_path)


def test_recorded_settings_with_a_byte_order_mark_are_read(tmp_path):
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined)
    record_run_settings(config, tmp_path)
    (tmp_path / SETTINGS_NAME).write_bytes(b"\xef\xbb\xbf" + (tmp_path / SETTINGS_NAME).read_bytes())
    check_resume_settings(config, tmp_path)  # the same settings: no error
    with pytest.raises(ConfigError, match=r"--resume: 1 setting\(s\) differ .*: batch_size 32 -> 8\."):
        check_resume_settings(replace(config, batch_size=8), tmp_path)


def _remining(tmp_path, **encoder):
    """A re-mining TrainConfig whose mining configuration has the ``encoder`` settings given."""
    from negmine.config import DataConfig, EncoderConfig, MineConfig

    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    mine = MineConfig(data=DataConfig(data_dir=tmp_path), encoder=EncoderConfig(model="mined-with", **encoder))
    return TrainConfig(train_file=mined, remine_steps=5, mine=mine)


def test_a_resume_whose_mining_summary_differs_only_in_its_progress_and_device_is_not_refused(tmp_path):
    """The settings file recorded the mining run's show_progress and device (re-mining draws no bar and runs on the
    run's --device), so a resume with the file's summary rewritten by a run mined with --no-progress was refused.
    Settings files written before they were left out still resume; another mining setting is still refused."""
    config = _remining(tmp_path, show_progress=True, device="cpu")
    record_run_settings(config, tmp_path)
    recorded = json.loads((tmp_path / SETTINGS_NAME).read_text())["mine"]["encoder"]
    assert not {"show_progress", "device"} & recorded.keys()
    quiet = replace(config, mine=replace(config.mine, encoder=replace(config.mine.encoder, show_progress=False)))
    check_resume_settings(quiet, tmp_path)
    older = json.loads((tmp_path / SETTINGS_NAME).read_text())  # as the code before wrote it: with both
    older["mine"]["encoder"].update(show_progress=True, device="cpu")
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(older))
    check_resume_settings(quiet, tmp_path)
    check_resume_settings(config, tmp_path)
    other = replace(quiet, mine=replace(quiet.mine, encoder=replace(quiet.mine.encoder, batch_size=8)))
    with pytest.raises(ConfigError, match=r"--resume: 1 setting\(s\) differ .*: mine\.encoder\.batch_size 64 -> 8\."):
        check_resume_settings(other, tmp_path)


def test_a_resume_whose_mining_summary_differs_only_in_workers_cache_work_folder_or_output_is_not_refused(tmp_path):
    """Settings that cannot change a mined row (pipeline.recorded_config.RUN_ONLY_FIELDS) were recorded and
    compared: a resume with a mining summary of the same data mined with other --workers, another cache or work
    folder, or into another file was refused. A settings file that recorded them (before) still resumes."""
    config = _remining(tmp_path)
    record_run_settings(config, tmp_path)
    recorded = json.loads((tmp_path / SETTINGS_NAME).read_text())
    assert "output" not in recorded["mine"] and "workers" not in recorded["mine"]["engine"]
    mine = config.mine
    moved = replace(config, mine=replace(
        mine, encoder=replace(mine.encoder, cache_dir=tmp_path / "c", use_cache=False),
        engine=replace(mine.engine, workers=2, work_dir=tmp_path / "w", keep_work=True),
        output=replace(mine.output, path=tmp_path / "elsewhere.jsonl", formats=("triplet",))))
    check_resume_settings(moved, tmp_path)
    older = {**recorded, "mine": json.loads(json.dumps(asdict(mine), default=str))}  # with every field
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(older))
    check_resume_settings(moved, tmp_path)
    other = replace(moved, mine=replace(moved.mine, engine=replace(moved.mine.engine, encode_shard_size=7)))
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: mine\.engine\.encode_shard_size 8192 -> 7\."):
        check_resume_settings(other, tmp_path)


def test_a_resume_whose_mining_strategy_params_differ_is_refused_and_one_recorded_before_them_resumes(tmp_path):
    """Re-mining runs the strategy with its params (``SelectConfig.strategy_params``): another value is another
    selection, so a resume with it is refused; a settings file written before the field existed counts it at its
    default (none) and resumes a run without params."""
    config = _remining(tmp_path)
    params = replace(config, mine=replace(config.mine, select=replace(config.mine.select, strategy="every-nth",
                                                                      strategy_params={"step": 2})))
    record_run_settings(params, tmp_path)
    assert json.loads((tmp_path / SETTINGS_NAME).read_text())["mine"]["select"]["strategy_params"] == [["step", 2]]
    check_resume_settings(params, tmp_path)
    other = replace(params, mine=replace(params.mine, select=replace(params.mine.select, strategy_params={"step": 3})))
    with pytest.raises(ConfigError, match=re.escape(
            f"1 setting(s) differ from those the checkpoints in {tmp_path} were trained with (recorded in "
            f"{SETTINGS_NAME}; the checkpoint's -> now): mine.select.strategy_params [['step', 2]] -> [['step', 3]].")):
        check_resume_settings(other, tmp_path)
    record_run_settings(config, tmp_path)
    older = json.loads((tmp_path / SETTINGS_NAME).read_text())
    del older["mine"]["select"]["strategy_params"]
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(older))
    check_resume_settings(config, tmp_path)


@pytest.mark.parametrize("older", ["null", "missing"])
def test_a_run_recorded_before_auto_trained_with_the_models_own_attention_dropout(tmp_path, older):
    """attention_dropout None (or no such key) was the model's own dropout: resuming it under the default auto
    (0 on a CPU) would change the dropout mid-run, so it is refused with the option that keeps it."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    config = TrainConfig(train_file=mined)
    record_run_settings(config, tmp_path)
    recorded = json.loads((tmp_path / SETTINGS_NAME).read_text())
    assert recorded["attention_dropout"] == "auto"
    check_resume_settings(config, tmp_path)  # auto resumes auto
    if older == "null":
        recorded["attention_dropout"] = None
    else:
        del recorded["attention_dropout"]
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(recorded))
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: attention_dropout 'model' -> 'auto' \(the run "
                                          r"trained with the model's own attention dropout: resume with "
                                          r"--attention-dropout model\)\. "):
        check_resume_settings(config, tmp_path)
    check_resume_settings(replace(config, attention_dropout="model"), tmp_path)


def test_a_re_mining_run_resumes_with_its_mining_summary_read_again_or_its_config_rebuilt_from_its_record(
        tmp_path, monkeypatch):
    """negmine train --resume of a re-mining run: the mining config read from the mined file's summary, as
    negmine train reads it (data paths relative, as typed to negmine mine; a cache folder, a progress setting and
    an output file that the record leaves out), and the TrainConfig rebuilt from negmine_train.json's record, both
    give the settings the run started with. Another mining setting in the summary is still refused."""
    from negmine.config import DataConfig, EncoderConfig, MineConfig, OutputConfig
    from negmine.pipeline.recorded_config import config_from_dict, load_mine_config, recorded_train_config
    from negmine.testing.beir import write_beir

    monkeypatch.chdir(tmp_path)
    write_beir(tmp_path / "beir", {"d1": "cell gene"}, {"q1": "gene"}, [("q1", "d1", 1)])
    mined = tmp_path / "neg.jsonl"
    mined.write_text("{}\n")
    mine = MineConfig(data=DataConfig(data_dir="beir"), encoder=EncoderConfig(cache_dir="cache", show_progress=False),
                      output=OutputConfig(path=mined))
    summary = tmp_path / "neg.summary.json"
    summary.write_text(json.dumps({"config": json.loads(json.dumps(asdict(mine), default=str))}))
    config = TrainConfig(train_file=mined, output_dir=tmp_path / "out", remine_steps=2,
                         mine=load_mine_config(mined))
    record_run_settings(config, tmp_path / "ckpt")
    check_resume_settings(replace(config, mine=load_mine_config(mined)), tmp_path / "ckpt")
    rebuilt = config_from_dict(TrainConfig, recorded_train_config(config))
    assert recorded_train_config(rebuilt) == recorded_train_config(config)
    check_resume_settings(rebuilt, tmp_path / "ckpt")
    summary.write_text(json.dumps({"config": json.loads(json.dumps(
        asdict(replace(mine, select=replace(mine.select, num_negatives=3))), default=str))}))
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: mine\.select\.num_negatives 5 -> 3\."):
        check_resume_settings(replace(config, mine=load_mine_config(mined)), tmp_path / "ckpt")


@pytest.mark.parametrize(("field", "value", "others"), [
    pytest.param("additive_margin", 0.05, (0.1, 0.0), id="additive_margin"),
    pytest.param("focal_gamma", 1.0, (0.0,), id="focal_gamma"),
])
def test_a_resume_with_another_loss_option_is_refused_and_settings_without_the_field_count_it_at_0(
        tmp_path, field, value, others):
    """The additive margin and focal_gamma change the loss, as debias_prior does: recorded, and a resume with another
    is refused; a settings file written before the field existed counts it at its default (0, off)."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text('{"a": 1}\n')
    config = TrainConfig(train_file=mined, **{field: value})
    record_run_settings(config, tmp_path)
    assert json.loads((tmp_path / SETTINGS_NAME).read_text())[field] == value
    check_resume_settings(config, tmp_path)
    for other in others:
        with pytest.raises(ConfigError, match=re.escape(
                f"1 setting(s) differ from those the checkpoints in {tmp_path} were trained with (recorded in "
                f"{SETTINGS_NAME}; the checkpoint's -> now): {field} {value} -> {other}.")):
            check_resume_settings(replace(config, **{field: other}), tmp_path)
    older = json.loads((tmp_path / SETTINGS_NAME).read_text())
    del older[field]
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(older))
    check_resume_settings(replace(config, **{field: 0.0}), tmp_path)
    with pytest.raises(ConfigError, match=re.escape(f"{field} 0.0 -> {value}.")):
        check_resume_settings(config, tmp_path)


def _recorded_with_dropout(tmp_path, config, trained, own=0.1):
    """``config``'s settings recorded by a run whose model negmine recognises, of attention dropout ``own``, that
    trained with ``trained``."""
    record_run_settings(config, tmp_path, {"trained": trained, "recognised": True, "model_own": own})


def test_a_resume_compares_the_attention_dropout_each_setting_trains_with(tmp_path):
    """``--resume`` compared ``--attention-dropout`` as given: a CPU run started with ``auto`` (0 there) was refused
    when resumed with ``0``, and one started with ``model`` when resumed with the model's own number. It compares what
    each trains with, from what the run recorded of its model; a real change is refused as before."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    auto = TrainConfig(train_file=mined)
    _recorded_with_dropout(tmp_path, auto, 0.0)
    assert json.loads((tmp_path / SETTINGS_NAME).read_text())["attention_dropout_facts"] == {
        "trained": 0.0, "recognised": True, "model_own": 0.1}
    check_resume_settings(replace(auto, attention_dropout=0.0), tmp_path)
    for other, shown in [("model", "'model'"), (0.1, "0.1")]:
        with pytest.raises(ConfigError, match=re.escape(f"1 setting(s) differ") + ".*" + re.escape(
                f": attention_dropout 'auto' -> {shown}. Resume with the run's own settings")):
            check_resume_settings(replace(auto, attention_dropout=other), tmp_path)
    own = replace(auto, attention_dropout="model")
    _recorded_with_dropout(tmp_path, own, "model")
    check_resume_settings(replace(auto, attention_dropout=0.1), tmp_path)
    with pytest.raises(ConfigError, match=re.escape(
            "attention_dropout 'model' -> 0.0 (the run trained with the model's own attention dropout: resume with "
            "--attention-dropout model). ")):
        check_resume_settings(replace(auto, attention_dropout=0.0), tmp_path)
    with pytest.raises(ConfigError, match=re.escape("attention_dropout 'model' -> 'auto' (the run trained with")):
        check_resume_settings(auto, tmp_path)  # 0 on a CPU


def test_the_models_own_attention_dropout_is_known_only_for_the_model_the_run_recorded(tmp_path):
    """What the run recorded of its model says nothing of another one (itself refused): a number is compared with
    ``model`` as given there."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    own = TrainConfig(train_file=mined, attention_dropout="model")
    _recorded_with_dropout(tmp_path, own, "model")
    with pytest.raises(ConfigError, match=r"2 setting\(s\) differ .*: attention_dropout 'model' -> 0\.1 \(the run .*; "
                                          r"model '.*' -> 'other/model'\. "):
        check_resume_settings(replace(own, attention_dropout=0.1, model="other/model"), tmp_path)


def test_auto_off_a_cpu_resumes_a_run_recorded_before_auto_or_its_facts(tmp_path):
    """Settings recorded before ``auto`` (the model's own) or before the facts of the run's model: off a CPU ``auto``
    is the model's own whatever the model, so a GPU run started before ``auto`` resumes under the default; on a CPU
    (0 for a model whose attention dropout negmine recognises, not known without loading it) it stays refused
    (test_a_run_recorded_before_auto_trained_with_the_models_own_attention_dropout), as ``auto`` and ``0`` do."""
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    gpu = TrainConfig(train_file=mined, device="cuda", precision="fp32")
    record_run_settings(gpu, tmp_path)
    recorded = json.loads((tmp_path / SETTINGS_NAME).read_text())
    assert "attention_dropout_facts" not in recorded
    del recorded["attention_dropout"]
    (tmp_path / SETTINGS_NAME).write_text(json.dumps(recorded))
    check_resume_settings(gpu, tmp_path)
    check_resume_settings(replace(gpu, attention_dropout="model"), tmp_path)
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: attention_dropout 'model' -> 0\.1 \(the run "):
        check_resume_settings(replace(gpu, attention_dropout=0.1), tmp_path)  # the model's own is not known
    cpu = TrainConfig(train_file=mined)
    record_run_settings(cpu, tmp_path)
    with pytest.raises(ConfigError, match=r"1 setting\(s\) differ .*: attention_dropout 'auto' -> 0\.0\. "):
        check_resume_settings(replace(cpu, attention_dropout=0.0), tmp_path)
