from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app

runner = CliRunner()


def test_mine_cli_writes_output_and_summary(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1), ("q2", "d1", 1)])
    out = tmp_path / "o" / "neg.jsonl"
    result = runner.invoke(
        build_app(),
        ["mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "2", "--depth", "8",
         "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--export", "n-tuple", "--no-progress",
         # a random tiny model scores every text alike: switch the positive-aware filters off
         "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"],
    )
    assert result.exit_code == 0, result.output
    assert "pairs: 2 in, 2 out" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["query_id"] for r in rows] == ["q1", "q2"]
    summary = json.loads((tmp_path / "o" / "neg.summary.json").read_text())
    assert summary["config"]["encoder"]["model"] == str(tiny_model_path)
    assert (tmp_path / "o" / "neg.n-tuple.jsonl").exists()


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # the test checks the printed warning line
def test_mine_cli_hint_names_the_retriever_when_no_query_has_a_bm25_word(tmp_path):
    """Every pair skipped because its query has no BM25 word: 'raise --depth' cannot help, another retriever can."""
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "?? !!", "q2": "- a"}, [("q1", "d0", 1), ("q2", "d1", 1)])
    result = runner.invoke(build_app(), [
        "mine", str(beir), "--retriever", "bm25", "--num-negatives", "2", "--output", str(tmp_path / "neg.jsonl"),
        "--no-progress"])
    assert result.exit_code == 1, result.output
    assert "pairs: 2 in, 0 out" in result.stdout
    assert "error: no pair was mined" in result.output
    assert "No query has a BM25 word: use --retriever dense or hybrid" in result.output
    assert "Raise --depth" not in result.output


def test_mine_cli_exits_1_when_every_pair_is_skipped(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    # each query's text is its positive's, so the positive is first of the depth-2 pool on any model and one
    # candidate is left for the two negatives asked for
    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(12)}
    queries = {"q1": corpus["d0"], "q2": corpus["d1"]}
    beir = write_beir(tmp_path / "b", corpus, queries, [("q1", "d0", 1), ("q2", "d1", 1)])
    result = runner.invoke(
        build_app(),
        ["mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "2", "--depth", "2",
         "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "neg.jsonl"), "--no-progress",
         "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"],
    )
    assert result.exit_code == 1
    assert "pairs: 2 in, 0 out" in result.stdout
    assert "error: no pair was mined (every pair was skipped, for the reasons above)" in result.output


def test_mine_cli_export_as_parquet(tmp_path, tiny_model_path):
    import pyarrow.parquet as pq

    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(6)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein"}, [("q1", "d0", 1)])
    out = tmp_path / "neg.jsonl"
    args = ["mine", str(beir), "--model", str(tiny_model_path), "--num-negatives", "2", "--depth", "5",
            "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--export", "n-tuple", "--no-progress",
            "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"]
    result = runner.invoke(build_app(), [*args, "--export-as", "parquet"])
    assert result.exit_code == 0, result.output
    assert pq.read_table(tmp_path / "neg.n-tuple.parquet").column_names == ["anchor", "positive", "negative_1", "negative_2"]
    flag = runner.invoke(build_app(), [*args, "--export", "flagembedding", "--export-as", "parquet"])
    assert flag.exit_code == 2 and "encoding" not in flag.output
    assert ("export format 'flagembedding' (--export flagembedding) cannot be written as parquet: its trainers read "
            "jsonl files only; use output.export_as='jsonl' (drop --export-as parquet) or write the other formats in a separate "
            "run") in " ".join(flag.output.split())
    bad = runner.invoke(build_app(), [*args, "--export-as", "csv"])
    assert bad.exit_code == 2
    assert "unknown export file type 'csv'; allowed: jsonl, parquet" in bad.output


def test_mine_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    beir = tmp_path / "b"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n{"_id": "d2", "text": \n')
    (beir / "queries.jsonl").write_text('{"_id": "q1", "text": "y"}\n')
    (beir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    result = runner.invoke(build_app(), ["mine", str(beir), "--output", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert "corpus.jsonl:2" in result.output and "invalid JSON" in result.output
    assert "Traceback" not in result.output


def test_mine_cli_unknown_strategy_lists_choices(tmp_path):
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--strategy", "hardest"])
    assert result.exit_code == 2
    assert "unknown strategy 'hardest'; allowed: random, range, simans, top" in result.output


def test_mine_cli_unknown_names_suggest_the_closest_one_with_its_option(tmp_path):
    # a typo of a strategy or an export format listed the allowed names only: the near-miss was the reader's to find
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--strategy", "simams"])
    assert result.exit_code == 2
    assert result.output.strip() == ("error: unknown strategy 'simams'; allowed: random, range, simans, top; "
                                     "did you mean select.strategy='simans' (--strategy simans)?")
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--export", "triplets"])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: unknown export format 'triplets'; allowed: flagembedding, flagembedding-scores, labeled-list, "
        "labeled-list-by-query, labeled-pair, n-tuple, triplet; did you mean 'triplet' in output.formats (--export "
        "triplet)?")
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--retriever", "sparse"])
    assert result.exit_code == 2
    assert result.output.strip() == ("error: unknown retriever 'sparse'; allowed: dense, bm25, hybrid; pick one with "
                                     "retrieve.method (--retriever)")


@pytest.mark.parametrize(("option", "typo", "hint"), [
    ("--positive-column", "answr", "data.positive_column='answer' (--positive-column answer)"),
    ("--query-column", "qury", "data.query_column='query' (--query-column query)"),
])
def test_mine_cli_a_pairs_column_typo_names_its_option(tmp_path, option, typo, hint):
    # the hint was "did you mean 'answer'?", naming no option (the check is shared with pairs_from_dataset)
    pairs = tmp_path / "p.jsonl"
    pairs.write_text('{"query": "q1", "answer": "a1"}\n')
    result = runner.invoke(build_app(), ["mine", "--pairs", str(pairs), option, typo, "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    role = option.split("-")[2]
    assert result.output.strip() == (f"error: {pairs}: field {typo!r}: {role} column not found; available columns: "
                                     f"'query', 'answer'; did you mean {hint}?")


@pytest.mark.parametrize(("row", "message"), [
    ('{"q_text": "q1", "answer": "a1"}',
     "no query column found (looked for query, anchor, question, sentence1, sentence_A, text1); available columns: "
     "'q_text', 'answer'; pass data.query_column (--query-column)"),
    ('{"question": "q1", "answer_passage": "a1"}',
     "no positive column found (looked for positive, pos, answer, document, passage, sentence2, sentence_B, text2); "
     "available columns: 'question', 'answer_passage'; pass data.positive_column (--positive-column)"),
])
def test_mine_cli_an_undetected_pairs_column_names_the_field_and_option(tmp_path, row, message):
    # it said "pass query_column (--query-column)": no field of a MineConfig (whose is data.query_column), while a
    # typo's hint named data.query_column
    pairs = tmp_path / "p.jsonl"
    pairs.write_text(row + "\n")
    result = runner.invoke(build_app(), ["mine", "--pairs", str(pairs), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {pairs}: {message}"


def test_mine_cli_one_column_for_query_and_positive_names_the_fields_and_options(tmp_path):
    pairs = tmp_path / "p.jsonl"
    pairs.write_text('{"query": "q1", "answer": "a1"}\n')
    result = runner.invoke(build_app(), ["mine", "--pairs", str(pairs), "--positive-column", "query",
                                         "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: query_column and positive_column are both 'query' (query_column auto-detected); they must name two "
        "different columns: pass data.query_column (--query-column) and data.positive_column (--positive-column) "
        "naming the query and the positive column")


def test_mine_cli_max_positive_rank_reaches_the_config(tmp_path):
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--depth", "10", "--max-positive-rank", "20"])
    assert result.exit_code == 2
    assert "max_positive_rank 20 is beyond the candidate depth 10" in result.output


def _beir_with_missing_documents(tmp_path):
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    queries = {"q1": "cell protein", "q2": "gene blood", "q3": "heart"}
    qrels = [("q1", "d0", 1), ("q1", "gone", 1), ("q2", "d1", 1), ("q3", "gone", 1), ("q3", "lost", 0)]
    return write_beir(tmp_path / "b", corpus, queries, qrels)


def test_mine_cli_memory_budget_too_small_names_the_field_and_the_option(tmp_path, tiny_model_path):
    """Found as the dense search is laid out, once the engine runs: it named the bare memory_budget."""
    out = tmp_path / "neg.jsonl"
    result = runner.invoke(build_app(), ["mine", str(_beir_with_missing_documents(tmp_path)), "--model",
                                         str(tiny_model_path), "--unknown-qrels", "skip", "--memory-budget", "1M",
                                         "--no-cache", "--output", str(out), "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "memory budget 0.00 GiB is too small for 12 documents x 2 queries" in result.output
    assert "; raise engine.memory_budget (--memory-budget) to at least " in " ".join(result.output.split())
    assert not out.exists()


def test_mine_cli_unknown_qrels_maps_onto_the_data_config(tmp_path):
    beir = _beir_with_missing_documents(tmp_path)
    out = tmp_path / "neg.jsonl"
    args = ["mine", str(beir), "--retriever", "bm25", "--num-negatives", "2", "--depth", "8", "--output", str(out),
            "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0", "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2
    assert "train.tsv:3: field 'corpus-id': unknown corpus id 'gone'" in result.output
    # the field by its path in the MineConfig the command builds (it was bare unknown_qrels)
    assert "set data.unknown_qrels='skip' (--unknown-qrels skip)" in result.output and not out.exists()
    result = runner.invoke(build_app(), [*args, "--unknown-qrels", "skip"])
    assert result.exit_code == 0, result.output
    assert "pairs: 2 in, 2 out" in result.output
    assert "  qrels rows skipped 3 (2 relevant): document not in the corpus, e.g. 'gone', 'lost'" in result.output
    assert "  queries left without a positive 1: no pair, e.g. 'q3'" in result.output
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["config"]["data"]["unknown_qrels"] == "skip"
    assert (summary["unknown_qrels"]["skipped"], summary["unknown_qrels"]["queries_without_positive"]) == (3, 1)


def test_mine_cli_rejects_an_unknown_policy(tmp_path):
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "--unknown-qrels", "drop"])
    assert result.exit_code == 2
    assert "error: unknown unknown-qrels policy 'drop'; allowed: error, skip" in result.output


def _bm25_mine_args(tmp_path) -> list[str]:
    """A quick BM25 mine of the small BEIR set (its two unknown qrels rows skipped) to ``tmp_path/neg.jsonl``."""
    beir = _beir_with_missing_documents(tmp_path)
    return ["mine", str(beir), "--retriever", "bm25", "--num-negatives", "2", "--depth", "8",
            "--output", str(tmp_path / "neg.jsonl"), "--unknown-qrels", "skip", "--no-progress"]


def _rejected_then_mined(args: list[str], option: str, bad: str, message: str, good: str) -> dict:
    """``option bad`` exits 2 with ``message``; ``option good`` mines: its summary JSON."""
    result = runner.invoke(build_app(), [*args, option, bad])
    assert result.exit_code == 2
    assert message in result.output
    result = runner.invoke(build_app(), [*args, option, good])
    assert result.exit_code == 0, result.output
    return json.loads(Path(args[args.index("--output") + 1]).with_suffix(".summary.json").read_text())


def test_mine_cli_bm25_shard_size_maps_onto_the_retrieve_config(tmp_path):
    summary = _rejected_then_mined(
        _bm25_mine_args(tmp_path), "--bm25-shard-size", "0",
        "retrieve.bm25_shard_size must be a positive integer, got 0; use e.g. retrieve.bm25_shard_size=1000000 "
        "(--bm25-shard-size 1000000)", "5",
    )
    assert summary["config"]["retrieve"]["bm25_shard_size"] == 5


def test_mine_cli_sd_margin_maps_onto_the_filter_config(tmp_path):
    summary = _rejected_then_mined(
        [*_bm25_mine_args(tmp_path), "--keep-partial"], "--sd-margin", "-1",
        "sd_margin must be >= 0 (standard deviations of the query's candidate scores), got -1.0", "0.5",
    )
    assert summary["config"]["filters"]["sd_margin"] == 0.5
    assert summary["config"]["filters"]["relative_margin"] is None
    assert summary["candidates_removed_by_filter"]["sd_margin"] > 0  # BM25 scores: no relative scale at all
    result = runner.invoke(build_app(), [*_bm25_mine_args(tmp_path), "--no-sd-margin", "--relative-margin", "0.05"])
    assert result.exit_code == 0, result.output
    filters = json.loads((tmp_path / "neg.summary.json").read_text())["config"]["filters"]
    assert (filters["sd_margin"], filters["relative_margin"]) == (None, 0.05)  # the 95% rule alone


def test_mine_cli_fallback_maps_onto_the_retrieve_config(tmp_path):
    args = _bm25_mine_args(tmp_path)
    result = runner.invoke(build_app(), [*args, "--fallback", "hybrid"])
    assert result.exit_code == 2
    assert "fallback 'hybrid' tops up dense pools, but the retriever is 'bm25'" in result.output
    result = runner.invoke(build_app(), [*args, "--fallback", "hybrid", "--no-fallback"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "neg.summary.json").read_text())["config"]["retrieve"]["fallback"] is None
    dense = [a for a in args if a not in ("--retriever", "bm25")]
    result = runner.invoke(build_app(), [*dense, "--model", "hash", "--fallback", "bm25"])
    assert result.exit_code == 2 and "unknown fallback 'bm25'; allowed: hybrid" in result.output


def test_mine_cli_target_recall_maps_onto_the_engine_config(tmp_path):
    summary = _rejected_then_mined(
        _bm25_mine_args(tmp_path), "--target-recall", "1.5",
        "target_recall must be in (0, 1] or None, got 1.5", "0.8",
    )
    assert summary["config"]["engine"]["target_recall"] == 0.8
    result = runner.invoke(build_app(), [*_bm25_mine_args(tmp_path), "--target-recall", "0"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["config"]["engine"]["target_recall"] is None  # 0: the breadth as given


def test_mine_cli_refuses_an_output_that_is_one_of_its_inputs(tmp_path, tiny_model_path):
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i}" for i in range(6)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein"}, [("q1", "d0", 1)])
    before = (beir / "corpus.jsonl").read_bytes()
    files = ["--corpus", str(beir / "corpus.jsonl"), "--queries", str(beir / "queries.jsonl"),
             "--qrels", str(beir / "qrels" / "train.tsv")]
    for args in (files + ["--output", str(beir / "corpus.jsonl")], [str(beir), "-o", str(beir / "corpus.jsonl")]):
        result = runner.invoke(build_app(), ["mine", *args, "--model", str(tiny_model_path), "--num-negatives", "2",
                                             "--cache-dir", str(tmp_path / "cache"), "--no-progress"])
        assert result.exit_code == 2, result.output
        assert "error: --output" in result.output and "this is an input file of the run" in result.output
        assert (beir / "corpus.jsonl").read_bytes() == before
    assert not (beir / "corpus.summary.json").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--sd-margin", "0.3", "--no-sd-margin"], "--sd-margin 0.3 is ignored: --no-sd-margin switches it off"),
    (["--relative-margin", "0.05", "--no-relative-margin"],
     "--relative-margin 0.05 is ignored: --no-relative-margin switches it off"),
    (["--fallback", "hybrid", "--no-fallback"], "--fallback hybrid is ignored: --no-fallback switches it off"),
])
def test_mine_cli_warns_when_an_off_switch_overrides_a_value_given(tmp_path, flags, message):
    result = runner.invoke(build_app(), ["mine", str(tmp_path / "no-such-dir"), *flags])
    assert result.exit_code == 2  # the missing directory
    assert result.stderr.startswith(f"warning: {message}; drop one of the two\n")
    alone = runner.invoke(build_app(), ["mine", str(tmp_path / "no-such-dir"), flags[-1]])
    assert "warning" not in alone.output


@pytest.mark.parametrize("flags", [["--ray-address", "auto"], ["--ray-actors", "4", "--ray-cpus-per-actor", "2"]])
def test_mine_cli_refuses_ray_options_without_the_ray_engine(tmp_path, flags):
    """They were ignored: a run meant for a cluster mined in this process without a word."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene", "d3": "blood"}, {"q1": "cell"}, [("q1", "d1", 1)])
    result = runner.invoke(build_app(), ["mine", str(beir), "-o", str(tmp_path / "o.jsonl"), *flags])
    given = " and ".join(flag for flag in flags if flag.startswith("--"))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {given} would be ignored: the engine is local (the default): a job meant for a "
                             f"cluster would run in this process; set engine.name='ray' (--engine ray), or drop {given}\n")
    assert not (tmp_path / "o.jsonl").exists()


def test_mine_cli_ray_address_auto_without_a_cluster_fails_before_the_model_loads(tmp_path, monkeypatch):
    """It failed in ``ray.init`` when the first shard was dispatched, after the model had loaded."""
    import sys
    import types

    pytest.importorskip("ray")
    from negmine.engine import ray_engine
    from negmine.pipeline import mine as mine_module
    from negmine.testing.beir import write_beir

    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(is_initialized=lambda: False))  # nothing starts
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray_engine, "_auto_address", lambda: None)  # no cluster on this machine
    monkeypatch.setattr(mine_module, "make_embedder", lambda *a, **k: pytest.fail("the model loaded"))
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene", "d3": "blood"}, {"q1": "cell"}, [("q1", "d1", 1)])
    result = runner.invoke(build_app(), ["mine", str(beir), "-o", str(tmp_path / "o.jsonl"), "--num-negatives", "1",
                                         "--engine", "ray", "--ray-address", "auto", "--no-progress"])
    assert result.exit_code == 2, result.output
    # the field by its path in the MineConfig (it was bare ray_address)
    assert result.stderr == ("error: engine.ray_address (--ray-address) auto found no Ray cluster running on this "
                             "machine; start one with `ray start --head` and rerun, or leave engine.ray_address unset "
                             "(drop --ray-address) to let negmine start a local Ray instance\n")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize("flags", [["--denoise-depth", "20"], ["--denoise-depth", "-1", "--denoise-full-depth"],
                                   ["--judge", "cross-encoder"]])
def test_mine_cli_refuses_denoise_settings_without_denoise(tmp_path, flags):
    """They were ignored: `--denoise-depth 20` (or -1) without --denoise mined, exit 0, and judged nothing."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene", "d3": "blood"}, {"q1": "cell"}, [("q1", "d1", 1)])
    result = runner.invoke(build_app(), ["mine", str(beir), "-o", str(tmp_path / "o.jsonl"), *flags])
    given = " and ".join(flag for flag in flags if flag.startswith("--"))
    assert result.exit_code == 2
    assert result.stderr == (f"error: {given} would be ignored: denoising is off (no --denoise): the judges only "
                             "rescore candidates when it is on; set denoise.enabled=True (--denoise), or judge the "
                             "mined file "
                             f"afterwards with negmine audit (run_audit), or drop {given}\n")
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--retriever", "hybrid", "--dense-weight", "0.9"],
     "--dense-weight would be ignored: the fusion is rrf; set retrieve.fusion='weighted' (--fusion weighted), or drop "
     "--dense-weight"),
    (["--retriever", "hybrid", "--fusion", "weighted", "--rrf-k", "5"],
     "--rrf-k would be ignored: the fusion is weighted; use retrieve.fusion='rrf' (--fusion rrf), or drop --rrf-k"),
    (["--retriever", "bm25", "--fusion", "weighted", "--dense-weight", "0.2"],
     "--fusion and --dense-weight would be ignored: only hybrid pools are fused, and the retriever is bm25 without "
     "--fallback hybrid; use retrieve.method='hybrid' (--retriever hybrid) (or retrieve.fallback='hybrid' (--fallback "
     "hybrid) with retrieve.method='dense'), or drop --fusion and "
     "--dense-weight"),
    (["--simans-a", "3", "--simans-b", "0.1"],
     "--simans-a and --simans-b would be ignored: the strategy is top; set select.strategy='simans' (--strategy "
     "simans), or drop --simans-a and "
     "--simans-b"),
    (["--export", "triplet", "--ntuple-negatives", "3"],
     "--ntuple-negatives would be ignored: no --export n-tuple; add 'n-tuple' to output.formats (--export n-tuple), "
     "or drop --ntuple-negatives"),
    (["--export-as", "parquet"], "--export-as would be ignored: no --export format is written (the native output is "
     "JSON Lines); add a format to output.formats (--export FORMAT), or drop --export-as"),
])
def test_mine_cli_refuses_settings_of_a_fusion_or_strategy_it_does_not_use(tmp_path, flags, message):
    """They were ignored: on the demo, `--retriever hybrid --dense-weight 0.1` and `0.9` wrote identical files
    (RRF, the default fusion, has no weight)."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene", "d3": "blood"}, {"q1": "cell"}, [("q1", "d1", 1)])
    result = runner.invoke(build_app(), ["mine", str(beir), "-o", str(tmp_path / "o.jsonl"), *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"
    assert not (tmp_path / "o.jsonl").exists()


def test_a_bm25_mine_refuses_the_encoding_options_it_never_reads(tmp_path):
    """`negmine mine DEMO --retriever bm25 --model /no/such/model` mined the demo (exit 0, "embeddings: 0 encoded"):
    BM25 loads no model, so --model, the prompts and the near-duplicate cosine threshold were ignored without a
    word. Switching the cosine test off (0) is no setting to ignore, and stays accepted."""
    from negmine.testing.beir import write_beir

    beir = write_beir(tmp_path / "b", {f"d{i}": f"cell gene {i}" for i in range(8)}, {"q1": "cell"}, [("q1", "d1", 1)])
    args = ["mine", str(beir), "--retriever", "bm25", "--num-negatives", "2", "-o", str(tmp_path / "o.jsonl"),
            "--no-progress"]
    result = runner.invoke(build_app(), [*args, "--model", str(tmp_path / "no-such-model"), "--query-prompt", "q: "])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --model and --query-prompt would be ignored: the retriever is bm25, which ranks and scores the "
        "candidates without encoding any text; use retrieve.method='dense' (--retriever dense) or 'hybrid', or drop --model and --query-prompt\n")
    assert not (tmp_path / "o.jsonl").exists()
    result = runner.invoke(build_app(), [*args, "--near-dup-threshold", "0.5"])
    assert result.exit_code == 2 and "--near-dup-threshold would be ignored: the retriever is bm25" in result.stderr
    result = runner.invoke(build_app(), [*args, "--near-dup-threshold", "0", "--no-sd-margin"])
    assert result.exit_code == 0, result.output


def test_the_judge_option_lists_the_judges(monkeypatch):
    from negmine.config import JUDGE_NAMES

    monkeypatch.setenv("COLUMNS", "300")
    result = runner.invoke(build_app(), ["mine", "--help"])
    assert " | ".join(JUDGE_NAMES) in result.output


def test_mine_cli_ntuple_negatives_maps_onto_the_output_config(tmp_path):
    summary = _rejected_then_mined(
        [*_bm25_mine_args(tmp_path), "--export", "n-tuple"], "--ntuple-negatives", "0",
        "output.ntuple_negatives must be a positive integer, got 0; use e.g. output.ntuple_negatives=3 "
        "(--ntuple-negatives 3)", "1",
    )
    assert summary["config"]["output"]["ntuple_negatives"] == 1
    first = json.loads((tmp_path / "neg.n-tuple.jsonl").read_text().splitlines()[0])
    assert list(first) == ["anchor", "positive", "negative_1"]


def test_an_ntuple_width_above_num_negatives_is_refused_before_any_work(tmp_path):
    """`mine DEMO --export n-tuple --ntuple-negatives 10` (5 negatives a row) wrote an empty n-tuple file, exit 0:
    no row can be that wide."""
    args = [*_bm25_mine_args(tmp_path), "--export", "n-tuple"]
    result = runner.invoke(build_app(), [*args, "--ntuple-negatives", "3"])
    assert result.exit_code == 2
    assert result.stderr == (
        "error: output.ntuple_negatives 3 is above select.num_negatives 2: no mined row has more than 2 negatives, so "
        "the n-tuple "
        "export would skip every row; give output.ntuple_negatives (--ntuple-negatives) 2 or less, or raise "
        "select.num_negatives (--num-negatives) to at least 3\n")
    assert not (tmp_path / "neg.jsonl").exists()
    result = runner.invoke(build_app(), [*args, "--ntuple-negatives", "2"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("flags", [["--judge", "score"], ["--denoise-depth", "5"], ["--denoise-full-depth"]])
def test_mine_cli_refuses_denoise_options_without_denoise(tmp_path, flags):
    """They were ignored: the run mined without judging and said nothing."""
    result = runner.invoke(build_app(), ["mine", str(tmp_path), "-o", str(tmp_path / "o.jsonl"), *flags])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {flags[0]} would be ignored: denoising is off (no --denoise): the judges "
                                    "only rescore candidates when it is on; set denoise.enabled=True (--denoise)")
    assert not (tmp_path / "o.jsonl").exists()


def test_mine_denoise_takes_the_judges_decision_options_as_audit_does(tmp_path, tiny_model_path, tiny_cross_encoder_path):
    """--cross-encoder-threshold, --cross-encoder-margin, --teacher-margin, --min-votes and --teacher-min-votes
    were audit-only: `negmine mine --denoise` could not set them (no such option), though DenoiseConfig's
    judges take them from Python (benchmarks/audit_planted.py varies the teacher margin)."""
    import json

    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": " ".join(["cell gene protein blood brain heart virus"[j:j + 9] for j in range(0, i + 3, 3)])
              for i in range(30)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell gene", "q2": "blood brain"}, [("q1", "d1", 1), ("q2", "d2", 1)])
    flagged = {}
    for extra in ([], ["--cross-encoder-threshold", "-1000"]):
        out = tmp_path / f"o{len(extra)}.jsonl"
        result = runner.invoke(build_app(), [
            "mine", str(beir), "--model", str(tiny_model_path), "--cache-dir", str(tmp_path / "cache"), "--denoise",
            "--cross-encoder", str(tiny_cross_encoder_path), "--cross-encoder-margin", "0", "--min-votes", "1",
            "--denoise-depth", "5", "--denoise-full-depth", "--num-negatives", "2", "--depth", "20", "--no-sd-margin",
            "--near-dup-threshold", "0", "--near-dup-overlap", "0", "--output", str(out), "--no-progress", *extra])
        assert result.exit_code == 0, result.output
        summary = json.loads(out.with_name(f"{out.stem}.summary.json").read_text())
        flagged[bool(extra)] = summary["denoise"]
    assert summary["config"]["denoise"]["judges"]["cross_encoder_threshold"] == -1000
    assert flagged[True]["false_negatives_removed"] == flagged[True]["candidates_judged"] == 10  # every judged one
    assert flagged[False]["false_negatives_removed"] < 10


@pytest.mark.parametrize("command", ["mine", "eval"])
def test_a_device_this_machine_lacks_is_refused_before_the_model_loads(tmp_path, monkeypatch, command):
    """--device reaches EncoderConfig (there was no such option: GPU users encoded on the CPU); a GPU torch
    cannot see is refused before any model is loaded."""
    import torch

    import negmine.encode.sentence_transformer as st
    from negmine.testing.beir import write_beir

    monkeypatch.setattr(st, "load_sentence_transformer", lambda *a, **k: pytest.fail("model loaded"))
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q1": "cell"}, [("q1", "d1", 1)], split="test")
    args = [command, str(beir), "--device", f"cuda:{count}"] + (["-o", str(tmp_path / "o.jsonl")] if command == "mine" else [])
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2, result.output
    assert (f"device='cuda:{count}' (--device cuda:{count}): torch {torch.__version__} sees {count} CUDA device(s)"
            in result.stderr)


@pytest.mark.parametrize("option,section,field,bad,message,good", [
    ("--query-batch-size", "retrieve", "query_batch_size", "0",
     "retrieve.query_batch_size must be a positive integer, got 0; use e.g. retrieve.query_batch_size=4096 "
     "(--query-batch-size 4096)", "3"),
    ("--encode-shard-size", "engine", "encode_shard_size", "0",
     "engine.encode_shard_size must be a positive integer, got 0; use e.g. engine.encode_shard_size=8192 "
     "(--encode-shard-size 8192)", "3"),
    ("--near-dup-min-shared", "near_dup", "min_shared", "-1",
     "near_dup.min_shared must be an integer >= 0, got -1; use e.g. near_dup.min_shared=5 (--near-dup-min-shared 5) "
     "(shingles)", "2"),
    ("--near-dup-shingle", "near_dup", "shingle", "0",
     "near_dup.shingle must be a positive integer, got 0; use e.g. near_dup.shingle=3 (--near-dup-shingle 3) "
     "(word 3-grams)", "2"),
    ("--near-dup-num-perm", "near_dup", "num_perm", "0",
     "near_dup.num_perm must be a positive integer, got 0; use e.g. near_dup.num_perm=64 (--near-dup-num-perm 64) "
     "(MinHash permutations)", "16"),
])
def test_mine_cli_tuning_options_map_onto_their_config_fields(tmp_path, option, section, field, bad, message, good):
    """These fields had no option (API only): a bad value gets the config's error, a good one is what the run used."""
    summary = _rejected_then_mined([*_bm25_mine_args(tmp_path), "--keep-partial"], option, bad, message, good)
    assert summary["config"][section][field] == int(good)


def test_mine_cli_cross_encoder_batch_size_maps_onto_the_denoise_judges(tmp_path, tiny_cross_encoder_path):
    args = [*_bm25_mine_args(tmp_path), "--keep-partial"]
    result = runner.invoke(build_app(), [*args, "--cross-encoder-batch-size", "3"])
    assert result.exit_code == 2
    assert result.stderr == ("error: --cross-encoder-batch-size would be ignored: denoising is off (no --denoise): the "
                             "judges only rescore candidates when it is on; set denoise.enabled=True (--denoise), or "
                             "judge the mined file afterwards with negmine audit (run_audit), or drop --cross-encoder-batch-size\n")
    denoise = ["--denoise", "--cross-encoder", str(tiny_cross_encoder_path), "--cache-dir", str(tmp_path / "cache")]
    summary = _rejected_then_mined([*args, *denoise], "--cross-encoder-batch-size", "0",
                                   "denoise.judges.cross_encoder_batch_size must be a positive integer, got 0; use e.g. "
                                   "denoise.judges.cross_encoder_batch_size=32 (--cross-encoder-batch-size 32)", "3")
    assert summary["config"]["denoise"]["judges"]["cross_encoder_batch_size"] == 3


@pytest.mark.parametrize("option", ["--near-dup-min-shared", "--near-dup-shingle", "--near-dup-num-perm"])
def test_mine_cli_refuses_minhash_settings_with_the_overlap_test_off(tmp_path, option):
    # they were ignored (exit 0): --near-dup-overlap 0 switches the MinHash test off
    result = runner.invoke(build_app(), [*_bm25_mine_args(tmp_path), "--near-dup-overlap", "0", option, "4"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {option} would be ignored: the MinHash overlap test is off (overlap None); set "
                             f"near_dup.overlap=0.5 (--near-dup-overlap 0.5), or drop {option}\n")
    assert not (tmp_path / "neg.jsonl").exists()


def test_mine_cli_reads_an_explicit_qrels_file_with_a_beir_directory_and_refuses_a_split_with_it(tmp_path):
    """``mine DATA_DIR --split test --qrels FILE`` mined FILE's judgments, exit 0, and recorded split test; without
    --split, the directory's corpus and queries with one's own qrels file stay a way to mine."""
    from negmine.testing.beir import write_beir

    corpus = {f"d{i}": f"cell protein gene study {i} " + "blood " * (i % 3) for i in range(12)}
    beir = write_beir(tmp_path / "b", corpus, {"q1": "cell protein", "q2": "gene blood"}, [("q1", "d0", 1)])
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    own = tmp_path / "own.tsv"
    own.write_text("query-id\tcorpus-id\tscore\nq2\td5\t1\n")
    out = tmp_path / "neg.jsonl"
    args = ["mine", str(beir), "--qrels", str(own), "--retriever", "bm25", "--num-negatives", "2", "--depth", "8",
            "--output", str(out), "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0",
            "--no-progress"]
    for split in ("test", "train"):  # typed at its default too
        result = runner.invoke(build_app(), [*args, "--split", split])
        assert result.exit_code == 2
        assert result.stderr == ("error: --split would be ignored: the judgments come from the --qrels file, not from "
                                 "a qrels/<split>.tsv; to mine a split of the BEIR directory, drop data.qrels (--qrels), "
                                 "or drop "
                                 "--split\n")
        assert not out.exists()
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["query_id"], r["positive_id"]) for r in rows] == [("q2", "d5")]


@pytest.mark.filterwarnings("default::negmine.errors.NegmineWarning")  # the test checks the printed warning line
def test_mine_cli_warns_of_pairs_that_repeat_another_up_to_case_and_spacing(tmp_path, tiny_model_path):
    """An own-data pairs file with a query re-typed in capitals and its positive re-spaced mined both as pairs of
    their own, and nothing said so; the summary counts them, and graded-0 qrels rows, for the pairs in."""
    rows = [(f"cell protein query {i}", f"gene study document {i} blood") for i in range(10)]
    rows.append(("CELL  PROTEIN query 3", "gene study\ndocument 3 blood"))
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("question,passage\n" + "".join(f'"{q}","{p}"\n' for q, p in rows), encoding="utf-8")
    out = tmp_path / "neg.jsonl"
    result = runner.invoke(
        build_app(),
        ["mine", "--pairs", str(pairs), "--model", str(tiny_model_path), "--num-negatives", "2",
         "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--no-progress",
         "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"],
    )
    assert result.exit_code == 0, result.output
    assert (f"warning: {pairs}: 1 (query, positive) pairs repeat an earlier pair up to case, spacing or invisible "
            "characters, e.g. (q11, d11) repeats (q4, d4)") in result.stderr
    assert "pairs: 11 in, 11 out" in result.stdout
    # the summary printed counts them too, in the mining report's words (only the warning said them)
    assert ("\n  pairs repeating an earlier pair up to case, spacing or invisible characters, each mined as a pair of "
            "its own (so it counts twice): 1\n") in result.stdout
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["pairs_repeating_another"] == 1 and summary["qrels_not_relevant"] == 0


@pytest.mark.filterwarnings("ignore::negmine.errors.NegmineWarning")  # the added-positives warning, tested in tests/io
def test_mine_cli_summary_and_report_record_the_positives_added_to_the_corpus(tmp_path, tiny_model_path):
    """``--pairs FILE --corpus CORPUS`` added the positives missing from the corpus and said so only in a warning: the
    summary (and so the report) could not tell how much of the corpus came from the pairs. The summary now records
    ``pairs_positives_added_to_corpus``, and the report and the summary printed show it; without --corpus the key is
    absent."""
    rows = [(f"cell protein query {i}", f"gene study document {i} blood") for i in range(10)]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("question,passage\n" + "".join(f'"{q}","{p}"\n' for q, p in rows), encoding="utf-8")
    corpus = tmp_path / "corpus.csv"  # positives 0..7, positive 9 re-spaced, and other documents; positive 8 missing
    texts = [p for _, p in rows[:8]] + ["gene study  document 9 blood"] + [f"heart virus note {i}" for i in range(6)]
    corpus.write_text("text\n" + "".join(f'"{t}"\n' for t in texts), encoding="utf-8")
    common = ["mine", "--pairs", str(pairs), "--model", str(tiny_model_path), "--num-negatives", "2",
              "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--no-sd-margin"]
    out = tmp_path / "neg.jsonl"
    result = runner.invoke(build_app(), [*common, "--corpus", str(corpus), "--output", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["pairs_positives_added_to_corpus"] == {"added": 2, "distinct_positives": 10, "whitespace_only": 1}
    # the summary printed counts them too, in the report's words (it said nothing of them but in the warning)
    assert ("\n  positives not in the corpus file (exact text), added to it as documents p<row>: 2 of 10 distinct "
            "positives (1 of them differing from a corpus document only in whitespace)\n") in result.stdout
    result = runner.invoke(build_app(), ["report", str(out), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert ("<tr><td>positives not in the corpus file (exact text), added to it as documents p&lt;row&gt;</td>"
            "<td>2 of 10 distinct positives (1 of them differing from a corpus document only in whitespace)</td></tr>"
            in page)
    alone = tmp_path / "alone.jsonl"
    result = runner.invoke(build_app(), [*common, "--output", str(alone)])
    assert result.exit_code == 0, result.output
    assert "positives not in the corpus file" not in result.output
    assert "pairs_positives_added_to_corpus" not in json.loads((tmp_path / "alone.summary.json").read_text())
    runner.invoke(build_app(), ["report", str(alone), "-o", str(tmp_path / "alone.html")])
    assert "positives not in the corpus file" not in (tmp_path / "alone.html").read_text(encoding="utf-8")


def test_mine_cli_stopped_by_ctrl_c_says_how_to_go_on(tmp_path, monkeypatch):
    """Ctrl-C printed only 'interrupted; ...': nothing told the user that the same command resumes from the
    shards kept in the work folder (measured: 5 of 10 corpus shards kept, the rerun encoded only the rest)."""
    import negmine.pipeline.mine
    from negmine.testing.beir import write_beir

    def stopped(config, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(negmine.pipeline.mine, "mine", stopped)
    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q": "cell"}, [("q", "d1", 1)])
    args = ["mine", str(beir), "--retriever", "bm25", "--num-negatives", "1", "--output", str(tmp_path / "o.jsonl"),
            "--no-progress"]
    result = runner.invoke(build_app(), args + ["--work-dir", str(tmp_path / "work")])
    assert result.exit_code == 130
    assert ("rerun the same command to continue: the encoding and search shards it finished are kept under "
            f"{tmp_path / 'work'} and are not computed again") in result.stderr
    result = runner.invoke(build_app(), args + ["--cache-dir", str(tmp_path / "cache")])
    assert f"are kept under {tmp_path / 'cache' / 'runs'} and" in result.stderr


def test_mine_cli_stopped_while_encoding_says_what_the_rerun_encodes_again(tmp_path, monkeypatch):
    """SciFact's mine stopped at 1,992 of 5,183 documents said "the encoding and search shards it finished are kept
    ... and are not computed again": its one shard (the default 8,192 texts) had not finished, and the rerun encoded
    every document again ("embeddings: 5990 encoded, 0 from cache")."""
    import negmine.pipeline.mine
    from negmine.engine.encode import EncodingStopped
    from negmine.testing.beir import write_beir

    def stopped_in(where):
        def mine(config, *args, **kwargs):
            err = KeyboardInterrupt()
            err.negmine_encoding = where
            raise err
        return mine

    beir = write_beir(tmp_path / "b", {"d1": "cell", "d2": "gene"}, {"q": "cell"}, [("q", "d1", 1)])
    args = ["mine", str(beir), "--num-negatives", "1", "--output", str(tmp_path / "o.jsonl"), "--no-progress",
            "--work-dir", str(tmp_path / "work")]
    kept = (f"rerun the same command to continue: the encoding and search shards it finished are kept under "
            f"{tmp_path / 'work'} and are not computed again")
    monkeypatch.setattr(negmine.pipeline.mine, "mine", stopped_in(EncodingStopped("encode corpus", 1, 0, 8192, 1992)))
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 130
    assert result.stderr.splitlines()[-1] == (
        f"{kept}; it stopped in encode corpus with 0 of 1 shard finished (up to 8,192 texts each; "
        "--encode-shard-size below 8,192 loses less to a stop): the 1,992 texts it encoded in unfinished shards are "
        "encoded again")
    monkeypatch.setattr(negmine.pipeline.mine, "mine", stopped_in(EncodingStopped("encode queries", 3, 1, 100, 0)))
    result = runner.invoke(build_app(), args)
    assert result.stderr.splitlines()[-1] == (
        f"{kept}; it stopped in encode queries with 1 of 3 shards finished (up to 100 texts each; "
        "--encode-shard-size below 100 loses less to a stop)")
    monkeypatch.setattr(negmine.pipeline.mine, "mine", stopped_in(EncodingStopped("encode queries", 3, 3, 100, 0)))
    assert runner.invoke(build_app(), args).stderr.splitlines()[-1] == kept


def test_mine_cli_export_scores_writes_the_mining_scores_and_is_refused_where_they_do_not_apply(tmp_path):
    """--export-scores lays the rows' mining scores out as mine_hard_negatives(output_scores=True) does: a triplet's
    [positive, negative] scores, labeled-pair's score in place of its label; the FlagEmbedding formats take none (and
    say which do), and without an --export it would be ignored: both exit 2 before any work."""
    args = [*_bm25_mine_args(tmp_path), "--export", "triplet", "--export", "labeled-pair"]
    result = runner.invoke(build_app(), [*args, "--export-scores"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "neg.jsonl").read_text().splitlines()]
    triplets = [json.loads(line) for line in (tmp_path / "neg.triplet.jsonl").read_text().splitlines()]
    assert triplets == [{"anchor": r["query"], "positive": r["positive"], "negative": neg,
                         "scores": [r["positive_score"], score]}
                        for r in rows for neg, score in zip(r["negatives"], r["negative_scores"])]
    pairs = [json.loads(line) for line in (tmp_path / "neg.labeled-pair.jsonl").read_text().splitlines()]
    assert pairs and all(list(p) == ["query", "document", "score"] for p in pairs)
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["config"]["output"]["export_scores"] is True
    (tmp_path / "neg.jsonl").unlink()
    refused = runner.invoke(build_app(), [*args, "--export", "flagembedding", "--export-scores"])
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: export format 'flagembedding' (--export flagembedding) takes no output.export_scores (--export-scores); the "
        "formats that do: triplet, n-tuple, labeled-list, labeled-list-by-query, labeled-pair; for its scores use "
        "--export flagembedding-scores instead, or write flagembedding in a separate run\n")
    unused = runner.invoke(build_app(), [*_bm25_mine_args(tmp_path), "--export-scores"])
    assert unused.exit_code == 2
    assert unused.stderr == ("error: --export-scores would be ignored: no --export format is written (the native output "
                             "holds its scores anyway); add a format to output.formats (--export FORMAT), or drop "
                             "--export-scores\n")
    assert not (tmp_path / "neg.jsonl").exists()


def test_mine_cli_export_scores_from_judge_writes_the_cross_encoders_scores_and_is_refused_without_one(
        tmp_path, tiny_cross_encoder_path):
    """--export-scores-from judge: the triplet's scores are the --denoise cross-encoder's, as the rows keep them;
    without --denoise it is refused naming the fix, and without --export-scores it would be ignored (exit 2, no
    work)."""
    args = [*_bm25_mine_args(tmp_path), "--export", "triplet", "--export-scores"]
    denoise = ["--denoise", "--cross-encoder", str(tiny_cross_encoder_path), "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(build_app(), [*args, *denoise, "--keep-partial", "--export-scores-from", "judge"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "neg.jsonl").read_text().splitlines()]
    triplets = [json.loads(line) for line in (tmp_path / "neg.triplet.jsonl").read_text().splitlines()]
    assert rows and triplets == [
        {"anchor": r["query"], "positive": r["positive"], "negative": neg, "scores": [r["judge_positive_score"], score]}
        for r in rows for neg, score in zip(r["negatives"], r["judge_negative_scores"])]
    summary = json.loads((tmp_path / "neg.summary.json").read_text())
    assert summary["denoise"]["judge_scores"]["scorer"] == "cross-encoder"
    (tmp_path / "neg.jsonl").unlink()
    refused = runner.invoke(build_app(), [*args, "--export-scores-from", "judge"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        "error: output.export_scores_from='judge' (--export-scores-from judge) exports the denoising judge's scores, "
        "and this mine runs no judge; set denoise.enabled=True (--denoise) with denoise.judges.cross_encoder "
        "(--cross-encoder NAME_OR_PATH)")
    unused = runner.invoke(build_app(), [*_bm25_mine_args(tmp_path), "--export", "triplet", "--export-scores-from",
                                         "judge"])
    assert unused.exit_code == 2
    assert unused.stderr == ("error: --export-scores-from would be ignored: the exports write no scores; set "
                             "output.export_scores=True (--export-scores) or add 'flagembedding-scores' to "
                             "output.formats (--export "
                             "flagembedding-scores), or drop --export-scores-from\n")
    assert not (tmp_path / "neg.jsonl").exists()


def test_mine_cli_flagembedding_scores_take_the_judges_scores_with_export_scores_from_judge_alone(
        tmp_path, tiny_cross_encoder_path):
    """flagembedding-scores always writes scores (and refuses --export-scores), so --export-scores-from judge alone
    puts the --denoise cross-encoder's in pos_scores/neg_scores (it was refused as unused); without --denoise it is
    refused naming the fix, before any work."""
    args = [*_bm25_mine_args(tmp_path), "--export", "flagembedding-scores", "--export-scores-from", "judge"]
    denoise = ["--denoise", "--cross-encoder", str(tiny_cross_encoder_path), "--cache-dir", str(tmp_path / "cache")]
    result = runner.invoke(build_app(), [*args, *denoise, "--keep-partial"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "neg.jsonl").read_text().splitlines()]
    records = [json.loads(line) for line in (tmp_path / "neg.flagembedding-scores.jsonl").read_text().splitlines()]
    judge = {(r["query"], r["positive"]): r["judge_positive_score"] for r in rows}
    judge.update({(r["query"], text): s for r in rows for text, s in zip(r["negatives"], r["judge_negative_scores"])})
    assert records and all(len(r["neg"]) == len(r["neg_scores"]) for r in records)
    for record in records:
        assert record["pos_scores"] == [judge[(record["query"], t)] for t in record["pos"]]
        assert record["neg_scores"] == [judge[(record["query"], t)] for t in record["neg"]]
    (tmp_path / "neg.jsonl").unlink()
    refused = runner.invoke(build_app(), args)
    assert refused.exit_code == 2
    assert refused.stderr.startswith(
        "error: output.export_scores_from='judge' (--export-scores-from judge) exports the denoising judge's scores, "
        "and this mine runs no judge; set denoise.enabled=True (--denoise)")
    assert not (tmp_path / "neg.jsonl").exists()


HF_ROWS = [{"anchor": f"cell protein query {i}", "positive": f"gene study document {i} " + "blood " * (i % 3)}
           for i in range(10)]


def _mine_pairs(tmp_path, pairs, out: Path, model) -> object:
    return runner.invoke(build_app(), [
        "mine", "--pairs", str(pairs), "--model", str(model), "--num-negatives", "2", "--depth", "8",
        "--cache-dir", str(tmp_path / "cache"), "--output", str(out), "--no-progress",
        "--no-sd-margin", "--near-dup-threshold", "0", "--near-dup-overlap", "0"])


@pytest.fixture
def hf_datasets(tmp_path, monkeypatch):
    """The datasets library with its progress bars off (then back as they were: a global setting, which leaked into
    later tests) and load_dataset's cache (read at import) under tmp_path."""
    datasets = pytest.importorskip("datasets")
    was_off = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", Path(tmp_path / "hf-datasets-cache"))
    yield datasets
    if not was_off:
        datasets.enable_progress_bars()


def test_mine_cli_pairs_from_a_saved_dataset_or_hf_mine_the_bytes_of_the_same_rows_in_a_jsonl_file(
        tmp_path, tiny_model_path, hf_datasets):
    """A sentence-transformers user's datasets.Dataset had to be written to a file first; --pairs takes the folder
    save_to_disk wrote, and hf:NAME:SPLIT (datasets.load_dataset: here a local folder of files, no network)."""
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(row) + "\n" for row in HF_ROWS), encoding="utf-8")
    hf_datasets.Dataset.from_list(HF_ROWS).save_to_disk(str(tmp_path / "saved"))
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "train.jsonl").write_bytes(pairs.read_bytes())
    outputs = []
    for name, given in (("file", pairs), ("saved", tmp_path / "saved"), ("hub", f"hf:{tmp_path / 'files'}:train")):
        out = tmp_path / "o" / f"{name}.jsonl"
        result = _mine_pairs(tmp_path, given, out, tiny_model_path)
        assert result.exit_code == 0, result.output
        assert "pairs: 10 in, 10 out" in result.stdout
        outputs.append(out.read_bytes())
    assert outputs[0] and outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_mine_cli_refuses_a_bad_dataset_before_any_model_loads(tmp_path, tiny_model_path, hf_datasets, monkeypatch):
    import negmine.pipeline.mine as mine_module

    def no_models(*args, **kwargs):
        raise AssertionError("a model loaded before the pairs were checked")

    monkeypatch.setattr(mine_module, "_load_models", no_models)
    saved = tmp_path / "saved"
    hf_datasets.Dataset.from_list([*HF_ROWS[:2], {"anchor": "q", "positive": " "}]).save_to_disk(str(saved))
    result = _mine_pairs(tmp_path, saved, tmp_path / "o.jsonl", tiny_model_path)
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"error: dataset {str(saved)!r}, row 3 (index 2), column 'positive': empty text (nothing "
                             "left after stripping whitespace)\n")
    splits = tmp_path / "splits"
    hf_datasets.DatasetDict(train=hf_datasets.Dataset.from_list(HF_ROWS)).save_to_disk(str(splits))
    result = _mine_pairs(tmp_path, splits, tmp_path / "o.jsonl", tiny_model_path)
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"error: {splits}: a DatasetDict saved by save_to_disk (splits: 'train'), not one "
                             f"dataset; give one split's folder, e.g. --pairs {splits / 'train'}\n")


def test_mine_cli_hf_offline_names_the_dataset_and_the_fix(tmp_path, tiny_model_path, hf_datasets, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf_datasets.config, "HF_HUB_OFFLINE", True)  # datasets reads the variable when imported
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    result = _mine_pairs(tmp_path, "hf:sentence-transformers/natural-questions:train", tmp_path / "o.jsonl",
                         tiny_model_path)
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "error: dataset 'sentence-transformers/natural-questions', split 'train': the Hugging Face hub could not be "
        "reached to load it (HF_HUB_OFFLINE=1 is set) and it is not in the datasets cache; on a machine with hub "
        "access save it, ds = datasets.load_dataset('sentence-transformers/natural-questions', split='train'); "
        "ds.save_to_disk('DIR'), copy DIR here and pass --pairs DIR, or export it to Parquet, "
        "ds.to_parquet('pairs.parquet'), and pass --pairs pairs.parquet\n")


def _hub_state(datasets) -> tuple:
    """The process-wide settings negmine changes while datasets loads --pairs without progress (the hub's bars as
    are_progress_bars_disabled reads them: transformers' switch, which the model load puts back, writes an explicit
    '_global' where there was none)."""
    import logging

    from huggingface_hub.utils import are_progress_bars_disabled

    return (datasets.are_progress_bars_disabled(), logging.getLogger("huggingface_hub").level,
            are_progress_bars_disabled(), are_progress_bars_disabled("huggingface_hub.http_get"))


def test_mine_cli_without_progress_silences_datasets_bars_and_hub_retries_and_restores_them(
        tmp_path, tiny_model_path, hf_datasets, monkeypatch, caplog):
    """--no-progress (and stderr not a terminal) left datasets' 'Generating train split' bar and the hub's retry lines
    ('Retrying in 1s [Retry 1/5].', five over 23 s offline) on stderr. They are off while negmine loads --pairs and
    back as they were after: both are process-wide settings (a notebook's bars must survive a mine)."""
    import logging

    hf_datasets.enable_progress_bars()  # the fixture turned them off
    for name in ("shown", "quiet"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "train.jsonl").write_text("".join(json.dumps(row) + "\n" for row in HF_ROWS), "utf-8")
    import negmine.progress

    before = _hub_state(hf_datasets)
    with monkeypatch.context() as terminal:  # the runner's stderr is no terminal: as if it were one
        terminal.setattr(negmine.progress, "_draws_in_place", lambda tqdm_class, stream: True)
        shown = runner.invoke(build_app(), [
            "mine", "--pairs", f"hf:{tmp_path / 'shown'}:train", "--model", str(tiny_model_path), "--num-negatives",
            "2", "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "shown.jsonl"), "--progress"])
    assert shown.exit_code == 0, shown.output
    assert "Generating train split" in shown.stderr  # the bar the test looks for, drawn with --progress
    (tmp_path / "logged").mkdir()
    (tmp_path / "logged" / "train.jsonl").write_text((tmp_path / "quiet" / "train.jsonl").read_text("utf-8"), "utf-8")
    logged = runner.invoke(build_app(), [  # --progress, stderr no terminal (a log file): negmine's bars only
        "mine", "--pairs", f"hf:{tmp_path / 'logged'}:train", "--model", str(tiny_model_path), "--num-negatives", "2",
        "--cache-dir", str(tmp_path / "cache"), "--output", str(tmp_path / "logged.jsonl"), "--progress"])
    assert logged.exit_code == 0, logged.output
    assert "Generating" not in logged.stderr and "encode corpus" in logged.stderr
    assert _hub_state(hf_datasets) == before
    quiet = _mine_pairs(tmp_path, f"hf:{tmp_path / 'quiet'}:train", tmp_path / "quiet.jsonl", tiny_model_path)
    assert quiet.exit_code == 0, quiet.output
    assert "Generating" not in quiet.stderr and "%|" not in quiet.stderr
    assert _hub_state(hf_datasets) == before and not before[0]

    def unreachable(*args, **kwargs):  # what the hub client logs, then raises, without network
        logging.getLogger("huggingface_hub.utils._http").warning("Retrying in 1s [Retry 1/5].")
        raise ConnectionError("Couldn't reach 'org/name' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(hf_datasets, "load_dataset_builder", unreachable)
    with caplog.at_level(logging.WARNING):
        failed = _mine_pairs(tmp_path, "hf:org/name:train", tmp_path / "o.jsonl", tiny_model_path)
    assert failed.exit_code == 2, failed.output
    assert failed.stderr.startswith("error: dataset 'org/name', split 'train': the Hugging Face hub could not be "
                                    "reached to load it (Couldn't reach 'org/name' on the Hub")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("huggingface_hub")] == []
    assert _hub_state(hf_datasets) == before
    with caplog.at_level(logging.WARNING):  # with progress shown, the hub's lines are left as they were
        runner.invoke(build_app(), ["mine", "--pairs", "hf:org/name:train", "--model", str(tiny_model_path),
                                    "--output", str(tmp_path / "o.jsonl"), "--progress"])
    assert "Retrying in 1s [Retry 1/5]." in [r.getMessage() for r in caplog.records]


def test_mine_cli_summary_records_the_saved_dataset_read(tmp_path, tiny_model_path, hf_datasets):
    """--pairs DIR was recorded as the folder's path only: another dataset saved there later left the same
    record. The summary's pairs_input holds the fingerprint save_to_disk wrote in state.json and the rows' sha256:
    the same for two runs on the same folder (the summary byte-identical but for its timings), other for new data."""
    saved, out = tmp_path / "saved", tmp_path / "o" / "neg.jsonl"
    summaries = []
    for rows in (HF_ROWS, HF_ROWS, [*HF_ROWS[:9], {"anchor": "cell protein query 9", "positive": "new text"}]):
        if summaries:
            shutil.rmtree(saved)
        hf_datasets.Dataset.from_list(rows).save_to_disk(str(saved))
        result = _mine_pairs(tmp_path, saved, out, tiny_model_path)
        assert result.exit_code == 0, result.output
        summary = json.loads(out.with_name("neg.summary.json").read_text(encoding="utf-8"))
        state = json.loads((saved / "state.json").read_text(encoding="utf-8"))
        assert summary["pairs_input"]["kind"] == "save_to_disk"
        assert summary["pairs_input"]["fingerprint"] == state["_fingerprint"]
        for key in ("seconds", "embeddings"):  # documented to vary (docs/mining.md, "What stays byte-identical")
            summary.pop(key)
        for key in ("encode_seconds", "search_seconds"):
            summary["engine"].pop(key)
        summaries.append(summary)
    assert summaries[1] == summaries[0]
    assert summaries[2]["pairs_input"]["fingerprint"] != summaries[0]["pairs_input"]["fingerprint"]
    assert summaries[2]["pairs_input"]["rows_sha256"] != summaries[0]["pairs_input"]["rows_sha256"]


def test_mine_cli_names_the_argument_of_a_missing_beir_directory(tmp_path):
    """'BEIR directory not found' named neither the field nor the argument that gave the folder."""
    result = runner.invoke(build_app(), ["mine", str(tmp_path / "no-such-dir"), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'no-such-dir'}: BEIR directory not found, given as "
                                    "data.data_dir (the DATA_DIR argument); check the path: ")


@pytest.mark.parametrize(("no_words", "clause"), [
    (1, "; 1 pair needs --retriever dense or hybrid (its query has no BM25 word)"),
    (2, "; 2 pairs need --retriever dense or hybrid (their query has no BM25 word)")])
def test_the_nothing_mined_hint_counts_the_pairs_without_a_bm25_word(capsys, no_words, clause):
    """'1 pairs need' until 2026-12-07."""
    import typer

    from negmine.cli.mine_cmd import exit_if_nothing_mined
    from negmine.pipeline.select_pairs import SKIP_NO_BM25_WORDS, SKIP_NONE

    with pytest.raises(typer.Exit):
        exit_if_nothing_mined({"pairs_out": 0, "pairs_skipped": {SKIP_NO_BM25_WORDS: no_words, SKIP_NONE: 3}})
    assert capsys.readouterr().err.rstrip("\n").endswith(clause)
