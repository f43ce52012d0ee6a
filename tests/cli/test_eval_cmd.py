from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from negmine.cli import build_app
from negmine.cli.eval_cmd import encoding_note, split_metrics
from negmine.errors import ConfigError
from negmine.testing.beir import write_beir

runner = CliRunner()

CORPUS = {f"d{i}": (f"title {i}", f"cell protein gene study {i} " + "blood " * (i % 3)) for i in range(12)}
QUERIES = {"q1": "cell protein", "q2": "gene blood", "q3": "heart disease"}
QRELS = [("q1", "d0", 1), ("q2", "d1", 1), ("q2", "d4", 1), ("q3", "d5", 2)]


def _beir(tmp_path):
    return write_beir(tmp_path / "b", CORPUS, QUERIES, QRELS, split="test")


def saved_correction(results) -> str:
    return json.loads(results.read_text())["comparison"]["correction"]


def test_eval_cli_model_and_run_file(tmp_path, tiny_model_path) -> None:
    beir = _beir(tmp_path)
    run_file = tmp_path / "oracle.trec"
    run_file.write_text("q1 Q0 d0 1 1.0 oracle\nq2 Q0 d1 1 1.0 oracle\nq2 Q0 d4 2 0.9 oracle\nq3 Q0 d5 1 1.0 oracle\n")
    out = tmp_path / "res" / "results.json"
    args = ["eval", str(beir), "--split", "test", "--model", str(tiny_model_path), "--run", str(run_file),
            "--metrics", "ndcg@10,mrr@10", "--metrics", "recall@10", "--depth", "10", "--output", str(out),
            "--runs-dir", str(tmp_path / "runs"), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # stderr may carry the model loader's progress bar
    assert lines[0].split() == ["run", "queries", "ndcg@10", "mrr@10", "recall@10"]
    assert lines[2].split()[:3] == ["model", "(baseline)", "3"]
    # the oracle is perfect; whether that is significant over 3 queries depends on the random tiny model's ranks
    assert [cell.rstrip("*") for cell in lines[3].split()] == ["oracle", "3", "1.0000", "1.0000", "1.0000"]
    assert "p-values vs baseline 'model' (paired t-test, two-sided; * = p <= 0.05):" in result.stdout
    assert saved_correction(out) == "holm"  # one run compared: its raw p-value, nothing adjusted
    raw = runner.invoke(build_app(), args + ["--correction", "none"])
    assert raw.exit_code == 0 and saved_correction(out) == "none", raw.output
    assert "model: encoded 15 texts, 0 from cache" in result.stdout
    saved = json.loads(out.read_text())
    assert saved["comparison"]["metrics"] == ["ndcg@10", "mrr@10", "recall@10"]
    assert (tmp_path / "runs" / "model.trec").read_text().startswith("q1 Q0 ")
    again = runner.invoke(build_app(), args)
    assert again.exit_code == 0 and "model: encoded 0 texts, 15 from cache" in again.stdout


def test_eval_cli_truncate_dim_reuses_the_cache_and_checks_the_models_dimension(tmp_path, tiny_model_path) -> None:
    args = ["eval", str(_beir(tmp_path)), "--model", str(tiny_model_path), "--metrics", "ndcg@10", "--depth", "10",
            "--cache-dir", str(tmp_path / "cache"), "--no-progress", "--precision", "fp32"]
    full = runner.invoke(build_app(), args + ["--output", str(tmp_path / "full.json")])
    cut = runner.invoke(build_app(), args + ["--truncate-dim", "4", "--output", str(tmp_path / "cut.json")])
    assert full.exit_code == 0 and cut.exit_code == 0, full.output + cut.output
    assert "model: encoded 15 texts, 0 from cache" in full.stdout
    assert "model: encoded 0 texts, 15 from cache" in cut.stdout
    runs = [json.loads((tmp_path / f"{name}.json").read_text()) for name in ("full", "cut")]
    assert [r["config"]["truncate_dim"] for r in runs] == [None, 4]
    assert runs[0]["comparison"]["runs"]["model"] != runs[1]["comparison"]["runs"]["model"]
    big = runner.invoke(build_app(), args + ["--truncate-dim", "33"])
    assert big.exit_code == 2
    assert big.stderr.endswith(f"error: truncate_dim 33 exceeds the embedding dimension 32 of the model "
                               f"'{tiny_model_path}'; use truncate_dim=32 (--truncate-dim 32) or less (e.g. a dim the "
                               "model was trained at with matryoshka_dims, --matryoshka-dims), or leave it unset\n")


def test_eval_cli_errors_are_one_line_exit_2(tmp_path) -> None:
    beir = _beir(tmp_path)
    result = runner.invoke(build_app(), ["eval", str(beir), "--metrics", "ndcg@10,ndgc@5"])
    assert result.exit_code == 2
    assert "error: unknown metric 'ndgc@5'; allowed: ndcg," in result.output
    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 d0 1 high oracle\n")
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(bad)])
    assert result.exit_code == 2 and f"error: {bad}:1: field 'score': not a number: 'high'" in result.output
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(tmp_path / "missing.trec")])
    assert result.exit_code == 2 and "missing.trec" in result.output
    result = runner.invoke(build_app(), ["eval"])
    assert result.exit_code == 2 and "no data directory given" in result.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--model", "bm25", "--n-permutations", "500", "--seed", "3"],
     "--n-permutations and --seed would be ignored: only the Fisher test samples, and the test is student; set "
     "stat_test='fisher' (--stat-test fisher), or drop --n-permutations and --seed"),
    (["--depth", "5", "--runs-dir", "runs"],
     "--depth and --runs-dir would be ignored: no --model is evaluated, only --run files (scored as given); add "
     "a model to models (--model NAME), or drop --depth and --runs-dir"),
    (["--model", "bm25", "--truncate-dim", "64"],
     "--truncate-dim would be ignored: no dense --model is evaluated (BM25 and --run files have no embeddings to "
     "cut); add a model to models (--model NAME), or drop --truncate-dim"),
    (["--truncate-dim", "64"],
     "--truncate-dim would be ignored: no dense --model is evaluated (BM25 and --run files have no embeddings to "
     "cut); add a model to models (--model NAME), or drop --truncate-dim"),
    # were ignored, exit 0: a prompt or a max length with BM25 and run files only changes no score
    (["--model", "bm25", "--query-prompt", "query: ", "--max-length", "64"],
     "--query-prompt and --max-length would be ignored: no dense --model is evaluated (BM25 and --run files encode "
     "no text); add a model to models (--model NAME), or drop --query-prompt and --max-length"),
    (["--document-prompt", "passage: "],
     "--document-prompt would be ignored: no dense --model is evaluated (BM25 and --run files encode no text); add "
     "a model to models (--model NAME), or drop --document-prompt"),
])
def test_eval_cli_refuses_settings_it_would_not_use(tmp_path, flags, message) -> None:
    # each was ignored, exit 0: --runs-dir with run files only wrote no folder, --n-permutations ran a t-test
    run_file = tmp_path / "r.trec"
    run_file.write_text("q1 Q0 d0 1 1.0 r\n")
    result = runner.invoke(build_app(), ["eval", str(_beir(tmp_path)), "--run", str(run_file), *flags])
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n"


def test_eval_cli_takes_depth_and_runs_dir_for_the_bundled_model(tmp_path, monkeypatch) -> None:
    """Without --model and --run the bundled model is evaluated, so --depth and --runs-dir apply (they were
    refused as if only run files were scored)."""
    import negmine.evaluate.api

    seen = []
    monkeypatch.setattr(negmine.evaluate.api, "evaluate", lambda config, *a, **k: seen.append(config) or exit(0))
    result = runner.invoke(build_app(), ["eval", str(_beir(tmp_path)), "--depth", "5", "--runs-dir", "runs"])
    assert result.exit_code == 0, result.output
    assert (seen[0].depth, seen[0].runs_dir, seen[0].run_files) == (5, Path("runs"), ())


def test_split_metrics() -> None:
    assert split_metrics(["NDCG@10, mrr@10", "", "map"]) == ("ndcg@10", "mrr@10", "map")


def test_eval_cli_runs_models_on_the_onnx_backend(tmp_path, tiny_model_path) -> None:
    pytest.importorskip("onnxruntime")
    cache = tmp_path / "cache"
    args = ["eval", str(_beir(tmp_path)), "--model", str(tiny_model_path), "--metrics", "ndcg@10", "--depth", "10",
            "--backend", "onnx", "--quantize", "int8", "--cache-dir", str(cache), "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    assert "model: encoded 15 texts, 0 from cache" in result.stdout
    assert list(cache.glob("onnx/*/model.int8.onnx")), "the model must run on its int8 ONNX export"


def test_eval_cli_quantize_needs_the_onnx_backend(tmp_path) -> None:
    result = runner.invoke(build_app(), ["eval", str(_beir(tmp_path)), "--quantize", "int8"])
    assert result.exit_code == 2
    assert ("error: encoder.quantize='int8' (--quantize int8) needs encoder.backend='onnx' (--backend onnx) (got backend "
            "'torch')") in result.output


def test_eval_cli_names_the_split_setting_once(tmp_path) -> None:
    """It read 'pick one with split (--split), e.g. split='test' (--split test)': the setting named twice, both ways."""
    beir = _beir(tmp_path)
    result = runner.invoke(build_app(), ["eval", str(beir), "--split", "xyz", "--model", "bm25"])
    assert result.exit_code == 2
    assert result.stderr == (f"error: {beir / 'qrels' / 'xyz.tsv'}: split 'xyz' not found; available splits: test; pick "
                             "one, e.g. split='test' (--split test)\n")


def test_eval_and_train_name_the_subfolder_that_holds_the_model(tmp_path, tiny_model_path) -> None:
    """`--model tiny1` with the model in `tiny1/model/`: refused before any model loads, naming the subfolder."""
    import shutil

    from negmine.config import TrainConfig
    from negmine.train.preflight import check_model_folder

    outer = tmp_path / "tiny1"
    shutil.copytree(tiny_model_path, outer / "model")
    fix = f"its subfolder {str(outer / 'model')!r} holds one: pass that folder"
    result = runner.invoke(build_app(), ["eval", str(_beir(tmp_path)), "--model", str(outer)])
    assert result.exit_code == 2 and result.stderr.endswith(f"(transformers); {fix}\n"), result.output
    with pytest.raises(ConfigError, match=re.escape(fix)):
        check_model_folder(TrainConfig(train_file=tmp_path / "t.jsonl", model=str(outer), output_dir=tmp_path / "o"))


def test_eval_cli_unknown_qrels_skip_scores_missing_documents_and_says_so(tmp_path) -> None:
    beir = write_beir(tmp_path / "b", CORPUS, QUERIES, [*QRELS, ("q1", "gone", 1), ("q3", "lost", 0)], split="test")
    run_file = tmp_path / "oracle.trec"
    run_file.write_text("q1 Q0 d0 1 1.0 oracle\nq2 Q0 d1 1 1.0 oracle\nq2 Q0 d4 2 0.9 oracle\nq3 Q0 d5 1 1.0 oracle\n")
    args = ["eval", str(beir), "--run", str(run_file), "--metrics", "recall@10"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 2
    assert "test.tsv:6: field 'corpus-id': unknown corpus id 'gone'" in result.output
    assert "set unknown_qrels='skip' (--unknown-qrels skip)" in result.output
    result = runner.invoke(build_app(), [*args, "--unknown-qrels", "skip", "--output", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["oracle", "(baseline)", "3", "0.8333"], "q1 finds 1 of its 2 relevant documents"
    assert ("qrels: 2 rows (1 relevant) name documents missing from the corpus, e.g. 'gone', 'lost'; "
            "scored as never retrieved (BEIR)") in result.stdout
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["config"]["unknown_qrels"] == "skip" and saved["data"]["unknown_qrels"]["skipped"] == 2


def test_eval_cli_reports_queries_whose_relevant_documents_are_all_missing(tmp_path) -> None:
    beir = write_beir(tmp_path / "b", CORPUS, {**QUERIES, "q4": "ghost"}, [*QRELS, ("q4", "gone", 1)], split="test")
    run_file = tmp_path / "oracle.trec"
    run_file.write_text("q1 Q0 d0 1 1.0 oracle\nq2 Q0 d1 1 1.0 oracle\nq2 Q0 d4 2 0.9 oracle\nq3 Q0 d5 1 1.0 oracle\n")
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(run_file), "--metrics", "recall@10",
                                         "--unknown-qrels", "skip"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2].split() == ["oracle", "(baseline)", "4", "0.7500"]
    assert ("qrels: 1 row (1 relevant) names a document missing from the corpus, 'gone'; scored as never retrieved "
            "(BEIR); 1 query has only missing relevant documents and scores 0") in result.stdout


def test_eval_cli_says_which_queries_a_run_file_lacks_or_adds(tmp_path) -> None:
    beir = _beir(tmp_path)
    partial = tmp_path / "partial.trec"
    partial.write_text("q1 Q0 d0 1 1.0 p\nqZZZ Q0 d1 1 1.0 p\nqYY Q0 d1 1 1.0 p\n")
    out = tmp_path / "r.json"
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(partial), "--metrics", "recall@10",
                                         "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert (f"run p ({partial}): 2 of the 3 evaluated queries are missing (each scores 0; e.g. q2, q3); "
            "2 query ids are not in the queries file and were ignored (e.g. qYY, qZZZ)") in result.stdout
    coverage = json.loads(out.read_text())["run_file_coverage"]["p"]
    assert (coverage["missing"], coverage["unknown"], coverage["evaluated_queries"]) == (2, 2, 3)
    assert (coverage["not_evaluated"], coverage["identical_ids"]) == (0, 0)
    complete = tmp_path / "complete.trec"
    complete.write_text("q1 Q0 d0 1 1.0 c\nq2 Q0 d1 1 1.0 c\nq3 Q0 d5 1 1.0 c\n")
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(complete), "--metrics", "recall@10"])
    assert result.exit_code == 0 and "run c (" not in result.stdout


def test_eval_cli_says_when_a_run_file_ranks_fewer_documents_than_a_metric_looks_at(tmp_path) -> None:
    """A run file cut at depth 10 scored recall@100 0.275 against the same ranking's 0.700 at depth 100 (the demo's
    test split, a tiny model), marked significant (p 0.0011), and map too, without a word: the comparison measured
    the depths, not the rankings. Each such run file's line names the metrics and the fix."""
    beir = _beir(tmp_path)
    ranking = ["d0", "d1", "d4", "d2", "d3", "d5", "d6", "d7", "d8", "d9"]
    deep, shallow = tmp_path / "deep.trec", tmp_path / "shallow.trec"
    deep.write_text("".join(f"{q} Q0 {d} {i + 1} {10 - i} deep\n" for q in QUERIES for i, d in enumerate(ranking)))
    shallow.write_text("".join(f"{q} Q0 {d} {i + 1} {10 - i} shallow\n" for q in QUERIES
                               for i, d in enumerate(ranking[:2])))
    out = tmp_path / "r.json"
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(deep), "--run", str(shallow), "--metrics",
                                         "ndcg@2,recall@5,map,r-precision,judged@5", "--output", str(out)])
    assert result.exit_code == 0, result.output
    line = (f"run shallow ({shallow}): it ranks at most 2 documents per query, another run 10: recall@5, map look "
            "past rank 2, where its documents score as not retrieved, so they compare depths, not rankings; compare "
            "runs of equal depth, or give --metrics whose cutoffs are at most 2")
    assert line in result.stdout.splitlines()
    assert "run deep (" not in result.stdout  # the deeper run: every metric sees its whole ranking
    coverage = json.loads(out.read_text())["run_file_coverage"]
    assert coverage["shallow"]["shallow_metrics"] == ["recall@5", "map"]
    assert (coverage["shallow"]["depth"], coverage["shallow"]["deepest_other"], coverage["deep"]["depth"]) == (2, 10, 10)
    assert coverage["deep"]["shallow_metrics"] == []
    report = runner.invoke(build_app(), ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert f'<p class="note">{html.escape(line)}</p>' in (tmp_path / "r.report.html").read_text(encoding="utf-8")
    alone = runner.invoke(build_app(), ["eval", str(beir), "--run", str(shallow), "--metrics", "recall@5,map"])
    assert alone.exit_code == 0 and "look past" not in alone.stdout  # no deeper run: one depth, a fair comparison


def test_eval_cli_names_run_files_and_says_which_it_renamed(tmp_path, monkeypatch) -> None:
    """``--run NAME=PATH`` names a run file whatever else the command evaluates; one left unnamed whose tag is
    shared is renamed as before, now with a line saying so (on stdout and in the report), and a file whose name
    holds '=' is still read by its path."""
    monkeypatch.chdir(tmp_path)
    beir = _beir(tmp_path)
    Path("runs").mkdir()
    for name, docs in (("a", "d0 d1 d5"), ("b", "d1 d4 d2"), ("x=y", "d0 d4 d5")):
        Path(f"runs/{name}.trec").write_text("".join(f"{q} Q0 {d} 1 1.0 negmine\n" for q, d in zip(QUERIES, docs.split())))
    out = tmp_path / "r.json"
    base = ["eval", str(beir), "--metrics", "recall@10", "--output", str(out)]
    result = runner.invoke(build_app(), base + ["--run", "mine=runs/a.trec", "--run", "runs/b.trec", "--run",
                                                "runs/x=y.trec", "--run", "eq=runs/x=y.trec"])
    assert result.exit_code == 2 and "run file listed twice in ['runs/a.trec', 'runs/b.trec', 'runs/x=y.trec', " \
        "'runs/x=y.trec']" in result.output  # the last one was named: NAME=PATH splits at the first '='
    result = runner.invoke(build_app(), base + ["--run", "mine=runs/a.trec", "--run", "runs/b.trec", "--run",
                                                "runs/x=y.trec"])
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[2:5]] == ["mine", "b", "x=y"]
    line = ("run file runs/b.trec: its tag 'negmine' is shared, named 'b' (name it yourself: --run "
            "NAME=runs/b.trec)")
    assert line in result.stdout.splitlines() and "run file runs/a.trec" not in result.stdout
    assert json.loads(out.read_text())["config"]["run_names"] == ["mine", None, None]
    report = runner.invoke(build_app(), ["report", str(out)])
    assert report.exit_code == 0, report.output
    assert f'<p class="note">{html.escape(line)}</p>' in (tmp_path / "r.report.html").read_text(encoding="utf-8")
    saved = out.read_bytes()
    for args, message in (
        (["--run", "m=runs/a.trec", "--run", "m=runs/b.trec"],
         "error: run name 'm' is given to two run files, runs/a.trec and runs/b.trec; give each its own name: "
         "run_names (--run NAME=PATH)"),
        (["--run", "bm25=runs/a.trec", "--model", "bm25"],
         "error: run name 'bm25' of run file runs/a.trec is the name of model 'bm25'; give the run file another name: "
         "run_names (--run NAME=PATH)"),
    ):
        result = runner.invoke(build_app(), base + args)
        assert result.exit_code == 2 and message in result.output, result.output
        assert out.read_bytes() == saved and "tokenise" not in result.output  # refused before any work


def test_split_run_reads_name_equals_path_and_keeps_paths_holding_an_equals_sign(tmp_path, monkeypatch) -> None:
    from negmine.cli.eval_cmd import split_run

    monkeypatch.chdir(tmp_path)
    assert split_run("mine=runs/a.trec") == ("mine", Path("runs/a.trec"))
    assert split_run("mine=x=y.trec") == ("mine", Path("x=y.trec"))  # split at the first '='
    for path in ("runs/a.trec", "runs/x=y.trec", "=a.trec", " =a.trec", "mine=", "C:\\runs=a.trec", "a/b=c"):
        assert split_run(path) == (None, Path(path))  # no name before '=', a separator in it, or no path after
    assert split_run("x=y.trec") == ("x", Path("y.trec"))
    Path("x=y.trec").write_text("q1 Q0 d0 1 1.0 t\n")
    assert split_run("x=y.trec") == (None, Path("x=y.trec"))  # an existing file is read by its path


@pytest.mark.filterwarnings("ignore:1 of 3 queries has no BM25 token:negmine.errors.NegmineWarning")
def test_eval_cli_bm25_baseline_needs_no_model_files(tmp_path) -> None:
    beir = _beir(tmp_path)
    args = ["eval", str(beir), "--split", "test", "--model", "bm25", "--metrics", "ndcg@10,mrr@10", "--depth", "10",
            "--runs-dir", str(tmp_path / "runs"), "--no-progress"]
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].split()[:3] == ["bm25", "(baseline)", "3"]
    assert "encoded" not in result.stdout  # a lexical run encodes nothing
    assert (tmp_path / "runs" / "bm25.trec").read_text().startswith("q1 Q0 d9 1 ")  # d0, d3, d6, d9 tie: id descending
    bad = runner.invoke(build_app(), args + ["--workers", "0"])
    assert bad.exit_code == 2 and "workers must be a positive integer, got 0; use e.g. workers=4 (--workers 4)" in bad.output


def test_eval_cli_counts_queries_of_other_splits_and_rows_retrieving_their_own_query(tmp_path) -> None:
    corpus = {**CORPUS, "q1": "cell protein"}  # a corpus that holds its queries (BEIR's ArguAna, Quora)
    queries = {**QUERIES, "t1": "train claim", "q9": "judged not relevant only"}
    beir = write_beir(tmp_path / "b", corpus, queries, [*QRELS, ("q9", "d2", 0)], split="test")
    (beir / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nt1\td3\t1\n")
    run_file = tmp_path / "r.trec"
    run_file.write_text("q1 Q0 q1 1 2.0 r\nq1 Q0 d0 2 1.0 r\nq2 Q0 d1 1 1.0 r\nq3 Q0 d5 1 1.0 r\n"
                        "t1 Q0 d3 1 1.0 r\nq9 Q0 d2 1 1.0 r\n")
    out = tmp_path / "r.json"
    result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(run_file), "--metrics", "recall@10",
                                         "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert ("2 queries are not evaluated in this split (another split's, or no relevant judgment) and were "
            "ignored (e.g. q9, t1); 1 row retrieves its own query id and was dropped (as BEIR)") in result.stdout
    coverage = json.loads(out.read_text())["run_file_coverage"]["r"]
    assert (coverage["unknown"], coverage["not_evaluated"], coverage["identical_ids"]) == (0, 2, 1)
    assert result.stdout.splitlines()[2].split()[-1] == "0.8333"  # q1 finds d0 once its own id is dropped; q2 1/2


def test_eval_cli_refuses_an_output_that_is_one_of_its_inputs(tmp_path) -> None:
    beir = _beir(tmp_path)
    run_file = tmp_path / "oracle.trec"
    run_file.write_text("q1 Q0 d0 1 1.0 oracle\n")
    before = {p: p.read_bytes() for p in (beir / "corpus.jsonl", beir / "qrels" / "test.tsv", run_file)}
    for target in before:
        result = runner.invoke(build_app(), ["eval", str(beir), "--run", str(run_file), "-o", str(target)])
        assert result.exit_code == 2, result.output
        assert f"error: --output {target}: this is an input file of the run" in result.output
    assert {p: p.read_bytes() for p in before} == before


def test_the_metrics_option_lists_every_metric(monkeypatch):
    from negmine.config import EVAL_METRICS

    monkeypatch.setenv("COLUMNS", "400")
    result = runner.invoke(build_app(), ["eval", "--help"])
    assert " | ".join(EVAL_METRICS) in " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize("stat_test", ["student", "fisher"])
def test_eval_cli_one_query_has_no_p_value_and_no_interval(tmp_path, stat_test) -> None:
    """A paired test on one query is undefined: the t-test printed p 1.0000 beside the undefined interval (a number
    that reads as 'no difference'), and --stat-test fisher stopped with scipy's ValueError traceback."""
    beir = write_beir(tmp_path / "b", CORPUS, {"q1": "cell protein"}, [("q1", "d0", 1)], split="test")
    (tmp_path / "base.trec").write_text("q1 Q0 d2 1 0.9 base\nq1 Q0 d0 2 0.5 base\n")
    (tmp_path / "better.trec").write_text("q1 Q0 d0 1 0.9 better\n")
    result = runner.invoke(build_app(), [
        "eval", str(beir), "--split", "test", "--run", str(tmp_path / "base.trec"), "--run",
        str(tmp_path / "better.trec"), "--metrics", "mrr@10", "--stat-test", stat_test, "-o", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[lines.index("run     mrr@10") + 2] == "better  undefined: 1 query", "the p-value row"
    assert "better  +0.5000 [undefined: 1 query]" in lines
    entry = json.loads((tmp_path / "r.json").read_text())["comparison"]["runs"]["better"]["vs_baseline"]["mrr@10"]
    assert entry["p_value"] is None and entry["confidence_interval"] is None and entry["significant"] is False


def test_a_directory_as_the_results_file_suggests_a_json_file_in_it(tmp_path) -> None:
    """The suggestion was DIR/out.jsonl, the mining output's name, for a file holding one JSON document."""
    beir = _beir(tmp_path)
    (tmp_path / "res").mkdir()
    result = runner.invoke(build_app(), ["eval", str(beir), "--model", "bm25", "--output", str(tmp_path / "res"),
                                         "--no-progress"])
    assert result.exit_code == 2, result.output
    assert (f"error: --output {tmp_path / 'res'}: is a directory; give a file path, e.g. "
            f"{tmp_path / 'res' / 'results.json'}") in " ".join(result.output.split())


def test_eval_cli_names_the_argument_of_a_missing_beir_directory(tmp_path) -> None:
    """'BEIR directory not found' named neither the field nor the argument that gave the folder."""
    result = runner.invoke(build_app(), ["eval", str(tmp_path / "no-such-dir"), "--model", "bm25"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'no-such-dir'}: BEIR directory not found, given as "
                                    "data_dir (the DATA_DIR argument); check the path: ")


def test_eval_stopped_while_encoding_says_what_the_rerun_reads_from_the_cache_and_encodes_again(tmp_path, monkeypatch):
    """Ctrl-C printed only 'interrupted; ...': not that the rerun reads the finished shards' vectors from the cache,
    nor how many had finished (a 5,000-document corpus was one shard of 8,192 texts, so a stop kept none)."""
    import negmine.evaluate.api
    from negmine.engine.encode_shards import EncodingStopped

    where: list = []

    def stopped(config, *args, **kwargs):
        err = KeyboardInterrupt()
        if where:
            err.negmine_encoding = where[0]
        raise err

    monkeypatch.setattr(negmine.evaluate.api, "evaluate", stopped)
    cache, beir = tmp_path / "cache", _beir(tmp_path)
    args = ["eval", str(beir), "--model", "some/model", "--cache-dir", str(cache), "--no-progress"]
    kept = f"rerun the same command to continue: it does not encode again the vectors it finished, cached under {cache}"
    result = runner.invoke(build_app(), args)
    assert result.exit_code == 130 and result.stderr.splitlines()[-1] == kept
    where.append(EncodingStopped("encode corpus (model)", 5, 2, 1024, 300))
    assert runner.invoke(build_app(), args).stderr.splitlines()[-1] == (
        f"{kept}; it stopped in encode corpus (model) with 2 of 5 shards finished (up to 1,024 texts each): the 300 "
        "texts it encoded in unfinished shards are encoded again")
    result = runner.invoke(build_app(), args + ["--no-cache"])
    assert result.stderr.splitlines()[-1] == (
        "rerun the same command to start again: with --no-cache this run kept nothing it encoded")
    result = runner.invoke(build_app(), ["eval", str(beir), "--model", "bm25", "--no-progress"])
    assert result.exit_code == 130 and result.stderr.splitlines() == [
        "interrupted; outputs already written are complete, partial ones were discarded"]


def test_eval_cli_prints_wins_ties_losses_unadjusted_intervals_and_what_judged_means(tmp_path) -> None:
    """Wins/ties/losses were in the JSON and the report only; the intervals, unlike the Holm-adjusted p-values,
    are each run's own; and nothing said what a low judged@k means."""
    beir = _beir(tmp_path)
    runs = {"good": "q1 Q0 d0 1 1.0 good\nq2 Q0 d1 1 1.0 good\nq3 Q0 d5 1 1.0 good\n",
            "half": "q1 Q0 d0 1 1.0 half\nq2 Q0 d7 1 1.0 half\nq2 Q0 d1 2 0.5 half\nq3 Q0 d8 1 1.0 half\n",
            "worse": "q1 Q0 d9 1 1.0 worse\nq2 Q0 d1 1 1.0 worse\nq3 Q0 d8 1 1.0 worse\n"}
    args = ["eval", str(beir)]
    for name, rows in runs.items():
        (tmp_path / f"{name}.trec").write_text(rows)
        args += ["--run", str(tmp_path / f"{name}.trec")]
    result = runner.invoke(build_app(), args + ["--metrics", "mrr@10,judged@10"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert ("mean delta vs baseline [95% confidence interval, paired t; unadjusted, unlike the Holm-adjusted p-values "
            "above]:") in lines
    at = lines.index("wins / ties / losses vs baseline (queries where the run scores higher / the same / lower):")
    assert [line.split() for line in lines[at + 1:at + 5]] == [
        ["run", "mrr@10", "judged@10"], ["-----", "---------", "---------"],
        ["half", "0", "/", "1", "/", "2", "0", "/", "1", "/", "2"],  # q2's relevant d1 at rank 2, q3's not found
        ["worse", "0", "/", "1", "/", "2", "0", "/", "1", "/", "2"]]
    assert lines[at + 6].startswith("judged@10: the share of a run's top 10 that the qrels judge; with qrels that "
                                    "list only relevant documents (BEIR's) 0.02-0.11 is common")


def test_encoding_note_reads_in_the_singular_for_one_text():
    """A model that encoded a single text (the rest cached) said "encoded 1 texts"."""
    assert encoding_note("model", {"encoded": 1, "cached": 14}) == "model: encoded 1 text, 14 from cache"
    assert encoding_note("model", {"encoded": 0, "cached": 15}) == "model: encoded 0 texts, 15 from cache"
