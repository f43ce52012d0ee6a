from __future__ import annotations

import numpy as np

from negmine.audit.findings import find
from negmine.audit.items import item_from_row
from negmine.audit.judges.base import Judgement
from negmine.audit.policy import QueryFalseNegatives, RowVerdict, apply_policy, flag_records, sibling_false_negatives
from negmine.config import JudgeConfig
from negmine.export.native import validate_row

from .conftest import native_row, sample_rows


def findings_for(row, flags, relevance=None):
    flags = np.asarray(flags, dtype=bool)
    j = Judgement("teacher", flags, tuple("agrees" if f else "" for f in flags),
                  {"teacher:t": np.linspace(0.9, 0.6, len(flags))}, relevance or {})
    return find(item_from_row(row), [j], JudgeConfig())


def test_drop_removes_flagged_negatives_and_lists_their_ids():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [1, 0, 0, 0]), "drop", "drop")
    validate_row(out)
    assert out["negative_ids"] == ["n-coffee", "n-sib", "n-battery"]
    assert out["negative_scores"] == [0.3, 0.4, 0.1] and out["negative_ranks"] == [3, 4, 5]
    assert out["false_negative_ids"] == ["n-copy"] and "extra_positive_ids" not in out
    assert "negative_flags" not in out and out["confidence"] == 1.0


def test_promote_moves_flagged_negatives_to_extra_positives():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [1, 0, 1, 0]), "promote", "drop")
    assert out["negative_ids"] == ["n-coffee", "n-battery"]
    assert out["extra_positive_ids"] == ["n-copy", "n-sib"] and "false_negative_ids" not in out


def test_mark_keeps_everything_with_parallel_flags():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [0, 1, 0, 0]), "mark", "drop")
    validate_row(out)
    assert out["negative_ids"] == row["negative_ids"]
    assert out["negative_flags"] == [None, "false_negative", None, None]
    assert out["false_negative_ids"] == ["n-coffee"]


def test_the_mining_spread_and_margin_score_survive_every_policy():
    row = {**sample_rows()[0], "candidate_score_sd": 0.2, "margin_score": 0.6}
    for policy in ("drop", "promote", "mark"):
        out = apply_policy(row, findings_for(row, [1, 0, 0, 0]), policy, "drop")
        assert (out["candidate_score_sd"], out["margin_score"]) == (0.2, 0.6), policy


def test_noisy_positive_drop_and_mark():
    row = sample_rows()[0]
    noisy = findings_for(row, [0, 0, 0, 0], {"teacher:t": (0.0, np.array([0.9, 0.8, 0.7, 0.6]))})
    assert noisy.noisy_positive
    assert apply_policy(row, noisy, "drop", "drop") is None
    kept = apply_policy(row, noisy, "drop", "mark")
    assert kept["negative_ids"] == row["negative_ids"] and kept["confidence"] == 0.5


def test_flag_records_carry_scores_reasons_and_texts():
    row = sample_rows()[0]
    noisy = findings_for(row, [1, 0, 0, 0], {"teacher:t": (0.0, np.array([0.9, 0.8, 0.7, 0.6]))})
    records = flag_records(noisy, "mark", "drop")
    fn, pos = records
    assert flag_records(findings_for(row, [1, 0, 0, 0]), "mark", "drop")[0]["action"] == "mark"
    assert fn["kind"] == "false_negative" and fn["doc_id"] == "n-copy"
    assert fn["action"] == "none", "no policy acts on the flags of a noisy positive's row"
    assert fn["scores"]["model"] == 0.7 and fn["scores"]["model:positive"] == 0.8
    assert fn["scores"]["teacher:t"] == 0.9 and fn["scores"]["teacher:t:positive"] == 0.0
    assert fn["reasons"] == ["teacher: agrees"] and fn["doc"] == row["negatives"][0]
    assert pos["kind"] == "noisy_positive" and pos["doc_id"] == "p1" and pos["action"] == "drop"
    assert pos["scores"]["positive_rank:teacher:t"] == 5
    assert flag_records(noisy, "drop", None)[-1]["kind"] == "false_negative", "no positive record without action"


def test_a_query_s_false_negatives_found_in_a_sibling_row_get_the_policy_too():
    row = sample_rows()[1]  # q1 / p2: n-coffee, n-battery; judged clean itself
    own = RowVerdict.of(findings_for(row, [0, 0]))
    found = QueryFalseNegatives()
    found.add("q1", RowVerdict(("n-copy", "n-battery"), False, 1.0))  # p1's row flagged these
    found.add("q1", own)
    out = apply_policy(row, own, "promote", "drop", found.of("q1"))
    assert out["negative_ids"] == ["n-coffee"] and out["extra_positive_ids"] == ["n-battery"]
    assert sibling_false_negatives(row, own, found.of("q1")) == 1
    assert list(found.of("q2")) == [] and apply_policy(row, own, "drop", "drop", found.of("q2")) == apply_policy(
        row, findings_for(row, [0, 0]), "drop", "drop")


def test_promote_keeps_the_promoted_texts_and_mining_scores_parallel_to_their_ids():
    row = sample_rows()[0]
    out = apply_policy(row, findings_for(row, [1, 0, 1, 0]), "promote", "drop")
    validate_row(out)
    assert out["extra_positive_ids"] == ["n-copy", "n-sib"]
    assert out["extra_positives"] == [row["negatives"][0], row["negatives"][2]]
    assert out["extra_positive_scores"] == [0.7, 0.4]
    assert list(out)[-4:] == ["extra_positive_ids", "extra_positives", "extra_positive_scores", "confidence"]


def test_rows_without_promotion_keep_their_exact_bytes():
    from negmine.export.native import dumps_row

    row = sample_rows()[0]
    clean = {k: row[k] for k in ("query_id", "query", "positive_id", "positive", "positive_score")}
    for policy in ("drop", "promote", "mark"):
        out = apply_policy(row, findings_for(row, [0, 0, 0, 0]), policy, "drop")
        expected = {**clean, **{k: row[k] for k in row if k.startswith("negative_") or k == "negatives"},
                    "candidate_score_sd": 0.1, **({"negative_flags": [None] * 4} if policy == "mark" else {}),
                    "confidence": 1.0}
        assert dumps_row(out) == dumps_row(expected), policy
    dropped = apply_policy(row, findings_for(row, [1, 0, 0, 0]), "drop", "drop")
    assert list(dropped)[-3:] == ["candidate_score_sd", "false_negative_ids", "confidence"]


def test_re_auditing_a_promoted_row_merges_the_promotions_in_parallel():
    row = sample_rows()[0]
    first = apply_policy(row, findings_for(row, [0, 0, 1, 0]), "promote", "drop")  # n-sib promoted
    again = apply_policy(first, findings_for(first, [1, 0, 0]), "promote", "drop")  # then n-copy
    validate_row(again)
    assert again["negative_ids"] == ["n-coffee", "n-battery"]
    assert again["extra_positive_ids"] == ["n-sib", "n-copy"]
    assert again["extra_positives"] == [row["negatives"][2], row["negatives"][0]]
    assert again["extra_positive_scores"] == [0.4, 0.7]
    for policy in ("drop", "mark"):  # later policies keep the earlier promotions as they are
        kept = apply_policy(first, findings_for(first, [0, 1, 0]), policy, "drop")
        validate_row(kept)
        assert (kept["extra_positive_ids"], kept["extra_positives"], kept["extra_positive_scores"]) == (
            ["n-sib"], [row["negatives"][2]], [0.4]), policy


def test_ids_promoted_without_texts_by_an_older_audit_are_kept_known_but_not_as_positives():
    """An older audit wrote extra_positive_ids only: their texts are gone, so they cannot join the parallel
    lists of a new promotion; they stay known relevant documents (masked in training) as false_negative_ids."""
    row = {**sample_rows()[0], "extra_positive_ids": ["old-doc"]}
    untouched = apply_policy(row, findings_for(row, [0, 0, 0, 0]), "promote", "drop")
    assert untouched["extra_positive_ids"] == ["old-doc"] and "extra_positives" not in untouched
    out = apply_policy(row, findings_for(row, [1, 0, 0, 0]), "promote", "drop")
    validate_row(out)
    assert (out["extra_positive_ids"], out["extra_positive_scores"]) == (["n-copy"], [0.7])
    assert out["false_negative_ids"] == ["old-doc"]


def test_promote_end_to_end_on_the_demo_puts_promoted_texts_in_every_export_as_positives(tmp_path):
    from typer.testing import CliRunner

    from negmine.cli import build_app
    from negmine.config import DataConfig, EncoderConfig, FilterConfig, MineConfig, OutputConfig, SelectConfig
    from negmine.demo import demo_path
    from negmine.export.native import read_native
    from negmine.export.base import scan_shape
    from negmine.export.registry import EXPORTERS
    from negmine.pipeline.mine import mine
    from negmine.testing.hash_embedder import HashEmbedder

    mined = tmp_path / "mined.jsonl"
    mine(MineConfig(data=DataConfig(data_dir=demo_path("minifacts")), filters=FilterConfig(sd_margin=None),
                    encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False),
                    select=SelectConfig(num_negatives=5), output=OutputConfig(path=mined)), embedder=HashEmbedder())
    args = ["audit", str(mined), "--judge", "score", "--no-sd-margin", "--relative-margin", "0.05",
            "--false-negative-policy", "promote", "--positive-policy", "mark", "--no-html", "--no-progress"]
    for fmt in EXPORTERS:
        args += ["--export", fmt]
    result = CliRunner().invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    clean = list(read_native(tmp_path / "mined.clean.jsonl"))
    promoted = {(r["query"], t) for r in clean for t in r.get("extra_positives", [])}
    assert len(promoted) >= 3, "the 95% rule re-checked on a file mined without margin flags some negatives"
    records = {fmt: _records(tmp_path / f"mined.clean.{fmt}.jsonl") for fmt in EXPORTERS}
    pairs = {
        "triplet": [(r["anchor"], r["positive"], [r["negative"]]) for r in records["triplet"]],
        "n-tuple": [(r["anchor"], r["positive"], [v for k, v in r.items() if k.startswith("negative_")])
                    for r in records["n-tuple"]],
    }
    for fmt in ("labeled-list", "labeled-list-by-query"):
        pairs[fmt] = [(r["query"], d, [x for x, y in zip(r["docs"], r["labels"]) if not y])
                      for r in records[fmt] for d, label in zip(r["docs"], r["labels"]) if label]
    for fmt in ("flagembedding", "flagembedding-scores"):
        pairs[fmt] = [(r["query"], p, r["neg"]) for r in records[fmt] for p in r["pos"]]
        assert all(len(r["pos"]) == len(r["pos_scores"]) for r in records[fmt] if "pos_scores" in r)
    for fmt, found in pairs.items():
        exporter, shape = EXPORTERS[fmt], scan_shape(clean)
        expected = {(r["query"], t) for r in clean if exporter.skip_reason(r, shape) is None
                    for t in r.get("extra_positives", [])}
        assert expected <= {(q, p) for q, p, _ in found}, fmt
        assert not promoted & {(q, n) for q, _, negs in found for n in negs}, fmt
        if fmt != "n-tuple":  # n-tuple skips rows narrower than the file's widest, as every row with a promotion is
            assert len(expected) >= 3, fmt
    again = CliRunner().invoke(build_app(), [str(tmp_path / "mined.clean.jsonl") if a == str(mined) else a
                                             for a in args if a not in EXPORTERS and a != "--export"])
    assert again.exit_code == 0, again.output  # re-auditing the promoted file keeps its promotions, parallel
    twice = list(read_native(tmp_path / "mined.clean.clean.jsonl"))
    assert promoted <= {(r["query"], t) for r in twice for t in r.get("extra_positives", [])}


def _records(path):
    import json

    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sibling_false_negatives_count_only_the_query_s_flags_the_row_did_not_find_itself():
    row = sample_rows()[0]  # negatives n-copy, n-coffee, n-sib, n-battery
    own = RowVerdict(("n-copy",), False, 1.0)
    query_flags = ["n-copy", "n-coffee", "n-sib", "n-battery"]
    assert sibling_false_negatives(row, own, query_flags, query_positives={"n-sib"}) == 2  # n-coffee, n-battery
    assert sibling_false_negatives(row, own, ["n-copy"]) == 0


def test_labelled_positives_counts_the_negatives_that_are_positives_of_the_query():
    from negmine.audit.policy import labelled_positives

    row = sample_rows()[0]
    assert labelled_positives(row, {"p1", "p2", "n-sib"}) == 1
    assert labelled_positives(row, ()) == 0


def test_an_earlier_mark_in_either_field_alone_gets_the_policy_again():
    """Another tool may set only ``negative_flags`` or only ``false_negative_ids``: either marks the negative."""
    from negmine.audit.policy import earlier_false_negatives
    from negmine.export.native import FALSE_NEGATIVE_FLAG

    flagged = {**sample_rows()[0], "negative_flags": [None, FALSE_NEGATIVE_FLAG, None, None]}
    listed = {**sample_rows()[0], "false_negative_ids": ["n-sib"]}
    assert earlier_false_negatives(flagged) == {"n-coffee"} and earlier_false_negatives(listed) == {"n-sib"}
    clean = findings_for(sample_rows()[0], [0, 0, 0, 0])
    assert apply_policy(flagged, clean, "drop", "drop")["negative_ids"] == ["n-copy", "n-sib", "n-battery"]
    assert apply_policy(listed, clean, "drop", "drop")["negative_ids"] == ["n-copy", "n-coffee", "n-battery"]


def test_verdict_keeps_the_relevance_scorer_s_scores():
    row = sample_rows()[0]
    relevance = {"cross-encoder": (0.9, np.array([0.8, 0.1, 0.6, 0.05]))}
    verdict = RowVerdict.of(findings_for(row, [0, 0, 0, 0], relevance), scorer="cross-encoder")
    assert verdict.judge == (0.9, (0.8, 0.1, 0.6, 0.05))
    assert RowVerdict.of(findings_for(row, [0, 0, 0, 0], relevance), scorer="teacher:t").judge is None


def test_promote_keeps_the_judge_score_each_document_had_as_a_negative():
    from negmine.audit.judge_scores import RowJudgeScores

    row = sample_rows()[0]
    judge = RowJudgeScores(0.95, [0.85, 0.15, 0.65, 0.05])
    first = apply_policy(row, findings_for(row, [0, 0, 1, 0]), "promote", "drop", judge_scores=judge)
    assert first["judge_extra_positive_scores"] == [0.65] and first["extra_positive_scores"] == [0.4]
    assert first["judge_negative_scores"] == [0.85, 0.15, 0.05]
    again = apply_policy(first, findings_for(first, [1, 0, 0]), "promote", "drop",
                         judge_scores=RowJudgeScores(0.95, [0.85, 0.15, 0.05], promoted=[0.6]))
    assert again["extra_positive_ids"] == ["n-sib", "n-copy"] and again["judge_extra_positive_scores"] == [0.6, 0.85]
    unknown = apply_policy(first, findings_for(first, [1, 0, 0]), "promote", "drop",
                           judge_scores=RowJudgeScores(0.95, [0.85, 0.15, 0.05]))  # no score for n-sib
    assert unknown["extra_positive_ids"] == ["n-sib", "n-copy"] and "judge_extra_positive_scores" not in unknown


def test_flag_records_round_scores_to_six_digits_and_name_the_noisy_positive_s_judges():
    row = native_row("q2", "lithium battery charge", "p3", "Lithium battery charge.", 0.2, [
        ("n-a", "Lithium battery charge and voltage.", 0.9), ("n-b", "Battery charge.", 0.85),
        ("n-c", "Sleep and rest at night.", 0.05)])  # the mining model: positive below 2 of 3, noisy
    teacher = {"teacher:t": (0.1234567891, np.array([0.05, 0.04, 0.03]))}  # the teacher: not noisy
    fn, pos = flag_records(findings_for(row, [1, 0, 0], teacher), "mark", "drop")
    assert fn["scores"]["teacher:t:positive"] == 0.123457
    assert pos["scores"]["confidence"] == 0.666667 and pos["judges"] == ["model"]
