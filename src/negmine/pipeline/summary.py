"""The run summary printed on stdout and written as JSON next to the output."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from negmine.errors import counted
from negmine.pipeline.select_pairs import SKIP_NONE, SKIP_TOO_FEW, SelectionStats
from negmine.pipeline.timing import in_stage_order


def score_stats(values: Sequence[float]) -> dict[str, float | int]:
    """Count, mean, std and quartiles of a score list (empty list -> count 0 and no other keys)."""
    if not values:
        return {"count": 0}
    arr = np.asarray(values, dtype=np.float64)
    q = np.quantile(arr, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {
        "count": int(arr.size),
        "mean": round(float(arr.mean()), 6),
        "std": round(float(arr.std()), 6),
        "min": round(float(q[0]), 6),
        "p25": round(float(q[1]), 6),
        "median": round(float(q[2]), 6),
        "p75": round(float(q[3]), 6),
        "max": round(float(q[4]), 6),
    }


def build_summary(stats: SelectionStats, seconds: dict[str, float], extra: dict) -> dict:
    return {
        "pairs_in": stats.pairs_in,
        "pairs_out": stats.pairs_out,
        "pairs_skipped": dict(sorted(stats.skipped.items())),
        "pairs_from_fallback": stats.from_fallback,
        "pairs_tried_fallback": stats.tried_fallback,
        "candidates_removed_by_filter": dict(sorted(stats.removed.items())),
        "positive_scores": score_stats(stats.positive_scores),
        "negative_scores": score_stats(stats.negative_scores),
        "seconds": seconds,
        **extra,
    }


_FALLBACK_NO_WORDS = (": its short pairs' fallback pools hold only its dense candidates",
                      ": their short pairs' fallback pools hold only their dense candidates")


def _fallback(summary: dict) -> bool:
    """Whether the run had --fallback (its BM25 searched only the queries with a short pair)."""
    return summary.get("config", {}).get("retrieve", {}).get("fallback") is not None


_SCORE_FILTERS = ("absolute_margin", "max_score", "min_score", "relative_margin", "sd_margin")


def filter_set(config: dict | None, name: str) -> bool:
    """Whether the run's config (the summary's ``config``) set filter ``name``: the lines of filters it did not
    set read "candidates removed by absolute_margin: 0" on every default run, as if that margin had been applied
    and removed nothing. A filter that removed candidates is shown whatever this says; without a recorded config
    every filter is."""
    if not config:
        return True
    if name in _SCORE_FILTERS:
        return config.get("filters", {}).get(name) is not None
    if name == "rank_window":
        from negmine.errors import ConfigError
        from negmine.select.strategy import REGISTRY

        select = config.get("select", {})
        try:
            strategy = REGISTRY.find(select.get("strategy"))
        except ConfigError:  # a recorded run's plugin that no longer loads: its window is not known
            strategy = None
        default = strategy.default_window if strategy is not None else (None, None)
        return select.get("rank_min") is not None or select.get("rank_max") is not None or default != (None, None)
    if name == "near_duplicate_of_positive":
        near_dup = config.get("near_dup", {})
        return near_dup.get("cosine") is not None or near_dup.get("overlap") is not None
    return True


def format_summary(summary: dict) -> str:
    """Human-readable summary for stdout."""
    lines = [
        f"pairs: {summary['pairs_in']} in, {summary['pairs_out']} out",
    ]
    if summary.get("qrels_not_relevant"):
        lines.append(f"  qrels rows not relevant (score <= 0) {summary['qrels_not_relevant']}: no pair (such a document "
                     "can be a negative)")
    lines += format_skipped_qrels(summary.get("unknown_qrels", {}))
    for reason, n in summary["pairs_skipped"].items():
        lines.append(f"  skipped {n}: {reason}")
    lines += [f"  {label}: {value}" for label, value in pairs_mined_apart(summary).items()]
    added = added_positives(summary)
    if added is not None:
        lines.append(f"  {ADDED_POSITIVES}: {added}")
    if n := summary.get("queries_without_bm25_words"):
        fallback = _FALLBACK_NO_WORDS[n != 1] if _fallback(summary) else ""
        lines.append(f"  {counted(n, 'query', 'queries')} {'has' if n == 1 else 'have'} no BM25 word (BM25 retrieved "
                     f"nothing for {'it' if n == 1 else 'them'}{fallback})")
    for name, n in summary["candidates_removed_by_filter"].items():
        if n or filter_set(summary.get("config"), name):
            lines.append(f"  candidates removed by {name}: {n}")
    hint = margin_hint(summary)
    if hint:
        lines.append(hint)
    lines += ann_lines(summary.get("engine", {}))
    for key in ("positive_scores", "negative_scores"):
        st = summary[key]
        if st["count"]:
            lines.append(f"{key.replace('_', ' ')}: mean {st['mean']:.4f} (median {st['median']:.4f}, n={st['count']})")
    enc = summary.get("embeddings", {})
    if any(enc.get(key) for key in ("encoded", "cached", "resumed")):  # BM25 alone encodes no text: no line
        resumed = enc.get("resumed", 0)  # from the work folder, not the cache: also with --no-cache
        lines.append(f"embeddings: {enc.get('encoded', 0)} encoded, {enc.get('cached', 0)} from cache"
                     + (f", {resumed} from the shards a stopped run finished" if resumed else ""))
    lines.append("seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in in_stage_order(summary["seconds"])))
    if summary.get("output"):
        lines.append(f"output: {summary['output']}")
    # one line per export, as negmine audit prints them (this printed the dict: exports: {'n-tuple': '...'})
    lines += [f"export {fmt}: {path}" for fmt, path in (summary.get("exports") or {}).items()]
    lines += format_export_skipped(summary)
    return "\n".join(lines)


FALLBACK_PAIRS = "short pairs selected from the fallback (hybrid) pool"
"""The label of ``pairs_from_fallback`` of ``pairs_tried_fallback`` that tried it, on stdout and in the mining
report (:func:`pairs_mined_apart`)."""

REPEATING_PAIRS = ("pairs repeating an earlier pair up to case, spacing or invisible characters, each mined as a pair "
                   "of its own (so it counts twice)")
"""The label of ``pairs_repeating_another`` on stdout and in the mining report (the warning's words,
:func:`negmine.pipeline.variant_pairs.warn_variant_pairs`)."""


def pairs_mined_apart(summary: Mapping) -> dict[str, object]:
    """The counts of pairs that were mined, not left out, which stdout and the mining report show apart from the
    pairs and candidates left out: the short pairs selected from the fallback pool, of the short pairs that tried
    it (``1 of 2 that tried it``), and the pairs repeating an earlier one up to case or spacing; none when the count
    is 0. Both count rows written: the fallback's ``pairs_from_fallback``, and ``pairs_repeating_another`` (the
    rows repeating an earlier row, :class:`negmine.pipeline.variant_pairs.MinedRepeats`; until 2026-12-07 the
    input's pairs before selection, skipped ones included). The fallback's denominator, ``pairs_tried_fallback``,
    is every short pair that tried it, mined or then skipped: the share the fallback rescued, which a denominator
    of mined pairs alone would hide (until 2026-12-07 the value read ``1 of 2``, which under "Among the pairs
    mined" read as 2 pairs mined). The report showed both under "Pairs and candidates left out" until 2026-12-07,
    and stdout printed no line for the repeating pairs (only the warning, on stderr, said them)."""
    counts: dict[str, object] = {}
    if summary.get("pairs_tried_fallback"):
        tried = summary["pairs_tried_fallback"]
        counts[FALLBACK_PAIRS] = f"{summary.get('pairs_from_fallback', 0)} of {tried} that tried it"
    if summary.get("pairs_repeating_another"):
        counts[REPEATING_PAIRS] = summary["pairs_repeating_another"]
    return counts


ADDED_POSITIVES = "positives not in the corpus file (exact text), added to it as documents p<row>"
"""The label of ``pairs_positives_added_to_corpus`` on stdout and in the mining report (:func:`added_positives`)."""


def added_positives(summary: Mapping) -> str | None:
    """The positives a ``--pairs`` run added to its ``--corpus`` (the summary's ``pairs_positives_added_to_corpus``)
    as stdout and the mining report say them, after :data:`ADDED_POSITIVES`: ``2 of 10 distinct positives (1 of them
    differing from a corpus document only in whitespace)``; None when it added none or had no corpus file. Until
    2026-12-07 ``negmine mine`` said it in its warning only (stderr), not among the counts it prints."""
    added = summary.get("pairs_positives_added_to_corpus")
    if not isinstance(added, dict) or not added.get("added"):
        return None
    text = f"{added['added']} of {added.get('distinct_positives', '?')} distinct positives"
    if added.get("whitespace_only"):
        text += f" ({added['whitespace_only']} of them differing from a corpus document only in whitespace)"
    return text


NTUPLE_WIDTH_HINT = "; a smaller --ntuple-negatives N keeps every row with at least N negatives (cut to its first N)"
"""The fix for n-tuple rows narrower than the widest: after an audit that dropped negatives (the default policy)
the export skipped 17 of the demo's 69 cleaned rows, and the line did not say how to keep them."""


def format_export_skipped(summary: dict) -> list[str]:
    """One line per export format that left rows of the native file out, with its reasons, and one for the
    negatives marked as false negatives that no export holds."""
    from negmine.export.ntuple import SKIP_SHORT

    lines = [
        f"  export {fmt} left out {counted(sum(reasons.values()), 'row')}: "
        + "; ".join(f"{reason} ({n})" for reason, n in reasons.items())
        + (NTUPLE_WIDTH_HINT if SKIP_SHORT in reasons else "")
        for fmt, reasons in summary.get("export_skipped", {}).items()
    ]
    if summary.get("export_flagged_left_out"):
        lines.append(f"  exports left out {counted(summary['export_flagged_left_out'], 'negative')} marked as false negatives "
                     "(other trainers would take them for hard negatives; negmine train masks them in the native file)")
    return lines


MARGIN_HINT_SHARE = 0.2
"""Share of pairs left without enough negatives above which :func:`margin_hint` speaks."""


def margin_hint(summary: dict) -> str | None:
    """A hint when many pairs got too few negatives and the relative margin removed most candidates: what
    happens with models whose cosines are compressed (e5, bge, gte: the positive scores ~0.9 and the whole
    candidate list lies within 5% of it). On SciFact: MiniLM loses 9% of pairs, multilingual-e5-small 57%."""
    short = sum(summary["pairs_skipped"].get(reason, 0) for reason in (SKIP_NONE, SKIP_TOO_FEW))
    removed = summary["candidates_removed_by_filter"]
    if not summary["pairs_in"] or short <= MARGIN_HINT_SHARE * summary["pairs_in"] or not removed:
        return None
    if max(removed, key=lambda name: (removed[name], name)) != "relative_margin":
        return None
    return (
        f"hint: {short} of {counted(summary['pairs_in'], 'pair')} ({short / summary['pairs_in']:.0%}) got fewer negatives "
        "than asked, most candidates removed by the relative margin. If the model's cosines are compressed "
        "(e5, bge, gte: positives score ~0.9), the cut is too wide for its scale: set filters.relative_margin=None "
        "and leave filters.sd_margin at its default 0.5 (drop --relative-margin and --no-sd-margin; the sd margin is "
        "in units of each query's score spread), or use a larger retrieve.depth (--depth)"
    )


def ann_lines(engine: dict) -> list[str]:
    """Stdout line for an ANN search (``--index ivf | hnsw | ivfpq``): the breadth each shard searched (0: exactly)
    and, with ``--target-recall``, the recall its calibration sample reached (1.0 for an exact shard)."""
    name = next((key for key in ("ann_nprobe_per_shard", "ann_ef_search_per_shard") if key in engine), None)
    if name is None:
        return []
    label = "nprobe" if name == "ann_nprobe_per_shard" else "efSearch"
    line = f"ann ({engine.get('index')}): {label} per shard {_short_list(engine[name])}"
    if "ann_refine_per_shard" in engine:
        line += f", refine {_short_list(engine['ann_refine_per_shard'])}"
    target = engine.get("ann_target_recall")
    if target is None:
        return [line + " (fixed; --target-recall 0)"]
    recalls = engine["ann_sample_recall_per_shard"]
    return [line + f", sample recall {_short_list(recalls)} (target {target}; 0: searched exactly, cheaper there)"]


def _short_list(values: list, most: int = 8) -> str:
    shown = ", ".join(str(v) for v in values[:most])
    return f"[{shown}{', ...' if len(values) > most else ''}]"


def format_skipped_qrels(report: dict) -> list[str]:
    """Stdout lines for ``--unknown-qrels skip`` (see ``Dataset.skipped_qrels``); none when nothing was skipped."""
    if not report.get("skipped"):
        return []
    examples = ", ".join(repr(d) for d in report["example_ids"])
    lines = [f"  qrels rows skipped {report['skipped']} ({report['relevant_skipped']} relevant): document not in "
             f"the corpus, e.g. {examples}"]
    if report["queries_without_positive"]:
        queries = ", ".join(repr(q) for q in report["example_queries"])
        lines.append(f"  queries left without a positive {report['queries_without_positive']}: no pair, e.g. {queries}")
    return lines
