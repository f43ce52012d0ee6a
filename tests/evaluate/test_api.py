from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from negmine.config import DEFAULT_MODEL, EncoderConfig, EvalConfig
from negmine.errors import ConfigError, InputError
from negmine.evaluate.api import evaluate, model_label, run_names
from negmine.evaluate.run import Run, read_trec_run, write_trec_run
from negmine.testing.hash_embedder import HashEmbedder


def _config(beir_dir: Path, tmp_path: Path, **kw) -> EvalConfig:
    kw.setdefault("models", ("hash/a", "hash/b"))
    kw.setdefault("metrics", ("ndcg@10", "mrr@10", "recall@10", "judged@3"))
    kw.setdefault("depth", 10 if kw["models"] else EvalConfig.depth)  # run files alone retrieve nothing
    return EvalConfig(
        data_dir=beir_dir, encoder=EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False), **kw
    )


def _embedders():
    return {"hash/a": HashEmbedder(256), "hash/b": HashEmbedder(8)}


def test_evaluate_models_and_run_file(beir_dir, tmp_path) -> None:
    perfect = write_trec_run(
        tmp_path / "perfect.trec",
        Run({"q-sleep": {"sleep-3": 1.0}, "q-coffee": {"coffee-4": 1.0}, "q-battery": {"battery-1": 1.0}}, "oracle"),
    )
    cfg = _config(beir_dir, tmp_path, run_files=(perfect,), output=tmp_path / "out" / "results.json",
                  runs_dir=tmp_path / "runs")
    embedders = _embedders()
    report = evaluate(cfg, embedders=embedders)
    comp = report.comparison
    assert comp.names == ["a", "b", "oracle"] and comp.baseline == "a"
    assert comp.result("oracle").mean["ndcg@10"] == 1.0
    assert comp.result("a").query_ids == ("q-battery", "q-coffee", "q-sleep")  # by id; q-none: no positive
    assert comp.result("a").mean["mrr@10"] == 1.0  # each query's words are its relevant doc's title
    assert set(comp.p_values) == {"b", "oracle"}
    # each model encoded the 18 docs + 3 evaluated queries once
    assert embedders["hash/a"].texts_encoded == 21 and embedders["hash/b"].texts_encoded == 21
    assert report.encoding == {"a": {"encoded": 21, "cached": 0}, "b": {"encoded": 21, "cached": 0}}
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a.trec", "b.trec"]
    assert read_trec_run(tmp_path / "runs" / "a.trec").scores == report.runs["a"].scores
    saved = json.loads((tmp_path / "out" / "results.json").read_text())
    assert saved["comparison"]["order"] == ["a", "b", "oracle"]
    assert saved["data"]["queries_evaluated"] == 3 and saved["data"]["documents"] == 18
    assert saved["comparison"]["runs"]["oracle"]["vs_baseline"]["ndcg@10"]["per_query_delta"].keys() == {
        "q-sleep", "q-coffee", "q-battery"
    }
    assert "a (baseline)" in report.table()


def test_the_results_record_the_models_evaluated_and_no_other(beir_dir, tmp_path) -> None:
    """config.encoder.model read bundled:all-MiniLM-L6-v2, the default of a field EvalConfig ignores, also when two
    other models were evaluated (or run files alone): it read as the model used."""
    out = tmp_path / "results.json"
    report = evaluate(_config(beir_dir, tmp_path, output=out), embedders=_embedders())
    saved = json.loads(out.read_text())
    assert saved["config"]["models"] == ["hash/a", "hash/b"] and saved["config"]["encoder"]["model"] is None
    assert saved["config"]["encoder"]["batch_size"] == EncoderConfig.batch_size  # the settings every model used
    assert report.payload["config"] == saved["config"]
    oracle = write_trec_run(tmp_path / "oracle.trec", Run({"q-sleep": {"sleep-3": 1.0}}, "oracle"))
    evaluate(_config(beir_dir, tmp_path, models=(), run_files=(oracle,), output=out))
    saved = json.loads(out.read_text())
    assert saved["config"]["models"] == [] and saved["config"]["encoder"]["model"] is None


def test_second_evaluation_uses_cache_and_output_is_byte_identical(beir_dir, tmp_path) -> None:
    out1, out2 = tmp_path / "r1.json", tmp_path / "r2.json"
    evaluate(_config(beir_dir, tmp_path, output=out1), embedders=_embedders())
    again = _embedders()
    report = evaluate(_config(beir_dir, tmp_path, output=out2), embedders=again)
    assert again["hash/a"].texts_encoded == 0 and report.encoding["a"] == {"encoded": 0, "cached": 21}
    data1 = json.loads(out1.read_text())
    data2 = json.loads(out2.read_text())
    data1["config"]["output"] = data2["config"]["output"] = None
    assert data1 == data2
    first_bytes = out1.read_bytes()
    report3 = evaluate(_config(beir_dir, tmp_path, output=out1), embedders=_embedders())
    assert out1.read_bytes() == first_bytes
    assert json.loads(out1.read_text()) == report3.payload


def test_qrels_rows_in_another_order_give_byte_identical_results_and_run_files(beir_dir, tmp_path) -> None:
    """The results and run files are byte-identical but for the record of the qrels file read, whose sha256 is the
    file's (``beir_input``): the reordered file is another file."""
    def run(name: str) -> tuple[list[bytes], str]:
        out, runs = tmp_path / name / "results.json", tmp_path / name / "runs"
        evaluate(_config(beir_dir, tmp_path, models=("hash/a", "hash/b", "bm25"), stat_test="fisher",
                         output=out, runs_dir=runs), embedders=_embedders())
        qrels_sha256 = json.loads(out.read_text())["beir_input"]["qrels"]["sha256"]
        text = out.read_text().replace(str(tmp_path / name), "OUT").replace(qrels_sha256, "QRELS-SHA256")
        return [text.encode(), *(p.read_bytes() for p in sorted(runs.iterdir()))], qrels_sha256

    first, first_qrels = run("first")
    qrels = beir_dir / "qrels" / "test.tsv"
    header, *body = qrels.read_text().splitlines()
    qrels.write_text("\n".join([header, *reversed(body)]) + "\n")
    second, second_qrels = run("second")
    assert second == first
    assert second_qrels != first_qrels


def test_run_only_evaluation_with_baseline_index(beir_dir, tmp_path) -> None:
    good = write_trec_run(tmp_path / "good.trec", Run({"q-sleep": {"sleep-3": 1.0}}, "good"))
    bad = write_trec_run(tmp_path / "bad.trec", Run({"q-sleep": {"sleep-1": 1.0}}, "good"))  # same tag
    report = evaluate(_config(beir_dir, tmp_path, models=(), run_files=(good, bad), baseline=1))
    assert report.comparison.names == ["good", "bad"] and report.comparison.baseline == "bad"
    assert report.encoding == {}


def test_a_file_given_as_the_beir_directory_gets_no_fix_of_mining(tmp_path) -> None:
    """negmine eval takes no pairs: mining's fix for a file given as the directory (--pairs FILE) is not offered."""
    mined = tmp_path / "negatives.jsonl"
    mined.write_text('{"query": "q", "positive": "p"}\n')
    with pytest.raises(InputError) as err:
        evaluate(EvalConfig(data_dir=mined, split="test", models=("bm25",)))
    assert str(err.value) == (f"{mined}: expected a BEIR directory (corpus.jsonl, queries.jsonl, qrels/), found a file, "
                              "given as data_dir (the DATA_DIR argument)")


def test_run_file_errors_come_before_encoding(beir_dir, tmp_path) -> None:
    wrong = tmp_path / "wrong.trec"
    wrong.write_text("q-train Q0 coffee-3 1 0.5 x\n")
    embedders = _embedders()
    with pytest.raises(InputError, match=r"wrong.trec: field 'query_id': its one query is not among the 3 evaluated queries of .*test.tsv; check "
                                         r"--split"):
        evaluate(_config(beir_dir, tmp_path, run_files=(wrong,)), embedders=embedders)
    bad = tmp_path / "bad.trec"
    bad.write_text("q-sleep Q0 sleep-3 1 0.5\n")
    with pytest.raises(InputError, match=r"bad.trec:1: expected 6 columns"):
        evaluate(_config(beir_dir, tmp_path, run_files=(bad,)), embedders=embedders)
    infinite = tmp_path / "infinite.trec"
    infinite.write_text("q-sleep Q0 sleep-3 1 0.5 x\nq-sleep Q0 sleep-1 2 -Infinity x\n")
    with pytest.raises(InputError, match=r"infinite.trec:2: field 'score': score '-Infinity' is infinite"):
        evaluate(_config(beir_dir, tmp_path, run_files=(infinite,)), embedders=embedders)
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(_config(beir_dir, tmp_path, metrics=("ndcg@10", "xyz")), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


def test_a_long_unknown_run_document_id_is_cut(beir_dir, tmp_path) -> None:
    """A 5 MB document id (a broken run file) was printed whole: a 5 MB message."""
    long_run = tmp_path / "long.trec"
    long_run.write_text(f"q-sleep Q0 sleep-3 1 0.9 x\nq-sleep Q0 {'d' * 5_000_000} 2 0.5 x\n")
    with pytest.raises(InputError) as info:
        evaluate(_config(beir_dir, tmp_path, run_files=(long_run,)), embedders=_embedders())
    assert len(str(info.value)) < 1000
    assert str(info.value).startswith(f"{long_run}:2: field 'doc_id': unknown document id '{'d' * 80}'... (5000000 "
                                      "characters): 1 of the 2 documents this run retrieves are not in the corpus ")


def test_a_run_naming_documents_the_corpus_lacks_is_refused_at_its_first_such_line(beir_dir, tmp_path) -> None:
    other = tmp_path / "other.trec"
    other.write_text("q-sleep Q0 sleep-3 1 0.9 x\nq-sleep Q0 x-sleep-1 2 0.5 x\nq-coffee Q0 x-coffee-4 1 0.5 x\n")
    embedders = _embedders()
    with pytest.raises(InputError, match=r"other.trec:2: field 'doc_id': unknown document id 'x-sleep-1': 2 of the 3 "
                                         r"documents this run retrieves are not in the corpus .*corpus.jsonl; was the run "
                                         r"made on another corpus"):
        evaluate(_config(beir_dir, tmp_path, run_files=(other,)), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


def test_a_split_without_relevant_judgments_is_refused_before_encoding_and_blames_the_qrels(beir_dir, tmp_path):
    (beir_dir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq-sleep\tsleep-3\t0\n")
    run = tmp_path / "ok.trec"
    run.write_text("q-sleep Q0 sleep-3 1 0.9 x\n")
    embedders = _embedders()
    for run_files in ((), (run,)):
        with pytest.raises(InputError, match=r"test.tsv: field 'score': no query has a relevant judgment"):
            evaluate(_config(beir_dir, tmp_path, run_files=run_files), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


@pytest.mark.parametrize(("option", "message"), [("output", r"--output .*adir: is a directory"),
                                                 ("runs_dir", r"--runs-dir .*afile: exists and is not a directory")])
def test_outputs_that_cannot_be_written_are_refused_before_encoding(beir_dir, tmp_path, option, message) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("")
    target = tmp_path / ("adir" if option == "output" else "afile")
    embedders = _embedders()
    with pytest.raises(ConfigError, match=message):
        evaluate(_config(beir_dir, tmp_path, **{option: target}), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


def _with_missing_documents(beir_dir: Path) -> Path:
    """q-sleep gains a relevant document missing from the corpus; q-ghost's only relevant document is missing."""
    with open(beir_dir / "queries.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"_id": "q-ghost", "text": "ghost story"}) + "\n")
    with open(beir_dir / "qrels" / "test.tsv", "a", encoding="utf-8") as handle:
        handle.write("q-sleep\tgone-1\t1\nq-ghost\tgone-2\t2\nq-coffee\tgone-1\t0\n")
    return beir_dir


def test_unknown_qrels_error_by_default_names_the_option(beir_dir, tmp_path) -> None:
    beir = _with_missing_documents(beir_dir)
    embedders = _embedders()
    with pytest.raises(InputError, match=r"test\.tsv:7: field 'corpus-id': unknown corpus id 'gone-1'.*--unknown-qrels skip"):
        evaluate(_config(beir, tmp_path), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


def test_skipped_judgments_still_count_as_unretrievable_relevant_documents(beir_dir, tmp_path) -> None:
    beir = _with_missing_documents(beir_dir)
    oracle = write_trec_run(tmp_path / "oracle.trec", Run(
        {"q-sleep": {"sleep-3": 1.0}, "q-coffee": {"coffee-4": 1.0}, "q-battery": {"battery-1": 1.0}}, "oracle"))
    cfg = _config(beir, tmp_path, run_files=(oracle,), metrics=("recall@10", "ndcg@10", "judged@1"),
                  unknown_qrels="skip", output=tmp_path / "results.json")
    embedders = _embedders()
    report = evaluate(cfg, embedders=embedders)
    result = report.comparison.result("oracle")
    assert result.query_ids == ("q-battery", "q-coffee", "q-ghost", "q-sleep"), "BEIR evaluates q-ghost: it scores 0"
    assert result.query_scores("recall@10") == {"q-sleep": 0.5, "q-coffee": 1.0, "q-battery": 1.0, "q-ghost": 0.0}
    assert result.query_scores("ndcg@10")["q-sleep"] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert result.mean["recall@10"] == pytest.approx(2.5 / 4)
    assert embedders["hash/a"].texts_encoded == 18 + 4, "q-ghost is retrieved for too"
    assert len(report.runs["a"].ranked("q-ghost")) == 10
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["data"]["queries_evaluated"] == 4
    assert saved["data"]["unknown_qrels"] == {
        "policy": "skip", "skipped": 3, "relevant_skipped": 2, "example_ids": ["gone-1", "gone-2"],
        "queries_without_positive": 1, "example_queries": ["q-ghost"],
    }


def test_run_names_disambiguate_shared_tags() -> None:
    runs = [
        Run({}, "minilm", "/x/fp32/minilm.trec"),
        Run({}, "minilm", "/x/bf16/minilm.trec"),
        Run({}, "bm25", "/x/bm25.trec"),
        Run({}, "e5", "/x/e5-run.trec"),
    ]
    models, files = run_names(("/models/e5",), runs)
    assert models == ["e5"]
    assert files == ["fp32/minilm", "bf16/minilm", "bm25", "e5-run"]
    assert run_names(("a/m", "b/m"), [])[0] == ["a/m", "b/m"]


def test_a_named_run_file_keeps_its_name_whatever_else_is_evaluated(beir_dir, tmp_path) -> None:
    """A run file was named by its tag, or by its stem when another run shared the tag: the same file was 'negmine'
    in one evaluation and 'a' in the next (other keys in the results JSON, another column). Named, it is 'mine' in
    both, and the file beside it, whose tag is shared, is renamed and recorded so (``run_file_names``)."""
    def file(name: str, scores: dict) -> Path:
        return write_trec_run(tmp_path / "runs" / name, Run(scores, "negmine"))

    a = file("a.trec", {"q-sleep": {"sleep-3": 1.0}, "q-coffee": {"coffee-4": 1.0}})
    b = file("b.trec", {"q-sleep": {"sleep-1": 0.5}, "q-battery": {"battery-1": 1.0}})
    alone = evaluate(_config(beir_dir, tmp_path, models=(), run_files=(a,), run_names=("mine",)))
    both = evaluate(_config(beir_dir, tmp_path, models=(), run_files=(a, b), run_names=("mine", None),
                            output=tmp_path / "r.json"))
    assert alone.comparison.names == ["mine"] and both.comparison.names == ["mine", "negmine"]
    assert both.payload["run_file_names"] == {
        "mine": {"source": str(a), "tag": "negmine", "named_by": "given"},
        "negmine": {"source": str(b), "tag": "negmine", "named_by": "tag"},
    }
    saved = json.loads((tmp_path / "r.json").read_text())
    assert set(saved["run_input"]) == set(saved["run_file_coverage"]) == {"mine", "negmine"}
    assert saved["config"]["run_names"] == ["mine", None]
    unnamed = evaluate(_config(beir_dir, tmp_path, models=(), run_files=(a, b)))
    assert unnamed.comparison.names == ["a", "b"]  # as before: the shared tag gives way to the stems
    assert unnamed.payload["run_file_names"]["b"] == {"source": str(b), "tag": "negmine", "named_by": "stem"}
    with pytest.raises(ConfigError, match="^run name 'mine' is given to two run files"):
        evaluate(_config(beir_dir, tmp_path, models=(), run_files=(a, b), run_names=("mine", "mine")))


def test_runs_whose_names_make_one_file_name_get_a_file_each(beir_dir, tmp_path) -> None:
    """'a b' and 'a_b' both made a_b.trec (and 'A' and 'a' one file where case is ignored): the second run
    overwrote the first, and both were reported written."""
    embedders = {"hash/a b": HashEmbedder(256), "hash/a_b": HashEmbedder(8), "hash/A": HashEmbedder(16),
                 "hash/a": HashEmbedder(32)}
    runs_dir = tmp_path / "runs"
    report = evaluate(_config(beir_dir, tmp_path, models=tuple(embedders), runs_dir=runs_dir), embedders=embedders)
    assert report.run_files == {"a b": runs_dir / "a_b.trec", "a_b": runs_dir / "a_b-2.trec",
                                "A": runs_dir / "A.trec", "a": runs_dir / "a-2.trec"}
    assert sorted(p.name for p in runs_dir.iterdir()) == ["A.trec", "a-2.trec", "a_b-2.trec", "a_b.trec"]
    for name, path in report.run_files.items():
        assert read_trec_run(path).scores == report.runs[name].scores
    assert report.runs["a b"].scores != report.runs["a_b"].scores  # the two files differ, as the models do


def test_run_file_names_hold_no_character_a_file_system_refuses(beir_dir, tmp_path) -> None:
    """The bundled model's run, named ``bundled:all-MiniLM-L6-v2`` when another model's label is ``all-MiniLM-L6-v2``,
    was written ``bundled:all-MiniLM-L6-v2.trec``: a colon, which a Windows file name cannot hold."""
    embedders = {DEFAULT_MODEL: HashEmbedder(256), "hash/all-MiniLM-L6-v2": HashEmbedder(8),
                 'hash/a*?"<>|b': HashEmbedder(16), "hash/a______b": HashEmbedder(32), "hash/nul": HashEmbedder(64)}
    runs_dir = tmp_path / "runs"
    report = evaluate(_config(beir_dir, tmp_path, models=tuple(embedders), runs_dir=runs_dir), embedders=embedders)
    assert {name: path.name for name, path in report.run_files.items()} == {
        DEFAULT_MODEL: "bundled_all-MiniLM-L6-v2.trec", "hash/all-MiniLM-L6-v2": "hash_all-MiniLM-L6-v2.trec",
        'hash/a*?"<>|b': "hash_a______b.trec", "hash/a______b": "hash_a______b-2.trec", "hash/nul": "hash_nul.trec"}
    assert sorted(p.name for p in runs_dir.iterdir()) == sorted(p.name for p in report.run_files.values())
    for name, path in report.run_files.items():
        assert read_trec_run(path).scores == report.runs[name].scores


@pytest.mark.parametrize("name, file_name", [
    ("bundled:all-MiniLM-L6-v2", "bundled_all-MiniLM-L6-v2.trec"), ("a\\b", "a_b.trec"), ("a b/c", "a_b_c.trec"),
    ("nul", "nul_.trec"), ("COM1", "COM1_.trec"), ("con.v2", "con_.v2.trec"), ("console", "console.trec"),
    ("x\x01y", "x_y.trec"),
])
def test_run_file_path_is_portable(tmp_path, name, file_name) -> None:
    from negmine.evaluate.api import run_file_path

    assert run_file_path(tmp_path, name) == tmp_path / file_name


def test_bm25_baseline_next_to_a_dense_model(beir_dir, tmp_path) -> None:
    cfg = _config(beir_dir, tmp_path, models=("bm25", "hash/a"), runs_dir=tmp_path / "runs")
    report = evaluate(cfg, embedders=_embedders())
    comp = report.comparison
    assert comp.names == ["bm25", "a"] and comp.baseline == "bm25"
    assert comp.result("bm25").mean["mrr@10"] == 1.0  # each query's two words are its relevant doc's title
    assert report.encoding == {"a": {"encoded": 21, "cached": 0}}  # BM25 encodes nothing
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["a.trec", "bm25.trec"]
    assert report.runs["bm25"].ranked("q-sleep")[0] == "sleep-3"


def test_model_labels() -> None:
    assert model_label(DEFAULT_MODEL) == "all-MiniLM-L6-v2"
    assert model_label("/tmp/x/my-model/") == "my-model"
    assert model_label("sentence-transformers/all-mpnet-base-v2") == "all-mpnet-base-v2"


@pytest.mark.slow
def test_bundled_minilm_on_scifact_matches_reference(scifact_dir, tmp_path) -> None:
    """all-MiniLM-L6-v2 zero-shot on SciFact test: nDCG@10 0.645, MRR@10 0.605, Recall@100 0.925 (cosine)."""
    cfg = EvalConfig(
        data_dir=scifact_dir,
        split="test",
        models=(DEFAULT_MODEL,),
        metrics=("ndcg@10", "mrr@10", "recall@100", "judged@10"),
        output=tmp_path / "results.json",
        encoder=EncoderConfig(precision="bf16", cache_dir=tmp_path / "cache", show_progress=False),
    )
    report = evaluate(cfg)
    mean = report.comparison.result("all-MiniLM-L6-v2").mean
    print(f"SciFact test, MiniLM bf16: {mean}")
    assert len(report.comparison.result("all-MiniLM-L6-v2").query_ids) == 300
    assert mean["ndcg@10"] == pytest.approx(0.645, abs=0.01)
    assert mean["mrr@10"] == pytest.approx(0.605, abs=0.015)
    assert mean["recall@100"] == pytest.approx(0.925, abs=0.015)
    assert report.encoding["all-MiniLM-L6-v2"]["encoded"] == 5183 + 300


def test_models_are_built_by_the_configured_backend(beir_dir, tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    from negmine.encode import factory
    from negmine.testing.hub_cache import write_cached_repo

    # in a (fake) cache, the names pass the hub check without asking the hub (no network in tests)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    for name in ("hash/a", "hash/b"):
        write_cached_repo(tmp_path / "hf-cache", name)
    built: list[EncoderConfig] = []

    def fake_onnx(config: EncoderConfig) -> HashEmbedder:
        built.append(config)
        return _embedders()[config.model]

    monkeypatch.setitem(factory.BACKENDS, "onnx", fake_onnx)
    config = _config(beir_dir, tmp_path)
    report = evaluate(replace(config, encoder=replace(config.encoder, backend="onnx", quantize="int8")))
    assert [(c.model, c.backend, c.quantize) for c in built] == [("hash/a", "onnx", "int8"), ("hash/b", "onnx", "int8")]
    assert report.encoding == {"a": {"encoded": 21, "cached": 0}, "b": {"encoded": 21, "cached": 0}}


def test_ids_a_trec_run_cannot_hold_are_refused_before_encoding_when_runs_are_written(beir_dir, tmp_path) -> None:
    corpus = beir_dir / "corpus.jsonl"
    lines = corpus.read_text().splitlines()
    lines[2] = lines[2].replace('"_id": "', '"_id": "doc ', 1)  # a corpus id with a space, on line 3
    corpus.write_text("\n".join(lines) + "\n")
    bad_id = json.loads(lines[2])["_id"]
    embedders = _embedders()
    with pytest.raises(InputError, match=rf"corpus.jsonl:3: field '_id': corpus id '{bad_id}' holds whitespace "
                                         r"\(1 such ids\), which TREC run files cannot hold: runs_dir \(--runs-dir\) cannot write"):
        evaluate(_config(beir_dir, tmp_path, runs_dir=tmp_path / "runs"), embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0
    evaluate(_config(beir_dir, tmp_path), embedders=embedders)  # without --runs-dir such ids are fine


def test_a_query_id_starting_with_a_byte_order_mark_is_refused_before_encoding_when_runs_are_written(
        beir_dir, tmp_path) -> None:
    # a run row starts with its query id, and the TREC reader drops or refuses a mark there (iter_lines): the run
    # file was written only after encoding, and then refused by write_trec_run. Such a dataset is built in Python
    # (a qrels TSV line starting with the mark is refused as read).
    from negmine.io.load import load_data
    from negmine.io.records import Dataset, Qrels, Queries
    from negmine.config import DataConfig

    dataset = load_data(DataConfig(data_dir=beir_dir, split="test"))
    first = dataset.queries.ids[0]
    renamed = {first: "\ufeff" + first}
    queries = Queries([renamed.get(i, i) for i in dataset.queries.ids], list(dataset.queries.texts), source="q.jsonl")
    qrels = Qrels({renamed.get(q, q): docs for q, docs in dataset.qrels.judgments.items()})
    embedders = _embedders()
    with pytest.raises(InputError, match=rf"q\.jsonl: field '_id': query id '\\ufeff{first}' starts with a byte-order "
                       r"mark \(U\+FEFF\), which a TREC run row cannot start with .* runs_dir \(--runs-dir\) cannot "
                       r"write this run; leave runs_dir unset \(drop --runs-dir\) or remove the mark from the id"):
        evaluate(_config(beir_dir, tmp_path, runs_dir=tmp_path / "runs"), Dataset(dataset.corpus, queries, qrels),
                 embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0


def test_an_evaluation_stopped_after_its_run_files_leaves_no_results_of_the_one_before(beir_dir, tmp_path,
                                                                                        monkeypatch) -> None:
    """The results JSON is written last: once the new run files replace the old ones, the earlier evaluation's
    results (other models' metrics, naming those files) must be gone, also when the evaluation stops there."""
    import negmine.evaluate.api as api

    out, runs = tmp_path / "results.json", tmp_path / "runs"
    evaluate(_config(beir_dir, tmp_path, models=("hash/a",), output=out, runs_dir=runs), embedders=_embedders())
    assert out.is_file()

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "compare_runs", stop)
    other = {"hash/a": HashEmbedder(8)}  # another model under the same name: its run replaces a.trec
    with pytest.raises(KeyboardInterrupt):
        evaluate(_config(beir_dir, tmp_path / "other", models=("hash/a",), output=out, runs_dir=runs),
                 embedders=other)
    assert (runs / "a.trec").is_file() and not out.exists()


def test_truncate_dim_ranks_by_the_cut_renormalised_vectors_from_the_cache(beir_dir, tmp_path, tiny_model_path):
    """By hand: the tiny model's full vectors cut to 4 of their 32 dims, re-normalised, ranked by inner product
    (at 4 dims it misranks a relevant document it ranks first at 32). The cut is applied after the cache, so
    evaluating at 4 after the full size encodes nothing again."""
    import numpy as np

    from negmine.config import DataConfig
    from negmine.encode.factory import make_embedder
    from negmine.io.load import load_data

    model, dim = str(tiny_model_path), 4
    encoder = EncoderConfig(cache_dir=tmp_path / "cache", show_progress=False, precision="fp32")
    embedder = make_embedder(replace(encoder, model=model))
    config = EvalConfig(data_dir=beir_dir, models=(model,), metrics=("ndcg@10", "mrr@10"), depth=10, encoder=encoder)
    full = evaluate(config, embedders={model: embedder})
    cut = evaluate(replace(config, truncate_dim=dim), embedders={model: embedder})
    assert full.encoding == {"model": {"encoded": 21, "cached": 0}}
    assert cut.encoding == {"model": {"encoded": 0, "cached": 21}}

    dataset = load_data(DataConfig(data_dir=beir_dir, split="test"))
    query_ids = dataset.judged_qrels().query_ids()
    unit = lambda v: v[:, :dim] / np.linalg.norm(v[:, :dim], axis=1, keepdims=True)  # noqa: E731
    scores = unit(embedder.encode([dataset.queries.text(q) for q in query_ids])) @ unit(
        embedder.encode(list(dataset.corpus.texts))).T
    by_hand = {}
    for row, query in enumerate(query_ids):
        top = np.argsort(-scores[row], kind="stable")[:10]
        by_hand[query] = {dataset.corpus.ids[j]: float(scores[row, j]) for j in top}
        assert cut.runs["model"].ranked(query) == [dataset.corpus.ids[j] for j in top]
        assert cut.runs["model"].scores[query] == pytest.approx(by_hand[query], abs=1e-5)
    assert any(cut.runs["model"].ranked(q) != full.runs["model"].ranked(q) for q in query_ids)
    hand_file = write_trec_run(tmp_path / "hand.trec", Run(by_hand, "hand"))
    hand = evaluate(replace(config, models=(), run_files=(hand_file,), depth=EvalConfig.depth))
    assert cut.comparison.result("model").mean == pytest.approx(hand.comparison.result("hand").mean, abs=1e-9)
    assert cut.comparison.result("model").mean != full.comparison.result("model").mean
    assert cut.payload["config"]["truncate_dim"] == dim


def test_truncate_dim_beyond_a_models_dimension_names_it(beir_dir, tmp_path):
    config = _config(beir_dir, tmp_path, truncate_dim=16)
    with pytest.raises(ConfigError, match=r"^truncate_dim 16 exceeds the embedding dimension 8 of the model 'hash/b'; "
                                          r"use truncate_dim=8 \(--truncate-dim 8\) or less .*, or leave it unset$"):
        evaluate(config, embedders=_embedders())
    with pytest.raises(ConfigError, match=r"^truncate_dim must be a positive integer, got 0; use e.g. truncate_dim=128 "
                                          r"\(--truncate-dim 128\) or leave it unset$"):
        evaluate(replace(config, truncate_dim=0), embedders=_embedders())


def test_a_model_folder_that_cannot_be_a_model_is_refused_before_any_model_encodes(beir_dir, tmp_path,
                                                                                   tiny_model_path) -> None:
    """The second of two models was loaded, and found not to be one, only after the first had encoded the whole
    corpus (measured on minifacts: `--model tiny --model EMPTY_DIR` encoded 320 texts, then failed)."""
    from negmine.train import SUMMARY_NAME

    (tmp_path / "empty").mkdir()
    (tmp_path / "a-file").write_text("not a model\n")
    unfinished = tmp_path / "unfinished"  # `negmine train -o unfinished` killed before its summary was written
    shutil.copytree(tiny_model_path, unfinished)
    (unfinished / "checkpoints" / "checkpoint-5").mkdir(parents=True)
    embedders = _embedders()
    for bad, message in [
        ("empty", r"model '.*empty' is not a model folder: it has neither modules.json \(sentence-transformers\) nor "
                  r"config.json \(transformers\); pass the folder `negmine train -o DIR` wrote, or a hub name"),
        ("a-file", r"model '.*a-file' is a file, not a model folder"),
        ("unfinished", r"model '.*unfinished' is the output folder of a `negmine train` run that did not finish \(it "
                       r"has checkpoints/ but no negmine_train.json\).*--resume, or pass one of its "
                       r"checkpoints/checkpoint-N folders"),
    ]:
        config = replace(_config(beir_dir, tmp_path), models=("hash/a", str(tmp_path / bad)))
        with pytest.raises(ConfigError, match=message):
            evaluate(config, embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0
    (unfinished / SUMMARY_NAME).write_text("{}\n")  # the run finished
    config = replace(_config(beir_dir, tmp_path), models=("hash/a", str(unfinished)))
    assert evaluate(config, embedders=embedders).encoding[unfinished.name]["encoded"] == 21


def test_a_cross_encoder_given_as_a_model_is_refused_before_any_model_encodes(beir_dir, tmp_path,
                                                                             tiny_cross_encoder_path, not_a_bi_encoder) -> None:
    """sentence-transformers loaded it as a bi-encoder (backbone, mean pooling, classifier dropped) and evaluated
    vectors no model was trained to make."""
    embedders = _embedders()
    config = replace(_config(beir_dir, tmp_path), models=("hash/a", str(tiny_cross_encoder_path)))
    with pytest.raises(ConfigError) as info:
        evaluate(config, embedders=embedders)
    assert str(info.value) == not_a_bi_encoder(
        "model", tiny_cross_encoder_path, "a sequence classifier (BertForSequenceClassification, transformers)")
    assert embedders["hash/a"].texts_encoded == 0


def test_a_sparse_encoder_given_as_a_model_is_refused_before_any_model_encodes(beir_dir, tmp_path,
                                                                            tiny_sparse_encoder_path,
                                                                            not_a_dense_encoder) -> None:
    """sentence-transformers converted a SparseEncoder (SPLADE) folder into a bi-encoder (backbone, mean pooling, MLM
    head and sparse pooling dropped) and evaluated vectors no model was trained to make."""
    embedders = _embedders()
    config = replace(_config(beir_dir, tmp_path), models=("hash/a", str(tiny_sparse_encoder_path)))
    with pytest.raises(ConfigError) as info:
        evaluate(config, embedders=embedders)
    assert str(info.value) == not_a_dense_encoder("model", tiny_sparse_encoder_path)
    assert embedders["hash/a"].texts_encoded == 0


def test_offline_a_hub_name_not_in_the_cache_is_refused_before_any_model_encodes(beir_dir, tmp_path, monkeypatch):
    """Hub names were checked only when each loaded: a typo in the second failed after the first model had encoded
    the whole corpus. Offline (no network in tests), a name not in the (fake) cache is refused up front."""
    from huggingface_hub import constants

    from negmine.encode.sentence_transformer import load_sentence_transformer
    from negmine.evaluate.api import check_models
    from negmine.testing.hub_cache import write_cached_repo

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("SENTENCE_TRANSFORMERS_HOME", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    loaded = []
    monkeypatch.setattr("negmine.encode.sentence_transformer.load_sentence_transformer",
                        lambda config: loaded.append(config.model) or load_sentence_transformer(config))
    embedders = _embedders()
    config = replace(_config(beir_dir, tmp_path), models=("hash/a", "org/typo-model"))
    with pytest.raises(ConfigError, match=r"^model 'org/typo-model' is not a local folder and not in the Hugging "
                                          r"Face cache \(.*hf-cache\), and HF_HUB_OFFLINE=1 forbids downloading it; "
                                          r"download it once with network"):
        evaluate(config, embedders=embedders)
    assert embedders["hash/a"].texts_encoded == 0 and loaded == []
    write_cached_repo(tmp_path / "hf-cache", "org/typo-model")  # in the cache: passes, at no cost
    check_models(config, embedders)


def test_a_trained_model_evaluated_without_its_training_prompts_is_named(beir_dir, tmp_path) -> None:
    """The saved model keeps no prompts: one trained with 'query: ' was evaluated without it, without a word."""
    import warnings

    from negmine.errors import NegmineWarning

    trained = tmp_path / "trained"
    trained.mkdir()
    (trained / "modules.json").write_text("[]")
    summary = {"config": {"query_prompt": "query: ", "document_prompt": "passage: "}, "result": {}}
    (trained / "negmine_train.json").write_text(json.dumps(summary))
    embedders = {str(trained): HashEmbedder(256), "hash/a": HashEmbedder(256)}
    cfg = _config(beir_dir, tmp_path, models=("hash/a", str(trained)))
    with pytest.warns(NegmineWarning, match=rf"^model '{trained}' was trained with query_prompt 'query: ' and "
                                            r"document_prompt 'passage: ' \(.*negmine_train.json\) but is evaluated "
                                            r"with '' and ''; give its training prompts to negmine eval "
                                            r"\(encoder\.query_prompt and encoder\.document_prompt, --query-prompt and "
                                            r"--document-prompt; they apply to every model: evaluate models trained "
                                            r"with other prompts in separate runs\)$"):
        evaluate(cfg, embedders=embedders)
    same = replace(cfg, encoder=replace(cfg.encoder, query_prompt="query: ", document_prompt="passage: "),
                   models=(str(trained),))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NegmineWarning)
        evaluate(same, embedders=embedders)
    checkpoint = tmp_path / "run" / "checkpoints" / "checkpoint-4"  # a checkpoint's run settings sit beside it
    checkpoint.mkdir(parents=True)
    (checkpoint / "modules.json").write_text("[]")
    (checkpoint.parent / "negmine_run_settings.json").write_text(json.dumps(summary["config"]))
    with pytest.warns(NegmineWarning, match=rf"^model '{checkpoint}' was trained with query_prompt 'query: ' .*"
                                            r"negmine_run_settings.json\) but is evaluated with '' and ''"):
        evaluate(_config(beir_dir, tmp_path, models=(str(checkpoint),)), embedders={str(checkpoint): HashEmbedder(256)})


def test_a_training_summary_saved_with_a_byte_order_mark_still_names_the_training_prompts(beir_dir, tmp_path):
    """Read as plain UTF-8, the mark (an editor's UTF-8 with BOM) made the summary unreadable and the prompts it
    records were not compared, without a word; read_json_file, which the resume reads it with, drops it."""
    from negmine.errors import NegmineWarning

    trained = tmp_path / "trained"
    trained.mkdir()
    (trained / "modules.json").write_text("[]")
    summary = {"config": {"query_prompt": "query: ", "document_prompt": "passage: "}, "result": {}}
    (trained / "negmine_train.json").write_text("\ufeff" + json.dumps(summary), encoding="utf-8")
    with pytest.warns(NegmineWarning, match=rf"^model '{trained}' was trained with query_prompt 'query: ' and "
                                            r"document_prompt 'passage: ' \(.*negmine_train.json\) but is evaluated "
                                            r"with '' and ''"):
        evaluate(_config(beir_dir, tmp_path, models=(str(trained),)), embedders={str(trained): HashEmbedder(256)})


def test_a_training_folder_stopped_before_its_first_checkpoint_is_not_sent_to_resume(beir_dir, tmp_path):
    """Its message said to finish the run with --resume, which then failed: 'no checkpoint found'."""
    stopped = tmp_path / "stopped"
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "checkpoints" / "negmine_run_settings.json").write_text("{}\n")
    config = replace(_config(beir_dir, tmp_path), models=(str(stopped),))
    with pytest.raises(ConfigError, match=r"^model '.*stopped' is the output folder of a `negmine train` run that stopped "
                                          r"before its first checkpoint \(it has checkpoints/ but neither a checkpoint-N "
                                          r"folder nor negmine_train.json\), so it holds no model and nothing to "
                                          r"resume; run the same `negmine train ... -o .*stopped` command again, "
                                          r"without --resume$"):
        evaluate(config, embedders={})


@pytest.mark.parametrize(("option", "folder"), [("--output", False), ("--runs-dir", True)])
def test_an_output_another_run_is_writing_is_refused_before_any_work_and_left_alone(beir_dir, tmp_path, option,
                                                                                    folder) -> None:
    """An evaluation deletes its earlier results first and writes its run files: two evaluations with the same
    --output or --runs-dir deleted and overwrote each other's files. The second now fails at once."""
    from negmine.testing.output_holder import hold_in_other_process

    output, runs = tmp_path / "out" / "results.json", tmp_path / "runs"
    output.parent.mkdir()
    output.write_text("the other run's\n")
    cfg = _config(beir_dir, tmp_path, output=output, runs_dir=runs)
    held = {option: runs} if folder else {option: output}
    with hold_in_other_process({} if folder else held, held if folder else None) as other:
        with pytest.raises(ConfigError) as err:
            evaluate(cfg, embedders={"hash/a": _Untouchable(), "hash/b": _Untouchable()})
    path = runs if folder else output
    assert str(err.value) == (f"{option} {path}: another negmine run (pid {other.pid}) is writing this output now (it "
                              f"holds {path / '.negmine.lock' if folder else path.parent / (path.name + '.lock')}); "
                              f"wait for that run to finish, or choose another {option} for this one")
    assert output.read_text() == "the other run's\n"
    report = evaluate(cfg, embedders=_embedders())  # once the other run ends, the same evaluation runs
    cache = tmp_path / "cache"  # its namespaces' in-use locks stay beside their folders, as negmine cache reads them
    assert report.output == output and not [p for p in tmp_path.rglob("*.lock") if cache not in p.parents]
    assert all(p.with_suffix("").is_dir() for p in cache.glob("*.lock"))


class _Untouchable(HashEmbedder):
    def encode(self, texts, prompt=""):
        raise AssertionError("encoded while another run held the outputs")


def test_a_grade_too_large_for_ndcg_burges_is_named_at_its_qrels_line_before_encoding(beir_dir, tmp_path) -> None:
    qrels = beir_dir / "qrels" / "test.tsv"
    lines = qrels.read_text().splitlines()
    assert lines[4] == "q-battery\tbattery-1\t2"
    lines[4] = "q-battery\tbattery-1\t1500"
    qrels.write_text("\n".join(lines) + "\n")
    embedders = _embedders()
    with pytest.raises(InputError) as caught:
        evaluate(_config(beir_dir, tmp_path, metrics=("ndcg@10", "ndcg_burges@10")), embedders=embedders)
    assert str(caught.value).startswith(
        f"{qrels}:5: field 'score': relevance grade 1500 (query 'q-battery', document 'battery-1') is above 100, the "
        "largest metric 'ndcg_burges@10' takes")
    assert embedders["hash/a"].texts_encoded == 0
    report = evaluate(_config(beir_dir, tmp_path, metrics=("ndcg@10",)), embedders=embedders)  # linear gain: fine
    assert report.comparison.result("a").mean["ndcg@10"] > 0


class _StoppedEmbedder(HashEmbedder):
    """Stops the evaluation as Ctrl-C does, on its first text."""

    def encode(self, texts, prompt=""):
        raise KeyboardInterrupt


def test_an_evaluation_that_raises_leaves_no_cache_folder_locked(beir_dir, tmp_path) -> None:
    """A stopped evaluation whose exception the caller keeps (a notebook keeps the last one, with its frames) held
    the locks of the cache folders it had read until the process ended, so negmine cache prune kept them."""
    import time

    from negmine.encode.cache_contents import cache_entries
    from negmine.encode.cache_prune import prune_cache

    evaluate(_config(beir_dir, tmp_path, models=("hash/a",)), embedders=_embedders())  # a's vectors cached
    for _ in range(2):  # a read from the cache, then b stopped
        with pytest.raises(KeyboardInterrupt) as stopped:
            evaluate(_config(beir_dir, tmp_path), embedders={"hash/a": HashEmbedder(256), "hash/b": _StoppedEmbedder(8)})
        assert stopped.value.__traceback__ is not None  # kept, with its frames
    cache = tmp_path / "cache"
    entries = cache_entries(cache)  # a's vectors; b's folder, made as it started to encode
    assert "hash-bow-256" in [e.fingerprint for e in entries] and not [e for e in entries if e.in_use]
    result = prune_cache(cache, older_than_days=0, now=time.time() + 1)
    assert not result.in_use and len(result.deleted) == len(entries)


def test_the_results_record_which_beir_files_were_read(beir_dir, tmp_path) -> None:
    """The results JSON named the data folder and qrels path only: a corpus edited between two evaluations left the
    same record. It now holds ``beir_input`` as a mining summary does (each file's path, size and sha256), the same
    for two evaluations of the same files, and another corpus sha256 (only) when one corpus line changes."""
    import hashlib

    out = tmp_path / "results.json"
    cfg = _config(beir_dir, tmp_path, models=("hash/a",), output=out)
    evaluate(cfg, embedders=_embedders())
    recorded = json.loads(out.read_text(encoding="utf-8"))["beir_input"]
    files = {"corpus": beir_dir / "corpus.jsonl", "queries": beir_dir / "queries.jsonl",
             "qrels": beir_dir / "qrels" / "test.tsv"}
    assert recorded == {"kind": "beir", **{role: {
        "path": str(path.resolve()), "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest()} for role, path in files.items()}}
    evaluate(cfg, embedders=_embedders())
    assert json.loads(out.read_text(encoding="utf-8"))["beir_input"] == recorded
    corpus = files["corpus"]
    lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = lines[-1].replace('"text": "', '"text": "x', 1)
    corpus.write_text("".join(lines), encoding="utf-8")
    changed = evaluate(cfg, embedders=_embedders()).payload["beir_input"]
    assert changed["corpus"]["sha256"] == hashlib.sha256(corpus.read_bytes()).hexdigest() != recorded["corpus"]["sha256"]
    assert (changed["queries"], changed["qrels"]) == (recorded["queries"], recorded["qrels"])


def test_the_results_record_which_run_files_were_read(beir_dir, tmp_path) -> None:
    """``--run`` files were recorded by path only (``run_file_coverage``'s ``source``, the config): a run file
    edited between two evaluations left the same record. The results now hold ``run_input``, each run file's
    resolved path, size and sha256 (hashed in eval's one read of it), by run name. Two evaluations of the same
    files write the same bytes, also from another folder but for its paths; a changed score in one file changes
    that run's record only."""
    import hashlib

    def file(name: str, tag: str, scores: dict) -> Path:
        return write_trec_run(tmp_path / "runs" / name, Run(scores, tag))

    oracle = file("oracle.trec", "oracle", {"q-sleep": {"sleep-3": 1.0}, "q-coffee": {"coffee-4": 1.0}})
    other = file("other.trec", "other", {"q-sleep": {"sleep-1": 0.5, "sleep-3": 0.25}, "q-battery": {"battery-1": 1.0}})
    out = tmp_path / "results.json"
    cfg = _config(beir_dir, tmp_path, models=(), run_files=(oracle, other), output=out)
    evaluate(cfg)
    first = out.read_bytes()
    recorded = json.loads(first)["run_input"]

    def record(path: Path) -> dict:
        return {"path": str(path.resolve()), "bytes": path.stat().st_size,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}

    assert recorded == {"oracle": record(oracle), "other": record(other)}
    assert evaluate(cfg).payload["run_input"] == recorded and out.read_bytes() == first
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "runs", moved)
    evaluate(replace(cfg, run_files=(moved / "oracle.trec", moved / "other.trec")))
    assert out.read_bytes().replace(str(moved).encode(), str(tmp_path / "runs").encode()) == first
    other.write_text(other.read_text().replace("0.25", "0.125"))
    changed = evaluate(cfg).payload["run_input"]
    assert changed["other"] == record(other) and changed["other"]["sha256"] != recorded["other"]["sha256"]
    assert changed["oracle"] == recorded["oracle"]


def test_an_evaluation_stopped_while_encoding_resumes_at_its_finished_shards_with_the_same_results(tmp_path):
    """A 5,000-document corpus was one encoding shard of 8,192 texts: Ctrl-C halfway kept nothing in the cache and
    the rerun encoded every document again. Now 5 shards of <= 1,024: stopped at 2,500 documents, 2 finished, and the
    rerun encodes the other 2,952 (and the queries); the results file is byte-identical to an uninterrupted run's."""
    import shutil

    from negmine.engine.encode_shards import EncodingStopped
    from negmine.testing.beir import write_beir

    class Stopped(HashEmbedder):
        def encode(self, texts, prompt=""):
            if self.texts_encoded + len(texts) > 2500:
                raise KeyboardInterrupt
            return super().encode(texts, prompt)

    corpus = {f"d{i}": f"doc {i} word{i % 13} other{i % 5}" for i in range(5000)}
    queries = {f"q{i}": f"word{i} other{i % 5}" for i in range(10)}
    beir = write_beir(tmp_path / "beir", corpus, queries, [(f"q{i}", f"d{i * 7}", 1) for i in range(10)], split="test")
    config = _config(beir, tmp_path, models=("hash/a",), output=tmp_path / "results.json")
    evaluate(config, embedders={"hash/a": HashEmbedder(64)})
    uninterrupted = (tmp_path / "results.json").read_bytes()
    shutil.rmtree(tmp_path / "cache")
    (tmp_path / "results.json").unlink()
    with pytest.raises(KeyboardInterrupt) as info:
        evaluate(config, embedders={"hash/a": Stopped(64)})
    assert info.value.negmine_encoding == EncodingStopped("encode corpus (a)", 5, 2, 1024, 0)
    rerun = HashEmbedder(64)
    report = evaluate(config, embedders={"hash/a": rerun})
    assert rerun.texts_encoded == 2952 + 10 and report.encoding["a"] == {"encoded": 2962, "cached": 2048}
    assert (tmp_path / "results.json").read_bytes() == uninterrupted
