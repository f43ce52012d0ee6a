"""The top-level API of ``negmine`` (src/negmine/__init__.py): lazy exports, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import negmine

HEAVY = ("torch", "faiss", "sentence_transformers", "transformers", "datasets", "pyarrow", "ray")

API = ("mine", "mine_dataset", "run_audit", "train", "evaluate", "training_report", "report_from_files", "demo_path",
       "demo_pairs", "MineResult", "MineConfig", "DataConfig", "EncoderConfig", "RetrieveConfig", "FilterConfig",
       "SelectConfig", "OutputConfig", "NearDupConfig", "DenoiseConfig", "EngineConfig", "JudgeConfig",
       "AuditConfig", "TrainConfig", "EvalConfig", "DevEvalConfig", "register_strategy", "register_export_format")


def loaded_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    script = f"import sys\n{code}\nimport json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_import_negmine_and_its_configs_load_no_heavy_library():
    assert loaded_after("import negmine") == []
    assert loaded_after("import negmine\nnegmine.MineConfig(); negmine.DataConfig; dir(negmine)") == []
    assert loaded_after("from negmine import SelectConfig, OutputConfig, train, evaluate") == []
    assert loaded_after("from negmine import register_strategy, register_export_format") == []


def test_every_api_name_is_listed_and_resolves_to_its_object():
    from negmine.audit.api import run_audit
    from negmine.config import MineConfig
    from negmine.pipeline.in_memory import mine_dataset
    from negmine.pipeline.mine import mine

    assert set(API) <= set(negmine.__all__) and set(negmine.__all__) <= set(dir(negmine))
    assert {"NegmineError", "InputError", "ConfigError", "NegmineWarning", "__version__"} <= set(negmine.__all__)
    assert (negmine.mine, negmine.mine_dataset, negmine.run_audit, negmine.MineConfig) == (
        mine, mine_dataset, run_audit, MineConfig)
    for name in negmine.__all__:
        assert getattr(negmine, name) is not None, name
    namespace: dict = {}
    exec("from negmine import *", namespace)
    assert set(API) <= set(namespace)


def test_an_unknown_name_raises_the_usual_attribute_error():
    with pytest.raises(AttributeError, match="^module 'negmine' has no attribute 'mine_hard_negatives'$"):
        negmine.mine_hard_negatives  # noqa: B018
    assert not hasattr(negmine, "_private")
    with pytest.raises(ImportError, match="cannot import name 'nope' from 'negmine'"):
        exec("from negmine import nope", {})
