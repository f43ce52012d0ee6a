import hashlib
import json

from negmine.config import TrainConfig
from negmine.train.run_settings import (
    SETTINGS_NAME, check_resume_settings, differences, record_run_settings, run_settings,
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
    assert json.loads((tmp_path / "ckpt" / SETTINGS_NAME).read_text()) == settings
    check_resume_settings(config, tmp_path / "ckpt")  # the same settings: no error


def test_checkpoints_without_recorded_settings_resume_with_a_warning(tmp_path, caplog):
    mined = tmp_path / "mined.jsonl"
    mined.write_text("{}\n")
    with caplog.at_level("WARNING", logger="negmine.train.run_settings"):
        check_resume_settings(TrainConfig(train_file=mined), tmp_path)
    expected = f"{tmp_path / SETTINGS_NAME} not found: the settings of the run being resumed cannot be checked"
    assert expected in caplog.text
