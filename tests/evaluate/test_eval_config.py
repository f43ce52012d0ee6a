from __future__ import annotations

from pathlib import Path

import pytest

from negmine.config import DEFAULT_MODEL, EncoderConfig, EvalConfig, parse_metric
from negmine.errors import ConfigError


def _cfg(**kw) -> EvalConfig:
    return EvalConfig(data_dir=Path("beir"), **kw)


def test_defaults_validate() -> None:
    cfg = _cfg()
    cfg.validate()
    assert cfg.models == (DEFAULT_MODEL,) and cfg.split == "test" and cfg.baseline == 0
    _cfg(models=(), run_files=(Path("a.trec"),), metrics=("ndcg@1000",)).validate()  # no model: no depth limit


def test_models_default_to_the_bundled_model_only_without_run_files() -> None:
    """As `negmine eval DIR --run FILE` evaluates the file alone (and makes it the baseline), so does
    EvalConfig(run_files=(FILE,)): the default model is added only when nothing else is given."""
    assert _cfg().models == (DEFAULT_MODEL,)
    assert _cfg(run_files=(Path("a.trec"),)).models == ()
    assert _cfg(models=("m",), run_files=(Path("a.trec"),)).models == ("m",)
    assert _cfg(models=(DEFAULT_MODEL,), run_files=(Path("a.trec"),)).models == (DEFAULT_MODEL,)
    assert _cfg(models=None).models == (DEFAULT_MODEL,)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"data_dir": None}, r"^no data directory given; set data_dir to a BEIR directory \(negmine eval "
                              r"DATA_DIR --split test\)$"),
        ({"models": ()}, r"^nothing to evaluate; give at least one of models \(--model NAME\) or run_files "
                            r"\(--run FILE\)$"),
        ({"models": ("a", "a")}, r"model listed twice in \['a', 'a'\]; give each model once in models \(--model\)$"),
        ({"models": ("",)}, r"model must be a name or path, got ''"),
        ({"run_files": (Path("r"), Path("r"))}, r"run file listed twice in \['r', 'r'\]; give each run file "
                                                 r"once in run_files \(--run\)$"),
        ({"metrics": ("ndcg@10", "nope")}, r"unknown metric 'nope'; allowed: ndcg, .*judged \(optionally with @k"),
        ({"metrics": ("judged",)}, r"metric 'judged' needs a cutoff; use e\.g\. judged@10"),
        ({"metrics": ("ndcg@0",)}, r"metric 'ndcg@0' has a bad cutoff '0'; use a positive integer, e\.g\. ndcg@10"),
        # ranx ignores a cutoff on these two: bpref@3 and r-precision@1 printed bpref and r-precision under their names
        ({"metrics": ("bpref@3",)}, r"metric 'bpref@3' takes no cutoff: bpref ranks the whole run; use 'bpref'"),
        ({"metrics": ("r-precision@1",)}, r"metric 'r-precision@1' takes no cutoff: r-precision's cutoff is each "
                                          r"query's number of relevant documents; use 'r-precision'"),
        ({"metrics": ()}, r"no metrics given; use e\.g\. metrics=\('ndcg@10', .*\) \(--metrics ndcg@10,"),
        ({"metrics": ("map", "map")}, r"metric listed twice in \['map', 'map'\]"),
        ({"depth": 0}, r"depth must be a positive integer, got 0; use e\.g\. depth=100 \(--depth 100\)$"),
        # before, a default metric ended in 'or lower the cutoff', naming neither --metrics nor that it was a default
        ({"depth": 50}, r"^metric 'recall@100' \(a default metric: --metrics replaces the defaults\) looks at the top "
                          r"100 but models retrieve only the top depth=50 \(--depth 50\); raise depth \(--depth\) to at "
                          r"least 100, or give metrics whose cutoffs are at most 50: e\.g\. metrics=\('ndcg@10', "
                          r"'mrr@10', 'recall@50', 'map', 'judged@10'\) \(--metrics ndcg@10,mrr@10,recall@50,map,"
                          r"judged@10\)$"),
        ({"depth": 5, "metrics": ("ndcg@10", "ndcg@20", "map")},
         r"^metric 'ndcg@10' looks at the top 10 but models retrieve only the top depth=5 \(--depth 5\); raise depth "
         r"\(--depth\) to at least 10, or give metrics whose cutoffs are at most 5: e\.g\. metrics=\('ndcg@5', "
         r"'map'\) \(--metrics ndcg@5,map\)$"),
        ({"baseline": 2, "models": ("a", "b")}, r"baseline index 2 is out of range for 2 run\(s\) \(models first, then run files\); use baseline \(--baseline\) 0\.\.1"),
        ({"stat_test": "wilcoxon"}, r"unknown stat_test 'wilcoxon'; allowed: student, fisher"),
        ({"correction": "bonferroni"}, r"unknown correction 'bonferroni'; allowed: holm, none"),
        ({"alpha": 1.5}, r"alpha must be in \(0, 1\), got 1\.5; the usual value is alpha=0\.05 \(--alpha 0\.05\)$"),
        ({"n_permutations": 0}, r"n_permutations must be a positive integer, got 0; use e\.g\. n_permutations=10000 "
                                  r"\(--n-permutations 10000\)$"),
        # the Fisher test's seed goes to NumPy's legacy generator (0..2**32-1): -1 was a ValueError traceback
        ({"seed": -1, "stat_test": "fisher"}, r"seed must be an integer from 0 to 2\*\*32 - 1 \(4294967295\), got -1; use e\.g\. seed=42 \(--seed 42\)$"),
        ({"split": "a/b"}, r"split must be a qrels file stem such as 'test', got 'a/b'; use e\.g\. split='test' "
                         r"\(--split test\)$"),
        ({"encoder": EncoderConfig(precision="fp8")}, r"unknown precision 'fp8'; allowed: auto, fp32, bf16"),
    ],
)
def test_config_errors_give_value_allowed_and_fix(kw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _cfg(**kw).validate() if "data_dir" not in kw else EvalConfig(**kw).validate()


def test_unknown_metric_names_the_closest_metric_and_the_option() -> None:
    """A typo got the 14 metric names and nothing else: neither the near-miss nor --metrics, which the others name."""
    with pytest.raises(ConfigError, match=r"^unknown metric 'ndgc@5'; allowed: ndcg, .*judged \(optionally with @k, "
                                          r"e\.g\. ndcg@10\); did you mean metrics=\('map', 'ndcg@5'\) "
                                          r"\(--metrics map,ndcg@5\)\?$"):
        _cfg(metrics=("map", "ndgc@5")).validate()
    with pytest.raises(ConfigError, match=r"; did you mean metrics=\('bpref',\) \(--metrics bpref\)\?$"):
        _cfg(metrics=("bperf@10",)).validate()  # bpref takes no cutoff: the suggestion drops it
    with pytest.raises(ConfigError, match=r"^unknown metric 'foo'; allowed: .*; pick one or more with metrics "
                                          r"\(--metrics\)$"):
        _cfg(metrics=("ndcg@10", "foo")).validate()


def test_metrics_given_as_one_comma_separated_str_are_told_the_tuple_it_stands_for() -> None:
    """`metrics="ndcg@10,map"`, the command line's form, was told `e.g. metrics=('ndcg@10,map',)`, which is refused
    next as an unknown metric."""
    with pytest.raises(ConfigError, match=r"^EvalConfig\.metrics must be a tuple of strings, got 'ndcg@10, map' \(str\); "
                                          r"e\.g\. metrics=\('ndcg@10', 'map'\)$"):
        _cfg(metrics="ndcg@10, map").validate()
    with pytest.raises(ConfigError, match=r"; e\.g\. metrics=\('map',\)$"):
        _cfg(metrics="map").validate()


def test_parse_metric() -> None:
    assert parse_metric("ndcg@10") == ("ndcg", 10)
    assert parse_metric("map") == ("map", None)
    assert parse_metric("judged@5") == ("judged", 5)


def test_metric_names_are_case_insensitive_as_on_the_command_line() -> None:
    """`negmine eval --metrics NDCG@10` lowercases; EvalConfig(metrics=("NDCG@10",)) was refused as unknown."""
    cfg = _cfg(metrics=("NDCG@10", " MRR@10", "Map", "Judged@10"))
    cfg.validate()
    assert cfg.metrics == ("ndcg@10", "mrr@10", "map", "judged@10")
    assert _cfg(metrics=["Recall@100"]).metrics == ("recall@100",)
    with pytest.raises(ConfigError, match=r"metric listed twice in \['ndcg@10', 'ndcg@10'\]"):
        _cfg(metrics=("ndcg@10", "NDCG@10")).validate()
    with pytest.raises(ConfigError, match=r"unknown metric 'nope@10'; allowed: ndcg, ndcg_burges, .*judged \(optionally"):
        _cfg(metrics=("NOPE@10",)).validate()
    with pytest.raises(ConfigError, match=r"EvalConfig\.metrics must be a tuple of strings, got 'ndcg@10' \(str\)"):
        _cfg(metrics="ndcg@10").validate()


def test_run_names_name_the_run_files_one_for_one() -> None:
    """``run_names`` (``--run NAME=PATH``) holds a name or None per run file; all None is the config of no names."""
    files = (Path("a.trec"), Path("b.trec"))
    _cfg(run_files=files, run_names=("mine", None)).validate()
    assert _cfg(run_files=files, run_names=[None, None]) == _cfg(run_files=files)
    cases = [
        (("mine",), r"^run_names must hold a name or None for each of the 2 run_files, in their order, got "
                    r"\('mine',\); e\.g\. run_names=\('mine', None\), or \(\) to name none$"),
        ((" ", None), r"^run name ' ' of run file a\.trec is blank; give a name such as 'mine', or None to name the "
                      r"file by its TREC tag: run_names \(--run NAME=PATH\)$"),
        ((None, 3), r"^run name 3 of run file b\.trec is not a string \(int\)"),
        ("mine", r"^EvalConfig\.run_names must be a tuple of strings or None, got 'mine' \(str\)"),
        (("m", "m"), r"^run name 'm' is given to two run files, a\.trec and b\.trec; give each its own name: "
                     r"run_names \(--run NAME=PATH\)$"),
        (("bm25", None), r"^run name 'bm25' of run file a\.trec is the name of model 'bm25'; give the run file another "
                         r"name: run_names \(--run NAME=PATH\)$"),
    ]
    for names, message in cases:
        with pytest.raises(ConfigError, match=message):
            _cfg(models=("bm25",), run_files=files, run_names=names).validate()
