from __future__ import annotations

import json

import pytest

from negmine.encode.max_length_early import check_max_length_early, config_position_limit
from negmine.errors import ConfigError


def _model(folder, **config):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(("config", "limit"), [
    ({"model_type": "bert", "max_position_embeddings": 512, "pad_token_id": 0}, 512),
    ({"model_type": "xlm-roberta", "max_position_embeddings": 514, "pad_token_id": 1}, 512),
    ({"model_type": "bert", "max_position_embeddings": 512, "position_embedding_type": "relative_key"}, None),
    ({"model_type": "modernbert", "max_position_embeddings": 8192}, None),
])
def test_the_limit_is_read_from_config_json_for_absolute_position_tables_only(tmp_path, config, limit):
    assert config_position_limit(_model(tmp_path / "m", **config)) == limit


def test_a_sentence_transformers_folder_is_read_at_its_transformer_module(tmp_path):
    folder = _model(tmp_path / "m" / "0_Transformer", model_type="bert", max_position_embeddings=128)
    (folder.parent / "modules.json").write_text(json.dumps([
        {"idx": 0, "path": "0_Transformer", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]))
    assert config_position_limit(folder.parent) == 128
    assert config_position_limit(tmp_path / "absent") is None  # a hub name: checked once it loads


def test_a_max_length_beyond_the_table_is_refused_before_mining_reads_its_data(tmp_path):
    """It was refused once the data had been read and the model loaded (7.6 s on the demo with a tiny model, a large
    model's load on top); a config.json without weights shows nothing else is loaded, a broken corpus that nothing
    is read."""
    from negmine import DataConfig, EncoderConfig, MineConfig, OutputConfig, mine

    model = _model(tmp_path / "m", model_type="bert", max_position_embeddings=128)
    data = tmp_path / "data"
    (data / "qrels").mkdir(parents=True)
    (data / "corpus.jsonl").write_text("{not json\n")
    config = MineConfig(data=DataConfig(data_dir=data), output=OutputConfig(path=tmp_path / "o.jsonl"),
                        encoder=EncoderConfig(model=str(model), max_length=300, show_progress=False))
    with pytest.raises(ConfigError) as info:
        mine(config)
    assert str(info.value) == (
        f"encoder.max_length=300 (--max-length 300) is more than the model {str(model)!r} can take: its position "
        "embeddings hold 128 tokens, so a longer text would fail inside the model; use encoder.max_length=128 "
        "(--max-length 128) or less, or leave it unset (the model's own length)")
    (model / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}))
    with pytest.raises(ConfigError, match=r"or leave it unset \(the model's own 64\)$"):
        mine(config)


def test_a_length_within_the_table_and_a_model_it_cannot_read_pass(tmp_path):
    model = _model(tmp_path / "m", model_type="bert", max_position_embeddings=128)
    check_max_length_early(str(model), 128)
    check_max_length_early(str(model), None)
    check_max_length_early("org/some-hub-model", 100000)


@pytest.mark.parametrize("command", ["train", "audit", "eval"])
def test_train_audit_and_eval_refuse_it_before_reading_their_input(tmp_path, command):
    """Each refused it once its input was read and the model loaded; here the input is not even there."""
    from typer.testing import CliRunner

    from negmine.cli import build_app

    model = _model(tmp_path / "m", model_type="bert", max_position_embeddings=128)
    absent = str(tmp_path / "absent.jsonl")
    args = {"train": ["train", absent, "--output", str(tmp_path / "o")],
            "audit": ["audit", absent, "--out-dir", str(tmp_path / "o")],
            "eval": ["eval", str(tmp_path / "absent"), "--output", str(tmp_path / "o.json")]}[command]
    result = CliRunner().invoke(build_app(), [*args, "--model", str(model), "--max-length", "300"])
    assert result.exit_code == 2, result.output
    field = "max_length" if command == "train" else "encoder.max_length"
    assert result.stderr.startswith(f"error: {field}=300 (--max-length 300) is more than the model {str(model)!r} "
                                    "can take: its position embeddings hold 128 tokens")
