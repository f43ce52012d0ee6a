from __future__ import annotations

import json

from negmine.encode.damaged_json import damaged_json_error


def _folder(root, files: dict[str, bytes]):
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


GOOD = json.dumps({"model_type": "bert"}).encode()


def test_a_folder_whose_json_files_all_read_gives_no_error(tmp_path):
    folder = _folder(tmp_path / "m", {"config.json": GOOD, "modules.json": b"[]", "1_Pooling/config.json": GOOD})
    assert damaged_json_error("model", "m", folder) is None
    assert damaged_json_error("model", "m", None) is None
    assert damaged_json_error("model", "m", tmp_path / "absent") is None


def test_a_broken_json_file_the_loaders_do_not_read_is_not_blamed(tmp_path):
    """A training run's summary or an eval's results beside the model is no cause of a failed load."""
    folder = _folder(tmp_path / "m", {"config.json": GOOD, "negmine_train.json": b"{", "checkpoints/x/config.json": b"{"})
    assert damaged_json_error("model", "m", folder) is None


def test_the_file_the_loaders_read_first_is_named_with_where_it_breaks(tmp_path):
    folder = _folder(tmp_path / "m", {"modules.json": b'[\n  {"idx": 0,\n', "config.json": b"{"})
    error = damaged_json_error("model", "m", folder)
    assert str(error) == (
        f"could not load model 'm': its file {folder / 'modules.json'} is not valid JSON: Expecting property name "
        "enclosed in double quotes (line 3, column 1); it is damaged or cut short (a copy or download that stopped?): "
        "copy, download or save the model again")


def test_invalid_utf8_is_named_with_its_byte(tmp_path):
    folder = _folder(tmp_path / "m", {"tokenizer_config.json": b'{"a": "caf\xe9"}'})
    error = damaged_json_error("cross-encoder", "ce", folder)
    assert str(error).startswith(f"could not load cross-encoder 'ce': its file {folder / 'tokenizer_config.json'} is "
                                 "not valid UTF-8 (byte 11 of 13); it is damaged or cut short")


def test_a_cached_hub_model_is_downloaded_again_by_deleting_its_cache_folder(tmp_path):
    """The hub client trusts the files it finds in its cache: saving or copying is no fix for a hub name."""
    repo = tmp_path / "hub" / "models--org--name"
    folder = _folder(repo / "snapshots" / "abc123", {"config.json": b'{"model_type": "be'})
    error = damaged_json_error("model", "org/name", folder)
    assert str(error) == (
        f"could not load model 'org/name': its file {folder / 'config.json'} is not valid JSON: Unterminated string "
        f"starting at (line 1, column 16); it is damaged or cut short (a copy or download that stopped?): download "
        f"the model again: delete its Hugging Face cache folder {repo} and load it again")
