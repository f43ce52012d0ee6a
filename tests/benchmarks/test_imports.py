"""Every ``from negmine... import name`` in the benchmark scripts resolves.

The scripts import most of negmine inside functions (so ``--help`` stays fast), so a renamed or moved function
only showed when its benchmark ran: ``audit_planted.py`` imported ``run_audit`` from a module it had left."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def negmine_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, module, name) of each ``from negmine... import name`` anywhere in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "negmine":
            found += [(node.lineno, node.module, alias.name) for alias in node.names]
    return found


def test_the_benchmark_scripts_are_found():
    assert {"train_scifact.py", "audit_planted.py", "mine_scifact.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_negmine_import_of_a_benchmark_resolves(script: Path):
    missing = []
    for line, module, name in negmine_imports(script):
        target = importlib.import_module(module)
        if not hasattr(target, name):
            try:
                importlib.import_module(f"{module}.{name}")  # a submodule
            except ModuleNotFoundError:
                missing.append(f"{script.name}:{line}: {module} has no {name}")
    assert not missing, "\n".join(missing)
