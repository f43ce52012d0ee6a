import json

import pytest

from negmine.encode.snapshot_files import incomplete_snapshot_error, missing_files
from negmine.errors import ConfigError


def _files(folder, *names):
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    return folder


def _modules(folder, *modules):
    listed = [{"idx": i, "name": str(i), "path": path, "type": kind} for i, (path, kind) in enumerate(modules)]
    (folder / "modules.json").write_text(json.dumps(listed))


def test_a_transformers_snapshot_lacks_its_config_weights_and_vocabulary(tmp_path):
    assert missing_files(_files(tmp_path, "config.json", "model.safetensors", "vocab.txt")) == []
    assert missing_files(_files(tmp_path / "bin", "config.json", "pytorch_model.bin", "tokenizer.json")) == []
    assert missing_files(_files(tmp_path / "part", "config.json", "tokenizer_config.json")) == [
        "model.safetensors (or pytorch_model.bin)", "tokenizer.json (or the vocabulary file its tokenizer reads)"]
    assert missing_files(_files(tmp_path / "no-config", "model.safetensors", "spiece.model")) == ["config.json"]


def test_a_sharded_snapshot_lacks_the_shards_its_index_lists(tmp_path):
    folder = _files(tmp_path, "config.json", "tokenizer.json", "model-00001-of-00002.safetensors")
    (folder / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
        "c": "model-00002-of-00002.safetensors"}}))
    assert missing_files(folder) == ["model-00002-of-00002.safetensors"]
    (folder / "model.safetensors.index.json").write_text("{")  # damaged: damaged_json_error names it
    assert missing_files(folder) == []


def test_a_sentence_transformers_snapshot_lacks_what_its_modules_read(tmp_path):
    """The Transformer module's files at its path (the folder itself, or a sub-folder), and the config.json of a
    Pooling or Dense module; Normalize and unknown modules read nothing this knows of."""
    folder = _files(tmp_path, "config.json", "tokenizer.json", "2_Dense/config.json")
    _modules(folder, ("", "sentence_transformers.models.Transformer"),
             ("1_Pooling", "sentence_transformers.models.Pooling"), ("2_Dense", "sentence_transformers.models.Dense"),
             ("3_Normalize", "sentence_transformers.models.Normalize"), ("4_Mine", "my_package.Custom"))
    assert missing_files(folder) == ["model.safetensors (or pytorch_model.bin)", "1_Pooling/config.json"]
    nested = _files(tmp_path / "nested", "0_Transformer/config.json", "0_Transformer/model.safetensors")
    _modules(nested, ("0_Transformer", "sentence_transformers.base.modules.transformer.Transformer"))
    assert missing_files(nested) == ["0_Transformer/tokenizer.json (or the vocabulary file its tokenizer reads)"]
    (nested / "modules.json").write_text("[")
    assert missing_files(nested) == []


@pytest.fixture
def fake_cache(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path / "hf-cache"


def test_the_error_names_the_commit_the_files_and_the_fix_and_none_when_nothing_is_missing(fake_cache, tmp_path,
                                                                                        monkeypatch):
    from negmine.testing.hub_cache import write_cached_model

    model = _files(tmp_path / "model", "config.json", "vocab.txt")
    snapshot = write_cached_model(fake_cache, "cross-encoder/tiny", model, "a" * 40)
    failure = OSError("cross-encoder/tiny does not appear to have a file named pytorch_model.bin or model.safetensors.")
    error = incomplete_snapshot_error("cross-encoder", "tiny", "cross-encoder", failure)
    assert isinstance(error, ConfigError)
    assert str(error) == (
        f"could not load cross-encoder 'tiny': commit '{'a' * 40}' of cross-encoder/tiny in the Hugging Face cache "
        f"({snapshot}) lacks model.safetensors (or pytorch_model.bin), as a download that stopped part way leaves "
        f"it; HF_HUB_OFFLINE=1 forbids fetching it: fetch it with network (`hf download cross-encoder/tiny "
        f"--revision {'a' * 40}`), or run the command with network, without HF_HUB_OFFLINE: the load then fetches "
        "that commit's missing files (OSError: cross-encoder/tiny does not appear to have a file named "
        "pytorch_model.bin or model.safetensors.)")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert "; fetching it failed: check the connection and run the command again, or fetch it (`hf download " \
           f"cross-encoder/tiny --revision {'a' * 40}`) (OSError" in str(
               incomplete_snapshot_error("cross-encoder", "tiny", "cross-encoder", failure))
    assert incomplete_snapshot_error("cross-encoder", "other", "cross-encoder", failure) is None  # not cached
    assert incomplete_snapshot_error("cross-encoder", str(model), "cross-encoder", failure) is None  # a folder
    (snapshot / "model.safetensors").write_text("")
    assert incomplete_snapshot_error("cross-encoder", "tiny", "cross-encoder", failure) is None  # all there
