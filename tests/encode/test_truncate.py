"""``--truncate-dim`` above a model's dimension: refused from a local folder's files before anything loads, with
the message of the check made once the model has loaded."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.encode.truncate import check_truncate_dim, check_truncate_dim_early
from negmine.errors import ConfigError


def test_eval_refuses_it_before_reading_its_data_or_loading_the_model(tmp_path, tiny_model_path):
    """It was refused once the data had been read and the model loaded (12.5-14.4 s on the demo with the tiny
    model); here the data folder is not even there."""
    result = CliRunner().invoke(build_app(), [
        "eval", str(tmp_path / "absent"), "--model", str(tiny_model_path), "--truncate-dim", "33", "--no-progress"])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"error: truncate_dim 33 exceeds the embedding dimension 32 of the model '{tiny_model_path}'; use "
        "truncate_dim=32 (--truncate-dim 32) or less (e.g. a dim the model was trained at with matryoshka_dims, "
        "--matryoshka-dims), or leave it unset\n")


def test_a_folder_saved_with_its_own_truncate_dim_gets_the_loaded_models_message(tmp_path, tiny_model_path):
    """sentence-transformers loads a saved ``truncate_dim`` back, so the loaded model's dimension is that one."""
    from sentence_transformers import SentenceTransformer

    from negmine.config import EncoderConfig
    from negmine.encode.factory import make_embedder

    folder = tmp_path / "cut"
    SentenceTransformer(str(tiny_model_path), device="cpu", truncate_dim=16).save(str(folder))
    assert json.loads((folder / "config_sentence_transformers.json").read_text())["truncate_dim"] == 16
    with pytest.raises(ConfigError) as early:
        check_truncate_dim_early(20, str(folder))
    embedder = make_embedder(EncoderConfig(model=str(folder), show_progress=False, precision="fp32"))
    with pytest.raises(ConfigError) as loaded:
        check_truncate_dim(20, embedder.dim, str(folder))
    assert str(early.value) == str(loaded.value)
    assert "exceeds the embedding dimension 16 of the model" in str(early.value)
    check_truncate_dim_early(16, str(folder))


def test_a_dim_that_fits_and_models_whose_files_do_not_state_it_pass(tmp_path, tiny_model_path):
    check_truncate_dim_early(32, str(tiny_model_path))
    check_truncate_dim_early(None, str(tiny_model_path))
    check_truncate_dim_early(100000, "org/some-hub-model")  # checked once it has loaded
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "modules.json").write_text(json.dumps([{"idx": 0, "path": "", "type": "my_package.Encoder"}]))
    check_truncate_dim_early(100000, str(tmp_path / "m"))
