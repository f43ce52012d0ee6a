"""``negmine.train`` and ``negmine.evaluate``: the stages' packages, callable as the stages' functions."""

from __future__ import annotations

import subprocess
import sys
import types

import negmine


def test_train_and_evaluate_call_their_api_functions(monkeypatch):
    """A call imports the stage's api module (stood in for here: the real ones import the trainer) and calls its
    function with the same arguments."""
    fake_train = types.SimpleNamespace(train=lambda *args, **kwargs: ("train", args, kwargs))
    fake_evaluate = types.SimpleNamespace(evaluate=lambda *args, **kwargs: ("evaluate", args, kwargs))
    monkeypatch.setitem(sys.modules, "negmine.train.api", fake_train)
    monkeypatch.setitem(sys.modules, "negmine.evaluate.api", fake_evaluate)
    assert negmine.train("config", miner=None) == ("train", ("config",), {"miner": None})
    assert negmine.evaluate("config") == ("evaluate", ("config",), {})
    assert negmine.train is sys.modules["negmine.train"] and negmine.train.SUMMARY_NAME == "negmine_train.json"
    assert negmine.evaluate is sys.modules["negmine.evaluate"]


def test_the_stage_modules_still_import_by_attribute_whichever_was_first():
    """A function put in place of ``negmine.train`` broke ``import negmine.train.preflight as p`` ("cannot import
    name 'preflight' from 'train'"); with the package callable both orders work, in a fresh interpreter each."""
    for first in ("negmine.train; negmine.evaluate", "None"):
        script = (f"import negmine\n{first}\nimport negmine.train.preflight as t\nimport negmine.evaluate.holm as e\n"
                  "assert negmine.train.preflight is t and callable(negmine.train) and callable(negmine.evaluate)\n"
                  "from negmine import train\nassert train is negmine.train\n")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
