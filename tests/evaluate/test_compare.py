from __future__ import annotations

import math
import numpy as np
import pytest

from negmine.errors import ConfigError
from negmine.evaluate.compare import compare_runs, format_table, paired_interval, paired_p_value
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

N = 40
QRELS = Qrels({f"q{i}": {f"rel{i}": 1} for i in range(N)})


def _run(name: str, rank_of_relevant: list[int]) -> Run:
    """Each query retrieves 5 fillers with its relevant doc at the given 1-based rank (0 = missing)."""
    scores = {}
    for i, rank in enumerate(rank_of_relevant):
        docs = [f"x{j}" for j in range(5)]
        if rank:
            docs.insert(rank - 1, f"rel{i}")
        scores[f"q{i}"] = {d: 1.0 - j / 10 for j, d in enumerate(docs)}
    return Run(scores, name)


GOOD = _run("good", [1] * N)
BAD = _run("bad", [3 if i % 4 else 1 for i in range(N)])
SAME = _run("same", [1] * N)
METRICS = ("ndcg@10", "mrr@10", "recall@100", "judged@5")


@pytest.mark.parametrize("test", ["student", "fisher"])
def test_table_shape_and_significance(test: str) -> None:
    comp = compare_runs(QRELS, [GOOD, BAD, SAME], METRICS, baseline=0, stat_test=test, n_permutations=2000)
    assert comp.names == ["good", "bad", "same"] and comp.baseline == "good"
    assert set(comp.p_values) == {"bad", "same"}
    assert all(set(p) == set(METRICS) for p in comp.p_values.values())
    assert comp.p_values["same"] == {m: 1.0 for m in METRICS}
    assert not any(comp.significant("same", m) for m in METRICS)
    assert comp.p_values["bad"]["mrr@10"] < 0.001 and comp.significant("bad", "mrr@10")
    assert comp.p_values["bad"]["recall@100"] == 1.0  # same per-query recall
    deltas = dict(zip(comp.result("bad").query_ids, comp.deltas("bad", "mrr@10").tolist()))
    assert deltas == {f"q{i}": 0.0 if i % 4 == 0 else 1 / 3 - 1 for i in range(N)}
    assert comp.result("bad").mean["mrr@10"] == pytest.approx((10 + 30 / 3) / N)


def test_format_table_is_aligned_and_marks_significance() -> None:
    comp = compare_runs(QRELS, [GOOD, BAD, SAME], ("ndcg@10", "mrr@10"))
    text = format_table(comp)
    lines = text.splitlines()
    assert lines[0].split() == ["run", "queries", "ndcg@10", "mrr@10"]
    assert lines[2].split() == ["good", "(baseline)", "40", "1.0000", "1.0000"]
    assert lines[3].split()[:2] == ["bad", "40"] and lines[3].split()[3].endswith("*")
    assert lines[4].split() == ["same", "40", "1.0000", "1.0000"]
    header = lines[0]
    for row in lines[2:5]:  # numeric columns start at the header's column positions
        assert row[header.index("ndcg@10")] in "01"
    assert ("p-values vs baseline 'good' (paired t-test, two-sided, Holm-adjusted over the 2 runs compared (raw "
            "p-values in the results JSON); * = p <= 0.05):") in text
    single = format_table(compare_runs(QRELS, [GOOD, BAD], ("ndcg@10",)))  # one comparison: nothing to adjust
    assert "p-values vs baseline 'good' (paired t-test, two-sided; * = p <= 0.05):" in single
    raw = format_table(compare_runs(QRELS, [GOOD, BAD, SAME], ("ndcg@10",), correction="none"))
    assert "p-values vs baseline 'good' (paired t-test, two-sided; * = p <= 0.05):" in raw
    assert "mean delta vs baseline [95% confidence interval, paired t]:" in text
    assert lines[-1].split() == ["same", "+0.0000", "[+0.0000,", "+0.0000]", "+0.0000", "[+0.0000,", "+0.0000]"]
    assert lines[-2].split()[:1] == ["bad"] and lines[-2].split()[4:7] == ["-0.5000", "[-0.5935,", "-0.4065]"]
    assert str(comp) == text, "print(comparison) shows the table, not the arrays"


def test_to_dict_has_deltas_and_is_plain_json() -> None:
    import json

    comp = compare_runs(QRELS, [BAD, GOOD], ("mrr@10",), baseline=1)
    out = comp.to_dict()
    json.dumps(out)
    vs = out["runs"]["bad"]["vs_baseline"]["mrr@10"]
    assert vs["wins"] == 0 and vs["ties"] == 10 and vs["losses"] == 30 and vs["significant"] is True
    assert vs["per_query_delta"]["q1"] == pytest.approx(1 / 3 - 1)
    low, high = vs["confidence_interval"]
    assert low < vs["mean_delta"] < high < 0 and vs["confidence_level"] == 0.95
    assert "vs_baseline" not in out["runs"]["good"] and out["order"] == ["bad", "good"]


def test_fisher_is_reproducible_and_exact_for_small_n() -> None:
    a = np.array([1.0, 0.0, 1.0])
    b = np.array([0.0, 0.0, 1.0])
    assert paired_p_value(a, b, "fisher", 1000, 1) == pytest.approx(1.0)  # exact: 2^3 sign flips
    rng = np.random.default_rng(0)
    x = rng.random(200)
    y = x + rng.normal(0.02, 0.1, 200)
    assert paired_p_value(x, y, "fisher", 5000, 7) == paired_p_value(x, y, "fisher", 5000, 7)
    assert paired_p_value(x, y, "student", 0, 0) == pytest.approx(paired_p_value(x, y, "fisher", 20000, 7), abs=0.02)


def test_compare_errors() -> None:
    with pytest.raises(ConfigError, match=r"run names must be unique, 'good' appear"):
        compare_runs(QRELS, [GOOD, GOOD])
    with pytest.raises(ConfigError, match=r"baseline index 2 is out of range for 2 run\(s\); use 0..1"):
        compare_runs(QRELS, [GOOD, BAD], baseline=2)
    with pytest.raises(ConfigError, match=r"unknown stat_test 'wilcoxon'; allowed: fisher, student"):
        compare_runs(QRELS, [GOOD, BAD], stat_test="wilcoxon")
    with pytest.raises(ConfigError, match="no runs to compare"):
        compare_runs(QRELS, [])


def test_paired_interval_is_the_t_interval_of_the_differences() -> None:
    from scipy.stats import t

    rng = np.random.default_rng(3)
    control = rng.random(50)
    delta = rng.normal(0.03, 0.2, 50)
    low, high = paired_interval(control, control + delta, 0.9)
    half = t.ppf(0.95, 49) * delta.std(ddof=1) / np.sqrt(50)
    assert (low, high) == pytest.approx((delta.mean() - half, delta.mean() + half))
    wide = paired_interval(control, control + delta, 0.99)
    assert wide[0] < low and wide[1] > high


def test_paired_interval_without_spread_is_a_point() -> None:
    x = np.array([0.2, 0.5, 0.9])
    assert paired_interval(x, x) == (0.0, 0.0)
    assert paired_interval(x, x + 0.25) == pytest.approx((0.25, 0.25))
    assert all(math.isnan(bound) for bound in paired_interval(np.array([0.1]), np.array([0.4])))  # one query


def test_interval_level_follows_alpha() -> None:
    narrow = compare_runs(QRELS, [GOOD, BAD], ("mrr@10",), alpha=0.2)
    wide = compare_runs(QRELS, [GOOD, BAD], ("mrr@10",), alpha=0.01)
    (nl, nh), (wl, wh) = narrow.intervals["bad"]["mrr@10"], wide.intervals["bad"]["mrr@10"]
    assert wl < nl < nh < wh
    assert "[80% confidence interval, paired t]" in format_table(narrow)


def test_one_query_has_no_interval_in_the_table_or_the_json() -> None:
    qrels = Qrels({"q1": {"d1": 1}})
    base, better = Run({"q1": {"d2": 0.9, "d1": 0.5}}, name="base"), Run({"q1": {"d1": 0.9}}, name="better")
    comparison = compare_runs(qrels, [base, better], metrics=("mrr@10",))
    assert "+0.5000 [undefined: 1 query]" in format_table(comparison)
    entry = comparison.to_dict()["runs"]["better"]["vs_baseline"]["mrr@10"]
    assert entry["confidence_interval"] is None and entry["p_value"] is None and not entry["significant"]
    assert "better  undefined: 1 query" in format_table(comparison).splitlines(), "no p 1.0000 beside it"


@pytest.mark.parametrize("stat_test", ["student", "fisher"])
def test_a_paired_test_on_fewer_than_two_queries_is_undefined(stat_test) -> None:
    """One difference has no spread: ranx's t-test gave NaN (read as p = 1), scipy's permutation test raised."""
    assert math.isnan(paired_p_value(np.array([0.0]), np.array([1.0]), stat_test, 100, 0))
    assert math.isnan(paired_p_value(np.array([0.5]), np.array([0.5]), stat_test, 100, 0))
    assert paired_p_value(np.array([0.5, 0.2]), np.array([0.5, 0.2]), stat_test, 100, 0) == 1.0


SLIGHTLY_WORSE = _run("slightly-worse", [2 if i < 4 else 1 for i in range(N)])  # 4 of 40 queries at rank 2


def test_several_runs_are_marked_by_holm_adjusted_p_values() -> None:
    """Each run was tested at alpha on its own, so with more runs against one baseline a difference was marked by
    luck more often (up to m * alpha). Holm's adjustment (the default) keeps that chance at alpha."""
    comp = compare_runs(QRELS, [GOOD, SLIGHTLY_WORSE, SAME], ("mrr@10",))
    raw = comp.p_values["slightly-worse"]["mrr@10"]
    assert 0.025 < raw < 0.05, raw  # significant alone, not once doubled
    assert comp.p_value("slightly-worse", "mrr@10") == pytest.approx(2 * raw)
    assert not comp.significant("slightly-worse", "mrr@10")
    assert comp.p_value("same", "mrr@10") == 1.0
    entry = comp.to_dict()["runs"]["slightly-worse"]["vs_baseline"]["mrr@10"]
    assert entry["p_value"] == pytest.approx(raw) and entry["p_value_adjusted"] == pytest.approx(2 * raw)
    assert entry["significant"] is False and comp.to_dict()["correction"] == "holm"
    assert f"{2 * raw:.4f}" in format_table(comp) and "*" not in format_table(comp).splitlines()[3]
    unadjusted = compare_runs(QRELS, [GOOD, SLIGHTLY_WORSE, SAME], ("mrr@10",), correction="none")
    assert unadjusted.significant("slightly-worse", "mrr@10")
    alone = compare_runs(QRELS, [GOOD, SLIGHTLY_WORSE], ("mrr@10",))
    assert alone.significant("slightly-worse", "mrr@10") and alone.p_value("slightly-worse", "mrr@10") == raw


def test_an_unknown_correction_lists_the_allowed_ones() -> None:
    with pytest.raises(ConfigError, match=r"^unknown correction 'bonferoni'; allowed: holm, none$"):
        compare_runs(QRELS, [GOOD, BAD], ("mrr@10",), correction="bonferoni")


@pytest.mark.parametrize("correction", ["holm", "none"])
def test_a_comparison_read_back_from_its_json_prints_the_same_table(correction) -> None:
    """negmine report renders an evaluation from its results JSON: the comparison read back from ``to_dict`` (through
    JSON text) has the same means, p-values (adjusted or not), intervals and marks, so the same table and dict."""
    import json

    from negmine.evaluate.compare import Comparison

    comp = compare_runs(QRELS, [GOOD, SLIGHTLY_WORSE, BAD], METRICS, correction=correction)
    back = Comparison.from_dict(json.loads(json.dumps(comp.to_dict())))
    assert format_table(back) == format_table(comp) and back.to_dict() == comp.to_dict()
    assert back.names == ["good", "slightly-worse", "bad"] and back.corrected == comp.corrected
    one = compare_runs(Qrels({"q1": {"d1": 1}}), [Run({"q1": {"d2": 0.9, "d1": 0.5}}, name="base"),
                                                  Run({"q1": {"d1": 0.9}}, name="better")], metrics=("mrr@10",))
    undefined = Comparison.from_dict(json.loads(json.dumps(one.to_dict())))  # p and interval null in the JSON
    assert format_table(undefined) == format_table(one) and "undefined: 1 query" in format_table(undefined)
