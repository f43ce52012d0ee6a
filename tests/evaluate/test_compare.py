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
    deltas = lines.index("mean delta vs baseline [95% confidence interval, paired t; unadjusted, unlike the "
                         "Holm-adjusted p-values above]:")
    assert lines[deltas + 4].split() == ["same", "+0.0000", "[+0.0000,", "+0.0000]", "+0.0000", "[+0.0000,", "+0.0000]"]
    assert lines[deltas + 3].split()[:1] == ["bad"]
    assert lines[deltas + 3].split()[4:7] == ["-0.5000", "[-0.5935,", "-0.4065]"]
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


def test_the_json_records_each_querys_relevant_documents_and_each_runs_rank_of_them() -> None:
    """The report's per-query table lists them: a score alone does not say whether a model ranked the relevant
    document 2nd or past its depth."""
    import json

    from negmine.evaluate.compare import Comparison

    comp = compare_runs(QRELS, [GOOD, BAD, _run("lost", [0] * N)], ("mrr@10",))
    out = comp.to_dict()
    assert out["relevant"] == {f"q{i}": [f"rel{i}"] for i in range(N)}
    assert out["runs"]["bad"]["first_relevant_rank"] == {f"q{i}": 3 if i % 4 else 1 for i in range(N)}
    assert out["runs"]["lost"]["first_relevant_rank"] == {f"q{i}": None for i in range(N)}
    assert out["runs"]["lost"]["documents_ranked"] == {f"q{i}": 5 for i in range(N)}
    back = Comparison.from_dict(json.loads(json.dumps(out)))
    assert back.to_dict() == out and back.result("lost").depths == (5,) * N
    assert "relevant" not in comp.to_dict(per_query=False)


def _comparison(base: list[float], other: list[float], metric: str = "ndcg@10"):
    """A comparison of two runs given their per-query scores (no ranking needed), as compare_runs builds it."""
    from negmine.evaluate.compare import Comparison
    from negmine.evaluate.metrics import EvalResult

    ids = tuple(f"q{i}" for i in range(len(base)))
    results = tuple(EvalResult(name, (metric,), ids, {metric: float(np.mean(v))}, {metric: np.array(v)})
                    for name, v in (("base", base), ("other", other)))
    p = {"other": {metric: paired_p_value(np.array(base), np.array(other), "student", 0, 0)}}
    ci = {"other": {metric: paired_interval(np.array(base), np.array(other))}}
    return Comparison(results, "base", "student", 0.05, p, ci, "holm")


def test_a_small_delta_prints_its_significant_digits_not_zeros() -> None:
    """A delta of -0.000031 printed as ``-0.0000 [-0.0000, +0.0000]`` beside p 0.6143: 4 decimals hid its size."""
    from negmine.evaluate.compare import format_delta

    base = [0.5, 0.6, 0.7, 0.4, 0.3]
    small = [0.5 - 0.0002, 0.6 + 0.0001, 0.7 - 0.00005, 0.4, 0.3 - 0.000005]
    text = format_table(_comparison(base, small))
    mean = float(np.mean(np.array(small) - np.array(base)))
    low, high = paired_interval(np.array(base), np.array(small))
    assert f"{mean:+.6f} [{low:+.5f}, {high:+.5f}]" in text, text  # -0.000031 [-0.00016, +0.000098]
    assert "0.0000 [" not in text and "0.0000]" not in text
    assert [format_delta(v) for v in (0.0, -0.0, 0.25, -0.0693, 0.0012, 0.00012, -3.1e-5, 1.2e-8)] == [
        "+0.0000", "+0.0000", "+0.2500", "-0.0693", "+0.0012", "+0.00012", "-0.000031", "+1.2e-08"]
    assert format_delta(0.00012, sign=False) == "0.00012"


def test_the_intervals_are_labelled_unadjusted_when_the_p_values_are_adjusted() -> None:
    """The p-values are Holm-adjusted over several compared runs, the intervals are each run's own: the header
    said "95% confidence interval, paired t" only."""
    holm = format_table(compare_runs(QRELS, [GOOD, BAD, SAME], ("mrr@10",)))
    assert ("mean delta vs baseline [95% confidence interval, paired t; unadjusted, unlike the Holm-adjusted "
            "p-values above]:") in holm.splitlines()
    raw = format_table(compare_runs(QRELS, [GOOD, BAD, SAME], ("mrr@10",), correction="none"))
    assert "mean delta vs baseline [95% confidence interval, paired t; unadjusted, as the p-values above]:" in raw
    alone = format_table(compare_runs(QRELS, [GOOD, BAD], ("mrr@10",)))  # one run compared: nothing to adjust
    assert "mean delta vs baseline [95% confidence interval, paired t]:" in alone.splitlines()


def test_the_table_counts_wins_ties_and_losses_as_the_json_does() -> None:
    """The JSON and the report's captions counted them; stdout did not."""
    comp = compare_runs(QRELS, [GOOD, BAD, SAME], ("ndcg@10", "mrr@10"))
    lines = format_table(comp).splitlines()
    at = lines.index("wins / ties / losses vs baseline (queries where the run scores higher / the same / lower):")
    assert lines[at + 1].split() == ["run", "ndcg@10", "mrr@10"]
    saved = comp.to_dict()["runs"]
    for line, name in zip(lines[at + 3:at + 5], ("bad", "same")):
        counts = [" / ".join(str(saved[name]["vs_baseline"][m][k]) for k in ("wins", "ties", "losses"))
                  for m in ("ndcg@10", "mrr@10")]
        assert [part.strip() for part in line.split("  ") if part.strip()] == [name, *counts]
    assert lines[at + 3].split()[1:] == ["0", "/", "10", "/", "30"] * 2
    assert "wins / ties" not in format_table(compare_runs(QRELS, [GOOD], ("mrr@10",)))  # no run compared


def test_a_line_says_what_a_low_judged_at_k_means() -> None:
    """judged@10 of 0.02-0.11 is common on BEIR qrels (positives only); nothing said what it means."""
    text = format_table(compare_runs(QRELS, [GOOD, BAD], METRICS))
    assert text.splitlines()[-1] == (
        "judged@5: the share of a run's top 5 that the qrels judge; with qrels that list only relevant documents "
        "(BEIR's) 0.02-0.11 is common and means the other metrics score most retrieved documents, unjudged, as not "
        "relevant (unlabelled positives too), not that the run is poor")
    assert "judged" not in format_table(compare_runs(QRELS, [GOOD, BAD], ("mrr@10",)))
