"""Plugins (src/negmine/plugins.py): strategies and export formats that installed packages declare as entry points,
listed without being imported, loaded on first lookup, refused with a message naming the entry point and its
package. A fake distribution (a ``*.dist-info`` folder with METADATA and entry_points.txt) on sys.path stands for
an installed package: importlib.metadata finds it as it finds any."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from negmine.errors import ConfigError, NegmineWarning

PLUGIN = '''
import numpy as np


class EveryOther:
    """Every other candidate, in retrieval order: the 1st, 3rd, 5th..."""

    name = "every-other"
    default_window = (None, None)
    best_first = False

    @classmethod
    def from_config(cls, config):
        return cls()

    def select(self, pool, k, rng):
        return np.argsort(pool.ranks, kind="stable")[::2][:k]


class HalfDone:
    name = "half-done"
    default_window = [1, 10]
    best_first = False


class QueryNegative:
    """One record per negative: {"query", "negative"}."""

    name = "query-negative"
    needs_scan = per_query = takes_scores = always_scores = False
    file_types = ("jsonl",)

    def skip_reason(self, row, shape):
        return None if row["negatives"] else "row has no negatives"

    def arrow_schema(self, shape):
        return None

    def convert(self, row, shape):
        return [{"query": row["query"], "negative": text} for text in row["negatives"]]


QUERY_NEGATIVE = QueryNegative()


class ScoredQueryNegative(QueryNegative):
    name = "query-negative-scored"
    takes_scores = True


SCORED_QUERY_NEGATIVE = ScoredQueryNegative()
'''

ENTRY_POINTS = """\
[negmine.strategies]
every-other = np_plugin_demo:EveryOther
broken = np_plugin_broken:Broken
half-done = np_plugin_demo:HalfDone
renamed = np_plugin_demo:EveryOther

[negmine.export_formats]
query-negative = np_plugin_demo:QUERY_NEGATIVE
"""

MODULES = ("np_plugin_demo", "np_plugin_broken")


def write_distribution(site: Path, entry_points: str = ENTRY_POINTS) -> Path:
    """The package ``negmine-plugin-demo`` 1.2.3 installed in ``site``: its two modules and its entry points."""
    from negmine.testing.plugins import write_distribution as write

    return write(site, entry_points, {"np_plugin_demo": PLUGIN,
                                      "np_plugin_broken": "raise RuntimeError('no GPU here')\n"})


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The fake package on sys.path; the registries and sys.modules as they were afterwards."""
    from negmine.export.registry import REGISTRY as FORMATS
    from negmine.select.strategy import REGISTRY as STRATEGIES

    site = write_distribution(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    with STRATEGIES.restored(), FORMATS.restored():
        yield site
    for name in MODULES:
        sys.modules.pop(name, None)


def test_an_installed_strategy_is_listed_without_import_and_imported_on_first_lookup(installed):
    from negmine.select.strategy import strategy_class, strategy_names, strategy_origin

    assert strategy_names() == ["top", "range", "random", "simans", "broken", "every-other", "half-done", "renamed"]
    assert "np_plugin_demo" not in sys.modules, "listing the names must not import the plugins"
    cls = strategy_class("every-other")
    assert cls.__name__ == "EveryOther" and "np_plugin_demo" in sys.modules
    assert strategy_origin("every-other") == {
        "source": "entry point", "group": "negmine.strategies", "entry_point": "every-other",
        "value": "np_plugin_demo:EveryOther", "module": "np_plugin_demo", "distribution": "negmine-plugin-demo",
        "version": "1.2.3"}
    assert strategy_origin("top") is None


def test_the_unknown_name_message_lists_the_installed_plugins(installed):
    from negmine.config import SelectConfig
    from negmine.export.registry import get_exporter

    with pytest.raises(ConfigError, match=r"^unknown strategy 'hardest'; allowed: broken, every-other, half-done, "
                                          r"random, range, renamed, simans, top; pick one with strategy "
                                          r"\(--strategy\)$"):
        SelectConfig(strategy="hardest").validate()
    with pytest.raises(ConfigError, match=r"^unknown export format 'tsv'; allowed: flagembedding, "
                                          r"flagembedding-scores, labeled-list, labeled-list-by-query, labeled-pair, "
                                          r"n-tuple, query-negative, triplet; pick one or more with formats "
                                          r"\(--export\)$"):
        get_exporter("tsv")
    # a typo of an installed plugin's name is answered with it, as a built-in's is
    with pytest.raises(ConfigError, match=r"; did you mean strategy='every-other' \(--strategy every-other\)\?$"):
        SelectConfig(strategy="every-othr").validate()
    with pytest.raises(ConfigError, match=r"; did you mean 'query-negative' in formats "
                                          r"\(--export query-negative\)\?$"):
        get_exporter("query-negatives")


def test_a_plugin_that_fails_to_import_names_its_entry_point_and_package(installed):
    from negmine.config import SelectConfig

    with pytest.raises(ConfigError) as raised:
        SelectConfig(strategy="broken").validate()  # config validation: before any data or model is loaded
    assert str(raised.value) == (
        "the strategy 'broken' could not be loaded: entry point broken = np_plugin_broken:Broken (group "
        "negmine.strategies) of package negmine-plugin-demo 1.2.3 raised RuntimeError: no GPU here; fix or reinstall "
        "negmine-plugin-demo (pip uninstall negmine-plugin-demo removes the strategy)")


def test_an_installed_plugin_that_breaks_the_protocol_or_its_name_is_refused_naming_it(installed):
    from negmine.select.strategy import strategy_class

    with pytest.raises(ConfigError) as raised:
        strategy_class("half-done")
    assert str(raised.value).startswith(
        "entry point half-done = np_plugin_demo:HalfDone (group negmine.strategies) of package negmine-plugin-demo "
        "1.2.3 is not a negmine strategy: default_window is [1, 10], of type list (it must be a tuple (rank_min, "
        "rank_max) of ints >= 1 or None, rank_min <= rank_max, e.g. (None, None)); from_config is missing (it must be "
        "a classmethod from_config(select_config) returning an instance); select is missing (it must be a method "
        "select(pool, k, rng) returning int64 positions into pool); a strategy is a class with name")
    with pytest.raises(ConfigError, match="^entry point renamed = np_plugin_demo:EveryOther .* loads a strategy named "
                                          "'every-other': the entry point's name and its name attribute must agree"):
        strategy_class("renamed")


def test_registering_a_name_an_installed_package_declares_needs_replace(installed):
    import negmine
    from negmine.select.strategy import strategy_class

    class Mine:
        name = "every-other"
        default_window = (None, None)
        best_first = False

        @classmethod
        def from_config(cls, config):
            return cls()

        def select(self, pool, k, rng):
            return []

    with pytest.raises(ConfigError, match=r"^strategy 'every-other' is already registered \(entry point every-other "
                                          r"= np_plugin_demo:EveryOther .*\); pass replace=True to register_strategy"):
        negmine.register_strategy(Mine)
    negmine.register_strategy(Mine, replace=True)
    assert strategy_class("every-other") is Mine and "np_plugin_demo" not in sys.modules


def test_an_entry_point_named_like_a_built_in_is_ignored_with_a_warning(tmp_path, monkeypatch):
    from negmine.select.strategy import REGISTRY, strategy_class, strategy_names

    site = write_distribution(tmp_path / "site", "[negmine.strategies]\ntop = np_plugin_demo:EveryOther\n")
    monkeypatch.syspath_prepend(str(site))
    with pytest.warns(NegmineWarning, match="^entry point top = np_plugin_demo:EveryOther .* is named like the "
                                            "built-in strategy 'top', which a plugin cannot replace: it is ignored"):
        assert strategy_names() == ["top", "range", "random", "simans"]
    assert strategy_class("top") is REGISTRY.builtins["top"]


def test_the_export_scores_refusal_lists_the_installed_formats_that_take_scores(tmp_path, monkeypatch):
    """The formats the refusal of --export-scores listed were the built-ins and the plugins imported so far: an
    installed format that takes scores was missing until something had looked it up. It now loads them; one that
    fails to load is named as such (its own error is for --export NAME), not raised in place of the refusal."""
    from negmine.export.registry import REGISTRY, check_formats

    site = write_distribution(tmp_path / "site", "[negmine.export_formats]\n"
                                                 "query-negative = np_plugin_demo:QUERY_NEGATIVE\n"
                                                 "query-negative-scored = np_plugin_demo:SCORED_QUERY_NEGATIVE\n"
                                                 "broken-format = np_plugin_broken:Broken\n")
    monkeypatch.syspath_prepend(str(site))
    try:
        with REGISTRY.restored(), pytest.raises(ConfigError) as raised:
            check_formats(("query-negative",), scores=True)
    finally:
        for name in MODULES:
            sys.modules.pop(name, None)
    assert str(raised.value) == (
        "export format 'query-negative' (--export query-negative) takes no export_scores (--export-scores); the "
        "formats that do: triplet, n-tuple, labeled-list, labeled-list-by-query, labeled-pair, query-negative-scored "
        "(installed but failing to load, so not checked: broken-format; --export NAME says why); export_scores=False "
        "(drop --export-scores), or write query-negative in a separate run")


def _run(args: list[str], site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, env=env)


def test_the_command_line_lists_mines_and_exports_with_installed_plugins(tmp_path):
    from negmine.testing.beir import write_beir

    site = write_distribution(tmp_path / "site")
    shown = _run(["-m", "negmine", "mine", "--help"], site)
    assert shown.returncode == 0, shown.stderr
    assert "every-other" in shown.stdout and "query-negative" in shown.stdout
    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1),
                                                                                           ("q2", "d1", 1)])
    out = tmp_path / "neg.jsonl"
    done = _run(["-m", "negmine", "mine", str(beir), "--retriever", "bm25", "--depth", "8", "--num-negatives", "2",
                 "--no-sd-margin", "--strategy", "every-other", "--export", "query-negative", "-o", str(out),
                 "--no-progress"], site)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(row["negative_ranks"]) for row in rows] == [2, 2]
    assert all(row["negative_ranks"][1] - row["negative_ranks"][0] >= 2 for row in rows)
    records = [json.loads(line) for line in (tmp_path / "neg.query-negative.jsonl").read_text().splitlines()]
    assert records == [{"query": row["query"], "negative": text} for row in rows for text in row["negatives"]]
    plugins = json.loads((tmp_path / "neg.summary.json").read_text())["plugins"]
    assert plugins["strategy"]["every-other"]["distribution"] == "negmine-plugin-demo"
    assert plugins["strategy"]["every-other"]["version"] == "1.2.3"
    assert plugins["export_formats"]["query-negative"]["value"] == "np_plugin_demo:QUERY_NEGATIVE"
    broken = _run(["-m", "negmine", "mine", str(beir), "--strategy", "broken", "-o", str(out)], site)
    assert broken.returncode == 2 and "Traceback" not in broken.stdout + broken.stderr
    assert "the strategy 'broken' could not be loaded: entry point broken" in broken.stdout + broken.stderr


def test_import_negmine_and_a_built_in_config_scan_no_entry_point():
    script = textwrap.dedent("""
        import sys
        import negmine
        negmine.register_strategy, negmine.register_export_format
        negmine.MineConfig(data=negmine.DataConfig(data_dir='d')).validate()
        print('importlib.metadata' in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"


PARAMS_PLUGIN = '''
import numpy as np


class EveryNth:
    """Every step-th candidate, in retrieval order; with reverse, from the last."""

    name = "every-nth"
    default_window = (None, None)
    best_first = False
    params = {"step": int, "reverse": bool}
    param_defaults = {"step": 2, "reverse": False}

    def __init__(self, step, reverse):
        self.step, self.reverse = step, reverse

    @classmethod
    def from_config(cls, config):
        import negmine

        return cls(**negmine.strategy_params(cls, config))

    def select(self, pool, k, rng):
        order = np.argsort(pool.ranks, kind="stable")
        return (order[::-1] if self.reverse else order)[::self.step][:k]
'''


@pytest.fixture
def params_installed(tmp_path, monkeypatch):
    """The package ``negmine-params-demo`` 0.4.0 on sys.path, declaring the strategy ``every-nth`` (with params) as an
    entry point; the registries and sys.modules as they were afterwards."""
    from negmine.export.registry import REGISTRY as FORMATS
    from negmine.select.strategy import REGISTRY as STRATEGIES
    from negmine.testing.plugins import write_distribution as write

    site = write(tmp_path / "params-site", "[negmine.strategies]\nevery-nth = np_params_demo:EveryNth\n",
                 {"np_params_demo": PARAMS_PLUGIN}, name="negmine-params-demo", version="0.4.0")
    monkeypatch.syspath_prepend(str(site))
    with STRATEGIES.restored(), FORMATS.restored():
        yield site
    sys.modules.pop("np_params_demo", None)


def test_a_strategy_registered_by_a_call_records_the_package_that_holds_its_module(params_installed, tmp_path,
                                                                                    monkeypatch):
    """Registered by a call, a strategy's origin named its module and class only, so two runs with two versions of
    the package holding it recorded the same origin. It now names that package and its version, when an installed
    package holds the module (its files list the module's file); else, as before, neither."""
    import importlib

    import negmine
    from negmine.select.strategy import strategy_origin

    module = importlib.import_module("np_params_demo")
    negmine.register_strategy(module.EveryNth, replace=True)  # its own entry point declares the name too
    assert strategy_origin("every-nth") == {"source": "register_strategy", "module": "np_params_demo",
                                            "qualname": "EveryNth", "distribution": "negmine-params-demo",
                                            "version": "0.4.0"}

    class Local(module.EveryNth):  # a class of this test module: no installed package holds it
        name = "local-nth"

    negmine.register_strategy(Local)
    assert strategy_origin("local-nth") == {"source": "register_strategy", "module": __name__,
                                            "qualname": Local.__qualname__}
    elsewhere = tmp_path / "elsewhere"  # the same module name, imported from a folder no package installed
    elsewhere.mkdir()
    (elsewhere / "np_params_demo.py").write_text(PARAMS_PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(elsewhere))
    sys.modules.pop("np_params_demo")
    shadow = importlib.import_module("np_params_demo")
    assert shadow.__file__ == str(elsewhere / "np_params_demo.py")
    negmine.register_strategy(shadow.EveryNth, replace=True)
    assert "version" not in strategy_origin("every-nth"), "the installed package's version is not this module's"


def _cli(args: list[str]):
    from typer.testing import CliRunner

    from negmine.cli import build_app

    return CliRunner().invoke(build_app(), args)


def test_the_command_line_sets_an_installed_strategys_params_and_refuses_bad_ones_before_any_work(params_installed,
                                                                                                 tmp_path):
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(16)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1),
                                                                                           ("q2", "d1", 1)])
    base = ["mine", str(beir), "--retriever", "bm25", "--depth", "12", "--num-negatives", "2", "--no-sd-margin",
            "--no-progress", "--strategy", "every-nth"]
    params = ["--strategy-param", "step=3", "--strategy-param", "reverse=no"]
    done = _cli([*base, *params, "-o", str(tmp_path / "n.jsonl")])
    assert done.exit_code == 0, done.output
    rows = [json.loads(line) for line in (tmp_path / "n.jsonl").read_text().splitlines()]
    assert [row["negative_ranks"][1] - row["negative_ranks"][0] for row in rows] == [3, 3]
    summary = json.loads((tmp_path / "n.summary.json").read_text())
    assert summary["config"]["select"]["strategy_params"] == [["reverse", False], ["step", 3]]
    assert summary["plugins"]["strategy"]["every-nth"] == {
        "source": "entry point", "group": "negmine.strategies", "entry_point": "every-nth",
        "value": "np_params_demo:EveryNth", "module": "np_params_demo", "distribution": "negmine-params-demo",
        "version": "0.4.0", "params": {"step": 3, "reverse": False}}
    out = tmp_path / "never.jsonl"  # "before any work": no run makes an output
    refused = {
        ("--strategy-param", "step=three"): "error: --strategy-param step=three: param 'step' of strategy 'every-nth' "
                                            "takes an int, and 'three' is not one; give e.g. --strategy-param step=2",
        ("--strategy-param", "step"): "error: --strategy-param 'step': give NAME=VALUE, one param per "
                                      "--strategy-param, e.g. --strategy-param step=2; strategy 'every-nth' declares "
                                      "step (an int), reverse (True or False)",
        ("--strategy-param", "stpe=3"): "error: unknown param 'stpe' of strategy 'every-nth'; allowed: reverse, step; "
                                        "did you mean select.strategy_params={'step': 3} (--strategy-param step=3)?",
        ("--strategy", "top", "--strategy-param", "step=3"): "error: the built-in strategy 'top' takes no "
                                                             "select.strategy_params (--strategy-param), got step='3'; "
                                                             "set its own options instead: select.num_negatives",
    }
    for extra, message in refused.items():
        done = _cli([*base, *extra, "-o", str(out)])
        assert done.exit_code == 2 and done.output.startswith(message), done.output
        assert "Traceback" not in done.output and not out.exists()
