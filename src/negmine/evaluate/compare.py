"""Compare several runs on one qrels: metric table, paired significance vs a baseline, per-query deltas.

Tests are two-sided and paired over the evaluated queries (Smucker, Allan & Carterette, CIKM 2007):

- ``student``: paired Student's t-test, via ranx (``ranx.statistical_tests.paired_student_t_test``, the
  test ``ranx.compare`` runs by default). Identical per-query scores (t = 0/0) give p = 1.
- ``fisher``: Fisher's randomisation test on the mean difference, by ``scipy.stats.permutation_test``
  (sign flips of the paired differences, ``n_permutations`` resamples, exact when 2^n is smaller, fixed
  seed). ranx's own Fisher test draws from numba's per-thread generators and is not reproducible
  run to run, which would break byte-identical outputs.

A run is marked significantly different from the baseline on a metric when p <= ``alpha``; with several runs
against one baseline, p is first Holm-adjusted over them, per metric (``correction="holm"``, the default;
:mod:`negmine.evaluate.holm`), since each extra run is one more chance to mark a difference by luck. Each delta also
gets its ``1 - alpha`` confidence interval: the paired t interval, mean difference +- t_{1-alpha/2, n-1} *
sd / sqrt(n) (``scipy.stats.ttest_rel``), whichever test gives the p-value. Its half-width is the smallest
difference the queries can resolve: on SciFact's 300 test queries about +-2 nDCG@10 points between two
fine-tuned models (averaging training seeds shrinks only the training-noise part of it).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from negmine.config import CORRECTIONS, STAT_TESTS
from negmine.errors import ConfigError, unknown_choice
from negmine.evaluate.first_relevant import relevant_ids
from negmine.evaluate.holm import holm_adjust
from negmine.evaluate.metrics import DEFAULT_METRICS, EvalResult, evaluate_run
from negmine.evaluate.run import Run
from negmine.io.records import Qrels

STAT_TEST_LABELS = {"student": "paired t-test", "fisher": "Fisher randomisation test"}


@dataclass(frozen=True)
class Comparison:
    """Results of every run (in the order given), p-values of each non-baseline run vs the baseline."""

    results: tuple[EvalResult, ...]
    baseline: str
    stat_test: str
    alpha: float
    p_values: dict[str, dict[str, float]]
    """p-value of each non-baseline run vs the baseline per metric; NaN where undefined (fewer than two queries)."""
    intervals: dict[str, dict[str, tuple[float, float]]]
    """``1 - alpha`` confidence interval of each non-baseline run's mean delta per metric (paired t; not adjusted)."""
    correction: str = "none"
    adjusted_p_values: dict[str, dict[str, float]] | None = None
    """``p_values`` after ``correction`` (None: ``p_values`` themselves); what :meth:`significant` reads."""
    relevant: dict[str, tuple[str, ...]] | None = None
    """Each evaluated query's relevant documents, highest grade first (:func:`negmine.evaluate.first_relevant.
    relevant_ids`); None when not recorded (results written before 2026-12-07)."""

    def p_value(self, name: str, metric: str) -> float:
        """The p-value a run is marked by: adjusted when a correction applies, else the raw one."""
        return (self.adjusted_p_values or self.p_values)[name][metric]

    @property
    def corrected(self) -> bool:
        """Whether the marks read adjusted p-values (a correction over two or more compared runs)."""
        return self.adjusted_p_values is not None and len(self.p_values) > 1

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.results[0].metrics

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.results]

    def result(self, name: str) -> EvalResult:
        for res in self.results:
            if res.name == name:
                return res
        raise unknown_choice("run", name, self.names)

    def __str__(self) -> str:
        """The table ``negmine eval`` prints (means, deltas with intervals, significance marks)."""
        return format_table(self)

    def significant(self, name: str, metric: str) -> bool:
        return name != self.baseline and self.p_value(name, metric) <= self.alpha  # NaN (undefined): False

    def deltas(self, name: str, metric: str) -> np.ndarray:
        """Per-query ``run - baseline`` scores, aligned with ``results[i].query_ids``."""
        return self.result(name).per_query[metric] - self.result(self.baseline).per_query[metric]

    def to_dict(self, per_query: bool = True) -> dict:
        base = self.result(self.baseline)
        runs = {}
        for res in self.results:
            entry = res.to_dict(per_query)
            if res.name != self.baseline:
                entry["vs_baseline"] = self._vs_baseline(res, base, per_query)
            runs[res.name] = entry
        out = {
            "baseline": self.baseline,
            "stat_test": self.stat_test,
            "alpha": self.alpha,
            "correction": self.correction,
            "metrics": list(self.metrics),
            "order": self.names,
            "runs": runs,
        }
        if per_query and self.relevant is not None:
            out["relevant"] = {q: list(docs) for q, docs in self.relevant.items()}
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> Comparison:
        """The Comparison :meth:`to_dict` (with ``per_query``) wrote, as the results JSON of ``negmine eval`` holds
        it under ``comparison``: the same means, per-query scores (in the baseline's query order), p-values,
        intervals, relevant documents and ranks (None when not recorded), so :func:`format_table` prints what the
        evaluation printed. Assumes that layout (a file read
        from disk is checked first: :func:`negmine.report.evaluation.read_eval_results`)."""
        metrics = tuple(data["metrics"])
        base = data["runs"][data["baseline"]]
        query_ids = tuple(base["per_query"][metrics[0]])
        results = tuple(EvalResult(name, metrics, query_ids, {m: data["runs"][name]["mean"][m] for m in metrics},
                                   {m: np.array([data["runs"][name]["per_query"][m][q] for q in query_ids],
                                                dtype=np.float64) for m in metrics},
                                   *_ranks(data["runs"][name], query_ids))
                        for name in data["order"])
        tests = {name: entry["vs_baseline"] for name, entry in data["runs"].items() if name != data["baseline"]}
        p_values = {name: {m: _nan_p(test[m]["p_value"]) for m in metrics} for name, test in tests.items()}
        adjusted = None if data["correction"] == "none" else {
            name: {m: _nan_p(test[m]["p_value_adjusted"]) for m in metrics} for name, test in tests.items()}
        intervals = {name: {m: tuple(test[m]["confidence_interval"] or (math.nan, math.nan)) for m in metrics}
                     for name, test in tests.items()}
        relevant = data.get("relevant")
        return cls(results, data["baseline"], data["stat_test"], data["alpha"], p_values, intervals,
                   data["correction"], adjusted,
                   None if relevant is None else {q: tuple(relevant[q]) for q in query_ids})

    def _vs_baseline(self, res: EvalResult, base: EvalResult, per_query: bool) -> dict:
        out = {}
        for m in self.metrics:
            delta = res.per_query[m] - base.per_query[m]
            low, high = self.intervals[res.name][m]
            entry = {
                "mean_delta": float(np.mean(delta)),
                "confidence_interval": None if math.isnan(low) else [low, high],
                "confidence_level": 1 - self.alpha,
                "p_value": _json_p(self.p_values[res.name][m]),
                "p_value_adjusted": _json_p(self.p_value(res.name, m)),
                "significant": self.significant(res.name, m),
                **dict(zip(("wins", "ties", "losses"), wins_ties_losses(delta))),
            }
            if per_query:
                entry["per_query_delta"] = {q: float(d) for q, d in zip(res.query_ids, delta)}
            out[m] = entry
        return out


def wins_ties_losses(delta: np.ndarray) -> tuple[int, int, int]:
    """Queries where the run scores higher than the baseline, the same, lower (``delta``: run - baseline)."""
    return int(np.sum(delta > 0)), int(np.sum(delta == 0)), int(np.sum(delta < 0))


def _ranks(run: Mapping, query_ids: Sequence[str]) -> tuple:
    """A run's first relevant ranks and depths per query as :meth:`Comparison.to_dict` wrote them, or (None, None)
    for results written before they were recorded."""
    if "first_relevant_rank" not in run or "documents_ranked" not in run:
        return None, None
    return (tuple(run["first_relevant_rank"][q] for q in query_ids),
            tuple(run["documents_ranked"][q] for q in query_ids))


def _json_p(p: float) -> float | None:
    return None if math.isnan(p) else p


def _nan_p(p: float | None) -> float:
    """A p-value as the results JSON holds it (``null``: undefined) back to the float :class:`Comparison` holds."""
    return math.nan if p is None else float(p)


def compare_runs(
    qrels: Qrels,
    runs: Sequence[Run],
    metrics: Sequence[str] = DEFAULT_METRICS,
    baseline: int = 0,
    stat_test: str = "student",
    alpha: float = 0.05,
    n_permutations: int = 10000,
    seed: int = 42,
    correction: str = "holm",
) -> Comparison:
    """Evaluate every run on ``qrels`` and test each against ``runs[baseline]`` (names must be unique);
    ``correction`` (:data:`negmine.config.CORRECTIONS`) adjusts the p-values over the compared runs."""
    _check_runs(runs, baseline, stat_test, correction)
    results = tuple(evaluate_run(qrels, run, metrics) for run in runs)
    base = results[baseline]
    others = [res for res in results if res.name != base.name]
    p_values = {
        res.name: {m: paired_p_value(base.per_query[m], res.per_query[m], stat_test, n_permutations, seed) for m in res.metrics}
        for res in others
    }
    intervals = {res.name: {m: paired_interval(base.per_query[m], res.per_query[m], 1 - alpha) for m in res.metrics}
                 for res in others}
    return Comparison(results, base.name, stat_test, alpha, p_values, intervals, correction,
                      adjust(p_values, correction), relevant_ids(qrels, base.query_ids))


def adjust(p_values: dict[str, dict[str, float]], correction: str) -> dict[str, dict[str, float]] | None:
    """Each metric's p-values adjusted over the compared runs (None for ``none``)."""
    if correction == "none":
        return None
    names = list(p_values)
    metrics = list(p_values[names[0]]) if names else []
    columns = {m: holm_adjust([p_values[n][m] for n in names]) for m in metrics}
    return {n: {m: float(columns[m][i]) for m in metrics} for i, n in enumerate(names)}


def _check_runs(runs: Sequence[Run], baseline: int, stat_test: str, correction: str) -> None:
    if not runs:
        raise ConfigError("no runs to compare; give at least one model or run file")
    names = [r.name for r in runs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"run names must be unique, {', '.join(map(repr, duplicates))} appear twice; rename the runs")
    if not 0 <= baseline < len(runs):
        raise ConfigError(f"baseline index {baseline} is out of range for {len(runs)} run(s); use 0..{len(runs) - 1}")
    if stat_test not in STAT_TESTS:
        raise unknown_choice("stat_test", stat_test, STAT_TESTS)
    if correction not in CORRECTIONS:
        raise unknown_choice("correction", correction, CORRECTIONS)


def paired_p_value(control: np.ndarray, treatment: np.ndarray, stat_test: str, n_permutations: int, seed: int) -> float:
    """Two-sided p-value of the paired difference of per-query scores; 1.0 when they are identical. NaN (reported
    as undefined, never significant) for fewer than two queries: one difference says nothing about its spread
    (ranx's t-test gives NaN, which read as p = 1, "no difference"; scipy's permutation test raises ValueError)."""
    control = np.asarray(control, dtype=np.float64)
    treatment = np.asarray(treatment, dtype=np.float64)
    if len(control) < 2:
        return math.nan
    if np.array_equal(control, treatment):
        return 1.0
    if stat_test == "student":
        from ranx.statistical_tests import paired_student_t_test

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # scipy's near-identical-data precision note
            p, _ = paired_student_t_test(control, treatment)
    elif stat_test == "fisher":
        from scipy.stats import permutation_test

        p = permutation_test(
            (treatment, control), _mean_difference, permutation_type="samples", vectorized=True,
            n_resamples=n_permutations, alternative="two-sided", random_state=seed,
        ).pvalue
    else:
        raise unknown_choice("stat_test", stat_test, STAT_TESTS)
    p = float(p)
    return 1.0 if math.isnan(p) else min(p, 1.0)


def paired_interval(control: np.ndarray, treatment: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """``level`` confidence interval of the mean of ``treatment - control`` (paired t); (d, d) when every
    per-query difference is the same d (to 1e-12), so the interval has no width; (nan, nan) for fewer than two
    queries, where a paired t interval is undefined (one difference says nothing about its spread)."""
    from scipy.stats import ttest_rel

    delta = np.asarray(treatment, dtype=np.float64) - np.asarray(control, dtype=np.float64)
    if len(delta) < 2:
        return math.nan, math.nan
    if np.ptp(delta) <= 1e-12:
        mean = float(np.mean(delta))
        return mean, mean
    ci = ttest_rel(delta, np.zeros_like(delta)).confidence_interval(level)
    return float(ci.low), float(ci.high)


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
    return np.mean(x - y, axis=axis)


def _fmt_p(comparison: Comparison, name: str, metric: str) -> str:
    p = comparison.p_value(name, metric)
    if math.isnan(p):
        return _undefined(comparison, name, metric)
    return "<0.0001" if p < 1e-4 else f"{p:.4f}"


def _undefined(comparison: Comparison, name: str, metric: str) -> str:
    """What the table shows for a p-value or an interval that fewer than two queries leave undefined."""
    return f"undefined: {len(comparison.deltas(name, metric))} query"


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def format_table(comparison: Comparison) -> str:
    """Plain-text, column-aligned tables: mean of each metric per run, then p-values, mean deltas with intervals and
    wins/ties/losses vs the baseline, then the notes under them (:func:`table_notes`)."""
    lines: list[str] = []
    for heading, rows in table_blocks(comparison):
        lines += ["", heading] if heading else []
        lines += _align(rows)
    notes = table_notes(comparison)
    return "\n".join(lines + ([""] + notes if notes else []))


def table_blocks(comparison: Comparison) -> list[tuple[str, list[list[str]]]]:
    """The tables of :func:`format_table`, each as (the line above it, "" for the first; its rows, header first):
    means (``*``: significant vs the baseline), then with other runs than the baseline their p-values, mean
    deltas with confidence intervals and wins/ties/losses. ``negmine report`` shows the same cells as HTML tables."""
    metrics = list(comparison.metrics)
    rows = [["run", "queries", *metrics]]
    for res in comparison.results:
        label = f"{res.name} (baseline)" if res.name == comparison.baseline else res.name
        cells = [f"{res.mean[m]:.4f}{'*' if comparison.significant(res.name, m) else ''}" for m in metrics]
        rows.append([label, str(len(res.query_ids)), *cells])
    blocks = [("", rows)]
    others = [r for r in comparison.results if r.name != comparison.baseline]
    if others:
        test = STAT_TEST_LABELS[comparison.stat_test]
        p_rows = [["run", *metrics]]
        p_rows += [[r.name, *(_fmt_p(comparison, r.name, m) for m in metrics)] for r in others]
        blocks.append((f"p-values vs baseline {comparison.baseline!r} ({test}, two-sided"
                       f"{_correction_note(comparison)}; * = p <= {comparison.alpha:g}):", p_rows))
        level = f"{100 * (1 - comparison.alpha):g}%"
        ci_rows = [["run", *metrics]]
        ci_rows += [[r.name, *(_fmt_delta(comparison, r.name, m) for m in metrics)] for r in others]
        blocks.append((f"mean delta vs baseline [{level} confidence interval, paired t{_interval_note(comparison)}]:",
                       ci_rows))
        wtl_rows = [["run", *metrics]]
        wtl_rows += [[r.name, *(" / ".join(map(str, wins_ties_losses(comparison.deltas(r.name, m))))
                                for m in metrics)] for r in others]
        blocks.append(("wins / ties / losses vs baseline (queries where the run scores higher / the same / lower):",
                       wtl_rows))
    return blocks


def table_notes(comparison: Comparison) -> list[str]:
    """Lines under the tables: what a low judged@k means, when the evaluation has one."""
    judged = [m for m in comparison.metrics if m.startswith("judged@")]
    return [judged_note(judged)] if judged else []


def judged_note(metrics: Sequence[str]) -> str:
    """One line on reading judged@k (``metrics``: the judged@k names shown, e.g. ``["judged@10"]``)."""
    top = f"top {metrics[0].split('@', 1)[1]}" if len(metrics) == 1 else "top k"
    return (f"{', '.join(metrics)}: the share of a run's {top} that the qrels judge; with qrels that list only "
            "relevant documents (BEIR's) 0.02-0.11 is common and means the other metrics score most retrieved "
            "documents, unjudged, as not relevant (unlabelled positives too), not that the run is poor")


def _correction_note(comparison: Comparison) -> str:
    """How the table's p-values were adjusted, if they were."""
    if not comparison.corrected:
        return ""
    return f", Holm-adjusted over the {len(comparison.p_values)} runs compared (raw p-values in the results JSON)"


def _interval_note(comparison: Comparison) -> str:
    """With several runs compared: that the intervals are each run's own (not adjusted), whatever the p-values are."""
    if len(comparison.p_values) < 2:
        return ""
    if comparison.corrected:
        return "; unadjusted, unlike the Holm-adjusted p-values above"
    return "; unadjusted, as the p-values above"


def format_delta(value: float, sign: bool = True) -> str:
    """A delta (or its size, ``sign=False``) to 4 decimals, or as many more as show its first two significant
    digits, up to 8 (smaller: scientific notation), so a non-zero delta never prints as ``-0.0000``: a delta of
    -0.000031 [-0.00015, +0.000090] printed as ``-0.0000 [-0.0000, +0.0000]``. Exactly 0 prints ``+0.0000``."""
    plus = "+" if sign else ""
    if value == 0 or not math.isfinite(value):
        return f"{0.0 if value == 0 else value:{plus}.4f}"
    decimals = max(4, 1 - math.floor(math.log10(abs(value))))
    return f"{value:{plus}.1e}" if decimals > 8 else f"{value:{plus}.{decimals}f}"


def _fmt_delta(comparison: Comparison, name: str, metric: str) -> str:
    low, high = comparison.intervals[name][metric]
    mean = format_delta(float(np.mean(comparison.deltas(name, metric))))
    if math.isnan(low):
        return f"{mean} [{_undefined(comparison, name, metric)}]"
    return f"{mean} [{format_delta(low)}, {format_delta(high)}]"
