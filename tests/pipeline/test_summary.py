from __future__ import annotations

import pytest

from negmine.pipeline.select_pairs import SelectionStats
from negmine.pipeline.summary import ann_lines, build_summary, format_skipped_qrels, format_summary

REPORT = {"policy": "skip", "skipped": 4, "relevant_skipped": 3, "example_ids": ["d9", "d8"],
          "queries_without_positive": 2, "example_queries": ["q1", "q2"]}


def test_skipped_qrels_lines_give_counts_and_examples():
    assert format_skipped_qrels(REPORT) == [
        "  qrels rows skipped 4 (3 relevant): document not in the corpus, e.g. 'd9', 'd8'",
        "  queries left without a positive 2: no pair, e.g. 'q1', 'q2'",
    ]
    assert format_skipped_qrels({**REPORT, "queries_without_positive": 0}) == [format_skipped_qrels(REPORT)[0]]


def test_nothing_skipped_prints_nothing():
    assert format_skipped_qrels({**REPORT, "skipped": 0}) == [] == format_skipped_qrels({})


def test_format_summary_shows_skipped_rows_under_the_pair_counts():
    summary = build_summary(SelectionStats(), {"load": 0.1}, {"unknown_qrels": REPORT})
    lines = format_summary(summary).splitlines()
    assert lines[0] == "pairs: 0 in, 0 out"
    assert lines[1].startswith("  qrels rows skipped 4 (3 relevant)")


def test_format_summary_counts_the_qrels_rows_judged_not_relevant():
    """Graded qrels' 0 rows give no pair: 93 rows with 21 zeros mined as "72 in" and nothing said why."""
    summary = build_summary(SelectionStats(), {"load": 0.1}, {"qrels_not_relevant": 21, "unknown_qrels": REPORT})
    lines = format_summary(summary).splitlines()
    assert lines[1] == "  qrels rows not relevant (score <= 0) 21: no pair (such a document can be a negative)"
    assert lines[2].startswith("  qrels rows skipped 4")
    quiet = build_summary(SelectionStats(), {"load": 0.1}, {"qrels_not_relevant": 0})
    assert "not relevant" not in format_summary(quiet)


def test_format_summary_counts_the_positives_added_to_the_corpus_when_there_are_any():
    """A --pairs --corpus run printed the positives it added to the corpus in its warning only: the summary it
    prints counts them too, in the report's words, when it added any (none added, or no corpus file: no line)."""
    added = {"added": 2, "distinct_positives": 10, "whitespace_only": 1}
    summary = build_summary(SelectionStats(skipped={"no candidate left after exclusions and filters": 1}),
                            {"load": 0.1}, {"pairs_positives_added_to_corpus": added})
    lines = format_summary(summary).splitlines()
    assert lines[1:3] == [
        "  skipped 1: no candidate left after exclusions and filters",
        "  positives not in the corpus file (exact text), added to it as documents p<row>: 2 of 10 distinct positives "
        "(1 of them differing from a corpus document only in whitespace)"]
    summary["pairs_positives_added_to_corpus"] = {**added, "whitespace_only": 0}
    assert ("  positives not in the corpus file (exact text), added to it as documents p<row>: 2 of 10 distinct "
            "positives") in format_summary(summary).splitlines()
    for recorded in ({"added": 0, "distinct_positives": 10, "whitespace_only": 0}, None):
        summary["pairs_positives_added_to_corpus"] = recorded
        assert "positives not in the corpus file" not in format_summary(summary)
    del summary["pairs_positives_added_to_corpus"]
    assert "positives not in the corpus file" not in format_summary(summary)


FALLBACK = "short pairs selected from the fallback (hybrid) pool"
REPEATING = ("pairs repeating an earlier pair up to case, spacing or invisible characters, each mined as a pair of "
             "its own (so it counts twice)")


def test_format_summary_prints_the_pairs_mined_apart_in_the_reports_words():
    """The pairs repeating another up to case or spacing were said only in the warning (stderr), and the fallback's
    line was worded apart from the report's row: stdout prints both under the skip lines, in the report's words
    (the report's "Among the pairs mined"), and neither when its count is 0."""
    stats = SelectionStats(pairs_in=12, pairs_out=11, skipped={"no candidate left after exclusions and filters": 1},
                           from_fallback=1, tried_fallback=2)
    summary = build_summary(stats, {"load": 0.1}, {"pairs_repeating_another": 3})
    assert format_summary(summary).splitlines()[:4] == [
        "pairs: 12 in, 11 out", "  skipped 1: no candidate left after exclusions and filters",
        f"  {FALLBACK}: 1 of 2 that tried it", f"  {REPEATING}: 3"]
    quiet = build_summary(SelectionStats(pairs_in=1, pairs_out=1), {"load": 0.1}, {"pairs_repeating_another": 0})
    assert "fallback" not in format_summary(quiet) and "repeating" not in format_summary(quiet)


def test_format_summary_lists_the_exports_one_line_each_as_the_audit_does():
    # `negmine mine -o out/negatives.jsonl --export n-tuple` printed the dict: exports: {'n-tuple': '...'}
    exports = {"n-tuple": "out/negatives.n-tuple.jsonl", "triplet": "out/negatives.triplet.parquet"}
    summary = build_summary(SelectionStats(), {"load": 0.1}, {"output": "out/negatives.jsonl", "exports": exports})
    assert format_summary(summary).splitlines()[-3:] == [
        "output: out/negatives.jsonl", "export n-tuple: out/negatives.n-tuple.jsonl",
        "export triplet: out/negatives.triplet.parquet"]


def test_format_summary_of_a_summary_read_back_prints_the_stages_in_run_order():
    """The summary file has sorted keys: format_summary(json.load(...)) printed 'seconds: encode+retrieve 6.12,
    export 0.01, load 4.59, select+write 0.11', not the line negmine mine printed (docs/inputs-and-messages.md says
    it is that text)."""
    import json

    seconds = {"load": 4.59, "encode+retrieve": 6.12, "select+write": 0.11, "export": 0.01, "later": 1.0}
    summary = build_summary(SelectionStats(), seconds, {})
    read_back = json.loads(json.dumps(summary, sort_keys=True))
    assert format_summary(read_back) == format_summary(summary)
    assert "seconds: load 4.59, encode+retrieve 6.12, select+write 0.11, export 0.01, later 1.00" in format_summary(
        read_back).splitlines()


def _mined(pairs_in: int, no_candidate: int, removed: dict) -> dict:
    """A summary like SciFact's (numbers from the defaults' and the e5-mined runs' summaries)."""
    from negmine.pipeline.select_pairs import SKIP_NONE, SKIP_TOO_FEW

    stats = SelectionStats()
    stats.pairs_in, stats.pairs_out = pairs_in, pairs_in - no_candidate - 2
    stats.skipped.update({SKIP_NONE: no_candidate, SKIP_TOO_FEW: 2})
    stats.removed.update(removed)
    return build_summary(stats, {"select": 0.1}, {})


def test_margin_hint_when_the_relative_margin_leaves_many_pairs_short():
    from negmine.pipeline.summary import margin_hint

    e5 = _mined(919, 522, {"relative_margin": 60618, "near_duplicate_of_positive": 0})
    assert margin_hint(e5) == (
        "hint: 524 of 919 pairs (57%) got fewer negatives than asked, most candidates removed by the relative "
        "margin. If the model's cosines are compressed (e5, bge, gte: positives score ~0.9), the cut is too wide "
        "for its scale: set filters.relative_margin=None and leave filters.sd_margin at its default 0.5 (drop "
        "--relative-margin and --no-sd-margin; the sd margin is in units of each query's score spread), or use a "
        "larger retrieve.depth (--depth)"
    )
    lines = format_summary(e5).splitlines()
    assert lines[lines.index("  candidates removed by relative_margin: 60618") + 1] == margin_hint(e5)
    minilm = _mined(919, 83, {"relative_margin": 14227, "near_duplicate_of_positive": 1})
    assert margin_hint(minilm) is None and "hint" not in format_summary(minilm)  # 9% short: no hint
    other = _mined(919, 522, {"relative_margin": 10, "absolute_margin": 20055})
    assert margin_hint(other) is None  # another filter did it: the advice would be wrong
    assert margin_hint(_mined(0, 0, {})) is None


def test_ann_lines_show_each_shards_breadth_and_recall():
    assert ann_lines({"index": "flat"}) == [] == ann_lines({})
    assert ann_lines({"index": "ivf", "ann_nprobe_per_shard": [16]}) == [
        "ann (ivf): nprobe per shard [16] (fixed; --target-recall 0)"]
    calibrated = {"index": "hnsw", "ann_ef_search_per_shard": list(range(10)), "ann_target_recall": 0.9,
                  "ann_sample_recall_per_shard": [0.95] * 10}
    assert ann_lines(calibrated) == [
        "ann (hnsw): efSearch per shard [0, 1, 2, 3, 4, 5, 6, 7, ...], sample recall [0.95, 0.95, 0.95, 0.95, "
        "0.95, 0.95, 0.95, 0.95, ...] (target 0.9; 0: searched exactly, cheaper there)"]
    pq = {"index": "ivfpq", "ann_nprobe_per_shard": [0, 64], "ann_refine_per_shard": [0, 32],
          "ann_target_recall": 0.9, "ann_sample_recall_per_shard": [1.0, 0.93]}
    line = "ann (ivfpq): nprobe per shard [0, 64], refine [0, 32], sample recall [1.0, 0.93] (target 0.9; 0: searched"
    assert ann_lines(pq)[0].startswith(line)
    summary = build_summary(SelectionStats(), {"load": 0.1}, {"engine": pq})
    assert ann_lines(pq)[0] in format_summary(summary).splitlines()


def test_the_filter_lines_show_the_filters_the_run_set_or_that_removed_candidates():
    """Every default run printed "candidates removed by absolute_margin: 0" (and max_score, min_score,
    rank_window, relative_margin), filters it never set, as if they had run and removed nothing."""
    import json
    from dataclasses import asdict

    from negmine.config import DataConfig, MineConfig, NearDupConfig, SelectConfig

    removed = {"absolute_margin": 0, "max_score": 0, "min_score": 0, "near_duplicate_of_positive": 2,
               "rank_window": 0, "relative_margin": 0, "sd_margin": 221}

    def shown(config) -> list[str]:
        summary = _mined(72, 2, removed)
        summary["config"] = json.loads(json.dumps(asdict(config), default=str))
        return [line.split(" by ")[1] for line in format_summary(summary).splitlines() if "candidates removed" in line]

    default = MineConfig(data=DataConfig(data_dir="beir"))
    assert shown(default) == ["near_duplicate_of_positive: 2", "sd_margin: 221"]
    assert shown(MineConfig(data=DataConfig(data_dir="beir"), select=SelectConfig(strategy="range"),
                            near_dup=NearDupConfig(cosine=None, overlap=None))) == [
        "near_duplicate_of_positive: 2", "rank_window: 0", "sd_margin: 221"]  # range's default window 10-100
    no_config = format_summary(_mined(72, 2, removed))
    assert "candidates removed by absolute_margin: 0" in no_config  # an older summary: every line, as before


def test_embeddings_line_tells_resumed_shards_from_the_cache():
    """A run resumed with --no-cache printed 'embeddings: 21120 encoded, 20480 from cache': the texts came from
    the stopped run's finished shards in the work folder, which the line now names apart."""
    def summary(embeddings):
        return build_summary(SelectionStats(), {"load": 0.1}, {"embeddings": embeddings})

    resumed = format_summary(summary({"encoded": 21120, "cached": 0, "resumed": 20480}))
    assert "embeddings: 21120 encoded, 0 from cache, 20480 from the shards a stopped run finished" in resumed
    fresh = format_summary(summary({"encoded": 5, "cached": 3, "resumed": 0}))
    assert "embeddings: 5 encoded, 3 from cache\n" in fresh


def test_a_run_that_encodes_nothing_prints_no_embeddings_line():
    """--retriever bm25 printed 'embeddings: 0 encoded, 0 from cache': a line about a model the run never had."""
    bm25 = build_summary(SelectionStats(), {"load": 0.1}, {"embeddings": {"encoded": 0, "cached": 0, "resumed": 0}})
    assert "embeddings" not in format_summary(bm25)
    cached = build_summary(SelectionStats(), {"load": 0.1}, {"embeddings": {"encoded": 0, "cached": 7, "resumed": 0}})
    assert "embeddings: 0 encoded, 7 from cache" in format_summary(cached)


def test_export_lines_count_one_row_and_one_negative_in_the_singular():
    from negmine.pipeline.summary import format_export_skipped

    one = format_export_skipped({"export_skipped": {"triplet": {"no negatives": 1}}, "export_flagged_left_out": 1})
    two = format_export_skipped({"export_skipped": {"triplet": {"no negatives": 2}}, "export_flagged_left_out": 2})
    assert one[0] == "  export triplet left out 1 row: no negatives (1)"
    assert one[1].startswith("  exports left out 1 negative marked as false negatives (")
    assert two[0] == "  export triplet left out 2 rows: no negatives (2)"
    assert two[1].startswith("  exports left out 2 negatives marked as false negatives (")


def test_margin_hint_on_a_single_pair_counts_it_in_the_singular():
    """'1 of 1 pairs (100%)' until 2026-12-07."""
    from negmine.pipeline.select_pairs import SKIP_NONE
    from negmine.pipeline.summary import margin_hint

    stats = SelectionStats()
    stats.pairs_in = 1
    stats.skipped.update({SKIP_NONE: 1})
    stats.removed.update({"relative_margin": 5})
    assert margin_hint(build_summary(stats, {"select": 0.1}, {})).startswith(
        "hint: 1 of 1 pair (100%) got fewer negatives than asked")


@pytest.mark.parametrize(("count", "line"), [
    (1, "  1 query has no BM25 word (BM25 retrieved nothing for it)"),
    (3, "  3 queries have no BM25 word (BM25 retrieved nothing for them)")])
def test_the_queries_without_a_bm25_word_are_counted_in_agreement(count, line):
    """'1 queries have no BM25 word' until 2026-12-07."""
    summary = {**_mined(10, 0, {}), "queries_without_bm25_words": count}
    assert line in format_summary(summary).splitlines()
