"""A model folder's files' fingerprint, read without loading it: the same files anywhere, one fingerprint."""

from __future__ import annotations

import json
import shutil

from negmine.encode.folder_fingerprint import folder_fingerprint, model_files


def test_a_copy_elsewhere_has_the_folders_fingerprint_and_a_changed_weight_another(tmp_path, tiny_model_path):
    copy = shutil.copytree(tiny_model_path, tmp_path / "somewhere" / "else")
    assert folder_fingerprint(copy) == folder_fingerprint(tiny_model_path)
    assert folder_fingerprint(copy).startswith("files-")
    weights = copy / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of the last weight
    weights.write_bytes(bytes(data))
    assert folder_fingerprint(copy) != folder_fingerprint(tiny_model_path)


def test_the_files_loading_reads_count_hidden_files_the_model_card_and_other_folders_do_not(tmp_path):
    """A module folder modules.json names (a Pooling config) changes it; a hub download's .cache, README.md and a
    training run's checkpoints folder do not."""
    folder = tmp_path / "m"
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "modules.json").write_text(json.dumps([{"idx": 0, "path": ""}, {"idx": 1, "path": "1_Pooling"}]),
                                         encoding="utf-8")
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_mean_tokens": true}', encoding="utf-8")
    before = folder_fingerprint(folder)
    assert [name for name, _ in model_files(folder)] == ["1_Pooling/config.json", "config.json", "modules.json"]
    (folder / ".cache" / "huggingface").mkdir(parents=True)
    (folder / ".cache" / "huggingface" / "download.lock").write_text("t=1", encoding="utf-8")
    (folder / "README.md").write_text("# a card", encoding="utf-8")
    (folder / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    (folder / "checkpoints" / "checkpoint-5" / "model.safetensors").write_bytes(b"old")
    assert folder_fingerprint(folder) == before
    (folder / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}', encoding="utf-8")
    assert folder_fingerprint(folder) != before


def test_a_file_moved_to_another_name_changes_it_and_a_non_folder_has_none(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "a.json").write_text("{}", encoding="utf-8")
    before = folder_fingerprint(folder)
    (folder / "a.json").rename(folder / "b.json")
    assert folder_fingerprint(folder) != before
    assert folder_fingerprint(folder / "b.json") is None
    assert folder_fingerprint(tmp_path / "missing") is None
    assert folder_fingerprint(None) is None
