"""A local model folder's embedding dimension, read from its JSON files: the one sentence-transformers loads."""

from __future__ import annotations

import json

import pytest

from negmine.config import DEFAULT_MODEL
from negmine.encode.folder_dimension import folder_dimension


def _write(folder, modules: list[tuple[str, str]], configs: dict[str, dict]):
    folder.mkdir(parents=True, exist_ok=True)
    entries = [{"idx": i, "name": str(i), "path": path, "type": kind} for i, (kind, path) in enumerate(modules)]
    (folder / "modules.json").write_text(json.dumps(entries))
    for path, config in configs.items():
        (folder / path).mkdir(parents=True, exist_ok=True)
        (folder / path / "config.json").write_text(json.dumps(config))
    return folder


def test_the_bundled_model_the_tiny_model_and_a_plain_transformers_folder(tiny_model_path):
    assert folder_dimension(DEFAULT_MODEL) == 384
    assert folder_dimension(str(tiny_model_path)) == 32
    assert folder_dimension(str(tiny_model_path.parent / "hf")) == 32  # config.json only: mean pooling of hidden_size


@pytest.mark.parametrize("dense", [None, 16])
def test_pooling_modes_and_a_dense_layer_as_sentence_transformers_loads_them(tmp_path, tiny_model_path, dense):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules

    word = modules.Transformer(str(tiny_model_path.parent / "hf"), max_seq_length=16)
    layers = [word, modules.Pooling(32, pooling_mode=("cls", "mean"))]
    layers += [modules.Dense(64, dense)] if dense else []
    model = SentenceTransformer(modules=[*layers, modules.Normalize()], device="cpu")
    model.save(str(tmp_path / "m"))
    assert folder_dimension(str(tmp_path / "m")) == model.get_embedding_dimension() == (dense or 64)


def test_files_of_older_sentence_transformers(tmp_path):
    legacy = {"word_embedding_dimension": 384, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True,
              "pooling_mode_max_tokens": False}
    folder = _write(tmp_path / "old", [("sentence_transformers.models.Transformer", ""),
                                       ("sentence_transformers.models.Pooling", "1_Pooling"),
                                       ("sentence_transformers.models.Dense", "2_Dense"),
                                       ("sentence_transformers.models.Normalize", "3_Normalize")],
                    {"1_Pooling": legacy, "2_Dense": {"in_features": 768, "out_features": 256}})
    assert folder_dimension(str(folder)) == 256
    (folder / "2_Dense" / "config.json").write_text(json.dumps(
        {"in_features": 768, "out_features": 256, "module_input_name": "token_embeddings"}))  # not the sentence's
    assert folder_dimension(str(folder)) == 768


@pytest.mark.parametrize("case", ["unknown module", "no pooling", "no hidden size", "unreadable", "missing",
                                  "hub name"])
def test_a_folder_that_does_not_state_it_gives_none(tmp_path, case):
    pooling = ("sentence_transformers.models.Pooling", "1_Pooling")
    model = str(tmp_path / "m")
    if case == "unknown module":
        _write(tmp_path / "m", [("my_package.Projector", "0"), pooling], {"1_Pooling": {"embedding_dimension": 8}})
    elif case == "no pooling":
        _write(tmp_path / "m", [("sentence_transformers.models.Transformer", "")], {})
    elif case == "no hidden size":
        _write(tmp_path / "m", [], {}).joinpath("modules.json").unlink()
        (tmp_path / "m" / "config.json").write_text(json.dumps({"d_model": 512}))
    elif case == "unreadable":
        _write(tmp_path / "m", [pooling], {}).joinpath("1_Pooling").mkdir()
        (tmp_path / "m" / "1_Pooling" / "config.json").write_text("{")
    elif case == "hub name":
        model = "sentence-transformers/all-MiniLM-L6-v2"
    assert folder_dimension(model) is None
